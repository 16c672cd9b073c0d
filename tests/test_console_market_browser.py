"""The market pages in Chromium: a supervisor creates a plan, publishes the seed commitment, draws and
records a result on a 390 px phone; a citizen files a complaint on a phone and follows it by its receipt
code; the complaint officer reads the reporter (audited). Saves docs/screenshots/console-market-*.png and
public-complaint-*.png at 1400 px and 390 px."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from jiliang.domain.access import SYSTEM
from jiliang.legal import sampling
from jiliang.services import organisations, users
from jiliang.services.market import cases, credit, plans, results
from jiliang.services.platform import Platform
from tests.console_support import (
    CHROMIUM_ARGS,
    DESKTOP,
    PHONE,
    browser_sign_in,
    screenshots,
    serving,
    world_platform,
)
from tests.factories import COUNTY_A, PASSWORD, credit_code

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (apt-get install chromium)")
SEED = "00" * 31 + "2a"  # docs/market.md's test vector: the draw, and so the screenshots, are reproducible


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Platform]]:
    platform = world_platform(tmp_path_factory.mktemp("market"))
    stalls = [
        organisations.add_organisation(
            platform,
            SYSTEM,
            credit_code=credit_code(40 + k),
            name=f"东城农贸市场{k + 1}号摊位",
            kind="market_operator",
            region_code=COUNTY_A,
        ).id
        for k in range(8)
    ]
    for name in ("张执法", "李执法", "王执法", "陈执法"):
        plans.add_inspector(platform, SYSTEM, name=name, region_code="339900")
    users.create_user(
        platform,
        SYSTEM,
        username="officer",
        password=PASSWORD,
        role="complaint_officer",
        jurisdiction="339900",
    )
    city = users.principal_by_username(platform, "city")
    today = platform.today().isoformat()
    credit.add_event(platform, city, stalls[2], "self_commitment", platform.today(), "签署诚信计量承诺书")
    credit.add_event(platform, city, stalls[3], "exemplary_unit", platform.today())
    lot = results.record_net_content(
        platform,
        city,
        {
            "organisation_id": stalls[4],
            "product": "东北大米 5 kg",
            "nominal": 5000,
            "unit": "g",
            "lot_size": 40,
            "measurements": [4990, 4930, 5010, 4985, 4920, 4995, 5002, 4978, 4991, 4860],
            "inspected_on": today,
        },
    )
    case = cases.open_case(
        platform,
        city,
        {
            "source_type": "net_content",
            "source_id": str(lot["id"]),
            "summary": "大米净含量不合格",
            "evidence": [f"/console/market/net-content/{lot['id']}", "现场照片 P-017"],
        },
    )
    cases.advance(platform, city, case["id"], {"status": "investigating"})
    with serving(platform) as base:
        yield base, platform
    platform.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def _no_overflow(page: Any) -> None:
    """Nothing wider than the phone: the page does not scroll sideways."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1, f"{page.url} is {width} px wide at {PHONE['width']} px"


