"""POST /api/v1/uncertainty/evaluate: a model file as JSON in, result, budget and budget chart out."""

from __future__ import annotations

import json

from jiliang.metrology import modelfile
from tests.api.conftest import Api
from tests.test_uncertainty_file import EXAMPLES, doc
from tests.test_uncertainty_mc import additive


def test_api_answers_result_budget_and_chart(api: Api) -> None:
    body = json.loads(
        json.dumps(modelfile.parse_text((EXAMPLES / "gum_h3.yaml").read_text(encoding="utf-8")))
    )
    r = api.post("/api/v1/uncertainty/evaluate", "city", json=body)
    assert r.status_code == 200, r.text
    answer = r.json()
    b = answer["outputs"][0]
    assert b["reported"]["value"] == "-0.1494" and b["reported"]["u"] == "0.0041"
    chart = answer["charts"]["b"]
    assert chart["series"][0]["type"] == "bar" and chart["yAxis"]["data"][0] in {"y1", "y2"}


def test_api_refuses_bad_model_with_422_naming_the_input(api: Api) -> None:
    body = doc()
    body["inputs"]["d"]["U"] = float("-1")
    r = api.post("/api/v1/uncertainty/evaluate", "city", json=body)
    assert r.status_code == 422
    assert r.json()["error"]["field"] == "inputs.d.u"
    assert api.post("/api/v1/uncertainty/evaluate", None, json=doc()).status_code == 401


def test_api_returns_monte_carlo_validation_and_histogram(api: Api) -> None:
    r = api.post("/api/v1/uncertainty/evaluate", "city", json=additive(method="both"))
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["monte_carlo"]["seed"] == 7 and answer["validation"][0]["validated"] is True
    chart = answer["histograms"]["Y"]
    series = chart["series"][0]
    assert series["type"] == "bar" and sum(n for _, n in series["data"]) == 100_000
    assert len(series["markLine"]["data"]) == 4  # MC and GUM interval ends
    r = api.post("/api/v1/uncertainty/evaluate", "city", json=additive(trials=True))
    assert r.status_code == 422 and r.json()["error"]["field"] == "options.trials"


def test_api_evaluates_h3_from_its_data_table(api: Api) -> None:
    body = modelfile.parse_text((EXAMPLES / "gum_h3_table.yaml").read_text(encoding="utf-8"))
    r = api.post("/api/v1/uncertainty/evaluate", "city", json=body)
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["outputs"][0]["reported"]["u"] == "0.0041"
    assert f"{answer['evaluations']['y1']['r']:.3f}" == "-0.930"


def test_api_refuses_an_oversized_body_at_the_limit(api: Api) -> None:
    from jiliang.services import uncertainty

    body = json.dumps({**doc(), "title": "x" * (uncertainty.MAX_FILE_BYTES + 10)})
    r = api.post(
        "/api/v1/uncertainty/evaluate", "city", content=body, headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 413 and r.json()["error"]["field"] == "file"
    r = api.post("/api/v1/uncertainty/evaluate", "city", json={**doc(), "colour": "red"})
    assert r.status_code == 422  # the schema still forbids unknown fields
