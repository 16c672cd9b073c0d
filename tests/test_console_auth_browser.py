"""Signing in to the console in a real browser (Chromium via Playwright), at 1400 px and at 390 px.

Skipped where Chromium or Playwright is absent; CI installs both. Saves docs/screenshots/console-*.png.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jiliang.services.platform import Platform
from tests.console_support import CHROMIUM_ARGS, PHONE, browser_sign_in, screenshots, serving, world_platform

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (apt-get install chromium)")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Platform]]:
    platform = world_platform(tmp_path_factory.mktemp("console"))
    with serving(platform) as base:
        yield base, platform
    platform.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def test_sign_in_wrong_then_right_then_out(served: tuple[str, Platform], browser: Any) -> None:
    base, _ = served
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{base}/console")
    assert page.url.startswith(f"{base}/login?next=")
    assert page.inner_text("h1") == "登录"
    screenshots(page, "console-login")

    page.fill("#username", "city")
    page.fill("#password", "not the password")
    page.click("button[type=submit]")
    assert "用户名或密码错误" in page.inner_text("[role=alert]")
    assert page.input_value("#username") == "city"

    page.fill("#password", "correct horse battery")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/console/supervision?lang=zh")  # /console sends each role to its home
    assert page.locator("h1").count() == 1
    assert "计量监管人员" in page.inner_text("header")
    cookie = next(c for c in context.cookies() if c["name"] == "jl_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    assert page.evaluate("document.cookie").find("jl_session") == -1  # scripts cannot read it
    screenshots(page, "console-home")

    page.click("text=修改密码")
    assert page.inner_text("h1") == "修改密码"
    screenshots(page, "console-password")

    page.click("text=English")
    assert page.inner_text("h1") == "Change password"
    page.click("button:has-text('Sign out')")
    page.wait_for_url(f"{base}/login?lang=en")
    page.goto(f"{base}/console")
    assert "/login" in page.url
    assert errors == []
    context.close()


def test_phone_width_has_no_sideways_scroll(served: tuple[str, Platform], browser: Any) -> None:
    base, _ = served
    page = browser.new_page(viewport=PHONE)
    for who in ("admin", "institution", "enterprise"):
        browser_sign_in(page, base, who)
        page.goto(f"{base}/console")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        assert page.locator("button:has-text('退出')").is_visible()
        page.click("button:has-text('退出')")
        page.wait_for_url(f"{base}/login?lang=zh")
    page.close()


def test_screenshots_exist() -> None:
    shots = Path(__file__).parents[1] / "docs" / "screenshots"
    assert (shots / "console-login.png").exists() and (shots / "console-login-phone.png").exists()
