"""The supervisor's JSON routes: search, the 督办 export, follow-ups, history; scoped like the services."""

from __future__ import annotations

import csv
import io

from tests.api.conftest import Api
from tests.factories import World
from tests.test_supervision import city  # noqa: F401 (fixture)


def test_search_export_follow_up_and_history_over_http(api: Api, city: World) -> None:  # noqa: F811
    found = api.get("/api/v1/supervision/instruments", "city", params={"q": "SN-A001"}).json()
    assert found["total"] == 1 and found["items"][0]["owner_name"] == "东城加油站"
    iid = found["items"][0]["id"]
    overdue = api.get("/api/v1/supervision/instruments", "city", params={"state": "overdue"}).json()
    board = api.get("/api/v1/supervision/dashboard", "city").json()
    assert board["overdue"] == overdue["total"] == 2
    response = api.get(
        "/api/v1/supervision/instruments/export", "city", params={"state": "overdue", "format": "csv"}
    )
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert response.status_code == 200 and "超期天数" in rows[0] and len(rows) == 3
    marked = api.post("/api/v1/supervision/follow-ups", "city", json={"instrument_ids": [iid]})
    assert marked.status_code == 201 and len(marked.json()["opened"]) == 1
    assert api.get("/api/v1/supervision/follow-ups", "city").json()["total"] == 1
    assert api.get("/api/v1/supervision/follow-ups", "other_city").json()["total"] == 0
    assert api.get(f"/api/v1/supervision/history/instrument/{iid}", "city").status_code == 200
    # another city's supervisor: the instrument does not exist for them
    assert api.get(f"/api/v1/supervision/history/instrument/{iid}", "other_city").status_code == 404
    assert (
        api.post("/api/v1/supervision/follow-ups", "other_city", json={"instrument_ids": [iid]}).status_code
        == 404
    )
    assert api.get("/api/v1/supervision/instruments", "city", params={"sort": "secret"}).status_code == 422


def test_close_and_reopen_a_follow_up_over_http(api: Api, city: World) -> None:  # noqa: F811
    overdue = api.get("/api/v1/supervision/instruments", "city", params={"state": "overdue"}).json()
    iid = overdue["items"][0]["id"]
    api.post("/api/v1/supervision/follow-ups", "city", json={"instrument_ids": [iid], "remind": False})
    fid = api.get("/api/v1/supervision/follow-ups", "city").json()["items"][0]["id"]
    base = f"/api/v1/supervision/follow-ups/{fid}"
    assert api.post(f"{base}/close", "city", json={"reason": ""}).status_code == 422
    assert api.post(f"{base}/close", "other_city", json={"reason": "x"}).status_code == 404
    closed = api.post(f"{base}/close", "city", json={"reason": "器具已报废"})
    assert closed.status_code == 200 and closed.json()["close_reason"] == "器具已报废"
    assert api.post(f"{base}/close", "city", json={"reason": "again"}).status_code == 409
    listed = api.get("/api/v1/supervision/follow-ups", "city", params={"state": "closed"}).json()
    assert [r["id"] for r in listed["items"]] == [fid]
    reopened = api.post(f"{base}/reopen", "city", json={"reason": "仍在使用"}).json()
    assert reopened["closed_at"] is None and "仍在使用" in reopened["note"]
