"""Due lists (到期提醒) and the webhooks that deliver them."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from jiliang.api.deps import Limit, Offset, PlatformDep, PrincipalDep
from jiliang.api.schemas.common import ERRORS, Page, page_of
from jiliang.api.schemas.indicators import WebhookCreatedOut, WebhookIn, WebhookOut
from jiliang.api.schemas.instruments import InstrumentOut
from jiliang.services import reminders

router = APIRouter(prefix="/api/v1", tags=["reminders 到期提醒"], responses=ERRORS)


@router.get("/due", summary="到期清单（按使用单位）/ What falls due, by owner")
def due(
    platform: PlatformDep,
    principal: PrincipalDep,
    within_days: Annotated[int, Query(ge=0, le=366, description="未来天数 / days ahead")] = 30,
    owner_id: Annotated[int | None, Query(description="使用单位 / owner")] = None,
    on: Annotated[date | None, Query(description="起算日（默认今天）/ from this date, default today")] = None,
    include_overdue: Annotated[bool, Query(description="包括已超期 / include overdue")] = True,
    offset: Offset = 0,
    limit: Limit = 100,
) -> Page[InstrumentOut]:
    page = reminders.due_list(
        platform,
        principal,
        within_days=within_days,
        owner_id=owner_id,
        on=on,
        include_overdue=include_overdue,
        offset=offset,
        limit=limit,
    )
    return page_of(page, InstrumentOut)


@router.post("/webhooks", status_code=201, summary="登记提醒接收地址 / Register a webhook for reminders")
def add_webhook(body: WebhookIn, platform: PlatformDep, principal: PrincipalDep) -> WebhookCreatedOut:
    hook, secret = reminders.add_webhook(
        platform, principal, url=body.url, organisation_id=body.organisation_id
    )
    return WebhookCreatedOut(**WebhookOut.model_validate(hook).model_dump(), secret=secret)
