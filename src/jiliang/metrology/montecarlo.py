"""Propagation of distributions by the Monte Carlo method, JCGM 101:2008 (GUM Supplement 1) §7, and §8 validation.

``propagate(fn, inputs, …)`` draws every input from its distribution, evaluates the vectorised model
``fn`` (a function of a dict of arrays returning an array), and summarises the output: estimate y and
standard uncertainty u (§7.6), the probabilistically symmetric and the shortest coverage interval (§7.7),
a histogram. With ``adaptive=True`` it runs the adaptive procedure of §7.9 until the results are stable to
the numerical tolerance δ of ``ndig`` significant digits (§7.9.2).

Memory: trials run in blocks of ``block``; inputs live one block at a time and only the output values are
kept (float64: 80 MB for 10⁷ trials), since coverage intervals need the sorted output.

Reproducibility: every input has its own generator, PCG64 seeded by ``SeedSequence(seed, spawn_key=(crc32
of the input's name,))``, so an input's stream depends only on the seed and its own name (adding an input
does not change the others' draws). Each generator is read sequentially and samplers draw one trial's
numbers together, so the output values, and therefore every result, are the same for any block size, and
the adaptive procedure stopping after h·M trials gives exactly the fixed-M result for h·M trials. With
``seed=None`` fresh entropy is drawn and recorded in ``result.seed``, so the run can be repeated.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from jiliang.errors import InvalidInput
from jiliang.metrology.distributions import Distribution

FloatArray = NDArray[np.float64]
Model = Callable[[Mapping[str, FloatArray]], object]
IntervalKind = Literal["symmetric", "shortest"]

DEFAULT_TRIALS = 1_000_000  # JCGM 101 §7.2.2: 10⁶ is often expected to give a 95 % interval to 1–2 digits
DEFAULT_ADAPTIVE_CAP = 10_000_000
HISTOGRAM_BINS = 100

__all__ = [
    "Histogram",
    "MonteCarloResult",
    "MultiMonteCarloResult",
    "ValidationReport",
    "coverage_intervals",
    "numerical_tolerance",
    "propagate",
    "propagate_outputs",
    "validate_gum",
]


@dataclass(frozen=True)
class Histogram:
    """Counts of output values in equal bins; ``edges`` has one more element than ``counts``."""

    counts: NDArray[np.int64]
    edges: FloatArray


@dataclass(frozen=True)
class MonteCarloResult:
    """Summary of the Monte Carlo output for one output quantity (JCGM 101 §7.6, §7.7).

    ``converged`` is False only when the adaptive procedure hit its trial cap before stabilising;
    ``tolerance`` is the δ it stabilised to (None for a fixed number of trials); ``blocks`` is h, the
    number of adaptive blocks of ``block_size`` trials (1 block of all trials when not adaptive).
    ``values`` holds the sorted output values only when ``keep_values=True`` was asked for.
    """

    y: float
    u: float
    p: float
    symmetric: tuple[float, float]
    shortest: tuple[float, float]
    trials: int
    histogram: Histogram
    seed: int
    adaptive: bool
    converged: bool
    tolerance: float | None
    blocks: int
    block_size: int
    values: FloatArray | None = None
    excluded: int = 0  # trials whose output was not finite, left out (nonfinite="exclude")

    def interval(self, kind: IntervalKind = "symmetric") -> tuple[float, float]:
        return self.symmetric if kind == "symmetric" else self.shortest


@dataclass(frozen=True)
class MultiMonteCarloResult:
    """Several output quantities from one input sample: estimates, their covariance, and each summary."""

    names: tuple[str, ...]
    y: FloatArray
    covariance: FloatArray
    outputs: dict[str, MonteCarloResult]
    trials: int
    seed: int

    @property
    def u(self) -> FloatArray:
        return np.sqrt(np.diag(self.covariance))

    @property
    def correlation(self) -> FloatArray:
        u = self.u
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.covariance / np.outer(u, u)


@dataclass(frozen=True)
class ValidationReport:
    """JCGM 101 §8: the GUM interval is validated when both end-point differences are within δ."""

    delta: float
    d_low: float
    d_high: float
    passed: bool
    ndig: int
    gum_y: float
    gum_u: float
    gum_interval: tuple[float, float]
    mc_interval: tuple[float, float]
    interval: IntervalKind


# ---- §7.9.2 and §7.7 -------------------------------------------------------------------------------


def numerical_tolerance(value: float, ndig: int) -> float:
    """δ of JCGM 101 §7.9.2: write |value| = c × 10^l with c an ndig-digit integer; δ = 10^l / 2.

    E.g. u = 0.0754 with ndig = 2: c = 75, l = −3, δ = 0.0005. A zero value has δ = 0.
    """
    if ndig < 1:
        raise InvalidInput("有效位数必须至少为 1 / ndig must be at least 1", field="ndig")
    value = abs(float(value))
    if not math.isfinite(value):
        raise InvalidInput(f"数值必须有限 / value must be finite, got {value}", field="u")
    if value == 0.0:
        return 0.0
    exponent = math.floor(math.log10(value)) - ndig + 1
    if round(value / 10.0**exponent) >= 10**ndig:
        exponent += 1
    return 0.5 * 10.0**exponent


def coverage_intervals(
    sorted_values: FloatArray, p: float
) -> tuple[tuple[float, float], tuple[float, float]]:
    """The probabilistically symmetric (§7.7.1) and the shortest (§7.7.2) 100p % interval of sorted values.

    With M values, q = pM if that is an integer, else ⌊pM + ½⌋. Symmetric: [y_(r), y_(r+q)] with
    r = (M−q)/2 or (M−q+1)/2 (1-based). Shortest: the r among 1…M−q minimising y_(r+q) − y_(r).
    """
    m = sorted_values.size
    pm = p * m
    q = round(pm) if abs(pm - round(pm)) < 1e-9 else math.floor(pm + 0.5)
    if not 0 < q < m:
        raise InvalidInput(
            f"试验次数太少，无法得到覆盖区间 / too few trials ({m}) for a {p:.4g} coverage interval",
            field="trials",
        )
    r = (m - q) // 2 if (m - q) % 2 == 0 else (m - q + 1) // 2
    symmetric = (float(sorted_values[r - 1]), float(sorted_values[r + q - 1]))
    widths = sorted_values[q:] - sorted_values[: m - q]
    best = int(np.argmin(widths))
    shortest = (float(sorted_values[best]), float(sorted_values[best + q]))
    return symmetric, shortest


# ---- sampling ---------------------------------------------------------------------------------------


class _Sampler:
    """One generator per input, keyed by the input's name (see the module docstring)."""

    def __init__(self, inputs: Mapping[str, Distribution], seed: int | None) -> None:
        if not inputs:
            raise InvalidInput("至少需要一个输入量 / at least one input quantity is needed", field="inputs")
        for name, dist in inputs.items():
            if not isinstance(dist, Distribution):
                raise InvalidInput(
                    f"输入量 {name} 不是分布 / input {name} is not a distribution ({type(dist).__name__})",
                    field=str(name),
                )
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
            raise InvalidInput(
                f"随机种子必须是非负整数 / seed must be a non-negative integer, got {seed!r}", field="seed"
            )
        root = np.random.SeedSequence(seed)
        self.seed = int(root.entropy)  # type: ignore[arg-type]
        self.inputs = dict(inputs)
        self.generators = {
            name: np.random.Generator(
                np.random.PCG64(np.random.SeedSequence(self.seed, spawn_key=(zlib.crc32(name.encode()),)))
            )
            for name in self.inputs
        }

    def draw(self, n: int) -> dict[str, FloatArray]:
        """n trials of every input: shape (n,), or (dim, n) for a vector input so that ``a, b = x["ab"]``."""
        out: dict[str, FloatArray] = {}
        for name, dist in self.inputs.items():
            values = dist.sample(self.generators[name], n)
            out[name] = values.T if values.ndim == 2 else values
        return out


