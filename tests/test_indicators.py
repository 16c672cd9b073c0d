"""Indicators on a hand-built registry whose right answers can be counted on one's fingers."""

from __future__ import annotations

from datetime import date

import pytest

from jiliang.domain.access import SYSTEM
from jiliang.errors import InvalidInput, NotFound
from jiliang.legal.coverage import ALL_ITEMS, Indicator
from jiliang.services import indicators, instruments, standards
from jiliang.services.platform import Platform
from tests.factories import CITY, COUNTY_A, COUNTY_B, PROVINCE, World, authorise_all
from tests.test_registry import FUEL, WATER, file, verify

COV, STD, OVER = Indicator.VERIFICATION_COVERAGE, Indicator.STANDARD_COVERAGE, Indicator.OVERDUE


@pytest.fixture
def city(world: World) -> World:
    """County A: 4 fuel dispensers — 2 valid, 1 overdue, 1 failed (suspended); 1 non-compulsory; 1 scrapped.
    County B: 2 water meters DN20 — 1 valid, 1 never verified."""
    authorise_all(world, [FUEL, WATER])
    ok1, ok2, late, failed = (file(world, f"F-{i}") for i in range(4))
    verify(world, ok1.id, "2026-03-01")
    verify(world, ok2.id, "2026-05-01")
    verify(world, late.id, "2025-11-01")  # due 2026-05-01, overdue on 2026-06-15
    verify(world, failed.id, "2026-04-01", "fail")
    file(world, "F-other", use="other")
    scrapped = file(world, "F-scrap")
    instruments.change_status(world.platform, world.as_("enterprise"), scrapped.id, "scrapped", "2026-02-01")
    w1 = file(world, "W-1", who="other_enterprise", item_code=WATER, nominal_size=20, region=COUNTY_B)
    file(world, "W-2", who="other_enterprise", item_code=WATER, nominal_size=20, region=COUNTY_B)
    verify(world, w1.id, "2026-01-10")
    return world


def rate(
    rep: indicators.IndicatorReport, ind: Indicator, region: str, item: str = ALL_ITEMS
) -> tuple[int, int]:
    v = rep.get(ind, region, item)
    assert v is not None, (ind, region, item)
    return v.numerator, v.denominator


def test_verification_coverage_and_overdue_on_today(city: World) -> None:
    rep = indicators.report(city.platform, city.as_("city"))
    # in service & compulsory: A has ok1, ok2, late (failed is suspended, scrapped is out); B has 2 meters
    assert rate(rep, COV, COUNTY_A) == (2, 3)
    assert rate(rep, COV, COUNTY_B) == (1, 2)
    assert rate(rep, COV, CITY) == (3, 5)
    assert rate(rep, COV, CITY, FUEL) == (2, 3)
    assert rate(rep, OVER, CITY) == (2, 5)
    assert rep.get(COV, PROVINCE) is None  # nothing above the caller's root


def test_counting_suspended_instruments_is_an_option(city: World) -> None:
    city.platform.settings.coverage.count_suspended = True
    assert rate(indicators.report(city.platform, city.as_("city")), COV, COUNTY_A) == (2, 4)


def test_as_of_past_dates_reads_the_records_and_agrees_with_today(city: World) -> None:
    p = city.platform
    today = indicators.report(p, SYSTEM, region=CITY, on=p.today())
    records_path = indicators.coverage_counts(p, CITY, p.today())
    # force the records path for today by pretending the clock is one day later
    original = p.now
    p.now = lambda: original().replace(day=16)
    try:
        replay = indicators.report(p, SYSTEM, region=CITY, on=date(2026, 6, 15))
    finally:
        p.now = original
    assert [(v.indicator, v.region_code, v.item_code, v.numerator, v.denominator) for v in today.values] == [
        (v.indicator, v.region_code, v.item_code, v.numerator, v.denominator) for v in replay.values
    ]
    assert records_path
    # On 2026-04-15: ok1 (03-01) and late (2025-11-01, due 05-01) valid; ok2 not yet verified; failed had
    # failed on 04-01 (suspended, out); W-1 valid, W-2 never verified; scrapped left service on 02-01.
    past = indicators.report(p, SYSTEM, region=CITY, on=date(2026, 4, 15))
    assert rate(past, COV, COUNTY_A) == (2, 3)
    assert rate(past, COV, CITY) == (3, 5)


