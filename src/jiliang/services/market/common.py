"""What the market services share: jurisdiction checks on regions and organisations, the clock."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from jiliang.domain.access import Principal, Role
from jiliang.errors import NotAuthorised
from jiliang.services import scope
from jiliang.services.common import not_found
from jiliang.services.platform import Platform
from jiliang.store.models import Organisation

SUPERVISING = (Role.SUPERVISOR, Role.ADMINISTRATOR)


def require_supervisor(principal: Principal) -> None:
    if principal.role not in SUPERVISING:
        raise NotAuthorised(
            f"角色 {principal.role} 无权执行此操作（需监管人员）/ role {principal.role} may not do this (supervisors"
            " only)",
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
