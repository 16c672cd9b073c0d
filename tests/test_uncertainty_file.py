"""The model-file format and `jiliang uncertainty evaluate` (the API is in tests/api/test_uncertainty.py)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from jiliang.cli import app
from jiliang.errors import InvalidInput
from jiliang.metrology import modelfile
from jiliang.services import uncertainty

EXAMPLES = Path(__file__).parents[1] / "src" / "jiliang" / "data" / "models"
runner = CliRunner()


def doc(**over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "model": "L = Ls*(1 + alpha_s*theta) + d",
        "outputs": {"L": {"unit": "mm"}},
        "inputs": {
            "Ls": {"estimate": 50.0, "unit": "mm", "u": "25 nm", "dof": 18},
            "alpha_s": {"estimate": 11.5e-6, "unit": "1/K", "u": 1.2e-6},
            "theta": {"estimate": 0.1, "unit": "degC", "u": 0.41},
            "d": {"estimate": 215, "unit": "nm", "U": 19.4, "k": 2},
        },
        "options": {"p": 0.95},
    }
    base.update(over)
    return base


def test_u_with_its_own_unit_and_expanded_U_are_converted() -> None:
    mf = modelfile.from_document(doc())
    by = {i.name: i for i in mf.inputs}
    assert by["Ls"].u == pytest.approx(25e-6)  # 25 nm in mm
    assert by["d"].u == pytest.approx(9.7)  # U/k
    out = modelfile.evaluate(mf)["outputs"][0]
    assert out["unit"] == "mm" and out["value"] == pytest.approx(50.0 * (1 + 11.5e-7) + 215e-6)


@pytest.mark.parametrize(
    "change, field",
    [
        ({"model": "L = Ls*(1 + alpha_s*theta) +"}, "model"),
        ({"model": "L = Ls*(1 + alpha_s*theta) + d + extra"}, "inputs.extra"),
        ({"inputs": {**doc()["inputs"], "d": {"estimate": 215, "unit": "nm", "u": -1}}}, "inputs.d.u"),
        ({"inputs": {**doc()["inputs"], "d": {"estimate": 215, "unit": "kg", "u": 1}}}, "model"),
        ({"inputs": {**doc()["inputs"], "d": {"estimate": 215, "unit": "nm", "u": "3 s"}}}, "inputs.d.u"),
        ({"inputs": {**doc()["inputs"], "d": {"estimate": 215, "u": 1, "colour": "red"}}}, "inputs.d"),
        ({"correlations": [["Ls", "d", 0.9], ["Ls", "theta", 0.9], ["d", "theta", -0.9]]}, "correlations"),
        ({"correlations": [["Ls", "nope", 0.1]]}, "correlations"),
        ({"options": {"p": 1.5}}, "options.p"),
        ({"options": {"method": "quasi_random"}}, "options.method"),
        ({"outputs": {"L": {"unit": "kg"}}}, "outputs.L.unit"),
    ],
)
def test_bad_model_files_are_refused_naming_the_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as info:
        uncertainty.evaluate_document(doc(**change))
    assert info.value.field == field, info.value.message
    assert "/" in info.value.message  # Chinese first, then English


def test_distribution_input_needs_the_monte_carlo_module(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "jiliang.metrology.distributions", None)  # as if absent
    d = doc()
    d["inputs"]["alpha_s"] = {
        "estimate": 11.5e-6,
        "unit": "1/K",
        "distribution": {"kind": "rectangular", "half_width": 2e-6},
    }
    with pytest.raises(InvalidInput, match="distributions need the Monte Carlo module") as info:
        modelfile.from_document(d)
    assert info.value.field == "inputs.alpha_s.distribution"


def test_distribution_input_goes_through_from_spec(monkeypatch: pytest.MonkeyPatch) -> None:
    import types

    seen: list[Any] = []

    def from_spec(spec: Any) -> Any:
        seen.append(dict(spec))
        half = spec["half_width"]
        return types.SimpleNamespace(expectation=0.0, standard_uncertainty=half / 3**0.5, dof=float("inf"))

    fake = types.ModuleType("jiliang.metrology.distributions")
    fake.from_spec = from_spec  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "jiliang.metrology.distributions", fake)
    d = doc()
    d["inputs"]["alpha_s"] = {
        "estimate": 11.5e-6,
        "unit": "1/K",
        "distribution": {"kind": "rectangular", "half_width": 2e-6},
    }
    mf = modelfile.from_document(d)
    alpha = next(i for i in mf.inputs if i.name == "alpha_s")
    assert alpha.estimate == 11.5e-6  # the file's estimate wins over the distribution's expectation
    assert alpha.u == pytest.approx(2e-6 / 3**0.5) and seen[0]["kind"] == "rectangular"


def test_deeply_nested_or_reserved_models_are_refused() -> None:
    with pytest.raises(InvalidInput, match=r"model does not parse|too deeply"):
        uncertainty.evaluate_document(doc(model="L = " + "(" * 500 + "Ls" + ")" * 500))
    with pytest.raises(InvalidInput, match="reserved") as info:
        uncertainty.evaluate_document(
            doc(model="y = e*2", inputs={"e": {"estimate": 1.6e-19, "u": 1e-27}}, outputs={})
        )
    assert info.value.field == "inputs.e"


def test_cli_evaluates_the_examples_as_tables_and_json() -> None:
    r = runner.invoke(app, ["uncertainty", "evaluate", str(EXAMPLES / "gum_h1.yaml")], env={"COLUMNS": "200"})
    assert r.exit_code == 0, r.output
    assert "50.000838" in r.output and "0.000093" in r.output and "dtheta" in r.output
    r = runner.invoke(app, ["uncertainty", "evaluate", str(EXAMPLES / "gum_h2.yaml"), "--json"])
    assert r.exit_code == 0, r.output
    answer = json.loads(r.stdout)
    assert [o["name"] for o in answer["outputs"]] == ["R", "X", "Z"]
    assert f"{answer['correlation'][1][2]:.3f}" == "0.993"


def test_cli_refuses_a_bad_file_with_the_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: y = a*\ninputs: {a: {estimate: 1, u: 0.1}}\n", encoding="utf-8")
    r = runner.invoke(app, ["uncertainty", "evaluate", str(bad)])
    assert r.exit_code == 2
    assert "does not parse" in r.output or "does not parse" in (r.stderr or "")


def test_ea4_02_s2_mass_calibration_matches_gum_workbench() -> None:
    """EA-4/02 S2, a 10 kg weight against a reference standard, as GUM Workbench evaluates it.

    metrodata.de/examples/s02_en.html prints m_X = 10000.0250 g, u = 0.0291 g, the shares 59.6 %, 8.8 %,
    23.7 %, 3.9 %, 3.9 % and U = 0.058 g with k = 2 (its u(dm) of 0.0142 g is the one this file gives).
    """
    r = runner.invoke(app, ["uncertainty", "evaluate", str(EXAMPLES / "ea4_02_s2_mass.yaml"), "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)["outputs"][0]
    assert f"{out['value']:.4f}" == "10000.0250" and f"{out['u']:.4f}" == "0.0291"
    assert out["k"] == 2.0 and out["reported"]["U"] == "0.058"
    shares = {b["input"]: f"{100 * b['share']:.1f}" for b in out["budget"]}
    assert shares == {"m_S": "59.6", "dm_D": "8.8", "dm": "23.7", "dm_C": "3.9", "dB": "3.9"}


def test_distribution_is_centred_on_the_estimate_and_takes_width_units() -> None:
    # "0 g ± 15 mg, rectangular" as a lab writes it: centre from the estimate, half-width with its unit
    spec = {"estimate": 0, "unit": "g", "distribution": {"kind": "rectangular", "half_width": "15 mg"}}
    mf = modelfile.from_document(doc(model="y = a", outputs={}, inputs={"a": spec}))
    a = mf.inputs[0]
    assert a.estimate == 0.0 and a.u == pytest.approx(0.015 / 3**0.5, rel=1e-12)
    for bad, field in (
        ({"kind": "rectangular", "half_width": "15 mm"}, "inputs.a.distribution.half_width"),
        ({"kind": "rectangular", "half_width": -1}, "inputs.a.distribution.half_width"),
        ({"kind": "rectangular"}, "inputs.a.distribution.half_width"),
    ):
        with pytest.raises(InvalidInput) as e:
            modelfile.from_document(
                doc(model="y = a", outputs={}, inputs={"a": {**spec, "distribution": bad}})
            )
        assert e.value.field == field and "inputs.a.distribution" in e.value.message, e.value.message
