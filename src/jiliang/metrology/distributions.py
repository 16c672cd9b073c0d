"""Probability distributions of input quantities, as JCGM 101:2008 (GUM Supplement 1) §6.4 assigns them.

Each distribution knows its expectation and standard uncertainty in closed form (the formulas of §6.4,
which the GUM uncertainty framework uses) and draws samples for the Monte Carlo method (§6.4, "sampling
from the distribution"). Samplers draw the uniforms of one trial next to each other (``rng.random((n, 2))``,
row-major), so that drawing n values in blocks of any size consumes the generator's stream identically:
results do not depend on the block size (see :mod:`jiliang.metrology.montecarlo`).

``from_spec`` builds a distribution from the mapping a model file holds; the keys are listed in
``SPEC_KEYS`` and in docs/montecarlo.md. A bad spec is refused with :class:`InvalidDistribution` naming
the key.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import numpy as np
from numpy.typing import NDArray

from jiliang.errors import InvalidDistribution

FloatArray = NDArray[np.float64]
TGivenBy = Literal["scale", "standard_deviation"]

__all__ = [
    "SPEC_KEYS",
    "Arcsine",
    "CurvilinearTrapezoidal",
    "Distribution",
    "Exponential",
    "Gamma",
    "MultivariateNormal",
    "Normal",
    "Rectangular",
    "ScalarDistribution",
    "StudentT",
    "Trapezoidal",
    "Triangular",
    "from_spec",
]


def _refuse(key: str, why_zh: str, why_en: str, **context: Any) -> InvalidDistribution:
    return InvalidDistribution(
        f"分布参数无效：{key} {why_zh} / invalid distribution: {key} {why_en}", field=key, **context
    )


def _finite(key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise _refuse(key, "必须是数值", f"must be a number, got {type(value).__name__}")
    out = float(value)
    if not math.isfinite(out):
        raise _refuse(key, "必须是有限数值", f"must be finite, got {out}")
    return out


def _non_negative(key: str, value: Any) -> float:
    out = _finite(key, value)
    if out < 0:
        raise _refuse(key, "不能为负", f"must not be negative, got {out}")
    return out


def _positive(key: str, value: Any) -> float:
    out = _finite(key, value)
    if out <= 0:
        raise _refuse(key, "必须为正", f"must be positive, got {out}")
    return out


def _ordered(lower: float, upper: float) -> None:
    if not upper > lower:
        raise _refuse("upper", "必须大于 lower", f"must exceed lower ({upper} ≤ {lower})")


class Distribution(ABC):
    """A probability distribution that the Monte Carlo method can sample.

    ``sample(rng, n)`` returns shape ``(n,)`` for a scalar quantity and ``(n, dim)`` for a vector one.
    """

    kind: ClassVar[str]
    dim: ClassVar[int] = 1

    @abstractmethod
    def sample(self, rng: np.random.Generator, n: int) -> FloatArray:
        """Draw n values; consecutive calls continue the generator's stream (block-size independent)."""

    @abstractmethod
    def to_spec(self) -> dict[str, Any]:
        """The spec that ``from_spec`` turns back into an equal distribution."""


class ScalarDistribution(Distribution):
    """A distribution of one scalar quantity, with its expectation and standard uncertainty in closed form."""

    @property
    @abstractmethod
    def expectation(self) -> float: ...

    @property
    @abstractmethod
    def standard_uncertainty(self) -> float: ...

    @property
    def dof(self) -> float:
        """Degrees of freedom for the GUM framework: infinite unless the distribution says otherwise."""
        return math.inf


@dataclass(frozen=True)
class Normal(ScalarDistribution):
    """Gaussian N(mean, sd²), JCGM 101 §6.4.7: E = mean, u = sd."""

    mean: float
    sd: float
    kind: ClassVar[str] = "normal"

    def __post_init__(self) -> None:
        _finite("mean", self.mean)
        _non_negative("sd", self.sd)

    @property
    def expectation(self) -> float:
        return float(self.mean)

    @property
    def standard_uncertainty(self) -> float:
        return float(self.sd)

    def sample(self, rng: np.random.Generator, n: int) -> FloatArray:
        return self.mean + self.sd * rng.standard_normal(n)

    def to_spec(self) -> dict[str, Any]:
        return {"kind": self.kind, "mean": self.mean, "sd": self.sd}


