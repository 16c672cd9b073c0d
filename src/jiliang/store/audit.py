"""The audit trail: one listener records every change to ``Audited`` rows (after NetBox's ObjectChange).

Who and from which request come from a ``ContextVar`` set by the API middleware, the CLI and the
importers, so no service has to remember to log. Inserts are recorded after the flush (when their ids
exist) on the same connection, so an audit row commits or rolls back with the change it describes.
Bulk imports write through SQLAlchemy Core and are recorded as one entry per import (see services).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import event, insert, inspect
from sqlalchemy.orm import Session

from jiliang.store.models import Audited, AuditEntry


@dataclass(frozen=True)
class AuditContext:
    actor_id: int | None
    actor_name: str
    request_id: str = ""
    client_request_id: str = ""  # what the client said its request id was (X-Request-ID): a label only


_context: ContextVar[AuditContext] = ContextVar("jiliang_audit", default=AuditContext(None, "system"))  # noqa: B039 (frozen)


@contextlib.contextmanager
def acting_as(
    actor_id: int | None, actor_name: str, request_id: str = "", client_request_id: str = ""
) -> Iterator[AuditContext]:
    ctx = AuditContext(actor_id, actor_name, request_id, client_request_id)
    token = _context.set(ctx)
    try:
        yield ctx
    finally:
        _context.reset(token)


def current() -> AuditContext:
    return _context.get()


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def snapshot(obj: Any) -> dict[str, Any]:
    exclude: frozenset[str] = getattr(obj, "__audit_exclude__", frozenset())
    mapper = inspect(obj).mapper
    return {c.key: _plain(getattr(obj, c.key)) for c in mapper.column_attrs if c.key not in exclude}


def _identity(obj: Any) -> str:
    # From the mapped primary-key columns, not ``InstanceState.identity``: in after_flush a new row's
    # identity key is not assigned yet, so creates would be recorded without their id.
    ident = inspect(obj).mapper.primary_key_from_instance(obj)
    return "/".join(str(i) for i in ident if i is not None)


def entry(
    action: str,
    object_type: str,
    object_id: str,
    *,
    summary: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> dict[str, Any]:
    ctx = current()
    return {
        "at": datetime.now(UTC),
        "actor_id": ctx.actor_id,
        "actor_name": ctx.actor_name,
        "request_id": ctx.request_id,
        "client_request_id": ctx.client_request_id,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "summary": summary[:300],
        "before": before,
        "after": after,
    }


_PENDING = "jiliang_audit_pending"


@event.listens_for(Session, "before_flush")
def _before_flush(session: Session, flush_context: Any, instances: Any) -> None:
    pending: list[tuple[str, Any, dict[str, Any] | None, dict[str, Any] | None]] = session.info.setdefault(
        _PENDING, []
    )
    for obj in session.new:
        if isinstance(obj, Audited):
            pending.append(("create", obj, None, None))
    for obj in session.dirty:
        if not isinstance(obj, Audited) or not session.is_modified(obj, include_collections=False):
            continue
        state = inspect(obj)
        exclude: frozenset[str] = getattr(obj, "__audit_exclude__", frozenset())
        before: dict[str, Any] = {}
        after: dict[str, Any] = {}
        for attr in state.mapper.column_attrs:
            hist = state.attrs[attr.key].history
            if attr.key in exclude or not hist.has_changes():
                continue
            old = hist.deleted[0] if hist.deleted else None
            new = hist.added[0] if hist.added else None
            if old != new:
                before[attr.key] = _plain(old)
                after[attr.key] = _plain(new)
        if after:  # empty diffs are skipped
            pending.append(("update", obj, before, after))
    for obj in session.deleted:
        if isinstance(obj, Audited):
            pending.append(("delete", obj, snapshot(obj), None))


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, flush_context: Any) -> None:
    pending = session.info.pop(_PENDING, [])
    if not pending:
        return
    rows = []
    for action, obj, before, after in pending:
        if action == "create":
            after = snapshot(obj)
        rows.append(
            entry(
                action,
                type(obj).__tablename__,
                _identity(obj),
                summary=_summary(obj),
                before=before,
                after=after,
            )
        )
    session.connection().execute(insert(AuditEntry), rows)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)


def _summary(obj: Any) -> str:
    for attr in ("name", "username", "document_no", "certificate_no", "code", "url"):
        value = getattr(obj, attr, None)
        if isinstance(value, str) and value:
            return value
    return ""
