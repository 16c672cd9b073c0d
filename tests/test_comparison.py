"""Comparisons and proficiency testing: the engine (ISO 13528:2022, Cox 2002), the CSV service and the CLI.

No published data set with published results for Algorithm A or for a weighted-mean key comparison was
found in the reference corpora this work could reach (ISO 13528's annex examples are not reproduced in
them; metRology's algA example cites ISO 5725-5's creosote data without the published answer). The
engine is therefore checked against hand computation, the defining properties of each estimator, and
the published χ² quantiles of the NIST/SEMATECH e-Handbook of Statistical Methods, §1.3.6.7.4.
"""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import integrate, stats  # type: ignore[import-untyped]
from typer.testing import CliRunner

from jiliang.cli import app
from jiliang.errors import ImportRefused, InvalidInput
from jiliang.metrology import comparison as c
from jiliang.metrology.comparison import LabResult, Score, Verdict
from jiliang.services import comparisons

EXAMPLES = Path(__file__).resolve().parents[1] / "src" / "jiliang" / "data" / "comparisons"


def labs(values: list[float], U: float | None = None) -> list[LabResult]:
    return [LabResult(f"L{i}", v, U) for i, v in enumerate(values, 1)]


# -- Algorithm A (ISO 13528:2022 C.3.1) -------------------------------------------------------------


def test_algorithm_a_by_hand_when_nothing_is_winsorised() -> None:
    # median 3, MAD 1, s* = 1.483, δ = 2.2245: no value lies outside 3 ± δ, so the first pass gives the
    # mean and 1.134 × the sample SD, and the wider δ of later passes changes nothing.
    est = c.algorithm_a([1.0, 2.0, 3.0, 4.0, 5.0])
    assert est.mean == pytest.approx(3.0, abs=1e-12)
    assert est.sd == pytest.approx(1.134 * math.sqrt(10 / 4), rel=1e-9)


def test_algorithm_a_first_pass_by_hand() -> None:
    # median 4; |x − 4| = 3 2 1 0 1 2 96, median 2 → s* = 2.966, δ = 4.449; 100 is pulled in to 8.449.
    x = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 100.0]
    first = c.algorithm_a(x, max_iter=1, rtol=1.0)
    w = [1, 2, 3, 4, 5, 6, 4 + 1.5 * 2.966]
    mean = sum(w) / 7
    assert first.mean == pytest.approx(mean, rel=1e-12)
    assert first.sd == pytest.approx(1.134 * math.sqrt(sum((v - mean) ** 2 for v in w) / 6), rel=1e-12)


def test_algorithm_a_converges_to_its_fixed_point() -> None:
    x = np.array([24.140, 20.155, 19.500, 20.300, 20.705, 17.570, 20.100, 20.940, 21.185])
    est = c.algorithm_a(x)
    d = 1.5 * est.sd
    w = np.clip(x, est.mean - d, est.mean + d)
    assert w.mean() == pytest.approx(est.mean, rel=1e-9)
    assert 1.134 * w.std(ddof=1) == pytest.approx(est.sd, rel=1e-9)


def test_algorithm_a_ignores_how_far_an_outlier_lies() -> None:
    base = [9.8, 10.1, 10.0, 9.9, 10.2, 10.05, 9.95]
    a, b = c.algorithm_a([*base, 50.0]), c.algorithm_a([*base, 5.0e6])
    assert (a.mean, a.sd) == pytest.approx((b.mean, b.sd), rel=1e-12)


def test_algorithm_a_is_location_and_scale_equivariant() -> None:
    x = np.array([3.1, 2.9, 3.4, 3.0, 2.2, 3.3, 3.05, 4.9])
    e = c.algorithm_a(x)
    f = c.algorithm_a(-7.0 + (-2.5) * x)
    assert f.mean == pytest.approx(-7.0 - 2.5 * e.mean, rel=1e-9)
    assert f.sd == pytest.approx(2.5 * e.sd, rel=1e-9)