@dataclass(frozen=True)
class _Interval(ScalarDistribution):
    """A distribution on [lower, upper], symmetric about the midpoint."""

    lower: float
    upper: float

    def __post_init__(self) -> None:
        _finite("lower", self.lower)
        _finite("upper", self.upper)
        _ordered(self.lower, self.upper)

    @classmethod
    def centred(cls, centre: float, half_width: float, **extra: float) -> Any:
        """The same distribution given as centre ± half-width (how certificates state tolerances)."""
        c, w = _finite("centre", centre), _positive("half_width", half_width)
        return cls(c - w, c + w, **extra)

    @property
    def centre(self) -> float:
        return (self.lower + self.upper) / 2

    @property
    def half_width(self) -> float:
        return (self.upper - self.lower) / 2

    @property
    def expectation(self) -> float:
        return self.centre

    def to_spec(self) -> dict[str, Any]:
        return {"kind": self.kind, "lower": self.lower, "upper": self.upper}


@dataclass(frozen=True)
class Rectangular(_Interval):
    """R(a, b), JCGM 101 §6.4.2: E = (a+b)/2, u² = (b−a)²/12; ξ = a + (b−a)r."""

    kind: ClassVar[str] = "rectangular"

    @property
    def standard_uncertainty(self) -> float:
        return (self.upper - self.lower) / math.sqrt(12)

    def sample(self, rng: np.random.Generator, n: int) -> FloatArray:
        return self.lower + (self.upper - self.lower) * rng.random(n)


@dataclass(frozen=True)
class Triangular(_Interval):
    """Symmetric T(a, b), JCGM 101 §6.4.5: E = (a+b)/2, u² = (b−a)²/24; ξ = a + (b−a)(r1 + r2)/2."""

    kind: ClassVar[str] = "triangular"

    @property
    def standard_uncertainty(self) -> float:
        return (self.upper - self.lower) / math.sqrt(24)

    def sample(self, rng: np.random.Generator, n: int) -> FloatArray:
        r = rng.random((n, 2))
        return self.lower + (self.upper - self.lower) / 2 * (r[:, 0] + r[:, 1])


@dataclass(frozen=True)
class Trapezoidal(_Interval):
    """Symmetric trapezoid on [a, b] with top-to-base ratio β, JCGM 101 §6.4.4.

    E = (a+b)/2, u² = (b−a)²(1+β²)/24; ξ = a + (b−a)[(1+β)r1 + (1−β)r2]/2. β = 0 is the triangle,
    β = 1 the rectangle.
    """

    beta: float = 0.0
    kind: ClassVar[str] = "trapezoidal"

    def __post_init__(self) -> None:
        super().__post_init__()
        beta = _finite("beta", self.beta)
        if not 0.0 <= beta <= 1.0:
            raise _refuse("beta", "必须在 [0, 1] 之间", f"must lie in [0, 1], got {beta}")

    @property
    def standard_uncertainty(self) -> float:
        return (self.upper - self.lower) * math.sqrt((1 + self.beta**2) / 24)

    def sample(self, rng: np.random.Generator, n: int) -> FloatArray:
        r = rng.random((n, 2))
        w = self.upper - self.lower
        return self.lower + w / 2 * ((1 + self.beta) * r[:, 0] + (1 - self.beta) * r[:, 1])

    def to_spec(self) -> dict[str, Any]:
        return {**super().to_spec(), "beta": self.beta}


@dataclass(frozen=True)
class CurvilinearTrapezoidal(_Interval):
    """Rectangular on [a, b] whose limits are each only known to within ±d, JCGM 101 §6.4.3.

    With half-width w = (b−a)/2: E = (a+b)/2, u² = w²/3 + d²/9. Sampling: the lower limit
    a_s = (a−d) + 2d·r1, the upper b_s = (a+b) − a_s, then ξ = a_s + (b_s − a_s)·r2. Requires d < w.
    """

    d: float = 0.0
    kind: ClassVar[str] = "curvilinear_trapezoidal"

    def __post_init__(self) -> None:
        super().__post_init__()
        d = _non_negative("d", self.d)
        if not d < self.half_width:
            raise _refuse("d", "必须小于半宽", f"must be less than the half-width {self.half_width}, got {d}")

    @property
    def standard_uncertainty(self) -> float:
        return math.sqrt(self.half_width**2 / 3 + self.d**2 / 9)

    def sample(self, rng: np.random.Generator, n: int) -> FloatArray:
        r = rng.random((n, 2))
        a_s = (self.lower - self.d) + 2 * self.d * r[:, 0]
        b_s = (self.lower + self.upper) - a_s
        return a_s + (b_s - a_s) * r[:, 1]

    def to_spec(self) -> dict[str, Any]:
        return {**super().to_spec(), "d": self.d}


