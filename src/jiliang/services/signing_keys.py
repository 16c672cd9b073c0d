"""Institutions' signing keys and the platform root CA that certifies them; signing and verifying DCCs.

Keys live in ``signing_keys`` as encrypted PKCS#8 (the passphrase comes from settings, never from the
database), so a copy of the database alone signs nothing. The root CA is created on first use and kept the
same way; every active root is trusted, so two processes that race to create the first one both stay
verifiable. An institution has at most one active key: issuing a new one retires the old, whose
signatures stay valid because a signature is judged at its signing time.

These functions take the caller's session and never commit: the unit of work that calls them decides.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from jiliang.domain.access import Principal
from jiliang.errors import InvalidInput, JiliangError
from jiliang.services.common import not_found, require_role
from jiliang.services.platform import Platform
from jiliang.settings import Settings
from jiliang.store.models import Organisation, SigningKeyRow
from jiliang.trust import keys, xades
from jiliang.trust.xades import SignatureReport

log = logging.getLogger(__name__)

ROOT = "root"
INSTITUTION = "institution"
# Development and test only: a fixed passphrase so that a demo database can be reopened. Never production.
DEMO_PASSPHRASE = "jiliang-demo-signing-key-passphrase"
ROOT_NAME = "jiliang 计量平台根证书 / jiliang platform root CA"
ROOT_ORGANISATION = "jiliang"

_warned = False


class SigningNotConfigured(JiliangError, RuntimeError):
    """The deployment lacks what signing needs (a passphrase in production)."""

    code = "not_configured"


def passphrase(settings: Settings) -> str:
    """The key-encryption passphrase: from settings; a demo one outside production, with a warning."""
    global _warned
    if settings.signing_key_passphrase is not None:
        value = settings.signing_key_passphrase.get_secret_value()
        if value:
            return value
    if settings.environment == "production":
        raise SigningNotConfigured(
            "生产环境必须设置 JILIANG_SIGNING_KEY_PASSPHRASE / JILIANG_SIGNING_KEY_PASSPHRASE must be set in "
            "production",
            field="signing_key_passphrase",
        )
    if not _warned:
        log.warning(
            "JILIANG_SIGNING_KEY_PASSPHRASE unset: signing keys are encrypted with the fixed demo passphrase "
            "(development/test only)"
        )
        _warned = True
    return DEMO_PASSPHRASE


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _not_before(now: datetime) -> datetime:
    # Backdated by the verifier's clock-skew allowance, so that a document signed "now" by a caller whose
    # clock reads a little earlier, or just before the key was issued, is inside the validity.
    return now - xades.CLOCK_SKEW


def _row(
    kind: str,
    institution_id: int | None,
    key: keys.PrivateKey,
    cert: x509.Certificate,
    chain: list[x509.Certificate],
    settings: Settings,
    now: datetime,
) -> SigningKeyRow:
    return SigningKeyRow(
        kind=kind,
        institution_id=institution_id,
        algorithm=keys.algorithm_of(key),
        subject=cert.subject.rfc4514_string()[:500],
        serial_number=format(cert.serial_number, "x"),
        certificate_pem=keys.certificates_to_pem([cert]).decode("ascii"),
        chain_pem=keys.certificates_to_pem(chain).decode("ascii"),
        private_key_pem=keys.encrypt_private_key(key, passphrase(settings)).decode("ascii"),
        created_at=now,
        not_after=cert.not_valid_after_utc,
        active=True,
    )


def _active(session: Session, kind: str, institution_id: int | None = None) -> SigningKeyRow | None:
    stmt = select(SigningKeyRow).where(SigningKeyRow.kind == kind, SigningKeyRow.active.is_(True))
    if institution_id is not None:
        stmt = stmt.where(SigningKeyRow.institution_id == institution_id)
    row: SigningKeyRow | None = session.scalars(stmt.order_by(SigningKeyRow.id)).first()
    return row


def ensure_root(session: Session, settings: Settings) -> SigningKeyRow:
    """The platform root CA, created (ECDSA P-256, 20 years) the first time anything needs it."""
    row = _active(session, ROOT)
    if row is not None:
        return row
    now = _now()
    key = keys.generate_key("ecdsa-p256")
    ca = keys.create_root_ca(
        key, common_name=ROOT_NAME, organisation=ROOT_ORGANISATION, not_before=_not_before(now)
    )
    row = _row(ROOT, None, key, ca.certificate, [ca.certificate], settings, now)
    session.add(row)
    session.flush()
    return row


def _root_ca(session: Session, settings: Settings) -> keys.RootCA:
    row = ensure_root(session, settings)
    return keys.RootCA(
        key=keys.decrypt_private_key(row.private_key_pem.encode("ascii"), passphrase(settings)),
        certificate=x509.load_pem_x509_certificate(row.certificate_pem.encode("ascii")),
    )


def issue_institution_key(
    session: Session, settings: Settings, institution_id: int, *, algorithm: str = "ecdsa-p256"
) -> SigningKeyRow:
    """A new key and certificate for the institution; its previous key (if any) is retired."""
    org = session.get(Organisation, institution_id)
    if org is None:
        raise not_found("institution", institution_id)
    key = keys.generate_key(algorithm)
    root = _root_ca(session, settings)
    now = _now()
    cert = keys.issue_institution_certificate(
        key.public_key(),
        issuer=root,
        name=org.name,
        credit_code=org.credit_code,
        not_before=_not_before(now),
        valid_days=settings.signing_certificate_days,
    )
    session.execute(
        update(SigningKeyRow)
        .where(
            SigningKeyRow.kind == INSTITUTION,
            SigningKeyRow.institution_id == institution_id,
            SigningKeyRow.active.is_(True),
        )
        .values(active=False)
    )
    row = _row(INSTITUTION, institution_id, key, cert, [cert, root.certificate], settings, now)
    session.add(row)
    session.flush()
    return row


def ensure_institution_key(session: Session, settings: Settings, institution_id: int) -> SigningKeyRow:
    """The institution's active key; one is issued (with the configured algorithm) if it has none."""
    row = _active(session, INSTITUTION, institution_id)
    if row is not None:
        return row
    return issue_institution_key(session, settings, institution_id, algorithm=settings.signing_key_algorithm)