def test_algorithm_a_estimates_sigma_of_a_normal_sample() -> None:
    # 1.134 makes s* a consistent estimator of σ for normal data (ISO 13528:2022 C.3.1 NOTE).
    x = np.random.default_rng(13528).normal(100.0, 2.0, 20_000)
    est = c.algorithm_a(x)
    assert est.mean == pytest.approx(100.0, abs=0.05)
    assert est.sd == pytest.approx(2.0, rel=0.03)


def test_batch_matches_one_round_at_a_time() -> None:
    rounds = np.random.default_rng(4).standard_t(3, size=(200, 30))
    rounds[7, :16] = 1.0  # more than half identical: s* = 0, x* = the median
    mean, sd = c.algorithm_a_batch(rounds)
    for i in range(len(rounds)):
        one = c.algorithm_a(rounds[i])
        assert (mean[i], sd[i]) == pytest.approx((one.mean, one.sd), rel=1e-9, abs=1e-12)
    assert sd[7] == 0.0 and mean[7] == 1.0


def test_consensus_assigned_value_and_its_uncertainty() -> None:
    results = labs([10.1, 9.9, 10.0, 10.3, 9.8, 10.05, 10.2, 9.95, 12.0])
    assigned = c.assigned_by_consensus(results)
    assert assigned.robust is not None
    # ISO 13528:2022 (7.7.3): u(x_pt) = 1.25 s*/√p
    assert assigned.standard_uncertainty == pytest.approx(1.25 * assigned.robust.sd / 3.0, rel=1e-12)


# -- scores and action limits (ISO 13528:2022 clause 9) ---------------------------------------------


@pytest.mark.parametrize(
    "score, value, verdict",
    [
        (Score.Z, 2.0, Verdict.SATISFACTORY),
        (Score.Z, -2.0001, Verdict.QUESTIONABLE),
        (Score.Z_PRIME, 2.999, Verdict.QUESTIONABLE),
        (Score.ZETA, -3.0, Verdict.UNSATISFACTORY),
        (Score.EN, 1.0, Verdict.SATISFACTORY),
        (Score.EN, -1.0001, Verdict.UNSATISFACTORY),
    ],
)
def test_action_limits(score: Score, value: float, verdict: Verdict) -> None:
    assert c.verdict_for(score, value) is verdict


def test_scores_by_their_formulas() -> None:
    assert c.z_score(10.3, 10.0, 0.15) == pytest.approx(2.0)
    assert c.z_prime_score(10.3, 10.0, 0.12, 0.09) == pytest.approx(0.3 / 0.15)
    assert c.zeta_score(10.5, 0.3, 10.0, 0.4) == pytest.approx(1.0)
    assert c.en_number(10.5, 0.6, 10.0, 0.8) == pytest.approx(0.5)


def test_z_prime_is_chosen_when_u_of_the_assigned_value_is_not_negligible() -> None:
    results = labs([10.0, 10.2, 9.9], U=0.2)
    small = c.proficiency(results, c.assigned_by_reference(10.0, 0.03), sigma_pt=0.1)
    large = c.proficiency(results, c.assigned_by_reference(10.0, 0.031), sigma_pt=0.1)
    assert small.score is Score.Z and large.score is Score.Z_PRIME
    assert large.scores[1].primary == pytest.approx(0.2 / math.sqrt(0.1**2 + 0.031**2))
    assert any("z′" in n for n in large.notes)


def test_consensus_takes_sigma_pt_from_s_star_unless_given() -> None:
    results = labs([10.1, 9.9, 10.0, 10.3, 9.8, 10.05, 10.2, 9.95, 12.0], U=0.2)
    assigned = c.assigned_by_consensus(results)
    assert assigned.robust is not None
    pt = c.proficiency(results, assigned)
    assert pt.sigma_pt == assigned.robust.sd
    given = c.proficiency(results, assigned, sigma_pt=0.5, score=Score.Z)
    assert given.scores[-1].z == pytest.approx((12.0 - assigned.value) / 0.5)
    assert given.scores[-1].verdict is Verdict.UNSATISFACTORY


