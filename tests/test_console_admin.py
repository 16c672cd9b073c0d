"""The administrator's console pages: accounts, plan targets, webhooks and the outbox (issue 10)."""

from __future__ import annotations

import re

from sqlalchemy import select

from jiliang.domain.access import SYSTEM
from jiliang.services import indicators, reminders, users
from jiliang.services.platform import Platform
from jiliang.store.models import OutboxMessage, User
from tests.console_support import Console, form_token, sign_in
from tests.factories import PASSWORD, credit_code


def _id(platform: Platform, username: str) -> int:
    with platform.reading() as s:
        return int(s.scalar(select(User.id).where(User.username == username)) or 0)


def test_every_admin_page_renders_for_the_administrator(console: Console) -> None:
    admin = console.client_as("administrator")
    assert admin.get("/console", follow_redirects=False).headers["location"].startswith("/console/admin")
    for path in (
        "/console/admin",
        "/console/admin/users",
        "/console/admin/users/new",
        "/console/admin/targets",
        "/console/admin/webhooks",
    ):
        for lang in ("zh", "en"):
            page = admin.get(f"{path}?lang={lang}")
            assert page.status_code == 200, path
            assert page.text.count("<h1") == 1
            assert 'style="' not in page.text and "<script>" not in page.text
    listing = admin.get("/console/admin/users?lang=zh").text
    assert "演示市计量检定测试院" in listing and "计量监管人员" in listing  # names, not ids or enum values
    assert "supervisor<" not in listing


def test_other_roles_cannot_reach_admin_pages(console: Console) -> None:
    for role in ("supervisor", "institution", "enterprise", "public"):
        client = console.client_as(role)
        assert client.get("/console/admin/users").status_code == 403
        token = form_token(client, "/console")
        answer = client.post(
            f"/console/admin/users/{_id(console.world.platform, 'city')}/password", data={"csrf_token": token}
        )
        assert answer.status_code == 403


def test_create_an_enterprise_account_by_credit_code_then_it_signs_in(
    console: Console, platform: Platform
) -> None:
    admin = console.client_as("administrator")
    token = form_token(admin, "/console/admin/users/new")
    data = {
        "username": "station-2",
        "password": "a long password",
        "role": "enterprise",
        "jurisdiction": "339901",
        "display_name": "东城加油站二号",
        "organisation_credit_code": "",
        "csrf_token": token,
    }
    refused = admin.post("/console/admin/users/new", data=data)
    assert (
        refused.status_code == 422 and "须关联单位" in refused.text and 'aria-invalid="true"' in refused.text
    )
    created = admin.post(
        "/console/admin/users/new",
        data={**data, "organisation_credit_code": credit_code(1)},
        follow_redirects=False,
    )
    assert created.status_code == 303
    page = admin.get(created.headers["location"])
    assert "账户已创建" in page.text and "东城加油站" in page.text
    assert "<strong>admin</strong>" in page.text  # the layout still names the signed-in administrator
    sign_in(console.client(), "station-2", "a long password")


def test_disable_and_reset_password_end_the_account_s_sessions(console: Console, platform: Platform) -> None:
    admin = console.client_as("administrator")
    victim = console.client_for("county_b")
    uid = _id(platform, "county_b")
    token = form_token(admin, f"/console/admin/users/{uid}")
    reset = admin.post(f"/console/admin/users/{uid}/password", data={"csrf_token": token})
    new_password = re.search(r'id="new-password">([^<]+)<', reset.text)
    assert new_password
    assert victim.get("/console", follow_redirects=False).status_code == 303  # signed out
    sign_in(console.client(), "county_b", new_password.group(1))
    again = console.client_for("county_b", new_password.group(1))
    form = {"display_name": "西城县局", "role": "supervisor", "jurisdiction": "339902", "csrf_token": token}
    saved = admin.post(
        f"/console/admin/users/{uid}", data=form, follow_redirects=False
    )  # no "active": disable
    assert saved.status_code == 303
    assert again.get("/console", follow_redirects=False).status_code == 303
    c = console.client()
    t = form_token(c)
    assert (
        c.post(
            "/login", data={"username": "county_b", "password": new_password.group(1), "csrf_token": t}
        ).status_code
        == 401
    )
    assert users.get_user(platform, SYSTEM, uid).active is False


