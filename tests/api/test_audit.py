"""The audit trail over HTTP: administrators only, filtered, newest first, with before and after."""

from __future__ import annotations

from tests.api.conftest import Api
from tests.factories import COUNTY_A, credit_code


def _org(api: Api) -> int:
    body = {
        "credit_code": credit_code(60),
        "name": "审计市场",
        "kind": "market_operator",
        "region_code": COUNTY_A,
    }
    r = api.post("/api/v1/organisations", "city", json=body, headers={"X-Request-ID": "rid-create"})
    assert r.status_code == 201
    return int(r.json()["id"])


def test_only_administrators_read_the_trail(api: Api) -> None:
    for who in ("province", "city", "institution", "enterprise", "public"):
        r = api.get("/api/v1/audit", who)
        assert r.status_code == 403 and r.json()["error"]["field"] == "role", who
    assert api.get("/api/v1/audit", None).status_code == 401


def test_an_update_is_recorded_with_before_and_after(api: Api) -> None:
    org_id = _org(api)
    r = api.patch(
        f"/api/v1/organisations/{org_id}", "city", json={"contact": "李工"}, headers={"X-Request-ID": "rid-2"}
    )
    entries = api.audit(object_type="organisations", object_id=str(org_id))
    assert [e["action"] for e in entries] == ["update", "create"]  # newest first
    update = entries[0]
    assert update["before"] == {"contact": ""} and update["after"] == {"contact": "李工"}
    assert update["request_id"] == r.headers["x-request-id"] and update["actor_name"] == "city"
    assert update["client_request_id"] == "rid-2"  # kept, labelled as the client's, never as the request id


def test_filters_by_actor_and_request(api: Api) -> None:
    org_id = _org(api)
    mine = api.audit(actor="city")
    assert mine and {e["actor_name"] for e in mine} == {"city"}
    assert api.audit(request_id="rid-create") == []  # a client cannot choose the request id
    created = api.audit(object_type="organisations", object_id=str(org_id))[0]
    by_request = api.audit(request_id=created["request_id"])
    assert [(e["object_type"], e["object_id"]) for e in by_request] == [("organisations", str(org_id))]
    page = api.get("/api/v1/audit", "admin", params={"limit": 2, "offset": 1}).json()
    assert len(page["items"]) == 2 and page["total"] > 3


def test_a_request_without_an_id_gets_one_and_it_is_recorded(api: Api) -> None:
    body = {"credit_code": credit_code(61), "name": "无编号", "kind": "enterprise", "region_code": COUNTY_A}
    r = api.post("/api/v1/organisations", "city", json=body)
    rid = r.headers["x-request-id"]
    assert len(rid) == 32
    assert [e["object_id"] for e in api.audit(request_id=rid)] == [str(r.json()["id"])]


def test_two_changes_sent_with_one_forged_request_id_keep_their_own_ids(api: Api) -> None:
    """Issue 16: two changes sent with X-Request-ID 'forged-request-id' shared it in the audit trail."""
    ids = []
    for n in (62, 63):
        body = {
            "credit_code": credit_code(n),
            "name": f"伪造{n}",
            "kind": "enterprise",
            "region_code": COUNTY_A,
        }
        r = api.post(
            "/api/v1/organisations", "city", json=body, headers={"X-Request-ID": "forged-request-id"}
        )
        assert r.status_code == 201 and r.headers["x-request-id"] != "forged-request-id"
        ids.append(str(r.json()["id"]))
    entries = [api.audit(object_type="organisations", object_id=i)[0] for i in ids]
    assert entries[0]["request_id"] != entries[1]["request_id"]
    assert {e["client_request_id"] for e in entries} == {"forged-request-id"}
