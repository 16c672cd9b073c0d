"""Defects that outside worked examples exposed (issue 15), each pinned by a test that failed before its fix,
and the lab-style units and budgets against intermediate results of the model file."""

from __future__ import annotations

import json
import math
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from jiliang.cli import app
from jiliang.errors import InvalidInput, PayloadTooLarge
from jiliang.metrology import gum, influence, modelfile
from jiliang.metrology.expression import Model, parse_unit
from jiliang.services import comparisons, uncertainty

EXAMPLES = Path(__file__).parents[1] / "src" / "jiliang" / "data" / "models"
runner = CliRunner()


# ---- Rich markup: "term 'b' is  but 'a' is " lost its [units]


def test_cli_dimension_error_keeps_its_units_in_brackets(tmp_path: Path) -> None:
    f = tmp_path / "units.yaml"
    f.write_text(
        "title: a [draft] model\nmodel: y = a + b\n"
        "inputs:\n  a: {estimate: 1, unit: kg, u: 0.1}\n  b: {estimate: 1, unit: m, u: 0.1}\n",
        encoding="utf-8",
    )
    r = runner.invoke(app, ["uncertainty", "evaluate", str(f)], env={"COLUMNS": "250"})
    assert r.exit_code == 2
    assert "term 'b' is [m] but 'a' is [kg]" in r.output


def test_cli_budget_title_keeps_the_unit_and_the_title_its_brackets(tmp_path: Path) -> None:
    f = tmp_path / "ok.yaml"
    f.write_text(
        "title: mass [kg] check\nmodel: y = a\noutputs: {y: {unit: kg}}\ninputs:\n  a: {estimate: 1, unit: kg, u: 0.1}\n",
        encoding="utf-8",
    )
    r = runner.invoke(app, ["uncertainty", "evaluate", str(f)], env={"COLUMNS": "200"})
    assert r.exit_code == 0, r.output
    assert "mass [kg] check" in r.output and "budget of y [kg]" in r.output


# ---- numbers as JSON and YAML 1.2 read them


def test_model_file_written_by_json_dumps_is_read() -> None:
    doc = {
        "model": "y = a*b",
        "inputs": {"a": {"estimate": 2e-06, "u": 1e-08}, "b": {"estimate": 1e20, "u": 1e18}},
    }
    text = json.dumps(doc)
    assert "2e-06" in text and "1e+20" in text
    answer = uncertainty.evaluate_text(text)
    assert answer["outputs"][0]["value"] == pytest.approx(2e14)
    assert modelfile.parse_text("a: 1e5\nb: 2\nc: '2e-06'") == {"a": 1e5, "b": 2, "c": "2e-06"}


# ---- oversized files stopped at the limit while reading