def test_identical_results_need_a_given_sigma_pt() -> None:
    results = labs([5.0, 5.0, 5.0, 5.1])
    assigned = c.assigned_by_consensus(results)
    assert assigned.value == 5.0 and assigned.standard_uncertainty == 0.0
    with pytest.raises(InvalidInput) as e:
        c.proficiency(results, assigned, score=Score.Z)
    assert e.value.field == "sigma_pt"
    assert c.proficiency(results, assigned, sigma_pt=0.05).scores[3].z == pytest.approx(2.0)


# -- key comparison, Cox (2002) Procedure A ---------------------------------------------------------


def test_weighted_mean_by_hand() -> None:
    results = [LabResult("A", 10.0, 0.2), LabResult("B", 10.1, 0.2), LabResult("C", 9.9, 0.4)]
    kc = c.key_comparison(results)
    y = (10.0 * 100 + 10.1 * 100 + 9.9 * 25) / 225
    assert kc.reference_value == pytest.approx(y, rel=1e-14)
    assert kc.standard_uncertainty == pytest.approx(1 / 15, rel=1e-12)
    chi2 = ((10.0 - y) ** 2 * 100) + ((10.1 - y) ** 2 * 100) + ((9.9 - y) ** 2 * 25)
    assert kc.chi2_observed == pytest.approx(chi2, rel=1e-12)
    # NIST/SEMATECH e-Handbook §1.3.6.7.4, upper critical value of χ², ν = 2, α = 0.05: 5.991
    assert round(kc.chi2_critical, 3) == 5.991 and kc.consistent
    # a result in the reference is correlated with it: u²(d) = u² − u²(y)  (Cox 2002 §6)
    a = kc.equivalences[0]
    assert a.d == pytest.approx(10.0 - y) and a.u_d == pytest.approx(math.sqrt(0.01 - 1 / 225))
    assert a.expanded_u_d == pytest.approx(2 * a.u_d) and a.en == pytest.approx(a.d / a.expanded_u_d)


def test_weighted_residuals_balance() -> None:
    # The weighted mean is the value that makes Σ (x_i − y)/u_i² vanish.
    kc = c.key_comparison(comparisons.read_results((EXAMPLES / "comparison_key.csv").read_bytes()))
    inside = [e for e in kc.equivalences if e.in_reference]
    assert sum(e.d / (e.result.uncertainty / e.result.k) ** 2 for e in inside) == pytest.approx(0.0, abs=1e-3)


def test_outlier_leaves_the_reference_until_the_check_passes() -> None:
    results = comparisons.read_results((EXAMPLES / "comparison_key.csv").read_bytes())
    kept = c.key_comparison(results, exclusion="none")
    # NIST/SEMATECH e-Handbook §1.3.6.7.4: χ²_0.95(6) = 12.592, χ²_0.95(5) = 11.070
    assert round(kept.chi2_critical, 3) == 12.592 and not kept.consistent
    for exclusion in c.Exclusion.LARGEST_CONSISTENT_SUBSET, c.Exclusion.LARGEST_EN:
        assert c.key_comparison(results, exclusion=exclusion).excluded == ["VNIIM"]
    kc = c.key_comparison(results)
    assert kc.excluded == ["VNIIM"] and kc.consistent and round(kc.chi2_critical, 3) == 11.070
    out = next(e for e in kc.equivalences if e.result.laboratory == "VNIIM")
    assert not out.in_reference and out.verdict is Verdict.UNSATISFACTORY
    # excluded: independent of the reference, u²(d) = u² + u²(y)
    assert out.u_d == pytest.approx(math.sqrt(0.000075**2 + kc.standard_uncertainty**2))


