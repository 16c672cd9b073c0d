"""JCGM 101 Monte Carlo through the model file, the CLI and the API (the engine is in tests/test_montecarlo.py).

Published references: JCGM 101:2008 §9.2.2 (Table 2) and §9.2.3 (Table 3), the additive model with four
standard normal, respectively rectangular, inputs; results compared within the §7.9.2 numerical tolerance
δ of u(y) = 2.000 to two significant digits, δ = 0.05.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from jiliang.cli import app
from jiliang.errors import InvalidInput
from jiliang.metrology import distributions, modelfile, montecarlo
from jiliang.services import uncertainty

EXAMPLES = Path(__file__).parents[1] / "src" / "jiliang" / "data" / "models"
runner = CliRunner()
DELTA = montecarlo.numerical_tolerance(2.0, 2)  # §7.9.2: u = 2.0 to two digits → δ = 0.05


def load(name: str, **options: Any) -> dict[str, Any]:
    doc = dict(modelfile.parse_text((EXAMPLES / name).read_text(encoding="utf-8")))
    doc["options"] = {**doc.get("options", {}), **options}
    return doc


def additive(**options: Any) -> dict[str, Any]:
    return {
        "model": "Y = X1 + X2 + X3 + X4",
        "inputs": {f"X{i}": {"estimate": 0, "u": 1} for i in range(1, 5)},
        "options": {"method": "monte_carlo", "trials": 100_000, "seed": 7, **options},
    }


def test_gs1_9_2_2_normal_inputs_through_the_model_file() -> None:
    answer = uncertainty.evaluate_document(load("gs1_9_2_2.yaml"))
    mc = answer["monte_carlo"]
    out = mc["outputs"][0]
    assert mc["trials"] == 1_000_000 and mc["seed"] == 20081
    assert out["u"] == pytest.approx(2.000, abs=DELTA)
    assert out["interval"] == pytest.approx([-3.92, 3.92], abs=DELTA)
    assert sum(out["histogram"]["counts"]) == 1_000_000
    # GUM: the same model is linear in normal inputs, so its u and interval are exact: [-3.92, 3.92]
    assert answer["outputs"][0]["U"] == pytest.approx(3.92, abs=0.005)
    (check,) = answer["validation"]
    assert check["validated"] is True and check["delta"] == pytest.approx(0.05)
    assert max(check["d_low"], check["d_high"]) < 0.02


def test_gs1_9_2_3_rectangular_inputs_by_the_cli() -> None:
    r = runner.invoke(app, ["uncertainty", "evaluate", str(EXAMPLES / "gs1_9_2_3.yaml"), "--json"])
    assert r.exit_code == 0, r.output
    answer = json.loads(r.stdout)
    out = answer["monte_carlo"]["outputs"][0]
    assert out["u"] == pytest.approx(2.000, abs=DELTA)
    assert out["interval"] == pytest.approx([-3.88, 3.88], abs=DELTA)
    (check,) = answer["validation"]
    # the GUM's ±3.92 lies about 0.04 outside the Monte Carlo ends: within δ = 0.05 for two digits …
    assert 0.02 < check["d_low"] < DELTA and 0.02 < check["d_high"] < DELTA and check["validated"] is True
    # … but not to three digits (δ = 0.005)
    strict = uncertainty.evaluate_document(load("gs1_9_2_3.yaml", ndig=3, trials=100_000))
    assert strict["validation"][0]["validated"] is False and strict["validation"][0][
        "delta"
    ] == pytest.approx(0.005)
    r = runner.invoke(
        app,
        ["uncertainty", "evaluate", str(EXAMPLES / "gs1_9_2_3.yaml"), "--trials", "20000", "--seed", "3"],
        env={"COLUMNS": "200"},
    )
    assert r.exit_code == 0, r.output
    assert "20,000" in r.output and "seed 3" in r.output
    assert "蒙特卡洛" in r.output and "验证" in r.output and "d_low" in r.output
    assert r.output.index("通过") < r.output.index("validated")  # Chinese first


def test_gum_h1_with_method_both_is_not_validated() -> None:
    """JCGM 100 H.1: d1, d2, dθ etc. carry finite ν, so Monte Carlo draws them from t_ν(x, u²) (JCGM 101
    6.4.9.7); dθ has ν = 2 (infinite variance) and d1 ν = 5: the output distributions are far wider in
    the tails than the GUM's t-based intervals, and neither output is validated."""
    answer = uncertainty.evaluate_document(load("gum_h1.yaml", method="both", trials=200_000, seed=11))
    gum_u = {o["name"]: o["u"] for o in answer["outputs"]}
    mc = {o["name"]: o for o in answer["monte_carlo"]["outputs"]}
    checks = {v["output"]: v for v in answer["validation"]}
    assert set(checks) == {"d", "l"} and not checks["d"]["validated"] and not checks["l"]["validated"]
    assert checks["d"]["d_low"] > 1.0 > checks["d"]["delta"]  # nm
    assert mc["l"]["y"] == pytest.approx(50.000838, abs=2e-6)  # mm
    assert mc["l"]["u"] > gum_u["l"] and mc["d"]["u"] > gum_u["d"]
    for name in ("d", "l"):  # the Monte Carlo 99 % interval is the wider one at both ends
        (g_low, g_high), (m_low, m_high) = checks[name]["gum_interval"], checks[name]["mc_interval"]
        assert m_low < g_low and m_high > g_high
    assert len(answer["monte_carlo"]["correlation"]) == 2  # several outputs: one sample, covariance kept


