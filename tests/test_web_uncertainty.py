"""The public uncertainty calculator: the numbers on the page are the engine's, refusals name the field."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from jiliang.services import uncertainty
from jiliang.web.uncertainty import PAGE_MAX_TRIALS, example_titles


def test_form_offers_every_shipped_example(web_client: TestClient) -> None:
    page = web_client.get("/uncertainty")
    assert page.status_code == 200
    assert "测量不确定度评定" in page.text
    for title in example_titles("zh").values():  # Chinese titles on the Chinese page
        assert title in page.text
    # every shipped example has a Chinese title (none falls back to the file's English one)
    assert set(example_titles("zh").values()).isdisjoint(uncertainty.example_models().values())
    assert "End gauge calibration" not in page.text.split("</select>")[0]  # the file itself keeps its title
    english = web_client.get("/uncertainty", params={"lang": "en"}).text
    for title in uncertainty.example_models().values():
        assert title in english
    assert "ls:" in page.text  # the default example (JCGM 100 H.1) is in the text area
    h2 = web_client.get("/uncertainty", params={"example": "gum_h2", "lang": "en"})
    assert "Evaluate measurement uncertainty" in h2.text and "[V, I, -0.35531]" in h2.text
    assert web_client.get("/uncertainty", params={"example": "nope"}).status_code == 404


def test_h1_budget_on_the_page_is_the_engines(web_client: TestClient) -> None:
    text = uncertainty.example_text("gum_h1")
    page = web_client.post("/uncertainty", data={"model_file": text})
    assert page.status_code == 200, page.text
    answer = uncertainty.evaluate_text(text)
    out = next(o for o in answer["outputs"] if o["name"] == "l")
    html = page.text
    assert f"({out['reported']['value']} ± {out['reported']['U']}) mm" in html  # 50.000838 ± 0.000093
    assert out["reported"]["U"] == "0.000093"
    for b in out["budget"]:
        assert f"{100 * b['share']:.1f} %" in html
    assert 'id="budget-1"' in html and "/static/js/uncertainty.js" in html
    data = re.search(r'<script id="page-data" type="application/json">(.*?)</script>', html, re.S)
    assert data and '"budgets": ["d", "l"]' in data.group(1)


def test_monte_carlo_is_capped_and_says_so(web_client: TestClient) -> None:
    page = web_client.post(
        "/uncertainty", data={"model_file": uncertainty.example_text("gs1_9_2_2")}, params={"lang": "en"}
    )
    assert page.status_code == 200, page.text
    html = page.text
    assert f"Trials {PAGE_MAX_TRIALS:,}" in html and "the file asks for 1,000,000" in html
    assert 'id="histogram-0"' in html and "GUM validated" in html


@pytest.mark.parametrize(
    "text, field",
    [
        ("model: y = a\ninputs:\n  a: {estimate: 1, u: -1}\n", "u"),
        ("model: y = a + b\ninputs:\n  a: {estimate: 1, u: 1}\n", "b"),
        ("model: [\n", "file"),
        (
            "model: y = a\ninputs:\n  a: {estimate: 0, unit: g, distribution: {kind: rectangular, half_width: 1 m}}\n",
            "inputs.a.distribution.half_width",
        ),
    ],
)
def test_bad_files_are_refused_naming_the_field(web_client: TestClient, text: str, field: str) -> None:
    page = web_client.post("/uncertainty", data={"model_file": text})
    assert page.status_code == 422
    assert 'id="error"' in page.text and field in page.text
    assert text.splitlines()[0].replace("[", "") in page.text.replace("[", "")  # the text is kept to fix


def test_h2_from_raw_observations_on_the_page(web_client: TestClient) -> None:
    text = uncertainty.example_text("gum_h2_observations")
    page = web_client.post("/uncertainty", data={"model_file": text}, params={"lang": "en"})
    assert page.status_code == 200, page.text
    assert 'id="evaluations"' in page.text and "Type A (GUM 4.2)" in page.text and "h2.V" in page.text
    assert "-0.588" in page.text  # r(R, X), Table H.4


def test_intermediate_budget_on_the_page(web_client: TestClient) -> None:
    text = (
        "model: |\n  V = V1 - V0\n  c = m/(M*V)\noutputs: {V: {unit: mL}, c: {unit: mol/L}}\ninputs:\n"
        "  V1: {estimate: 25.3, unit: mL, u: 0.02}\n  V0: {estimate: 0.1, unit: mL, u: 0.02}\n"
        "  m: {estimate: 0.5, unit: g, u: 0.0001}\n  M: {estimate: 204.22, unit: g/mol, u: 0.01}\n"
    )
    page = web_client.post("/uncertainty", data={"model_file": text}, params={"lang": "en"})
    assert page.status_code == 200, page.text
    assert "Budget against intermediate results · c" in page.text and "intermediate-budget" in page.text
    assert "unrounded u_c" in page.text  # which u_c the expanded uncertainty used


def test_budget_chart_labels_carry_two_significant_digits_not_float_noise() -> None:
    """The calculator's bars were labelled 0.0000166752077705000002 (issue 10): JJF 1059.1's two digits."""
    answer = uncertainty.evaluate_text(uncertainty.example_text("gum_h1"))
    values = [d["value"] for chart in answer["charts"].values() for d in chart["series"][0]["data"]]
    assert values and all(v == float(f"{v:.2g}") for v in values)
    assert 1.7e-05 in values  # u(dtheta) contribution to l, 1.6675207770500002e-05 before
