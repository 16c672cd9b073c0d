"""Model files that carry their data: raw observations (Type A), paired observations whose correlation is
estimated, a calibration line fitted from a data table and a one-way ANOVA, each reproducing the JCGM 100:2008
worked example it was written for (the shipped files in src/jiliang/data/models/).

Published figures: H.2 Table H.4 (from the five sets of Table H.2); H.3.3–H.3.4 (from the eleven readings
of Table H.6); H.5 Table H.9 and equation (H.27) (grand mean 10.000 097 V, s(V̄_k) = 57 µV, s_W = 85 µV,
F = 2.25; the grand mean, 57 µV, 85 µV and F are also what sandialabs/suncal's test_anovameans checks
against the GUM). H.5's u = s(V̄_k)/√10 = 18 µV with ν = 9 and the between-day component s_B = 43 µV follow
from those figures by the GUM's formulas (H.5.2.2, H.5.3.1).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]
from typer.testing import CliRunner

from jiliang.cli import app
from jiliang.errors import InvalidInput
from jiliang.metrology import modelfile, observations
from jiliang.services import uncertainty

EXAMPLES = Path(__file__).parents[1] / "src" / "jiliang" / "data" / "models"
runner = CliRunner()


def example(name: str) -> dict[str, Any]:
    return uncertainty.evaluate_path(EXAMPLES / f"{name}.yaml")


def test_jcgm100_h2_from_raw_observations() -> None:
    answer = example("gum_h2_observations")
    outs = {o["name"]: o for o in answer["outputs"]}
    assert [f"{outs[n]['value']:.3f}" for n in "RXZ"] == ["127.732", "219.847", "254.260"]
    assert [f"{outs[n]['u']:.3f}" for n in "RXZ"] == [
        "0.071",
        "0.296",
        "0.236",
    ]  # X: 0.2956, H.2.3 approach 1
    r = answer["correlation"]
    assert [f"{r[0][1]:.3f}", f"{r[0][2]:.3f}", f"{r[1][2]:.3f}"] == ["-0.588", "-0.485", "0.993"]
    ev = answer["evaluations"]
    assert ev["V"]["kind"] == "type_a" and ev["V"]["n"] == 5 and ev["V"]["dof"] == 4
    assert f"{ev['V']['mean']:.4f}" == "4.9990" and f"{ev['V']['u']:.4f}" == "0.0032"  # Table H.2: 0.0032 V
    assert f"{ev['I']['u']:.4f}" == "0.0095" and f"{ev['phi']['u']:.5f}" == "0.00075"
    # the same as the summary file whose means, u and r were computed by hand from Table H.2
    summary = {o["name"]: o for o in example("gum_h2")["outputs"]}
    for n in "RXZ":
        assert outs[n]["u"] == pytest.approx(summary[n]["u"], rel=1e-4)


def test_paired_correlation_is_equation_14() -> None:
    """r(q̄, w̄) = s(q̄, w̄)/(s(q̄) s(w̄)) with s(q̄, w̄) = Σ(q_k − q̄)(w_k − w̄)/(n(n − 1)): Table H.2's -0.36."""
    doc = yaml.safe_load((EXAMPLES / "gum_h2_observations.yaml").read_text(encoding="utf-8"))
    cols = doc["tables"]["h2"]
    assert f"{observations.correlation(cols['V'], cols['I']):.2f}" == "-0.36"
    assert f"{observations.correlation(cols['V'], cols['phi']):.2f}" == "0.86"
    assert f"{observations.correlation(cols['I'], cols['phi']):.2f}" == "-0.65"


def test_jcgm100_h3_from_its_data_table() -> None:
    answer = example("gum_h3_table")
    b = answer["outputs"][0]
    assert b["reported"]["value"] == "-0.1494" and b["reported"]["u"] == "0.0041"  # H.3.4
    assert b["dof"] == pytest.approx(9.0)
    fit = answer["evaluations"]["y1"]
    assert f"{fit['intercept']:.4f}" == "-0.1712" and f"{fit['u_intercept']:.4f}" == "0.0029"
    assert f"{fit['slope']:.5f}" == "0.00218" and f"{fit['u_slope']:.5f}" == "0.00067"
    assert f"{fit['r']:.3f}" == "-0.930" and f"{fit['s']:.4f}" == "0.0035" and fit["dof"] == 9
    assert answer["evaluations"]["y2"]["parameter"] == "slope"


