"""Market supervision over HTTP: a supervisor publishes a seed and draws, the public re-runs the draw,
a complaint is made anonymously and followed by its receipt code, and refusals come back precisely."""

from __future__ import annotations

from jiliang.domain.access import SYSTEM
from jiliang.services import organisations
from tests.api.conftest import Api, bilingual
from tests.factories import COUNTY_A, credit_code


def test_draw_published_and_rerun_by_anyone(api: Api) -> None:
    for k in range(6):
        organisations.add_organisation(
            api.world.platform,
            SYSTEM,
            credit_code=credit_code(50 + k),
            name=f"集贸市场 {k}",
            kind="market_operator",
            region_code=COUNTY_A,
        )
    for k in range(3):
        r = api.post(
            "/api/v1/market/inspectors", "city", json={"name": f"执法员 {k}", "region_code": "339900"}
        )
        assert r.status_code == 201, r.text
    r = api.post(
        "/api/v1/market/plans",
        "city",
        json={
            "name": "集贸市场抽查",
            "region_code": "339900",
            "org_kinds": ["market_operator"],
            "ratio": 0.5,
        },
    )
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    assert api.post(f"/api/v1/market/plans/{pid}/commit", "enterprise", json={}).status_code == 403
    r = api.post(f"/api/v1/market/plans/{pid}/commit", "city", json={})
    assert r.status_code == 200 and r.json()["seed"] is None
    commitment = r.json()["seed_commitment"]
    r = api.get(f"/api/v1/public/market/plans/{pid}", None)
    assert r.status_code == 200 and r.json()["plan"]["seed_commitment"] == commitment
    r = api.post(f"/api/v1/market/plans/{pid}/draw", "city", json={})
    assert r.status_code == 200, r.text
    listed = [t["organisation_id"] for t in r.json()["targets"]]
    assert len(listed) == 3
    r = api.get(f"/api/v1/public/market/plans/{pid}/rerun", None)
    assert r.status_code == 200 and r.json()["matches"] is True and r.json()["drawn"] == listed
    r = api.post(f"/api/v1/market/plans/{pid}/draw", "city", json={})
    assert r.status_code == 409 and bilingual(r.json()["error"]["message"])
    # A team changed by hand over the API, with its reason; the same team again is refused.
    from sqlalchemy import select

    from jiliang.store.models import MarketTarget

    with api.world.platform.reading() as s:
        target = s.scalars(select(MarketTarget).where(MarketTarget.plan_id == pid)).first()
        assert target is not None
        tid, team = target.id, list(target.inspector_ids)
    pool = [i["id"] for i in api.get("/api/v1/market/inspectors", "city").json()]
    spare = next(i for i in pool if i not in team)
    r = api.put(f"/api/v1/market/targets/{tid}/inspectors", "city", json={"inspector_ids": [spare], "reason": "病假"})
    assert r.status_code == 200 and r.json()["inspector_ids"] == [spare] and r.json()["before"] == sorted(team)
    r = api.put(f"/api/v1/market/targets/{tid}/inspectors", "city", json={"inspector_ids": [spare]})
    assert r.status_code == 422 and r.json()["error"]["field"] == "inspector_ids"


def test_net_content_check_is_public_and_refuses_precisely(api: Api) -> None:
    body = {
        "organisation_id": 1,
        "nominal": "500 g",
        "lot_size": 12,
        "measurements": [501, 502, 499, 500, 503, 498, 500, 501, 502, 500],
    }
    r = api.post("/api/v1/public/market/net-content/check", None, json=body)
    assert r.status_code == 200, r.text
    assert r.json()["verdict"] == "pass" and r.json()["lambda"] == 1.028
    r = api.post("/api/v1/public/market/net-content/check", None, json={**body, "lot_size": 120})
    assert r.status_code == 422 and r.json()["error"]["field"] == "measurements"
    r = api.post(
        "/api/v1/public/market/net-content/check",
        None,
        json={**body, "measurements": ["500 g", "0.5 kg", *body["measurements"][2:]]},
    )
    assert r.status_code == 422 and "mixes units" in r.json()["error"]["message"]


def test_anonymous_complaint_and_its_receipt(api: Api) -> None:
    r = api.post(
        "/api/v1/public/market/complaints",
        None,
        json={"region_code": COUNTY_A, "subject_name": "某超市", "content": "电子秤作弊"},
    )
    assert r.status_code == 201, r.text
    code = r.json()["receipt_code"]
    assert r.json()["anonymous"] is True
    r = api.get(f"/api/v1/public/market/complaints/{code}", None)
    assert r.status_code == 200 and r.json()["status"] == "received"
    assert api.get("/api/v1/market/complaints", "other_city").json() == []
    assert len(api.get("/api/v1/market/complaints", "city").json()) == 1
