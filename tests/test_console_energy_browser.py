"""The energy pages in Chromium at 1400 px and 390 px: the supervisor opens a unit from the regional view and
its review report (every shortfall with its clause); the enterprise's self-check page. Saves
docs/screenshots/console-energy-*.png."""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from jiliang.domain.access import SYSTEM
from jiliang.services.energy import carbon_review, readings, regional, reviews
from jiliang.services.platform import Platform
from jiliang.store.models import Instrument
from tests.console_support import CHROMIUM_ARGS, PHONE, browser_sign_in, screenshots, serving, world_platform
from tests.factories import World
from tests.test_energy_services import build_plant, readings_csv

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (apt-get install chromium)")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from jiliang.services import users

    platform: Platform = world_platform(tmp_path_factory.mktemp("energy"))
    names = ("admin", "province", "city", "county_b", "other_city", "enterprise", "other_enterprise")
    principals = {n: users.principal_by_username(platform, n) for n in names}
    orgs = {"enterprise": principals["enterprise"].organisation_id}
    world = World(platform, orgs["enterprise"] or 0, 0, 0, 0, {}, principals)
    unit_id, ids = build_plant(world)
    today = platform.today()  # the tests' fixed clock (2026-06-15)
    with platform.unit_of_work(SYSTEM) as s:  # EM-3's verification ran out two weeks ago
        row = s.get(Instrument, ids["EM-3"])
        assert row is not None
        row.valid_until = today - timedelta(days=14)
    start = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    end = start + timedelta(days=29)
    period = readings.upload_readings(
        platform,
        principals["enterprise"],
        unit_id,
        io.BytesIO(readings_csv(start, 30).encode()),
        "csv",
        start,
        end,
        product="clinker",
        output=60.0,
    )
    carbon_review.report_cems(
        platform, principals["enterprise"], period["id"], period["carbon"]["total"] * 1.06, 2.0, "CEMS-1"
    )
    reviews.run_review(platform, principals["city"], unit_id)
    regional.set_coverage_target(platform, SYSTEM, "339900", platform.today().year, 0.9, "测试目标")
    with serving(platform) as base:
        yield base
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


def test_supervisor_opens_a_units_review_report(served: str, browser: Any) -> None:
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    browser_sign_in(page, served, "city")
    page.goto(served + "/console/supervision/energy")
    assert page.locator("h1").count() == 1
    screenshots(page, "console-energy-regional")
    _fits_phone(page, "regional")
    page.click("text=东城加油站")
    assert "/console/supervision/energy/units/" in page.url
    assert page.locator("text=不平衡（预警）").count() >= 1
    screenshots(page, "console-energy-unit")
    _fits_phone(page, "unit")
    page.click("text=审查报告")
    assert "/console/supervision/energy/reviews/" in page.url
    body = page.locator("ol.shortfalls").inner_text()
    for clause in ("GB 17167-2006 表3", "GB 17167-2006 表4", "GB 17167-2006 5.2"):
        assert clause in body
    screenshots(page, "console-energy-review")
    _fits_phone(page, "review")
    pdf = page.request.get(page.url + "/report.pdf")
    assert pdf.ok and pdf.body().startswith(b"%PDF")
    assert errors == []
    page.close()


def test_enterprise_self_check_page(served: str, browser: Any) -> None:
    page = browser.new_page()
    browser_sign_in(page, served, "enterprise")
    page.goto(served + "/console/enterprise/energy")
    page.click("text=进行自查（今日）")
    assert "/console/enterprise/energy/reviews/" in page.url and page.locator("h1").count() == 1
    page.goto(served + "/console/enterprise/energy")
    # one file field for the period's readings, one for the metering tree
    assert page.locator("form[action$='/readings'] input[type=file]").count() == 1
    assert page.locator("form[action$='/topology'] input[type=file]").count() == 1
    screenshots(page, "console-energy-self-check")
    _fits_phone(page, "self-check")
    page.close()


def test_supervisor_opens_the_carbon_metering_review(served: str, browser: Any) -> None:
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    browser_sign_in(page, served, "city")
    page.goto(served + "/console/supervision/energy")
    page.click("text=东城加油站")
    page.click("text=碳计量审查")
    assert page.url.endswith("/carbon-review") and page.locator("h1").count() == 1
    assert page.locator("text=数据质量等级").count() == 1 and page.locator("text=CEMS-1").count() == 1
    assert page.locator("text=可比熟料综合能耗").count() >= 1
    screenshots(page, "console-energy-carbon-review")
    _fits_phone(page, "carbon review")
    pdf = page.request.get(page.url + ".pdf")
    assert pdf.ok and pdf.body().startswith(b"%PDF")
    assert errors == []
    page.close()
