"""What a verification institution works from: instruments due in its area, its standards and authorisations,
its certificates. Reads only, each scoped to the calling institution (another's rows are never listed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import ColumnElement, and_, false, or_, select

from jiliang.domain.access import Principal, Role
from jiliang.domain.instruments import InstrumentStatus
from jiliang.domain.regions import jurisdiction_prefix
from jiliang.services import catalogue as catalogue_service
from jiliang.services import scope
from jiliang.services.common import require_role
from jiliang.services.platform import Platform
from jiliang.store.models import (
    Authorisation,
    Certificate,
    Instrument,
    MeasurementStandard,
    Organisation,
    Region,
    StandardItem,
)


def _institution(principal: Principal) -> int:
    require_role(principal, Role.INSTITUTION)
    return principal.organisation_id if principal.organisation_id is not None else -1


@dataclass(frozen=True)
class DueInstrument:
    id: int
    name: str
    serial_number: str
    item_code: str
    item_name: str
    owner_name: str
    region_name: str
    location: str
    due_on: date | None
    days_overdue: int | None  # positive when past due, None when never verified or not yet due


@dataclass(frozen=True)
class DuePage:
    items: list[DueInstrument]
    offset: int
    limit: int
    has_next: bool  # no total: counting every due instrument of a province is what makes a list slow


def due_queue(
    platform: Platform, principal: Principal, *, within_days: int = 60, offset: int = 0, limit: int = 50
) -> DuePage:
    """Instruments in the institution's area, of items it is authorised for today, that are overdue, due
    within ``within_days`` or never verified; soonest first. (Bookings (预约) join this list when the
    enterprise console records them.)"""
    org = _institution(principal)
    today = platform.local_today()
    limit = max(1, min(limit, platform.settings.page_size_max))
    with platform.reading() as s:
        auths = list(
            s.scalars(
                select(Authorisation).where(
                    Authorisation.institution_id == org,
                    Authorisation.valid_from <= today,
                    Authorisation.valid_until >= today,
                )
            )
        )
        covered = _covered(auths, principal)
        stmt = scope.instruments(
            select(Instrument).where(
                covered,
                Instrument.status != InstrumentStatus.SCRAPPED.value,
                or_(Instrument.due_on.is_(None), Instrument.due_on <= today + timedelta(days=within_days)),
            ),
            principal,
        )
        # Soonest first, never-verified first of all; ordered by the due-date index so that a page reads
        # about ``limit`` rows, not every due instrument (NULLS FIRST explicitly: PostgreSQL's default is last).
        rows = list(
            s.scalars(
                stmt.order_by(Instrument.due_on.asc().nulls_first(), Instrument.id)
                .offset(offset)
                .limit(limit + 1)
            )
        )
        has_next = len(rows) > limit
        rows = rows[:limit]
        owners = {
            o.id: o.name
            for o in s.scalars(select(Organisation).where(Organisation.id.in_({r.owner_id for r in rows})))
        }
        regions = {
            r.code: r.name_zh
            for r in s.scalars(select(Region).where(Region.code.in_({r.region_code for r in rows})))
        }
    items = catalogue_service.catalogue(platform)
    out = [
        DueInstrument(
            id=r.id,
            name=r.name,
            serial_number=r.serial_number,
            item_code=r.item_code,
            item_name=items[r.item_code].level2_zh if r.item_code in items else r.item_code,
            owner_name=owners.get(r.owner_id, ""),
            region_name=regions.get(r.region_code, r.region_code),
            location=r.location,
            due_on=r.due_on,
            days_overdue=(today - r.due_on).days if r.due_on and r.due_on < today else None,
        )
        for r in rows
    ]
    return DuePage(out, offset, limit, has_next)


def _covered(auths: list[Authorisation], principal: Principal) -> ColumnElement[bool]:
    """The instruments the authorisations cover, as index-friendly conditions: an item authorised over
    the caller's whole area is one ``item_code IN (…)`` (the area itself is applied by ``scope``); an item
    authorised in parts of it adds code ranges rather than LIKE patterns."""
    if not auths:
        return false()
    whole: set[str] = set()
    parts: dict[str, set[str]] = {}
    mine = principal.prefix
    for a in auths:
        prefix = jurisdiction_prefix(a.region_code)
        if mine.startswith(prefix):
            whole.add(a.item_code)
        else:
            parts.setdefault(a.item_code, set()).add(prefix)
    clauses: list[ColumnElement[bool]] = []
    if whole:
        clauses.append(Instrument.item_code.in_(sorted(whole)))
    for item, prefixes in sorted(parts.items()):
        if item in whole:
            continue
        # codes are digits and ":" follows "9" in ASCII: [p, p + ":") is every code starting with p
        ranges = [
            and_(Instrument.region_code >= p, Instrument.region_code < p + ":") for p in sorted(prefixes)
        ]
        clauses.append(and_(Instrument.item_code == item, or_(*ranges)))
    return or_(*clauses)


@dataclass(frozen=True)
class StandardRow:
    id: int
    name: str
    quantity: str
    measuring_range: str
    uncertainty: str
    certificate_no: str
    valid_from: date
    valid_until: date
    expired: bool
    expiring_soon: bool  # within 90 days
    items: list[str]


def my_standards(platform: Platform, principal: Principal) -> list[StandardRow]:
    """The institution's measurement standards with their approval certificates (计量标准考核证书)."""
    org = _institution(principal)
    today = platform.local_today()
    with platform.reading() as s:
        rows = list(
            s.scalars(
                select(MeasurementStandard)
                .where(MeasurementStandard.holder_id == org, MeasurementStandard.active.is_(True))
                .order_by(MeasurementStandard.certificate_valid_until, MeasurementStandard.id)
            )
        )
        links: dict[int, list[str]] = {}
        for sid, code in s.execute(
            select(StandardItem.standard_id, StandardItem.item_code).where(
                StandardItem.standard_id.in_([r.id for r in rows])
            )
        ):
            links.setdefault(sid, []).append(code)
    return [
        StandardRow(
            r.id,
            r.name,
            r.quantity,
            r.measuring_range,
            r.uncertainty,
            r.certificate_no,
            r.certificate_valid_from,
            r.certificate_valid_until,
            r.certificate_valid_until < today,
            today <= r.certificate_valid_until <= today + timedelta(days=90),
            sorted(links.get(r.id, [])),
        )
        for r in rows
    ]


