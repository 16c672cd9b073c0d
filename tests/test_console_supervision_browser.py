"""The supervisor in a real browser (Chromium via Playwright) over a two-city demo: signs in, drills from
the dashboard's overdue card to the overdue list, exports it and checks the file's columns; opens an
instrument with its chain and history; a tampered URL is a 404. Screenshots at 1400 px and 390 px go to
docs/screenshots/supervision-*.png. Skipped where Chromium or Playwright is absent; CI installs both."""

from __future__ import annotations

import csv
import io
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jiliang.demo import DemoConfig, build_demo
from jiliang.services.platform import Platform
from jiliang.services.supervision import search
from jiliang.settings import Settings
from jiliang.web.common import PAGE_READER
from tests.console_support import CHROMIUM_ARGS, browser_sign_in, screenshots, serving

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (apt-get install chromium)")
PASSWORD = "demo-password-123"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Platform]]:
    directory = tmp_path_factory.mktemp("supervision")
    platform = Platform.open(
        Settings(
            database_url=f"sqlite:///{directory / 'demo.db'}",
            data_dir=directory,
            argon2_memory_kib=1024,
            argon2_time_cost=1,
        )
    )
    build_demo(platform, DemoConfig(instruments=2000, seed=11, cities=2), password=PASSWORD, snapshots=False)
    with serving(platform) as base:
        yield base, platform
    platform.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def test_supervisor_drills_from_the_overdue_card_to_its_export(
    served: tuple[str, Platform], browser: Any, tmp_path: Path
) -> None:
    base, platform = served
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    browser_sign_in(page, base, "city", PASSWORD)
    page.goto(f"{base}/console/supervision")
    assert page.locator("h1").count() == 1 and "演示市" in page.inner_text("h1")
    screenshots(page, "supervision-dashboard")

    card = page.locator("#card-overdue a.card-value")
    count = int(card.inner_text().split()[0].replace(",", ""))
    assert count > 0
    card.click()
    page.wait_for_load_state()
    assert "state=overdue" in page.url
    assert f"共 {count:,} 条" in page.inner_text("#summary") or f"共 {count} 条" in page.inner_text(
        "#summary"
    )
    screenshots(page, "supervision-overdue")

    with page.expect_download() as info:
        page.locator("a.export", has_text="CSV").click()
    path = tmp_path / "overdue.csv"
    info.value.save_as(path)
    rows = list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))
    assert rows[0] == [
        "器具名称",
        "出厂编号",
        "目录项",
        "型号规格",
        "使用单位",
        "统一社会信用代码",
        "联系人及电话",
        "单位地址",
        "使用地点",
        "行政区划",
        "上次检定日期",
        "上次检定结论",
        "到期日期",
        "超期天数",
    ]
    assert len(rows) == count + 1 and all(r[4] and r[13] for r in rows[1:])

    # 督办: the rows of this page are preselected; mark them, then see them on the follow-up page
    page.fill("#mark-note", "请于本月底前送检")
    page.click("fieldset.mark-actions button[type=submit]")
    page.wait_for_load_state()
    assert "已督办" in page.inner_text("p.notice")
    page.goto(f"{base}/console/supervision/followups?state=open")
    assert "尚未检定" in page.inner_text("table.data")
    screenshots(page, "supervision-followups")

    # an instrument with a record: its detail page draws the chain and lists the same links in a table
    verified = search.search_instruments(platform, PAGE_READER, {"state": "covered"}, limit=1).items[0]
    page.goto(f"{base}/console/supervision/instruments/{verified.id}")
    assert verified.serial_number in page.inner_text("h1")
    page.wait_for_selector("#chain-graph canvas")
    screenshots(page, "supervision-instrument")
    assert not errors, errors
    context.close()


def test_province_tree_tiles_and_tampering(served: tuple[str, Platform], browser: Any) -> None:
    base, platform = served
    context = browser.new_context()
    page = context.new_page()
    browser_sign_in(page, base, "province", PASSWORD)
    page.goto(f"{base}/console/supervision")
    tree = page.inner_text("table.tree")
    assert "演示市" in tree and "示范市" in tree  # the province level holds two cities
    assert page.locator("ul.tiles li").count() >= 10
    assert "≥ 95 %" in page.inner_text("ul.tiles") or "< 90 %" in page.inner_text("ul.tiles")
    screenshots(page, "supervision-province")
    page.goto(f"{base}/console/supervision/alerts")
    assert "示范市" in page.inner_text("table.data")
    screenshots(page, "supervision-alerts")
    context.close()

    # the city's supervisor cannot open the other city's instrument by editing the URL
    other = search.search_instruments(platform, platform_reader("339800"), {}, limit=1).items[0]
    context = browser.new_context()
    page = context.new_page()
    browser_sign_in(page, base, "city", PASSWORD)
    response = page.goto(f"{base}/console/supervision/instruments/{other.id}")
    assert response is not None and response.status == 404
    assert other.serial_number not in page.content()
    context.close()


def platform_reader(region: str) -> Any:
    from dataclasses import replace

    return replace(PAGE_READER, jurisdiction=region)