def test_seed_reproduces_and_is_reported() -> None:
    a = uncertainty.evaluate_document(additive())["monte_carlo"]
    b = uncertainty.evaluate_document(additive())["monte_carlo"]
    c = uncertainty.evaluate_document(additive(seed=8))["monte_carlo"]
    assert a == b and a["outputs"][0]["y"] != c["outputs"][0]["y"]
    d = uncertainty.evaluate_document(additive(seed=None))["monte_carlo"]
    again = uncertainty.evaluate_document(additive(), seed=d["seed"])["monte_carlo"]
    assert again["outputs"] == d["outputs"]


def test_t_input_convention_scale_is_the_stated_u() -> None:
    """JCGM 101 6.4.9.7: x with u and ν becomes t_ν(x, u²), standard deviation u·√(ν/(ν−2))."""
    doc = {
        "model": "y = x",
        "inputs": {"x": {"estimate": 10.0, "u": 0.3, "dof": 5}},
        "options": {"method": "monte_carlo", "trials": 400_000, "seed": 2},
    }
    mf = modelfile.from_document(doc)
    dists, groups = modelfile.mc_distributions(mf)
    assert dists["x"] == distributions.StudentT(10.0, 0.3, 5.0) and groups == []
    out = modelfile.evaluate(mf)["monte_carlo"]["outputs"][0]
    assert out["u"] == pytest.approx(0.3 * math.sqrt(5 / 3), rel=0.02)
    t975 = 2.5706  # t_5 quantile for 97.5 %
    assert out["interval"] == pytest.approx([10 - t975 * 0.3, 10 + t975 * 0.3], abs=0.01)
    # the NIST Uncertainty Machine's reading: u is the t distribution's standard deviation
    sd = modelfile.from_document({**doc, "options": {**doc["options"], "t_inputs": "standard_deviation"}})
    assert modelfile.mc_distributions(sd)[0]["x"] == distributions.StudentT.from_standard_deviation(
        10.0, 0.3, 5.0
    )
    sd_out = modelfile.evaluate(sd)["monte_carlo"]["outputs"][0]
    assert sd_out["u"] == pytest.approx(0.3, rel=0.02)
    assert sd_out["interval"][1] - 10 == pytest.approx(t975 * 0.3 * math.sqrt(3 / 5), abs=0.01)
    # ν ignored: normal
    normal = modelfile.from_document({**doc, "options": {**doc["options"], "t_inputs": "normal"}})
    assert modelfile.mc_distributions(normal)[0]["x"] == distributions.Normal(10.0, 0.3)
    two = {**doc, "inputs": {"x": {"estimate": 1.0, "u": 0.3, "dof": 2}}}
    with pytest.raises(InvalidInput, match="dof > 2") as info:
        modelfile.evaluate(
            modelfile.from_document({**two, "options": {**doc["options"], "t_inputs": "standard_deviation"}})
        )
    assert info.value.field == "inputs.x.dof"