def test_exclusion_stops_at_the_floor() -> None:
    results = [
        LabResult("A", 0.0, 0.2),
        LabResult("B", 1.0, 0.2),
        LabResult("C", 2.0, 0.2),
        LabResult("D", 9.0, 0.2),
    ]
    # No three of them agree: the largest consistent subset sets nothing aside; one at a time stops at 3.
    kc = c.key_comparison(results, min_retained=3)
    assert kc.excluded == [] and not kc.consistent
    assert any("no subset of at least 3" in n for n in kc.notes)
    assert any("Procedure B" in n for n in kc.notes)
    greedy = c.key_comparison(results, min_retained=3, exclusion="largest-en")
    assert greedy.excluded == ["D"] and not greedy.consistent


def _passes(x: np.ndarray, u: np.ndarray) -> tuple[bool, float]:
    w = 1 / u**2
    y = np.sum(w * x) / np.sum(w)
    chi2 = float(np.sum(w * (x - y) ** 2))
    return chi2 <= stats.chi2.ppf(0.95, len(x) - 1), chi2


# Two labs agree with each other but not with four wide-uncertainty labs. Setting the largest |E_n| aside
# first removes three of the four; the largest consistent subset (Cox 2007) removes only the two.
SPLIT = [("A", 0.83, 1.89), ("B", 0.98, 1.76), ("C", 2.66, 0.34), ("D", 0.06, 1.15), ("E", 0.15, 1.46)]
SPLIT += [("F", 3.03, 0.53)]


def test_largest_consistent_subset_sets_aside_fewer_than_one_at_a_time() -> None:
    results = [LabResult(n, v, U) for n, v, U in SPLIT]
    kc = c.key_comparison(results)
    assert kc.excluded == ["C", "F"] and kc.consistent and kc.degrees_of_freedom == 3
    assert c.key_comparison(results, exclusion="largest-en").excluded == ["A", "D", "E"]
    # by brute force: no five pass, and of the fours that pass the chosen one has the smallest χ²
    x = np.array([v for _, v, _ in SPLIT])
    u = np.array([U / 2 for *_, U in SPLIT])
    assert not any(_passes(x[list(s)], u[list(s)])[0] for s in itertools.combinations(range(6), 5))
    fours = [_passes(x[list(s)], u[list(s)]) for s in itertools.combinations(range(6), 4)]
    assert kc.chi2_observed == pytest.approx(min(chi2 for ok, chi2 in fours if ok), rel=1e-12)


def test_largest_consistent_subset_ties_take_the_smallest_chi2() -> None:
    results = labs([0.0, 0.0, 0.0, 3.0, -2.9], U=2.0)  # u = 1; either extreme may go, -2.9 fits better
    kc = c.key_comparison(results)
    assert kc.excluded == ["L4"] and kc.consistent
    assert any("2 subsets of that size pass" in n for n in kc.notes)


def test_largest_consistent_subset_falls_back_past_its_budget() -> None:
    results = [LabResult(n, v, U) for n, v, U in SPLIT]
    kc = c.key_comparison(results, max_subsets=10)
    assert kc.excluded == ["A", "D", "E"] and any("too many results" in n for n in kc.notes)


# -- key comparison, Cox (2002) Procedure B ---------------------------------------------------------


def test_median_of_three_against_its_order_statistic() -> None:
    # The median of three N(0, 1) has density 6 φ(t) Φ(t) (1 − Φ(t)); its variance by quadrature.
    kc = c.key_comparison_median(labs([5.0, 5.0, 5.0], U=2.0), trials=400_000, seed=7)
    var, _ = integrate.quad(
        lambda t: t * t * 6 * stats.norm.pdf(t) * stats.norm.cdf(t) * stats.norm.sf(t), -9, 9
    )
    assert kc.reference_value == 5.0
    # the standard deviation of 400,000 draws has a relative standard error near 1/√(2·400,000) ≈ 0.11 %
    assert kc.standard_uncertainty == pytest.approx(math.sqrt(var), rel=0.005)
    assert all(e.in_reference and e.d == 0.0 for e in kc.equivalences)


