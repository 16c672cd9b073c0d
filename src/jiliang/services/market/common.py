"""What the market services share: jurisdiction checks on regions and organisations, the clock."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jiliang.domain.access import Principal, Role
from jiliang.errors import NotAuthorised
from jiliang.services import scope
from jiliang.services.common import not_found
from jiliang.services.platform import Platform
from jiliang.store.models import Organisation

SUPERVISING = (Role.SUPERVISOR, Role.ADMINISTRATOR)
# Who handles complaints and reads cases: the supervisors and the designated complaint officer.
COMPLAINT_HANDLERS = (Role.SUPERVISOR, Role.ADMINISTRATOR, Role.COMPLAINT_OFFICER)


def require_supervisor(principal: Principal) -> None:
    if principal.role not in SUPERVISING:
        raise NotAuthorised(
            f"角色 {principal.role} 无权执行此操作（需监管人员）/ role {principal.role} may not do this (supervisors"
            " only)",
            field="role",
        )


def require_complaint_handler(principal: Principal) -> None:
    if principal.role not in COMPLAINT_HANDLERS:
        raise NotAuthorised(
            f"角色 {principal.role} 无权办理举报 / role {principal.role} may not handle complaints",
            field="role",
        )


def visible_organisation(session: Session, principal: Principal, organisation_id: int) -> Organisation:
    org: Organisation | None = session.scalars(
        scope.organisations(select(Organisation).where(Organisation.id == organisation_id), principal)
    ).first()
    if org is None:
        raise not_found("单位 organisation", organisation_id)
    return org


def require_region(principal: Principal, region_code: str, kind: str, key: object) -> None:
    """A read or write outside the caller's jurisdiction answers 'not found'."""
    if principal.role is Role.PUBLIC or not principal.sees_region(region_code):
        raise not_found(kind, key)


def now(platform: Platform) -> datetime:
    value = platform.now()
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def organisation_names(platform: Platform, principal: Principal, ids: list[int]) -> dict[int, str]:
    """Names of the organisations among ``ids`` that the caller may see (pages show names, not ids)."""
    wanted = sorted({int(i) for i in ids})
    if not wanted:
        return {}
    with platform.reading() as s:
        base: Any = select(Organisation.id, Organisation.name).where(Organisation.id.in_(wanted))
        stmt = scope.organisations(base, principal)
        return {int(i): str(n) for i, n in s.execute(stmt)}


def organisation_by_credit_code(platform: Platform, principal: Principal, code: str) -> list[Organisation]:
    """The organisation (none or one) with this unified social credit code that the caller may see."""
    with platform.reading() as s:
        stmt = scope.organisations(select(Organisation).where(Organisation.credit_code == code), principal)
        return list(s.scalars(stmt))
