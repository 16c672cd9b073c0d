"""Trust: the platform's root certificates, institutions' signing certificates, signature verification.

Certificates and verification are public (anyone may check a DCC); issuing a key is for administrators.
"""

from __future__ import annotations

from typing import Annotated, Literal

from cryptography.hazmat.primitives.serialization import Encoding
from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from jiliang.api.deps import PlatformDep, PrincipalDep
from jiliang.api.routers.dcc import read_xml
from jiliang.api.schemas.common import ERRORS
from jiliang.api.schemas.trust import SignatureReportOut, SigningKeyOut
from jiliang.errors import InvalidInput
from jiliang.services import signing_keys
from jiliang.trust import dcc
from jiliang.trust.xades import SignatureReport

router = APIRouter(prefix="/api/v1", tags=["trust 可信"], responses=ERRORS)

PEM = "application/x-pem-file"
PEM_ANSWER: dict[int | str, dict[str, object]] = {200: {"content": {PEM: {}}, "description": "PEM"}}


@router.get(
    "/trust/roots", summary="受信任的根证书（PEM）/ Trusted root certificates (PEM)", responses=PEM_ANSWER
)
def trust_roots(platform: PlatformDep) -> Response:
    return Response(content=signing_keys.roots_pem(platform), media_type=PEM)


@router.get(
    "/institutions/{institution_id}/signing-certificate",
    summary="机构的签名证书链（PEM）/ An institution's signing certificate chain (PEM)",
    responses=PEM_ANSWER,
)
def signing_certificate(platform: PlatformDep, institution_id: int) -> Response:
    return Response(content=signing_keys.institution_chain_pem(platform, institution_id), media_type=PEM)


@router.post(
    "/institutions/{institution_id}/signing-key",
    summary="为机构签发新的签名密钥（管理员）/ Issue a new signing key for an institution (administrators)",
    status_code=201,
)
def issue_signing_key(
    platform: PlatformDep,
    principal: PrincipalDep,
    institution_id: int,
    algorithm: Annotated[
        Literal["ecdsa-p256", "rsa-3072"], Query(description="密钥算法 / key algorithm")
    ] = "ecdsa-p256",
) -> SigningKeyOut:
    return SigningKeyOut.model_validate(
        signing_keys.issue_key(platform, principal, institution_id, algorithm=algorithm)
    )


def _report_out(report: SignatureReport) -> SignatureReportOut:
    return SignatureReportOut(
        valid=report.valid,
        reason=report.reason,
        message=report.message,
        signing_time=report.signing_time,
        signer_subject=report.signer_subject,
        signer_credit_code=report.signer_credit_code,
        chain=[c.public_bytes(Encoding.PEM).decode("ascii") for c in report.chain],
    )


@router.post(
    "/trust/verify-signature",
    summary="验证 XML 文档（DCC）的签名 / Verify the signature of an XML document (a DCC)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/xml": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def verify_signature(request: Request, platform: PlatformDep) -> SignatureReportOut:
    """The XML document is the request body. Always 200 with a report, unless the body is empty or too big."""
    xml = await read_xml(request, dcc.MAX_BYTES)
    if not xml.strip():
        raise InvalidInput("请求体应为 XML 文档 / the request body must be the XML document", field="body")
    report = await run_in_threadpool(signing_keys.verify, platform, xml)
    return _report_out(report)
