"""Places of use (一站一码) and the public lookups: a place's compulsory instruments with their status,
an instrument by its registry code, places by name; only public facts, and nothing outside one's reach."""

from __future__ import annotations

from dataclasses import fields
from datetime import date

import pytest

from jiliang.domain.access import SYSTEM
from jiliang.domain.places import PublicStatus, parse_registry_code, public_status, registry_code
from jiliang.errors import InvalidInput, NotFound
from jiliang.services import instruments, places, public, verifications
from jiliang.services.public import PublicInstrument
from tests.factories import COUNTY_A, COUNTY_B, World, authorise_all, instrument_raw

FUEL = "09.01"


def test_registry_codes_carry_a_check_character_so_a_typo_finds_nothing() -> None:
    code = registry_code("339901", 1234)
    assert code.startswith("339901-00001234-")
    assert parse_registry_code(code) == ("339901", 1234)
    assert parse_registry_code(code.replace("-", "")) == ("339901", 1234)
    wrong = code[:-1] + ("0" if code[-1] != "0" else "1")
    with pytest.raises(NotFound):
        parse_registry_code(wrong)
    with pytest.raises(NotFound):
        parse_registry_code("339901-00001243-" + code[-1])  # two digits swapped


def test_the_public_status_follows_the_overdue_rule() -> None:
    today = date(2026, 6, 15)
    base = {"status": "in_service", "compulsory": True, "today": today}
    ok = public_status(
        **base, last_conclusion="pass", valid_until=date(2026, 12, 1), due_on=date(2026, 12, 1)
    )  # type: ignore[arg-type]
    soon = public_status(
        **base, last_conclusion="pass", valid_until=date(2026, 7, 1), due_on=date(2026, 7, 1)
    )  # type: ignore[arg-type]
    late = public_status(**base, last_conclusion="pass", valid_until=today, due_on=today)  # type: ignore[arg-type]
    never = public_status(**base, last_conclusion=None, valid_until=None, due_on=None)  # type: ignore[arg-type]
    failed = public_status(  # type: ignore[arg-type]
        **{**base, "status": "suspended"}, last_conclusion="fail", valid_until=None, due_on=None
    )
    assert (ok, soon, late, never, failed) == (
        PublicStatus.VALID,
        PublicStatus.DUE_SOON,
        PublicStatus.OVERDUE,
        PublicStatus.NEVER,
        PublicStatus.FAILED,
    )


def _station(world: World) -> tuple[str, list[int]]:
    p = world.platform
    station = places.add_place(
        p,
        world.as_("enterprise"),
        {"name": "东城加油站（人民路）", "kind": "fuel_station", "region_code": COUNTY_A},
    )
    ids = [
        instruments.file_instrument(
            p, world.as_("enterprise"), instrument_raw(f"D-{n}", item_code=FUEL, name=f"{n} 号加油机")
        ).id
        for n in (1, 2, 3)
    ]
    places.place_instruments(p, world.as_("enterprise"), ids, station.code)
    return station.code, ids


def test_a_fuel_station_lists_its_dispensers_with_their_status(world: World) -> None:
    p = world.platform
    authorise_all(world, [FUEL])
    code, ids = _station(world)
    assert code == "339901-0001"
    verifications.record_verification(
        p,
        world.as_("institution"),
        {"instrument_id": ids[0], "verified_on": "2026-05-01", "conclusion": "pass", "document_no": "JD-1"},
    )
    verifications.record_verification(
        p,
        world.as_("institution"),
        {"instrument_id": ids[1], "verified_on": "2026-05-02", "conclusion": "fail", "document_no": "JD-2"},
    )
    page = public.place(p, code)
    assert page.name == "东城加油站（人民路）" and page.operator_name == "东城加油站"
    assert page.region_name == "演示市东城区"
    by_name = {i.name: i for i in page.instruments.items}
    assert by_name["1 号加油机"].status is PublicStatus.VALID
    assert by_name["1 号加油机"].due_on == date(2026, 11, 1)  # fuel dispensers: 6 months
    assert by_name["1 号加油机"].item_name_zh == "燃油加油机"
    assert by_name["2 号加油机"].status is PublicStatus.FAILED
    assert by_name["3 号加油机"].status is PublicStatus.NEVER
    assert page.counts == {PublicStatus.VALID: 1, PublicStatus.FAILED: 1, PublicStatus.NEVER: 1}
    # the same instrument by its registry code
    one = public.instrument(p, by_name["1 号加油机"].registry_code)
    assert (one.place_name, one.owner_name) == ("东城加油站（人民路）", "东城加油站")


