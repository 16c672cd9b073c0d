"""State evaluation of smart meters (状态评价): per batch (model, manufacturer, year), from on-site sampled
checks and remote data, decide whether the batch keeps running, is sampled more, or is replaced — with the
evidence for the decision. Pure: numbers in, numbers out.

The statistical model (docs/telemetry.md "State evaluation"):

- **Failure fraction now** — meters found failed (out of tolerance on-site, or a critical drift /
  out-of-tolerance condition remotely confirmed) among those checked: an exact binomial proportion with
  Clopper–Pearson bounds (``clopper_pearson``).
- **Failure over time** — a two-parameter Weibull distribution of time to failure, fitted by maximum
  likelihood with right censoring (meters still good count up to their last check): ``weibull_mle``;
  Wald bounds on the fraction failed by a horizon from the observed information matrix, computed on
  ``u = β (ln t − ln η)`` so they stay inside (0, 1).
- **Acceptance sampling** — a single sampling plan (n, c): sample n meters, accept the batch with at most c
  failed. Its operating characteristic ``Pa(p) = P[X ≤ c]``, X ~ Binomial(n, p) (``oc``); ``design_plan``
  finds the smallest n (and its c) with ``Pa(AQL) ≥ 1 − α`` and ``Pa(LTPD) ≤ β``.
- **Decision** — ``replace`` when the lower bound of the failure fraction (now, or predicted at the
  horizon) is above ``replace_limit``, or the plan rejects; ``keep`` when the plan accepts and the upper
  bounds are below ``keep_limit``; otherwise ``sample_more``, with the sample that would settle it.

The limits are parameters, not rules read from a regulation: the thresholds of the grid companies' state
evaluation schemes could not be read for this work, so ``DecisionLimits`` defaults are provisional.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from scipy import optimize, stats  # type: ignore[import-untyped]

from jiliang.errors import InvalidInput


@dataclass(frozen=True)
class BatchKey:
    model: str
    manufacturer: str
    year: int


def clopper_pearson(failed: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Exact two-sided bounds on a binomial proportion (Clopper & Pearson 1934)."""
    if n <= 0 or not 0 <= failed <= n:
        raise InvalidInput("样本数须为正且不小于失效数 / need n > 0 and 0 <= failed <= n", field="n")
    if not 0 < confidence < 1:
        raise InvalidInput("置信水平须在 0 与 1 之间 / confidence must be in (0, 1)", field="confidence")
    a = 1 - confidence
    lower = 0.0 if failed == 0 else float(stats.beta.ppf(a / 2, failed, n - failed + 1))
    upper = 1.0 if failed == n else float(stats.beta.ppf(1 - a / 2, failed + 1, n - failed))
    return lower, upper


@dataclass(frozen=True)
class WeibullFit:
    shape: float  # beta
    scale: float  # eta, in the unit of the times (years)
    n: int
    failures: int
    log_likelihood: float
    covariance: tuple[tuple[float, float], tuple[float, float]]  # of (ln beta, ln eta)

    def cdf(self, t: float) -> float:
        return 1.0 - math.exp(-((t / self.scale) ** self.shape))

    def cdf_bounds(self, t: float, confidence: float = 0.95) -> tuple[float, float]:
        """Wald bounds on F(t) through u = beta (ln t - ln eta) (delta method on (ln beta, ln eta))."""
        b, lt, le = self.shape, math.log(t), math.log(self.scale)
        u = b * (lt - le)
        grad = (u, -b)  # du/d ln(beta), du/d ln(eta)
        (v11, v12), (_, v22) = self.covariance
        var = grad[0] ** 2 * v11 + 2 * grad[0] * grad[1] * v12 + grad[1] ** 2 * v22
        z = float(stats.norm.ppf(0.5 + confidence / 2))
        half = z * math.sqrt(max(var, 0.0))
        return 1 - math.exp(-math.exp(u - half)), 1 - math.exp(-math.exp(u + half))


