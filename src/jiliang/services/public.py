"""What anyone may read without signing in: a place's compulsory instruments (一站一码), an instrument by
its registry code, and places found by name.

These reads deliberately ignore jurisdiction (the public is nobody's subordinate), so they return plain
values holding only public facts — names, the catalogue item, model and serial number, verification
status and dates, certificate numbers — never a row object whose other columns (an owner's contact, an
address of a private owner, internal ids) could leak into a page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jiliang.domain.instruments import InstrumentStatus
from jiliang.domain.places import (
    PlaceKind,
    PublicStatus,
    parse_registry_code,
    public_status,
    registry_code,
    valid_place_code,
)
from jiliang.domain.verification import NEVER_DUE
from jiliang.errors import InvalidInput, NotFound
from jiliang.services import catalogue as catalogue_service
from jiliang.services.common import Page
from jiliang.services.platform import Platform
from jiliang.store.models import Certificate, Instrument, Organisation, Place, PlaceInstrument, Region

MAX_PUBLIC_PAGE = 50  # rows per public page, whatever is asked
MIN_QUERY = 2  # characters: a one-character search would list a city's places


@dataclass(frozen=True, slots=True)
class PublicInstrument:
    registry_code: str
    name: str
    item_code: str
    item_name_zh: str
    item_name_en: str
    model: str
    serial_number: str
    manufacturer: str
    accuracy_class: str
    measuring_range: str
    owner_name: str
    place_code: str | None
    place_name: str | None
    region_name: str
    status: PublicStatus
    last_verified_on: date | None
    due_on: date | None
    valid_until: date | None  # None when not verified or failed; NEVER_DUE shown as "until it fails"
    until_failure: bool
    certificates: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PublicPlace:
    code: str
    name: str
    kind: PlaceKind
    region_name: str
    address: str
    operator_name: str
    counts: dict[PublicStatus, int]
    instruments: Page[PublicInstrument]


@dataclass(frozen=True, slots=True)
class PlaceSummary:
    code: str
    name: str
    kind: PlaceKind
    region_name: str
    address: str
    instruments: int


def _regions(s: Session, codes: set[str]) -> dict[str, str]:
    """Region names as people say them: county with its city (``演示市东城区``)."""
    wanted = set(codes) | {c[:4] + "00" for c in codes}
    names = dict(s.execute(select(Region.code, Region.name_zh).where(Region.code.in_(wanted))).all())
    out = {}
    for c in codes:
        city = c[:4] + "00"
        out[c] = (names.get(city, "") + names.get(c, "")) if city != c else names.get(c, "")
    return out


def _instruments(platform: Platform, s: Session, rows: list[Any]) -> list[PublicInstrument]:
    items = catalogue_service.catalogue(platform)
    today = platform.local_today()
    grace = platform.settings.coverage.grace_days
    regions = _regions(s, {r.Instrument.region_code for r in rows})
    ids = [r.Instrument.id for r in rows]
    certs: dict[int, list[str]] = {}
    if ids:
        for inst_id, number in s.execute(
            select(Certificate.instrument_id, Certificate.number)
            .where(Certificate.instrument_id.in_(ids), Certificate.status == "valid")
            .order_by(Certificate.issued_at.desc())
        ):
            if inst_id is not None:
                certs.setdefault(inst_id, []).append(number)
    out = []
    for r in rows:
        i = r.Instrument
        item = items.get(i.item_code)
        out.append(
            PublicInstrument(
                registry_code=registry_code(i.region_code, i.id),
                name=i.name,
                item_code=i.item_code,
                item_name_zh=item.level2_zh if item else "",
                item_name_en=item.level2_en if item else "",
                model=i.model,
                serial_number=i.serial_number,
                manufacturer=i.manufacturer,
                accuracy_class=i.accuracy_class,
                measuring_range=i.measuring_range,
                owner_name=r.owner_name,
                place_code=r.place_code,
                place_name=r.place_name,
                region_name=regions.get(i.region_code, ""),
                status=public_status(
                    status=i.status,
                    compulsory=i.compulsory,
                    last_conclusion=i.last_conclusion,
                    valid_until=i.valid_until,
                    due_on=i.due_on,
                    today=today,
                    grace_days=grace,
                ),
                last_verified_on=i.last_verified_on,
                due_on=i.due_on,
                valid_until=None if i.valid_until == NEVER_DUE else i.valid_until,
                until_failure=i.valid_until == NEVER_DUE,
                certificates=tuple(certs.get(i.id, ())[:3]),
            )
        )
    return out


def _instrument_query() -> Any:
    return (
        select(
            Instrument,
            Organisation.name.label("owner_name"),
            Place.code.label("place_code"),
            Place.name.label("place_name"),
        )
        .join(Organisation, Organisation.id == Instrument.owner_id)
        .outerjoin(PlaceInstrument, PlaceInstrument.instrument_id == Instrument.id)
        .outerjoin(Place, Place.id == PlaceInstrument.place_id)
    )


def instrument(platform: Platform, code: str) -> PublicInstrument:
    """An instrument by its registry code (器具登记码), as printed on its label or read from a place page."""
    region, number = parse_registry_code(code)
    with platform.reading() as s:
        row = s.execute(
            _instrument_query().where(Instrument.id == number, Instrument.region_code == region)
        ).first()
        if row is None:
            raise NotFound(f"器具登记码 {code.strip()[:40]} 不存在 / registry code not found", field="code")
        return _instruments(platform, s, [row])[0]


def place(platform: Platform, code: str, offset: int = 0, limit: int = MAX_PUBLIC_PAGE) -> PublicPlace:
    """A place (一站一码) with every compulsory instrument there that is not scrapped, paged."""
    code = valid_place_code(code)
    limit = max(1, min(limit, MAX_PUBLIC_PAGE))
    if offset < 0:
        raise InvalidInput("offset 不能为负 / offset must be ≥ 0", field="offset")
    with platform.reading() as s:
        found = s.execute(
            select(Place, Organisation.name)
            .outerjoin(Organisation, Organisation.id == Place.operator_id)
            .where(Place.code == code)
        ).first()
        if found is None:
            raise NotFound(f"场所码 {code} 不存在 / place code not found", field="code")
        p, operator_name = found
        base = (
            _instrument_query()
            .where(
                PlaceInstrument.place_id == p.id,
                Instrument.compulsory,
                Instrument.status != InstrumentStatus.SCRAPPED.value,
            )
            .order_by(Instrument.item_code, Instrument.name, Instrument.id)
        )
        total = s.scalar(select(func.count()).select_from(base.order_by(None).subquery())) or 0
        rows = list(s.execute(base.offset(offset).limit(limit)))
        listed = _instruments(platform, s, rows)
        # the counts by status cover the whole place, not just this page: one narrow query of the
        # columns the status is derived from, grouped, so a market of thousands of scales stays cheap
        today, grace = platform.local_today(), platform.settings.coverage.grace_days
        counts: dict[PublicStatus, int] = {}
        for st, comp, concl, until, due, n in s.execute(
            select(
                Instrument.status,
                Instrument.compulsory,
                Instrument.last_conclusion,
                Instrument.valid_until,
                Instrument.due_on,
                func.count(),
            )
            .join(PlaceInstrument, PlaceInstrument.instrument_id == Instrument.id)
            .where(
                PlaceInstrument.place_id == p.id,
                Instrument.compulsory,
                Instrument.status != InstrumentStatus.SCRAPPED.value,
            )
            .group_by(
                Instrument.status,
                Instrument.compulsory,
                Instrument.last_conclusion,
                Instrument.valid_until,
                Instrument.due_on,
            )
        ):
            key = public_status(
                status=st,
                compulsory=comp,
                last_conclusion=concl,
                valid_until=until,
                due_on=due,
                today=today,
                grace_days=grace,
            )
            counts[key] = counts.get(key, 0) + int(n)
        return PublicPlace(
            code=p.code,
            name=p.name,
            kind=PlaceKind(p.kind),
            region_name=_regions(s, {p.region_code})[p.region_code],
            address=p.address,
            operator_name=operator_name or "",
            counts=counts,
            instruments=Page(items=listed, total=int(total), offset=offset, limit=limit),
        )


def search_places(
    platform: Platform, q: str, *, offset: int = 0, limit: int = 20, region_code: str | None = None
) -> Page[PlaceSummary]:
    """Places whose name contains ``q`` (at least two characters), paged and bounded."""
    text = (q or "").strip()
    if len(text) < MIN_QUERY:
        raise InvalidInput(f"请至少输入 {MIN_QUERY} 个字 / type at least {MIN_QUERY} characters", field="q")
    if len(text) > 100:
        raise InvalidInput("查询过长 / query too long", field="q")
    if offset < 0 or offset > 10_000:
        raise InvalidInput("offset 超出范围 / offset out of range", field="offset")
    limit = max(1, min(limit, MAX_PUBLIC_PAGE))
    stmt = select(Place).where(Place.name.contains(text, autoescape=True))
    if region_code:
        stmt = stmt.where(Place.region_code.like(region_code.rstrip("0")[:6] + "%"))
    with platform.reading() as s:
        total = s.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        places = list(s.scalars(stmt.order_by(Place.name, Place.code).offset(offset).limit(limit)))
        ids = [p.id for p in places]
        counts = (
            dict(
                s.execute(
                    select(PlaceInstrument.place_id, func.count())
                    .join(Instrument, Instrument.id == PlaceInstrument.instrument_id)
                    .where(
                        PlaceInstrument.place_id.in_(ids),
                        Instrument.compulsory,
                        Instrument.status != InstrumentStatus.SCRAPPED.value,
                    )
                    .group_by(PlaceInstrument.place_id)
                ).all()
            )
            if ids
            else {}
        )
        regions = _regions(s, {p.region_code for p in places})
        items = [
            PlaceSummary(
                p.code, p.name, PlaceKind(p.kind), regions[p.region_code], p.address, int(counts.get(p.id, 0))
            )
            for p in places
        ]
    return Page(items=items, total=int(total), offset=offset, limit=limit)
