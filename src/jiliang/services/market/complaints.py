"""Complaints (举报): anonymous or named, the reporter protected.

- The reporter's identity (name, phone, ID number, as given) is stored only as AES-256-GCM ciphertext under
  a key derived from ``settings.complaint_key`` (SHA-256 of it), bound to the complaint's receipt hash as
  associated data, so a ciphertext moved to another row does not decrypt.
- Only the designated role ``complaint_officer`` (举报受理专员) reads it, inside its jurisdiction, and every
  read writes an audit entry (action ``read_identity``) in the same transaction as the read.
- The reporter gets a receipt code once (16 characters from an unambiguous alphabet); the platform keeps
  only its SHA-256 and answers the status to whoever holds the code.
- Confirmed complaints against a registered organisation become credit events; a case may be opened from
  a complaint (services/market/cases.py); rewards are recorded as text.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import math
import os
import secrets
from datetime import UTC, timedelta
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from jiliang.domain.access import Principal, Role
from jiliang.domain.instruments import required_text
from jiliang.domain.regions import in_jurisdiction, validate_region_code
from jiliang.errors import Conflict, InvalidInput, JiliangError, NotAuthorised, TooManyAttempts
from jiliang.legal import cases as rules
from jiliang.legal import credit as credit_rules
from jiliang.services.common import not_found
from jiliang.services.market import credit
from jiliang.services.market.common import (
    now,
    require_complaint_handler,
    require_region,
    visible_organisation,
)
from jiliang.services.platform import Platform
from jiliang.settings import Settings
from jiliang.store import audit
from jiliang.store.models import AuditEntry, Complaint, Organisation, Region, SignInThrottle

log = logging.getLogger(__name__)
DEV_KEY = "development-only-complaint-key"
_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I
_warned = False


class ComplaintsNotConfigured(JiliangError):
    code = "not_configured"


def _key(settings: Settings) -> bytes:
    global _warned
    value = settings.complaint_key.get_secret_value() if settings.complaint_key is not None else ""
    if not value:
        if settings.environment == "production":
            raise ComplaintsNotConfigured(
                "生产环境必须设置 JILIANG_COMPLAINT_KEY / JILIANG_COMPLAINT_KEY must be set in production",
                field="complaint_key",
            )
        if not _warned:
            log.warning("JILIANG_COMPLAINT_KEY unset: reporters' identities use the fixed development key")
            _warned = True
        value = DEV_KEY
    return hashlib.sha256(b"jiliang-complaints-v1:" + value.encode()).digest()


def _receipt_hash(code: str) -> str:
    return hashlib.sha256(code.strip().upper().encode()).hexdigest()


def _encrypt(settings: Settings, identity: dict[str, str], aad: str) -> str:
    nonce = os.urandom(12)
    ct = AESGCM(_key(settings)).encrypt(
        nonce, json.dumps(identity, ensure_ascii=False).encode(), aad.encode()
    )
    return base64.b64encode(nonce + ct).decode()


def _decrypt(settings: Settings, blob: str, aad: str) -> dict[str, str]:
    raw = base64.b64decode(blob)
    try:
        plain = AESGCM(_key(settings)).decrypt(raw[:12], raw[12:], aad.encode())
    except InvalidTag:
        raise ComplaintsNotConfigured(
            "举报人信息无法解密（密钥已更换？）/ the reporter's identity does not decrypt (key changed?)",
            field="complaint_key",
        ) from None
    out: dict[str, str] = json.loads(plain)
    return out


def submit(platform: Platform, data: dict[str, Any]) -> dict[str, Any]:
    """A complaint from the public portal: ``region_code``, ``subject_name``, optional ``organisation_id``,
    ``content``, and ``reporter`` {name, phone, id_number} unless anonymous. Returns the receipt code, once."""
    region = validate_region_code(str(data.get("region_code", "")), "region_code")
    content = required_text(str(data.get("content", "")), "content", 5000)
    subject = required_text(str(data.get("subject_name", "")), "subject_name", 200)
    reporter = data.get("reporter")
    anonymous = reporter is None
    identity: dict[str, str] | None = None
    if reporter is not None:
        if not isinstance(reporter, dict) or not str(reporter.get("name", "")).strip():
            raise InvalidInput(
                "实名举报须给出姓名 / a named complaint needs the reporter's name", field="reporter.name"
            )
        identity = {k: str(reporter.get(k, ""))[:100] for k in ("name", "phone", "id_number", "address")}
        if not identity["phone"].strip():
            raise InvalidInput(
                "实名举报须给出联系电话 / a named complaint needs a phone number", field="reporter.phone"
            )
    code = "".join(secrets.choice(_ALPHABET) for _ in range(16))
    digest = _receipt_hash(code)
    at = now(platform)
    with platform.unit_of_work() as s:
        if s.get(Region, region) is None:
            raise InvalidInput(f"区划 {region} 不存在 / region {region} not found", field="region_code")
        org_id = data.get("organisation_id")
        if org_id is not None:
            org = s.get(Organisation, org_id)
            if org is None or not in_jurisdiction(org.region_code, region):
                raise InvalidInput(
                    "被举报单位不存在或不在该区划 / the organisation is unknown or outside the region",
                    field="organisation_id",
                )
        row = Complaint(
            receipt_sha256=digest,
            region_code=region,
            organisation_id=org_id,
            subject_name=subject,
            content=content,
            anonymous=anonymous,
            reporter_ciphertext=_encrypt(platform.settings, identity, digest) if identity else None,
            status=rules.ComplaintStatus.RECEIVED.value,
            received_at=at,
            updated_at=at,
        )
        s.add(row)
        s.flush()
        return {"id": row.id, "receipt_code": code, "status": row.status, "anonymous": anonymous}


def status(platform: Platform, receipt_code: str) -> dict[str, Any]:
    """What the holder of the receipt code sees: status, dates, the public part of the outcome."""
    with platform.reading() as s:
        row = s.scalars(
            select(Complaint).where(Complaint.receipt_sha256 == _receipt_hash(receipt_code))
        ).first()
        if row is None:
            raise not_found("举报 complaint", "(receipt)")
        return {
            "status": row.status,
            "received_at": row.received_at.isoformat(),
            "updated_at": row.updated_at.isoformat(),
            "resolution": row.resolution,
            "reward": row.reward,
            "case_opened": row.case_id is not None,
        }


def complaint_dict(row: Complaint) -> dict[str, Any]:
    return {
        "id": row.id,
        "region_code": row.region_code,
        "organisation_id": row.organisation_id,
        "subject_name": row.subject_name,
        "content": row.content,
        "anonymous": row.anonymous,
        "status": row.status,
        "resolution": row.resolution,
        "reward": row.reward,
        "case_id": row.case_id,
        "received_at": row.received_at.isoformat(),
    }


def _complaint(s: Session, principal: Principal, complaint_id: int) -> Complaint:
    row = s.get(Complaint, complaint_id)
    if row is None:
        raise not_found("举报 complaint", complaint_id)
    require_region(principal, row.region_code, "举报 complaint", complaint_id)
    return row


def list_complaints(platform: Platform, principal: Principal) -> list[dict[str, Any]]:
    require_complaint_handler(principal)
    with platform.reading() as s:
        stmt = select(Complaint).order_by(Complaint.id.desc())
        if principal.prefix:
            stmt = stmt.where(Complaint.region_code.like(principal.prefix + "%"))
        return [complaint_dict(r) for r in s.scalars(stmt)]


def get_complaint(platform: Platform, principal: Principal, complaint_id: int) -> dict[str, Any]:
    """One complaint in the caller's jurisdiction, without the reporter's identity (``reveal_reporter``)."""
    require_complaint_handler(principal)
    with platform.reading() as s:
        return complaint_dict(_complaint(s, principal, complaint_id))


def reveal_reporter(
    platform: Platform, principal: Principal, complaint_id: int, reason: str
) -> dict[str, Any]:
    """The reporter's identity, for the designated role only; the read is audited with its reason."""
    if principal.role is not Role.COMPLAINT_OFFICER:
        raise NotAuthorised(
            "只有举报受理专员可以查看举报人信息 / only the complaint officer may see a reporter's identity",
            field="role",
        )
    why = required_text(reason, "reason", 300)
    with platform.unit_of_work(principal) as s:
        row = _complaint(s, principal, complaint_id)
        if row.reporter_ciphertext is None:
            identity: dict[str, str] | None = None
        else:
            identity = _decrypt(platform.settings, row.reporter_ciphertext, row.receipt_sha256)
        s.execute(
            insert(AuditEntry),
            [
                audit.entry(
                    "read_identity",
                    "Complaint",
                    str(row.id),
                    summary=f"举报人信息查看 / reporter identity read: {why}",
                )
            ],
        )
        return {"complaint_id": row.id, "anonymous": row.anonymous, "reporter": identity}