@dataclass(frozen=True)
class Arcsine(_Interval):
    """U-shaped (arcsine) U(a, b), JCGM 101 §6.4.6: E = (a+b)/2, u² = (b−a)²/8; ξ = (a+b)/2 + (b−a)/2·sin 2πr."""

    kind: ClassVar[str] = "arcsine"

    @property
    def standard_uncertainty(self) -> float:
        return (self.upper - self.lower) / math.sqrt(8)

    def sample(self, rng: np.random.Generator, n: int) -> FloatArray:
        return self.centre + self.half_width * np.sin(2 * np.pi * rng.random(n))


@dataclass(frozen=True)
class StudentT(ScalarDistribution):
    """Scaled and shifted t, t_ν(μ, s²), JCGM 101 §6.4.9: E = μ, u² = s²·ν/(ν−2) for ν > 2.

    ``scale`` is s of JCGM 101 (for n repeated readings, s = sample standard deviation / √n, ν = n−1).
    Where a lab states the *standard deviation* of the t distribution instead (as the NIST Uncertainty
    Machine does), build it with :meth:`from_standard_deviation`, or ``t_given_by: standard_deviation``
    in a spec: s = sd·√((ν−2)/ν). For ν ≤ 2 the variance is infinite: ``standard_uncertainty`` is inf.
    """

    mean: float
    scale: float
    nu: float
    kind: ClassVar[str] = "student_t"

    def __post_init__(self) -> None:
        _finite("mean", self.mean)
        _non_negative("scale", self.scale)
        _positive("dof", self.nu)

    @classmethod
    def from_standard_deviation(cls, mean: float, sd: float, nu: float) -> StudentT:
        sd = _non_negative("sd", sd)
        nu = _positive("dof", nu)
        if not nu > 2:
            raise _refuse(
                "dof",
                "给定标准差时必须大于 2",
                f"must exceed 2 when the standard deviation is given, got {nu}",
            )
        return cls(mean, sd * math.sqrt((nu - 2) / nu), nu)

    @property
    def expectation(self) -> float:
        return float(self.mean)

    @property
    def standard_uncertainty(self) -> float:
        if self.nu <= 2:
            return math.inf
        return self.scale * math.sqrt(self.nu / (self.nu - 2))

    @property
    def dof(self) -> float:
        return float(self.nu)

    def sample(self, rng: np.random.Generator, n: int) -> FloatArray:
        return self.mean + self.scale * rng.standard_t(self.nu, n)

    def to_spec(self) -> dict[str, Any]:
        return {"kind": self.kind, "mean": self.mean, "scale": self.scale, "dof": self.nu}


@dataclass(frozen=True)
class Exponential(ScalarDistribution):
    """Ex(x) for a non-negative quantity known only by its mean, JCGM 101 §6.4.10: E = u = x; ξ = −x ln r."""

    mean: float
    kind: ClassVar[str] = "exponential"

    def __post_init__(self) -> None:
        _positive("mean", self.mean)

    @property
    def expectation(self) -> float:
        return float(self.mean)

    @property
    def standard_uncertainty(self) -> float:
        return float(self.mean)

    def sample(self, rng: np.random.Generator, n: int) -> FloatArray:
        return self.mean * rng.standard_exponential(n)

    def to_spec(self) -> dict[str, Any]:
        return {"kind": self.kind, "mean": self.mean}


