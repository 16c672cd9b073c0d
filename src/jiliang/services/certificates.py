"""Digital calibration certificates (数字计量证书): issue, withdraw, supersede, import, verify.

Issuing combines the engines in one transaction: the verification record becomes a DCC (trust.dcc),
signed with the institution's key (services.signing_keys), stored byte for byte, and queued for the
transparency log (services.transparency) in the same commit, so no certificate exists that the log will
not learn of. Withdrawal and supersession are log entries too. Verification — online here, offline in
``trust.certificate_check`` — runs one code path: the registry only supplies the proof bundle.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from cryptography import x509
from sqlalchemy import select
from sqlalchemy.orm import Session

from jiliang.domain.access import Principal, Role
from jiliang.domain.instruments import document_number
from jiliang.errors import Conflict, InvalidInput, NotAuthorised, PayloadTooLarge
from jiliang.services import dcc_records, scope, signing_keys, transparency
from jiliang.services.common import not_found, require_role
from jiliang.services.platform import Platform
from jiliang.store.models import (
    Certificate,
    Instrument,
    MeasuredVerification,
    Organisation,
    VerificationRecord,
)
from jiliang.trust import certificate_check, dcc, merkle, rendering
from jiliang.trust.certificate_check import BUNDLE_FORMAT, ISSUED, SUPERSEDED, WITHDRAWN, CheckReport
from jiliang.trust.dcc_model import DccCertificate
from jiliang.trust.leaves import encode as leaf_bytes

MAX_DOCUMENT_BYTES = dcc.MAX_BYTES  # one limit for every uploaded DCC, whichever route it comes by
VALID, WITHDRAWN_STATUS, SUPERSEDED_STATUS = "valid", "withdrawn", "superseded"


def _iso(at: datetime) -> str:
    """UTC with a Z: SQLite hands back naive datetimes, and the leaf must be rebuilt byte for byte."""
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    return at.isoformat(timespec="seconds").replace("+00:00", "Z")


def issued_leaf(cert: Certificate) -> dict[str, Any]:
    return {
        "kind": ISSUED,
        "body": {
            "number": cert.number,
            "sha256": cert.sha256,
            "issuer": cert.issuer_credit_code,
            "issued_at": _iso(cert.issued_at),
        },
    }


def status_leaf(cert: Certificate, successor: Certificate | str | None = None) -> dict[str, Any] | None:
    """The withdrawal or supersession leaf of ``cert``; ``successor`` is the certificate (or its number)
    that superseded it."""
    if cert.status == VALID or cert.status_changed_at is None:
        return None
    body: dict[str, Any] = {"number": cert.number, "sha256": cert.sha256, "at": _iso(cert.status_changed_at)}
    if cert.status == WITHDRAWN_STATUS:
        return {"kind": WITHDRAWN, "body": {**body, "reason": cert.status_reason}}
    number = successor if isinstance(successor, str) else successor.number if successor else ""
    return {"kind": SUPERSEDED, "body": {**body, "superseded_by": number}}


def _enqueue(s: Session, leaf: dict[str, Any]) -> None:
    transparency.enqueue(s, leaf["kind"], leaf["body"])


def verify_url(platform: Platform, number: str) -> str:
    return f"{platform.settings.public_url.rstrip('/')}/v/{number}"


# ---------------------------------------------------------------------------------------------------
# issuing


def _may_issue(principal: Principal, record: VerificationRecord) -> None:
    require_role(principal, Role.INSTITUTION)
    if principal.role is Role.INSTITUTION and principal.organisation_id != record.institution_id:
        raise NotAuthorised(
            "只能为本机构的检定记录出具证书 / issue only for your own records", field="record_id"
        )


NO_SIGNED_DATA = (
    "该检定记录没有测量数据和检定员、核验员、批准人三级签字，不能出具证书（批量导入或仅录结论的记录是登记事实，"
    "不是新的检定）/ no certificate without the measurement data signed off by the verifier, the checker "
    "and the approver: a record imported or entered with a bare conclusion is a registry fact, not a new "
    "verification"
)


def _require_signed_data(s: Session, record: VerificationRecord) -> None:
    """A certificate states measured results under three signatures (JJF 1069 / the institution's quality
    system): only a record written by the approval of a verification with data
    (``services.measured_verifications``) may carry one. Records imported in bulk, entered through the plain
    record API or corrected by hand keep their place in the registry but are never issued as certificates."""
    approved = s.scalar(
        select(MeasuredVerification.id).where(
            MeasuredVerification.record_id == record.id,
            MeasuredVerification.state == "approved",
            MeasuredVerification.approver_id.is_not(None),
            MeasuredVerification.checker_id.is_not(None),
        )
    )
    if approved is None:
        raise Conflict(NO_SIGNED_DATA, field="record_id")


def issue(
    platform: Platform,
    principal: Principal,
    record_id: int,
    *,
    number: str | None = None,
    supersedes: str | None = None,
) -> Certificate:
    """Issue the DCC of a verification record; a record that corrects another supersedes its certificate."""
    with platform.unit_of_work(principal) as s:
        return issue_in(s, platform, principal, record_id, number=number, supersedes=supersedes)


def issue_in(
    s: Session,
    platform: Platform,
    principal: Principal,
    record_id: int,
    *,
    number: str | None = None,
    supersedes: str | None = None,
) -> Certificate:
    record = s.get(VerificationRecord, record_id)
    if record is None:
        raise not_found("verification record", record_id)
    _may_issue(principal, record)
    _require_signed_data(s, record)
    if record.superseded:
        raise Conflict(
            "该检定记录已被更正，请为更正后的记录出具 / the record was corrected; issue for the correction",
            field="record_id",
        )
    number = (number or record.document_no).strip()
    if not number or len(number) > 100:
        raise InvalidInput(
            "证书编号须为 1–100 个字符 / the certificate number must have 1–100 characters", field="number"
        )
    number = document_number(number, "number")  # no control characters (CR/LF broke its download)
    if s.scalar(select(Certificate.id).where(Certificate.number == number)):
        raise Conflict(f"证书编号 {number} 已使用 / certificate number already used", field="number")
    old = _to_supersede(s, record, supersedes)
    if old is None and s.scalar(
        select(Certificate.id).where(Certificate.record_id == record.id, Certificate.status == VALID)
    ):
        raise Conflict(
            "该记录已有有效证书；更正请指定 supersedes / the record already has a valid certificate; "
            "name it in supersedes to replace it",
            field="record_id",
        )
    now = platform.now()
    institution = s.get(Organisation, record.institution_id)
    instrument = s.get(Instrument, record.instrument_id)
    assert institution is not None and instrument is not None
    unsigned = dcc.build(dcc_records.certificate_for_record(s, record.id, number, platform.local_date(now)))
    # The signing time is the wall clock's, not the platform clock's: it is a claim about when the key was
    # used, checked against the signing certificate's validity (which the wall clock also dates).
    signing_time = datetime.now(UTC).replace(microsecond=0)
    signed = signing_keys.sign_document(s, platform.settings, institution.id, unsigned, signing_time)
    cert = Certificate(
        number=number,
        source="issued",
        status=VALID,
        record_id=record.id,
        instrument_id=instrument.id,
        institution_id=institution.id,
        issuer_name=institution.name,
        issuer_credit_code=institution.credit_code or "",
        item_summary=f"{instrument.name} {instrument.model} {instrument.serial_number}"[:300],
        schema_version=dcc.WRITTEN_VERSION,
        issued_at=now,
        signing_time=signing_time,
        sha256=hashlib.sha256(signed).hexdigest(),
        document=signed,
        supersedes_id=old.id if old else None,
        status_reason="",
    )
    s.add(cert)
    s.flush()
    _enqueue(s, issued_leaf(cert))
    if old is not None:
        old.status, old.status_changed_at = SUPERSEDED_STATUS, now
        old.status_reason = f"被 {number} 替代 / superseded by {number}"
        leaf = status_leaf(old, cert)
        assert leaf is not None
        _enqueue(s, leaf)
    return cert


def _to_supersede(s: Session, record: VerificationRecord, supersedes: str | None) -> Certificate | None:
    if supersedes:
        old = s.scalar(select(Certificate).where(Certificate.number == supersedes))
        if old is None or old.institution_id != record.institution_id:
            raise InvalidInput(
                f"找不到本机构的证书 {supersedes} / no certificate {supersedes} of this institution",
                field="supersedes",
            )
        if old.record_id not in (record.id, record.supersedes_id):
            raise InvalidInput(
                "被替代的证书必须属于同一记录或被更正的记录 / the superseded certificate must belong to this record "
                "or to the record it corrects",
                field="supersedes",
            )
    elif record.supersedes_id is not None:
        old = s.scalar(
            select(Certificate).where(
                Certificate.record_id == record.supersedes_id, Certificate.status == VALID
            )
        )
        if old is None:
            return None
    else:
        return None
    if old.status != VALID:
        raise Conflict(
            f"证书 {old.number} 已{old.status} / certificate {old.number} is already {old.status}",
            field="supersedes",
        )
    return old


def withdraw(platform: Platform, principal: Principal, number: str, reason: str) -> Certificate:
    reason = (reason or "").strip()
    if not reason or len(reason) > 500:
        raise InvalidInput(
            "撤销须说明原因（1–500 字）/ a withdrawal needs a reason (1–500 characters)", field="reason"
        )
    require_role(principal, Role.INSTITUTION)
    with platform.unit_of_work(principal) as s:
        cert = _by_number(s, number)
        if principal.role is Role.INSTITUTION and cert.institution_id != principal.organisation_id:
            raise not_found("certificate", number)
        if cert.source != "issued":
            raise InvalidInput(
                "外部证书只能由出具机构撤销 / only the issuer can withdraw an imported certificate",
                field="number",
            )
        if cert.status != VALID:
            raise Conflict(f"证书已{cert.status} / the certificate is already {cert.status}", field="number")
        cert.status, cert.status_changed_at, cert.status_reason = WITHDRAWN_STATUS, platform.now(), reason
        leaf = status_leaf(cert)
        assert leaf is not None
        _enqueue(s, leaf)
        return cert


def _by_number(s: Session, number: str) -> Certificate:
    cert = s.scalar(select(Certificate).where(Certificate.number == number))
    if cert is None:
        raise not_found("certificate", number)
    return cert


def _check_size(document: bytes) -> None:
    if len(document) > MAX_DOCUMENT_BYTES:
        raise PayloadTooLarge(
            f"文件超过 {MAX_DOCUMENT_BYTES // 1024 // 1024} MiB / the document exceeds "
            f"{MAX_DOCUMENT_BYTES // 1024 // 1024} MiB",
            field="file",
        )


# ---------------------------------------------------------------------------------------------------
# reading


def visible(principal: Principal, s: Session, cert: Certificate) -> bool:
    """The full document: the issuer, the owner, supervisors over the instrument's region, administrators."""
    if principal.role is Role.ADMINISTRATOR:
        return True
    if principal.role is Role.INSTITUTION:
        return cert.institution_id is not None and cert.institution_id == principal.organisation_id
    if cert.instrument_id is None:
        return False
    inst = s.get(Instrument, cert.instrument_id)
    return inst is not None and principal.sees_instrument(inst.region_code, inst.owner_id)


