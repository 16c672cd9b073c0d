"""The inspector pool, declared relations, reassigning a drawn target's team by hand, and the public
net-content calculator — signed in through /login on SQLite and PostgreSQL (tests/console_support.py)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from jiliang.domain.access import SYSTEM
from jiliang.services import organisations
from jiliang.services.market import plans
from jiliang.store.models import AuditEntry, LogQueueEntry, MarketInspector
from tests.console_support import Console, form_token
from tests.factories import COUNTY_A, OTHER_CITY, credit_code
from tests.test_console_market import _drawn_plan, _market, _post

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _inspector_id(console: Console, name: str) -> int:
    with console.world.platform.reading() as s:
        found = s.scalar(select(MarketInspector.id).where(MarketInspector.name == name))
        assert found is not None
        return int(found)


def test_pool_lists_the_jurisdiction_adds_and_declares_relations(console: Console) -> None:
    m = _market(console)
    client = console.client_for("city")
    pool = client.get("/console/market/inspectors")
    assert pool.status_code == 200 and "张执法" in pool.text and "赵执法" not in pool.text  # own city only
    assert 'href="/console/market/inspectors"' in client.get("/console/market").text
    page = "/console/market/inspectors"
    # An organisation named in words: several match → listed back, nothing stored.
    several = _post(client, page, {"name": "孙执法", "region_code": "339900", "organisation": "东城农贸"}, page)
    assert several.status_code == 422 and "东城农贸市场1号摊位" in several.text  # type: ignore[attr-defined]
    assert 'value="孙执法"' in several.text  # type: ignore[attr-defined]
    added = _post(
        client, page, {"name": "孙执法", "region_code": "339900", "organisation": "东城农贸市场2号摊位"}, page
    )
    assert added.status_code == 303  # type: ignore[attr-defined]
    shown = client.get("/console/market/inspectors")
    assert "孙执法" in shown.text and "东城农贸市场2号摊位" in shown.text
    # Declare a relation by credit code; the detail page shows it and the pool lists it.
    zhang = _inspector_id(console, "张执法")
    detail = f"/console/market/inspectors/{zhang}"
    declared = _post(
        client, f"{detail}/relations", {"organisation": credit_code(42), "note": "配偶在此经营"}, detail
    )
    assert declared.status_code == 303, declared.text[:300]  # type: ignore[attr-defined]
    assert "配偶在此经营" in client.get(detail).text and "东城农贸市场3号摊位" in client.get(detail).text
    twice = _post(client, f"{detail}/relations", {"organisation": "东城农贸市场3号摊位"}, detail)
    assert twice.status_code == 422 and "已申报" in twice.text  # type: ignore[attr-defined]
    # Deactivate and reactivate; audited.
    assert _post(client, f"{detail}/active", {"active": "0"}, detail).status_code == 303  # type: ignore[attr-defined]
    assert "已停用" in client.get(detail).text
    _post(client, f"{detail}/active", {"active": "1"}, detail)
    with console.world.platform.reading() as s:
        assert s.scalar(
            select(AuditEntry.id).where(AuditEntry.object_type == "market_inspector_relations")
        ) is not None
    # Another city's inspector: not found, on GET and POST.
    zhao = _inspector_id(console, "赵执法")
    assert client.get(f"/console/market/inspectors/{zhao}").status_code == 404
    token = form_token(client, page)
    for path, data in (
        (f"/console/market/inspectors/{zhao}/relations", {"organisation": "东城农贸市场1号摊位"}),
        (f"/console/market/inspectors/{zhao}/active", {"active": "0"}),
    ):
        assert client.post(path, data={**data, "csrf_token": token}).status_code == 404, path
    assert m.stalls


def test_reassigning_refuses_a_conflict_by_name_and_logs_the_change(console: Console) -> None:
    m = _market(console)
    p = console.world.platform
    # An inspector who works for a stall, and one with a declared relation.
    own = plans.add_inspector(p, SYSTEM, name="周兼职", region_code="339900", organisation_id=m.stalls[0])
    plans.add_inspector(p, SYSTEM, name="吴执法", region_code="339900")
    client = console.client_for("city")
    pid = _drawn_plan(client)
    targets = plans.plan_targets(p, console.world.as_("city"), pid)
    target = next((t for t in targets if t["organisation_id"] == m.stalls[0]), targets[0])
    tpage = f"/console/market/targets/{target['id']}"
    page = client.get(tpage)
    assert page.status_code == 200 and 'id="reassign-form"' in page.text and "周兼职" in page.text
    chosen = [str(i) for i in re.findall(r'name="inspector_ids" value="(\d+)" checked', page.text)]
    assert len(chosen) == 2  # the drawn team is ticked
    free = [i for i in re.findall(r'name="inspector_ids" value="(\d+)"', page.text) if i not in chosen]
    # A conflict is refused naming the inspector: declared relation with this organisation.
    victim = int(free[0]) if str(own["id"]) != free[0] else int(free[-1])
    plans.declare_relation(p, console.world.as_("city"), victim, target["organisation_id"], "亲属")
    with p.reading() as s:
        victim_name = s.get(MarketInspector, victim).name  # type: ignore[union-attr]
    refused = _post(client, f"{tpage}/inspectors", {"inspector_ids": [chosen[0], str(victim)]}, tpage)
    assert refused.status_code == 422  # type: ignore[attr-defined]
    assert victim_name in refused.text and "利害关系" in refused.text  # type: ignore[attr-defined]
    if target["organisation_id"] == m.stalls[0]:
        own_org = _post(client, f"{tpage}/inspectors", {"inspector_ids": [str(own["id"])]}, tpage)
        assert own_org.status_code == 422 and "周兼职" in own_org.text  # type: ignore[attr-defined]
    # A valid change: one member replaced. Audited, and a leaf with the team before and after.
    replacement = next(i for i in free if int(i) not in (victim, own["id"]))
    ok = _post(
        client, f"{tpage}/inspectors", {"inspector_ids": [chosen[0], replacement], "reason": "病假"}, tpage
    )
    assert ok.status_code == 303, ok.text[:400]  # type: ignore[attr-defined]
    after = client.get(ok.headers["location"]).text  # type: ignore[attr-defined]
    assert re.search(rf'value="{replacement}" checked', after) and "已保存" in after
    with p.reading() as s:
        kinds = [k for (k,) in s.execute(select(LogQueueEntry.kind).order_by(LogQueueEntry.id))]
        assert kinds[-1] == "market_inspectors_reassigned"
        assert s.scalar(select(AuditEntry.id).where(AuditEntry.object_type == "market_targets", AuditEntry.action == "update")) is not None
    # Another city's target: not found.
    token = form_token(client, tpage)
    answer = client.post(
        f"/console/market/targets/{m.other_target}/inspectors",
        data={"inspector_ids": [chosen[0]], "csrf_token": token},
    )
    assert answer.status_code == 404


def test_public_calculator_reports_each_criterion_without_signing_in(console: Console) -> None:
    citizen = console.client()
    page = "/public/market/net-content"
    form = citizen.get(page)
    assert form.status_code == 200 and "净含量计算器" in form.text and "EU-76/211/EEC" in form.text
    assert 'href="/public/market/net-content' in citizen.get("/public/market").text
    # Lot of 40 → n = 10, T(500 g) = 15 g, λ = 1.028. Values: 9 × 501 and 1 × 484 (short 16 > T, ≤ 2T):
    # units beyond T 1 > 0 allowed → fail.
    values = " ".join(["501"] * 9 + ["484"])
    data = {"ruleset": "JJF1070-2023", "nominal": "500", "unit": "g", "lot_size": "40", "measurements": values}
    assert citizen.post(page, data=data).status_code == 403  # the pre-session CSRF token is required
    answer = citizen.post(page, data={**data, "csrf_token": form_token(citizen, page)})
    assert answer.status_code == 200
    assert "✕ 不符合" in answer.text and 'id="criteria"' in answer.text and "15" in answer.text
    assert "1.028" in answer.text
    # The same lot with no unit short: pass; the EU rule set needs 30 values for 400 (λ 0.503).
    good = {**data, "measurements": " ".join(["501"] * 10), "csrf_token": form_token(citizen, page)}
    assert "✓ 合格" in citizen.post(page, data=good).text or "✓" in citizen.post(page, data=good).text
    eu = {
        "ruleset": "EU-76/211/EEC",
        "nominal": "500",
        "unit": "g",
        "lot_size": "400",
        "measurements": " ".join(["503", "497"] * 15),
        "csrf_token": form_token(citizen, page),
    }
    answer = citizen.post(f"{page}?lang=en", data=eu)
    assert answer.status_code == 200 and "0.503" in answer.text and "confirmed" in answer.text
    # Bad input is refused naming the field, with what was typed kept.
    mixed = {**data, "measurements": "500 g, 0.5 kg", "csrf_token": form_token(citizen, page)}
    refused = citizen.post(page, data=mixed)
    assert refused.status_code == 422 and 'aria-invalid="true"' in refused.text and "0.5 kg" in refused.text
    wrong_n = {**data, "measurements": "500 500", "csrf_token": form_token(citizen, page)}
    assert citizen.post(page, data=wrong_n).status_code == 422
    assert organisations is not None and COUNTY_A and OTHER_CITY


def test_date_fields_default_to_the_day_in_beijing(console: Console, monkeypatch: pytest.MonkeyPatch) -> None:
    """At 17:00 UTC on 15 June it is already 16 June in Beijing: forms default to 16 June and accept it,
    and refuse 17 June as in the future."""
    from datetime import UTC, date, datetime

    p = console.world.platform
    monkeypatch.setattr(p, "now", lambda: datetime(2026, 6, 15, 17, 0, tzinfo=UTC))
    m = _market(console)
    client = console.client_for("city")
    pid = _drawn_plan(client)
    assert p.today() == date(2026, 6, 15) and p.local_today() == date(2026, 6, 16)
    target = plans.plan_targets(p, console.world.as_("city"), pid)[0]["id"]
    tpage = f"/console/market/targets/{target}"
    shown = client.get(tpage).text
    assert 'max="2026-06-16" value="2026-06-16"' in shown, re.findall(r'id="inspected_on"[^>]*>', shown)
    for page in ("/console/market/net-content", f"/console/market/credit/{m.stalls[0]}"):
        assert 'value="2026-06-16"' in client.get(page).text, page
    future = _post(client, tpage, {"inspected_on": "2026-06-17", "conclusion": "pass"}, tpage)
    assert future.status_code == 422  # type: ignore[attr-defined]
    ok = _post(client, tpage, {"inspected_on": "2026-06-16", "conclusion": "pass"}, tpage)
    assert ok.status_code == 303  # type: ignore[attr-defined]
    # The other consoles' date fields alike: an enterprise files an instrument, an institution records.
    enterprise = console.client_for("enterprise")
    assert 'value="2026-06-16"' in enterprise.get("/console/enterprise/instruments/new").text


def test_the_field_form_takes_any_number_of_instruments_without_javascript(console: Console) -> None:
    _market(console)
    client = console.client_for("city")
    pid = _drawn_plan(client)
    target = plans.plan_targets(console.world.platform, console.world.as_("city"), pid)[0]["id"]
    tpage = f"/console/market/targets/{target}"
    first = client.get(tpage).text
    assert 'id="row-2"' in first and 'id="row-3"' not in first and 'id="add-row"' in first
    typed = {"inspected_on": "2026-06-15", "findings": "五台秤", "description_0": "电子秤 1", "error_0": "1"}
    more = _post(client, tpage, {**typed, "rows": "3", "add_row": "1"}, tpage)
    assert more.status_code == 200  # type: ignore[attr-defined]
    assert 'id="row-3"' in more.text and 'value="电子秤 1"' in more.text  # type: ignore[attr-defined]
    assert "已保存" not in more.text  # type: ignore[attr-defined]  # nothing was saved
    five = {f"description_{i}": f"电子秤 {i + 1}" for i in range(5)}
    five.update({f"error_{i}": str(i) for i in range(5)})
    five.update({f"mpe_{i}": "5" for i in range(5)})
    five.update({f"unit_{i}": "g" for i in range(5)})
    saved = _post(client, tpage, {**five, "rows": "5", "inspected_on": "2026-06-15", "conclusion": "pass"}, tpage)
    assert saved.status_code == 303, saved.text[:300]  # type: ignore[attr-defined]
    shown = client.get(tpage).text
    assert all(f"电子秤 {i + 1}" in shown for i in range(5)) and shown.count("✓ 在允许误差内") == 5
    from jiliang.errors import InvalidInput
    from jiliang.services.market import results

    too_many = [{"description": "x", "measured_error": "0", "mpe": "1"}] * (results.MAX_INSTRUMENTS + 1)
    with pytest.raises(InvalidInput) as err:
        results.record_result(
            console.world.platform,
            console.world.as_("city"),
            target,
            {"inspected_on": "2026-06-15", "conclusion": "pass", "instruments": too_many, "supersedes_id": None},
        )
    assert err.value.field == "instruments"
