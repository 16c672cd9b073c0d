"""Verification bookings (预约): an owner books an authorised institution; the institution sees and answers."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from jiliang.errors import Conflict, InvalidInput, NotAuthorised, NotFound
from jiliang.services import bookings, instruments, verifications
from jiliang.store.models import AuditEntry
from tests.factories import COUNTY_B, OTHER_CITY, World, authorise_all, instrument_raw

FUEL = "09.01"


def _instrument(world: World, serial: str = "B-1") -> int:
    return instruments.file_instrument(
        world.platform, world.as_("enterprise"), instrument_raw(serial, item_code=FUEL)
    ).id


def test_an_owner_books_an_authorised_institution_which_sees_and_accepts(world: World) -> None:
    p = world.platform
    authorise_all(world, [FUEL])
    authorise_all(world, [FUEL], region=OTHER_CITY, institution_id=world.other_institution_id)
    inst_id = _instrument(world)
    choices = bookings.institutions_for(p, world.as_("enterprise"), inst_id)
    assert [c.name for c in choices] == [
        "演示市计量检定测试院"
    ]  # the other city's institution is not offered
    booking = bookings.request_booking(
        p,
        world.as_("enterprise"),
        {
            "instrument_id": inst_id,
            "institution_id": choices[0].id,
            "preferred_on": "2026-06-20",
            "note": "上午",
        },
    )
    queue = bookings.bookings_for_institution(p, world.as_("institution"), status="open")
    assert [(b.id, b.instrument_name, b.owner_name, b.status) for b in queue.items] == [
        (booking.id, "器具 B-1", "东城加油站", "requested")
    ]
    assert bookings.bookings_for_institution(p, world.as_("other_institution")).total == 0
    answered = bookings.respond_booking(
        p, world.as_("institution"), booking.id, accept=True, reply="6月20日9时"
    )
    assert (answered.status, answered.reply) == ("accepted", "6月20日9时")
    mine = bookings.bookings_for_owner(p, world.as_("enterprise")).items
    assert [(b.status, b.institution_name, b.owner_contact) for b in mine] == [
        ("accepted", "演示市计量检定测试院", "")
    ]
    # done once verified on or after the day it was made
    verifications.record_verification(
        p,
        world.as_("institution"),
        {
            "instrument_id": inst_id,
            "verified_on": "2026-06-15",
            "conclusion": "pass",
            "document_no": "B-JD-1",
        },
    )
    assert bookings.bookings_for_owner(p, world.as_("enterprise")).items[0].shown_status == "done"
    with p.reading() as s:
        assert s.scalars(select(AuditEntry).where(AuditEntry.object_type == "bookings")).all()


def test_a_booking_needs_an_authorisation_on_the_day_and_one_open_booking_at_a_time(world: World) -> None:
    p = world.platform
    authorise_all(world, [FUEL])
    inst_id = _instrument(world)
    raw = {
        "instrument_id": inst_id,
        "institution_id": world.other_institution_id,
        "preferred_on": "2026-06-20",
    }
    with pytest.raises(InvalidInput) as exc:
        bookings.request_booking(p, world.as_("enterprise"), raw)
    assert exc.value.field == "institution_id"
    with pytest.raises(InvalidInput):
        bookings.request_booking(
            p,
            world.as_("enterprise"),
            {**raw, "institution_id": world.institution_id, "preferred_on": "2026-06-01"},
        )
    ok = {**raw, "institution_id": world.institution_id}
    first = bookings.request_booking(p, world.as_("enterprise"), ok)
    with pytest.raises(Conflict):
        bookings.request_booking(p, world.as_("enterprise"), ok)
    assert bookings.cancel_booking(p, world.as_("enterprise"), first.id).status == "cancelled"
    bookings.request_booking(p, world.as_("enterprise"), ok)


def test_nobody_reaches_a_booking_or_an_instrument_outside_their_reach(world: World) -> None:
    p = world.platform
    authorise_all(world, [FUEL])
    theirs = instruments.file_instrument(
        p, world.as_("other_enterprise"), instrument_raw("T-1", item_code=FUEL, region=COUNTY_B)
    ).id
    with pytest.raises(NotFound):  # another enterprise's instrument id
        bookings.institutions_for(p, world.as_("enterprise"), theirs)
    with pytest.raises(NotFound):
        bookings.request_booking(
            p,
            world.as_("enterprise"),
            {"instrument_id": theirs, "institution_id": world.institution_id, "preferred_on": "2026-06-20"},
        )
    booking = bookings.request_booking(
        p,
        world.as_("other_enterprise"),
        {"instrument_id": theirs, "institution_id": world.institution_id, "preferred_on": "2026-06-20"},
    )
    with pytest.raises(NotFound):
        bookings.cancel_booking(p, world.as_("enterprise"), booking.id)
    with pytest.raises(NotFound):
        bookings.respond_booking(p, world.as_("other_institution"), booking.id, accept=True)
    with pytest.raises(NotAuthorised):
        bookings.bookings_for_institution(p, world.as_("enterprise"))
    with pytest.raises(NotAuthorised):
        bookings.request_booking(p, world.as_("city"), {"instrument_id": theirs})
