"""Reading the audit trail. Writing it is the store's listener's job (store/audit.py), never a caller's.

Only administrators read it: an entry names its actor but not the actor's jurisdiction, and the object it
describes may since have moved or been deleted, so a supervisor's subtree cannot be drawn around entries
reliably. Rather than leak a neighbour's changes, supervisors are refused.
"""

from __future__ import annotations

from sqlalchemy import select

from jiliang.domain.access import Principal
from jiliang.services.common import Page, paginate, require_role
from jiliang.services.platform import Platform
from jiliang.store.models import AuditEntry


def list_entries(
    platform: Platform,
    principal: Principal,
    *,
    object_type: str | None = None,
    object_id: str | None = None,
    actor: str | None = None,
    request_id: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> Page[AuditEntry]:
    """Newest first; ``actor`` matches the actor's name as recorded at the time."""
    require_role(principal)
    stmt = select(AuditEntry).order_by(AuditEntry.id.desc())
    if object_type:
        stmt = stmt.where(AuditEntry.object_type == object_type)
    if object_id:
        stmt = stmt.where(AuditEntry.object_id == object_id)
    if actor:
        stmt = stmt.where(AuditEntry.actor_name == actor)
    if request_id:
        stmt = stmt.where(AuditEntry.request_id == request_id)
    with platform.reading() as s:
        return paginate(s, stmt, offset, limit, platform.settings.page_size_max)