NonFinite = Literal["refuse", "exclude"]


def _evaluate(
    fn: Model,
    x: Mapping[str, FloatArray],
    n: int,
    names: Sequence[str] | None,
    nonfinite: NonFinite = "refuse",
) -> FloatArray:
    """fn on one block: shape (n,) for one output, (len(names), n) for several; refuse non-finite values
    unless ``nonfinite="exclude"`` (then they are left in, for the caller to count and drop)."""
    try:
        raw = fn(x)
    except InvalidInput:
        raise  # the model's own refusal (e.g. naming the input where it is undefined) stands as it is
    except (ArithmeticError, KeyError, ValueError, TypeError, IndexError) as exc:
        raise InvalidInput(f"模型计算失败 / the model failed: {exc!r}", field="model") from exc
    try:
        if names is None:
            values = np.broadcast_to(np.asarray(raw, dtype=float), (n,))
        else:
            if isinstance(raw, Mapping):
                missing = [name for name in names if name not in raw]
                if missing:
                    raise InvalidInput(
                        f"模型未给出输出量 {missing[0]} / the model returned no output {missing[0]!r}",
                        field="model",
                    )
                parts = [raw[name] for name in names]
            else:
                parts = list(raw)  # type: ignore[call-overload]
            if len(parts) != len(names):
                raise ValueError(f"{len(parts)} outputs for {len(names)} names")
            values = np.stack([np.broadcast_to(np.asarray(v, dtype=float), (n,)) for v in parts])
    except InvalidInput:
        raise
    except (ValueError, TypeError) as exc:
        expected = (n,) if names is None else (len(names), n)
        raise InvalidInput(
            f"模型输出形状错误 / the model's output does not have shape {expected}: {exc}", field="model"
        ) from exc
    bad = int(np.count_nonzero(~np.isfinite(values)))
    if bad and nonfinite == "refuse":
        raise InvalidInput(
            f"模型在 {bad} 次试验中给出非有限值 / the model gave non-finite values in {bad} trial(s) of {n} "
            "(nonfinite: exclude leaves them out and reports how many)",
            field="model",
            bad_trials=bad,
        )
    return values