def test_supervisor_publishes_draws_and_records_a_result_on_a_phone(
    served: tuple[str, Platform], browser: Any
) -> None:
    base, _ = served
    page = browser.new_page(viewport=DESKTOP)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    browser_sign_in(page, base, "city")
    page.goto(f"{base}/console/market/plans/new")
    page.fill("#name", "2026 年第二季度集贸市场计量抽查")
    page.uncheck("input[name=org_kinds][value=fuel_station]")
    page.fill("#ratio", "50")
    screenshots(page, "console-market-plan-new")
    page.click("button[type=submit].primary")
    page.wait_for_load_state()
    assert re.search(r"/console/market/plans/\d+", page.url)
    # On the phone from here on.
    page.set_viewport_size(PHONE)
    # The supervisor's own seed (a public lottery's numbers, say): its commitment first, the seed at the draw.
    page.fill("#commitment", sampling.commitment(SEED))
    page.click("#publish")
    page.wait_for_load_state()
    assert page.inner_text("code.hash") == sampling.commitment(SEED)
    _no_overflow(page)
    page.fill("#seed-input", "1" * 64)  # not the committed seed: refused
    page.click("#draw")
    page.wait_for_load_state()
    assert "承诺值" in page.inner_text("#form-error")
    page.fill("#seed-input", SEED)
    page.click("#draw")
    page.wait_for_load_state()
    assert page.inner_text("#seed") == SEED
    rows = page.locator("#drawn tbody tr")
    assert rows.count() == 4  # 8 stalls at 50 %
    assert "执法" in page.inner_text("#drawn")
    screenshots(page, "console-market-plan")
    page.set_viewport_size(PHONE)
    page.locator("#drawn tbody tr a").first.click()
    page.wait_for_load_state()
    page.fill("#findings", "电子秤未经检定，称量 1 kg 砝码示值 1.006 kg。")
    page.fill("#description_0", "电子计价秤 ACS-15")
    page.fill("#error_0", "6")
    page.fill("#mpe_0", "5")
    page.fill("#unit_0", "g")
    page.check("input[name=conclusion][value=rectify]")
    _no_overflow(page)
    page.screenshot(path=str(screenshot_path("console-market-target-form-phone")), full_page=True)
    page.click("#save-result")
    page.wait_for_load_state()
    assert "已保存" in page.inner_text("main")
    assert "超出允许误差" in page.inner_text("main") and "限期整改" in page.inner_text("main")
    _no_overflow(page)
    screenshots(page, "console-market-target")
    for path, name in (
        ("/console/market", "console-market-plans"),
        ("/console/market/net-content", "console-market-net-content"),
        ("/console/market/credit", "console-market-credit"),
        ("/console/market/cases", "console-market-cases"),
    ):
        page.goto(base + path)
        page.set_viewport_size(PHONE)
        _no_overflow(page)
        screenshots(page, name)
    page.goto(f"{base}/console/market/net-content")
    page.locator("table a[href^='/console/market/net-content/']").first.click()
    page.wait_for_load_state()
    assert "不合格" in page.inner_text("#verdict")
    screenshots(page, "console-market-net-report")
    page.goto(f"{base}/console/market/cases")
    page.locator("table a[href^='/console/market/cases/']").first.click()
    page.wait_for_load_state()
    screenshots(page, "console-market-case")
    page.goto(f"{base}/console/market/credit")
    page.locator("#due a").first.click()
    page.wait_for_load_state()
    screenshots(page, "console-market-grade")
    assert errors == []


def screenshot_path(name: str) -> Any:
    from tests.console_support import SCREENSHOTS

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / f"{name}.png"


def test_citizen_files_a_complaint_and_follows_it_by_receipt_code(
    served: tuple[str, Platform], browser: Any
) -> None:
    base, _ = served
    citizen = browser.new_context(viewport=PHONE)
    page = citizen.new_page()
    page.goto(f"{base}/public/market")
    screenshots(page, "public-market-portal")
    page.set_viewport_size(PHONE)
    page.click("#link-complaint")
    page.wait_for_load_state()
    page.select_option("#region_code", COUNTY_A)
    page.fill("#subject_name", "东城农贸市场2号摊位")
    page.fill("#content", "6 月 14 日上午买猪肉 1 斤，回家复称只有 440 克。")
    page.check("#how-named")
    page.fill("#name", "王小明")
    page.fill("#phone", "13800000000")
    _no_overflow(page)
    screenshots(page, "public-complaint-form")
    page.set_viewport_size(PHONE)
    page.click("#send")
    page.wait_for_load_state()
    code = page.inner_text("#receipt")
    assert re.fullmatch(r"[2-9A-HJ-NP-Z]{16}", code)
    _no_overflow(page)
    screenshots(page, "public-complaint-receipt")
    page.set_viewport_size(PHONE)
    page.click("a.button")
    page.wait_for_load_state()
    page.fill("#receipt_code", code)
    page.click("#lookup")
    page.wait_for_load_state()
    assert "已受理" in page.inner_text("#complaint-status")
    screenshots(page, "public-complaint-status")
    citizen.close()
    # The complaint officer opens it and reads the reporter, the read audited.
    officer = browser.new_context(viewport=DESKTOP)
    page = officer.new_page()
    browser_sign_in(page, base, "officer")
    assert "/console/market/complaints" in page.url
    page.locator("table a[href^='/console/market/complaints/']").first.click()
    page.wait_for_load_state()
    assert "审计" in page.inner_text("#reporter")
    page.fill("#reason", "核实举报内容")
    page.click("#reveal")
    page.wait_for_load_state()
    assert "王小明" in page.inner_text("#identity")
    screenshots(page, "console-market-complaint")
    officer.close()