def test_median_outlier_is_independent_of_the_reference() -> None:
    # An outlier that is always the largest draw does not move the median of five (the third smallest),
    # so D = X − Y has u²(D) = u² + u²(y) exactly, unlike a result inside a weighted mean.
    results = labs([10.0, 10.1, 9.9, 10.05, 20.0], U=0.2)
    kc = c.key_comparison_median(results, trials=200_000, seed=3)
    assert kc.reference_value == 10.05
    out = kc.equivalences[4]
    assert out.d == pytest.approx(9.95)
    assert out.u_d == pytest.approx(math.hypot(0.1, kc.standard_uncertainty), rel=0.01)
    low, high = out.interval or (0.0, 0.0)
    assert out.expanded_u_d == pytest.approx((high - low) / 2) and out.verdict is Verdict.UNSATISFACTORY
    assert kc.equivalences[0].verdict is Verdict.SATISFACTORY and kc.excluded == []


def test_median_is_reproducible_from_its_seed() -> None:
    results = [LabResult(n, v, U) for n, v, U in SPLIT]
    first = c.key_comparison_median(results, trials=5_000)
    again = c.key_comparison_median(results, trials=5_000, seed=first.seed)
    assert first.seed is not None and again.equivalences == first.equivalences
    assert again.standard_uncertainty == first.standard_uncertainty
    with pytest.raises(InvalidInput) as e:
        c.key_comparison_median(results, trials=10)
    assert e.value.field == "trials"


# -- bad input --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "results, field, named",
    [
        ([LabResult("A", 1.0, 0.1), LabResult("B", 1.1, 0.1)], "results", "3"),
        (
            [LabResult("A", 1.0, 0.1), LabResult("B", 1.1, 0.1), LabResult("A", 1.2, 0.1, row=4)],
            "laboratory",
            "row 4",
        ),
        ([LabResult("A", 1.0, 0.1), LabResult("B", math.nan, 0.1), LabResult("C", 1.2, 0.1)], "value", "'B'"),
        (
            [LabResult("A", 1.0, 0.1), LabResult("B", 1.1, -0.1), LabResult("C", 1.2, 0.1)],
            "uncertainty",
            "'B'",
        ),
        ([LabResult("A", 1.0, 0.1), LabResult("B", 1.1, 0.1, k=0), LabResult("C", 1.2, 0.1)], "k", "'B'"),
    ],
)
def test_bad_input_names_the_laboratory(results: list[LabResult], field: str, named: str) -> None:
    with pytest.raises(InvalidInput) as e:
        c.assigned_by_consensus(results)
    assert e.value.field == field and named in e.value.message


def test_weighted_mean_refuses_a_missing_or_zero_uncertainty() -> None:
    with pytest.raises(InvalidInput, match="'B'"):
        c.key_comparison([LabResult("A", 1.0, 0.1), LabResult("B", 1.0, 0.0)])
    with pytest.raises(InvalidInput, match="'A'"):
        c.key_comparison([LabResult("A", 1.0), LabResult("B", 1.0, 0.1)])


# -- the CSV service --------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_chinese_headers_in_each_encoding(encoding: str) -> None:
    text = "实验室,测量值,不确定度,包含因子\n甲,1.5,0.2,2\n乙,1.6,0.3,\n丙,1.4,,\n"
    results = comparisons.read_results(text.encode(encoding))
    assert [(r.laboratory, r.value, r.uncertainty, r.k, r.row) for r in results] == [
        ("甲", 1.5, 0.2, 2.0, 2),
        ("乙", 1.6, 0.3, 2.0, 3),
        ("丙", 1.4, None, 2.0, 4),
    ]