def test_an_administrator_cannot_disable_themselves(console: Console, platform: Platform) -> None:
    admin = console.client_as("administrator")
    uid = _id(platform, "admin")
    token = form_token(admin, f"/console/admin/users/{uid}")
    answer = admin.post(
        f"/console/admin/users/{uid}",
        data={"role": "administrator", "jurisdiction": "000000", "csrf_token": token},
    )
    assert answer.status_code == 422 and "不能停用自己" in answer.text


def test_a_regional_administrator_reaches_only_accounts_in_their_region(
    console: Console, platform: Platform
) -> None:
    users.create_user(
        platform,
        SYSTEM,
        username="city-admin",
        password=PASSWORD,
        role="administrator",
        jurisdiction="339900",
    )
    client = console.client_for("city-admin")
    listing = client.get("/console/admin/users").text
    assert "county_b" in listing and "other_city" not in listing and ">admin<" not in listing
    outside = _id(platform, "other_city")
    assert client.get(f"/console/admin/users/{outside}").status_code == 404  # a tampered id: not found
    token = form_token(client, "/console")
    assert (
        client.post(f"/console/admin/users/{outside}/password", data={"csrf_token": token}).status_code == 404
    )
    assert client.get("/console/admin/users/99999999").status_code == 404
    too_big = client.get(f"/console/admin/users/{2**70}")
    assert too_big.status_code == 422 and "user_id" in too_big.text and "<h1" in too_big.text


def test_set_a_plan_target_in_percent(console: Console, platform: Platform) -> None:
    admin = console.client_as("administrator")
    token = form_token(admin, "/console/admin/targets")
    data = {
        "region_code": "339900",
        "year": "2026",
        "indicator": "verification_coverage",
        "csrf_token": token,
        "target_percent": "120",
        "source": "演示市计量发展规划（2021—2025）",
    }
    refused = admin.post("/console/admin/targets", data=data)
    assert (
        refused.status_code == 422
        and 'id="target_percent"' in refused.text
        and 'aria-invalid="true"' in refused.text
    )
    ok = admin.post("/console/admin/targets", data={**data, "target_percent": "92.5"}, follow_redirects=False)
    assert ok.status_code == 303
    page = admin.get(ok.headers["location"]).text
    assert "92.5 %" in page and "演示市" in page and "强检计量器具检定覆盖率" in page
    assert indicators.targets_for(platform, 2026)[("339900", "verification_coverage")] == 0.925


def test_webhooks_and_outbox_state_pause_and_retry(console: Console, platform: Platform) -> None:
    world = console.world
    hook, _ = reminders.add_webhook(platform, world.as_("enterprise"), url="http://127.0.0.1:9/never-answers")
    with platform.unit_of_work() as s:
        for i, dead in enumerate((True, False)):
            s.add(
                OutboxMessage(
                    dedupe_key=f"test:{i}",
                    topic="verification.due",
                    webhook_id=hook.id,
                    payload={"name": "加油机", "serial_number": f"SN-{i}", "due_on": "2026-07-01"},
                    created_at=platform.now(),
                    attempts=12 if dead else 2,
                    next_attempt_at=platform.now(),
                    dead=dead,
                    last_error="ConnectError: refused",
                )
            )
    admin = console.client_as("administrator")
    page = admin.get("/console/admin/webhooks").text
    assert "东城加油站" in page and "加油机 · SN-0" in page and "ConnectError" in page and "已放弃" in page
    token = form_token(admin, "/console/admin/webhooks")
    paused = admin.post(
        f"/console/admin/webhooks/{hook.id}/active", data={"active": "off", "csrf_token": token}
    )
    assert paused.status_code == 200 and "已暂停" in paused.text
    retried = admin.post("/console/admin/outbox/retry", data={"csrf_token": token})
    assert "已重新排队 1 条消息" in retried.text
    assert reminders.outbox_state(platform, SYSTEM).dead == 0
