"""Accessibility audited by a tool: axe-core (vendored, tests/assets/axe-core) on the main page of each
role and the public pages, at 1280 px and 390 px, in Chromium. Fails on any violation of impact
"serious" or "critical" under the WCAG 2.x A/AA rules (contrast, labels, names, landmarks, ARIA).

The pages' CSP forbids inline scripts, so axe is not added as a <script> tag: its source is evaluated
through Playwright's ``page.evaluate`` (the DevTools protocol, which the page's CSP does not govern), then
``axe.run`` is called the same way. The application is not changed for the test.

Skipped where Chromium or Playwright is absent; CI installs both.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jiliang.domain.access import SYSTEM
from jiliang.services import instruments, places, standards, users, verifications
from tests.console_support import CHROMIUM_ARGS, browser_sign_in, serving, world_platform
from tests.factories import COUNTY_A, PASSWORD

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (apt-get install chromium)")

AXE = (Path(__file__).parent / "assets" / "axe-core" / "axe.min.js").read_text("utf-8")
WIDTHS = (1280, 390)
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = {"serious", "critical"}
FUEL = "09.01"
RUN = "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    platform = world_platform(tmp_path_factory.mktemp("a11y"))
    ent = users.login(platform, "enterprise", PASSWORD)[1]
    inst = users.login(platform, "institution", PASSWORD)[1]
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
        platform, ent, {"name": "东城加油站（人民路）", "kind": "fuel_station", "region_code": COUNTY_A}
    )
    ids = [
        instruments.file_instrument(
            platform,
            ent,
            {
                "name": f"{n} 号加油机",
                "item_code": FUEL,
                "model": "CS52",
                "serial_number": f"JY-{n:03d}",
                "manufacturer": "正星科技",
                "region_code": COUNTY_A,
                "use": "trade_settlement",
                "filed_on": "2025-01-10",
                "measuring_range": "5–60 L/min",
            },
        ).id
        for n in (1, 2)
    ]
    places.place_instruments(platform, ent, ids, station.code)
    verifications.record_verification(
        platform,
        inst,
        {"instrument_id": ids[0], "verified_on": "2026-05-01", "conclusion": "pass", "document_no": "JJ-A1"},
    )
    with serving(platform) as base:
        yield base, station.code
    platform.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def _audit(page: Any, url: str) -> list[str]:
    """The serious and critical violations on ``url`` at the page's current width, one line each."""
    response = page.goto(url)
    assert response is not None and response.status == 200, url
    page.evaluate(AXE)  # defines window.axe; page.evaluate is not subject to the page's CSP
    result = page.evaluate(RUN, TAGS)
    lines = []
    for v in result["violations"]:
        if v["impact"] in BLOCKING:
            targets = "; ".join(" ".join(n["target"]) for n in v["nodes"][:5])
            lines.append(f"{v['impact']} {v['id']} ({v['help']}) at {targets}")
    return lines


PAGES = {
    None: ["/login", "/public", "/verify", "/public/places/{station}"],
    "city": ["/console/supervision", "/console/supervision/instruments?state=overdue", "/console/supervision/places"],
    "institution": ["/console/institution"],
    "enterprise": ["/console/enterprise"],
    "admin": ["/console/admin"],
}


@pytest.mark.parametrize("who", list(PAGES), ids=lambda w: w or "public")
def test_main_pages_have_no_serious_accessibility_violation(
    served: tuple[str, str], browser: Any, who: str | None
) -> None:
    base, station = served
    context = browser.new_context()
    page = context.new_page()
    if who is not None:
        browser_sign_in(page, base, who)
    found = {}
    for path in PAGES[who]:
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            problems = _audit(page, base + path.format(station=station))
            if problems:
                found[f"{path} @ {width}px"] = problems
    context.close()
    assert not found, "\n".join(f"{where}:\n  " + "\n  ".join(lines) for where, lines in found.items())