def get(platform: Platform, principal: Principal, number: str) -> Certificate:
    with platform.reading() as s:
        cert = _by_number(s, number)
        if not visible(principal, s, cert):
            raise not_found("certificate", number)
        return cert


def list_for(
    platform: Platform,
    principal: Principal,
    *,
    record_id: int | None = None,
    instrument_id: int | None = None,
    limit: int = 100,
) -> list[Certificate]:
    """Newest first; the same reach as ``visible``, applied in the query."""
    stmt = select(Certificate).order_by(Certificate.id.desc()).limit(min(limit, 1000))
    if record_id is not None:
        stmt = stmt.where(Certificate.record_id == record_id)
    if instrument_id is not None:
        stmt = stmt.where(Certificate.instrument_id == instrument_id)
    if principal.role is Role.INSTITUTION:
        stmt = stmt.where(Certificate.institution_id == (principal.organisation_id or -1))
    elif principal.role is not Role.ADMINISTRATOR:
        stmt = scope.instruments(stmt.join(Instrument, Instrument.id == Certificate.instrument_id), principal)
    with platform.reading() as s:
        return list(s.scalars(stmt))


@dataclass(frozen=True)
class PublicStatus:
    """What anyone who scans the QR code may learn: who issued what, for which item, and its standing."""

    number: str
    status: str
    status_reason: str
    issuer_name: str
    issuer_credit_code: str
    item_summary: str
    issued_at: datetime
    superseded_by: str | None
    check: CheckReport | None  # the registry's own copy checked against the log
    pending: bool  # issued but not yet sequenced into the log
    # what the document says, read from the registry's copy: verification or calibration, the conclusion,
    # valid until, who signed it off and the measured values (None when the copy cannot be read)
    summary: rendering.Summary | None = None
    performed: date | None = None  # the date of the verification or calibration

    @property
    def kind(self) -> str | None:
        return self.summary.kind if self.summary else None

    @property
    def conclusion(self) -> str | None:
        return self.summary.conclusion if self.summary else None

    @property
    def valid_until(self) -> date | None:
        return self.summary.valid_until if self.summary else None

    @property
    def persons(self) -> tuple[rendering.Signer, ...]:
        return self.summary.persons if self.summary else ()

    @property
    def points(self) -> tuple[rendering.PointRow, ...]:
        return self.summary.points if self.summary else ()