def _check(p: float, block: int, trials: int | None, ndig: int) -> None:
    if isinstance(p, bool) or not isinstance(p, int | float) or not 0.0 < p < 1.0:
        raise InvalidInput(
            f"包含概率必须在 (0, 1) 内 / coverage probability p must lie in (0, 1), got {p!r}", field="p"
        )
    if isinstance(block, bool) or not isinstance(block, int) or block < 1:
        raise InvalidInput(
            f"块大小必须是正整数 / block must be a positive integer, got {block!r}", field="block"
        )
    if trials is not None and (isinstance(trials, bool) or not isinstance(trials, int) or trials < 2):
        raise InvalidInput(
            f"试验次数必须是不小于 2 的整数 / trials must be an integer ≥ 2, got {trials!r}", field="trials"
        )
    if isinstance(ndig, bool) or not isinstance(ndig, int) or not 1 <= ndig <= 10:
        raise InvalidInput(f"有效位数必须在 1…10 / ndig must lie in 1…10, got {ndig!r}", field="ndig")


def _summarise(
    values: FloatArray,
    p: float,
    *,
    seed: int,
    adaptive: bool,
    converged: bool,
    tolerance: float | None,
    blocks: int,
    block_size: int,
    keep_values: bool,
    bins: int,
    excluded: int = 0,
) -> MonteCarloResult:
    """Sort in place and summarise; the result depends only on the multiset of output values."""
    values.sort()
    y = float(np.mean(values))
    u = float(np.std(values, ddof=1))
    symmetric, shortest = coverage_intervals(values, p)
    counts, edges = np.histogram(values, bins=bins)
    return MonteCarloResult(
        y=y,
        u=u,
        p=float(p),
        symmetric=symmetric,
        shortest=shortest,
        trials=int(values.size),
        histogram=Histogram(counts.astype(np.int64), edges),
        seed=seed,
        adaptive=adaptive,
        converged=converged,
        tolerance=tolerance,
        blocks=blocks,
        block_size=block_size,
        values=values if keep_values else None,
        excluded=excluded,
    )


def _fill(
    fn: Model, sampler: _Sampler, out: FloatArray, start: int, stop: int, block: int, nonfinite: NonFinite
) -> None:
    """Evaluate trials start…stop−1 into out, at most ``block`` trials at a time."""
    while start < stop:
        n = min(block, stop - start)
        out[start : start + n] = _evaluate(fn, sampler.draw(n), n, None, nonfinite)
        start += n


