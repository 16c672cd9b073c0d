"""Energy metering and carbon (能源计量 / 碳计量): units, metering trees, reviews, readings, the regional view.

Thin: each route parses, calls one service function, returns its answer. Uploads are multipart files
(CSV or XLSX); a refused file answers 422 with the per-row problems, nothing stored."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, Field

from jiliang.api.deps import PlatformDep, PrincipalDep
from jiliang.api.schemas.common import ERRORS
from jiliang.energy import report
from jiliang.services.energy import carbon_review, readings, regional, reviews, topology, units

router = APIRouter(prefix="/api/v1/energy", tags=["energy 能源计量与碳计量"], responses=ERRORS)

Json = dict[str, Any]


class UnitIn(BaseModel):
    organisation_id: int = Field(description="登记册中的单位 / the organisation of the registry")
    energy_types: list[str] = Field(description="能源种类 / energy types (electricity, natural_gas, …)")
    annual_tce: float = Field(description="年综合能耗（吨标准煤）/ yearly consumption, tce")
    threshold_tce: float = Field(default=units.DEFAULT_THRESHOLD_TCE, description="门槛 / threshold, tce")
    sector: str = Field(default="", max_length=100, description="行业 / sector")
    rule_set: str = Field(default="GB 17167-2006", description="规则版本 / rule set")


class TopologyIn(BaseModel):
    rows: list[dict[str, Any]] = Field(description="与上传表格相同的行 / rows as the upload sheet holds them")


class ReviewIn(BaseModel):
    kind: str = Field(default="review", description="review（监管审查）或 self_check（企业自查）")
    on: date | None = Field(default=None, description="审查日期，默认今天 / review date, default today")


class TargetIn(BaseModel):
    region_code: str
    year: int
    target: float = Field(description="0–1")
    source: str = ""


def _fmt(file: UploadFile, fmt: str | None) -> str:
    return fmt or ("xlsx" if (file.filename or "").lower().endswith(".xlsx") else "csv")


@router.post("/units", status_code=201, summary="登记重点用能单位 / Register a key energy-using unit")
def register_unit(body: UnitIn, platform: PlatformDep, principal: PrincipalDep) -> Json:
    return units.register_unit(platform, principal, body.model_dump())


@router.get("/units", summary="重点用能单位 / Units in my reach")
def list_units(platform: PlatformDep, principal: PrincipalDep) -> list[Json]:
    return units.list_units(platform, principal)


@router.get("/units/{unit_id}", summary="单位及其计量网络 / A unit with its metering tree")
def get_unit(unit_id: int, platform: PlatformDep, principal: PrincipalDep) -> Json:
    return units.get_unit(platform, principal, unit_id)


@router.post("/units/{unit_id}/topology", status_code=201, summary="上传计量网络 / Upload the metering tree")
def upload_topology(
    unit_id: int,
    platform: PlatformDep,
    principal: PrincipalDep,
    file: Annotated[UploadFile, File(description="CSV 或 XLSX")],
    format: Annotated[str | None, Form(pattern="^(csv|xlsx)$")] = None,
) -> Json:
    return topology.upload_file(platform, principal, unit_id, file.file, _fmt(file, format))


@router.post(
    "/units/{unit_id}/topology/rows", status_code=201, summary="以 JSON 行提交计量网络 / The tree as rows"
)
def upload_topology_rows(
    unit_id: int, body: TopologyIn, platform: PlatformDep, principal: PrincipalDep
) -> Json:
    return topology.upload_rows(platform, principal, unit_id, body.rows)


@router.post("/units/{unit_id}/reviews", status_code=201, summary="审查或自查 / Run a review or a self-check")
def run_review(unit_id: int, body: ReviewIn, platform: PlatformDep, principal: PrincipalDep) -> Json:
    return reviews.run_review(platform, principal, unit_id, kind=body.kind, on=body.on)


@router.get("/units/{unit_id}/reviews", summary="审查记录 / Reviews of a unit")
def list_reviews(unit_id: int, platform: PlatformDep, principal: PrincipalDep) -> list[Json]:
    return reviews.list_reviews(platform, principal, unit_id)


@router.get("/reviews/{review_id}", summary="审查结果 / A review with its shortfalls")
def get_review(review_id: int, platform: PlatformDep, principal: PrincipalDep) -> Json:
    return reviews.get_review(platform, principal, review_id)


@router.get("/reviews/{review_id}/report.pdf", summary="审查报告 PDF / The review report as PDF")
def review_pdf(review_id: int, platform: PlatformDep, principal: PrincipalDep) -> Response:
    data = reviews.get_review(platform, principal, review_id)
    return Response(report.review_pdf(data), media_type="application/pdf")


@router.post(
    "/units/{unit_id}/periods", status_code=201, summary="上传报告期读数 / Upload a period's readings"
)
def upload_readings(
    unit_id: int,
    platform: PlatformDep,
    principal: PrincipalDep,
    file: Annotated[UploadFile, File(description="CSV 或 XLSX")],
    period_start: Annotated[date, Form()],
    period_end: Annotated[date, Form()],
    format: Annotated[str | None, Form(pattern="^(csv|xlsx)$")] = None,
    product: Annotated[str | None, Form(description="产品 (单位产品能耗), e.g. sinter, clinker")] = None,
    output: Annotated[float | None, Form(description="产量 / output of the product, t")] = None,
    output_node: Annotated[str | None, Form(description="生产该产品的节点 / node making it (default boundary)")] = None,
) -> Json:
    return readings.upload_readings(
        platform, principal, unit_id, file.file, _fmt(file, format), period_start, period_end,
        product=product or None, output=output, output_node=output_node or None,
    )


@router.get("/units/{unit_id}/periods", summary="报告期 / Reported periods of a unit")
def list_periods(unit_id: int, platform: PlatformDep, principal: PrincipalDep) -> list[Json]:
    return readings.list_periods(platform, principal, unit_id)


@router.get("/periods/{period_id}", summary="报告期结果 / A period: consumption, balance, coal, carbon")
def get_period(period_id: int, platform: PlatformDep, principal: PrincipalDep) -> Json:
    return readings.get_period(platform, principal, period_id)


@router.get("/regional", summary="区域概况 / The regional view")
def regional_view(
    platform: PlatformDep,
    principal: PrincipalDep,
    on: Annotated[
        date | None, Query(description="统计日期，默认今天 / the day asked about, default today")
    ] = None,
) -> Json:
    return regional.regional_view(platform, principal, on)


@router.put("/targets", summary="在线监测覆盖率目标 / The coverage target of a region and year")
def set_target(body: TargetIn, platform: PlatformDep, principal: PrincipalDep) -> Json:
    return regional.set_coverage_target(
        platform, principal, body.region_code, body.year, body.target, body.source
    )


class CemsBody(BaseModel):
    measured_t: float = Field(description="CEMS 实测 CO₂ 排放量 / measured CO₂ of the period, t")
    u_percent: float = Field(description="实测的相对标准不确定度 / its relative standard uncertainty, %")
    system: str = Field(default="", max_length=200, description="监测系统 / the monitoring system")


@router.post("/periods/{period_id}/cems", summary="报送 CEMS 实测排放量 / Report the CEMS figure of a period")
def report_cems(period_id: int, body: CemsBody, platform: PlatformDep, principal: PrincipalDep) -> Json:
    return carbon_review.report_cems(platform, principal, period_id, body.measured_t, body.u_percent, body.system)


@router.get("/units/{unit_id}/carbon-review", summary="碳计量审查 / The unit's carbon-metering review")
def get_carbon_review(unit_id: int, platform: PlatformDep, principal: PrincipalDep) -> Json:
    return carbon_review.carbon_review(platform, principal, unit_id)


@router.get("/units/{unit_id}/carbon-review.pdf", summary="碳计量审查报告 PDF / The carbon-metering review as PDF")
def carbon_review_pdf(unit_id: int, platform: PlatformDep, principal: PrincipalDep) -> Response:
    data = carbon_review.carbon_review(platform, principal, unit_id)
    return Response(report.carbon_review_pdf(data), media_type="application/pdf")
