"""Input distributions of JCGM 101:2008 §6.4: closed-form expectation and standard uncertainty, sampling, specs.

Each closed form is the formula of the cited subsection; the sample mean and standard deviation of 10⁶
draws must agree with it to the §7.9.2 numerical tolerance δ of u with two significant digits.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from jiliang.errors import InvalidDistribution, InvalidInput
from jiliang.metrology.distributions import (
    Arcsine,
    CurvilinearTrapezoidal,
    Distribution,
    Exponential,
    Gamma,
    MultivariateNormal,
    Normal,
    Rectangular,
    ScalarDistribution,
    StudentT,
    Trapezoidal,
    Triangular,
    from_spec,
)
from jiliang.metrology.montecarlo import numerical_tolerance

N = 1_000_000

CASES: list[tuple[str, ScalarDistribution, float, float]] = [
    # (JCGM 101 subsection, distribution, expectation, standard uncertainty by that subsection's formula)
    ("6.4.7 Gaussian", Normal(10.0, 0.5), 10.0, 0.5),
    ("6.4.2 rectangular (b−a)/√12", Rectangular(1.0, 3.0), 2.0, 2.0 / math.sqrt(12)),
    ("6.4.5 triangular (b−a)/√24", Triangular(-1.0, 1.0), 0.0, 2.0 / math.sqrt(24)),
    ("6.4.4 trapezoidal (b−a)²(1+β²)/24", Trapezoidal(0.0, 4.0, beta=0.5), 2.0, math.sqrt(16 * 1.25 / 24)),
    (
        "6.4.3 curvilinear trapezoidal w²/3 + d²/9",
        CurvilinearTrapezoidal(-1.0, 1.0, d=0.3),
        0.0,
        math.sqrt(1 / 3 + 0.09 / 9),
    ),
    ("6.4.6 arcsine (b−a)/√8", Arcsine(-2.0, 2.0), 0.0, 4.0 / math.sqrt(8)),
    ("6.4.9 t, scale s: s√(ν/(ν−2))", StudentT(1.0, 0.2, 10), 1.0, 0.2 * math.sqrt(10 / 8)),
    ("6.4.10 exponential E = u = x", Exponential(3.0), 3.0, 3.0),
    ("6.4.11 gamma α/β, √α/β", Gamma(4.0, 2.0), 2.0, 1.0),
]


@pytest.mark.parametrize(("section", "dist", "expectation", "u"), CASES, ids=[c[0] for c in CASES])
def test_closed_forms_and_sampling(
    section: str, dist: ScalarDistribution, expectation: float, u: float
) -> None:
    assert dist.expectation == pytest.approx(expectation, rel=1e-12, abs=1e-15)
    assert dist.standard_uncertainty == pytest.approx(u, rel=1e-12)
    x = dist.sample(np.random.default_rng(101), N)
    delta = numerical_tolerance(u, 2)
    assert abs(x.mean() - expectation) <= delta
    assert abs(x.std(ddof=1) - u) <= delta


def test_interval_distributions_stay_inside_their_limits() -> None:
    rng = np.random.default_rng(1)
    for dist in (Rectangular(1, 2), Triangular(1, 2), Trapezoidal(1, 2, beta=0.3), Arcsine(1, 2)):
        x = dist.sample(rng, 10_000)
        assert x.min() >= 1 and x.max() <= 2
    x = CurvilinearTrapezoidal(1, 2, d=0.1).sample(rng, 10_000)
    assert x.min() >= 0.9 and x.max() <= 2.1


def test_student_t_conventions() -> None:
    """§6.4.9 gives t by scale s; the NIST Uncertainty Machine by standard deviation: both, same law."""
    by_scale = from_spec({"kind": "student_t", "mean": 0, "scale": 1.0, "dof": 5})
    by_sd = from_spec({"kind": "student_t", "mean": 0, "sd": 1.0, "dof": 5})
    by_u = from_spec({"kind": "student_t", "mean": 0, "u": 1.0, "dof": 5, "t_given_by": "standard_deviation"})
    assert isinstance(by_scale, StudentT) and isinstance(by_sd, StudentT) and isinstance(by_u, StudentT)
    assert by_scale.standard_uncertainty == pytest.approx(math.sqrt(5 / 3))
    assert by_sd.standard_uncertainty == pytest.approx(1.0)
    assert by_sd.scale == pytest.approx(math.sqrt(3 / 5))
    assert by_u == by_sd
    assert by_scale.dof == 5 and by_sd.dof == 5
    x = by_sd.sample(np.random.default_rng(9), N)
    assert abs(x.std(ddof=1) - 1.0) <= numerical_tolerance(1.0, 2)
    # ν ≤ 2: infinite variance; a standard deviation cannot be given
    assert math.isinf(StudentT(0, 1, 2).standard_uncertainty)
    with pytest.raises(InvalidDistribution) as info:
        from_spec({"kind": "t", "mean": 0, "sd": 1, "dof": 2})
    assert info.value.field == "dof"


def test_centre_and_half_width() -> None:
    a = from_spec({"kind": "rectangular", "centre": 5, "half_width": 0.5})
    b = from_spec({"kind": "uniform", "center": 5, "half_width": 0.5})
    assert a == b == Rectangular(4.5, 5.5)
    assert Rectangular.centred(5, 0.5) == a


def test_multivariate_normal() -> None:
    """§6.4.8: N(μ, V); V = D R D from uncertainties and correlations; samples have covariance V."""
    d = from_spec(
        {
            "kind": "multivariate_normal",
            "mean": [1, 2],
            "sd": [0.1, 0.2],
            "correlation": [[1, -0.5], [-0.5, 1]],
        }
    )
    assert isinstance(d, MultivariateNormal)
    np.testing.assert_allclose(d.cov, [[0.01, -0.01], [-0.01, 0.04]])
    np.testing.assert_allclose(d.standard_uncertainty, [0.1, 0.2])
    x = d.sample(np.random.default_rng(3), N)
    assert x.shape == (N, 2)
    np.testing.assert_allclose(np.cov(x.T), d.cov, atol=numerical_tolerance(0.01, 2))
    # singular (rank 1) but positive semi-definite: accepted, sampled on the line X2 = 2 X1
    s = MultivariateNormal(np.zeros(2), np.array([[1.0, 2.0], [2.0, 4.0]]))
    y = s.sample(np.random.default_rng(4), 1000)
    np.testing.assert_allclose(y[:, 1], 2 * y[:, 0], atol=1e-9)


def test_round_trip_through_spec() -> None:
    for dist in [c[1] for c in CASES] + [MultivariateNormal(np.array([0.0, 1.0]), np.eye(2))]:
        assert isinstance(dist, Distribution)
        assert from_spec(dist.to_spec()) == dist


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"kind": "lognormal", "mean": 1}, "kind"),
        ({"mean": 1}, "kind"),
        ({"kind": "normal", "mean": 1}, "sd"),
        ({"kind": "normal", "mean": 1, "sd": -0.1}, "sd"),
        ({"kind": "normal", "mean": "1", "sd": 0.1}, "mean"),
        ({"kind": "normal", "mean": True, "sd": 0.1}, "mean"),
        ({"kind": "normal", "mean": float("nan"), "sd": 0.1}, "mean"),
        ({"kind": "normal", "mean": 1, "sd": 0.1, "dof": 3}, "dof"),
        ({"kind": "rectangular", "lower": 2, "upper": 1}, "upper"),
        ({"kind": "rectangular", "lower": 0}, "upper"),
        ({"kind": "rectangular", "centre": 0, "half_width": 0}, "half_width"),
        ({"kind": "rectangular", "centre": 0, "half_width": 1, "lower": -1}, "centre"),
        ({"kind": "trapezoidal", "lower": 0, "upper": 1, "beta": 1.5}, "beta"),
        ({"kind": "curvilinear_trapezoidal", "lower": 0, "upper": 1, "d": 0.5}, "d"),
        ({"kind": "student_t", "mean": 0, "dof": 5}, "scale"),
        ({"kind": "student_t", "mean": 0, "scale": 1, "sd": 1, "dof": 5}, "scale"),
        ({"kind": "student_t", "mean": 0, "u": 1, "dof": 5, "t_given_by": "variance"}, "t_given_by"),
        (
            {"kind": "student_t", "mean": 0, "scale": 1, "dof": 5, "t_given_by": "standard_deviation"},
            "t_given_by",
        ),
        ({"kind": "student_t", "mean": 0, "scale": 1, "dof": 0}, "dof"),
        ({"kind": "exponential", "mean": -1}, "mean"),
        ({"kind": "gamma", "shape": 1}, "rate"),
        ({"kind": "multivariate_normal", "mean": [0, 0], "cov": [[1, 2], [2, 1]]}, "cov"),
        ({"kind": "multivariate_normal", "mean": [0, 0], "cov": [[1, 0.5], [0.4, 1]]}, "cov"),
        ({"kind": "multivariate_normal", "mean": [0, 0], "cov": [[1, 0, 0], [0, 1, 0], [0, 0, 1]]}, "cov"),
        (
            {
                "kind": "multivariate_normal",
                "mean": [0, 0, 0],
                "sd": [1, 1, 1],
                "correlation": [[1, 0.9, -0.9], [0.9, 1, 0.9], [-0.9, 0.9, 1]],
            },
            "correlation",
        ),
        ({"kind": "multivariate_normal", "mean": [0, 0], "sd": [1, -1]}, "sd"),
        ({"kind": "multivariate_normal", "mean": [0, 0, 0], "sd": [1, 1]}, "sd"),
    ],
)
def test_bad_specs_are_refused_naming_the_key(spec: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidDistribution) as info:
        from_spec(spec)
    assert info.value.field == field
    assert isinstance(info.value, InvalidInput)
    zh, en = info.value.message.split(" / ", 1)
    assert "分布" in zh and "invalid distribution" in en and field in en


def test_spec_must_be_a_mapping() -> None:
    with pytest.raises(InvalidDistribution):
        from_spec([("kind", "normal")])  # type: ignore[arg-type]