def _finite(values: FloatArray) -> tuple[FloatArray, int]:
    """The finite values and how many were not (JCGM 101 assumes a model defined at every trial)."""
    keep = np.isfinite(values)
    excluded = int(values.size - np.count_nonzero(keep))
    if excluded == 0:
        return values, 0
    kept = values[keep]
    if kept.size < 2:
        raise InvalidInput(
            f"有限值试验不足 / only {kept.size} of {values.size} trials gave a finite output", field="model"
        )
    return kept, excluded


def propagate(
    fn: Model,
    inputs: Mapping[str, Distribution],
    *,
    trials: int | None = None,
    p: float = 0.95,
    seed: int | None = None,
    adaptive: bool = False,
    ndig: int = 2,
    block: int = 100_000,
    interval: IntervalKind = "symmetric",
    tolerance: float | None = None,
    keep_values: bool = False,
    bins: int = HISTOGRAM_BINS,
    nonfinite: NonFinite = "refuse",
) -> MonteCarloResult:
    """Propagate the input distributions through ``fn`` by the Monte Carlo method (JCGM 101 §7).

    A trial whose output is not finite (the model undefined there) is refused with the count, or, with
    ``nonfinite="exclude"``, left out: the summaries use the finite trials and ``excluded`` says how many
    were dropped (the result then describes the output conditional on the model being defined).

    Fixed procedure: ``trials`` trials (default 10⁶). Adaptive procedure (§7.9.4): blocks of
    M = max(⌈100/(1−p)⌉, 10⁴) trials until twice the standard deviation of the h block values of y, u
    and the two ends of the ``interval`` is at most δ, where δ comes from u and ``ndig`` (§7.9.2) unless
    ``tolerance`` gives it (JCGM 101 §8.2 asks for δ/5 when validating the GUM); ``trials`` is then the
    cap (default 10⁷), and ``converged`` says whether it stabilised before it.
    """
    _check(p, block, trials, ndig)
    if interval not in ("symmetric", "shortest"):
        raise InvalidInput(
            f"区间类型无效 / interval must be symmetric or shortest, got {interval!r}", field="interval"
        )
    if tolerance is not None and not (math.isfinite(tolerance) and tolerance > 0):
        raise InvalidInput(f"容差必须为正 / tolerance must be positive, got {tolerance!r}", field="tolerance")
    sampler = _Sampler(inputs, seed)
    if not adaptive:
        m = DEFAULT_TRIALS if trials is None else trials
        values = np.empty(m)
        _fill(fn, sampler, values, 0, m, block, nonfinite)
        values, excluded = _finite(values)
        return _summarise(
            values,
            p,
            excluded=excluded,
            seed=sampler.seed,
            adaptive=False,
            converged=True,
            tolerance=None,
            blocks=1,
            block_size=m,
            keep_values=keep_values,
            bins=bins,
        )

    m = max(math.ceil(100 / (1 - p) - 1e-9), 10_000)
    cap = DEFAULT_ADAPTIVE_CAP if trials is None else trials
    if cap < 2 * m:
        raise InvalidInput(
            f"自适应程序至少需要 {2 * m} 次试验 / the adaptive procedure needs a cap of at least {2 * m} trials",
            field="trials",
        )
    values = np.empty(cap)  # pages are touched only as trials are written
    stats: list[tuple[float, float, float, float]] = []
    h, converged, delta = 0, False, 0.0
    while (h + 1) * m <= cap:
        _fill(fn, sampler, values, h * m, (h + 1) * m, block, nonfinite)
        chunk = np.sort(_finite(values[h * m : (h + 1) * m])[0])
        ends = coverage_intervals(chunk, p)[0 if interval == "symmetric" else 1]
        stats.append((float(np.mean(chunk)), float(np.std(chunk, ddof=1)), ends[0], ends[1]))
        h += 1
        if h < 2:
            continue
        table = np.asarray(stats)
        spread = 2 * np.std(table, axis=0, ddof=1) / math.sqrt(h)  # 2 s of each of y, u, y_low, y_high
        u_all = float(np.std(_finite(values[: h * m])[0], ddof=1))
        delta = tolerance if tolerance is not None else numerical_tolerance(u_all, ndig)
        if np.all(spread <= delta):
            converged = True
            break
    kept, excluded = _finite(values[: h * m])
    return _summarise(
        kept,
        p,
        excluded=excluded,
        seed=sampler.seed,
        adaptive=True,
        converged=converged,
        tolerance=delta,
        blocks=h,
        block_size=m,
        keep_values=keep_values,
        bins=bins,
    )


