"""Interlaboratory comparisons and proficiency testing (计量比对 / 能力验证).

Two families of analysis, both pure (NumPy/SciPy only):

* Proficiency testing after ISO 13528:2022: an assigned value x_pt from a reference (a certified value,
  a reference laboratory) or by consensus of the participants with the robust Algorithm A (Annex C.3.1),
  its standard uncertainty u(x_pt), the standard deviation for proficiency assessment σ_pt, and the
  performance statistics z, z′, ζ and E_n (clause 9) with their action limits.
* Key-comparison analysis after Cox, "The evaluation of key comparison data", Metrologia 39 (2002) 589:
  Procedure A, the weighted mean as reference value with the chi-squared consistency check and degrees of
  equivalence d_i with U(d_i); when the check fails, the results outside the largest consistent subset
  (Cox, Metrologia 44 (2007) 187) leave the reference. Procedure B, the median with its uncertainty and
  the U(d_i) by Monte Carlo, for results that no weighted mean can summarise.

Every refusal names the laboratory (and the row, where the caller gave rows) and the reason.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
from numpy.typing import NDArray
from scipy import stats  # type: ignore[import-untyped]

from jiliang.errors import InvalidInput

# ISO 13528:2022 C.3.1: the constants of Algorithm A.
MAD_FACTOR = 1.483  # (C.1) s* = 1.483 · median |x_i − x*|
WINSOR_FACTOR = 1.5  # δ = 1.5 s*
SD_FACTOR = 1.134  # (C.3) s* = 1.134 · sqrt(Σ(x_i* − x*)² / (p − 1))
# ISO 13528:2022 7.7.3: u(x_pt) = 1.25 · s*/√p for the robust mean of p results.
ROBUST_MEAN_U_FACTOR = 1.25
# ISO 13528:2022 9.2.1: u(x_pt) is negligible when ≤ 0.3 σ_pt; above it, z′ is used instead of z.
NEGLIGIBLE_U_RATIO = 0.3

# Convergence of Algorithm A. ISO stops when the third significant figure of s* (and the matching figure
# of x*) no longer changes; we iterate to a much tighter relative change so that the result does not
# depend on where a hand calculation would have stopped. Documented in docs/comparisons.md.
ALGORITHM_A_RTOL = 1e-10
ALGORITHM_A_MAX_ITER = 1000

MIN_CONSENSUS = 3  # Algorithm A needs a median and a spread; ISO 13528 5.4 warns below 12 or so
MIN_WEIGHTED_MEAN = 2  # a chi-squared test with N − 1 ≥ 1 degrees of freedom
MIN_RETAINED = 3  # outlier exclusion never leaves fewer results in the reference than this
# The largest-consistent-subset search enumerates subsets; past this many it falls back to one-at-a-time
# exclusion (N = 20 with half the results discrepant needs ~1.0e6; typical key comparisons need far fewer).
MAX_SUBSETS = 2_000_000
SUBSET_CHUNK = 65_536  # subsets evaluated per vectorised step (bounds memory at ~N · 64 Ki values)
# Procedure B: Monte Carlo trials (10⁵ gives u(y) to about 0.5 % and the 95 % ends to ~2 significant
# digits), drawn in blocks of this many values. Every D_i = X_i − Y is kept for its quantiles, so trials ×
# laboratories is capped (2·10⁷ values, 160 MB); by default the trials shrink to fit many laboratories.
MEDIAN_TRIALS = 100_000
MIN_MEDIAN_TRIALS = 1_000
MAX_MEDIAN_TRIALS = 10_000_000
MAX_MEDIAN_DRAWS = 20_000_000
MEDIAN_BLOCK_VALUES = 1_000_000


class Score(StrEnum):
    """The performance statistic a verdict is taken from (ISO 13528:2022 clause 9)."""

    Z = "z"
    Z_PRIME = "z'"
    ZETA = "zeta"
    EN = "En"


class Verdict(StrEnum):
    SATISFACTORY = "satisfactory"
    QUESTIONABLE = "questionable"
    UNSATISFACTORY = "unsatisfactory"

    @property
    def chinese(self) -> str:
        return {"satisfactory": "满意", "questionable": "有问题", "unsatisfactory": "不满意"}[self.value]


class Method(StrEnum):
    CONSENSUS = "consensus"
    REFERENCE = "reference"
    WEIGHTED_MEAN = "weighted-mean"
    MEDIAN = "median"
    MEAN = "mean"  # arithmetic mean of the contributing results


class MeanUncertainty(StrEnum):
    """Where the standard uncertainty of an arithmetic-mean reference value comes from."""

    SPREAD = "spread"  # s(x_i)/√n of the contributing values, ν = n − 1
    STATED = "stated"  # √(Σ u_i²)/n from the stated uncertainties (independent results)


class Exclusion(StrEnum):
    """What leaves a weighted-mean reference when the χ² check fails."""

    LARGEST_CONSISTENT_SUBSET = "lcs"  # Cox 2007, by complete enumeration
    LARGEST_EN = "largest-en"  # one at a time, the largest |E_n| first
    NONE = "none"


@dataclass(frozen=True)
class LabResult:
    """One participant's reported result: value, expanded uncertainty U and its coverage factor k."""

    laboratory: str
    value: float
    uncertainty: float | None = None  # expanded uncertainty U (None: not reported)
    k: float = 2.0
    row: int | None = None  # where it came from (a CSV row), for messages
    # False: evaluated against the reference value but not part of it (a key comparison's reference formed
    # from a subset, e.g. the primary-method results only)
    contributes: bool = True

    @property
    def standard_uncertainty(self) -> float | None:
        return None if self.uncertainty is None else self.uncertainty / self.k