def _loglik(log_b: float, log_e: float, times: Sequence[float], failed: Sequence[bool]) -> float:
    b, e = math.exp(log_b), math.exp(log_e)
    ll = 0.0
    for t, f in zip(times, failed, strict=True):
        z = t / e
        if f:
            ll += math.log(b / e) + (b - 1) * math.log(z)
        ll -= z**b
    return ll


def weibull_mle(times: Sequence[float], failed: Sequence[bool]) -> WeibullFit:
    """Maximum-likelihood Weibull fit with right censoring: ``times`` are ages at failure (``failed``) or
    at the last check that found the meter good. Needs at least two failures at distinct times."""
    if len(times) != len(failed) or not times:
        raise InvalidInput("时间与失效标记须一一对应 / times and failed must pair up", field="times")
    if any(not (t > 0 and math.isfinite(t)) for t in times):
        raise InvalidInput("时间须为正数 / times must be positive", field="times")
    ft = [math.log(t) for t, f in zip(times, failed, strict=True) if f]
    r = len(ft)
    if r < 2 or len(set(ft)) < 2:
        raise InvalidInput("至少需要两个不同时间的失效 / need two failures at distinct times", field="failed")
    logs = [math.log(t) for t in times]
    mean_f = sum(ft) / r

    def score(b: float) -> float:  # d/d(beta) of the profile log-likelihood, up to a positive factor
        w = [math.exp(b * (x - max(logs))) for x in logs]
        return sum(wi * x for wi, x in zip(w, logs, strict=True)) / sum(w) - 1 / b - mean_f

    lo, hi = 0.01, 1.0
    while score(hi) < 0:
        hi *= 2
        if hi > 1e3:
            raise InvalidInput("形状参数不收敛 / the shape does not converge", field="times")
    b = float(optimize.brentq(score, lo, hi, xtol=1e-12))
    e = (sum(t**b for t in times) / r) ** (1 / b)
    lb, le = math.log(b), math.log(e)
    # observed information by central differences of the log-likelihood in (ln beta, ln eta)
    h = 1e-4

    def f(x: float, y: float) -> float:
        return _loglik(x, y, times, failed)

    f0 = f(lb, le)
    d11 = (f(lb + h, le) - 2 * f0 + f(lb - h, le)) / h**2
    d22 = (f(lb, le + h) - 2 * f0 + f(lb, le - h)) / h**2
    d12 = (f(lb + h, le + h) - f(lb + h, le - h) - f(lb - h, le + h) + f(lb - h, le - h)) / (4 * h**2)
    det = d11 * d22 - d12 * d12
    cov = ((-d22 / det, d12 / det), (d12 / det, -d11 / det))
    return WeibullFit(b, e, len(times), r, f0, cov)


def oc(n: int, c: int, p: float) -> float:
    """Operating characteristic of the single sampling plan (n, c): probability of accepting a batch whose
    failure fraction is p."""
    return float(stats.binom.cdf(c, n, p))


@dataclass(frozen=True)
class Plan:
    n: int
    c: int
    aql: float
    ltpd: float
    producer_risk: float  # 1 - Pa(AQL)
    consumer_risk: float  # Pa(LTPD)

    def curve(self, points: Sequence[float]) -> list[tuple[float, float]]:
        return [(p, oc(self.n, self.c, p)) for p in points]


def design_plan(aql: float, ltpd: float, alpha: float = 0.05, beta: float = 0.10, max_n: int = 5000) -> Plan:
    """The smallest single sampling plan with Pa(AQL) >= 1 - alpha and Pa(LTPD) <= beta."""
    if not 0 < aql < ltpd < 1:
        raise InvalidInput("须 0 < AQL < LTPD < 1 / need 0 < AQL < LTPD < 1", field="ltpd")
    for n in range(1, max_n + 1):
        # the largest c that still protects the consumer; accept the plan if it also protects the producer
        c = int(stats.binom.ppf(beta, n, ltpd))
        while c >= 0 and oc(n, c, ltpd) > beta:
            c -= 1
        if c >= 0 and oc(n, c, aql) >= 1 - alpha:
            return Plan(n, c, aql, ltpd, 1 - oc(n, c, aql), oc(n, c, ltpd))
    raise InvalidInput(f"{max_n} 以内无满足的方案 / no plan within n <= {max_n}", field="ltpd")


