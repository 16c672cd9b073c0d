"""The public traceability console, rendered through the real app on a small demo city.

Every figure the tests look for is computed here by the service the page calls, never written down.
"""

from __future__ import annotations

import csv
import html
import io
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from jiliang.demo import DemoConfig, build_demo
from jiliang.demo import traceability as trace_demo
from jiliang.domain.access import SYSTEM
from jiliang.services import instruments, standards, traceability
from jiliang.services.platform import Platform
from jiliang.store.models import MeasurementStandard, StandardCalibration, VerificationRecord
from jiliang.web.common import PAGE_READER
from jiliang.web.traceability import fmt_tur, fmt_u


@dataclass
class Demo:
    ids: dict[str, int]  # demo-city standards by name (the first of each name)
    oot: StandardCalibration  # the planted out-of-tolerance calibration (a provincial standard)
    low_tur_instrument: int  # an instrument verified with the 3:1 blood-pressure standard


@pytest.fixture
def demo(platform: Platform, backend: str) -> Demo:
    if backend != "sqlite":
        pytest.skip("the demo city is built on SQLite here")
    build_demo(platform, DemoConfig(instruments=800, seed=5), password="demo-password-123", snapshots=False)
    with platform.reading() as s:
        ids: dict[str, int] = {}
        for name, sid in s.execute(
            select(MeasurementStandard.name, MeasurementStandard.id)
            .where(MeasurementStandard.region_code.like("3399%"))
            .order_by(MeasurementStandard.id)
        ):
            ids.setdefault(name, sid)
        oot = s.scalars(select(StandardCalibration).where(StandardCalibration.in_tolerance.is_(False))).one()
        low = ids[trace_demo.LOW_TUR_STANDARD]
        instruments = s.scalars(
            select(VerificationRecord.instrument_id)
            .where(VerificationRecord.standard_id == low, VerificationRecord.superseded.is_(False))
            .order_by(VerificationRecord.verified_on.desc())
        ).all()
    # the instrument whose latest verification used that standard
    chosen = next(
        i
        for i in instruments
        if traceability.instrument_chain(platform, PAGE_READER, i).links[0].standard_id == low
    )
    return Demo(ids=ids, oot=oot, low_tur_instrument=chosen)


def text_of(page: str) -> str:
    return html.unescape(page)


def test_overview_lists_the_standards_and_the_planted_broken_chain(
    platform: Platform, web_client: TestClient, demo: Demo
) -> None:
    page = web_client.get("/traceability")
    assert page.status_code == 200
    body = text_of(page.text)
    assert "量值溯源" in body and "演示数据" in body
    listed = standards.list_standards(platform, PAGE_READER, region_code="339900", limit=1000).items
    assert listed and all(f"/traceability/standards/{s.id}?lang=zh" in body for s in listed)
    assert all(s.certificate_no in body for s in listed)
    # the lapsed taxi-meter standard: expired today, among the broken standards and instruments
    taxi = demo.ids[trace_demo.TAXI_STANDARD]
    row = body.split(f'id="standard-{taxi}"')[1].split("</tr>")[0]
    assert "已过期" in row and "所用标准校准证书已过期" in row
    report = traceability.broken_chains(platform, PAGE_READER, region_code="339900")
    assert report.broken > 0 and any(i.broken_standard_id == taxi for i in report.items)
    broken_items = body.split('id="broken-items"')[1].split("</table>")[0]
    assert all(i.document_no in broken_items for i in report.items)
    assert trace_demo.TAXI_STANDARD in body.split('id="broken-standards"')[1].split("</table>")[0]
    assert f'<div class="big">{report.broken:,}</div>' in body
    assert f'<div class="big">{report.tur_warnings:,}</div>' in body
    # the 3:1 blood-pressure standard is flagged
    bp = body.split(f'id="standard-{demo.ids[trace_demo.LOW_TUR_STANDARD]}"')[1].split("</tr>")[0]
    assert "TUR 偏低" in bp and "3.0:1" in bp
    # the look-up form leads to the instrument's page
    found = web_client.get(
        "/traceability/instrument", params={"id": demo.low_tur_instrument}, follow_redirects=False
    )
    assert found.status_code == 303
    assert found.headers["location"] == f"/traceability/instruments/{demo.low_tur_instrument}?lang=zh"
    assert web_client.get("/traceability/instrument", params={"id": "x1"}).status_code == 422
    # by its serial number, as a person knows it (no internal id on the page)
    serial = instruments.get_instrument(platform, PAGE_READER, demo.low_tur_instrument).serial_number
    by_serial = web_client.get("/traceability/instrument", params={"q": serial}, follow_redirects=False)
    assert by_serial.headers["location"] == f"/traceability/instruments/{demo.low_tur_instrument}?lang=zh"
    assert web_client.get("/traceability/instrument", params={"q": "no-such-serial"}).status_code == 404
    assert "#" + str(demo.low_tur_instrument) not in body and 'class="muted">#' not in body
    assert "339902" not in body.split('id="broken-items"')[1].split("</table>")[0]
    assert 'href="/traceability?lang=zh"' in web_client.get("/").text  # linked from the indicators page