def test_standard_coverage_and_expiring_certificates(city: World) -> None:
    p = city.platform
    standards.add_standard(
        p,
        city.as_("institution"),
        {
            "name": "加油机检定装置",
            "kind": "social_public",
            "region_code": CITY,
            "quantity": "volume",
            "certificate_no": "STD-1",
            "certificate_valid_from": "2022-01-01",
            "certificate_valid_until": "2026-08-01",
            "item_codes": [FUEL],
        },
    )
    rep = indicators.report(p, city.as_("city"))
    assert rate(rep, STD, CITY) == (1, 2)  # fuel dispensers and water meters in use; a standard for one
    assert rate(rep, STD, COUNTY_A) == (1, 1)  # the city's standard serves its counties (default)
    p.settings.coverage.standards_from_ancestors = False
    assert rate(indicators.report(p, city.as_("city")), STD, COUNTY_A) == (0, 1)
    expiring = indicators.expiring_standards(p, city.as_("city"))
    assert [s.certificate_no for s in expiring] == ["STD-1"]
    assert indicators.expiring_standards(p, city.as_("city"), within_days=30) == []


def test_targets_are_shown_with_gap_and_inherited(city: World) -> None:
    p = city.platform
    indicators.set_target(
        p,
        city.as_("city"),
        region_code=CITY,
        year=2026,
        indicator="verification_coverage",
        target=0.92,
        source="演示市计量发展规划",
    )
    rep = indicators.report(p, city.as_("city"))
    city_value = rep.get(COV, CITY)
    assert city_value is not None and city_value.target == 0.92 and city_value.meets_target is False
    assert city_value.gap == pytest.approx(0.6 - 0.92)
    county = rep.get(COV, COUNTY_B)
    assert county is not None and county.target == 0.92
    with pytest.raises(InvalidInput) as err:
        indicators.set_target(
            p, city.as_("city"), region_code=CITY, year=2026, indicator="verification_coverage", target=92
        )
    assert err.value.field == "target"
    with pytest.raises(NotFound):
        indicators.set_target(
            p,
            city.as_("county_b"),
            region_code=CITY,
            year=2026,
            indicator="verification_coverage",
            target=0.9,
        )


def test_trend_uses_month_ends_and_snapshots(city: World) -> None:
    p: Platform = city.platform
    series = indicators.trend(p, city.as_("city"), months=3)
    assert [d.on for d in series] == [date(2026, 4, 30), date(2026, 5, 31), date(2026, 6, 15)]
    assert (series[-1].value.numerator, series[-1].value.denominator) == (3, 5)
    assert indicators.take_snapshot(p, date(2026, 5, 31)) > 0
    again = indicators.trend(p, city.as_("city"), months=3)
    assert [(d.value.numerator, d.value.denominator) for d in again] == [
        (d.value.numerator, d.value.denominator) for d in series
    ]


def test_jurisdiction_of_indicators(city: World) -> None:
    rep = indicators.report(city.platform, city.as_("county_b"))
    assert {v.region_code for v in rep.values} == {COUNTY_B}
    with pytest.raises(NotFound):
        indicators.report(city.platform, city.as_("county_b"), region=COUNTY_A)


def test_overdue_list_matches_the_overdue_indicator(city: World) -> None:
    p = city.platform
    on = p.today().isoformat()
    listed = instruments.list_instruments(p, city.as_("city"), {"overdue_on": on})
    assert listed.total == rate(indicators.report(p, city.as_("city")), OVER, CITY)[0]
    assert {i.serial_number for i in listed.items} == {"F-2", "W-2"}
    p.settings.coverage.grace_days = 60  # "late" was due 2026-05-01: within the grace it is not overdue
    assert {
        i.serial_number for i in instruments.list_instruments(p, city.as_("city"), {"overdue_on": on}).items
    } == {"W-2"}
    assert rate(indicators.report(p, city.as_("city")), OVER, CITY)[0] == 1
