"""The public indicators page, rendered through the real app, shows numbers computed from the data."""

from __future__ import annotations

from fastapi.testclient import TestClient

from jiliang.demo import DemoConfig, build_demo
from jiliang.domain.access import SYSTEM
from jiliang.legal.coverage import Indicator
from jiliang.services import indicators
from jiliang.services.platform import Platform


def pct(rate: float | None) -> str:
    assert rate is not None
    return f"{rate * 100:.2f} %"


def test_page_shows_the_city_against_its_targets(platform: Platform, web_client: TestClient) -> None:
    build_demo(platform, DemoConfig(instruments=2500, seed=5), password="demo-password-123", snapshots=True)
    rep = indicators.report(platform, SYSTEM, region="339900", by_item=True)
    cov = rep.get(Indicator.VERIFICATION_COVERAGE, "339900")
    std = rep.get(Indicator.STANDARD_COVERAGE, "339900")
    over = rep.get(Indicator.OVERDUE, "339900")
    county = rep.get(Indicator.VERIFICATION_COVERAGE, "339922")
    assert cov and std and over and county

    page = web_client.get("/")
    assert page.status_code == 200
    html = page.text
    assert "演示数据" in html and "合成" in html  # says it is synthetic
    assert pct(cov.rate) in html and f"{cov.numerator:,} / {cov.denominator:,}" in html
    assert pct(std.rate) in html and f"其中建标 {std.numerator} 项" in html
    assert f'<div class="big">{over.numerator:,}</div>' in html
    assert pct(county.rate) in html and "北岭县" in html
    expiring = indicators.expiring_standards(platform, SYSTEM, region="339900")
    assert expiring and all(s.certificate_no in html for s in expiring)
    assert "/static/vendor/echarts/echarts.min.js" in html and "cdn" not in html.lower()


def test_english_and_a_county(platform: Platform, web_client: TestClient) -> None:
    build_demo(platform, DemoConfig(instruments=1500, seed=5), password="demo-password-123", snapshots=False)
    rep = indicators.report(platform, SYSTEM, region="339922", by_item=False)
    cov = rep.get(Indicator.VERIFICATION_COVERAGE, "339922")
    assert cov
    page = web_client.get("/", params={"region": "339922", "lang": "en"})
    assert page.status_code == 200
    assert "Beiling County" in page.text and "synthetic" in page.text and pct(cov.rate) in page.text
    assert "Demo City" in page.text  # the region table still lists the whole city


def test_outside_the_demo_city_is_not_found(platform: Platform, web_client: TestClient) -> None:
    build_demo(platform, DemoConfig(instruments=200, seed=5), password="demo-password-123", snapshots=False)
    assert web_client.get("/", params={"region": "330000"}).status_code == 404
    assert web_client.get("/", params={"region": "12"}).status_code == 422


def test_without_the_demo_the_page_shows_no_figures(web_client: TestClient) -> None:
    page = web_client.get("/")
    assert page.status_code == 200 and "jiliang demo" in page.text and "%" not in page.text


def test_echarts_is_served_from_the_package(web_client: TestClient) -> None:
    js = web_client.get("/static/vendor/echarts/echarts.min.js")
    assert js.status_code == 200 and "javascript" in js.headers["content-type"] and len(js.content) > 500_000
    assert web_client.get("/static/vendor/echarts/LICENSE").status_code == 200