@dataclass(frozen=True)
class DecisionLimits:
    keep_limit: float = 0.02  # upper bounds below 2 % failed: keep running (provisional)
    replace_limit: float = 0.05  # lower bound above 5 % failed: replace the batch (provisional)
    confidence: float = 0.95
    horizon_years: float = 8.0  # predict the failure fraction at this age (the next decision point)


@dataclass
class Decision:
    batch: BatchKey
    decision: str  # "keep" | "sample_more" | "replace"
    reasons: list[str]
    evidence: dict[str, Any] = field(default_factory=dict)


def decide(
    batch: BatchKey,
    sample_n: int,
    sample_failed: int,
    plan: Plan,
    fit: WeibullFit | None = None,
    limits: DecisionLimits = DecisionLimits(),
) -> Decision:
    """Keep, sample more or replace, from the on-site sample against the plan and (optionally) the
    Weibull prediction at the horizon; every number used is in the evidence."""
    lo, hi = clopper_pearson(sample_failed, sample_n, limits.confidence)
    accepted = sample_n >= plan.n and sample_failed <= plan.c
    ev: dict[str, Any] = {
        "sample_n": sample_n,
        "sample_failed": sample_failed,
        "failure_fraction": sample_failed / sample_n,
        "bounds": [lo, hi],
        "confidence": limits.confidence,
        "plan": {"n": plan.n, "c": plan.c, "aql": plan.aql, "ltpd": plan.ltpd},
        "plan_accepts": accepted,
        "limits": {"keep": limits.keep_limit, "replace": limits.replace_limit},
    }
    reasons: list[str] = []
    p_lo, p_hi = lo, hi
    if fit is not None:
        f_lo, f_hi = fit.cdf_bounds(limits.horizon_years, limits.confidence)
        ev["weibull"] = {
            "shape": fit.shape,
            "scale_years": fit.scale,
            "failures": fit.failures,
            "n": fit.n,
            "horizon_years": limits.horizon_years,
            "predicted": fit.cdf(limits.horizon_years),
            "predicted_bounds": [f_lo, f_hi],
        }
        p_lo, p_hi = max(lo, f_lo), max(hi, f_hi)
    if p_lo > limits.replace_limit:
        reasons.append(f"lower bound {p_lo:.4f} above the replacement limit {limits.replace_limit}")
    if sample_n >= plan.n and sample_failed > plan.c:
        reasons.append(f"the plan (n={plan.n}, c={plan.c}) rejects: {sample_failed} failed")
    if reasons:
        return Decision(batch, "replace", reasons, ev)
    if accepted and p_hi < limits.keep_limit:
        return Decision(batch, "keep", [f"plan accepts and upper bound {p_hi:.4f} < {limits.keep_limit}"], ev)
    # not settled: the sample that would settle it if the observed fraction held
    p = max(sample_failed / sample_n, 1e-6)
    more = plan.n - sample_n if sample_n < plan.n else 0
    if sample_n >= plan.n:
        n2 = sample_n
        while n2 < 100_000 and clopper_pearson(round(p * n2), n2, limits.confidence)[1] >= limits.keep_limit:
            n2 = int(n2 * 1.5) + 1
            if clopper_pearson(round(p * n2), n2, limits.confidence)[0] > limits.replace_limit:
                break
        more = n2 - sample_n
    ev["additional_sample"] = more
    return Decision(
        batch,
        "sample_more",
        [f"bounds [{p_lo:.4f}, {p_hi:.4f}] straddle the limits; sample {more} more meters"],
        ev,
    )
