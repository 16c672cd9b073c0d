"""Shapes of the trust API: signing keys (never their private part) and signature reports."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from jiliang.api.schemas.common import Out

# Columns of signing_keys the API never answers: the encrypted private key, and the chain (served as PEM
# by GET /institutions/{id}/signing-certificate instead).
SIGNING_KEY_EXCLUDED = frozenset({"private_key_pem", "chain_pem"})


class SigningKeyOut(Out):
    id: int = Field(description="编号 / id")
    kind: str = Field(description="root 平台根证书 / institution 机构签名密钥")
    institution_id: int | None = Field(description="机构（单位）编号 / institution (organisation) id")
    algorithm: str = Field(description="算法 / algorithm (ecdsa-p256, rsa-3072)")
    subject: str = Field(description="证书主体 / certificate subject (RFC 4514)")
    serial_number: str = Field(description="证书序列号（十六进制）/ certificate serial number (hex)")
    certificate_pem: str = Field(description="证书 PEM / certificate, PEM")
    created_at: datetime = Field(description="签发时间 / issued at")
    not_after: datetime = Field(description="证书到期 / certificate not valid after")
    active: bool = Field(description="是否在用 / the institution's current key")


class SignatureReportOut(Out):
    valid: bool = Field(description="签名是否有效 / whether the signature is valid")
    reason: str = Field(
        description="结论代码 / reason code: ok, no_signature, digest_mismatch, signature_invalid, "
        "untrusted_chain, expired_at_signing_time, not_yet_valid, signing_certificate_mismatch, malformed"
    )
    message: str = Field(description="说明（中文 / English）/ explanation")
    signing_time: datetime | None = Field(description="签名时间（签名属性所载）/ signing time as signed")
    signer_subject: str | None = Field(description="签名证书主体 / signing certificate's subject")
    signer_credit_code: str | None = Field(description="签名单位统一社会信用代码 / signer's credit code")
    chain: list[str] = Field(
        description="验证通过的证书链（PEM，签名证书在前）/ verified chain, PEM, leaf first"
    )
