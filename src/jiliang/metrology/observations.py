"""Inputs evaluated from observations (Type A, JCGM 100:2008 4.2, H.2, H.5).

- :func:`type_a`: n independent observations of one quantity give the estimate q̄ (the arithmetic mean,
  4.2.1), the experimental standard deviation s(q_k) (4.2.2) and the standard uncertainty of the mean
  u = s(q̄) = s(q_k)/√n (4.2.3) with ν = n − 1 (G.3.3).
- :func:`correlation` of simultaneous observations, as in H.2.2 equation (14) (with 5.2.3):
  r(q̄, w̄) = s(q̄, w̄)/(s(q̄) s(w̄)), s(q̄, w̄) = Σ (q_k − q̄)(w_k − w̄) / (n(n − 1)).
- :func:`anova` for one factor (days) with J observations per level, as in H.5: from the raw groups or
  from each group's mean and standard deviation (H.5 gives Table H.9 that way). The estimate is the
  grand mean; its standard uncertainty is the experimental standard deviation of the K group means
  over √K with ν = K − 1 (H.5.3.1: the daily means are the observations, so a between-day component is
  included whether or not it is significant); the analysis of variance (Table H.10) gives the within-
  and between-group variance components s_W² and s_B² = (MS_B − MS_W)/J (H.5.2.2) and F = MS_B/MS_W
  (H.5.2.3), with its critical value.

Pure NumPy/SciPy; every refusal names the field it is about.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import stats  # type: ignore[import-untyped]

from jiliang.errors import InvalidInput

MAX_OBSERVATIONS = 100_000


@dataclass(frozen=True)
class TypeA:
    """n observations: mean, s(q_k), u = s(q̄) = s(q_k)/√n and ν = n − 1 (JCGM 100:2008 4.2)."""

    n: int
    mean: float
    s: float
    u: float
    dof: float


def _vector(values: object, where: str, minimum: int = 2) -> NDArray[np.float64]:
    if isinstance(values, str | bytes) or not isinstance(values, Sequence):
        raise InvalidInput(f"观测值应为数值列表 / {where} must be a list of numbers", field=where)
    if len(values) > MAX_OBSERVATIONS:
        raise InvalidInput(f"观测值过多 / {where}: more than {MAX_OBSERVATIONS:,} observations", field=where)
    for i, v in enumerate(values):
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise InvalidInput(
                f"观测值应为有限数 / {where}[{i}] must be a finite number, got {v!r}", field=f"{where}[{i}]"
            )
    if len(values) < minimum:
        raise InvalidInput(
            f"观测值不足 / {where}: at least {minimum} observations are needed, got {len(values)}",
            field=where,
        )
    return np.asarray(values, dtype=np.float64)


def type_a(values: Sequence[float], *, where: str = "observations") -> TypeA:
    """Type A evaluation of n ≥ 2 independent observations (JCGM 100:2008 4.2.1–4.2.3)."""
    x = _vector(values, where)
    n = x.size
    s = float(np.std(x, ddof=1))
    return TypeA(n, float(np.mean(x)), s, s / math.sqrt(n), float(n - 1))


def correlation(a: Sequence[float], b: Sequence[float], *, where: str = "observations") -> float:
    """r(ā, b̄) of simultaneous observations (JCGM 100:2008 H.2.2 equation (14), 5.2.3); 0 when one is constant."""
    x, y = _vector(a, where), _vector(b, where)
    if x.size != y.size:
        raise InvalidInput(
            f"成对观测值个数不同 / {where}: paired observations must be equally many ({x.size} and {y.size})",
            field=where,
        )
    dx, dy = x - x.mean(), y - y.mean()
    den = math.sqrt(float(dx @ dx) * float(dy @ dy))
    return 0.0 if den == 0 else float(dx @ dy) / den


@dataclass(frozen=True)
class Anova:
    """One-factor analysis of variance with K levels (days) of J observations each (JCGM 100:2008 H.5)."""

    k: int  # levels (days)
    j: int  # observations per level
    means: tuple[float, ...]
    grand_mean: float
    s_means: float  # experimental standard deviation of the K level means, s(x̄_k)
    u: float  # s(x̄_k)/√K: standard uncertainty of the grand mean (H.5.3.1)
    dof: float  # K − 1
    s_within: float  # pooled within-level standard deviation s_W = √MS_W
    dof_within: int  # K(J − 1)
    ms_between: float  # J · s²(x̄_k)
    ms_within: float
    s_between: float  # between-level component s_B = √((MS_B − MS_W)/J), 0 when MS_B ≤ MS_W
    f: float  # MS_B/MS_W
    f_critical: float  # F_0.95(K − 1, K(J − 1))
    p_value: float


def anova(
    *,
    groups: Sequence[Sequence[float]] | None = None,
    means: Sequence[float] | None = None,
    sds: Sequence[float] | None = None,
    n: int | None = None,
    where: str = "anova",
) -> Anova:
    """One-way ANOVA from ``groups`` (K lists of J observations) or from ``means``, ``sds`` and ``n`` = J."""
    if groups is not None:
        if means is not None or sds is not None or n is not None:
            raise InvalidInput(
                f"分组观测值与均值/标准差只能给一种 / {where}: give the groups or their means, sds and n",
                field=where,
            )
        if isinstance(groups, str | bytes) or not isinstance(groups, Sequence) or len(groups) < 2:
            raise InvalidInput(f"至少需要两组 / {where}: at least two groups are needed", field=where)
        arrays = [_vector(g, f"{where}.groups[{i}]") for i, g in enumerate(groups)]
        sizes = {a.size for a in arrays}
        if len(sizes) != 1:
            raise InvalidInput(
                f"各组观测次数须相同 / {where}: every group needs the same number of observations (H.5's balanced "
                f"design), got {sorted(sizes)}",
                field=f"{where}.groups",
            )
        j = sizes.pop()
        m = np.array([a.mean() for a in arrays])
        s = np.array([a.std(ddof=1) for a in arrays])
    else:
        if means is None or sds is None or n is None:
            raise InvalidInput(
                f"需要 groups，或 means、sds 与 n / {where}: give groups, or means, sds and n", field=where
            )
        m = _vector(means, f"{where}.means")
        s = _vector(sds, f"{where}.sds")
        if m.size != s.size:
            raise InvalidInput(
                f"均值与标准差个数不同 / {where}: means and sds must be equally many", field=f"{where}.sds"
            )
        if np.any(s < 0):
            raise InvalidInput(f"标准差不能为负 / {where}.sds must not be negative", field=f"{where}.sds")
        if isinstance(n, bool) or not isinstance(n, int) or n < 2:
            raise InvalidInput(
                f"每组观测次数须为不小于 2 的整数 / {where}.n must be an integer ≥ 2, got {n!r}",
                field=f"{where}.n",
            )
        j = n
    k = m.size
    grand = float(m.mean())
    s_means = float(m.std(ddof=1))
    ms_between = j * s_means**2
    ms_within = float(np.mean(s**2))  # equal J: the pooled variance is the mean of the group variances
    dof_within = k * (j - 1)
    f = ms_between / ms_within if ms_within > 0 else math.inf
    f_critical = float(stats.f.ppf(0.95, k - 1, dof_within))
    p_value = float(stats.f.sf(f, k - 1, dof_within)) if math.isfinite(f) else 0.0
    s_between = math.sqrt(max(ms_between - ms_within, 0.0) / j)
    return Anova(
        k=k,
        j=j,
        means=tuple(float(v) for v in m),
        grand_mean=grand,
        s_means=s_means,
        u=s_means / math.sqrt(k),
        dof=float(k - 1),
        s_within=math.sqrt(ms_within),
        dof_within=dof_within,
        ms_between=ms_between,
        ms_within=ms_within,
        s_between=s_between,
        f=f,
        f_critical=f_critical,
        p_value=p_value,
    )
