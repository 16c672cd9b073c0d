"""Digital calibration certificates: issue, withdraw, download, import, and the public check.

The check and the proof bundle are public (what a QR code leads to); the documents themselves go only to
those who may see the instrument. An uploaded DCC arrives as the raw XML body or as a form's ``file``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import Field

from jiliang.api.deps import OptionalPrincipalDep, PlatformDep, PrincipalDep
from jiliang.api.downloads import attachment
from jiliang.api.routers.dcc import XML_BODY, read_xml
from jiliang.api.schemas.common import ERRORS, In, Out
from jiliang.errors import InvalidInput
from jiliang.services import certificates
from jiliang.services.certificates import MAX_DOCUMENT_BYTES
from jiliang.trust.certificate_check import CheckReport

router = APIRouter(prefix="/api/v1/certificates", tags=["certificates 数字证书"], responses=ERRORS)


class IssueIn(In):
    record_id: int = Field(description="检定记录 / verification record")
    number: str | None = Field(default=None, description="证书编号，缺省为记录的证书号 / certificate number")
    supersedes: str | None = Field(default=None, description="被替代的证书编号 / the certificate it replaces")


class WithdrawIn(In):
    reason: str = Field(description="撤销原因 / why it is withdrawn")


class CertificateOut(Out):
    number: str
    source: str
    status: str
    status_reason: str
    record_id: int | None
    instrument_id: int | None
    institution_id: int | None
    issuer_name: str
    issuer_credit_code: str
    item_summary: str
    schema_version: str
    issued_at: datetime
    signing_time: datetime | None
    sha256: str


class StepOut(Out):
    name: str
    ok: bool
    code: str
    message: str


class CheckOut(Out):
    genuine: bool = Field(description="真实、未改动、已入日志 / authentic, unaltered and logged")
    valid: bool = Field(description="且未撤销或替代 / and neither withdrawn nor superseded")
    number: str | None
    status: str | None
    index: int | None = Field(description="日志中的索引 / leaf index in the log")
    tree_size: int | None
    root_hash: str | None = Field(description="树头根哈希（十六进制）/ tree head root hash, hex")
    signer: str | None = Field(
        default=None, description="签名证书主体（签名有效时）/ signer, when the signature verified"
    )
    signed_at: str | None = Field(default=None, description="声称的签名时间 / claimed signing time")
    steps: list[StepOut]


class SignerOut(Out):
    role: str = Field(description="检定员 / 核验员 / 批准人，含资格证号 / duty and qualification number")
    name: str


class PointOut(Out):
    label: str
    nominal: str = Field(description="标准值 / conventional true value")
    indications: str = Field(description="示值 / indications")
    error: str = Field(description="示值误差 / error of indication")
    uncertainty: str = Field(description="扩展不确定度 U（k）/ expanded uncertainty")
    mpe: str = Field(description="最大允许误差 / maximum permissible error")
    verdict: str = Field(description="pass | fail")


class PublicOut(Out):
    number: str
    status: str
    status_reason: str
    issuer_name: str
    issuer_credit_code: str
    item_summary: str
    issued_at: datetime
    superseded_by: str | None
    pending: bool = Field(description="尚未记入日志 / not yet under a signed tree head")
    check: CheckOut | None
    kind: str | None = Field(
        default=None,
        description="verification（检定证书）| failure_notice（检定结果通知书）| calibration（校准证书）",
    )
    conclusion: str | None = Field(default=None, description="pass | fail")
    performed: date | None = Field(default=None, description="检定/校准日期 / date of the work")
    valid_until: date | None = Field(default=None, description="有效期至 / valid until")
    persons: list[SignerOut] = Field(default_factory=list, description="签字人员 / who signed it off")
    points: list[PointOut] = Field(default_factory=list, description="检定点数据 / measured test points")


def check_out(report: CheckReport) -> CheckOut:
    return CheckOut.model_validate(report)


async def read_document(request: Request) -> bytes:
    """The uploaded certificate (the DCC router's reader, with this register's limit); empty is refused."""
    data = await read_xml(request, MAX_DOCUMENT_BYTES)
    if not data:
        raise InvalidInput("没有收到文件 / no document received", field="file")
    return data


@router.post(
    "",
    status_code=201,
    summary="为检定记录出具数字证书 / Issue the DCC of a verification record",
    responses={409: {"description": "记录无测量数据或三级签字 / the record has no data signed off by three people"}},
)
def issue(body: IssueIn, platform: PlatformDep, principal: PrincipalDep) -> CertificateOut:
    """Only a record written by the approval of a verification with data (检定员 → 核验员 → 批准人) may
    carry a certificate; a record entered with a bare conclusion or imported answers 409."""
    cert = certificates.issue(
        platform, principal, body.record_id, number=body.number, supersedes=body.supersedes
    )
    return CertificateOut.model_validate(cert)


@router.get("", summary="证书列表 / Certificates visible to the caller")
def list_certificates(
    platform: PlatformDep,
    principal: PrincipalDep,
    record_id: Annotated[int | None, Query(description="检定记录 / record")] = None,
    instrument_id: Annotated[int | None, Query(description="器具 / instrument")] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="最多条数 / at most this many")] = 100,
) -> list[CertificateOut]:
    rows = certificates.list_for(
        platform, principal, record_id=record_id, instrument_id=instrument_id, limit=limit
    )
    return [CertificateOut.model_validate(c) for c in rows]


@router.post(
    "/verify", summary="核验上传的证书（公开）/ Check an uploaded DCC (public)", openapi_extra=XML_BODY
)
async def verify(request: Request, platform: PlatformDep) -> CheckOut:
    from starlette.concurrency import run_in_threadpool

    document = await read_document(request)
    result = await run_in_threadpool(certificates.verify_upload, platform, document)
    return check_out(result.report)


@router.post(
    "/import",
    status_code=201,
    summary="登记外部出具的证书 / Register a DCC issued elsewhere",
    openapi_extra=XML_BODY,
)
async def import_dcc(request: Request, platform: PlatformDep, principal: PrincipalDep) -> CertificateOut:
    from starlette.concurrency import run_in_threadpool

    document = await read_document(request)
    cert = await run_in_threadpool(certificates.import_dcc, platform, principal, document)
    return CertificateOut.model_validate(cert)


@router.get("/{number}", summary="证书公开状态（扫码）/ Public standing of a certificate (QR target)")
def public_status(number: str, platform: PlatformDep) -> PublicOut:
    return PublicOut.model_validate(certificates.public_status(platform, number))


@router.get("/{number}/bundle", summary="离线核验证明包（公开）/ Proof bundle for offline checking (public)")
def bundle(number: str, platform: PlatformDep) -> dict[str, Any]:
    return certificates.bundle(platform, number)


@router.get("/{number}/document", summary="下载证书 / Download the certificate (xml, html or pdf)")
def document(
    number: str,
    platform: PlatformDep,
    principal: OptionalPrincipalDep,
    format: Annotated[Literal["xml", "html", "pdf"], Query(description="格式 / format")] = "xml",
) -> Response:
    if format == "xml":
        cert = certificates.get(platform, principal, number)
        return Response(
            cert.document,
            media_type="application/xml",
            headers={"content-disposition": attachment(f"{number}.xml")},
        )
    data = certificates.render(platform, principal, number, format)
    media = "application/pdf" if format == "pdf" else "text/html; charset=utf-8"
    headers = {"content-disposition": attachment(f"{number}.pdf", "inline")} if format == "pdf" else None
    return Response(data, media_type=media, headers=headers)


@router.post("/{number}/withdraw", summary="撤销证书 / Withdraw a certificate, with the reason")
def withdraw(number: str, body: WithdrawIn, platform: PlatformDep, principal: PrincipalDep) -> CertificateOut:
    return CertificateOut.model_validate(certificates.withdraw(platform, principal, number, body.reason))
