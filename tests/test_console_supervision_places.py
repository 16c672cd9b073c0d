"""The supervisor's places (一站一码): list by region, a place with its instruments and their status,
its printable QR code; scoped by jurisdiction (another county's place is a 404 page)."""

from __future__ import annotations

import pytest

from jiliang.errors import NotAuthorised, NotFound
from jiliang.services import places, verifications
from tests.console_support import Console, console  # noqa: F401 (fixture)
from tests.factories import COUNTY_A, COUNTY_B, World, authorise_all
from tests.test_places_public import FUEL, _station

BASE = "/console/supervision/places"


@pytest.fixture
def stations(world: World) -> tuple[str, str, list[int]]:
    authorise_all(world, [FUEL])
    code, ids = _station(world)
    verifications.record_verification(
        world.platform,
        world.as_("institution"),
        {"instrument_id": ids[0], "verified_on": "2026-05-01", "conclusion": "pass", "document_no": "JD-P1"},
    )
    market = places.add_place(
        world.platform, world.as_("county_b"), {"name": "西城农贸市场", "kind": "market", "region_code": COUNTY_B}
    )
    return code, market.code, ids


def test_places_by_region_with_their_instruments_and_scope(world: World, stations: tuple[str, str, list[int]]) -> None:
    station, market, _ids = stations
    p = world.platform
    rows = places.supervised_places(p, world.as_("city"))
    assert [(r.code, r.name, r.instruments) for r in rows.items] == [
        (station, "东城加油站（人民路）", 3),
        (market, "西城农贸市场", 0),
    ]
    assert [r.code for r in places.supervised_places(p, world.as_("city"), region_code=COUNTY_A).items] == [station]
    assert [r.code for r in places.supervised_places(p, world.as_("city"), kind="market").items] == [market]
    assert [r.code for r in places.supervised_places(p, world.as_("county_b")).items] == [market]
    assert places.supervised_places(p, world.as_("other_city")).total == 0
    with pytest.raises(NotFound):
        places.supervised_places(p, world.as_("county_b"), region_code=COUNTY_A)
    with pytest.raises(NotFound):
        places.supervised_place(p, world.as_("county_b"), station)
    with pytest.raises(NotAuthorised):
        places.supervised_places(p, world.as_("enterprise"))
    place, shown = places.supervised_place(p, world.as_("city"), station)
    assert place.code == station and shown.instruments.total == 3


def test_place_pages_render_link_and_print(console: Console, stations: tuple[str, str, list[int]]) -> None:  # noqa: F811
    station, _market, ids = stations
    client = console.client_for("city")
    listing = client.get(BASE)
    assert listing.status_code == 200 and listing.text.count("<h1") == 1
    assert "东城加油站（人民路）" in listing.text and "西城农贸市场" in listing.text
    assert f"/public/places/{station}/qr" in listing.text and "加油（气）站" in listing.text
    detail = client.get(f"{BASE}/{station}")
    assert detail.status_code == 200 and detail.text.count("<h1") == 1
    text = detail.text
    for expected in ("1 号加油机", "✔ 检定合格，在有效期内", "✘ 未检定", "2026-11-01", f"/console/supervision/instruments/{ids[0]}"):
        assert expected in text, expected
    assert f"/public/places/{station}/qr" in text
    assert client.get(f"/public/places/{station}/qr").status_code == 200  # the QR page it links to
    english = client.get(f"{BASE}/{station}?lang=en").text
    assert "fuel station" in english and "Compulsory instruments at this place" in english
    other = console.client_for("county_b")
    assert other.get(f"{BASE}/{station}").status_code == 404
    assert "东城加油站" not in other.get(BASE).text