def test_pool_reassignment_rows_and_the_public_calculator(served: tuple[str, Platform], browser: Any) -> None:
    """The inspector pool, a drawn target's team changed by hand (a conflict refused by name), a fourth
    instrument row without JavaScript on a phone, and the public calculator at 1280 and 390 px."""
    base, platform = served
    city = users.principal_by_username(platform, "city")
    plan = plans.create_plan(
        platform,
        city,
        {"name": "人员调整演示", "region_code": "339900", "org_kinds": ["market_operator"], "ratio": 0.25},
    )
    plans.commit_seed(platform, city, plan["id"])
    plans.draw_plan(platform, city, plan["id"])
    target = plans.plan_targets(platform, city, plan["id"])[0]
    chen = next(i for i in plans.inspector_pool(platform, city) if i["name"] == "陈执法")
    if not any(r["organisation_id"] == target["organisation_id"] for r in chen["relations"]):
        plans.declare_relation(platform, city, chen["id"], target["organisation_id"], "亲属在该摊位经营")
    page = browser.new_page(viewport=DESKTOP)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    browser_sign_in(page, base, "city")
    page.goto(f"{base}/console/market/inspectors")
    assert "陈执法" in page.inner_text("#pool")
    screenshots(page, "console-market-inspectors")
    page.goto(f"{base}/console/market/targets/{target['id']}")
    page.set_viewport_size(PHONE)
    # 陈执法 declared a relation with this stall: ticking them is refused, naming them.
    page.check(f"input[name=inspector_ids][value='{chen['id']}']")
    page.click("#reassign-save")
    page.wait_for_load_state()
    assert "陈执法" in page.inner_text("#form-error") and "利害关系" in page.inner_text("#form-error")
    _no_overflow(page)
    # A fourth instrument row, as typed so far, without JavaScript.
    page.goto(f"{base}/console/market/targets/{target['id']}")
    page.fill("#description_0", "电子秤 A1")
    page.click("#add-row")
    page.wait_for_load_state()
    assert page.locator("#row-3").count() == 1 and page.input_value("#description_0") == "电子秤 A1"
    _no_overflow(page)
    screenshots(page, "console-market-target-rows")
    # The public calculator, signed out.
    public = browser.new_page(viewport={"width": 1280, "height": 900})
    public.on("pageerror", lambda e: errors.append(str(e)))
    public.goto(f"{base}/public/market/net-content")
    public.fill("#nominal", "500")
    public.fill("#lot_size", "40")
    public.fill("#measurements", "501 502 499 500 503 498 501 500 502 484")
    public.click("#check")
    public.wait_for_load_state()
    assert "不合格" in public.inner_text("#verdict") and public.locator("#criteria tbody tr").count() >= 3
    screenshots(public, "public-net-content")
    public.set_viewport_size(PHONE)
    _no_overflow(public)
    assert not errors


def test_photos_taken_on_a_phone_are_shown_as_thumbnails(served: tuple[str, Platform], browser: Any) -> None:
    """On a 390 px phone the inspector takes a photo and adds two from the gallery; the saved result shows
    the three as thumbnails (loaded through the jurisdiction-checked photo route) with their hashes."""
    from tests.test_market_photos import png

    base, platform = served
    city = users.principal_by_username(platform, "city")
    # The module's earlier draws paired its four inspectors with the same eight stalls (and one declared a
    # relation): which stalls this draw picks is random, so two inspectors new to all of them make sure
    # every target can be staffed without a conflict of interest.
    for name in ("赵执法", "孙执法"):
        plans.add_inspector(platform, SYSTEM, name=name, region_code="339900")
    plan = plans.create_plan(
        platform,
        city,
        {"name": "现场照片演示", "region_code": "339900", "org_kinds": ["market_operator"], "ratio": 0.25},
    )
    plans.commit_seed(platform, city, plan["id"])
    plans.draw_plan(platform, city, plan["id"])
    target = plans.plan_targets(platform, city, plan["id"])[0]
    page = browser.new_page(viewport=PHONE)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    browser_sign_in(page, base, "city")
    page.goto(f"{base}/console/market/targets/{target['id']}")
    assert page.get_attribute("#photo_camera", "capture") == "environment"
    page.fill("#findings", "摊位电子秤铭牌与检定标志见照片。")
    shots = [("scale.png", (200, 60, 40)), ("seal.png", (40, 140, 70)), ("label.png", (230, 180, 30))]
    files = [{"name": n, "mimeType": "image/png", "buffer": png(160, 120, c)} for n, c in shots]
    page.set_input_files("#photo_camera", files[:1])
    page.set_input_files("#photo_gallery", files[1:])
    page.check("input[name=conclusion][value=pass]")
    _no_overflow(page)
    page.click("#save-result")
    page.wait_for_load_state()
    assert "已保存" in page.inner_text("main")
    thumbs = page.locator("ul.photos img")
    assert thumbs.count() == 3
    for i in range(3):
        thumbs.nth(i).scroll_into_view_if_needed()
        assert thumbs.nth(i).evaluate("img => img.complete && img.naturalWidth") == 160
    assert page.locator("ul.photos li").first.inner_text().startswith("SHA-256 ")
    _no_overflow(page)
    screenshots(page, "console-market-target-photos")
    assert errors == []
