"""Recording verification results (检定记录) and keeping each instrument's state in step with them."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jiliang.domain.access import Principal, Role
from jiliang.domain.catalogue import CatalogueItem, due_date
from jiliang.domain.instruments import (
    InstrumentStatus,
    document_number,
    not_in_future,
    optional_text,
    parse_date,
)
from jiliang.domain.standards import approval_valid
from jiliang.domain.verification import (
    Conclusion,
    effective_chain,
    parse_conclusion,
    status_after,
    valid_until,
)
from jiliang.errors import Conflict, InvalidInput, NotAuthorised
from jiliang.services import catalogue as catalogue_service
from jiliang.services import scope, transparency
from jiliang.services.common import Page, not_found, one_visible, paginate, require_role
from jiliang.services.platform import Platform
from jiliang.services.standards import is_authorised
from jiliang.store.models import Instrument, MeasurementStandard, StandardItem, VerificationRecord


def record_verification(platform: Platform, principal: Principal, raw: dict[str, Any]) -> VerificationRecord:
    """Add a result; with ``supersedes_id`` it is a correction that replaces an earlier record."""
    require_role(principal, Role.INSTITUTION)
    today = platform.today()
    verified_on = not_in_future(parse_date(raw.get("verified_on"), "verified_on"), today, "verified_on")
    conclusion = parse_conclusion(raw.get("conclusion"))
    document_no = document_number(raw.get("document_no"), "document_no")
    institution_id = _institution(principal, raw.get("institution_id"))
    items = catalogue_service.catalogue(platform)
    version = catalogue_service.active_version(platform)
    with platform.unit_of_work(principal) as s:
        return record_in(
            s, platform, principal, raw, verified_on, conclusion, document_no, institution_id, items, version
        )


def record_in(
    s: Session,
    platform: Platform,
    principal: Principal,
    raw: dict[str, Any],
    verified_on: date,
    conclusion: Conclusion,
    document_no: str,
    institution_id: int,
    items: dict[str, CatalogueItem],
    version: str,
) -> VerificationRecord:
    """The record written in the caller's transaction (``record_verification``, or the approval of a
    measured verification in ``services.measured_verifications``)."""
    inst = s.get(Instrument, _int(raw.get("instrument_id"), "instrument_id"))
    if inst is None:
        raise not_found("instrument", raw.get("instrument_id"))
    item = items[inst.item_code]
    if not is_authorised(s, institution_id, inst.item_code, inst.region_code, verified_on):
        if principal.role is Role.INSTITUTION and not principal.sees_region(inst.region_code):
            raise not_found("instrument", inst.id)
        raise NotAuthorised(
            f"机构未获 {inst.item_code}（{item.level2_zh}）在 {inst.region_code} 的授权 / the institution is not "
            "authorised for this item in this region on that date",
            field="institution_id",
        )
    if inst.status == InstrumentStatus.SCRAPPED.value:
        raise Conflict("器具已报废 / the instrument is scrapped", field="instrument_id")
    standard_id = _standard(s, raw.get("standard_id"), institution_id, inst.item_code, verified_on)
    rule = item.rule_for(inst.nominal_size)
    if rule.form is None:
        raise InvalidInput(
            f"{item.level2_zh} 仅实施型式批准，不实施强制检定 / {item.level2_en} is under pattern "
            "approval only",
            field="instrument_id",
        )
    if s.scalar(
        select(VerificationRecord.id).where(
            VerificationRecord.institution_id == institution_id,
            VerificationRecord.document_no == document_no,
        )
    ):
        raise Conflict(f"证书编号 {document_no} 已使用 / document number already used", field="document_no")
    supersedes = _superseded(s, raw.get("supersedes_id"), inst.id, institution_id, principal)
    record = VerificationRecord(
        instrument_id=inst.id,
        institution_id=institution_id,
        standard_id=standard_id,
        verified_on=verified_on,
        conclusion=conclusion.value,
        document_no=document_no,
        due_on=due_date(rule, verified_on, inst.first_used_on) if conclusion is Conclusion.PASS else None,
        catalogue_version=version,
        rule_form=rule.form.value,
        regulation=rule.regulation,
        supersedes_id=supersedes.id if supersedes else None,
        superseded=False,
        remarks=optional_text(raw.get("remarks"), "remarks", 2000),
        recorded_at=platform.now(),
    )
    s.add(record)
    if supersedes is not None:
        supersedes.superseded = True
    s.flush()
    refresh_instrument(s, inst)
    # The log's leaf is written in this transaction: the record and its leaf commit together.
    transparency.enqueue(s, "verification_recorded", leaf_body(record))
    return record


def leaf_body(record: VerificationRecord) -> dict[str, Any]:
    """What the transparency log records of a verification record (docs/transparency.md)."""
    return transparency.verification_body(
        record_id=record.id,
        instrument_id=record.instrument_id,
        institution_id=record.institution_id,
        standard_id=record.standard_id,
        verified_on=record.verified_on,
        conclusion=record.conclusion,
        document_no=record.document_no,
        due_on=record.due_on,
        supersedes_id=record.supersedes_id,
        recorded_at=record.recorded_at,
    )


def _int(value: object, field: str) -> int:
    try:
        return int(value)  # type: ignore[call-overload,no-any-return]
    except (TypeError, ValueError):
        raise InvalidInput(f"{field} 必须是整数编号 / {field} must be an integer id", field=field) from None


def _institution(principal: Principal, value: object) -> int:
    if principal.role is Role.INSTITUTION:
        if value not in (None, "", principal.organisation_id) or principal.organisation_id is None:
            raise NotAuthorised(
                "只能以本机构名义记录检定 / record only as your own institution", field="institution_id"
            )
        return principal.organisation_id
    return _int(value, "institution_id")


def _standard(s: Session, value: object, institution_id: int, item_code: str, on: date) -> int | None:
    if value in (None, ""):
        return None
    sid = _int(value, "standard_id")
    std = s.get(MeasurementStandard, sid)
    if std is None or std.holder_id != institution_id:
        raise InvalidInput(
            f"计量标准 {sid} 不属于本机构 / standard {sid} is not held by the institution",
            field="standard_id",
        )
    if not std.active or not approval_valid(std.certificate_valid_from, std.certificate_valid_until, on):
        raise InvalidInput(
            f"计量标准考核证书 {std.certificate_no} 在 {on} 不在有效期内 / the standard's approval "
            "certificate was not in force on that date",
            field="standard_id",
        )
    if s.get(StandardItem, (sid, item_code)) is None:
        raise InvalidInput(
            f"计量标准 {sid} 不能检定目录项 {item_code} / the standard does not cover this item",
            field="standard_id",
        )
    return sid


def _superseded(
    s: Session, value: object, instrument_id: int, institution_id: int, principal: Principal
) -> VerificationRecord | None:
    if value in (None, ""):
        return None
    old = s.get(VerificationRecord, _int(value, "supersedes_id"))
    if old is None or old.instrument_id != instrument_id:
        raise InvalidInput(
            "被更正的记录不属于该器具 / supersedes_id is not a record of this instrument",
            field="supersedes_id",
        )
    if old.institution_id != institution_id and principal.role is not Role.ADMINISTRATOR:
        raise NotAuthorised(
            "只能更正本机构的记录 / correct only your own institution's records", field="supersedes_id"
        )
    if old.superseded:
        raise Conflict("该记录已被更正过 / that record is already superseded", field="supersedes_id")
    return old


def refresh_instrument(s: Session, inst: Instrument) -> None:
    """Re-derive the effective chain of records and the instrument's denormalised state from them."""
    records = list(
        s.scalars(
            select(VerificationRecord)
            .where(VerificationRecord.instrument_id == inst.id, VerificationRecord.superseded.is_(False))
            .order_by(VerificationRecord.verified_on, VerificationRecord.id)
        )
    )
    for record, until in zip(records, effective_chain([r.verified_on for r in records]), strict=True):
        if record.effective_until != until:
            record.effective_until = until
    if not records:
        inst.last_verified_on = inst.last_conclusion = inst.due_on = inst.valid_until = None
        return
    last = records[-1]
    conclusion = Conclusion(last.conclusion)
    inst.last_verified_on, inst.last_conclusion, inst.due_on = last.verified_on, last.conclusion, last.due_on
    inst.valid_until = valid_until(conclusion, last.due_on)
    new_status = status_after(conclusion, InstrumentStatus(inst.status)).value
    if new_status != inst.status:
        inst.status, inst.status_since = new_status, last.verified_on
    inst.row_version += 1


def list_records(
    platform: Platform,
    principal: Principal,
    *,
    instrument_id: int | None = None,
    institution_id: int | None = None,
    include_superseded: bool = False,
    offset: int = 0,
    limit: int = 50,
) -> Page[VerificationRecord]:
    stmt = scope.verification_records(select(VerificationRecord), principal).order_by(VerificationRecord.id)
    if instrument_id is not None:
        stmt = stmt.where(VerificationRecord.instrument_id == instrument_id)
    if institution_id is not None:
        stmt = stmt.where(VerificationRecord.institution_id == institution_id)
    if not include_superseded:
        stmt = stmt.where(VerificationRecord.superseded.is_(False))
    with platform.reading() as s:
        return paginate(s, stmt, offset, limit, platform.settings.page_size_max)


def get_record(platform: Platform, principal: Principal, record_id: int) -> VerificationRecord:
    with platform.reading() as s:
        stmt = scope.verification_records(
            select(VerificationRecord).where(VerificationRecord.id == record_id), principal
        )
        return one_visible(s, stmt, "verification record", record_id)  # type: ignore[no-any-return]
