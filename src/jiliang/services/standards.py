"""Measurement standards (计量标准) and institutions' authorisations (授权)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from jiliang.domain.access import Principal, Role
from jiliang.domain.instruments import (
    OrganisationKind,
    document_number,
    optional_text,
    parse_date,
    required_text,
)
from jiliang.domain.regions import in_jurisdiction, validate_region_code
from jiliang.domain.standards import StandardKind
from jiliang.errors import Conflict, InvalidInput, NotAuthorised
from jiliang.services import catalogue as catalogue_service
from jiliang.services import scope
from jiliang.services.common import Page, not_found, one_visible, paginate, require_role
from jiliang.services.platform import Platform
from jiliang.store.models import Authorisation, MeasurementStandard, Organisation, StandardItem


def _kind(value: object) -> StandardKind:
    try:
        return StandardKind(str(value))
    except ValueError:
        allowed = ", ".join(k.value for k in StandardKind)
        raise InvalidInput(f"计量标准类别无效 / kind must be one of: {allowed}", field="kind") from None


def _items(platform: Platform, codes: object) -> list[str]:
    if not isinstance(codes, list | tuple) or not codes:
        raise InvalidInput(
            "须列出可检定的目录项 / item_codes must list at least one item", field="item_codes"
        )
    for code in codes:
        catalogue_service.item(platform, str(code), field="item_codes")
    return sorted({str(c) for c in codes})


def add_standard(platform: Platform, principal: Principal, raw: dict[str, Any]) -> MeasurementStandard:
    require_role(principal, Role.SUPERVISOR, Role.INSTITUTION)
    kind = _kind(raw.get("kind"))
    valid_from = parse_date(raw.get("certificate_valid_from"), "certificate_valid_from")
    valid_until = parse_date(raw.get("certificate_valid_until"), "certificate_valid_until")
    if valid_until < valid_from:
        raise InvalidInput(
            "证书有效期止早于起 / certificate_valid_until precedes certificate_valid_from",
            field="certificate_valid_until",
        )
    codes = _items(platform, raw.get("item_codes"))
    region = validate_region_code(str(raw.get("region_code") or ""))
    with platform.unit_of_work(principal) as s:
        holder_id = raw.get("holder_id") or principal.organisation_id
        if principal.role is Role.INSTITUTION and holder_id != principal.organisation_id:
            raise NotAuthorised(
                "机构只能登记本单位的计量标准 / an institution registers only its own standards",
                field="holder_id",
            )
        holder = s.scalars(
            scope.organisations(select(Organisation).where(Organisation.id == holder_id), principal)
        ).first()
        if holder is None:
            raise InvalidInput(
                f"建标单位 {holder_id} 不存在 / holder {holder_id} not found", field="holder_id"
            )
        if principal.role is not Role.INSTITUTION and not in_jurisdiction(region, principal.jurisdiction):
            raise not_found("region", region)
        cert = document_number(raw.get("certificate_no"), "certificate_no")
        if s.scalar(select(MeasurementStandard.id).where(MeasurementStandard.certificate_no == cert)):
            raise Conflict(
                f"考核证书号 {cert} 已登记 / certificate {cert} already registered", field="certificate_no"
            )
        std = MeasurementStandard(
            name=required_text(raw.get("name"), "name"),
            kind=kind.value,
            holder_id=holder.id,
            region_code=region,
            quantity=required_text(raw.get("quantity"), "quantity", 100),
            measuring_range=optional_text(raw.get("measuring_range"), "measuring_range"),
            uncertainty=optional_text(raw.get("uncertainty"), "uncertainty"),
            certificate_no=cert,
            certificate_valid_from=valid_from,
            certificate_valid_until=valid_until,
            active=True,
        )
        s.add(std)
        s.flush()
        s.add_all(StandardItem(standard_id=std.id, item_code=c) for c in codes)
    return std


def standard_items(platform: Platform, standard_id: int) -> list[str]:
    with platform.reading() as s:
        return list(s.scalars(select(StandardItem.item_code).where(StandardItem.standard_id == standard_id)))


def get_standard(platform: Platform, principal: Principal, standard_id: int) -> MeasurementStandard:
    with platform.reading() as s:
        stmt = scope.standards(
            select(MeasurementStandard).where(MeasurementStandard.id == standard_id), principal
        )
        return one_visible(s, stmt, "standard", standard_id)  # type: ignore[no-any-return]


def list_standards(
    platform: Platform,
    principal: Principal,
    *,
    region_code: str | None = None,
    kind: str | None = None,
    expiring_before: object = None,
    offset: int = 0,
    limit: int = 50,
) -> Page[MeasurementStandard]:
    stmt = scope.standards(select(MeasurementStandard), principal).order_by(MeasurementStandard.id)
    if region_code:
        stmt = stmt.where(scope.within(MeasurementStandard.region_code, region_code))
    if kind:
        stmt = stmt.where(MeasurementStandard.kind == _kind(kind).value)
    if expiring_before not in (None, ""):
        stmt = stmt.where(
            MeasurementStandard.certificate_valid_until < parse_date(expiring_before, "expiring_before")
        )
    with platform.reading() as s:
        return paginate(s, stmt, offset, limit, platform.settings.page_size_max)


def authorise(platform: Platform, principal: Principal, raw: dict[str, Any]) -> Authorisation:
    """A supervisor authorises an institution for a catalogue item within a region's subtree."""
    require_role(principal, Role.SUPERVISOR)
    item_code = catalogue_service.item(platform, str(raw.get("item_code") or "")).item_code
    region = validate_region_code(str(raw.get("region_code") or ""))
    if not in_jurisdiction(region, principal.jurisdiction):
        raise not_found("region", region)
    valid_from = parse_date(raw.get("valid_from"), "valid_from")
    valid_until = parse_date(raw.get("valid_until"), "valid_until")
    if valid_until < valid_from:
        raise InvalidInput("有效期止早于起 / valid_until precedes valid_from", field="valid_until")
    with platform.unit_of_work(principal) as s:
        inst = s.scalars(
            scope.organisations(
                select(Organisation).where(Organisation.id == raw.get("institution_id")), principal
            )
        ).first()
        if inst is None or not OrganisationKind(inst.kind).verifies:
            raise InvalidInput(
                "被授权单位须为法定计量检定机构或授权校准实验室 / institution_id must name a "
                "verification institution or authorised lab",
                field="institution_id",
            )
        auth = Authorisation(
            institution_id=inst.id,
            item_code=item_code,
            region_code=region,
            valid_from=valid_from,
            valid_until=valid_until,
        )
        s.add(auth)
    return auth


def list_authorisations(
    platform: Platform,
    principal: Principal,
    institution_id: int | None = None,
    offset: int = 0,
    limit: int = 50,
) -> Page[Authorisation]:
    stmt = scope.authorisations(select(Authorisation), principal).order_by(Authorisation.id)
    if institution_id is not None:
        stmt = stmt.where(Authorisation.institution_id == institution_id)
    with platform.reading() as s:
        return paginate(s, stmt, offset, limit, platform.settings.page_size_max)


def is_authorised(session: Any, institution_id: int, item_code: str, region_code: str, on: date) -> bool:
    rows = session.execute(
        select(Authorisation.region_code).where(
            Authorisation.institution_id == institution_id,
            Authorisation.item_code == item_code,
            Authorisation.valid_from <= on,
            Authorisation.valid_until >= on,
        )
    ).scalars()
    return any(in_jurisdiction(region_code, r) for r in rows)