@dataclass(frozen=True)
class Gamma(ScalarDistribution):
    """G(α, β) with shape α and rate β, JCGM 101 §6.4.11: E = α/β, u² = α/β²."""

    shape: float
    rate: float
    kind: ClassVar[str] = "gamma"

    def __post_init__(self) -> None:
        _positive("shape", self.shape)
        _positive("rate", self.rate)

    @property
    def expectation(self) -> float:
        return self.shape / self.rate

    @property
    def standard_uncertainty(self) -> float:
        return math.sqrt(self.shape) / self.rate

    def sample(self, rng: np.random.Generator, n: int) -> FloatArray:
        return rng.standard_gamma(self.shape, n) / self.rate

    def to_spec(self) -> dict[str, Any]:
        return {"kind": self.kind, "shape": self.shape, "rate": self.rate}


@dataclass(frozen=True, eq=False)
class MultivariateNormal(Distribution):
    """N(μ, V) for a vector quantity, JCGM 101 §6.4.8: ξ = μ + R z with R Rᵀ = V, z standard normal.

    V must be symmetric positive semi-definite; R is its Cholesky factor, or for a singular V the
    factor from its eigen-decomposition. Samples have shape (n, dim); one trial's dim normals are drawn
    together, so the stream does not depend on block size.
    """

    mean: FloatArray
    cov: FloatArray
    factor: FloatArray = field(init=False, repr=False)
    _lower: bool = field(init=False, repr=False)
    kind: ClassVar[str] = "multivariate_normal"

    def __post_init__(self) -> None:
        mean = np.asarray(self.mean, dtype=float)
        cov = np.asarray(self.cov, dtype=float)
        if mean.ndim != 1 or mean.size < 1:
            raise _refuse("mean", "必须是非空向量", "must be a non-empty vector")
        if not np.all(np.isfinite(mean)):
            raise _refuse("mean", "必须是有限数值", "must hold finite numbers")
        k = mean.size
        if cov.shape != (k, k):
            raise _refuse("cov", f"必须是 {k}×{k} 矩阵", f"must be a {k}×{k} matrix, got shape {cov.shape}")
        if not np.all(np.isfinite(cov)):
            raise _refuse("cov", "必须是有限数值", "must hold finite numbers")
        if not np.allclose(cov, cov.T, rtol=1e-12, atol=0.0):
            raise _refuse("cov", "必须对称", "must be symmetric")
        eigenvalues, vectors = np.linalg.eigh(cov)
        tolerance = 1e-12 * max(1.0, float(np.max(np.abs(eigenvalues))))
        if eigenvalues.min() < -tolerance:
            raise _refuse(
                "cov",
                "必须半正定",
                f"must be positive semi-definite (smallest eigenvalue {eigenvalues.min():.3g})",
            )
        try:
            factor, lower = np.linalg.cholesky(cov), True
        except np.linalg.LinAlgError:
            factor, lower = vectors * np.sqrt(np.clip(eigenvalues, 0.0, None)), False
        object.__setattr__(self, "mean", mean)
        object.__setattr__(self, "cov", cov)
        object.__setattr__(self, "factor", factor)
        object.__setattr__(self, "_lower", lower)

    @classmethod
    def from_correlation(
        cls, mean: Sequence[float], sd: Sequence[float], correlation: Sequence[Sequence[float]]
    ) -> MultivariateNormal:
        """V = D R D from standard uncertainties D and a correlation matrix R (validated like V)."""
        s = np.asarray(sd, dtype=float)
        r = np.asarray(correlation, dtype=float)
        if s.ndim != 1 or not np.all(np.isfinite(s)) or np.any(s < 0):
            raise _refuse("sd", "必须是非负有限数值的向量", "must be a vector of non-negative finite numbers")
        if np.asarray(mean).shape != s.shape:
            raise _refuse(
                "sd", "长度必须与 mean 相同", f"must have as many entries as mean ({np.asarray(mean).size})"
            )
        if r.shape != (s.size, s.size):
            raise _refuse(
                "correlation", f"必须是 {s.size}×{s.size} 矩阵", f"must be a {s.size}×{s.size} matrix"
            )
        if not np.all(np.isfinite(r)) or np.any(np.abs(r) > 1) or not np.allclose(np.diag(r), 1.0):
            raise _refuse(
                "correlation", "元素须在 [−1, 1] 且对角为 1", "needs entries in [−1, 1] and a unit diagonal"
            )
        try:
            return cls(np.asarray(mean, dtype=float), s[:, None] * r * s[None, :])
        except InvalidDistribution as exc:
            if exc.field == "cov":
                raise _refuse("correlation", "必须半正定", "must be positive semi-definite") from exc
            raise

    @property
    def dim(self) -> int:  # type: ignore[override]
        return int(self.mean.size)

    @property
    def expectation(self) -> FloatArray:
        return self.mean.copy()

    @property
    def standard_uncertainty(self) -> FloatArray:
        return np.sqrt(np.diag(self.cov))

    @property
    def dof(self) -> float:
        return math.inf

    def sample(self, rng: np.random.Generator, n: int) -> FloatArray:
        z = rng.standard_normal((n, self.dim))
        # element-wise rather than ``z @ factor.T``: BLAS may round differently for different n, which
        # would make results depend (in the last bit) on the block size
        out = np.empty((n, self.dim))
        for i in range(self.dim):
            acc = z[:, 0] * self.factor[i, 0]
            for j in range(1, i + 1 if self._lower else self.dim):
                acc += z[:, j] * self.factor[i, j]
            out[:, i] = self.mean[i] + acc
        return out

    def to_spec(self) -> dict[str, Any]:
        return {"kind": self.kind, "mean": self.mean.tolist(), "cov": self.cov.tolist()}

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, MultivariateNormal)
            and np.array_equal(self.mean, other.mean)
            and np.array_equal(self.cov, other.cov)
        )

    __hash__ = None  # type: ignore[assignment]


