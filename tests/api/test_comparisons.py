"""POST /api/v1/comparisons/analyse (JSON) and /analyse/upload (the participants' CSV)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.api.conftest import Api, bilingual

EXAMPLES = Path(__file__).resolve().parents[2] / "src" / "jiliang" / "data" / "comparisons"

KEY = [
    {"laboratory": "A", "value": 10.0, "uncertainty": 0.2, "k": 2},
    {"laboratory": "B", "value": 10.1, "uncertainty": 0.2, "k": 2},
    {"laboratory": "C", "value": 9.9, "uncertainty": 0.4, "k": 2},
]


def test_weighted_mean_answers_the_reference_and_degrees_of_equivalence(api: Api) -> None:
    r = api.post("/api/v1/comparisons/analyse", "city", json={"results": KEY, "method": "weighted-mean"})
    assert r.status_code == 200, r.text
    body = r.json()
    # u = 0.1, 0.1, 0.2: weights 100, 100, 25; y = (1000 + 1010 + 247.5)/225 = 10.0333…
    assert body["reference_value"] == pytest.approx(2257.5 / 225, rel=1e-12)
    assert body["reference_u"] == pytest.approx((1 / 225) ** 0.5, rel=1e-12)
    assert body["summary"]["consistent"] is True
    assert [row["verdict"] for row in body["results"]] == ["satisfactory"] * 3
    assert body["results"][0]["d"] == pytest.approx(10.0 - 2257.5 / 225, rel=1e-12)


def test_reference_method_scores_z(api: Api) -> None:
    body = {
        "results": KEY,
        "method": "reference",
        "reference": 10.0,
        "reference_u": 0.01,
        "sigma_pt": 0.05,
    }
    r = api.post("/api/v1/comparisons/analyse", "enterprise", json=body)
    assert r.status_code == 200, r.text
    rows = r.json()["results"]
    assert [row["z"] for row in rows] == pytest.approx([0.0, 2.0, -2.0])
    assert [row["verdict"] for row in rows] == ["satisfactory"] * 3  # |z| = 2 is still satisfactory


def test_anonymous_caller_is_refused(api: Api) -> None:
    assert api.post("/api/v1/comparisons/analyse", None, json={"results": KEY}).status_code == 401


@pytest.mark.parametrize(
    "results, field",
    [
        (KEY[:2], "results"),  # consensus needs three
        ([*KEY, {"laboratory": "A", "value": 1.0}], "laboratory"),
        ([*KEY, {"laboratory": "D", "value": 1.0, "uncertainty": -1.0}], "uncertainty"),
    ],
)
def test_bad_rounds_are_refused_naming_the_field(
    api: Api, results: list[dict[str, object]], field: str
) -> None:
    r = api.post("/api/v1/comparisons/analyse", "city", json={"results": results})
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["field"] == field and bilingual(error["message"])


def test_upload_of_a_gb18030_csv(api: Api) -> None:
    data = (EXAMPLES / "comparison_pt_consensus.csv").read_text(encoding="utf-8").encode("gb18030")
    r = api.post(
        "/api/v1/comparisons/analyse/upload",
        "institution",
        params={"sigma_pt": 0.02},
        files={"file": ("round.csv", data, "text/csv")},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["method"] == "consensus" and body["sigma_pt"] == 0.02
    assert len(body["results"]) == 12 and body["results"][0]["laboratory"] == "苏州市计量测试院"


def test_upload_with_bad_rows_lists_each_row(api: Api) -> None:
    data = b"laboratory,value,uncertainty,k\nA,1.0,0.1,2\nB,abc,0.1,2\nC,1.0,-3,2\n"
    r = api.post("/api/v1/comparisons/analyse/upload", "city", files={"file": ("r.csv", data, "text/csv")})
    assert r.status_code == 422, r.text
    problems = r.json()["error"]["problems"]
    assert [(p["row"], p["field"]) for p in problems] == [(3, "value"), (4, "uncertainty")]


def test_median_answers_its_seed_and_intervals(api: Api) -> None:
    body = {"results": KEY, "method": "median", "trials": 20_000, "seed": 5}
    r = api.post("/api/v1/comparisons/analyse", "city", json=body)
    assert r.status_code == 200, r.text
    first = r.json()
    assert first["reference_value"] == 10.0 and first["summary"]["seed"] == 5
    assert all(row["d_low"] < row["d_high"] and row["in_reference"] for row in first["results"])
    assert (
        api.post("/api/v1/comparisons/analyse", "city", json=body).json() == first
    )  # same seed, same answer
    r = api.post("/api/v1/comparisons/analyse", "city", json={**body, "trials": 10})
    assert r.status_code == 422 and r.json()["error"]["field"] == "trials"


def test_upload_chooses_the_exclusion(api: Api) -> None:
    data = (EXAMPLES / "comparison_key.csv").read_bytes()
    answers = {}
    for exclusion in ("lcs", "none"):
        r = api.post(
            "/api/v1/comparisons/analyse/upload",
            "city",
            params={"method": "weighted-mean", "exclusion": exclusion},
            files={"file": ("key.csv", data, "text/csv")},
        )
        assert r.status_code == 200, r.text
        answers[exclusion] = r.json()["summary"]
    assert answers["lcs"]["excluded"] == ["VNIIM"] and answers["lcs"]["consistent"]
    assert answers["none"]["excluded"] == [] and not answers["none"]["consistent"]


def test_api_subset_reference_and_mean(api: Api) -> None:
    body = {
        "method": "mean",
        "mean_u": "stated",
        "results": [
            {"laboratory": "A", "value": 10.0, "uncertainty": 0.2},
            {"laboratory": "B", "value": 10.2, "uncertainty": 0.2},
            {"laboratory": "D", "value": 10.6, "uncertainty": 0.2, "contributes": False},
        ],
    }
    r = api.post("/api/v1/comparisons/analyse", "city", json=body)
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["reference_value"] == pytest.approx(10.1) and answer["summary"]["mean_u"] == "stated"
    d = next(row for row in answer["results"] if row["laboratory"] == "D")
    assert d["in_reference"] is False and d["U_d"] == pytest.approx(2 * (0.01 + 0.005) ** 0.5)
    r = api.post("/api/v1/comparisons/analyse", "city", json={**body, "method": "weighted-mean"})
    assert r.status_code == 200 and r.json()["summary"]["contributing"] == ["A", "B"]
