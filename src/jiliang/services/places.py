"""Places of use (一站一码): register a place, say which instruments are used there, print its QR code.

A supervisor registers places in the jurisdiction; an enterprise registers its own (it is their
operator) and places its own instruments there. The QR code opens the public page of the place
(``/public/places/<code>`` under ``settings.public_url``), which ``services.public`` serves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import segno
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from jiliang.domain.access import Principal, Role
from jiliang.domain.instruments import InstrumentStatus, optional_text, required_text
from jiliang.domain.places import parse_place_kind, place_code, valid_place_code
from jiliang.domain.regions import in_jurisdiction, validate_region_code
from jiliang.errors import InvalidInput
from jiliang.services import public, scope
from jiliang.services.common import Page, not_found, one_visible, paginate, require_role
from jiliang.services.platform import Platform
from jiliang.services.public import PublicPlace
from jiliang.store.models import Instrument, Organisation, Place, PlaceInstrument, Region


def _places(stmt: Select[Any], principal: Principal) -> Select[Any]:
    """Places a principal manages: an enterprise its own, a supervisor those in its jurisdiction."""
    if principal.role is Role.ENTERPRISE:
        return stmt.where(Place.operator_id == (principal.organisation_id or -1))
    if principal.role not in (Role.SUPERVISOR, Role.ADMINISTRATOR):
        return stmt.where(Place.id == -1)
    prefix = principal.prefix
    return stmt.where(Place.region_code.like(prefix + "%")) if prefix else stmt


def public_url(platform: Platform, code: str) -> str:
    return f"{platform.settings.public_url.rstrip('/')}/public/places/{quote(code)}"


def add_place(platform: Platform, principal: Principal, raw: dict[str, Any]) -> Place:
    """Register a place; its code is the county's code and the next number there (``339901-0007``)."""
    require_role(principal, Role.SUPERVISOR, Role.ENTERPRISE)
    name = required_text(raw.get("name"), "name")
    kind = parse_place_kind(raw.get("kind"))
    region = validate_region_code(str(raw.get("region_code") or "").strip())
    address = optional_text(raw.get("address"), "address", 300)
    if principal.role is not Role.ENTERPRISE and not in_jurisdiction(region, principal.jurisdiction):
        raise not_found("region", region)
    with platform.unit_of_work(principal) as s:
        if s.get(Region, region) is None:
            raise InvalidInput(f"行政区划 {region} 不存在 / region not found", field="region_code")
        operator_id = _operator(s, principal, raw.get("operator_id"))
        # the row lock of the region serialises numbering on PostgreSQL; SQLite writes one at a time
        s.execute(select(Region.code).where(Region.code == region).with_for_update())
        taken = s.scalar(select(func.count()).select_from(Place).where(Place.region_code == region)) or 0
        place = Place(
            code=place_code(region, int(taken) + 1),
            name=name,
            kind=kind.value,
            region_code=region,
            address=address,
            operator_id=operator_id,
            created_at=platform.now(),
        )
        s.add(place)
    return place


def _operator(s: Session, principal: Principal, value: object) -> int | None:
    if principal.role is Role.ENTERPRISE:
        if value not in (None, "", principal.organisation_id):
            raise InvalidInput(
                "企业只能登记本单位的场所 / an enterprise registers its own places", field="operator_id"
            )
        return principal.organisation_id
    if value in (None, ""):
        return None
    try:
        oid = int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise InvalidInput(
            "operator_id 必须是单位编号 / operator_id must be an organisation id", field="operator_id"
        ) from None
    org = s.scalars(
        scope.organisations(select(Organisation).where(Organisation.id == oid), principal)
    ).first()
    if org is None:
        raise InvalidInput(f"单位 {oid} 不存在 / organisation {oid} not found", field="operator_id")
    return int(oid)


def get_place(platform: Platform, principal: Principal, code: str) -> Place:
    with platform.reading() as s:
        return one_visible(  # type: ignore[no-any-return]
            s, _places(select(Place).where(Place.code == valid_place_code(code)), principal), "place", code
        )


def list_places(
    platform: Platform, principal: Principal, *, q: str | None = None, offset: int = 0, limit: int = 50
) -> Page[Place]:
    stmt = _places(select(Place), principal).order_by(Place.code)
    if q:
        stmt = stmt.where(Place.name.contains(q.strip()))
    with platform.reading() as s:
        return paginate(s, stmt, offset, limit, platform.settings.page_size_max)