def test_every_bad_row_is_named() -> None:
    text = "laboratory;value;uncertainty;k\nA;1,5;0,2;2\nA;1.6;0.1;2\n;1;1;1\nC;inf;0.1;2\nD;1;-1;0\n"
    with pytest.raises(ImportRefused) as e:
        comparisons.read_results(text)
    assert [(p.row, p.field) for p in e.value.problems] == [
        (3, "laboratory"),
        (4, "laboratory"),
        (5, "value"),
        (6, "uncertainty"),
        (6, "k"),
    ]


def test_missing_columns_are_named() -> None:
    with pytest.raises(InvalidInput, match="value"):
        comparisons.read_results("laboratory,result_x\nA,1\n")


# -- the CLI on the example files a lab would write -------------------------------------------------

runner = CliRunner()


def test_cli_consensus_example_with_chart(tmp_path: Path) -> None:
    chart = tmp_path / "round.html"
    r = runner.invoke(
        app, ["comparison", "analyse", str(EXAMPLES / "comparison_pt_consensus.csv"), "--chart", str(chart)]
    )
    assert r.exit_code == 0, r.output
    assert "淮安市计量测试所" in r.output and "不满意" in r.output and "z'" in r.output
    page = chart.read_text(encoding="utf-8")
    assert page.count('class="point"') == 12 and page.count('class="errorbar"') == 12
    assert 'class="band"' in page and "http" not in page.replace("http://www.w3.org/2000/svg", "")


def test_cli_key_comparison_json() -> None:
    r = runner.invoke(
        app,
        [
            "comparison",
            "analyse",
            str(EXAMPLES / "comparison_key.csv"),
            "--method",
            "weighted-mean",
            "--json",
        ],
    )
    assert r.exit_code == 0, r.output
    body = json.loads(r.output)
    assert body["summary"]["excluded"] == ["VNIIM"] and body["summary"]["consistent"] is True


def test_cli_median_table_names_its_seed() -> None:
    key = str(EXAMPLES / "comparison_key.csv")
    r = runner.invoke(app, ["comparison", "analyse", key, "--method", "median", "--seed", "11"])
    assert r.exit_code == 0, r.output
    assert "median" in r.output and "seed 11" in r.output and "VNIIM" in r.output
    r = runner.invoke(app, ["comparison", "analyse", key, "--method", "median", "--seed", "11", "--json"])
    body = json.loads(r.output)
    assert body["summary"]["seed"] == 11 and body["summary"]["trials"] == c.MEDIAN_TRIALS
    assert all(row["d_low"] < row["d"] < row["d_high"] for row in body["results"])
    r = runner.invoke(app, ["comparison", "analyse", key, "--method", "median", "--trials", "5"])
    assert r.exit_code == 2 and "trials" in r.output


def test_cli_reference_example() -> None:
    args = ["--method", "reference", "--reference", "5.000", "--reference-u", "0.003", "--sigma-pt", "0.015"]
    r = runner.invoke(
        app, ["comparison", "analyse", str(EXAMPLES / "comparison_reference.csv"), *args, "--json"]
    )
    assert r.exit_code == 0, r.output
    verdicts = [row["verdict"] for row in json.loads(r.output)["results"]]
    assert verdicts == ["satisfactory", "satisfactory", "questionable", "satisfactory", "unsatisfactory"]