@dataclass(frozen=True)
class RobustEstimate:
    """Algorithm A's robust average x* and robust standard deviation s*."""

    mean: float
    sd: float
    iterations: int


@dataclass(frozen=True)
class AssignedValue:
    value: float
    standard_uncertainty: float
    method: Method
    robust: RobustEstimate | None = None


@dataclass(frozen=True)
class LabScore:
    result: LabResult
    z: float | None
    z_prime: float | None
    zeta: float | None
    en: float | None
    score: Score
    verdict: Verdict | None  # None: the chosen statistic cannot be computed for this participant

    @property
    def primary(self) -> float | None:
        return {Score.Z: self.z, Score.Z_PRIME: self.z_prime, Score.ZETA: self.zeta, Score.EN: self.en}[
            self.score
        ]


@dataclass(frozen=True)
class ProficiencyResult:
    assigned: AssignedValue
    sigma_pt: float | None
    score: Score
    scores: list[LabScore]
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Equivalence:
    """A participant's degree of equivalence with the reference value (Cox 2002, §5 and §6)."""

    result: LabResult
    d: float
    u_d: float
    expanded_u_d: float  # U(d_i) = 2 u(d_i)
    en: float
    in_reference: bool
    verdict: Verdict
    interval: tuple[float, float] | None = None  # Procedure B: the coverage interval of D_i


@dataclass(frozen=True)
class KeyComparisonResult:
    reference_value: float
    standard_uncertainty: float
    chi2_observed: float
    chi2_critical: float
    degrees_of_freedom: int
    consistent: bool
    excluded: list[str]
    equivalences: list[Equivalence]
    notes: list[str] = field(default_factory=list)
    trials: int | None = None  # Procedure B only
    seed: int | None = None


# --------------------------------------------------------------------------------------------------
# Validation


def _where(r: LabResult) -> str:
    return f"第 {r.row} 行 / row {r.row}, " if r.row is not None else ""


def validate(results: Sequence[LabResult], *, minimum: int, need_uncertainty: bool) -> None:
    """Refuse what no analysis can use, naming the laboratory (and row) and the reason."""
    if len(results) < minimum:
        raise InvalidInput(
            f"参加实验室不足：需要至少 {minimum} 个，收到 {len(results)} 个 / "
            f"too few laboratories: at least {minimum} needed, {len(results)} given",
            field="results",
        )
    seen: dict[str, LabResult] = {}
    for r in results:
        name = r.laboratory.strip()
        if not name:
            raise InvalidInput(f"{_where(r)}实验室名称为空 / laboratory name is empty", field="laboratory")
        if name in seen:
            first = seen[name]
            raise InvalidInput(
                f"{_where(r)}实验室重复：{name}（首次出现于{_where(first) or '前文'}）/ "
                f"duplicate laboratory {name!r}",
                field="laboratory",
            )
        seen[name] = r
        if not math.isfinite(r.value):
            raise InvalidInput(
                f"{_where(r)}实验室 {name} 的测量值不是有限数 / value of {name!r} is not finite: {r.value}",
                field="value",
            )
        if r.uncertainty is None:
            if need_uncertainty:
                raise InvalidInput(
                    f"{_where(r)}实验室 {name} 未给出不确定度 / {name!r} gives no uncertainty, "
                    "which this analysis needs",
                    field="uncertainty",
                )
            continue
        if not math.isfinite(r.uncertainty) or r.uncertainty < 0:
            raise InvalidInput(
                f"{_where(r)}实验室 {name} 的不确定度须为非负有限数 / uncertainty of {name!r} must be "
                f"finite and non-negative: {r.uncertainty}",
                field="uncertainty",
            )
        if not math.isfinite(r.k) or r.k <= 0:
            raise InvalidInput(
                f"{_where(r)}实验室 {name} 的包含因子须为正数 / coverage factor k of {name!r} must be "
                f"positive: {r.k}",
                field="k",
            )
        if need_uncertainty and r.uncertainty == 0:
            raise InvalidInput(
                f"{_where(r)}实验室 {name} 的不确定度为零，无法加权 / uncertainty of {name!r} is zero: "
                "a weighted mean or ζ/E_n needs a positive uncertainty",
                field="uncertainty",
            )


