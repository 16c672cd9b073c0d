"""The public random-inspection page: a published plan, its seed and list, re-run on the spot."""

from __future__ import annotations

from fastapi.testclient import TestClient

from jiliang.domain.access import SYSTEM
from jiliang.services import organisations
from jiliang.services.market import plans
from jiliang.services.platform import Platform


def _drawn_plan(platform: Platform) -> int:
    organisations.add_region(platform, SYSTEM, "330000", "浙江省")
    organisations.add_region(platform, SYSTEM, "339900", "演示市")
    from tests.factories import credit_code

    for k in range(6):
        organisations.add_organisation(
            platform,
            SYSTEM,
            credit_code=credit_code(70 + k, "339900"),
            name=f"集贸市场 <{k}>",
            kind="market_operator",
            region_code="339900",
        )
    for k in range(3):
        plans.add_inspector(platform, SYSTEM, name=f"执法员 {k}", region_code="339900")
    plan = plans.create_plan(
        platform,
        SYSTEM,
        {"name": "集贸市场抽查", "region_code": "339900", "org_kinds": ["market_operator"], "ratio": 0.5},
    )
    plans.commit_seed(platform, SYSTEM, plan["id"])
    return int(plan["id"])


def test_committed_plan_shows_its_commitment_but_not_its_seed(
    platform: Platform, web_client: TestClient
) -> None:
    pid = _drawn_plan(platform)
    r = web_client.get(f"/market/draws/{pid}")
    assert r.status_code == 200
    assert "种子承诺值" in r.text and 'id="seed"' not in r.text
    plans.draw_plan(platform, SYSTEM, pid)
    r = web_client.get(f"/market/draws/{pid}?lang=en")
    assert r.status_code == 200
    assert 'id="seed"' in r.text and "the same list" in r.text
    assert "&lt;" in r.text and "集贸市场 <" not in r.text  # names are escaped
    listing = web_client.get("/market/draws")
    assert listing.status_code == 200 and f"/market/draws/{pid}" in listing.text


def test_a_draft_or_unknown_plan_is_not_found(platform: Platform, web_client: TestClient) -> None:
    assert web_client.get("/market/draws/999").status_code == 404