def test_cli_refusal_names_the_row(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("laboratory,value,uncertainty,k\nA,1,0.1,2\nB,x,0.1,2\nC,1.2,0.1,2\n", encoding="utf-8")
    r = runner.invoke(app, ["comparison", "analyse", str(bad)])
    assert r.exit_code == 2
    assert "row 3" in r.output and "value" in r.output
    r = runner.invoke(
        app, ["comparison", "analyse", str(EXAMPLES / "comparison_reference.csv"), "--method", "reference"]
    )
    assert r.exit_code == 2 and "reference" in r.output


def test_median_trials_shrink_to_fit_many_laboratories() -> None:
    many = labs([float(i % 7) for i in range(400)], U=1.0)
    kc = c.key_comparison_median(many, seed=1)
    assert kc.trials == c.MAX_MEDIAN_DRAWS // 400 < c.MEDIAN_TRIALS
    with pytest.raises(InvalidInput, match="at most 50,000 trials") as e:
        c.key_comparison_median(many, trials=c.MEDIAN_TRIALS)
    assert e.value.field == "trials"


# -- A reference value formed from a subset; the arithmetic mean ---------------------------------------

# Four laboratories; C and D are evaluated against a reference formed from A and B only (as when a key
# comparison's reference is taken from the primary-method results). u_i = U_i/2.
SUBSET = [
    LabResult("A", 10.0, 0.2),
    LabResult("B", 10.2, 0.2),
    LabResult("C", 10.1, 0.4, contributes=False),
    LabResult("D", 10.6, 0.2, contributes=False),
]


def _by_lab(result: c.KeyComparisonResult) -> dict[str, c.Equivalence]:
    return {e.result.laboratory: e for e in result.equivalences}


def test_subset_reference_weighted_mean_by_hand() -> None:
    """y = (10.0/0.01 + 10.2/0.01)/(2/0.01) = 10.1, u(y) = 0.01^½/√2 = 0.070 71; χ² = 2 < χ²_0.95(1) = 3.84.

    A (contributes): u²(d) = u² − u²(y) = 0.01 − 0.005 → U(d) = 0.1414, E_n = −0.1/0.1414 = −0.707.
    D (does not): u²(d) = u² + u²(y) = 0.015 → U(d) = 0.2449, E_n = 0.5/0.2449 = 2.04, unsatisfactory.
    C (does not): u²(d) = 0.04 + 0.005 → U(d) = 0.4243.
    """
    kc = c.key_comparison(SUBSET)
    assert kc.reference_value == pytest.approx(10.1) and kc.standard_uncertainty == pytest.approx(
        0.0707107, rel=1e-6
    )
    assert kc.chi2_observed == pytest.approx(2.0) and kc.degrees_of_freedom == 1 and kc.consistent
    e = _by_lab(kc)
    assert e["A"].expanded_u_d == pytest.approx(0.1414214, rel=1e-6) and e["A"].en == pytest.approx(
        -0.7071068
    )
    assert e["D"].expanded_u_d == pytest.approx(0.2449490, rel=1e-6) and e["D"].en == pytest.approx(2.0412415)
    assert e["C"].expanded_u_d == pytest.approx(0.4242641, rel=1e-6)
    assert e["D"].verdict is Verdict.UNSATISFACTORY and not e["D"].in_reference and e["A"].in_reference
    assert kc.excluded == []  # nothing was set aside by the χ² check: C and D never contributed
    assert any("do not contribute" in n for n in kc.notes)


def test_subset_reference_u_d_is_the_covariance_formula() -> None:
    """u²(d_i) = u_i² + aᵀVa − 2 a_i u_i² for y = aᵀx (a = 0 outside the subset): the general formula."""
    rng = np.random.default_rng(15)
    x = 10 + rng.normal(0, 0.1, 7)
    u = rng.uniform(0.05, 0.2, 7)
    flags = [True, False, True, True, False, True, False]
    results = [LabResult(f"L{i}", float(x[i]), float(2 * u[i]), contributes=f) for i, f in enumerate(flags)]
    w = np.where(flags, 1 / u**2, 0.0)
    for kc, a in (
        (c.key_comparison(results, exclusion="none"), w / w.sum()),
        (c.key_comparison_mean(results), np.where(flags, 1.0 / sum(flags), 0.0)),
    ):
        var_y = float(a @ np.diag(u**2) @ a)
        expected = np.sqrt(u**2 + var_y - 2 * a * u**2)
        assert [e.u_d for e in kc.equivalences] == pytest.approx(list(expected), rel=1e-10)
        assert kc.standard_uncertainty == pytest.approx(math.sqrt(var_y), rel=1e-10)


def test_arithmetic_mean_reference_from_stated_uncertainties_and_from_the_spread() -> None:
    stated = c.key_comparison_mean(SUBSET, uncertainty="stated")
    assert stated.reference_value == pytest.approx(10.1)
    assert stated.standard_uncertainty == pytest.approx(math.sqrt(0.01 + 0.01) / 2)  # √(Σu_i²)/n
    e = _by_lab(stated)
    assert e["A"].u_d == pytest.approx(math.sqrt(0.01 - 2 * 0.01 / 2 + 0.005))  # u² − 2u²/n + u²(y)
    assert e["D"].u_d == pytest.approx(math.sqrt(0.01 + 0.005))
    spread = c.key_comparison_mean(SUBSET, uncertainty="spread")
    assert spread.standard_uncertainty == pytest.approx(np.std([10.0, 10.2], ddof=1) / math.sqrt(2))  # = 0.1
    e = _by_lab(spread)
    assert e["A"].u_d == pytest.approx(0.1) and e["D"].u_d == pytest.approx(math.sqrt(0.02))
    with pytest.raises(InvalidInput) as info:
        c.key_comparison_mean(SUBSET, uncertainty="guess")
    assert info.value.field == "mean_u"


def test_median_of_the_subset_covaries_only_with_its_members() -> None:
    """Procedure B with a subset: D_i of a non-contributing result has u² ≈ u_i² + u²(y) (independent)."""
    kc = c.key_comparison_median(SUBSET, trials=200_000, seed=5)
    assert kc.reference_value == pytest.approx(10.1)  # median of A and B
    e = _by_lab(kc)
    assert e["D"].u_d == pytest.approx(math.sqrt(0.01 + kc.standard_uncertainty**2), rel=0.01)
    assert not e["C"].in_reference and e["B"].in_reference


def test_too_few_contributing_results_are_refused() -> None:
    few = [LabResult("A", 1.0, 0.1), *(LabResult(n, 1.0, 0.1, contributes=False) for n in "BCD")]
    for analyse in (c.key_comparison, c.key_comparison_mean):
        with pytest.raises(InvalidInput) as info:
            analyse(few)
        assert info.value.field == "contributes"


def test_csv_contributes_column_and_cli_subset_round() -> None:
    results = comparisons.read_results((EXAMPLES / "comparison_key_subset.csv").read_bytes())
    assert [r.contributes for r in results] == [True] * 4 + [False] * 3
    r = runner.invoke(
        app,
        [
            "comparison",
            "analyse",
            str(EXAMPLES / "comparison_key_subset.csv"),
            "--method",
            "weighted-mean",
            "--json",
        ],
    )
    assert r.exit_code == 0, r.output
    body = json.loads(r.output)
    assert body["summary"]["contributing"] == ["NIM", "PTB", "NPL", "NIST"]
    rows = {row["laboratory"]: row for row in body["results"]}
    assert rows["SCL"]["in_reference"] is False and rows["NIM"]["in_reference"] is True
    r = runner.invoke(
        app,
        [
            "comparison",
            "analyse",
            str(EXAMPLES / "comparison_key_subset.csv"),
            "--method",
            "mean",
            "--mean-u",
            "spread",
        ],
        env={"COLUMNS": "200"},
    )
    assert r.exit_code == 0, r.output
    assert "arithmetic mean of 4" in r.output and "spread" in r.output and "not in the reference" in r.output
    bad = "laboratory,value,uncertainty,contributes\nA,1,0.1,maybe\n"
    with pytest.raises(ImportRefused) as refused:
        comparisons.read_results(bad)
    assert refused.value.problems[0].field == "contributes"
