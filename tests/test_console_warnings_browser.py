"""The warning pages in Chromium: a supervisor finds a critical warning in the list, sees its evidence
chart (drawn by the static script from the page's JSON) and table, assigns it to themself, records the
on-site inspection on a 390 px phone, disposes of it and closes it. Saves docs/screenshots/console-warning*.png."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from jiliang.services.platform import Platform
from tests.console_support import CHROMIUM_ARGS, PHONE, browser_sign_in, screenshots, serving, world_platform
from tests.factories import World
from tests.test_warning_workflow import _seal_warning

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (apt-get install chromium)")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    from jiliang.services import users

    platform: Platform = world_platform(tmp_path_factory.mktemp("warnings"))
    names = ("city", "enterprise", "other_city")
    principals = {n: users.principal_by_username(platform, n) for n in names}
    world = World(platform, principals["enterprise"].organisation_id or 0, 0, 0, 0, {}, principals)
    wid = _seal_warning(world, "FD-BW1", "FDBW1")
    with serving(platform) as base:
        yield base, wid
    platform.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def _fits_phone(page: Any, what: str) -> None:
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], what
    page.set_viewport_size({"width": 1400, "height": 1000})


def test_a_warning_is_worked_to_closure_in_the_browser(served: tuple[str, int], browser: Any) -> None:
    base, wid = served
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    browser_sign_in(page, base, "city")
    page.goto(base + "/console/warnings")
    assert page.locator("h1").count() == 1
    screenshots(page, "console-warnings")
    _fits_phone(page, "list")
    page.click(f"a[href^='/console/warnings/{wid}']")
    page.locator("#evidence-chart canvas").first.wait_for()  # ECharts drew the evidence
    assert page.locator("#evidence-table tbody tr").count() >= 5
    page.click("#do-assign")
    page.wait_for_load_state()
    assert page.locator("#warning-state").inner_text() == "已派发"
    page.set_viewport_size(PHONE)  # the inspector on site
    page.fill("#findings", "铅封被破坏，主板有改动痕迹")
    page.check("input[name=confirmed][value=true]")
    page.fill("#measured_error", "-0.9")
    screenshots(page, "console-warning-inspect")
    page.set_viewport_size(PHONE)
    page.click("#do-inspect")
    page.wait_for_load_state()
    assert page.locator("#warning-state").inner_text() == "已核查"
    page.check("input[name=disposal][value=sealed]")
    page.click("#do-dispose")
    page.wait_for_load_state()
    assert "停用" in page.locator("#instrument-status").inner_text()
    page.click("#do-close")
    page.wait_for_load_state()
    assert page.locator("#warning-state").inner_text() == "已办结"
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshots(page, "console-warning-closed")
    page.goto(base + "/console/warnings/risk")
    screenshots(page, "console-warnings-risk")
    _fits_phone(page, "risk")
    assert errors == []
    page.close()
