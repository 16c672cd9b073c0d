"""The plan's indicators against their targets, the overdue list and expiring standards."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from jiliang.api.deps import Limit, Offset, PlatformDep, PrincipalDep
from jiliang.api.schemas.common import ERRORS, Page, items_of, page_of
from jiliang.api.schemas.indicators import (
    IndicatorReportOut,
    TargetIn,
    TargetOut,
    TrendPointOut,
)
from jiliang.api.schemas.instruments import InstrumentOut
from jiliang.api.schemas.registry import StandardOut
from jiliang.legal.coverage import ALL_ITEMS, Indicator
from jiliang.services import indicators, instruments

router = APIRouter(prefix="/api/v1", tags=["indicators 指标"], responses=ERRORS)

Region = Annotated[
    str | None, Query(description="区划（默认本人管辖区）/ region, default the caller's jurisdiction")
]


@router.get("/indicators", summary="各项指标及其目标 / Every indicator against its target")
def report(
    platform: PlatformDep,
    principal: PrincipalDep,
    region: Region = None,
    as_of: Annotated[date | None, Query(description="统计日期（默认今天）/ date, default today")] = None,
    by_item: Annotated[bool, Query(description="按目录项细分 / also per catalogue item")] = True,
) -> IndicatorReportOut:
    rep = indicators.report(platform, principal, region=region, on=as_of, by_item=by_item)
    return IndicatorReportOut.model_validate(rep)


@router.get("/indicators/trend", summary="指标月度趋势 / An indicator at each month end")
def trend(
    platform: PlatformDep,
    principal: PrincipalDep,
    region: Region = None,
    indicator: Annotated[Indicator, Query(description="指标 / indicator")] = Indicator.VERIFICATION_COVERAGE,
    months: Annotated[int, Query(ge=1, le=60, description="月数 / number of months")] = 12,
    item_code: Annotated[str, Query(description="目录项（空 = 全部）/ item, empty for all")] = ALL_ITEMS,
) -> list[TrendPointOut]:
    points = indicators.trend(
        platform, principal, region=region, months=months, indicator=indicator.value, item_code=item_code
    )
    return items_of(points, TrendPointOut)


@router.put("/targets", summary="设定规划目标 / Set a plan target for a region and year")
def set_target(body: TargetIn, platform: PlatformDep, principal: PrincipalDep) -> TargetOut:
    row = indicators.set_target(platform, principal, **body.model_dump(mode="json"))
    return TargetOut.model_validate(row)


@router.get("/indicators/overdue", summary="超期未检清单 / Instruments overdue for verification")
def overdue(
    platform: PlatformDep,
    principal: PrincipalDep,
    region: Annotated[str | None, Query(description="区划（含下级）/ region with its subtree")] = None,
    item_code: Annotated[str | None, Query(description="目录项代码 / catalogue item")] = None,
    on: Annotated[date | None, Query(description="日期（默认今天）/ date, default today")] = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> Page[InstrumentOut]:
    filters = {"region_code": region, "item_code": item_code, "overdue_on": on or platform.local_today()}
    return page_of(instruments.list_instruments(platform, principal, filters, offset, limit), InstrumentOut)


@router.get("/standards/expiring", summary="考核证书将到期的计量标准 / Standards whose approval expires soon")
def expiring(
    platform: PlatformDep,
    principal: PrincipalDep,
    region: Region = None,
    on: Annotated[date | None, Query(description="自此日起算（默认今天）/ from this date")] = None,
    within_days: Annotated[
        int | None, Query(ge=0, le=3650, description="天数（默认按配置）/ days ahead, default configured")
    ] = None,
) -> list[StandardOut]:
    rows = indicators.expiring_standards(platform, principal, region=region, on=on, within_days=within_days)
    return items_of(rows, StandardOut)