# --------------------------------------------------------------------------------------------------
# ISO 13528 Annex C.3.1: Algorithm A


def algorithm_a(
    values: Sequence[float] | NDArray[np.float64],
    *,
    rtol: float = ALGORITHM_A_RTOL,
    max_iter: int = ALGORITHM_A_MAX_ITER,
) -> RobustEstimate:
    """Robust average and standard deviation of p values (ISO 13528:2022 C.3.1).

    x* starts at the median and s* at 1.483·MAD; each pass winsorises the values at x* ± 1.5 s* and takes
    x* as their mean and s* as 1.134 times their standard deviation, until both change by less than
    ``rtol`` relative to s*. If more than half the values are equal, s* starts at zero and stays there:
    x* is then the median and s* = 0 (the caller must supply σ_pt).
    """
    x = np.asarray(values, dtype=np.float64)
    if x.ndim != 1 or x.size < MIN_CONSENSUS:
        raise InvalidInput(
            f"稳健算法 A 需要至少 {MIN_CONSENSUS} 个结果 / Algorithm A needs at least {MIN_CONSENSUS} values",
            field="results",
        )
    if not np.all(np.isfinite(x)):
        raise InvalidInput("测量值须为有限数 / values must be finite", field="value")
    p = x.size
    mean = float(np.median(x))
    sd = MAD_FACTOR * float(np.median(np.abs(x - mean)))
    if sd == 0.0:
        return RobustEstimate(mean, 0.0, 0)
    for it in range(1, max_iter + 1):
        delta = WINSOR_FACTOR * sd
        w = np.clip(x, mean - delta, mean + delta)
        new_mean = float(w.mean())
        new_sd = SD_FACTOR * math.sqrt(float(np.sum((w - new_mean) ** 2)) / (p - 1))
        done = abs(new_sd - sd) <= rtol * new_sd and abs(new_mean - mean) <= rtol * new_sd
        mean, sd = new_mean, new_sd
        if done:
            return RobustEstimate(mean, sd, it)
    raise InvalidInput(  # pragma: no cover - the iteration is a contraction for any finite data
        f"稳健算法 A 在 {max_iter} 次迭代内未收敛 / Algorithm A did not converge in {max_iter} iterations",
        field="results",
    )


