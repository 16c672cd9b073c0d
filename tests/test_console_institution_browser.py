"""An institution records a verification with data, three people sign it off, and the certificate is
issued and shows the values — in a real browser (Chromium via Playwright), at 1400 px and at 390 px.

Skipped where Chromium or Playwright is absent; CI installs both. Saves docs/screenshots/institution-*.png
and certificate-*.png.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jiliang.services.platform import Platform
from tests.console_support import CHROMIUM_ARGS, PHONE, browser_sign_in, screenshots, serving
from tests.factories import World
from tests.measured_support import make_staff, scale

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (apt-get install chromium)")


def _world(directory: Path) -> World:
    from jiliang.services import catalogue as catalogue_service
    from jiliang.services import organisations
    from jiliang.settings import Settings
    from tests.conftest import CHEAP_HASH, fixed_now
    from tests.factories import build_world

    platform = Platform.open(
        now=fixed_now,  # the tests' fixed clock, so the screenshots do not change from run to run
        settings=Settings(
            environment="test",
            database_url=f"sqlite:///{directory / 'institution.db'}",
            data_dir=directory,
            **CHEAP_HASH,
        ),
    )
    organisations.ensure_national(platform)
    catalogue_service.ensure_shipped(platform)
    return build_world(platform)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, World, int]]:
    world = _world(tmp_path_factory.mktemp("institution"))
    make_staff(world)
    inst = scale(world, "价签秤-0001")
    with serving(world.platform) as base:
        yield base, world, inst.id
    world.platform.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def _as(browser: Any, base: str, username: str) -> tuple[Any, Any, list[str]]:
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    browser_sign_in(page, base, username)
    return context, page, errors


def test_record_sign_off_issue_and_check_the_certificate(
    served: tuple[str, World, int], browser: Any
) -> None:
    base, _, inst_id = served
    # 1. the verifier finds the scale in the due queue and records the data; the conclusion appears live
    context, page, errors = _as(browser, base, "verifier")
    page.goto(f"{base}/console/institution/queue")
    assert page.locator("h1").count() == 1
    screenshots(page, "institution-queue")
    page.click(f"a[href*='instrument_id={inst_id}']")
    page.fill("#document_no", "JD-2026-0815")
    page.fill("#scale_interval", "0.01")
    rows = [("2", "2.000 2.005", "0.001"), ("15", "15.005", "0.002"), ("30", "30.010", "0.003")]
    for i, (nominal, readings, u) in enumerate(rows, start=1):
        page.fill(f"input[name=p{i}_nominal]", nominal)
        page.fill(f"input[name=p{i}_unit]", "kg")
        page.fill(f"input[name=p{i}_indications]", readings)
        page.fill(f"input[name=p{i}_u]", u)
    page.fill("input[name=q1_label]", "外观与铭牌")
    # the page's own script (under the site's CSP, which forbids eval) fills in the three results
    page.locator("#points .out-result .state").nth(2).wait_for()
    assert "合格" in page.inner_text("#conclusion")
    assert "±1.0 e（m = 1500 e" in page.inner_text("#points")
    screenshots(page, "institution-verification-form")
    page.click("button[value=submit]")
    page.wait_for_url("**/console/institution/verifications/*")
    assert "已记录" in page.inner_text("[role=status]")
    detail_url = page.url.split("?")[0]
    assert errors == []
    context.close()

    # 2. the checker and 3. the approver sign it off in turn, from their queues
    for who, button in (("checker", "核验通过"), ("approver", "批准")):
        context, page, errors = _as(browser, base, who)
        page.goto(f"{base}/console/institution")
        assert page.locator("h1").count() == 1
        if who == "checker":
            screenshots(page, "institution-home")
        page.click("text=JD-2026-0815")
        page.click(f"button:has-text('{button}')")
        page.wait_for_load_state()
        assert errors == []
        if who == "approver":
            assert "已批准" in page.inner_text("#state")
            page.click("#issue")
            page.wait_for_load_state()
            assert "JD-2026-0815" in page.inner_text("#certificate")
            screenshots(page, "institution-verification-detail")
        context.close()

    # 4. anyone scanning the QR code sees the values, the validity and the three people, in local time
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{base}/v/JD-2026-0815")
    text = page.inner_text("main")
    for expected in (
        "检定证书",
        "合格",
        "有效期至",
        "张检定",
        "李核验",
        "王批准",
        "0.005 kg",
        "±0.010 kg",
        "北京时间",
    ):
        assert expected in text, expected
    assert "UTC" not in text
    screenshots(page, "certificate-check")
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    widths = page.eval_on_selector_all("table.kv th", "els => els.map(e => e.getBoundingClientRect().width)")
    assert min(widths) > 80  # the labels are readable, not one character wide
    context.close()

    # 5. the certificate itself, as its holder reads it
    context, page, _ = _as(browser, base, "verifier")
    page.goto(f"{base}/console/institution/certificates/JD-2026-0815")
    assert "15.005 kg" in page.inner_text("#test-points") and "检定证书" in page.inner_text("h1")
    screenshots(page, "certificate")
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    for path, name in (("certificates", "institution-certificates"), ("standards", "institution-standards")):
        page.goto(f"{base}/console/institution/{path}")
        assert page.locator("h1").count() == 1
        screenshots(page, name)
        page.set_viewport_size(PHONE)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], name
    assert "JD-2026-0815" in page.goto(f"{base}/console/institution/certificates").text()
    context.close()
    assert detail_url
