"""Signing keys and X.509 certificates for institutions: a platform root CA issues one certificate per
institution, and private keys only ever leave memory encrypted (PKCS#8, RFC 5958, with a passphrase).

The institution's certificate names it the way ETSI EN 319 412-1 §5.1.4 names a legal person:
``organizationIdentifier`` = "NTR" (national trade register) + "CN" (ISO 3166 country) + "-" + the
identifier, here the 统一社会信用代码 (GB 32100-2015). A verifier recovers the credit code from it, so a
signature can be matched to a registered organisation without trusting its display name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, get_args

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from jiliang.domain.credit_code import validate_credit_code
from jiliang.errors import InvalidInput

Algorithm = Literal["ecdsa-p256", "rsa-3072"]
ALGORITHMS: tuple[str, ...] = get_args(Algorithm)
PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey

# ETSI EN 319 412-1 §5.1.4: semantics identifier prefix for a national trade register, country CN.
ORG_ID_PREFIX = "NTRCN-"
# RFC 9336: id-kp-documentSigning, the extended key usage for signing human-readable documents.
DOCUMENT_SIGNING = x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36")


def generate_key(algorithm: str = "ecdsa-p256") -> PrivateKey:
    """A fresh key: ECDSA on P-256 (the default: small and fast), or RSA with a 3072-bit modulus."""
    if algorithm == "ecdsa-p256":
        return ec.generate_private_key(ec.SECP256R1())
    if algorithm == "rsa-3072":
        return rsa.generate_private_key(public_exponent=65537, key_size=3072)
    raise InvalidInput(
        f"不支持的密钥算法 {algorithm!r}，可选 {', '.join(ALGORITHMS)} / unsupported key algorithm "
        f"{algorithm!r}; choose one of {', '.join(ALGORITHMS)}",
        field="algorithm",
    )


def algorithm_of(key: PrivateKey) -> str:
    if isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1):
        return "ecdsa-p256"
    if isinstance(key, rsa.RSAPrivateKey):
        return f"rsa-{key.key_size}"
    raise InvalidInput("不支持的密钥 / unsupported key type", field="key")


@dataclass(frozen=True)
class RootCA:
    key: PrivateKey
    certificate: x509.Certificate


def _subject_key_id(key: PrivateKey) -> x509.SubjectKeyIdentifier:
    return x509.SubjectKeyIdentifier.from_public_key(key.public_key())


def create_root_ca(
    key: PrivateKey,
    *,
    common_name: str,
    organisation: str,
    not_before: datetime,
    valid_days: int = 20 * 365,
) -> RootCA:
    """A self-signed root that may issue institution certificates (and, later, intermediates)."""
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )
    ski = _subject_key_id(key)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_before + timedelta(days=valid_days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ski, critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
        .sign(key, hashes.SHA256())
    )
    return RootCA(key=key, certificate=cert)


def institution_name(name: str, credit_code: str, organisation: str | None = None) -> x509.Name:
    """CN = the institution's name, O = its organisation, C = CN, organizationIdentifier = NTRCN-<code>."""
    code = validate_credit_code(credit_code)
    if not name.strip():
        raise InvalidInput("机构名称不能为空 / institution name must not be empty", field="name")
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, (organisation or name).strip()[:64]),
            x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, ORG_ID_PREFIX + code),
            x509.NameAttribute(NameOID.COMMON_NAME, name.strip()[:64]),
        ]
    )


def issue_institution_certificate(
    public_key: ec.EllipticCurvePublicKey | rsa.RSAPublicKey,
    *,
    issuer: RootCA,
    name: str,
    credit_code: str,
    organisation: str | None = None,
    not_before: datetime,
    valid_days: int = 3 * 365,
) -> x509.Certificate:
    """An end-entity certificate for signing documents: digitalSignature + nonRepudiation only.

    Its validity never outlasts the issuer's: a chain is judged at the signing time, and a certificate
    that outlived its root would produce signatures no verifier can accept.
    """
    not_after = min(not_before + timedelta(days=valid_days), issuer.certificate.not_valid_after_utc)
    issuer_ski = issuer.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    return (
        x509.CertificateBuilder()
        .subject_name(institution_name(name, credit_code, organisation))
        .issuer_name(issuer.certificate.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,  # = nonRepudiation (X.509 2019 renamed it)
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([DOCUMENT_SIGNING]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(issuer_ski), critical=False
        )
        .sign(issuer.key, hashes.SHA256())
    )


def credit_code_of(cert: x509.Certificate) -> str | None:
    """The credit code in ``organizationIdentifier`` (NTRCN-…), or None when the subject has none."""
    for attr in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_IDENTIFIER):
        value = attr.value if isinstance(attr.value, str) else attr.value.decode("utf-8", "replace")
        if value.startswith(ORG_ID_PREFIX):
            return value[len(ORG_ID_PREFIX) :]
    return None


def _passphrase(passphrase: str | bytes) -> bytes:
    raw = passphrase.encode("utf-8") if isinstance(passphrase, str) else passphrase
    if not raw:
        raise InvalidInput("私钥口令不能为空 / the key passphrase must not be empty", field="passphrase")
    return raw


def encrypt_private_key(key: PrivateKey, passphrase: str | bytes) -> bytes:
    """Encrypted PKCS#8 PEM ("BEGIN ENCRYPTED PRIVATE KEY"); there is deliberately no clear-text variant."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(_passphrase(passphrase)),
    )


def decrypt_private_key(pem: bytes, passphrase: str | bytes) -> PrivateKey:
    if b"BEGIN ENCRYPTED PRIVATE KEY" not in pem:
        raise InvalidInput(
            "私钥未加密，拒绝使用 / refusing a private key stored in clear", field="private_key"
        )
    try:
        key = serialization.load_pem_private_key(pem, password=_passphrase(passphrase))
    except (ValueError, TypeError) as exc:
        raise InvalidInput(
            "私钥口令错误或私钥已损坏 / wrong key passphrase or damaged private key", field="passphrase"
        ) from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise InvalidInput("不支持的密钥 / unsupported key type", field="private_key")
    return key


def certificates_to_pem(certs: Sequence[x509.Certificate]) -> bytes:
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs)


def certificates_from_pem(data: bytes) -> list[x509.Certificate]:
    try:
        return x509.load_pem_x509_certificates(data)
    except ValueError as exc:
        raise InvalidInput(f"证书无法解析 / certificate does not parse: {exc}", field="certificate") from exc


__all__ = [
    "ALGORITHMS",
    "DOCUMENT_SIGNING",
    "ORG_ID_PREFIX",
    "Algorithm",
    "PrivateKey",
    "RootCA",
    "algorithm_of",
    "certificates_from_pem",
    "certificates_to_pem",
    "create_root_ca",
    "credit_code_of",
    "decrypt_private_key",
    "encrypt_private_key",
    "generate_key",
    "institution_name",
    "issue_institution_certificate",
]
