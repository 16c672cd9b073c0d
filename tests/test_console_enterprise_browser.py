"""The enterprise and the public in a real browser (Chromium via Playwright), at 1400 px and 390 px:
a bulk upload with a bad row (row report shown, nothing stored) then a good one; a public lookup of a
fuel station by its QR code on a phone; the administrator's catalogue page. Saves docs/screenshots/.

Skipped where Chromium or Playwright is absent; CI installs both.
"""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from jiliang.domain.access import SYSTEM
from jiliang.domain.catalogue import add_months
from jiliang.services import catalogue as catalogue_service
from jiliang.services import instruments, places, standards, verifications
from jiliang.services.platform import Platform
from tests.console_support import CHROMIUM_ARGS, PHONE, browser_sign_in, screenshots, serving, world_platform
from tests.factories import COUNTY_A, PASSWORD

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (apt-get install chromium)")
FUEL = "09.01"
HEADER = "器具名称,目录项代码,型号规格,出厂编号,制造单位,行政区划代码,用途,安装地点\n"


def _principal(platform: Platform, username: str) -> Any:
    from jiliang.services import users

    return users.login(platform, username, PASSWORD)[1]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Platform, str]]:
    platform = world_platform(tmp_path_factory.mktemp("enterprise"))
    ent = _principal(platform, "enterprise")
    inst = _principal(platform, "institution")
    standards.authorise(
        platform,
        SYSTEM,
        {
            "institution_id": inst.organisation_id,
            "item_code": FUEL,
            "region_code": "339900",
            "valid_from": "2020-01-01",
            "valid_until": "2030-12-31",
        },
    )
    station = places.add_place(
        platform,
        ent,
        {
            "name": "东城加油站（人民路）",
            "kind": "fuel_station",
            "region_code": COUNTY_A,
            "address": "人民路 1 号",
        },
    )
    ids = []
    for n in range(1, 7):
        raw = {
            "name": f"{n} 号加油机",
            "item_code": FUEL,
            "model": "CS52",
            "serial_number": f"JY-2024-{n:03d}",
            "manufacturer": "正星科技",
            "region_code": COUNTY_A,
            "use": "trade_settlement",
            "filed_on": "2025-01-10",
            "measuring_range": "5–60 L/min",
            "accuracy_class": "0.3",
        }
        ids.append(instruments.file_instrument(platform, ent, raw).id)
    places.place_instruments(platform, ent, ids, station.code)
    today = platform.today()
    when = (today - timedelta(days=20), today - timedelta(days=170), today - timedelta(days=60))
    for k, (n, on) in enumerate(zip((0, 1, 2), (d.isoformat() for d in when), strict=True)):
        conclusion = "fail" if k == 2 else "pass"
        verifications.record_verification(
            platform,
            inst,
            {"instrument_id": ids[n], "verified_on": on, "conclusion": conclusion, "document_no": f"JJ-{k}"},
        )
    with serving(platform) as base:
        yield base, platform, station.code
    platform.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def _upload(page: Any, base: str, body: str, tmp: Path) -> None:
    path = tmp / "instruments.csv"
    path.write_text(body, encoding="utf-8")
    page.goto(f"{base}/console/enterprise/upload")
    page.set_input_files("#file", str(path))
    page.click("#upload button[type=submit]")
    page.wait_for_load_state()


def test_an_enterprise_uploads_a_bad_file_sees_the_rows_then_a_good_one(
    served: tuple[str, Platform, str], browser: Any, tmp_path: Path
) -> None:
    base, _, _ = served
    page = browser.new_context().new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    browser_sign_in(page, base, "enterprise")
    page.goto(f"{base}/console/enterprise")
    assert page.locator("h1").count() == 1
    screenshots(page, "enterprise-home")

    bad = HEADER + f"7 号加油机,{FUEL},CS52,JY-2024-007,正星科技,{COUNTY_A},贸易结算,东区\n"
    bad += f"8 号加油机,99.99,CS52,JY-2024-008,正星科技,{COUNTY_A},贸易结算,东区\n"
    bad += f"9 号加油机,{FUEL},CS52,JY-2024-009,正星科技,{COUNTY_A},买卖,东区\n"
    _upload(page, base, bad, tmp_path)
    report = page.inner_text("#problems")
    assert "99.99" in report and "item_code" in report and "买卖" in report
    assert [r.split("\t")[:2] for r in report.splitlines()[1:]] == [["3", "item_code"], ["4", "use"]]
    screenshots(page, "enterprise-upload-refused")
    page.goto(f"{base}/console/enterprise/instruments?q=7 号")
    assert "7 号加油机" not in page.inner_text("main")  # nothing stored

    good = bad.replace("99.99", FUEL).replace("买卖", "贸易结算")
    _upload(page, base, good, tmp_path)
    assert "已备案 3 台器具" in page.inner_text("#accepted")
    page.goto(f"{base}/console/enterprise/instruments")
    text = page.inner_text("main")
    assert "7 号加油机" in text and "8 号加油机" in text
    screenshots(page, "enterprise-instruments")

    page.goto(f"{base}/console/enterprise/instruments/new")
    assert page.locator("#use option", has_text="贸易结算").count() == 1
    screenshots(page, "enterprise-filing")
    assert not errors


