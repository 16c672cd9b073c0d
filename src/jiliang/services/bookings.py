"""Verification bookings (预约检定): an owner asks an authorised institution to verify an instrument.

The enterprise picks among the institutions authorised, on the preferred day, for the instrument's
catalogue item in its region (the same rule ``record_verification`` applies); the institution lists
what was booked with it (``bookings_for_institution``) and accepts or declines. A booking counts as
done once the instrument has a verification on or after the day it was made, so nothing here has to be
kept in step with the verification service.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from jiliang.domain.access import Principal, Role
from jiliang.domain.instruments import InstrumentStatus, optional_text, parse_date
from jiliang.domain.places import registry_code
from jiliang.domain.regions import in_jurisdiction
from jiliang.errors import Conflict, InvalidInput
from jiliang.services import catalogue as catalogue_service
from jiliang.services import scope
from jiliang.services.common import Page, not_found, one_visible, require_role
from jiliang.services.platform import Platform
from jiliang.services.standards import is_authorised
from jiliang.store.models import Authorisation, Booking, Instrument, Organisation, Place, PlaceInstrument

HORIZON = timedelta(days=366)  # how far ahead a booking may be asked for


class BookingStatus(StrEnum):
    REQUESTED = "requested"  # 待确认
    ACCEPTED = "accepted"  # 已接受
    DECLINED = "declined"  # 已婉拒
    CANCELLED = "cancelled"  # 已取消


OPEN = (BookingStatus.REQUESTED.value, BookingStatus.ACCEPTED.value)
BOOKING_LABELS: dict[str, tuple[str, str]] = {
    "requested": ("待确认", "requested"),
    "accepted": ("已接受", "accepted"),
    "declined": ("已婉拒", "declined"),
    "cancelled": ("已取消", "cancelled"),
    "done": ("已检定", "verified"),
}


@dataclass(frozen=True, slots=True)
class InstitutionChoice:
    id: int
    name: str


@dataclass(frozen=True, slots=True)
class BookingView:
    """A booking as either side reads it: names, not ids (the ids are there for links and forms)."""

    id: int
    instrument_id: int
    instrument_name: str
    registry_code: str
    serial_number: str
    item_code: str
    item_name: str
    place_name: str
    location: str
    owner_name: str
    owner_contact: str  # shown to the institution that must come; never on a public page
    institution_name: str
    preferred_on: date
    status: str
    note: str
    reply: str
    created_at: datetime
    due_on: date | None
    verified_since: bool

    @property
    def shown_status(self) -> str:
        """``done`` once verified since the booking was made, whatever the institution answered."""
        return "done" if self.verified_since and self.status != "cancelled" else self.status


def institutions_for(
    platform: Platform, principal: Principal, instrument_id: int, on: date | None = None
) -> list[InstitutionChoice]:
    """The institutions authorised on ``on`` (today by default) for this instrument's item and region."""
    day = on or platform.local_today()
    with platform.reading() as s:
        inst = _visible_instrument(s, principal, instrument_id)
        rows = s.execute(
            select(Organisation.id, Organisation.name, Authorisation.region_code)
            .join(Authorisation, Authorisation.institution_id == Organisation.id)
            .where(
                Authorisation.item_code == inst.item_code,
                Authorisation.valid_from <= day,
                Authorisation.valid_until >= day,
            )
            .order_by(Organisation.name, Organisation.id)
        ).all()
    seen: dict[int, str] = {}
    for oid, name, region in rows:
        if in_jurisdiction(inst.region_code, region):
            seen.setdefault(int(oid), name)
    return [InstitutionChoice(i, n) for i, n in seen.items()]


def _visible_instrument(s: Session, principal: Principal, instrument_id: int) -> Instrument:
    stmt = scope.instruments(select(Instrument).where(Instrument.id == instrument_id), principal)
    return one_visible(s, stmt, "instrument", instrument_id)  # type: ignore[no-any-return]