def _peak_while(fn: Any) -> int:
    tracemalloc.start()
    try:
        with pytest.raises(PayloadTooLarge):
            fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_oversized_model_file_is_refused_without_reading_it_whole(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    with big.open("wb") as f:
        f.truncate(20 * 1024 * 1024)  # 20 MiB (sparse)
    peak = _peak_while(lambda: uncertainty.evaluate_path(big))
    assert peak < 3 * uncertainty.MAX_FILE_BYTES  # the limit plus one byte, not 20 MiB (and its decoded copy)


def test_oversized_comparison_csv_is_refused_without_reading_it_whole(tmp_path: Path) -> None:
    big = tmp_path / "big.csv"
    with big.open("wb") as f:
        f.truncate(20 * 1024 * 1024)
    peak = _peak_while(lambda: comparisons.read_path(big))
    assert peak < 2 * comparisons.MAX_FILE_BYTES
    r = runner.invoke(app, ["comparison", "analyse", str(big)])
    assert r.exit_code == 2 and "larger than" in r.output


# ---- a model undefined at some trials or at the estimates, naming the input


def _pole(**options: Any) -> dict[str, Any]:
    return {
        "model": "y = a/b",
        "inputs": {"a": {"estimate": 1, "u": 0.1}, "b": {"estimate": 0.05, "u": 0.1}},
        "options": {"seed": 1, "trials": 20_000, **options},
    }


@pytest.mark.parametrize("method", ["monte_carlo", "both"])
def test_monte_carlo_refuses_a_pole_inside_the_inputs_naming_it(method: str) -> None:
    """y = a/b with b ~ N(0.05, 0.1²): no trial is infinite, but y has no finite mean (it reported y = 15, u = 4e3)."""
    with pytest.raises(InvalidInput) as info:
        uncertainty.evaluate_document(_pole(method=method))
    assert info.value.field == "inputs.b" and "no finite mean" in info.value.message
    with pytest.raises(InvalidInput):  # excluding trials does not give a pole a mean
        uncertainty.evaluate_document(_pole(method="monte_carlo", nonfinite="exclude"))


def test_gum_names_the_input_where_the_model_is_undefined_at_the_estimates() -> None:
    doc = _pole()
    doc["inputs"]["b"]["estimate"] = 0
    with pytest.raises(InvalidInput) as info:
        uncertainty.evaluate_document(doc)
    assert info.value.field == "inputs.b" and "denominator b" in info.value.message
    with pytest.raises(InvalidInput) as info:
        uncertainty.evaluate_document(
            {
                "model": "d = b - c\ny = sqrt(d)",
                "inputs": {"b": {"estimate": 1, "u": 0.1}, "c": {"estimate": 2, "u": 0.1}},
            }
        )
    assert info.value.field == "inputs.b" and "sqrt(d)" in info.value.message and "b, c" in info.value.message


def _root(**options: Any) -> dict[str, Any]:
    return {
        "model": "y = sqrt(b)",
        "inputs": {"b": {"estimate": 0.05, "u": 0.1}},
        "options": {"method": "monte_carlo", "seed": 3, "trials": 20_000, **options},
    }


def test_non_finite_trials_are_counted_and_refused_naming_the_input() -> None:
    with pytest.raises(InvalidInput) as info:
        uncertainty.evaluate_document(_root())
    assert info.value.field == "inputs.b" and "sqrt(b)" in info.value.message
    assert 0 < info.value.context["bad_trials"] < 20_000


def test_non_finite_trials_excluded_when_asked_and_reported() -> None:
    answer = uncertainty.evaluate_document(_root(nonfinite="exclude"))
    mc = answer["monte_carlo"]
    excluded = mc["excluded"]
    # P(b < 0) = Φ(−0.5) = 0.3085: about 6170 of 20 000 trials (3 binomial sd ≈ 200)
    assert abs(excluded - 20_000 * 0.30854) < 200
    assert mc["outputs"][0]["trials"] == 20_000 - excluded and mc["nonfinite"] == "exclude"
    assert any("left out" in n for n in answer["notes"])
    with pytest.raises(InvalidInput) as info:
        uncertainty.evaluate_document(_root(nonfinite="drop"))
    assert info.value.field == "options.nonfinite"


# ---- GUM H.1: which u_c the expanded uncertainty is formed from


def test_jcgm100_h1_expanded_uncertainty_says_which_u_c_it_used() -> None:
    answer = uncertainty.evaluate_path(EXAMPLES / "gum_h1.yaml")
    out = next(o for o in answer["outputs"] if o["name"] == "l")
    # default: U = t_99(16) × 31.7 nm = 92.6 nm → 93 nm, as H.1.6 prints (from 2.92 × 32 nm)
    assert out["reported"]["U"] == "0.000093" and out["expanded_from"] == "unrounded_u_c"
    assert any("unrounded u_c" in n and "GUM 7.2.6" in n for n in answer["notes"])
    doc = modelfile.parse_text((EXAMPLES / "gum_h1.yaml").read_text(encoding="utf-8"))
    # the 92 nm comes from not truncating ν_eff (k = t_99(16.6) = 2.906): 2.906 × 31.7 nm = 92.1 nm
    untruncated = dict(doc, options={"p": 0.99, "truncate_dof": False})
    o = next(o for o in uncertainty.evaluate_document(untruncated)["outputs"] if o["name"] == "l")
    assert o["reported"]["U"] == "0.000092"
    rounded = dict(doc, options={"p": 0.99, "truncate_dof": False, "expanded_from_rounded": True})
    answer = uncertainty.evaluate_document(rounded)
    o = next(o for o in answer["outputs"] if o["name"] == "l")
    assert o["reported"]["U"] == "0.000093" and o["expanded_from"] == "rounded_u_c"
    assert any("expanded_from_rounded: true" in n for n in answer["notes"])
    r = runner.invoke(app, ["uncertainty", "evaluate", str(EXAMPLES / "gum_h1.yaml")], env={"COLUMNS": "250"})
    assert "unrounded u_c" in r.output


# ---- units as labs write them


@pytest.mark.parametrize(
    "lab, pint_text",
    [
        ("kg/m3", "kg/m**3"),
        ("m2", "m**2"),
        ("s-1", "1/s"),
        ("µm", "micrometer"),
        ("μm", "micrometer"),
        ("mm2/s", "mm**2/s"),
        ("cm³", "cm**3"),
        ("%RH", "percent"),
        ("%", "percent"),
    ],
)
def test_lab_unit_spellings_are_accepted(lab: str, pint_text: str) -> None:
    assert parse_unit(lab, field_name="u") == parse_unit(pint_text, field_name="u")


def test_celsius_sign_is_a_temperature_interval_like_degC() -> None:
    assert parse_unit("℃", field_name="u") == parse_unit("degC", field_name="u")
    mf = modelfile.from_document(
        {
            "model": "R = R20*(1 + alpha*(t - 20[℃]))",
            "inputs": {
                "R20": {"estimate": 100, "unit": "ohm", "u": 0.01},
                "alpha": {"estimate": 0.00393, "unit": "℃-1", "u": 1e-5},
                "t": {"estimate": 25, "unit": "℃", "u": 0.1},
            },
            "outputs": {"R": {"unit": "ohm"}},
        }
    )
    out = modelfile.evaluate(mf)["outputs"][0]
    assert out["value"] == pytest.approx(100 * (1 + 0.00393 * 5))


def test_relative_humidity_is_a_percentage_not_ronnahenry() -> None:
    mf = modelfile.from_document(
        {
            "model": "y = 2*h",
            "inputs": {"h": {"estimate": 45, "unit": "%RH", "u": 1.5}},
            "outputs": {"y": {"unit": "%RH"}},
        }
    )
    assert modelfile.evaluate(mf)["outputs"][0]["value"] == pytest.approx(90)


@pytest.mark.parametrize("symbol, advice", [("C", "degC"), ("F", "degF"), ("deg", "degree"), ("ton", "t ")])
def test_ambiguous_units_are_refused_saying_what_to_write(symbol: str, advice: str) -> None:
    with pytest.raises(InvalidInput) as info:
        modelfile.from_document(
            {"model": "y = a", "inputs": {"a": {"estimate": 1, "unit": symbol, "u": 0.1}}}
        )
    assert info.value.field == "inputs.a.unit"
    assert "ambiguous" in info.value.message and advice in info.value.message


# ---- budgets against intermediate results


TITRATION = {
    "model": "V = V1 - V0\nc = m/(M*V)",
    "outputs": {"V": {"unit": "mL"}, "c": {"unit": "mol/L"}},
    "inputs": {
        "V1": {"estimate": 25.3, "unit": "mL", "u": 0.02},
        "V0": {"estimate": 0.1, "unit": "mL", "u": 0.02},
        "m": {"estimate": 0.5, "unit": "g", "u": 0.0001},
        "M": {"estimate": 204.22, "unit": "g/mol", "u": 0.01},
    },
}


def test_budget_against_the_titration_volume_before_it_enters_the_concentration() -> None:
    answer = uncertainty.evaluate_document(TITRATION)
    outs = {o["name"]: o for o in answer["outputs"]}
    assert "intermediate_budget" not in outs["V"]
    (row,) = outs["c"]["intermediate_budget"]
    c, v = outs["c"]["value"], outs["V"]["value"]
    assert row["intermediate"] == "V" and row["u"] == pytest.approx(0.02 * math.sqrt(2))
    assert row["sensitivity"] == pytest.approx(-c / v)  # ∂c/∂V = −m/(M V²) = −c/V, in (mol/L)/mL
    assert row["contribution"] == pytest.approx(c / v * 0.02 * math.sqrt(2))
    # the same component as the influence API's budget against a marked intermediate
    inf = {k: influence.elementary(s["estimate"], s["u"], label=k) for k, s in TITRATION["inputs"].items()}
    vol = (inf["V1"] - inf["V0"]).intermediate("V")
    conc = inf["m"] / (inf["M"] * vol) * 1000  # g/(g/mol)/mL → mol/L
    assert row["contribution"] == pytest.approx(conc.budget_against(vol), rel=1e-9)
    r = runner.invoke(app, ["uncertainty", "evaluate", "--json", str(_write(TITRATION))])
    assert json.loads(r.stdout)["outputs"][1]["intermediate_budget"][0]["intermediate"] == "V"


def _write(doc: dict[str, Any]) -> Path:
    import tempfile

    f = Path(tempfile.mkdtemp()) / "m.json"
    f.write_text(json.dumps(doc), encoding="utf-8")
    return f


def test_intermediate_partials_hold_the_other_inputs_fixed() -> None:
    model = Model.parse("d = a + b\ny = d*a", units={})
    at = {"a": 2.0, "b": 3.0}
    assert list(model.partials_against(at, "d")) == pytest.approx([1.0, 2.0])  # ∂y/∂d = a, not a + d
    res = gum.evaluate(model, [gum.Input("a", 2.0, 0.1), gum.Input("b", 3.0, 0.2)])
    rows = gum.intermediate_budgets(model, [gum.Input("a", 2.0, 0.1), gum.Input("b", 3.0, 0.2)], res)
    assert rows["y"][0].contribution == pytest.approx(2.0 * math.hypot(0.1, 0.2))


def test_engine_excludes_non_finite_trials_only_when_asked() -> None:
    from jiliang.metrology import distributions, montecarlo

    inputs = {"x": distributions.Normal(0.0, 1.0)}

    def fn(v: dict[str, Any]) -> Any:
        import numpy as np

        with np.errstate(invalid="ignore"):
            return np.sqrt(v["x"])

    with pytest.raises(InvalidInput) as info:
        montecarlo.propagate(fn, inputs, trials=10_000, seed=2)
    assert 4_000 < info.value.context["bad_trials"] < 6_000
    res = montecarlo.propagate(fn, inputs, trials=10_000, seed=2, nonfinite="exclude")
    assert res.excluded == 10_000 - res.trials and 4_000 < res.excluded < 6_000
    # E√X for X ~ N(0, 1) given X ≥ 0 is Γ(3/4)/Γ(1/2)·2^(1/4) = 0.8222; 3 standard errors ≈ 0.011
    assert res.y == pytest.approx(math.gamma(0.75) / math.gamma(0.5) * 2**0.25, abs=0.015)