def test_a_passer_by_scans_the_fuel_stations_qr_code_on_a_phone(
    served: tuple[str, Platform, str], browser: Any
) -> None:
    base, platform, code = served
    page = browser.new_context(viewport=PHONE, is_mobile=True).new_page()
    page.goto(f"{base}/public/places/{code}/qr")
    url = page.inner_text("#qr-url")
    assert url == places.public_url(platform, code) and url.endswith(f"/public/places/{code}")
    # the code drawn is exactly the one that encodes this URL (segno is deterministic)
    drawn = page.locator(".qr svg path").get_attribute("d")
    assert drawn and drawn in places.qr_svg(platform, code)
    screenshots(page, "public-place-qr")
    # what the phone opens when it reads the code
    page.set_viewport_size(PHONE)
    page.goto(base + url[len(platform.settings.public_url.rstrip("/")) :])
    assert page.inner_text("h1") == "东城加油站（人民路）"
    cards = page.locator("#instruments li")
    assert cards.count() == 6
    first = cards.nth(0).inner_text()
    due = add_months(platform.today() - timedelta(days=20), 6).isoformat()  # fuel dispensers: 6 months
    assert "1 号加油机" in first and "✔ 检定合格，在有效期内" in first and due in first
    assert "⚠ 合格，30 日内到期" in cards.nth(1).inner_text()
    assert "✘ 检定不合格，禁止使用" in page.inner_text("#instruments")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    widths = page.evaluate(
        "[...document.querySelectorAll('h1, h3, dt')].map(e => e.getBoundingClientRect().width)"
    )
    assert min(widths) > 40  # no heading squeezed to one character
    screenshots(page, "public-place")
    cards.nth(0).locator("a").click()
    page.wait_for_load_state()
    assert "JY-2024-001" in page.inner_text("main") and "正星科技" in page.inner_text("main")
    screenshots(page, "public-instrument")


def test_the_public_lookup_page_and_the_catalogue_page(
    served: tuple[str, Platform, str], browser: Any, tmp_path: Path
) -> None:
    base, platform, code = served
    page = browser.new_context().new_page()
    page.goto(f"{base}/public")
    page.fill("#q", "加油站")
    page.click("form[action='/public/places'] button")
    page.wait_for_load_state()
    assert page.locator(f"a[href='/public/places/{code}?lang=zh']").count() == 1
    screenshots(page, "public-search")
    page.goto(f"{base}/verify")
    page.fill("#cert-number", "JJ-0")
    page.click("#by-number button")
    page.wait_for_load_state()
    assert page.url == f"{base}/v/JJ-0?lang=zh"
    browser_sign_in(page, base, "admin")
    page.goto(f"{base}/console/admin/catalogue")
    assert "SAMR-2020-42" in page.inner_text("#versions")
    screenshots(page, "admin-catalogue")
    # a version with a longer fuel-dispenser period and a water-meter life cut: its differences, row by row
    sink = io.BytesIO()
    catalogue_service.export_version(platform, "SAMR-2020-42", sink)
    lines = sink.getvalue().decode("utf-8-sig").splitlines()
    lines = [
        line.replace(",periodic,6,", ",periodic,12,")
        if ",09.01," in line
        else line.replace(",rotation,,72,", ",rotation,,60,")
        for line in lines
    ]
    path = tmp_path / "catalogue.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    page.fill("#version", "SAMR-2026-T")
    page.set_input_files("#file", str(path))
    page.click("#upload button[type=submit]")
    page.wait_for_load_state()
    diff = page.inner_text("#diff")
    assert "09.01 燃油加油机" in diff and "检定周期（月）" in diff and "DN ≤ 25" in diff
    screenshots(page, "admin-catalogue-diff")