def public_status(platform: Platform, number: str) -> PublicStatus:
    with platform.reading() as s:
        cert = _by_number(s, number)
        successor = s.scalar(select(Certificate.number).where(Certificate.supersedes_id == cert.id))
        check, pending = None, False
        try:
            check = certificate_check.check_certificate(
                cert.document,
                _bundle(s, platform, cert),
                log_key=transparency.log_public_key(s, platform.settings),
                trusted_roots=signing_keys.trusted_roots(s, platform.settings),
            )
        except NotLogged:
            pending = True
        except MissingFromLog as exc:
            check = _unlogged_report(s, platform, cert, cert.document, "missing_from_log", exc.message)
        summary, performed = None, None
        try:
            parsed = dcc.parse(cert.document)
            summary, performed = rendering.summary(parsed), parsed.core.begin_performance
        except InvalidInput:  # an imported document that no longer reads: the page shows the register
            pass
        return PublicStatus(
            number=cert.number,
            status=cert.status,
            status_reason=cert.status_reason,
            issuer_name=cert.issuer_name,
            issuer_credit_code=cert.issuer_credit_code,
            item_summary=cert.item_summary,
            issued_at=cert.issued_at,
            superseded_by=successor,
            check=check,
            pending=pending,
            summary=summary,
            performed=performed,
        )


