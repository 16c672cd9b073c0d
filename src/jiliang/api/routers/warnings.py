"""The warning workflow (预警 → 处置) of remote supervision and energy monitoring: the list per
jurisdiction, one warning with its evidence and steps, taking a step, and the risk list (风险防控清单).

Thin: each route parses, calls one service function, returns its answer (docs/telemetry.md)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query

from jiliang.api.deps import PlatformDep, PrincipalDep
from jiliang.api.downloads import SpooledDownload
from jiliang.api.routers.transfer import spooled_download
from jiliang.api.schemas.common import ERRORS
from jiliang.services.warnings import queries, workflow

router = APIRouter(prefix="/api/v1/warnings", tags=["warnings 预警处置"], responses=ERRORS)
Json = dict[str, Any]


@router.get("", summary="预警列表 / Warnings in the jurisdiction, newest first")
def list_warnings(
    platform: PlatformDep,
    principal: PrincipalDep,
    state: Annotated[
        str, Query(description="状态 / state: new | assigned | inspected | disposed | closed")
    ] = "",
    severity: Annotated[str, Query(description="级别 / severity: critical | warning | info")] = "",
    detector: Annotated[str, Query(max_length=20, description="检测规则 / detector")] = "",
    region_code: Annotated[str, Query(max_length=6, description="行政区划代码 / region code")] = "",
    source: Annotated[
        str, Query(pattern="^(|telemetry|energy)$", description="来源 / source: telemetry | energy")
    ] = "",
    overdue: Annotated[bool, Query(description="仅超期 / overdue only")] = False,
    mine: Annotated[bool, Query(description="派给我的 / assigned to me")] = False,
    offset: Annotated[int, Query(ge=0, le=2**63 - 1, description="跳过条数 / rows to skip")] = 0,
    limit: Annotated[int, Query(ge=1, le=queries.MAX_LIST, description="每页条数 / rows per page")] = 100,
) -> Json:
    return queries.list_warnings(
        platform,
        principal,
        state=state,
        severity=severity,
        detector=detector,
        region_code=region_code,
        source=source,
        overdue=overdue,
        assigned_to_me=mine,
        offset=offset,
        limit=limit,
    )


@router.get("/risk-list", summary="风险防控清单 / Risk list by region and instrument type")
def risk_list(
    platform: PlatformDep,
    principal: PrincipalDep,
    region_code: Annotated[str, Query(max_length=6, description="行政区划代码 / region code")] = "",
) -> list[Json]:
    return queries.risk_list(platform, principal, region_code)


@router.get("/risk-list/export", summary="导出风险防控清单 CSV / Export the risk list as CSV")
def export_risk_list(
    platform: PlatformDep,
    principal: PrincipalDep,
    region_code: Annotated[str, Query(max_length=6, description="行政区划代码 / region code")] = "",
    headers: Annotated[str, Query(pattern="^(zh|en)$", description="表头语言 / header language: zh | en")] = "zh",
) -> SpooledDownload:
    return spooled_download(
        platform,
        principal,
        lambda sink: queries.export_risk_list(platform, principal, region_code, sink, headers),
        "csv",
        "risk-list",
    )


@router.get("/{warning_id}", summary="预警详情（证据、处置步骤）/ One warning with its evidence and steps")
def get_warning(warning_id: int, platform: PlatformDep, principal: PrincipalDep) -> Json:
    return queries.get_warning(platform, principal, warning_id)


@router.post(
    "/{warning_id}/steps", summary="处置步骤 / Take a step: assign, inspect, dispose, close, dismiss"
)
def take_step(
    warning_id: int,
    platform: PlatformDep,
    principal: PrincipalDep,
    body: Annotated[
        dict[str, Any],
        Body(
            examples=[
                {"action": "assign", "assignee_id": 3, "due_at": "2026-12-10"},
                {"action": "inspect", "findings": "铅封被破坏", "confirmed": True, "measured_error": -0.8},
                {"action": "dispose", "disposal": "sealed", "note": "现场封存"},
                {"action": "close", "note": "已办结"},
            ]
        ),
    ],
) -> Json:
    return workflow.act(platform, principal, warning_id, str(body.get("action", "")), body)
