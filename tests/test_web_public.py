"""The public lookup pages (no sign-in): place by name or QR, instrument by registry code, certificate
number box on /verify; only public facts, names instead of ids."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from jiliang.domain.places import registry_code
from jiliang.services import instruments, organisations, places, verifications
from tests.factories import COUNTY_A, World, authorise_all, instrument_raw

FUEL = "09.01"


def _station(world: World) -> tuple[str, list[int]]:
    p = world.platform
    organisations.update_organisation(p, world.as_("city"), world.enterprise_id, {"contact": "0571-SECRET-1"})
    station = places.add_place(
        p,
        world.as_("enterprise"),
        {
            "name": "东城加油站（人民路）",
            "kind": "fuel_station",
            "region_code": COUNTY_A,
            "address": "人民路 1 号",
        },
    )
    ids = [
        instruments.file_instrument(
            p, world.as_("enterprise"), instrument_raw(f"D-{n}", item_code=FUEL, name=f"{n} 号加油机")
        ).id
        for n in (1, 2)
    ]
    places.place_instruments(p, world.as_("enterprise"), ids, station.code)
    authorise_all(world, [FUEL])
    verifications.record_verification(
        p,
        world.as_("institution"),
        {"instrument_id": ids[0], "verified_on": "2026-05-01", "conclusion": "pass", "document_no": "JD-1"},
    )
    return station.code, ids


def test_a_place_page_lists_its_dispensers_with_status_in_words(world: World, web_client: TestClient) -> None:
    code, ids = _station(world)
    r = web_client.get(f"/public/places/{code}")
    assert r.status_code == 200
    html = r.text
    assert html.count("<h1>") == 1 and "东城加油站（人民路）" in html
    assert "1 号加油机" in html and "2 号加油机" in html
    assert "✔ 检定合格，在有效期内" in html and "✘ 未检定" in html
    assert "2026-11-01" in html  # the due date (6 months)
    assert "燃油加油机" in html and "演示市东城区" in html
    assert "0571-SECRET-1" not in html  # no owner contact
    assert f'href="/public/instruments/{registry_code(COUNTY_A, ids[0])}?lang=zh"' in html
    assert "style=" not in html and "<script" not in html
    en = web_client.get(f"/public/places/{code}?lang=en").text
    assert "verified, valid" in en and "fuel dispenser" in en.lower()


def test_the_qr_page_and_svg_point_at_the_place(world: World, web_client: TestClient) -> None:
    code, _ = _station(world)
    page = web_client.get(f"/public/places/{code}/qr")
    assert page.status_code == 200 and "<svg" in page.text
    assert f"/public/places/{code}</span>" in page.text
    svg = web_client.get(f"/public/places/{code}/qr.svg")
    assert svg.headers["content-type"].startswith("image/svg+xml") and svg.text.startswith("<svg xmlns=")


def test_search_by_name_is_paged_and_needs_two_characters(world: World, web_client: TestClient) -> None:
    code, _ = _station(world)
    r = web_client.get("/public/places", params={"q": "加油"})
    assert r.status_code == 200 and f'href="/public/places/{code}?lang=zh"' in r.text
    assert "强检器具 2 台" in r.text
    short = web_client.get("/public/places", params={"q": "加"})
    assert short.status_code == 422 and "至少输入 2 个字" in short.text


def test_an_instrument_by_registry_code_and_a_mistyped_code(world: World, web_client: TestClient) -> None:
    _code, ids = _station(world)
    rc = registry_code(COUNTY_A, ids[0])
    r = web_client.get("/public/instruments", params={"code": rc.lower()}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/public/instruments/{rc}?lang=zh"
    page = web_client.get(f"/public/instruments/{rc}")
    assert page.status_code == 200 and "1 号加油机" in page.text and "东城加油站（人民路）" in page.text
    assert "0571-SECRET-1" not in page.text and "人民路 1 号" not in page.text  # owner's own address stays
    bad = web_client.get(f"/public/instruments/{rc[:-1]}{'0' if rc[-1] != '0' else '1'}")
    assert bad.status_code == 404 and "不存在" in bad.text
    assert web_client.get("/public/places/339901-0042").status_code == 404


def test_the_verify_page_has_a_box_for_a_certificate_number(web_client: TestClient) -> None:
    page = web_client.get("/verify").text
    assert re.search(r'<form method="get" action="/public/certificates">', page)
    assert 'name="number"' in page and '<label for="cert-number">' in page
    r = web_client.get("/public/certificates", params={"number": " JD-2026-0001 "}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/v/JD-2026-0001?lang=zh"
    assert web_client.get("/v/JD-NONE").status_code == 404


def test_the_lookup_home_has_three_labelled_boxes(web_client: TestClient) -> None:
    html = web_client.get("/public").text
    for field in ("q", "code", "number"):
        assert f'<label for="{field}">' in html and f'id="{field}"' in html