class NotLogged(Conflict):
    """Pending: the leaf is queued, or sequenced after the latest signed tree head."""

    code = "not_logged"


class MissingFromLog(Conflict):
    """Tampered: the leaf is neither queued nor sequenced, so it should be under a published tree head and
    is not — a leaf was deleted, or the register's row was changed after it was logged."""

    code = "missing_from_log"


def _proven_leaf(s: Session, leaf: dict[str, Any], size: int) -> dict[str, Any]:
    raw = leaf_bytes(leaf["kind"], leaf["body"])
    index = transparency.find_leaf(s, merkle.leaf_hash(raw))
    if index is None and not transparency.is_queued(s, raw):
        raise MissingFromLog(
            "日志中没有该证书事件的条目（既未排队也未排序），它本应在已发布的树头之下：日志或登记库被篡改 / the log holds "
            "no entry for this certificate event (neither queued nor sequenced) although it should be under a "
            "published tree head: the log or the register was tampered with",
            field="number",
        )
    if index is None or index >= size:
        raise NotLogged(
            "证书已登记，尚未记入日志的已签名树头；稍后再试 / registered, not yet under a signed tree head of the "
            "log; try again after the next checkpoint",
            field="number",
        )
    proof = transparency.inclusion_proof(s, index, size)
    return {"leaf": leaf, "index": index, "tree_size": size, "proof": [h.hex() for h in proof]}


