"""The administrator's pages in Chromium at 1400 px and 390 px; saves docs/screenshots/console-admin-*.png."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from jiliang.domain.access import SYSTEM
from jiliang.services import indicators, reminders
from jiliang.services.platform import Platform
from jiliang.store.models import OutboxMessage
from tests.console_support import CHROMIUM_ARGS, PHONE, browser_sign_in, screenshots, serving, world_platform

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (apt-get install chromium)")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Platform]]:
    platform = world_platform(tmp_path_factory.mktemp("admin"))
    from jiliang.services import users

    ent = users.principal_by_username(platform, "enterprise")
    hook, _ = reminders.add_webhook(platform, ent, url="https://receiver.example.gov.cn/jiliang/due")
    with platform.unit_of_work() as s:
        s.add(
            OutboxMessage(
                dedupe_key="demo:dead",
                topic="verification.due",
                webhook_id=hook.id,
                payload={"name": "燃油加油机", "serial_number": "JY-2031", "due_on": "2026-07-01"},
                created_at=platform.now(),
                attempts=12,
                next_attempt_at=platform.now(),
                dead=True,
                last_error="ConnectTimeout: timed out",
            )
        )
    for region, target in (("339900", 0.92), ("339901", 0.95)):
        indicators.set_target(
            platform,
            SYSTEM,
            region_code=region,
            year=platform.today().year,
            indicator="verification_coverage",
            target=target,
            source="演示市计量发展规划",
        )
    with serving(platform) as base:
        yield base, platform
    platform.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def test_admin_pages_at_desktop_and_phone_width(served: tuple[str, Platform], browser: Any) -> None:
    base, _ = served
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    browser_sign_in(page, base, "admin")
    assert page.url.startswith(f"{base}/console/admin")
    for path, name in (
        ("/console/admin", "console-admin"),
        ("/console/admin/users", "console-admin-users"),
        ("/console/admin/users/new", "console-admin-user-new"),
        ("/console/admin/targets", "console-admin-targets"),
        ("/console/admin/webhooks", "console-admin-webhooks"),
    ):
        page.goto(base + path)
        assert page.locator("h1").count() == 1
        screenshots(page, name)
        page.set_viewport_size(PHONE)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], path
        page.set_viewport_size({"width": 1400, "height": 1000})
    # Keyboard: the user list's first link is reachable and opens the account.
    page.goto(base + "/console/admin/users")
    page.click("table a >> nth=0")
    assert page.locator("#display_name").is_visible()
    screenshots(page, "console-admin-user")
    assert errors == []
    page.close()
