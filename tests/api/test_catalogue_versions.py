"""The catalogue-version API: upload (administrator), row-by-row differences, activation from a date."""

from __future__ import annotations

from tests.api.conftest import Api


def test_an_administrator_uploads_compares_and_activates_a_version(api: Api) -> None:
    exported = api.get("/api/v1/catalogue/versions/SAMR-2020-42/export", None)
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    text = exported.content.decode("utf-8-sig")
    lines = text.splitlines()
    fuel = next(i for i, line in enumerate(lines) if ",09.01," in line)
    lines[fuel] = lines[fuel].replace(",periodic,6,", ",periodic,12,")
    body = ("\n".join(lines) + "\n").encode()
    files = {"file": ("new.csv", body, "text/csv")}

    refused = api.post("/api/v1/catalogue/versions", "province", params={"version": "T-1"}, files=files)
    assert refused.status_code == 403
    made = api.post("/api/v1/catalogue/versions", "admin", params={"version": "T-1"}, files=files)
    assert made.status_code == 201, made.text
    assert made.json()["items"] == 62

    diff = api.get("/api/v1/catalogue/versions/T-1/diff", None).json()
    assert diff == [
        {
            "item_code": "09.01",
            "change": "changed",
            "name_zh": diff[0]["name_zh"],
            "changes": [{"field": "period_months", "old": "6", "new": "12", "scope": ""}],
        }
    ]
    past = api.post("/api/v1/catalogue/versions/T-1/activate", "admin", json={"active_from": "2026-01-01"})
    assert past.status_code == 422 and past.json()["error"]["field"] == "active_from"
    ok = api.post("/api/v1/catalogue/versions/T-1/activate", "admin", json={"active_from": "2026-07-01"})
    assert ok.status_code == 200 and ok.json()["state"] == "scheduled"
    states = {v["version"]: v["state"] for v in api.get("/api/v1/catalogue/versions", None).json()}
    assert states == {"SAMR-2020-42": "in_force", "T-1": "scheduled"}


def test_a_refused_upload_answers_with_its_rows(api: Api) -> None:
    header = "一级序号,一级目录,目录项代码,二级目录,监管方式,实施日期,检定形式,检定周期（月）\n"
    body = (header + "1,甲,01.01,甲一,V,2026-01-01,periodic,\n").encode()
    r = api.post(
        "/api/v1/catalogue/versions", "admin", params={"version": "BAD"}, files={"file": ("x.csv", body)}
    )
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["problems"][0]["row"] == 2 and error["problems"][0]["field"] == "period_months"
    assert api.get("/api/v1/catalogue/versions/BAD/diff", None).status_code == 404