@dataclass(frozen=True)
class AuthorisationRow:
    item_code: str
    item_name: str
    region_name: str
    valid_from: date
    valid_until: date
    in_force: bool


def my_authorisations(platform: Platform, principal: Principal) -> list[AuthorisationRow]:
    org = _institution(principal)
    today = platform.local_today()
    items = catalogue_service.catalogue(platform)
    with platform.reading() as s:
        rows = list(
            s.scalars(
                select(Authorisation)
                .where(Authorisation.institution_id == org)
                .order_by(Authorisation.item_code, Authorisation.region_code)
            )
        )
        regions = {
            r.code: r.name_zh
            for r in s.scalars(select(Region).where(Region.code.in_({a.region_code for a in rows})))
        }
    return [
        AuthorisationRow(
            a.item_code,
            items[a.item_code].level2_zh if a.item_code in items else a.item_code,
            regions.get(a.region_code, a.region_code),
            a.valid_from,
            a.valid_until,
            a.valid_from <= today <= a.valid_until,
        )
        for a in rows
    ]


def my_certificates(
    platform: Platform, principal: Principal, *, status: str | None = None, limit: int = 200
) -> list[Certificate]:
    """The institution's issued certificates, newest first; ``status`` valid | withdrawn | superseded."""
    org = _institution(principal)
    stmt = (
        select(Certificate)
        .where(Certificate.institution_id == org, Certificate.source == "issued")
        .order_by(Certificate.id.desc())
        .limit(min(limit, 1000))
    )
    if status:
        stmt = stmt.where(Certificate.status == status)
    with platform.reading() as s:
        return list(s.scalars(stmt))
