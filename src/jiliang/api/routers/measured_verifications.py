"""Verification with measurement data (检定原始记录) and its sign-off: 检定员 records → 核验员 checks → 批准人 approves."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import Field

from jiliang.api.deps import PlatformDep, PrincipalDep
from jiliang.api.schemas.common import ERRORS, In, Out
from jiliang.services import measured_verifications as mv

router = APIRouter(
    prefix="/api/v1/measured-verifications", tags=["measured verifications 检定数据与签字"], responses=ERRORS
)


class PointIn(In):
    label: str = Field(default="", description="检定点名称 / label")
    nominal: str = Field(description="标准值（约定真值）/ conventional true value, as digits")
    unit: str = Field(default="", description="单位 / unit, e.g. kg, L, kPa")
    indications: list[str] | str = Field(description="示值（一个或多个）/ one or more indications")
    zone: str = Field(default="", description="区段：upper/lower/minimum/installed… / zone of the MPE table")
    uncertainty: str | None = Field(
        default=None, description="示值误差的扩展不确定度 U / expanded uncertainty"
    )
    coverage_factor: str | None = Field(default=None, description="包含因子 k（缺省 2）/ coverage factor")
    mpe_lower: str | None = Field(default=None, description="逐点给定的 MPE 下限（无规则的目录项）")
    mpe_upper: str | None = Field(default=None, description="逐点给定的 MPE 上限（无规则的目录项）")


class InspectionIn(In):
    label: str = Field(description="检查项目，如 外观、铭牌、封印 / item checked by the verifier")
    passed: bool


class MeasuredIn(In):
    instrument_id: int
    verified_on: date
    document_no: str = Field(description="证书编号 / certificate number")
    stage: Literal["initial", "subsequent", "in_service"] = "subsequent"
    accuracy_class: str | None = Field(default=None, description="缺省取器具登记的等级 / default: as filed")
    scale_interval: str | None = Field(
        default=None, description="检定分度值 e（衡器）/ verification scale interval"
    )
    decision_rule: Literal["simple", "guarded"] = "simple"
    standard_id: int | None = None
    remarks: str | None = None
    points: list[PointIn]
    inspections: list[InspectionIn] = Field(default_factory=list)


class DecisionIn(In):
    accept: bool = Field(default=True, description="false = 退回 / return with a reason")
    reason: str = ""


class PersonOut(Out):
    duty: str
    name: str
    qualification_no: str
    at: datetime | None


class PointOut(Out):
    seq: int
    kind: str
    label: str
    zone: str
    unit: str
    nominal: str
    indications: str
    error: str
    mpe_lower: str
    mpe_upper: str
    mpe_basis: str
    mpe_evidence: str
    uncertainty: str
    coverage_factor: str
    passed: bool


class MeasuredOut(Out):
    id: int
    institution_name: str
    instrument_id: int
    instrument_name: str
    serial_number: str
    verified_on: date
    document_no: str
    stage: str
    accuracy_class: str
    scale_interval: str
    mpe_rule: str
    decision_rule: str
    conclusion: str
    warnings: list[str]
    state: str
    return_reason: str
    persons: list[PersonOut]
    points: list[PointOut]
    record_id: int | None
    due_on: date | None


class EvaluatedPointOut(Out):
    seq: int
    error: str
    mpe_lower: str
    mpe_upper: str
    mpe_basis: str
    passed: bool
    warnings: list[str]


class EvaluationOut(Out):
    rule: str
    accuracy_class: str
    conclusion: str
    points: list[EvaluatedPointOut]
    warnings: list[str]


def _body(body: MeasuredIn) -> dict[str, Any]:
    return body.model_dump(mode="json")


def evaluation_out(ev: mv.Evaluation) -> EvaluationOut:
    return EvaluationOut(
        rule=ev.rule,
        accuracy_class=ev.accuracy_class,
        conclusion=ev.conclusion.value,
        points=[
            EvaluatedPointOut(
                seq=p.seq,
                error=format(p.error, "f"),
                mpe_lower=format(p.mpe.lower, "f"),
                mpe_upper=format(p.mpe.upper, "f"),
                mpe_basis=p.mpe.basis,
                passed=p.passed,
                warnings=list(p.warnings),
            )
            for p in ev.points
        ],
        warnings=list(ev.judgement.warnings),
    )


class SignatoryIn(In):
    username: str
    name: str | None = Field(default=None, description="证书上的姓名 / name printed on certificates")
    qualification_no: str = Field(description="检定员证或注册计量师证号 / qualification number")
    may_verify: bool = True
    may_check: bool = False
    may_approve: bool = False
    valid_until: date | None = None


class SignatoryOut(Out):
    id: int
    user_id: int
    name: str
    qualification_no: str
    may_verify: bool
    may_check: bool
    may_approve: bool
    valid_until: date | None


@router.get("/signatories", summary="本机构签字人员 / The institution's signatories")
def signatories(platform: PlatformDep, principal: PrincipalDep) -> list[SignatoryOut]:
    return [SignatoryOut.model_validate(s) for s in mv.list_signatories(platform, principal)]


@router.post("/signatories", status_code=201, summary="登记签字人员 / Register a signatory")
def register(body: SignatoryIn, platform: PlatformDep, principal: PrincipalDep) -> SignatoryOut:
    return SignatoryOut.model_validate(
        mv.register_signatory(platform, principal, body.model_dump(mode="json"))
    )


@router.post("/evaluate", summary="试算：各点 MPE 与结论（不保存）/ Evaluate the data without storing it")
def evaluate(body: MeasuredIn, platform: PlatformDep, principal: PrincipalDep) -> EvaluationOut:
    return evaluation_out(mv.preview(platform, principal, _body(body)))


@router.post("", status_code=201, summary="检定员记录检定数据 / The verifier records the data")
def record(body: MeasuredIn, platform: PlatformDep, principal: PrincipalDep) -> MeasuredOut:
    row = mv.record(platform, principal, _body(body))
    return MeasuredOut.model_validate(mv.get(platform, principal, row.id))


@router.get("", summary="签字队列 / The sign-off queue")
def queue(
    platform: PlatformDep,
    principal: PrincipalDep,
    state: Annotated[
        list[str] | None,
        Query(
            description="状态：recorded 待核验 / checked 待批准 / approved 已批准 / returned 已退回 / state"
        ),
    ] = None,
) -> list[MeasuredOut]:
    views = mv.queue(platform, principal, state or [mv.RECORDED, mv.CHECKED])
    return [MeasuredOut.model_validate(v) for v in views]


@router.get("/{verification_id}", summary="查看 / Get one")
def get(verification_id: int, platform: PlatformDep, principal: PrincipalDep) -> MeasuredOut:
    return MeasuredOut.model_validate(mv.get(platform, principal, verification_id))


@router.post("/{verification_id}/check", summary="核验员核验或退回 / The checker checks or returns it")
def check(
    verification_id: int, body: DecisionIn, platform: PlatformDep, principal: PrincipalDep
) -> MeasuredOut:
    mv.check(platform, principal, verification_id, accept=body.accept, reason=body.reason)
    return MeasuredOut.model_validate(mv.get(platform, principal, verification_id))


@router.post("/{verification_id}/approve", summary="批准人批准或退回 / The approver approves or returns it")
def approve(
    verification_id: int, body: DecisionIn, platform: PlatformDep, principal: PrincipalDep
) -> MeasuredOut:
    mv.approve(platform, principal, verification_id, accept=body.accept, reason=body.reason)
    return MeasuredOut.model_validate(mv.get(platform, principal, verification_id))