def request_booking(platform: Platform, principal: Principal, raw: dict[str, Any]) -> Booking:
    """An owner books a verification of one of its instruments with an authorised institution."""
    require_role(principal, Role.ENTERPRISE)
    today = platform.local_today()
    preferred = parse_date(raw.get("preferred_on"), "preferred_on")
    if not today <= preferred <= today + HORIZON:
        raise InvalidInput(
            "预约日期须在今天至一年内 / the preferred day must be between today and a year ahead",
            field="preferred_on",
        )
    note = optional_text(raw.get("note"), "note", 500)
    instrument_id = _int(raw.get("instrument_id"), "instrument_id")
    institution_id = _int(raw.get("institution_id"), "institution_id")
    with platform.unit_of_work(principal) as s:
        inst = _visible_instrument(s, principal, instrument_id)
        if inst.status == InstrumentStatus.SCRAPPED.value:
            raise Conflict("器具已报废 / the instrument is scrapped", field="instrument_id")
        if not is_authorised(s, institution_id, inst.item_code, inst.region_code, preferred):
            raise InvalidInput(
                "该机构在预约日期未获此类器具在本地的检定授权 / the institution is not authorised for this "
                "instrument on that day",
                field="institution_id",
            )
        open_one = s.scalar(
            select(Booking.id).where(Booking.instrument_id == inst.id, Booking.status.in_(OPEN))
        )
        if open_one is not None:
            raise Conflict(
                "该器具已有未完成的预约 / the instrument already has an open booking", field="instrument_id"
            )
        now = platform.now()
        booking = Booking(
            instrument_id=inst.id,
            owner_id=inst.owner_id,
            institution_id=institution_id,
            preferred_on=preferred,
            status=BookingStatus.REQUESTED.value,
            note=note,
            reply="",
            created_at=now,
            updated_at=now,
        )
        s.add(booking)
    return booking


def cancel_booking(platform: Platform, principal: Principal, booking_id: int) -> BookingView:
    require_role(principal, Role.ENTERPRISE)
    with platform.unit_of_work(principal) as s:
        booking = _own_booking(s, principal, booking_id)
        if booking.status not in OPEN:
            raise Conflict("预约已结束，不能取消 / the booking is closed", field="status")
        booking.status = BookingStatus.CANCELLED.value
        booking.updated_at = platform.now()
    return get_booking(platform, principal, booking_id)


def respond_booking(
    platform: Platform, principal: Principal, booking_id: int, *, accept: bool, reply: str = ""
) -> BookingView:
    """The institution accepts (optionally with a note of the day it will come) or declines."""
    require_role(principal, Role.INSTITUTION)
    text = optional_text(reply, "reply", 500)
    with platform.unit_of_work(principal) as s:
        booking = _own_booking(s, principal, booking_id)
        if booking.status != BookingStatus.REQUESTED.value:
            raise Conflict(
                "预约已答复或已取消 / the booking was already answered or cancelled", field="status"
            )
        booking.status = (BookingStatus.ACCEPTED if accept else BookingStatus.DECLINED).value
        booking.reply = text
        booking.updated_at = platform.now()
    return get_booking(platform, principal, booking_id)


def _booking_scope(principal: Principal) -> Any:
    if principal.role is Role.ENTERPRISE:
        return Booking.owner_id == (principal.organisation_id or -1)
    if principal.role is Role.INSTITUTION:
        return Booking.institution_id == (principal.organisation_id or -1)
    if principal.role in (Role.SUPERVISOR, Role.ADMINISTRATOR):
        prefix = principal.prefix
        return Instrument.region_code.like(prefix + "%") if prefix else Booking.id.is_not(None)
    return Booking.id == -1


def _own_booking(s: Session, principal: Principal, booking_id: int) -> Booking:
    stmt = (
        select(Booking)
        .join(Instrument, Instrument.id == Booking.instrument_id)
        .where(Booking.id == booking_id, _booking_scope(principal))
    )
    if principal.role not in (Role.ENTERPRISE, Role.INSTITUTION):
        raise not_found("booking", booking_id)
    return one_visible(s, stmt, "booking", booking_id)  # type: ignore[no-any-return]