def _bundle(s: Session, platform: Platform, cert: Certificate) -> dict[str, Any]:
    if cert.source != "issued":
        raise NotLogged(
            "外部证书不在本平台日志中 / an imported certificate is not in this platform's log", field="number"
        )
    head = transparency.latest_checkpoint(s)
    if head is None:
        raise NotLogged("日志尚未发布树头 / the log has not published a tree head yet", field="number")
    out: dict[str, Any] = {"format": BUNDLE_FORMAT, "number": cert.number, "checkpoint": head.text}
    out.update(_proven_leaf(s, issued_leaf(cert), head.size))
    successor = (
        s.scalar(select(Certificate).where(Certificate.supersedes_id == cert.id))
        if cert.status == SUPERSEDED_STATUS
        else None
    )
    leaf = status_leaf(cert, successor)
    if leaf is not None:
        try:
            out["status"] = _proven_leaf(s, leaf, head.size)
        except (NotLogged, MissingFromLog):  # the checker then says the status's log proof does not verify
            out["status"] = {"leaf": leaf, "index": -1, "tree_size": head.size, "proof": []}
    return out


def bundle(platform: Platform, number: str) -> dict[str, Any]:
    """The proof bundle of a certificate: public, it holds hashes and the signed tree head, no content."""
    with platform.reading() as s:
        return _bundle(s, platform, _by_number(s, number))


# ---------------------------------------------------------------------------------------------------
# verification of an uploaded document and import of others' DCCs


@dataclass(frozen=True)
class UploadCheck:
    number: str | None
    registered: Certificate | None
    report: CheckReport
    problem: str | None  # why no full check could be made (unreadable, unknown number, not yet logged)
    summary: rendering.Summary | None = None  # what the uploaded document says (when it reads)
    performed: date | None = None


def _schema_and_signature(
    report: CheckReport,
    s: Session,
    platform: Platform,
    document: bytes,
    version: str,
    intermediates: Sequence[x509.Certificate] = (),
) -> None:
    """The checks that need no log: when there is no bundle to give the full checker."""
    report.add("schema", True, "ok", f"符合 DCC {version} 模式 / valid against the DCC {version} schema")
    sig = signing_keys.verify_document(s, platform.settings, document, intermediates)
    certificate_check.note_signature(report, sig)


def verify_upload(
    platform: Platform, document: bytes, intermediates: Sequence[x509.Certificate] = ()
) -> UploadCheck:
    """The public check of an uploaded file: the same steps as the offline verifier, bundle from the registry."""
    _check_size(document)
    report = CheckReport()
    try:
        version = dcc.validate(document)
    except InvalidInput as exc:
        report.add("schema", False, "schema_invalid", exc.message)
        return UploadCheck(None, None, report, exc.message)
    number = dcc.unique_identifier(document)
    report.number = number
    summary, performed = None, None
    try:
        parsed = dcc.parse(document)
        summary, performed = rendering.summary(parsed), parsed.core.begin_performance
    except InvalidInput:
        pass
    with platform.reading() as s:
        cert = s.scalar(select(Certificate).where(Certificate.number == number))
        if cert is None or cert.source != "issued":
            _schema_and_signature(report, s, platform, document, version, intermediates)
            msg = (
                f"证书 {number} 为外部出具，已登记但不在本平台日志中 / certificate {number} was issued elsewhere: "
                "registered here, not in this platform's log"
                if cert is not None
                else f"本平台未登记证书 {number} / certificate {number} is not registered on this platform"
            )
            report.add("registry", False, "not_registered", msg)
            return UploadCheck(number, None, report, msg, summary, performed)
        try:
            full = certificate_check.check_certificate(
                document,
                _bundle(s, platform, cert),
                log_key=transparency.log_public_key(s, platform.settings),
                trusted_roots=signing_keys.trusted_roots(s, platform.settings),
                intermediates=[*signing_keys.trusted_intermediates(platform.settings), *intermediates],
            )
        except (NotLogged, MissingFromLog) as exc:
            code = "pending" if isinstance(exc, NotLogged) else "missing_from_log"
            report = _unlogged_report(s, platform, cert, document, code, exc.message, version)
            return UploadCheck(number, cert, report, exc.message, summary, performed)
        return UploadCheck(number, cert, full, None, summary, performed)


