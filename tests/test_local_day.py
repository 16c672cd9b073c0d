"""A person's "today" is the day in Beijing: at 17:00 UTC on 15 June it is already 16 June there.

The supervision dashboard's default "as of" day (service and page), its lists' default day, and the energy
readings' "the period has not ended yet" check; the market forms are tested in test_console_market_pool.
Runs on SQLite and (with JILIANG_TEST_POSTGRES_URL) PostgreSQL through the ``platform`` fixture.
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import pytest

from jiliang.errors import InvalidInput
from jiliang.services import indicators
from jiliang.services.energy import readings
from jiliang.services.supervision import dashboard, search
from tests.console_support import Console
from tests.factories import World, authorise_all
from tests.test_energy_services import build_plant, readings_csv
from tests.test_registry import FUEL, file, verify

EVENING = datetime(2026, 6, 15, 17, 0, tzinfo=UTC)
BEIJING_DAY, UTC_DAY = date(2026, 6, 16), date(2026, 6, 15)


def _evening(p: object, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(p, "now", lambda: EVENING)


def test_dashboard_and_lists_default_to_the_day_in_beijing(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    authorise_all(world, [FUEL])
    a = file(world, "SN-A001")
    verify(world, a.id, "2025-12-01", doc="JD-2025-0001")  # due 2026-06-01
    p, sup = world.platform, world.as_("city")
    _evening(p, monkeypatch)
    assert p.today() == UTC_DAY and p.local_today() == BEIJING_DAY
    board = dashboard.dashboard(p, sup)
    assert board.on == BEIJING_DAY and board.overdue == 1
    # the indicators' default day (public page, API without as_of) and their history's last point alike
    assert indicators.report(p, sup, by_item=False).as_of == BEIJING_DAY
    # the Beijing day may be chosen; the next one is in the future
    assert dashboard.dashboard(p, sup, on=BEIJING_DAY).on == BEIJING_DAY
    with pytest.raises(InvalidInput) as err:
        dashboard.dashboard(p, sup, on=date(2026, 6, 17))
    assert err.value.field == "on"
    # the overdue list counts the days to the Beijing day (2026-06-01 → 06-16: 15 days)
    row = search.search_instruments(p, sup, {"state": "overdue"}).items[0]
    assert row.serial_number == "SN-A001" and row.days_overdue == 15


def test_dashboard_page_defaults_to_the_day_in_beijing(console: Console, monkeypatch: pytest.MonkeyPatch) -> None:
    _evening(console.world.platform, monkeypatch)
    client = console.client_for("city")
    page = client.get("/console/supervision")
    assert page.status_code == 200 and 'name="on" value="2026-06-16"' in page.text
    assert client.get("/console/supervision?on=2026-06-16").status_code == 200
    assert client.get("/console/supervision?on=2026-06-17").status_code == 422


def test_a_period_ending_on_the_beijing_day_may_be_reported(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    unit_id, _ids = build_plant(world)
    p, ent = world.platform, world.as_("enterprise")
    _evening(p, monkeypatch)
    start = date(2026, 6, 7)
    with pytest.raises(InvalidInput) as err:
        readings.upload_readings(
            p, ent, unit_id, io.BytesIO(readings_csv(start, 11).encode()), "csv", start, date(2026, 6, 17)
        )
    assert err.value.field == "period_end"
    stored = readings.upload_readings(
        p, ent, unit_id, io.BytesIO(readings_csv(start, 10).encode()), "csv", start, BEIJING_DAY
    )
    assert stored["period_end"] == BEIJING_DAY.isoformat()


def test_a_draw_after_16_utc_is_on_the_beijing_day(console: Console, monkeypatch: pytest.MonkeyPatch) -> None:
    """Drawn at 01:00 in Beijing on 16 June (17:00 UTC on the 15th): an inspection typed as 15 June came
    before the draw and is refused; 16 June is accepted."""
    from jiliang.services.market import plans, results
    from tests.test_console_market import _drawn_plan, _market

    p = console.world.platform
    _market(console)
    _evening(p, monkeypatch)
    pid = _drawn_plan(console.client_for("city"))
    city = console.world.as_("city")
    target = plans.plan_targets(p, city, pid)[0]["id"]
    with pytest.raises(InvalidInput) as err:
        results.record_result(p, city, target, {"inspected_on": "2026-06-15", "conclusion": "pass"})
    assert err.value.field == "inspected_on"
    assert results.record_result(p, city, target, {"inspected_on": "2026-06-16", "conclusion": "pass"})["id"]


def test_a_certificate_issued_after_16_utc_carries_the_beijing_day(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jiliang.services import certificates
    from tests.test_certificates import _record

    record = _record(world)
    _evening(world.platform, monkeypatch)
    cert = certificates.issue(world.platform, world.as_("institution"), record.id)
    assert b"issueDate>2026-06-16</" in bytes(cert.document)


def test_a_booking_for_the_utc_day_is_in_the_past_in_beijing(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """At 17:00 UTC on 15 June, 15 June is yesterday for the owner booking a verification; 16 June is today."""
    from jiliang.services import bookings
    from tests.test_bookings import FUEL, _instrument

    p = world.platform
    authorise_all(world, [FUEL])
    inst_id = _instrument(world)
    _evening(p, monkeypatch)
    ent = world.as_("enterprise")
    institution = bookings.institutions_for(p, ent, inst_id)[0].id
    raw = {"instrument_id": inst_id, "institution_id": institution, "preferred_on": "2026-06-15"}
    with pytest.raises(InvalidInput) as err:
        bookings.request_booking(p, ent, raw)
    assert err.value.field == "preferred_on"
    assert bookings.request_booking(p, ent, {**raw, "preferred_on": "2026-06-16"}).preferred_on == BEIJING_DAY
