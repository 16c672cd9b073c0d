"""What an enterprise (使用单位) reads on its console: its instruments' standing at a glance, and what
falls due in a month. Jurisdiction as everywhere: ``scope.instruments`` limits an enterprise to its own."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select

from jiliang.domain.access import Principal
from jiliang.domain.catalogue import add_months
from jiliang.domain.instruments import InstrumentStatus
from jiliang.services.common import Page, paginate
from jiliang.services.instruments import instrument_query
from jiliang.services.platform import Platform
from jiliang.store.models import Booking, Instrument


@dataclass(frozen=True, slots=True)
class Overview:
    in_service: int
    compulsory: int
    overdue: int
    due_next_month: int
    open_bookings: int
    next_month: tuple[date, date]  # [first day, first day of the month after)


def next_month(today: date) -> tuple[date, date]:
    first = today.replace(day=1)
    return add_months(first, 1), add_months(first, 2)


def due_between(
    platform: Platform, principal: Principal, start: date, end: date, offset: int = 0, limit: int = 50
) -> Page[Instrument]:
    """In-service compulsory instruments whose next verification falls in [start, end), by due date."""
    stmt = (
        instrument_query(principal, {"compulsory": True, "status": InstrumentStatus.IN_SERVICE.value})
        .where(Instrument.due_on >= start, Instrument.due_on < end)
        .order_by(None)
        .order_by(Instrument.due_on, Instrument.id)
    )
    with platform.reading() as s:
        return paginate(s, stmt, offset, limit, platform.settings.page_size_max)


def overview(platform: Platform, principal: Principal) -> Overview:
    today = platform.local_today()
    start, end = next_month(today)
    grace = platform.settings.coverage.grace_days

    def count(filters: dict[str, Any], *extra: Any) -> int:
        stmt = instrument_query(principal, filters, grace).where(*extra).order_by(None)
        with platform.reading() as s:
            return int(s.scalar(select(func.count()).select_from(stmt.subquery())) or 0)

    in_service: dict[str, Any] = {"status": InstrumentStatus.IN_SERVICE.value}
    with platform.reading() as s:
        bookings = int(
            s.scalar(
                select(func.count())
                .select_from(Booking)
                .where(
                    Booking.owner_id == (principal.organisation_id or -1),
                    Booking.status.in_(("requested", "accepted")),
                )
            )
            or 0
        )
    return Overview(
        in_service=count(in_service),
        compulsory=count({**in_service, "compulsory": True}),
        overdue=count({"overdue_on": today}),
        due_next_month=count(
            {**in_service, "compulsory": True}, Instrument.due_on >= start, Instrument.due_on < end
        ),
        open_bookings=bookings,
        next_month=(start, end),
    )
