"""/docs and /redoc work offline: their pages reference no external host (issue 10, "Quality")."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from jiliang.services.platform import Platform

EXTERNAL = re.compile(r"""(?:src|href|spec-url|url)\s*=\s*["']?(?:https?:)?//""", re.I)


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_docs_pages_reference_no_external_host(web_client: TestClient, path: str) -> None:
    page = web_client.get(path)
    assert page.status_code == 200
    assert not EXTERNAL.search(page.text), page.text
    assert "http://" not in page.text and "https://" not in page.text
    assert "<script>" not in page.text  # no inline script: a strict CSP keeps them working
    for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', page.text):
        answer = web_client.get(asset)
        assert answer.status_code == 200 and len(answer.content) > 100, asset


def test_docs_still_describe_the_api(web_client: TestClient) -> None:
    assert "/openapi.json" in web_client.get("/docs").text
    spec = web_client.get("/openapi.json").json()
    assert "/api/v1/auth/login" in spec["paths"]
    assert not any(p.startswith(("/docs", "/redoc", "/console", "/login")) for p in spec["paths"])


def test_vendored_assets_carry_their_licences() -> None:
    vendor = Path(__file__).parents[1] / "src" / "jiliang" / "web" / "static" / "vendor"
    for name in ("swagger-ui", "redoc"):
        assert (vendor / name / "LICENSE").is_file() and (vendor / name / "VERSION").is_file()


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium")
def test_swagger_ui_renders_with_the_network_cut_off(tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
    from tests.console_support import CHROMIUM_ARGS, SCREENSHOTS, serving, world_platform

    platform: Platform = world_platform(tmp_path)
    with serving(platform) as base, sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        outside: list[str] = []

        def route(r: object) -> None:  # any request leaving the machine is recorded and refused
            url = r.request.url  # type: ignore[attr-defined]
            if url.startswith(base):
                r.continue_()  # type: ignore[attr-defined]
            else:
                outside.append(url)
                r.abort()  # type: ignore[attr-defined]

        page.route("**/*", route)
        page.goto(base + "/docs")
        page.wait_for_selector(".opblock-tag", timeout=20000)
        assert "auth" in page.inner_text("#swagger-ui")
        page.screenshot(path=str(SCREENSHOTS / "api-docs.png"))  # the first screen: the page is long
        page.goto(base + "/redoc")
        page.wait_for_selector("redoc .api-content, .api-content", timeout=20000)
        assert [u for u in outside if "cdn.redoc.ly" not in u] == []
        browser.close()
    platform.close()