def test_an_instruments_chain_shows_every_link_and_the_tur_warning(
    platform: Platform, web_client: TestClient, demo: Demo
) -> None:
    chain = traceability.instrument_chain(platform, PAGE_READER, demo.low_tur_instrument)
    assert chain.tur_warning and len(chain.links) == 4
    page = web_client.get(f"/traceability/instruments/{demo.low_tur_instrument}")
    assert page.status_code == 200
    body = text_of(page.text)
    minimum = platform.settings.min_test_uncertainty_ratio
    for link in chain.links:
        row = body.split(f'id="link-{link.level}"')[1].split("</tr>")[0]
        assert link.certificate_no in row and link.on.isoformat() in row
        assert fmt_u(link.uncertainty, link.unit) in row and fmt_tur(link.tur) in row
        assert ("tur-warning" in row) == (link.tur is not None and link.tur < minimum)
    assert sum("tur-warning" in r for r in body.split("<tr")) == 1  # the 3:1 link only
    assert "溯源源头" in body and "中国计量科学研究院" in body  # up to the national primary standard
    assert fmt_u(chain.uncertainty, chain.unit) in body.split('id="propagated"')[1].split("</td>")[0]
    assert fmt_tur(chain.min_tur) == "3.0:1" and "3.0:1 ⚠" in body
    # an earlier date: the chain through the verification in force then, judged on its own date
    first = chain.links[0].on
    earlier = traceability.instrument_chain(platform, PAGE_READER, demo.low_tur_instrument, first.isoformat())
    page = web_client.get(
        f"/traceability/instruments/{demo.low_tur_instrument}", params={"on": first.isoformat()}
    )
    assert page.status_code == 200 and all(link.certificate_no in page.text for link in earlier.links)


def test_a_standards_chain_and_the_impact_of_the_out_of_tolerance_standard(
    platform: Platform, web_client: TestClient, demo: Demo
) -> None:
    oot = demo.oot
    page = web_client.get(f"/traceability/standards/{oot.standard_id}")
    assert page.status_code == 200
    body = text_of(page.text)
    chain = traceability.standard_chain(platform, PAGE_READER, oot.standard_id, upstream=True)
    assert all(link.certificate_no in body for link in chain.links)
    # its calibrations, the out-of-tolerance one offering the analysis from its date
    assert oot.certificate_no in body and f"impact_on={oot.calibrated_on.isoformat()}" in body

    page = web_client.get(
        f"/traceability/standards/{oot.standard_id}", params={"impact_on": oot.calibrated_on}
    )
    assert page.status_code == 200
    body = text_of(page.text)
    report = traceability.impact(platform, PAGE_READER, oot.standard_id, on=oot.calibrated_on, upstream=True)
    assert report.records and report.calibrations and report.instruments
    assert f'<div class="big" id="n-records">{len(report.records):,}</div>' in body
    assert f'<div class="big" id="n-instruments">{len(report.instruments):,}</div>' in body
    assert f'<div class="big" id="n-calibrations">{len(report.calibrations)}</div>' in body
    assert f'<div class="big" id="n-standards">{len(report.standards)}</div>' in body
    records = body.split('id="recall-records"')[1].split("</table>")[0]
    assert all(r.document_no in records for r in report.records)
    assert all(c.certificate_no in body for c in report.calibrations)
    assert report.since is not None and report.since.isoformat() in body.split('id="window"')[1]
    # the page's recall list is what the service gives the demo city's supervisor
    assert (
        report.records == traceability.impact(platform, SYSTEM, oot.standard_id, on=oot.calibrated_on).records
    )

    csv_page = web_client.get(
        f"/traceability/standards/{oot.standard_id}/impact.csv", params={"on": oot.calibrated_on.isoformat()}
    )
    assert csv_page.status_code == 200
    assert csv_page.headers["content-type"] == "text/csv; charset=utf-8"
    assert (
        f'filename="impact-{oot.standard_id}-{oot.calibrated_on.isoformat()}.csv"'
        in (csv_page.headers["content-disposition"])
    )
    assert csv_page.content.decode("utf-8") == traceability.impact_csv(report)
    rows = list(csv.reader(io.StringIO(csv_page.content.decode("utf-8-sig"))))
    assert len(rows) == 1 + len(report.calibrations) + len(report.records)
    assert f"/traceability/standards/{oot.standard_id}/impact.csv?on={oot.calibrated_on.isoformat()}" in body