def test_public_values_hold_no_contact_and_no_internal_id() -> None:
    names = {f.name for f in fields(PublicInstrument)}
    assert not names & {"id", "owner_id", "contact", "owner_contact", "address", "location"}


def test_a_place_page_is_paged_and_bounded(world: World) -> None:
    code, _ = _station(world)
    page = public.place(world.platform, code, offset=0, limit=2)
    assert (len(page.instruments.items), page.instruments.total) == (2, 3)
    assert sum(page.counts.values()) == 3  # counts cover the whole place
    assert public.place(world.platform, code, limit=10_000).instruments.limit == public.MAX_PUBLIC_PAGE


def test_places_are_found_by_name_with_at_least_two_characters(world: World) -> None:
    _station(world)
    places.add_place(
        world.platform,
        world.as_("county_b"),
        {"name": "西城农贸市场", "kind": "market", "region_code": COUNTY_B},
    )
    found = public.search_places(world.platform, "加油")
    assert [(x.name, x.instruments) for x in found.items] == [("东城加油站（人民路）", 3)]
    assert public.search_places(world.platform, "市场").items[0].code == "339902-0001"
    assert public.search_places(world.platform, "100%").total == 0  # LIKE wildcards are literal
    with pytest.raises(InvalidInput):
        public.search_places(world.platform, "加")


def test_unknown_codes_are_not_found(world: World) -> None:
    with pytest.raises(NotFound):
        public.place(world.platform, "339901-0099")
    with pytest.raises(NotFound):
        public.place(world.platform, "../../etc")
    with pytest.raises(NotFound):
        public.instrument(world.platform, registry_code(COUNTY_A, 999))


def test_an_enterprise_places_only_its_own_instruments_at_its_own_places(world: World) -> None:
    p = world.platform
    code, ids = _station(world)
    theirs = instruments.file_instrument(
        p, world.as_("other_enterprise"), instrument_raw("O-1", item_code=FUEL, region=COUNTY_B)
    )
    with pytest.raises(NotFound):
        places.place_instruments(p, world.as_("enterprise"), [theirs.id], code)
    with pytest.raises(NotFound):
        places.place_instruments(p, world.as_("other_enterprise"), [theirs.id], code)
    with pytest.raises(NotFound):  # a supervisor of another county cannot reach the place
        places.get_place(p, world.as_("county_b"), code)
    assert places.get_place(p, world.as_("city"), code).name == "东城加油站（人民路）"
    # moving an instrument off the place
    places.place_instruments(p, world.as_("enterprise"), [ids[2]], None)
    assert public.place(p, code).instruments.total == 2
    assert places.place_of(p, world.as_("enterprise"), ids[0]).code == code  # type: ignore[union-attr]


def test_the_qr_code_points_at_the_public_page(world: World) -> None:
    code, _ = _station(world)
    url = places.public_url(world.platform, code)
    assert url == f"{world.platform.settings.public_url.rstrip('/')}/public/places/{code}"
    svg = places.qr_svg(world.platform, code)
    assert svg.startswith("<svg") and code in svg


def test_places_are_numbered_per_county(world: World) -> None:
    a = places.add_place(
        world.platform, world.as_("city"), {"name": "甲市场", "kind": "集贸市场", "region_code": COUNTY_A}
    )
    b = places.add_place(
        world.platform, world.as_("city"), {"name": "乙市场", "kind": "market", "region_code": COUNTY_A}
    )
    assert (a.code, b.code) == ("339901-0001", "339901-0002")
    with pytest.raises(NotFound):
        places.add_place(
            world.platform, world.as_("county_b"), {"name": "丙", "kind": "market", "region_code": COUNTY_A}
        )
    with pytest.raises(InvalidInput):
        places.add_place(world.platform, SYSTEM, {"name": "丁", "kind": "spaceport", "region_code": COUNTY_A})
