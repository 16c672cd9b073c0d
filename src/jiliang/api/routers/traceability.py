"""Traceability (量值溯源): chains, broken chains, calibrations of standards and impact analysis (召回)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from jiliang.api.deps import PlatformDep, PrincipalDep
from jiliang.api.downloads import attachment
from jiliang.api.schemas.common import ERRORS, items_of
from jiliang.api.schemas.traceability import (
    BrokenOut,
    CalibrationIn,
    CalibrationOut,
    ChainOut,
    ImpactIn,
    ImpactOut,
)
from jiliang.services import traceability

router = APIRouter(prefix="/api/v1/traceability", tags=["traceability 量值溯源"], responses=ERRORS)

OnQuery = Annotated[date | None, Query(description="日期（默认今天/最新）/ as of this date (default today)")]


@router.get("/instruments/{instrument_id}/chain", summary="器具的溯源链 / Chain of an instrument")
def instrument_chain(
    instrument_id: int, platform: PlatformDep, principal: PrincipalDep, on: OnQuery = None
) -> ChainOut:
    return ChainOut.model_validate(traceability.instrument_chain(platform, principal, instrument_id, on))


@router.get("/standards/{standard_id}/chain", summary="计量标准的溯源链 / Chain of a standard")
def standard_chain(
    standard_id: int, platform: PlatformDep, principal: PrincipalDep, on: OnQuery = None
) -> ChainOut:
    return ChainOut.model_validate(traceability.standard_chain(platform, principal, standard_id, on))


@router.get(
    "/standards/{standard_id}/calibrations", summary="计量标准的校准记录 / Calibrations of a standard"
)
def list_calibrations(
    standard_id: int, platform: PlatformDep, principal: PrincipalDep
) -> list[CalibrationOut]:
    return items_of(traceability.list_calibrations(platform, principal, standard_id), CalibrationOut)


@router.post(
    "/calibrations", status_code=201, summary="登记计量标准的校准 / Record a calibration of a standard"
)
def record_calibration(body: CalibrationIn, platform: PlatformDep, principal: PrincipalDep) -> CalibrationOut:
    cal = traceability.record_calibration(platform, principal, body.model_dump(mode="json"))
    return CalibrationOut.model_validate(cal)


@router.get("/broken", summary="断链与过期溯源链（按区划、机构）/ Broken chains by region and institution")
def broken(
    platform: PlatformDep,
    principal: PrincipalDep,
    region_code: Annotated[str | None, Query(description="区划（含下级）/ region with its subtree")] = None,
    institution_id: Annotated[int | None, Query(description="检定机构 / institution")] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="列出的断链器具上限 / items listed")] = 200,
) -> BrokenOut:
    report = traceability.broken_chains(
        platform, principal, region_code=region_code, institution_id=institution_id, limit=limit
    )
    return BrokenOut.model_validate(report)


@router.post(
    "/standards/{standard_id}/impact",
    summary="影响分析：标准超差或证书失效时需追回的记录、证书和器具 / Impact analysis (recall list)",
    response_model=ImpactOut,
    responses={200: {"content": {"text/csv": {}}}},
)
def impact(
    standard_id: int,
    body: ImpactIn,
    platform: PlatformDep,
    principal: PrincipalDep,
    format: Annotated[Literal["json", "csv"], Query(description="json 或 csv / json or csv")] = "json",
) -> ImpactOut | Response:
    report = traceability.impact(
        platform, principal, standard_id, on=body.on, reason=body.reason.value, since=body.since
    )
    if format == "csv":
        return Response(
            traceability.impact_csv(report),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": attachment(f"impact-{standard_id}.csv")},
        )
    return ImpactOut.model_validate(report)
