"""The indicators page in a real browser (Debian's Chromium driven by Playwright) over a live server.

Skipped where Chromium or Playwright is absent; `.ci/run` installs both so CI runs it for real.
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from jiliang.api.app import create_app
from jiliang.demo import DemoConfig, build_demo
from jiliang.domain.access import SYSTEM
from jiliang.legal.coverage import Indicator
from jiliang.services import indicators
from jiliang.services.platform import Platform
from jiliang.settings import Settings

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (apt-get install chromium)")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Platform]]:
    import uvicorn

    db = tmp_path_factory.mktemp("browser") / "demo.db"
    platform = Platform.open(
        Settings(database_url=f"sqlite:///{db}", argon2_memory_kib=1024, argon2_time_cost=1)
    )
    build_demo(platform, DemoConfig(instruments=2000, seed=11), password="demo-password-123")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(platform), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    yield f"http://127.0.0.1:{port}/", platform
    server.should_exit = True
    thread.join(timeout=10)
    platform.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield b
        b.close()


def test_page_renders_the_charts_and_the_real_numbers(
    served: tuple[str, Platform], browser: object, tmp_path: Path
) -> None:
    url, platform = served
    page = browser.new_page(viewport={"width": 1400, "height": 1600})  # type: ignore[attr-defined]
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    # ECharts (served from the package, no network) draws both charts onto canvases
    page.wait_for_selector("#trend canvas", timeout=15000)
    page.wait_for_selector("#items canvas", timeout=15000)
    assert errors == []
    rate = indicators.report(platform, SYSTEM, region="339900").get(Indicator.VERIFICATION_COVERAGE, "339900")
    assert rate is not None and rate.rate is not None
    assert f"{rate.rate * 100:.2f} %" in page.inner_text("#card-coverage")
    assert page.locator("#region-table tbody tr").count() >= 6  # the city and its counties
    page.screenshot(path=str(tmp_path / "indicators.png"), full_page=True)
    assert (tmp_path / "indicators.png").stat().st_size > 10_000

    page.click("text=English")
    page.wait_for_selector("#trend canvas")
    assert "coverage" in page.inner_text("#card-coverage").lower()
    assert page.evaluate("document.documentElement.lang") == "en"
    page.close()


def test_a_county_link_narrows_the_page(served: tuple[str, Platform], browser: object) -> None:
    url, platform = served
    page = browser.new_page()  # type: ignore[attr-defined]
    page.goto(url)
    page.click("#region-table a:has-text('北岭县')")
    page.wait_for_selector("#trend canvas")
    county = indicators.report(platform, SYSTEM, region="339922").get(
        Indicator.VERIFICATION_COVERAGE, "339922"
    )
    assert county is not None and county.rate is not None
    assert "339922" in page.url
    assert f"{county.rate * 100:.2f} %" in page.inner_text("#card-coverage")
    page.close()


def test_public_verification_page_upload_and_qr_target(
    served: tuple[str, Platform], browser: object, tmp_path: Path
) -> None:
    """Issue 3's "done": the demo's certificate checks out on the public page, a one-byte change does not."""
    from sqlalchemy import select

    from jiliang.store.models import Certificate

    url, platform = served
    with platform.reading() as s:
        number, document = s.execute(
            select(Certificate.number, Certificate.document).where(Certificate.status == "valid").limit(1)
        ).one()
    genuine, altered = tmp_path / "genuine.xml", tmp_path / "altered.xml"
    genuine.write_bytes(document)
    changed = bytearray(document)
    at = document.index(b"<si:value>") + len(b"<si:value>")
    changed[at] = ord("9") if changed[at] != ord("9") else ord("8")
    altered.write_bytes(bytes(changed))

    page = browser.new_page()  # type: ignore[attr-defined]

    def upload(path: Path) -> str:
        page.goto(url + "verify")
        page.set_input_files("input[name=file]", str(path))
        page.click("button[type=submit]")
        page.wait_for_selector("#verdict")
        return str(page.inner_text("#verdict"))

    assert "证书真实有效" in upload(genuine)
    assert "索引" in page.inner_text("#log")
    assert "核验未通过" in upload(altered)
    assert "document_altered" in page.inner_text("#steps")

    page.goto(f"{url}v/{number}")  # where the printed QR code leads
    assert "证书真实有效" in page.inner_text("#verdict")
    assert page.inner_text("#number") == number
    page.close()


def test_uncertainty_calculator_draws_the_budget(served: tuple[str, Platform], browser: object) -> None:
    """A lab pastes a model file and reads the budget, drawn by ECharts from the engine's numbers."""
    url, _ = served
    page = browser.new_page(viewport={"width": 1400, "height": 1400})  # type: ignore[attr-defined]
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url + "uncertainty?example=ea4_02_s2_mass")
    page.click("button:has-text('评定')")
    page.wait_for_selector("#budget-0 canvas", timeout=15000)
    assert errors == []
    assert "(10000.025 ± 0.058) g" in page.inner_text("#result")
    assert "59.6 %" in page.inner_text("table.budget")
    page.close()