def algorithm_a_batch(
    values: NDArray[np.float64], *, rtol: float = ALGORITHM_A_RTOL, max_iter: int = ALGORITHM_A_MAX_ITER
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Algorithm A on every row of a (rounds × participants) array at once: (x*, s*) per round.

    Same iteration and stopping rule as :func:`algorithm_a`; rows that have converged are frozen.
    """
    x = np.asarray(values, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] < MIN_CONSENSUS:
        raise InvalidInput(
            f"须为（轮次 × 参加者）二维数组，参加者至少 {MIN_CONSENSUS} / expected a rounds × participants "
            f"array with at least {MIN_CONSENSUS} participants",
            field="results",
        )
    if not np.all(np.isfinite(x)):
        raise InvalidInput("测量值须为有限数 / values must be finite", field="value")
    p = x.shape[1]
    mean = np.median(x, axis=1)
    sd = MAD_FACTOR * np.median(np.abs(x - mean[:, None]), axis=1)
    active = sd > 0
    for _ in range(max_iter):
        if not active.any():
            break
        idx = np.flatnonzero(active)
        m, s = mean[idx], sd[idx]
        delta = WINSOR_FACTOR * s
        w = np.clip(x[idx], (m - delta)[:, None], (m + delta)[:, None])
        new_m = w.mean(axis=1)
        new_s = SD_FACTOR * np.sqrt(((w - new_m[:, None]) ** 2).sum(axis=1) / (p - 1))
        done = (np.abs(new_s - s) <= rtol * new_s) & (np.abs(new_m - m) <= rtol * new_s)
        mean[idx], sd[idx] = new_m, new_s
        active[idx[done]] = False
    return mean, sd


# --------------------------------------------------------------------------------------------------
# Assigned value and performance statistics (ISO 13528:2022 clauses 7 and 9)


def assigned_by_consensus(results: Sequence[LabResult]) -> AssignedValue:
    """x_pt = x* of Algorithm A; u(x_pt) = 1.25 s*/√p (ISO 13528:2022 7.7.3)."""
    validate(results, minimum=MIN_CONSENSUS, need_uncertainty=False)
    values = [r.value for r in results if r.contributes]  # the robust average of the contributing results
    _contributing(results, MIN_CONSENSUS)
    robust = algorithm_a(values)
    u = ROBUST_MEAN_U_FACTOR * robust.sd / math.sqrt(len(values))
    return AssignedValue(robust.mean, u, Method.CONSENSUS, robust)


def assigned_by_reference(value: float, standard_uncertainty: float) -> AssignedValue:
    """x_pt from a reference value (a certified reference material, a reference laboratory: 7.4, 7.5)."""
    if not math.isfinite(value):
        raise InvalidInput(f"参考值须为有限数 / reference value must be finite: {value}", field="reference")
    if not math.isfinite(standard_uncertainty) or standard_uncertainty < 0:
        raise InvalidInput(
            f"参考值不确定度须为非负有限数 / reference uncertainty must be finite and non-negative: "
            f"{standard_uncertainty}",
            field="reference_u",
        )
    return AssignedValue(value, standard_uncertainty, Method.REFERENCE)


def z_score(x: float, x_pt: float, sigma_pt: float) -> float:
    """ISO 13528:2022 (9.4.1): z = (x − x_pt)/σ_pt."""
    return (x - x_pt) / sigma_pt


def z_prime_score(x: float, x_pt: float, sigma_pt: float, u_x_pt: float) -> float:
    """ISO 13528:2022 (9.5.1): z′ = (x − x_pt)/√(σ_pt² + u²(x_pt))."""
    return (x - x_pt) / math.sqrt(sigma_pt**2 + u_x_pt**2)


def zeta_score(x: float, u_x: float, x_pt: float, u_x_pt: float) -> float:
    """ISO 13528:2022 (9.6.1): ζ = (x − x_pt)/√(u²(x) + u²(x_pt))."""
    return (x - x_pt) / math.sqrt(u_x**2 + u_x_pt**2)


def en_number(x: float, expanded_u_x: float, x_pt: float, expanded_u_x_pt: float) -> float:
    """ISO 13528:2022 (9.7.1): E_n = (x − x_pt)/√(U²(x) + U²(x_pt))."""
    return (x - x_pt) / math.sqrt(expanded_u_x**2 + expanded_u_x_pt**2)


def verdict_for(score: Score, value: float) -> Verdict:
    """Action limits: z, z′, ζ: |s| ≤ 2 satisfactory, 2 < |s| < 3 questionable (warning signal),
    |s| ≥ 3 unsatisfactory (action signal) (ISO 13528:2022 9.4.2, ISO/IEC 17043 B.4.1.1);
    E_n: |E_n| ≤ 1 satisfactory, > 1 unsatisfactory (ISO 13528:2022 9.7.2)."""
    a = abs(value)
    if score is Score.EN:
        return Verdict.SATISFACTORY if a <= 1.0 else Verdict.UNSATISFACTORY
    if a <= 2.0:
        return Verdict.SATISFACTORY
    if a < 3.0:
        return Verdict.QUESTIONABLE
    return Verdict.UNSATISFACTORY


def proficiency(
    results: Sequence[LabResult],
    assigned: AssignedValue,
    *,
    sigma_pt: float | None = None,
    score: Score | None = None,
    expanded_k: float = 2.0,
) -> ProficiencyResult:
    """Every participant's z, z′, ζ and E_n, and a verdict from the chosen (or the fitting) statistic.

    σ_pt is the value given, else the robust s* of a consensus. Without a choice: z, or z′ when
    u(x_pt) > 0.3 σ_pt (ISO 13528:2022 9.2.1, 9.5); ζ when no σ_pt is known at all. E_n takes
    U(x_pt) = ``expanded_k`` · u(x_pt).
    """
    validate(results, minimum=1, need_uncertainty=False)
    notes: list[str] = []
    if sigma_pt is not None and (not math.isfinite(sigma_pt) or sigma_pt <= 0):
        raise InvalidInput(
            f"能力评定标准差 σ_pt 须为正的有限数 / sigma_pt must be positive and finite: {sigma_pt}",
            field="sigma_pt",
        )
    if sigma_pt is None and assigned.robust is not None and assigned.robust.sd > 0:
        sigma_pt = assigned.robust.sd
        notes.append(
            "σ_pt 取稳健标准差 s* / sigma_pt taken as the robust standard deviation s* (ISO 13528 8.6)"
        )
    u_pt = assigned.standard_uncertainty
    large_u = sigma_pt is not None and u_pt > NEGLIGIBLE_U_RATIO * sigma_pt
    if large_u:
        notes.append(
            f"u(x_pt) = {u_pt:.3g} > 0.3 σ_pt = {NEGLIGIBLE_U_RATIO * (sigma_pt or 0):.3g}：不可忽略，应采用 z′ / "
            "the uncertainty of the assigned value is not negligible: use z′ (ISO 13528:2022 9.2.1)"
        )
    if score is None:
        score = Score.ZETA if sigma_pt is None else (Score.Z_PRIME if large_u else Score.Z)
    if score in (Score.Z, Score.Z_PRIME) and sigma_pt is None:
        raise InvalidInput(
            "需要能力评定标准差 σ_pt（所有结果相同或未以共识值定值）/ z and z′ need sigma_pt: give it "
            "(the robust s* is zero or the assigned value is not a consensus)",
            field="sigma_pt",
        )
    if score in (Score.ZETA, Score.EN):
        validate(results, minimum=1, need_uncertainty=True)
    out = []
    for r in results:
        z = zp = zeta = en = None
        if sigma_pt is not None:
            z = z_score(r.value, assigned.value, sigma_pt)
            zp = z_prime_score(r.value, assigned.value, sigma_pt, u_pt)
        u = r.standard_uncertainty
        if u is not None and (u > 0 or u_pt > 0):
            zeta = zeta_score(r.value, u, assigned.value, u_pt)
            assert r.uncertainty is not None
            en = en_number(r.value, r.uncertainty, assigned.value, expanded_k * u_pt)
        primary = {Score.Z: z, Score.Z_PRIME: zp, Score.ZETA: zeta, Score.EN: en}[score]
        verdict = None if primary is None else verdict_for(score, primary)
        out.append(LabScore(r, z, zp, zeta, en, score, verdict))
    return ProficiencyResult(assigned, sigma_pt, score, out, notes)


# --------------------------------------------------------------------------------------------------
# Key comparison, Cox (2002) Procedure A


def _weighted_mean(x: NDArray[np.float64], u: NDArray[np.float64]) -> tuple[float, float, float]:
    w = 1.0 / u**2
    y = float(np.sum(w * x) / np.sum(w))
    u_y = math.sqrt(1.0 / float(np.sum(w)))
    chi2 = float(np.sum((x - y) ** 2 * w))
    return y, u_y, chi2


def _chi2_critical(alpha: float, dof: int) -> float:
    return float(stats.chi2.ppf(1 - alpha, dof))


class SubsetSearchTooLarge(Exception):
    """The largest-consistent-subset search would pass its budget of subsets."""


@dataclass(frozen=True)
class ConsistentSubset:
    """The largest consistent subset: which results, its χ²_obs, and how many subsets of that size pass."""

    keep: NDArray[np.bool_]
    chi2: float
    passing: int


def largest_consistent_subset(
    x: NDArray[np.float64],
    u: NDArray[np.float64],
    *,
    alpha: float = 0.05,
    min_size: int = MIN_RETAINED,
    max_subsets: int = MAX_SUBSETS,
) -> ConsistentSubset | None:
    """Cox (2007): the largest subset whose weighted mean passes the χ² check, by complete enumeration.

    Sizes are tried from N down to ``min_size``; at the first size where any subset passes, the one with
    the smallest χ²_obs is taken. None when no subset of at least ``min_size`` results passes;
    SubsetSearchTooLarge when the search would examine more than ``max_subsets`` subsets.
    """
    n = len(x)
    w = 1.0 / u**2
    examined = 0
    for size in range(n, min_size - 1, -1):
        count = math.comb(n, size)
        examined += count
        if examined > max_subsets:
            raise SubsetSearchTooLarge(max_subsets)
        critical = _chi2_critical(alpha, size - 1)
        best: tuple[float, tuple[int, ...]] | None = None
        passing = 0
        combos = itertools.combinations(range(n), size)
        while chunk := list(itertools.islice(combos, SUBSET_CHUNK)):
            idx = np.array(chunk, dtype=np.intp)
            xs, ws = x[idx], w[idx]
            y = np.sum(ws * xs, axis=1) / np.sum(ws, axis=1)
            chi2 = np.sum(ws * (xs - y[:, None]) ** 2, axis=1)
            ok = chi2 <= critical
            passing += int(ok.sum())
            if ok.any():
                i = int(np.argmin(np.where(ok, chi2, np.inf)))
                if best is None or chi2[i] < best[0]:
                    best = (float(chi2[i]), chunk[i])
        if best is not None:
            keep = np.zeros(n, dtype=bool)
            keep[list(best[1])] = True
            return ConsistentSubset(keep, best[0], passing)
    return None


def _equivalences(
    results: Sequence[LabResult],
    x: NDArray[np.float64],
    u: NDArray[np.float64],
    keep: NDArray[np.bool_],
    y: float,
    u_y: float,
) -> list[Equivalence]:
    u_d = _u_d(u, keep, u_y)
    en = (x - y) / (2.0 * u_d)
    return [
        Equivalence(
            r,
            float(x[i] - y),
            float(u_d[i]),
            float(2.0 * u_d[i]),
            float(en[i]),
            bool(keep[i]),
            verdict_for(Score.EN, float(en[i])),
        )
        for i, r in enumerate(results)
    ]


def _u_d(u: NDArray[np.float64], keep: NDArray[np.bool_], u_y: float) -> NDArray[np.float64]:
    """u(d_i): a result in the reference covaries with it by u²(y) (Cox 2002 §5), one outside does not."""
    return np.sqrt(np.where(keep, u**2 - u_y**2, u**2 + u_y**2))


def _check_alpha(alpha: float) -> None:
    if not 0 < alpha < 1:
        raise InvalidInput(f"显著性水平须在 (0, 1) / alpha must be in (0, 1): {alpha}", field="alpha")


def _values(results: Sequence[LabResult]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    x = np.array([r.value for r in results], dtype=np.float64)
    u = np.array([r.standard_uncertainty for r in results], dtype=np.float64)
    return x, u


def key_comparison(
    results: Sequence[LabResult],
    *,
    alpha: float = 0.05,
    exclusion: Exclusion | str = Exclusion.LARGEST_CONSISTENT_SUBSET,
    min_retained: int = MIN_RETAINED,
    max_subsets: int = MAX_SUBSETS,
) -> KeyComparisonResult:
    """Weighted-mean reference value, chi-squared check and degrees of equivalence (Cox 2002, Procedure A).

    y = Σ x_i/u_i² / Σ 1/u_i², u(y) = (Σ 1/u_i²)^(-1/2); χ²_obs = Σ (x_i − y)²/u_i², consistent when
    χ²_obs ≤ χ²_{1−α}(N − 1). d_i = x_i − y with u²(d_i) = u_i² − u²(y) for a result in the reference (its
    covariance with y is u²(y)) and u_i² + u²(y) otherwise; U(d_i) = 2 u(d_i); E_n = d_i/U(d_i).
    When the check fails, ``exclusion`` says what leaves the reference: the complement of the largest
    consistent subset (Cox 2007), the largest |E_n| one at a time, or nothing; never fewer than
    ``min_retained`` results stay in it.
    """
    validate(results, minimum=MIN_WEIGHTED_MEAN, need_uncertainty=True)
    _check_alpha(alpha)
    try:
        exclusion = Exclusion(exclusion)
    except ValueError:
        raise InvalidInput(
            f"剔除方式须为 lcs、largest-en 或 none / unknown exclusion {exclusion!r}", field="exclusion"
        ) from None
    x, u = _values(results)
    contributing = _contributing(results, MIN_WEIGHTED_MEAN)
    keep = contributing.copy()
    notes: list[str] = _subset_note(results, contributing)
    n_in = int(keep.sum())
    y, u_y, chi2 = _weighted_mean(x[keep], u[keep])
    critical = _chi2_critical(alpha, n_in - 1)
    failed = (
        f"χ²_obs = {chi2:.4g} > χ²_{{{1 - alpha:g}}}({n_in - 1}) = {critical:.4g}：全部结果不一致 / "
        "the check fails with every contributing result in the reference"
    )
    if chi2 > critical and exclusion is Exclusion.LARGEST_CONSISTENT_SUBSET:
        try:
            found = largest_consistent_subset(
                x[contributing], u[contributing], alpha=alpha, min_size=min_retained, max_subsets=max_subsets
            )
            subset = None
            if found is not None:
                full = np.zeros(len(results), dtype=bool)
                full[np.flatnonzero(contributing)[found.keep]] = True
                subset = ConsistentSubset(full, found.chi2, found.passing)
        except SubsetSearchTooLarge:
            notes.append(
                f"{failed}; 结果过多，无法穷举子集，改为逐个剔除 |E_n| 最大者 / too many results to enumerate "
                f"every subset (more than {max_subsets:,}): the largest |E_n| is set aside one at a time instead"
            )
            exclusion = Exclusion.LARGEST_EN
        else:
            if subset is None:
                notes.append(
                    f"{failed}; 不少于 {min_retained} 个结果的子集均不一致，不剔除 / no subset of at least "
                    f"{min_retained} results is consistent, so none is set aside"
                )
            else:
                keep = subset.keep
                size = int(keep.sum())
                notes.append(
                    f"{failed}; 最大一致子集含 {size} 个结果 / the largest consistent subset (Cox 2007) has "
                    f"{size} results"
                    + (
                        f"; 同样大小的子集有 {subset.passing} 个通过检验，取 χ²_obs 最小者 / {subset.passing} "
                        "subsets of that size pass: the one with the smallest χ²_obs is taken"
                        if subset.passing > 1
                        else ""
                    )
                )
    if exclusion is Exclusion.LARGEST_EN:
        while chi2 > critical and int(keep.sum()) > min_retained:
            en = (x - y) / (2.0 * _u_d(u, keep, u_y))
            worst = int(np.argmax(np.where(keep, np.abs(en), -np.inf)))
            notes.append(
                f"χ²_obs = {chi2:.4g} > χ²_{{{1 - alpha:g}}}({int(keep.sum()) - 1}) = {critical:.4g}：剔除 "
                f"|E_n| 最大者 {results[worst].laboratory} / check failed: the result with the largest |E_n| "
                f"({results[worst].laboratory}, E_n = {en[worst]:.3g}) leaves the reference"
            )
            keep[worst] = False
            y, u_y, chi2 = _weighted_mean(x[keep], u[keep])
            critical = _chi2_critical(alpha, int(keep.sum()) - 1)
    y, u_y, chi2 = _weighted_mean(x[keep], u[keep])
    dof = int(keep.sum()) - 1
    critical = _chi2_critical(alpha, dof)
    consistent = chi2 <= critical
    if not consistent:
        notes.append(
            "一致性检验未通过，加权平均值不宜作为参考值，可用中位数法 / the consistency check fails: the "
            "weighted mean should not be taken as the reference value; the median (Cox 2002 Procedure B, "
            "method median) may be used"
        )
    equivalences = _equivalences(results, x, u, keep, y, u_y)
    excluded = [r.laboratory for r, k, c in zip(results, keep, contributing, strict=True) if c and not k]
    return KeyComparisonResult(y, u_y, chi2, critical, dof, consistent, excluded, equivalences, notes)


def _contributing(results: Sequence[LabResult], minimum: int) -> NDArray[np.bool_]:
    """Which results form the reference value (the ``contributes`` flag); at least ``minimum`` of them."""
    flags = np.array([r.contributes for r in results], dtype=bool)
    if int(flags.sum()) < minimum:
        raise InvalidInput(
            f"计入参考值的结果不足：需要至少 {minimum} 个，收到 {int(flags.sum())} 个 / too few results contribute "
            f"to the reference value: at least {minimum} needed, {int(flags.sum())} marked",
            field="contributes",
        )
    return flags


def _subset_note(results: Sequence[LabResult], contributing: NDArray[np.bool_]) -> list[str]:
    outside = [r.laboratory for r, c in zip(results, contributing, strict=True) if not c]
    if not outside:
        return []
    return [
        f"参考值只由 {int(contributing.sum())} 个结果形成；{', '.join(outside)} 不计入参考值，其等效度的不确定度不含相关项 / "
        f"the reference value is formed from {int(contributing.sum())} results; {', '.join(outside)} do not contribute "
        "to it, so their u(d_i) has no correlation term: u²(d_i) = u_i² + u²(y)"
    ]


def key_comparison_mean(
    results: Sequence[LabResult],
    *,
    uncertainty: MeanUncertainty | str = MeanUncertainty.STATED,
    alpha: float = 0.05,
) -> KeyComparisonResult:
    """The arithmetic mean of the contributing results as reference value, and every result's d_i.

    y = Σ x_i / n over the n contributing results. u(y) from the stated uncertainties, √(Σ u_i²)/n
    (independent results; ``stated``), or from their spread, s(x_i)/√n with ν = n − 1 (``spread``: the
    Type A standard deviation of the mean, ignoring the stated u_i). Degrees of equivalence d_i = x_i − y
    with, for a contributing result, cov(x_i, y) = u_i²/n, so u²(d_i) = u_i² − 2u_i²/n + u²(y); for a result
    that does not contribute, u²(d_i) = u_i² + u²(y) (no correlation term). U(d_i) = 2 u(d_i),
    E_n = d_i/U(d_i). The χ² check of the contributing results' weighted mean is reported for reference.
    """
    validate(results, minimum=MIN_WEIGHTED_MEAN, need_uncertainty=True)
    _check_alpha(alpha)
    try:
        how = MeanUncertainty(uncertainty)
    except ValueError:
        raise InvalidInput(
            f"平均值的不确定度须为 spread 或 stated / mean_u must be spread or stated: {uncertainty!r}",
            field="mean_u",
        ) from None
    x, u = _values(results)
    keep = _contributing(results, MIN_WEIGHTED_MEAN)
    n = int(keep.sum())
    y = float(np.mean(x[keep]))
    if how is MeanUncertainty.SPREAD:
        u_y = float(np.std(x[keep], ddof=1)) / math.sqrt(n)
        basis = f"u(y) = s(x_i)/√n = {u_y:.4g}（ν = {n - 1}）/ from the spread of the {n} contributing values"
    else:
        u_y = math.sqrt(float(np.sum(u[keep] ** 2))) / n
        basis = (
            f"u(y) = √(Σu_i²)/n = {u_y:.4g} / from the stated uncertainties of the {n} contributing results"
        )
    u_d = np.sqrt(np.where(keep, u**2 - 2.0 * u**2 / n + u_y**2, u**2 + u_y**2))
    en = (x - y) / (2.0 * u_d)
    equivalences = [
        Equivalence(
            r,
            float(x[i] - y),
            float(u_d[i]),
            float(2.0 * u_d[i]),
            float(en[i]),
            bool(keep[i]),
            verdict_for(Score.EN, float(en[i])),
        )
        for i, r in enumerate(results)
    ]
    w_y, _, chi2 = _weighted_mean(x[keep], u[keep])
    dof = n - 1
    critical = _chi2_critical(alpha, dof)
    notes = [
        *_subset_note(results, keep),
        f"算术平均参考值，{basis}",
        f"参考：加权平均 {w_y:.10g} 的 χ²_obs = {chi2:.4g}，临界值 {critical:.4g} / for reference: the weighted mean "
        f"{w_y:.10g} of the contributing results has χ²_obs = {chi2:.4g} against χ²_{{{1 - alpha:g}}}({dof}) = "
        f"{critical:.4g}",
    ]
    return KeyComparisonResult(y, u_y, chi2, critical, dof, chi2 <= critical, [], equivalences, notes)


def fitting_trials(laboratories: int, wanted: int = MEDIAN_TRIALS) -> int:
    """``wanted`` trials, fewer when that many laboratories would pass MAX_MEDIAN_DRAWS (never < the minimum)."""
    return max(MIN_MEDIAN_TRIALS, min(wanted, MAX_MEDIAN_DRAWS // max(laboratories, 1)))


def key_comparison_median(
    results: Sequence[LabResult],
    *,
    alpha: float = 0.05,
    trials: int | None = None,
    seed: int | None = None,
    coverage: float = 0.95,
) -> KeyComparisonResult:
    """Cox (2002) Procedure B: the median as reference value, its uncertainty by Monte Carlo.

    Each X_i ~ N(x_i, u_i²); in every trial the median Y of the drawn values and D_i = X_i − Y are
    taken. y = median(x_i), u(y) = standard deviation of the Y; d_i = x_i − y, u(d_i) the standard
    deviation of D_i and U(d_i) the half-width of D_i's probabilistically symmetric ``coverage``
    interval. The contributing results (``contributes``) form Y, every result gets its D_i; the χ² check of the weighted mean is reported for reference.
    ``trials`` defaults to MEDIAN_TRIALS, fewer when that many laboratories would pass MAX_MEDIAN_DRAWS.
    """
    validate(results, minimum=MIN_WEIGHTED_MEAN, need_uncertainty=True)
    _check_alpha(alpha)
    n = len(results)
    if trials is None:
        trials = fitting_trials(n)
    if (
        isinstance(trials, bool)
        or not isinstance(trials, int)
        or not MIN_MEDIAN_TRIALS <= trials <= MAX_MEDIAN_TRIALS
    ):
        raise InvalidInput(
            f"试验次数须在 {MIN_MEDIAN_TRIALS:,} 与 {MAX_MEDIAN_TRIALS:,} 之间 / trials must be an integer "
            f"from {MIN_MEDIAN_TRIALS:,} to {MAX_MEDIAN_TRIALS:,}: {trials!r}",
            field="trials",
        )
    if trials * n > MAX_MEDIAN_DRAWS:
        raise InvalidInput(
            f"试验次数 × 实验室数超过 {MAX_MEDIAN_DRAWS:,} / trials × laboratories must not exceed "
            f"{MAX_MEDIAN_DRAWS:,}: {trials:,} × {n:,}; use at most {MAX_MEDIAN_DRAWS // n:,} trials",
            field="trials",
        )
    if not 0 < coverage < 1:
        raise InvalidInput(f"包含概率须在 (0, 1) / coverage must be in (0, 1): {coverage}", field="coverage")
    x, u = _values(results)
    keep = _contributing(results, MIN_WEIGHTED_MEAN)
    seed = int(np.random.SeedSequence().entropy) % 2**63 if seed is None else seed  # type: ignore[arg-type]
    rng = np.random.Generator(np.random.PCG64(seed))
    y = float(np.median(x[keep]))
    tail = (1.0 - coverage) / 2.0
    medians = np.empty(trials)
    d_draws = np.empty((trials, n))
    block = max(1, MEDIAN_BLOCK_VALUES // n)
    for start in range(0, trials, block):
        m = min(block, trials - start)
        draws = x + u * rng.standard_normal((m, n))
        med = np.median(draws[:, keep], axis=1)  # a result outside the reference is drawn but not in Y
        medians[start : start + m] = med
        d_draws[start : start + m] = draws - med[:, None]
    u_y = float(np.std(medians, ddof=1))
    u_d = np.std(d_draws, axis=0, ddof=1)
    low, high = np.quantile(d_draws, [tail, 1.0 - tail], axis=0)
    half = (high - low) / 2.0
    w_y, _, chi2 = _weighted_mean(x[keep], u[keep])
    dof = int(keep.sum()) - 1
    critical = _chi2_critical(alpha, dof)
    equivalences = []
    for i, r in enumerate(results):
        d = float(x[i] - y)
        en = d / float(half[i])
        equivalences.append(
            Equivalence(
                r,
                d,
                float(u_d[i]),
                float(half[i]),
                en,
                bool(keep[i]),
                verdict_for(Score.EN, en),
                interval=(float(low[i]), float(high[i])),
            )
        )
    notes = [
        *_subset_note(results, keep),
        f"中位数法（Cox 2002 程序 B），蒙特卡洛 {trials:,} 次，种子 {seed} / the median (Cox 2002 Procedure B) "
        f"with {trials:,} Monte Carlo trials, seed {seed}; U(d_i) is the half-width of the "
        f"{coverage:.0%} interval of D_i = X_i − Y",
        f"参考：加权平均 {w_y:.10g} 的 χ²_obs = {chi2:.4g}，临界值 {critical:.4g} / for reference: the weighted mean "
        f"{w_y:.10g} has χ²_obs = {chi2:.4g} against χ²_{{{1 - alpha:g}}}({dof}) = {critical:.4g}",
    ]
    return KeyComparisonResult(
        y, u_y, chi2, critical, dof, chi2 <= critical, [], equivalences, notes, trials=trials, seed=seed
    )
