"""Small pieces every service uses: pages, lookups that answer 'not found' outside a jurisdiction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from jiliang.domain.access import Principal, Role
from jiliang.errors import InvalidInput, NotAuthorised, NotFound

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    total: int
    offset: int
    limit: int
    # True when ``total`` is a lower bound: the list was counted only up to a limit (a list page at
    # city scale shows "10,000+" rather than counting a million rows on every view)
    total_at_least: bool = False


def paginate(session: Session, stmt: Select[Any], offset: int, limit: int, max_limit: int) -> Page[Any]:
    if offset < 0:
        raise InvalidInput("offset 不能为负 / offset must be ≥ 0", field="offset")
    if not 1 <= limit <= max_limit:
        raise InvalidInput(f"limit 必须在 1–{max_limit} 之间 / limit must be 1..{max_limit}", field="limit")
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    items = session.scalars(stmt.offset(offset).limit(limit)).all()
    return Page(items=items, total=total, offset=offset, limit=limit)


def not_found(kind: str, key: object) -> NotFound:
    return NotFound(f"{kind} {key} 不存在或不在您的管辖范围内 / {kind} {key} not found", field="id")


def require_role(principal: Principal, *roles: Role) -> None:
    if principal.role not in roles and principal.role is not Role.ADMINISTRATOR:
        raise NotAuthorised(
            f"角色 {principal.role} 无权执行此操作 / role {principal.role} may not do this", field="role"
        )


def one_visible(session: Session, stmt: Select[Any], kind: str, key: object) -> Any:
    obj = session.scalars(stmt).first()
    if obj is None:
        raise not_found(kind, key)
    return obj
