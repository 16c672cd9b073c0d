"""The public comparison page: the same analysis as the CLI and the API, with the chart inline."""

from __future__ import annotations

from fastapi.testclient import TestClient

from jiliang.services import comparisons


def test_form_loads_each_example_with_its_settings(web_client: TestClient) -> None:
    page = web_client.get("/comparison")
    assert page.status_code == 200 and "计量比对" in page.text and "苏州市计量测试院" in page.text
    ref = web_client.get("/comparison", params={"example": "comparison_reference", "lang": "en"})
    assert 'name="reference" size="10" value="5.000"' in ref.text and "Lab A,5.012" in ref.text
    assert web_client.get("/comparison", params={"example": "nope"}).status_code == 404


def test_consensus_round_matches_the_service(web_client: TestClient) -> None:
    data = comparisons.example_round("comparison_pt_consensus")
    page = web_client.post("/comparison", data={"csv_text": data.decode("utf-8"), "method": "consensus"})
    assert page.status_code == 200, page.text
    report = comparisons.analyse(comparisons.read_results(data))
    html = page.text
    assert f"{report.reference_value:.10g}" in html and f"{report.reference_u:.3g}" in html
    for row in report.rows:
        assert row["laboratory"] in html and f"{row['score']:.2f}" in html
    assert html.count('class="point"') == len(report.rows)  # the inline chart, one point per laboratory


def test_key_comparison_from_an_uploaded_gb18030_file(web_client: TestClient) -> None:
    data = comparisons.example_round("comparison_key")
    page = web_client.post(
        "/comparison",
        data={"method": "weighted-mean", "exclusion": "lcs"},
        files={"file": ("key.csv", data.decode("utf-8").encode("gb18030"), "text/csv")},
        params={"lang": "en"},
    )
    assert page.status_code == 200, page.text
    assert (
        "VNIIM" in page.text
        and "not in the reference" in page.text
        and "consistency check passed" in page.text
    )


def test_bad_rows_are_listed_and_bad_numbers_named(web_client: TestClient) -> None:
    bad = "laboratory,value,uncertainty,k\nA,1.0,0.1,2\nB,abc,0.1,2\nC,1.0,-3,2\n"
    page = web_client.post("/comparison", data={"csv_text": bad})
    assert page.status_code == 422
    assert 'id="problems"' in page.text and "行 3 · value" in page.text and "行 4 · uncertainty" in page.text
    good = comparisons.example_round("comparison_reference").decode("utf-8")
    page = web_client.post("/comparison", data={"csv_text": good, "method": "reference", "reference": "x"})
    assert page.status_code == 422 and '<code id="field">reference</code>' in page.text


def test_subset_reference_and_arithmetic_mean_on_the_page(web_client: TestClient) -> None:
    data = comparisons.example_round("comparison_key_subset").decode("utf-8")
    page = web_client.post(
        "/comparison", data={"csv_text": data, "method": "mean", "mean_u": "spread"}, params={"lang": "en"}
    )
    assert page.status_code == 200, page.text
    report = comparisons.analyse(comparisons.read_results(data), method="mean", mean_u="spread")
    assert f"{report.reference_value:.10g}" in page.text and f"{report.reference_u:.3g}" in page.text
    assert page.text.count("not in the reference") == 3  # SCL, PROV-A, PROV-B
    assert "from the spread" in page.text and "do not contribute" in page.text