def _unlogged_report(
    s: Session,
    platform: Platform,
    cert: Certificate,
    document: bytes,
    code: str,
    message: str,
    version: str | None = None,
) -> CheckReport:
    """The checks that need no log proof, then the inclusion step failed as ``pending`` (sequenced after
    the latest tree head, or queued) or ``missing_from_log`` (tampered: it should be there and is not)."""
    report = CheckReport(number=cert.number)
    _schema_and_signature(report, s, platform, document, version or dcc.validate(document))
    same = hashlib.sha256(document).hexdigest() == cert.sha256
    report.add(
        "digest",
        same,
        "ok" if same else "document_altered",
        "与登记的证书一致 / identical to the registered certificate"
        if same
        else "与登记的证书不一致 / differs from the registered certificate",
    )
    report.add("inclusion", False, code, message)
    return report


def import_dcc(
    platform: Platform,
    principal: Principal,
    document: bytes,
    intermediates: Sequence[x509.Certificate] = (),
) -> Certificate:
    """Register a DCC issued elsewhere: validated, its signature checked, stored as received.

    A signed DCC whose signature does not verify (content changed after signing, a forged or untrusted
    signer, …) is refused with the reason: registering it would lend it this register's standing. An
    unsigned DCC is registered, with "unsigned" in its reason, as before.
    """
    require_role(principal, Role.INSTITUTION)
    _check_size(document)
    version = dcc.validate(document)
    parsed = dcc.parse(document)
    number = parsed.core.unique_identifier
    with platform.unit_of_work(principal) as s:
        digest = hashlib.sha256(document).hexdigest()
        if s.scalar(
            select(Certificate.id).where((Certificate.number == number) | (Certificate.sha256 == digest))
        ):
            raise Conflict(f"证书 {number} 已登记 / certificate already registered", field="file")
        sig = signing_keys.verify_document(s, platform.settings, document, intermediates)
        if not sig.valid and sig.reason != "no_signature":
            raise InvalidInput(
                f"签名未通过核验，拒绝登记 / the signature does not verify, not registered ({sig.reason}): "
                f"{sig.message}",
                field="signature",
            )
        cert = Certificate(
            number=number[:100],
            source="imported",
            status=VALID,
            institution_id=None,
            issuer_name=rendering.text(parsed.laboratory.contact.name)[:200],
            issuer_credit_code=(parsed.identification("jiliang_creditCode") or "")[:18],
            item_summary=_item_summary(parsed)[:300],
            schema_version=version,
            issued_at=platform.now(),
            signing_time=sig.signing_time,
            sha256=digest,
            document=document,
            status_reason="" if sig.valid else f"签名：{sig.message}",
        )
        s.add(cert)
        s.flush()
        return cert


def _item_summary(parsed: DccCertificate) -> str:
    parts = []
    for item in parsed.items:
        ids = " ".join(i.value for i in item.identifications[:2])
        parts.append(" ".join(p for p in (rendering.text(item.name), item.model or "", ids) if p))
    return "; ".join(parts)


def render(platform: Platform, principal: Principal, number: str, fmt: str) -> bytes:
    with platform.reading() as s:
        cert = _by_number(s, number)
        if not visible(principal, s, cert):
            raise not_found("certificate", number)
        parsed = dcc.parse(cert.document)
        sig = signing_keys.verify_document(s, platform.settings, cert.document)
        kwargs: dict[str, Any] = {
            "verify_url": verify_url(platform, cert.number),
            "status": cert.status,
            "signature_summary": sig.message,
        }
    if fmt == "pdf":
        return rendering.render_pdf(parsed, **kwargs)
    return rendering.render_html(parsed, **kwargs).encode()


def issue_many(platform: Platform, principal: Principal, record_ids: Sequence[int]) -> int:
    """Issue for many records in one transaction (the benchmark); each must have its signed-off data."""
    with platform.unit_of_work(principal) as s:
        for rid in record_ids:
            issue_in(s, platform, principal, rid)
    return len(record_ids)