# ---- specs ------------------------------------------------------------------------------------------

_INTERVAL_KEYS = "lower + upper, or centre + half_width"
SPEC_KEYS: dict[str, str] = {
    "normal": "mean, sd",
    "rectangular": _INTERVAL_KEYS,
    "triangular": _INTERVAL_KEYS,
    "trapezoidal": f"{_INTERVAL_KEYS}; beta (top/base ratio, 0…1)",
    "curvilinear_trapezoidal": f"{_INTERVAL_KEYS}; d (half-width of the inexact limits)",
    "arcsine": _INTERVAL_KEYS,
    "student_t": "mean, dof; scale, or sd, or u with t_given_by (scale | standard_deviation; default scale)",
    "exponential": "mean",
    "gamma": "shape, rate",
    "multivariate_normal": "mean (list); cov (matrix), or sd (list) + correlation (matrix)",
}
ALIASES = {"uniform": "rectangular", "u_shaped": "arcsine", "t": "student_t", "center": "centre"}


def _take(spec: Mapping[str, Any], allowed: set[str], kind: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in spec.items():
        if key == "kind":
            continue
        name = ALIASES.get(key, key) if key == "center" else key
        if name not in allowed:
            raise _refuse(
                str(key),
                f"不是 {kind} 分布的参数（可用：{SPEC_KEYS[kind]}）",
                f"is not a key of a {kind} distribution (expected: {SPEC_KEYS[kind]})",
            )
        out[name] = value
    return out


def _need(values: Mapping[str, Any], key: str, kind: str) -> Any:
    if key not in values:
        raise _refuse(
            key,
            f"缺失（{kind} 分布需要：{SPEC_KEYS[kind]}）",
            f"is missing ({kind} needs: {SPEC_KEYS[kind]})",
        )
    return values[key]


def _interval(kind: str, values: Mapping[str, Any]) -> tuple[float, float]:
    by_limits = "lower" in values or "upper" in values
    by_centre = "centre" in values or "half_width" in values
    if by_limits and by_centre:
        raise _refuse("centre", "不能与 lower/upper 同时给出", "cannot be given together with lower/upper")
    if by_centre:
        c = _finite("centre", _need(values, "centre", kind))
        w = _positive("half_width", _need(values, "half_width", kind))
        return c - w, c + w
    lower = _finite("lower", _need(values, "lower", kind))
    upper = _finite("upper", _need(values, "upper", kind))
    _ordered(lower, upper)
    return lower, upper


def _matrix(key: str, value: Any) -> FloatArray:
    try:
        out = np.asarray(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise _refuse(key, "必须是数值矩阵/向量", "must be a numeric vector or matrix") from exc
    return out


def from_spec(spec: Mapping[str, Any]) -> Distribution:
    """Build a distribution from a model-file mapping such as ``{"kind": "rectangular", "lower": 0, "upper": 1}``.

    The keys of each kind are in ``SPEC_KEYS`` (and docs/montecarlo.md); ``uniform``, ``u_shaped`` and
    ``t`` are accepted as kind aliases, ``center`` for ``centre``. An unknown kind, an unknown or missing
    key, or a value out of range raises :class:`InvalidDistribution` naming the key.
    """
    if not isinstance(spec, Mapping):
        raise _refuse("distribution", "必须是映射（键值对）", f"must be a mapping, got {type(spec).__name__}")
    raw_kind = spec.get("kind")
    if not isinstance(raw_kind, str):
        raise _refuse("kind", "缺失或不是字符串", "is missing or not a string")
    kind = ALIASES.get(raw_kind.strip().lower(), raw_kind.strip().lower())
    if kind not in SPEC_KEYS:
        raise _refuse(
            "kind", f"未知：{raw_kind!r}", f"is unknown: {raw_kind!r} (known: {', '.join(SPEC_KEYS)})"
        )
    interval = {"lower", "upper", "centre", "half_width"}
    if kind == "normal":
        v = _take(spec, {"mean", "sd"}, kind)
        return Normal(_finite("mean", _need(v, "mean", kind)), _non_negative("sd", _need(v, "sd", kind)))
    if kind in {"rectangular", "triangular", "arcsine"}:
        v = _take(spec, interval, kind)
        lower, upper = _interval(kind, v)
        if kind == "rectangular":
            return Rectangular(lower, upper)
        return Triangular(lower, upper) if kind == "triangular" else Arcsine(lower, upper)
    if kind == "trapezoidal":
        v = _take(spec, interval | {"beta"}, kind)
        return Trapezoidal(*_interval(kind, v), beta=_finite("beta", _need(v, "beta", kind)))
    if kind == "curvilinear_trapezoidal":
        v = _take(spec, interval | {"d"}, kind)
        return CurvilinearTrapezoidal(*_interval(kind, v), d=_non_negative("d", _need(v, "d", kind)))
    if kind == "student_t":
        return _student_t(_take(spec, {"mean", "dof", "scale", "sd", "u", "t_given_by"}, kind))
    if kind == "exponential":
        v = _take(spec, {"mean"}, kind)
        return Exponential(_positive("mean", _need(v, "mean", kind)))
    if kind == "gamma":
        v = _take(spec, {"shape", "rate"}, kind)
        return Gamma(_positive("shape", _need(v, "shape", kind)), _positive("rate", _need(v, "rate", kind)))
    v = _take(spec, {"mean", "cov", "sd", "correlation"}, kind)
    mean = _matrix("mean", _need(v, "mean", kind))
    if "cov" in v:
        if "sd" in v or "correlation" in v:
            raise _refuse(
                "cov", "不能与 sd/correlation 同时给出", "cannot be given together with sd/correlation"
            )
        return MultivariateNormal(mean, _matrix("cov", v["cov"]))
    sd = _matrix("sd", _need(v, "sd", kind))
    correlation = _matrix("correlation", v.get("correlation", np.eye(sd.size)))
    return MultivariateNormal.from_correlation(mean, sd, correlation)  # type: ignore[arg-type]


def _student_t(v: Mapping[str, Any]) -> StudentT:
    kind = "student_t"
    mean = _finite("mean", _need(v, "mean", kind))
    nu = _positive("dof", _need(v, "dof", kind))
    given = [k for k in ("scale", "sd", "u") if k in v]
    if len(given) != 1:
        raise _refuse("scale", "scale、sd、u 须恰好给出一个", "exactly one of scale, sd, u must be given")
    key = given[0]
    convention = v.get("t_given_by", "scale" if key != "sd" else "standard_deviation")
    if convention not in ("scale", "standard_deviation"):
        raise _refuse(
            "t_given_by",
            "必须是 scale 或 standard_deviation",
            f"must be scale or standard_deviation, got {convention!r}",
        )
    if (
        key != "u"
        and "t_given_by" in v
        and convention != ("scale" if key == "scale" else "standard_deviation")
    ):
        raise _refuse("t_given_by", f"与键 {key} 矛盾", f"contradicts the key {key}")
    value = _non_negative(key, v[key])
    if convention == "standard_deviation":
        return StudentT.from_standard_deviation(mean, value, nu)
    return StudentT(mean, value, nu)