def update(
    platform: Platform, principal: Principal, complaint_id: int, data: dict[str, Any]
) -> dict[str, Any]:
    """Move a complaint (received → investigating → confirmed/unfounded → closed), with the resolution
    the reporter will see and a reward note. A confirmed complaint about a registered organisation is a
    credit event. Supervisors and the complaint officer handle complaints. ``organisation_id`` links a
    complaint that named no registered organisation (the public form names a business in words) to the
    registry, once, inside the complaint's region."""
    require_complaint_handler(principal)
    with platform.unit_of_work(principal) as s:
        row = _complaint(s, principal, complaint_id)
        link = data.get("organisation_id")
        if link is not None:
            if row.organisation_id is not None and row.organisation_id != link:
                raise Conflict(
                    "该举报已关联被举报单位 / the complaint is already linked to an organisation",
                    field="organisation_id",
                )
            org = visible_organisation(s, principal, int(link))
            if not in_jurisdiction(org.region_code, row.region_code):
                raise InvalidInput(
                    "被举报单位不在举报的区划内 / the organisation is outside the complaint's region",
                    field="organisation_id",
                )
            row.organisation_id = org.id
        if "status" in data:
            try:
                wanted = rules.ComplaintStatus(data["status"])
            except ValueError:
                raise InvalidInput(f"未知的状态 {data['status']} / unknown status", field="status") from None
            row.status = rules.move_complaint(rules.ComplaintStatus(row.status), wanted).value
            if wanted is rules.ComplaintStatus.CONFIRMED and row.organisation_id is not None:
                visible_organisation(s, principal, row.organisation_id)
                credit.add_event_in(
                    s,
                    platform,
                    row.organisation_id,
                    credit_rules.EventKind.COMPLAINT_CONFIRMED,
                    platform.local_today(),
                    source_type="complaint",
                    source_id=str(row.id),
                )
        if "resolution" in data:
            row.resolution = str(data["resolution"])[:2000]
        if "reward" in data:
            row.reward = str(data["reward"])[:200]
        row.updated_at = now(platform)
        s.flush()
        return complaint_dict(row)


