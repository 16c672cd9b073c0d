"""Regions (行政区划) and organisations (单位) of the registry."""

from __future__ import annotations

import csv
from importlib import resources
from typing import Any

from sqlalchemy import select

from jiliang.domain.access import Principal, Role
from jiliang.domain.credit_code import validate_credit_code
from jiliang.domain.instruments import OrganisationKind, required_text
from jiliang.domain.regions import (
    NATIONAL,
    in_jurisdiction,
    parent_code,
    region_level,
    validate_region_code,
)
from jiliang.errors import Conflict, InvalidInput
from jiliang.services import scope
from jiliang.services.common import Page, not_found, one_visible, paginate, require_role
from jiliang.services.platform import Platform
from jiliang.store.models import Organisation, Region

CREDIT_CODE_NEEDS_REVIEW = (
    "该统一社会信用代码无法由您登记，需由监管部门核查 / this credit code cannot be registered by you: it needs "
    "review by the supervisor"
)


def add_region(
    platform: Platform, principal: Principal, code: str, name_zh: str, name_en: str = ""
) -> Region:
    require_role(principal, Role.ADMINISTRATOR)
    validate_region_code(code, "code")
    name = required_text(name_zh, "name_zh", 100)
    with platform.unit_of_work(principal) as s:
        if s.get(Region, code) is not None:
            raise Conflict(f"行政区划 {code} 已存在 / region {code} exists", field="code")
        parent = parent_code(code)
        if parent is not None and s.get(Region, parent) is None:
            if parent == NATIONAL:
                s.add(
                    Region(code=NATIONAL, name_zh="全国", name_en="China", level="national", parent_code=None)
                )
            else:
                raise InvalidInput(
                    f"上级区划 {parent} 不存在 / parent region {parent} not found", field="code"
                )
        region = Region(
            code=code, name_zh=name, name_en=name_en, level=region_level(code).value, parent_code=parent
        )
        s.add(region)
    return region


def ensure_national(platform: Platform) -> None:
    with platform.unit_of_work() as s:
        if s.get(Region, NATIONAL) is None:
            s.add(Region(code=NATIONAL, name_zh="全国", name_en="China", level="national", parent_code=None))


def ensure_provinces(platform: Platform) -> int:
    """Seed the nation and the 34 GB/T 2260 province-level divisions (shipped data); returns how many were added."""
    ensure_national(platform)
    path = resources.files("jiliang") / "data" / "regions" / "provinces.csv"
    with path.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    added = 0
    with platform.unit_of_work() as s:
        for row in rows:
            if s.get(Region, row["code"]) is None:
                s.add(
                    Region(
                        code=row["code"],
                        name_zh=row["name_zh"],
                        name_en=row["name_en"],
                        level="province",
                        parent_code=NATIONAL,
                    )
                )
                added += 1
    return added


def list_regions(platform: Platform, principal: Principal, under: str | None = None) -> list[Region]:
    prefix = principal.prefix if principal.role is not Role.PUBLIC else ""
    with platform.reading() as s:
        stmt = select(Region).order_by(Region.code)
        if prefix:
            stmt = stmt.where(Region.code.like(prefix + "%"))
        if under:
            validate_region_code(under, "under")
            stmt = stmt.where(scope.within(Region.code, under))
        return list(s.scalars(stmt))


def get_region(platform: Platform, principal: Principal, code: str) -> Region:
    with platform.reading() as s:
        region = s.get(Region, code)
        if region is None or (principal.role is not Role.PUBLIC and not principal.sees_region(code)):
            raise not_found("region", code)
        return region


def add_organisation(
    platform: Platform,
    principal: Principal,
    *,
    credit_code: str,
    name: str,
    kind: str,
    region_code: str,
    address: str = "",
    contact: str = "",
) -> Organisation:
    require_role(principal, Role.SUPERVISOR)
    code = validate_credit_code(credit_code)
    kind_ = _kind(kind)
    validate_region_code(region_code)
    if not in_jurisdiction(region_code, principal.jurisdiction):
        raise not_found("region", region_code)
    with platform.unit_of_work(principal) as s:
        if s.get(Region, region_code) is None:
            raise InvalidInput(
                f"行政区划 {region_code} 不存在 / region {region_code} not found", field="region_code"
            )
        existing = s.scalar(select(Organisation.id).where(Organisation.credit_code == code))
        if existing is not None:
            visible = scope.organisations(
                select(Organisation.id).where(Organisation.id == existing), principal
            )
            if s.scalar(visible) is None:
                # Registered outside the caller's jurisdiction: the words reveal nothing (docs/security.md).
                raise Conflict(CREDIT_CODE_NEEDS_REVIEW, field="credit_code")
            raise Conflict(
                f"统一社会信用代码 {code} 已登记 / credit code {code} already registered", field="credit_code"
            )
        org = Organisation(
            credit_code=code,
            name=required_text(name, "name"),
            kind=kind_.value,
            region_code=region_code,
            address=address,
            contact=contact,
            created_at=platform.now(),
        )
        s.add(org)
    return org


def _kind(kind: str) -> OrganisationKind:
    try:
        return OrganisationKind(kind)
    except ValueError:
        allowed = ", ".join(k.value for k in OrganisationKind)
        raise InvalidInput(f"单位类型 {kind!r} 无效 / kind must be one of: {allowed}", field="kind") from None


def get_organisation(platform: Platform, principal: Principal, org_id: int) -> Organisation:
    with platform.reading() as s:
        stmt = scope.organisations(select(Organisation).where(Organisation.id == org_id), principal)
        return one_visible(s, stmt, "organisation", org_id)  # type: ignore[no-any-return]


def list_organisations(
    platform: Platform,
    principal: Principal,
    *,
    region_code: str | None = None,
    kind: str | None = None,
    q: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> Page[Organisation]:
    stmt = scope.organisations(select(Organisation), principal).order_by(Organisation.id)
    if region_code:
        stmt = stmt.where(scope.within(Organisation.region_code, region_code))
    if kind:
        stmt = stmt.where(Organisation.kind == _kind(kind).value)
    if q:
        stmt = stmt.where(Organisation.name.contains(q))
    with platform.reading() as s:
        return paginate(s, stmt, offset, limit, platform.settings.page_size_max)


UPDATABLE_ORG = {"name", "address", "contact", "kind"}


def update_organisation(
    platform: Platform, principal: Principal, org_id: int, changes: dict[str, Any]
) -> Organisation:
    require_role(principal, Role.SUPERVISOR)
    unknown = set(changes) - UPDATABLE_ORG
    if unknown:
        raise InvalidInput(
            f"字段不可修改 / field not updatable: {sorted(unknown)[0]}", field=sorted(unknown)[0]
        )
    with platform.unit_of_work(principal) as s:
        org = one_visible(
            s,
            scope.organisations(select(Organisation).where(Organisation.id == org_id), principal),
            "organisation",
            org_id,
        )
        if "name" in changes:
            org.name = required_text(changes["name"], "name")
        if "kind" in changes:
            org.kind = _kind(changes["kind"]).value
        for key in ("address", "contact"):
            if key in changes:
                org.__setattr__(key, str(changes[key]))
    return org  # type: ignore[no-any-return]
