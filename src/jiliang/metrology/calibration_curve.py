"""Straight-line calibration curves by least squares, with the uncertainty of parameters and predictions.

``b = y1 + y2 (t - t0)`` as in JCGM 100:2008 H.3 (thermometer calibration): ordinary least squares, where
the dispersion of the observations is estimated from the residuals (s² = Σr²/(n-2), ν = n - 2), or
weighted least squares with known standard uncertainties of the observations (ν = ∞), H.3.6 first case.
The parameter covariance comes from the normal equations; a prediction at t carries
``u²(b(t)) = u²(y1) + (t - t0)² u²(y2) + 2 (t - t0) u(y1, y2)`` (H.3.4), optionally plus s² for a new single
observation.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from jiliang.errors import InvalidInput


@dataclass(frozen=True)
class LineFit:
    intercept: float  # y1, the value at t0
    slope: float  # y2
    covariance: NDArray[np.float64]  # 2×2, (intercept, slope)
    s: float  # standard deviation of the residuals (OLS) or the Birge-ratio-free WLS scale (1.0)
    dof: float  # n - 2 (OLS) or ∞ (WLS with known u)
    n: int
    t0: float
    weighted: bool

    @property
    def u_intercept(self) -> float:
        return math.sqrt(self.covariance[0, 0])

    @property
    def u_slope(self) -> float:
        return math.sqrt(self.covariance[1, 1])

    @property
    def correlation(self) -> float:
        return float(self.covariance[0, 1] / (self.u_intercept * self.u_slope))

    def predict(
        self, t: float | NDArray[np.float64], *, new_observation: bool = False
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """The fitted value at ``t`` and its standard uncertainty (plus s² when ``new_observation``)."""
        dt = np.asarray(t, dtype=float) - self.t0
        value = self.intercept + self.slope * dt
        var = self.covariance[0, 0] + dt * dt * self.covariance[1, 1] + 2 * dt * self.covariance[0, 1]
        if new_observation:
            var = var + self.s**2
        return value, np.sqrt(var)


def fit_line(
    t: Sequence[float], b: Sequence[float], u_b: Sequence[float] | None = None, *, t0: float = 0.0
) -> LineFit:
    """Fit ``b = y1 + y2 (t - t0)``; with ``u_b`` a weighted fit with those known uncertainties."""
    x = np.asarray(t, dtype=float) - t0
    y = np.asarray(b, dtype=float)
    if x.ndim != 1 or x.shape != y.shape:
        raise InvalidInput("数据长度不一致 / t and b must be sequences of equal length", field="b")
    n = len(x)
    if n < (2 if u_b is not None else 3):
        raise InvalidInput(
            f"数据点太少 / at least {2 if u_b is not None else 3} points are needed, got {n}", field="t"
        )
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise InvalidInput("数据含非数 / t and b must be finite numbers", field="b")
    if np.ptp(x) == 0:
        raise InvalidInput("自变量全部相同 / all t are equal: the slope is undefined", field="t")
    if u_b is not None:
        u = np.asarray(u_b, dtype=float)
        if u.shape != x.shape or not np.all(np.isfinite(u)) or np.any(u <= 0):
            raise InvalidInput("观测不确定度无效 / u_b must be finite, > 0 and one per point", field="u_b")
        w = 1.0 / u**2
    else:
        w = np.ones(n)
    a = np.column_stack([np.ones(n), x])
    normal = a.T @ (w[:, None] * a)
    inv = np.linalg.inv(normal)
    params = inv @ (a.T @ (w * y))
    if u_b is None:
        resid = y - a @ params
        s2 = float(resid @ resid) / (n - 2)
        cov = inv * s2
        s, dof = math.sqrt(s2), float(n - 2)
    else:
        cov, s, dof = inv, 1.0, math.inf
    return LineFit(
        float(params[0]), float(params[1]), np.asarray(cov, dtype=np.float64), s, dof, n, t0, u_b is not None
    )