def test_jcgm100_h5_one_way_anova() -> None:
    answer = example("gum_h5_anova")
    out = answer["outputs"][0]
    assert out["reported"]["value"] == "10.000097"  # Table H.9: 10.000 097 V
    assert round(out["u"] * 1e6) == 18 and out["dof"] == pytest.approx(9)  # s(V̄_k)/√10 = 18 µV, ν = 9
    a = answer["evaluations"]["V"]
    assert round(a["s_means"] * 1e6) == 57  # s(V̄_k) = 57 µV
    assert round(a["s_within"] * 1e6) == 85  # s_W = 85 µV, ν = 40
    assert a["dof_within"] == 40 and a["groups"] == 10 and a["per_group"] == 5
    assert a["F"] == pytest.approx(2.25, abs=0.02)  # (H.27)
    assert round(a["s_between"] * 1e6) == 43  # s_B = √(s²(V̄_k) − s_W²/J)
    assert a["F"] > a["F_critical"]  # F_0.95(9, 40) = 2.12: a between-day component is present


def test_anova_from_raw_groups_equals_the_summary_form() -> None:
    groups = [[1.0, 1.2, 0.9], [1.4, 1.3, 1.5], [0.8, 1.0, 1.1], [1.2, 1.1, 1.3]]
    raw = observations.anova(groups=groups)
    means = [sum(g) / 3 for g in groups]
    sds = [observations.type_a(g).s for g in groups]
    summary = observations.anova(means=means, sds=sds, n=3)
    assert raw.f == pytest.approx(summary.f) and raw.u == pytest.approx(summary.u)
    # by hand: SS_B = J Σ(x̄_k − x̄)², SS_W = Σ Σ(x_jk − x̄_k)²
    grand = sum(means) / 4
    ss_b = 3 * sum((m - grand) ** 2 for m in means)
    ss_w = sum((x - m) ** 2 for g, m in zip(groups, means, strict=True) for x in g)
    assert raw.ms_between == pytest.approx(ss_b / 3) and raw.ms_within == pytest.approx(ss_w / 8)


def test_type_a_of_an_observation_list() -> None:
    mf = modelfile.from_document(
        {"model": "y = x", "inputs": {"x": {"observations": [10.1, 10.3, 9.9, 10.0, 10.2], "unit": "mm"}}}
    )
    x = mf.inputs[0]
    assert x.estimate == pytest.approx(10.1) and x.dof == 4
    assert x.u == pytest.approx(0.15811388300841897 / 5**0.5)  # s = 0.158 mm, u = s/√5


@pytest.mark.parametrize(
    "inputs, tables, field",
    [
        ({"x": {"observations": [1.0]}}, None, "inputs.x.observations"),
        ({"x": {"observations": [1.0, "a"]}}, None, "inputs.x.observations[1]"),
        ({"x": {"observations": [1.0, 2.0], "u": 0.1}}, None, "inputs.x.u"),
        ({"x": {"observations": [1.0, 2.0], "estimate": 1}}, None, "inputs.x.estimate"),
        ({"x": {"observations": "t.nope"}}, {"t": {"a": [1.0, 2.0]}}, "inputs.x.observations"),
        ({"x": {"observations": "nope.a"}}, {"t": {"a": [1.0, 2.0]}}, "inputs.x.observations"),
        ({"x": {"observations": "t.a"}}, {"t": {"a": [1.0, 2.0], "b": [1.0]}}, "tables.t"),
        ({"x": {"anova": {"means": [1.0, 2.0], "sds": [0.1], "n": 3}}}, None, "inputs.x.anova.sds"),
        ({"x": {"anova": {"groups": [[1.0, 2.0], [1.0, 2.0, 3.0]]}}}, None, "inputs.x.anova.groups"),
        (
            {"x": {"fit": {"table": "t", "x": "a", "y": "b", "parameter": "curvature"}}},
            None,
            "inputs.x.fit.parameter",
        ),
    ],
)
def test_bad_data_inputs_are_refused_naming_the_field(
    inputs: dict[str, Any], tables: dict[str, Any] | None, field: str
) -> None:
    doc: dict[str, Any] = {"model": "y = x", "inputs": inputs}
    if tables is not None:
        doc["tables"] = tables
    with pytest.raises(InvalidInput) as info:
        modelfile.from_document(doc)
    assert info.value.field == field


def test_cli_prints_how_each_input_was_evaluated() -> None:
    r = runner.invoke(
        app, ["uncertainty", "evaluate", str(EXAMPLES / "gum_h5_anova.yaml")], env={"COLUMNS": "200"}
    )
    assert r.exit_code == 0, r.output
    assert "10.000097" in r.output and "ANOVA" in r.output and "2.26" in r.output
    r = runner.invoke(app, ["uncertainty", "evaluate", str(EXAMPLES / "gum_h3_table.yaml"), "--json"])
    assert json.loads(r.stdout)["evaluations"]["y1"]["n"] == 11
