"""State evaluation of smart meters: exact bounds, Weibull fit with censoring, sampling plan, decision —
against hand calculations and independent scipy computations."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from scipy import optimize, stats

from jiliang.errors import InvalidInput
from jiliang.telemetry.state_evaluation import (
    BatchKey,
    clopper_pearson,
    decide,
    design_plan,
    oc,
    weibull_mle,
)

BATCH = BatchKey("DDZY-71", "示例电表厂", 2018)


def test_clopper_pearson_against_hand_values() -> None:
    lo, hi = clopper_pearson(0, 10)
    assert lo == 0 and hi == pytest.approx(1 - 0.025 ** (1 / 10), rel=1e-9)  # closed form for k = 0
    lo, hi = clopper_pearson(3, 20)  # R: binom.test(3, 20)$conf.int
    assert (lo, hi) == (pytest.approx(0.03207094, abs=1e-7), pytest.approx(0.37892683, abs=1e-7))
    with pytest.raises(InvalidInput):
        clopper_pearson(5, 4)


def test_weibull_fit_without_censoring_matches_scipy() -> None:
    rng = np.random.default_rng(3)
    t = stats.weibull_min.rvs(2.2, scale=11.0, size=200, random_state=rng)
    fit = weibull_mle(list(t), [True] * len(t))
    c, _, scale = stats.weibull_min.fit(t, floc=0)
    assert fit.shape == pytest.approx(c, rel=1e-4) and fit.scale == pytest.approx(scale, rel=1e-4)


def test_weibull_fit_with_censoring_matches_a_direct_maximisation() -> None:
    rng = random.Random(5)
    times, failed = [], []
    for _ in range(400):  # meters checked at 6 years: those not failed by then are censored
        x = 14.0 * (-math.log(1 - rng.random())) ** (1 / 3.0)
        times.append(min(x, 6.0))
        failed.append(x < 6.0)
    fit = weibull_mle(times, failed)

    def nll(v: np.ndarray) -> float:
        b, e = math.exp(v[0]), math.exp(v[1])
        z = np.array(times) / e
        f = np.array(failed)
        return -float(np.sum(f * (np.log(b / e) + (b - 1) * np.log(z))) - np.sum(z**b))

    best = optimize.minimize(nll, x0=[0.0, 2.0], method="Nelder-Mead", options={"xatol": 1e-10, "fatol": 1e-12})
    assert fit.shape == pytest.approx(math.exp(best.x[0]), rel=1e-4)
    assert fit.scale == pytest.approx(math.exp(best.x[1]), rel=1e-4)
    assert 2.0 < fit.shape < 4.5 and 10 < fit.scale < 20  # the truth: 3 and 14
    lo, hi = fit.cdf_bounds(8.0)
    assert lo < fit.cdf(8.0) < hi and hi < 1


def test_the_operating_characteristic_and_the_smallest_plan() -> None:
    assert oc(50, 1, 0.02) == pytest.approx(0.98**50 + 50 * 0.02 * 0.98**49, rel=1e-12)
    plan = design_plan(0.01, 0.05, alpha=0.05, beta=0.10)
    assert oc(plan.n, plan.c, 0.01) >= 0.95 and oc(plan.n, plan.c, 0.05) <= 0.10
    for n in range(1, plan.n):  # no smaller sample does both, whatever its c
        cs = np.arange(n + 1)
        ok = (stats.binom.cdf(cs, n, 0.01) >= 0.95) & (stats.binom.cdf(cs, n, 0.05) <= 0.10)
        assert not ok.any(), n


def test_keep_sample_more_and_replace_with_evidence() -> None:
    plan = design_plan(0.01, 0.05)
    keep = decide(BATCH, 300, 0, plan)
    assert keep.decision == "keep" and keep.evidence["bounds"][1] < 0.02
    more = decide(BATCH, plan.n, 1, plan)
    assert more.decision == "sample_more" and more.evidence["additional_sample"] > 0
    replace = decide(BATCH, plan.n, plan.c + 6, plan)
    assert replace.decision == "replace" and any("rejects" in r for r in replace.reasons)
    # a Weibull prediction that the batch will be failing at the horizon replaces it even if the sample passes
    times = [1.0, 2.0, 3.0, 3.5, 4.0] + [4.0] * 20
    failed = [True] * 5 + [False] * 20
    worn = decide(BATCH, 300, 0, plan, weibull_mle(times, failed))
    assert worn.decision == "replace" and worn.evidence["weibull"]["predicted_bounds"][0] > 0.05
