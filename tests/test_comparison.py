"""Comparisons and proficiency testing: the engine (ISO 13528:2022, Cox 2002), the CSV service and the CLI.

No published data set with published results for Algorithm A or for a weighted-mean key comparison was
found in the reference corpora this work could reach (ISO 13528's annex examples are not reproduced in
them; metRology's algA example cites ISO 5725-5's creosote data without the published answer). The
engine is therefore checked against hand computation, the defining properties of each estimator, and
the published χ² quantiles of the NIST/SEMATECH e-Handbook of Statistical Methods, §1.3.6.7.4.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from jiliang.cli import app
from jiliang.errors import ImportRefused, InvalidInput
from jiliang.metrology import comparison as c
from jiliang.metrology.comparison import LabResult, Score, Verdict
from jiliang.services import comparisons

EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "examples"


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
    kept = c.key_comparison(results, exclude_outliers=False)
    # NIST/SEMATECH e-Handbook §1.3.6.7.4: χ²_0.95(6) = 12.592, χ²_0.95(5) = 11.070
    assert round(kept.chi2_critical, 3) == 12.592 and not kept.consistent
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
    kc = c.key_comparison(results, min_retained=3)
    assert kc.excluded == ["D"] and not kc.consistent
    assert any("Procedure B" in n for n in kc.notes)


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