# --- the public form's rate limit ---------------------------------------------------------------------

RATE_WINDOW = timedelta(hours=1)


def _rate_key(platform: Platform, address: str) -> str:
    # An HMAC of the address under the platform secret: the table never holds a reporter's address.
    mac = hmac.new(platform.settings.secret_key.encode(), b"complaint\0" + address.encode(), hashlib.sha256)
    return "complaint:" + mac.hexdigest()[:48]


def admit_submission(platform: Platform, address: str) -> None:
    """Count one complaint from ``address`` (the public form's client) and refuse it (429) beyond
    ``settings.complaint_rate_per_hour`` within an hour. Kept in the sign-in throttle table, so every
    worker of the platform shares the count."""
    limit = platform.settings.complaint_rate_per_hour
    key = _rate_key(platform, address)
    at = now(platform)
    for attempt in (1, 2):
        try:
            with platform.unit_of_work() as s:
                row = s.get(SignInThrottle, key, with_for_update=True)
                if row is None:
                    s.add(SignInThrottle(key=key, failures=1, first_failure_at=at, last_failure_at=at))
                    return
                first = (
                    row.first_failure_at
                    if row.first_failure_at.tzinfo
                    else row.first_failure_at.replace(tzinfo=UTC)
                )
                if at - first >= RATE_WINDOW:
                    row.failures, row.first_failure_at, row.locked_until = 1, at, None
                elif row.failures >= limit:
                    wait = max(1, math.ceil((first + RATE_WINDOW - at).total_seconds()))
                    minutes = math.ceil(wait / 60)
                    raise TooManyAttempts(
                        f"提交过于频繁，请 {minutes} 分钟后再试 / too many complaints from this address; "
                        f"try again in {minutes} minutes",
                        retry_after_s=wait,
                        field="content",
                    )
                else:
                    row.failures += 1
                row.last_failure_at = at
                return
        except IntegrityError:
            # Two first submissions from one address at once: the other inserted the row; count again.
            if attempt == 2:
                raise