def propagate_outputs(
    fn: Model,
    inputs: Mapping[str, Distribution],
    names: Sequence[str],
    *,
    trials: int | None = None,
    p: float = 0.95,
    seed: int | None = None,
    block: int = 100_000,
    keep_values: bool = False,
    bins: int = HISTOGRAM_BINS,
    nonfinite: NonFinite = "refuse",
) -> MultiMonteCarloResult:
    """Several output quantities of one model from one input sample (JCGM 102 §7 style), fixed trials.

    ``fn`` returns a sequence of one array per output, in ``names`` order, or a mapping keyed by ``names``. The result has
    the estimates, their covariance matrix (from the same trials, so outputs sharing inputs are
    correlated) and each output's own summary with its coverage intervals.
    """
    _check(p, block, trials, 2)
    names = tuple(names)
    if not names or len(set(names)) != len(names):
        raise InvalidInput(
            "输出量名称必须非空且不重复 / output names must be non-empty and unique", field="names"
        )
    sampler = _Sampler(inputs, seed)
    m = DEFAULT_TRIALS if trials is None else trials
    k = len(names)
    values = np.empty((k, m))
    start = 0
    while start < m:
        n = min(block, m - start)
        values[:, start : start + n] = _evaluate(fn, sampler.draw(n), n, names, nonfinite)
        start += n
    keep = np.all(np.isfinite(values), axis=0)
    excluded = int(m - np.count_nonzero(keep))
    if excluded:  # a trial is dropped for every output when one of them is not finite there
        values = values[:, keep]
        if values.shape[1] < 2:
            raise InvalidInput(
                f"有限值试验不足 / only {values.shape[1]} of {m} trials were finite", field="model"
            )
        m = values.shape[1]
    y = values.mean(axis=1)
    covariance = np.atleast_2d(np.cov(values, ddof=1))
    outputs = {
        name: _summarise(
            values[i],
            p,
            seed=sampler.seed,
            adaptive=False,
            converged=True,
            tolerance=None,
            blocks=1,
            block_size=m,
            keep_values=keep_values,
            bins=bins,
            excluded=excluded,
        )
        for i, name in enumerate(names)
    }
    return MultiMonteCarloResult(names, y, covariance, outputs, m, sampler.seed)


def validate_gum(
    gum_y: float,
    gum_u: float,
    gum_interval: tuple[float, float],
    mc_result: MonteCarloResult,
    ndig: int,
    *,
    interval: IntervalKind = "symmetric",
) -> ValidationReport:
    """JCGM 101 §8.1: validate the GUM uncertainty framework against Monte Carlo.

    δ is the numerical tolerance of the GUM u(y) with ``ndig`` digits (§7.9.2); d_low = |y − U_p − y_low|
    and d_high = |y + U_p − y_high| compare the GUM interval ends with the Monte Carlo ones (the
    probabilistically symmetric interval by default). The GUM result is validated when both are ≤ δ.
    For a sound comparison the Monte Carlo run should itself be stable to δ/5 (§8.2):
    ``propagate(..., adaptive=True, tolerance=numerical_tolerance(gum_u, ndig) / 5)``.
    """
    low, high = (float(gum_interval[0]), float(gum_interval[1]))
    if not (math.isfinite(low) and math.isfinite(high) and low <= high):
        raise InvalidInput(
            f"GUM 区间无效 / the GUM interval must be finite with low ≤ high, got {gum_interval!r}",
            field="gum_interval",
        )
    delta = numerical_tolerance(gum_u, ndig)
    mc_low, mc_high = mc_result.interval(interval)
    d_low, d_high = abs(low - mc_low), abs(high - mc_high)
    return ValidationReport(
        delta=delta,
        d_low=d_low,
        d_high=d_high,
        passed=bool(d_low <= delta and d_high <= delta),
        ndig=ndig,
        gum_y=float(gum_y),
        gum_u=float(gum_u),
        gum_interval=(low, high),
        mc_interval=(mc_low, mc_high),
        interval=interval,
    )