def test_outside_the_demo_city_or_absent_is_not_found(
    platform: Platform, web_client: TestClient, demo: Demo
) -> None:
    with platform.reading() as s:
        prov = s.get(MeasurementStandard, demo.oot.standard_id)
        assert prov is not None
        holder = prov.holder_id
    # a provincial standard that calibrated nothing in the demo city
    other = standards.add_standard(
        platform,
        SYSTEM,
        {
            "name": "省级长度标准（未用于演示市）",
            "kind": "social_public",
            "holder_id": holder,
            "region_code": "330000",
            "quantity": "长度",
            "certificate_no": "[2024]浙社量标证字第999号",
            "certificate_valid_from": "2024-01-01",
            "certificate_valid_until": "2030-01-01",
            "item_codes": standards.standard_items(platform, demo.oot.standard_id),
        },
    )
    for url in (
        f"/traceability/standards/{other.id}",
        f"/traceability/standards/{other.id}?impact_on=2026-01-01",
        f"/traceability/standards/{other.id}/impact.csv?on=2026-01-01",
        "/traceability/standards/999999",
        "/traceability/instruments/999999",
        "/traceability/instruments/abc",
    ):
        page = web_client.get(url)
        assert page.status_code == 404, url
        assert "未找到" in page.text and other.certificate_no not in page.text
    assert "Not found" in web_client.get(f"/traceability/standards/{other.id}", params={"lang": "en"}).text


def test_a_bad_date_is_a_bilingual_422(web_client: TestClient, demo: Demo) -> None:
    sid = demo.ids[trace_demo.LOW_TUR_STANDARD]
    for url, params in (
        (f"/traceability/standards/{sid}", {"on": "2026-13-01"}),
        (f"/traceability/instruments/{demo.low_tur_instrument}", {"on": "yesterday"}),
        (f"/traceability/standards/{sid}", {"impact_on": "soon"}),
        (f"/traceability/standards/{sid}/impact.csv", {"on": "soon"}),
    ):
        page = web_client.get(url, params=params)
        assert page.status_code == 422, (url, params)
        body = text_of(page.text)
        assert "不是有效日期" in body and "is not a date" in body and "无法显示" in body
    page = web_client.get(f"/traceability/standards/{sid}", params={"on": "<b>x</b>"})
    assert page.status_code == 422 and "<b>x</b>" not in page.text and "&lt;b&gt;x&lt;/b&gt;" in page.text


def test_english(web_client: TestClient, demo: Demo) -> None:
    page = web_client.get("/traceability", params={"lang": "en"})
    assert page.status_code == 200
    body = text_of(page.text)
    assert "Traceability" in body and "synthetic" in body and "Broken and expired chains" in body
    assert "量值溯源" not in body and "lang=zh" in body
    chain = web_client.get(f"/traceability/instruments/{demo.low_tur_instrument}", params={"lang": "en"}).text
    assert "below 4:1" in chain and "anchor" in chain and "Calibrated" in chain
    impact = web_client.get(
        f"/traceability/standards/{demo.oot.standard_id}",
        params={"impact_on": demo.oot.calibrated_on.isoformat(), "lang": "en"},
    ).text
    assert "Verification records to recall" in impact and "Download CSV" in impact
    # the language switch keeps the query
    assert f"impact_on={demo.oot.calibrated_on.isoformat()}" in impact.split("<nav>")[1].split("</nav>")[0]


def test_without_the_demo_the_pages_explain(web_client: TestClient) -> None:
    for url in ("/traceability", "/traceability/standards/1", "/traceability/instruments/1"):
        page = web_client.get(url)
        assert page.status_code == 200 and "jiliang demo" in page.text