def test_correlated_normal_inputs_are_drawn_jointly() -> None:
    doc = {
        "model": "y = a + b\nz = a - b",
        "inputs": {"a": {"estimate": 1.0, "u": 1.0}, "b": {"estimate": 2.0, "u": 1.0}},
        "correlations": [["a", "b", 0.5]],
        "options": {"method": "both", "trials": 200_000, "seed": 4},
    }
    answer = uncertainty.evaluate_document(doc)
    mc = {o["name"]: o for o in answer["monte_carlo"]["outputs"]}
    assert mc["y"]["u"] == pytest.approx(math.sqrt(3), rel=0.01)  # u² = 1 + 1 + 2·0.5
    assert mc["z"]["u"] == pytest.approx(1.0, rel=0.01)
    assert all(v["validated"] for v in answer["validation"])  # linear in normal inputs
    # a normal given as a distribution may be correlated too: its mean and sd are used
    doc["inputs"]["b"] = {"distribution": {"kind": "normal", "mean": 2.0, "sd": 1.0}}
    again = uncertainty.evaluate_document(doc)["monte_carlo"]
    assert again["outputs"] == answer["monte_carlo"]["outputs"]


@pytest.mark.parametrize(
    "spec, why",
    [
        ({"estimate": 2.0, "u": 1.0, "dof": 4}, "Student t"),
        ({"distribution": {"kind": "rectangular", "lower": 1, "upper": 3}}, "rectangular"),
    ],
)
def test_correlated_non_normal_input_is_refused_naming_it(spec: dict[str, Any], why: str) -> None:
    doc = {
        "model": "y = a + b + c",
        "inputs": {"a": {"estimate": 1.0, "u": 1.0}, "b": spec, "c": {"estimate": 0, "u": 1}},
        "correlations": [["a", "b", 0.3]],
        "options": {"method": "monte_carlo", "trials": 1000},
    }
    with pytest.raises(InvalidInput, match=f"correlated input b has a non-normal.*{why}") as info:
        uncertainty.evaluate_document(doc)
    assert info.value.field == "inputs.b" and info.value.message.index("相关") < info.value.message.index(
        "correlated"
    )
    doc["options"] = {"method": "gum", "k": 2}  # k given: ν_eff is undefined for unequal ν in a group
    assert uncertainty.evaluate_document(doc)["outputs"][0]["u"] > 0  # the GUM path still evaluates it


def test_adaptive_and_shortest_options() -> None:
    mc = uncertainty.evaluate_document(additive(adaptive=True, ndig=2, interval="shortest", trials=None))[
        "monte_carlo"
    ]
    out = mc["outputs"][0]
    assert mc["adaptive"] and out["converged"] and out["tolerance"] == pytest.approx(0.05)
    assert out["trials"] % 10_000 == 0 and out["interval"] == out["shortest"]
    assert out["u"] == pytest.approx(2.0, abs=0.05)


@pytest.mark.parametrize(
    "options, field",
    [
        ({"trials": 1}, "options.trials"),
        ({"trials": 10**9}, "options.trials"),
        ({"seed": -1}, "options.seed"),
        ({"adaptive": "yes"}, "options.adaptive"),
        ({"interval": "narrow"}, "options.interval"),
        ({"ndig": 0}, "options.ndig"),
        ({"t_inputs": "sd"}, "options.t_inputs"),
    ],
)
def test_bad_monte_carlo_options_are_refused(options: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as info:
        uncertainty.evaluate_document(additive(**options))
    assert info.value.field == field


def test_many_outputs_times_many_trials_is_refused_before_sampling() -> None:
    doc = additive(trials=10_000_000)
    doc["model"] = "Y = X1 + X2 + X3 + X4\nZ = X1 - X2\nW = X3*X4"
    with pytest.raises(InvalidInput, match="3 outputs × 10,000,000 trials") as info:
        uncertainty.evaluate_document(doc)
    assert info.value.field == "options.trials"


def test_gum_answer_keeps_its_shape() -> None:
    answer = uncertainty.evaluate_document(additive(method="gum"))
    assert "monte_carlo" not in answer and "validation" not in answer and "histograms" not in answer
    assert answer["outputs"][0]["U"] == pytest.approx(3.92, abs=0.005)