def sign_document(
    session: Session, settings: Settings, institution_id: int, xml: bytes, signing_time: datetime
) -> bytes:
    """``xml`` with the institution's enveloped XAdES signature appended to its root element.

    Call it inside a unit of work that commits: a key (and the root) issued here on first use must be
    stored, or what it signed could never chain to a root again.
    """
    if signing_time.tzinfo is None:
        raise InvalidInput("签名时间须带时区 / signing time must carry a time zone", field="signing_time")
    row = ensure_institution_key(session, settings, institution_id)
    key = keys.decrypt_private_key(row.private_key_pem.encode("ascii"), passphrase(settings))
    chain = keys.certificates_from_pem(row.chain_pem.encode("ascii"))
    leaf = chain[0]
    if not leaf.not_valid_before_utc <= signing_time <= leaf.not_valid_after_utc:
        raise InvalidInput(
            f"签名时间 {signing_time.isoformat()} 不在签名证书有效期内 / signing time outside the signing "
            f"certificate's validity ({leaf.not_valid_before_utc.isoformat()} – "
            f"{leaf.not_valid_after_utc.isoformat()})",
            field="signing_time",
        )
    return xades.sign(xml, key, chain, signing_time)


def _roots_from_dir(directory: Path) -> list[x509.Certificate]:
    if not directory.is_dir():
        raise SigningNotConfigured(
            f"受信任根证书目录不存在：{directory} / trusted roots directory not found: {directory}",
            field="trusted_roots_dir",
        )
    out: list[x509.Certificate] = []
    for path in sorted(directory.iterdir()):
        if path.suffix.lower() in {".pem", ".crt"} and path.is_file():
            out.extend(keys.certificates_from_pem(path.read_bytes()))
    return out


def trusted_roots(session: Session, settings: Settings) -> list[x509.Certificate]:
    """Every active platform root and the PEM files of ``trusted_roots_dir``.

    Creates nothing (a caller may hold a read-only session): before the first root exists nothing can
    have been signed under it. ``ensure_root`` creates it.
    """
    rows = session.scalars(
        select(SigningKeyRow).where(SigningKeyRow.kind == ROOT, SigningKeyRow.active.is_(True))
    ).all()
    roots = [x509.load_pem_x509_certificate(r.certificate_pem.encode("ascii")) for r in rows]
    if settings.trusted_roots_dir is not None:
        roots.extend(xades.split_anchors(_roots_from_dir(settings.trusted_roots_dir))[0])
    return roots


def trusted_intermediates(settings: Settings) -> list[x509.Certificate]:
    """The certificates of ``trusted_roots_dir`` that are not self-signed: never anchors, only help to
    build a path to one (a foreign institute's intermediate CA, published beside its root)."""
    if settings.trusted_roots_dir is None:
        return []
    return xades.split_anchors(_roots_from_dir(settings.trusted_roots_dir))[1]


def verify_document(
    session: Session, settings: Settings, xml: bytes, intermediates: Sequence[x509.Certificate] = ()
) -> SignatureReport:
    """The signature report of ``xml`` against the platform's trusted roots, judged at its signing time;
    the path may use the certificates in the signature, the configured intermediates and ``intermediates``."""
    return xades.verify(
        xml,
        trusted_roots(session, settings),
        intermediates=[*trusted_intermediates(settings), *intermediates],
    )


def institution_chain(session: Session, settings: Settings, institution_id: int) -> bytes:
    """PEM of the institution's active certificate chain (leaf first)."""
    row = _active(session, INSTITUTION, institution_id)
    if row is None:
        raise not_found("signing certificate of institution", institution_id)
    return row.chain_pem.encode("ascii")


def list_keys(session: Session) -> list[SigningKeyRow]:
    return list(session.scalars(select(SigningKeyRow).order_by(SigningKeyRow.id)).all())


# --- whole operations, each in its own transaction ----------------------------------------------------


def roots_pem(platform: Platform) -> bytes:
    """The trusted roots as PEM; a unit of work because the platform root is created on first use."""
    with platform.unit_of_work() as s:
        ensure_root(s, platform.settings)
        return keys.certificates_to_pem(trusted_roots(s, platform.settings))


def institution_chain_pem(platform: Platform, institution_id: int) -> bytes:
    with platform.reading() as s:
        return institution_chain(s, platform.settings, institution_id)


def issue_key(
    platform: Platform, principal: Principal, institution_id: int, *, algorithm: str = "ecdsa-p256"
) -> SigningKeyRow:
    """A new key and certificate for an institution (its old key retires), by an administrator."""
    require_role(principal)
    with platform.unit_of_work(principal) as s:
        return issue_institution_key(s, platform.settings, institution_id, algorithm=algorithm)


def verify(platform: Platform, xml: bytes) -> SignatureReport:
    with platform.reading() as s:
        return verify_document(s, platform.settings, xml)


def all_keys(platform: Platform) -> list[SigningKeyRow]:
    with platform.reading() as s:
        return list_keys(s)
