"""The audit trail, for administrators only (see services/audit_log.py for why not supervisors)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from jiliang.api.deps import Limit, Offset, PlatformDep, PrincipalDep
from jiliang.api.schemas.common import ERRORS, Page, page_of
from jiliang.api.schemas.indicators import AuditEntryOut
from jiliang.services import audit_log

router = APIRouter(prefix="/api/v1", tags=["audit 审计"], responses=ERRORS)


@router.get("/audit", summary="审计记录（管理员）/ The audit trail (administrators)")
def list_audit(
    platform: PlatformDep,
    principal: PrincipalDep,
    object_type: Annotated[str | None, Query(description="对象类型（表名）/ object type (table)")] = None,
    object_id: Annotated[str | None, Query(description="对象编号 / object id")] = None,
    actor: Annotated[str | None, Query(description="操作人用户名 / actor's user name")] = None,
    request_id: Annotated[str | None, Query(description="请求编号 / X-Request-ID")] = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> Page[AuditEntryOut]:
    page = audit_log.list_entries(
        platform,
        principal,
        object_type=object_type,
        object_id=object_id,
        actor=actor,
        request_id=request_id,
        offset=offset,
        limit=limit,
    )
    return page_of(page, AuditEntryOut)