def place_instruments(
    platform: Platform, principal: Principal, instrument_ids: Sequence[int], code: str | None
) -> int:
    """Put instruments at a place (``code``) or take them off any place (``None``); returns how many.

    Both the place and every instrument must be within the caller's reach; an enterprise places only its
    own instruments at its own places.
    """
    require_role(principal, Role.SUPERVISOR, Role.ENTERPRISE)
    ids = sorted({int(i) for i in instrument_ids})
    if not ids:
        return 0
    with platform.unit_of_work(principal) as s:
        place = None
        if code is not None:
            place = one_visible(
                s,
                _places(select(Place).where(Place.code == valid_place_code(code)), principal),
                "place",
                code,
            )
        visible = set(
            s.scalars(scope.instruments(select(Instrument.id).where(Instrument.id.in_(ids)), principal))
        )
        missing = [i for i in ids if i not in visible]
        if missing:
            raise not_found("instrument", missing[0])
        if (
            place is not None
            and principal.role is Role.ENTERPRISE
            and place.operator_id != principal.organisation_id
        ):
            raise not_found("place", code)
        existing = {
            p.instrument_id: p
            for p in s.scalars(select(PlaceInstrument).where(PlaceInstrument.instrument_id.in_(ids)))
        }
        for i in ids:
            link = existing.get(i)
            if place is None:
                if link is not None:
                    s.delete(link)
            elif link is None:
                s.add(PlaceInstrument(instrument_id=i, place_id=place.id))
            else:
                link.place_id = place.id
    return len(ids)


def place_of(platform: Platform, principal: Principal, instrument_id: int) -> Place | None:
    with platform.reading() as s:
        one_visible(
            s,
            scope.instruments(select(Instrument).where(Instrument.id == instrument_id), principal),
            "instrument",
            instrument_id,
        )
        return s.scalar(
            select(Place)
            .join(PlaceInstrument, PlaceInstrument.place_id == Place.id)
            .where(PlaceInstrument.instrument_id == instrument_id)
        )


def qr_svg(platform: Platform, code: str, scale: int = 6) -> str:
    """The place's QR code (SVG, error correction M) pointing at its public page."""
    return str(
        segno.make(public_url(platform, valid_place_code(code)), error="m").svg_inline(
            scale=scale, title=code
        )
    )


# ---------------------------------------------------------------------------------------------------
# the supervisor's pages: places by region, each with its instruments and their status


@dataclass(frozen=True)
class PlaceRow:
    code: str
    name: str
    kind: str
    region_code: str
    region_name: str
    address: str
    operator_name: str
    instruments: int  # compulsory instruments placed there, not scrapped (what its public page lists)


def supervised_places(
    platform: Platform,
    principal: Principal,
    *,
    region_code: str = "",
    q: str = "",
    kind: str = "",
    offset: int = 0,
    limit: int = 25,
) -> Page[PlaceRow]:
    """Places in the supervisor's jurisdiction (or below ``region_code`` within it), by code."""
    require_role(principal, Role.SUPERVISOR)
    base: Any = (
        select(Place, Region.name_zh, Organisation.name)
        .join(Region, Region.code == Place.region_code)
        .outerjoin(Organisation, Organisation.id == Place.operator_id)
    )
    stmt = _places(base, principal).order_by(Place.code)
    if region_code:
        region = validate_region_code(region_code.strip())
        if not in_jurisdiction(region, principal.jurisdiction):
            raise not_found("region", region)
        stmt = stmt.where(scope.within(Place.region_code, region))
    if q.strip():
        stmt = stmt.where(Place.name.contains(q.strip(), autoescape=True))
    if kind:
        stmt = stmt.where(Place.kind == parse_place_kind(kind).value)
    if offset < 0 or not 1 <= limit <= platform.settings.page_size_max:
        raise InvalidInput("分页参数无效 / offset must be ≥ 0 and limit within the page size", field="offset")
    with platform.reading() as s:
        total = int(s.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0)
        found = list(s.execute(stmt.offset(offset).limit(limit)).all())
        ids = [p.id for p, _, _ in found]
        counts = dict(
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
    rows = [
        PlaceRow(
            code=p.code,
            name=p.name,
            kind=p.kind,
            region_code=p.region_code,
            region_name=region_name,
            address=p.address,
            operator_name=operator or "",
            instruments=int(counts.get(p.id, 0)),
        )
        for p, region_name, operator in found
    ]
    return Page(items=rows, total=total, offset=offset, limit=limit)


def supervised_place(
    platform: Platform, principal: Principal, code: str, *, offset: int = 0, limit: int = 50
) -> tuple[Place, PublicPlace]:
    """A place in the supervisor's jurisdiction (else not found) and what its public page shows: every
    compulsory instrument there with its status and due date, and the counts by status."""
    require_role(principal, Role.SUPERVISOR)
    place = get_place(platform, principal, code)
    return place, public.place(platform, place.code, offset=offset, limit=limit)