def _views(
    platform: Platform, principal: Principal, where: Any, offset: int, limit: int
) -> Page[BookingView]:
    if offset < 0:
        raise InvalidInput("offset 不能为负 / offset must be ≥ 0", field="offset")
    if not 1 <= limit <= platform.settings.page_size_max:
        raise InvalidInput("limit 超出范围 / limit out of range", field="limit")
    owner = aliased(Organisation)
    institution = aliased(Organisation)
    base = (
        select(Booking, Instrument, owner.name, owner.contact, institution.name, Place.name)
        .join(Instrument, Instrument.id == Booking.instrument_id)
        .join(owner, owner.id == Booking.owner_id)
        .join(institution, institution.id == Booking.institution_id)
        .outerjoin(PlaceInstrument, PlaceInstrument.instrument_id == Instrument.id)
        .outerjoin(Place, Place.id == PlaceInstrument.place_id)
        .where(_booking_scope(principal), where)
    )
    with platform.reading() as s:
        total = s.scalar(select(func.count()).select_from(base.subquery())) or 0
        rows = s.execute(base.order_by(Booking.preferred_on, Booking.id).offset(offset).limit(limit)).all()
    items = catalogue_service.catalogue(platform)
    views = []
    for b, i, owner_name, contact, inst_name, place_name in rows:
        item = items.get(i.item_code)
        made = platform.local_date(b.created_at)  # the day in Beijing, as verification dates are
        views.append(
            BookingView(
                id=b.id,
                instrument_id=i.id,
                instrument_name=i.name,
                registry_code=registry_code(i.region_code, i.id),
                serial_number=i.serial_number,
                item_code=i.item_code,
                item_name=item.level2_zh if item else i.item_code,
                place_name=place_name or "",
                location=i.location,
                owner_name=owner_name,
                owner_contact=contact if principal.role is not Role.ENTERPRISE else "",
                institution_name=inst_name,
                preferred_on=b.preferred_on,
                status=b.status,
                note=b.note,
                reply=b.reply,
                created_at=b.created_at,
                due_on=i.due_on,
                verified_since=i.last_verified_on is not None and i.last_verified_on >= made,
            )
        )
    return Page(items=views, total=int(total), offset=offset, limit=limit)


def get_booking(platform: Platform, principal: Principal, booking_id: int) -> BookingView:
    page = _views(platform, principal, Booking.id == booking_id, 0, 1)
    if not page.items:
        raise not_found("booking", booking_id)
    return page.items[0]


def bookings_for_owner(
    platform: Platform, principal: Principal, *, open_only: bool = False, offset: int = 0, limit: int = 50
) -> Page[BookingView]:
    """The enterprise's bookings, by preferred day."""
    require_role(principal, Role.ENTERPRISE)
    where = Booking.status.in_(OPEN) if open_only else Booking.id.is_not(None)
    return _views(platform, principal, where, offset, limit)


def bookings_for_institution(
    platform: Platform,
    principal: Principal,
    *,
    status: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> Page[BookingView]:
    """What owners booked with the signed-in institution, by preferred day (its console's queue).

    ``status``: one of requested, accepted, declined, cancelled, or "open" (requested or accepted).
    """
    require_role(principal, Role.INSTITUTION)
    if status in (None, ""):
        where: Any = Booking.id.is_not(None)
    elif status == "open":
        where = Booking.status.in_(OPEN)
    elif status in {s.value for s in BookingStatus}:
        where = Booking.status == status
    else:
        raise InvalidInput(
            "状态无效 / status must be requested, accepted, declined, cancelled or open", field="status"
        )
    return _views(platform, principal, where, offset, limit)


def _int(value: object, field: str) -> int:
    try:
        return int(value)  # type: ignore[call-overload,no-any-return]
    except (TypeError, ValueError):
        raise InvalidInput(f"{field} 必须是编号 / {field} must be an id", field=field) from None
