"""One object's history from the audit trail, as a person reads it: who changed what, when, with names.

``services.audit_log`` serves the raw trail to administrators only, because an entry alone does not say
whose jurisdiction it belongs to. Here the object is found first through the ordinary scoped reads
(outside the caller's reach it is not found), and only then are its entries read, so a supervisor sees
the history of what they may see and nothing else. An instrument's history includes the entries of its
verification records, certificates and follow-ups, since those are what happened to it.

Values are turned into what they mean: ``owner_id`` 17 becomes the owner's name, ``use``
``trade_settlement`` becomes 贸易结算, instants are shown in Asia/Shanghai; ids and row versions are left
out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from jiliang.domain.access import Principal
from jiliang.services import catalogue as catalogue_service
from jiliang.services import certificates as certificates_service
from jiliang.services import instruments as instruments_service
from jiliang.services import organisations as organisations_service
from jiliang.services import standards as standards_service
from jiliang.services import verifications as verifications_service
from jiliang.services.common import Page
from jiliang.services.platform import Platform
from jiliang.services.supervision import labels
from jiliang.services.supervision.search import _bounded
from jiliang.store.models import (
    AuditEntry,
    Certificate,
    FollowUp,
    Instrument,
    MeasurementStandard,
    Organisation,
    Region,
    User,
    VerificationRecord,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
KINDS = ("instrument", "organisation", "standard", "record", "certificate", "follow_up")

_ORG_FIELDS = {"owner_id", "institution_id", "holder_id"}
_ENUMS: dict[str, dict[str, labels.Label]] = {
    "use": labels.USE,
    "conclusion": labels.CONCLUSION,
    "last_conclusion": labels.CONCLUSION,
}
_STATUS_BY_TABLE = {"instruments": labels.INSTRUMENT_STATUS, "certificates": labels.CERTIFICATE_STATUS}
_KIND_BY_TABLE = {"organisations": labels.ORGANISATION_KIND, "measurement_standards": labels.STANDARD_KIND}


@dataclass(frozen=True)
class Change:
    field: str  # the field's label
    before: str
    after: str


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    at_local: str  # Asia/Shanghai, YYYY-MM-DD HH:MM:SS
    actor: str  # display name (and user name) of who did it; 系统 for the system
    action: str  # created / changed / deleted, in the language asked for
    subject: str  # what it was done to: "检定记录 JD-2026-0001"
    changes: list[Change]


def _subjects(s: Session, kind: str, object_id: int) -> list[tuple[str, str]]:
    """The (table, id) pairs whose entries make up the object's history."""
    if kind == "instrument":
        pairs = [("instruments", str(object_id))]
        pairs += [
            ("verification_records", str(i))
            for i in s.scalars(
                select(VerificationRecord.id).where(VerificationRecord.instrument_id == object_id)
            )
        ]
        pairs += [
            ("certificates", str(i))
            for i in s.scalars(select(Certificate.id).where(Certificate.instrument_id == object_id))
        ]
        pairs += [
            ("follow_ups", str(i))
            for i in s.scalars(select(FollowUp.id).where(FollowUp.instrument_id == object_id))
        ]
        return pairs
    table = {
        "organisation": "organisations",
        "standard": "measurement_standards",
        "record": "verification_records",
        "certificate": "certificates",
        "follow_up": "follow_ups",
    }[kind]
    return [(table, str(object_id))]


def _check_visible(platform: Platform, principal: Principal, kind: str, object_id: int) -> None:
    if kind == "instrument":
        instruments_service.get_instrument(platform, principal, object_id)
    elif kind == "organisation":
        organisations_service.get_organisation(platform, principal, object_id)
    elif kind == "standard":
        standards_service.get_standard(platform, principal, object_id)
    elif kind == "record":
        verifications_service.get_record(platform, principal, object_id)
    elif kind == "follow_up":
        from jiliang.services.supervision import followup

        followup.get(platform, principal, object_id)
    else:
        with platform.reading() as s:
            cert = s.get(Certificate, object_id)
            number = "" if cert is None else cert.number
        certificates_service.get(platform, principal, number or f"#{object_id}")


class _Names:
    """Looks up the names behind the ids that appear in a page of entries, a few queries in all."""

    def __init__(self, platform: Platform, s: Session, entries: list[AuditEntry]) -> None:
        want: dict[str, set[Any]] = {}
        for e in entries:
            for values in (e.before or {}, e.after or {}):
                for key, value in values.items():
                    if value is not None:
                        want.setdefault(key, set()).add(value)
        orgs = {int(v) for k in _ORG_FIELDS for v in want.get(k, ())}
        self.orgs = _pairs(
            s.execute(select(Organisation.id, Organisation.name).where(Organisation.id.in_(orgs)))
        )
        self.regions = _pairs(
            s.execute(
                select(Region.code, Region.name_zh).where(Region.code.in_(want.get("region_code", set())))
            )
        )
        stds = {int(v) for k in ("standard_id", "reference_standard_id") for v in want.get(k, ())}
        self.standards = _pairs(
            s.execute(
                select(MeasurementStandard.id, MeasurementStandard.name).where(
                    MeasurementStandard.id.in_(stds)
                )
            )
        )
        insts = {int(v) for v in want.get("instrument_id", ())}
        self.instruments = {
            i: f"{n} {sn}"
            for i, n, sn in s.execute(
                select(Instrument.id, Instrument.name, Instrument.serial_number).where(
                    Instrument.id.in_(insts)
                )
            )
        }
        records = {int(v) for v in want.get("supersedes_id", ())}
        self.records = _pairs(
            s.execute(
                select(VerificationRecord.id, VerificationRecord.document_no).where(
                    VerificationRecord.id.in_(records)
                )
            )
        )
        actors = {e.actor_id for e in entries if e.actor_id is not None}
        self.users = _pairs(s.execute(select(User.id, User.display_name).where(User.id.in_(actors))))
        self.items = catalogue_service.catalogue(platform)


def _value(names: _Names, table: str, key: str, value: Any, lang: str) -> str:
    if value is None or value == "":
        return "—"
    if key in _ORG_FIELDS:
        return str(names.orgs.get(int(value), value))
    if key == "region_code":
        return str(names.regions.get(value, value))
    if key in ("standard_id", "reference_standard_id"):
        return str(names.standards.get(int(value), value))
    if key == "instrument_id":
        return names.instruments.get(int(value), str(value))
    if key == "supersedes_id":
        return str(names.records.get(int(value), value))
    if key == "item_code":
        item = names.items.get(str(value))
        return str(value) if item is None else (item.level2_zh if lang == "zh" else item.level2_en)
    if key in _ENUMS:
        return labels.label(_ENUMS[key], value, lang)
    if key == "status" and table in _STATUS_BY_TABLE:
        return labels.label(_STATUS_BY_TABLE[table], value, lang)
    if key == "kind" and table in _KIND_BY_TABLE:
        return labels.label(_KIND_BY_TABLE[table], value, lang)
    if isinstance(value, bool):
        return labels.yes_no(value, lang)
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, str) and len(value) > 10 and value[4:5] == "-" and "T" in value:
        try:
            return _local(datetime.fromisoformat(value))
        except ValueError:
            return value
    return str(value)


def _local(at: datetime) -> str:
    aware = at if at.tzinfo else at.replace(tzinfo=UTC)
    return aware.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")


def _subject(entry: AuditEntry, lang: str) -> str:
    kind = labels.label(labels.OBJECT, entry.object_type, lang)
    return f"{kind} {entry.summary}".strip()


def _entry(names: _Names, e: AuditEntry, lang: str) -> HistoryEntry:
    changes = []
    before, after = e.before or {}, e.after or {}
    for key in list(after) + [k for k in before if k not in after]:
        pair = labels.FIELD.get(key)
        if pair is None:
            continue  # ids, row versions and bookkeeping are not history a person reads
        old, new = before.get(key), after.get(key)
        if e.action == "create" and new in (None, ""):
            continue
        changes.append(
            Change(
                field=pair[0] if lang == "zh" else pair[1],
                before="" if e.action == "create" else _value(names, e.object_type, key, old, lang),
                after="" if e.action == "delete" else _value(names, e.object_type, key, new, lang),
            )
        )
    display = names.users.get(e.actor_id) if e.actor_id is not None else None
    if e.actor_id is None and e.actor_name == "system":
        actor = "系统" if lang == "zh" else "system"
    else:
        actor = f"{display}（{e.actor_name}）" if display and display != e.actor_name else e.actor_name
    return HistoryEntry(
        at=e.at,
        at_local=_local(e.at),
        actor=actor,
        action=labels.label(labels.ACTION, e.action, lang),
        subject=_subject(e, lang),
        changes=changes,
    )


def object_history(
    platform: Platform,
    principal: Principal,
    kind: str,
    object_id: int,
    *,
    lang: str = "zh",
    offset: int = 0,
    limit: int = 50,
) -> Page[HistoryEntry]:
    """Newest first. ``kind`` is one of KINDS; outside the caller's reach the object is not found."""
    from jiliang.errors import InvalidInput

    if kind not in KINDS:
        raise InvalidInput(f"kind 须为 {'/'.join(KINDS)} / kind must be one of {KINDS}", field="kind")
    _bounded(platform, offset, limit)
    _check_visible(platform, principal, kind, object_id)
    with platform.reading() as s:
        pairs = _subjects(s, kind, object_id)
        by_table: dict[str, list[str]] = {}
        for table, key in pairs:
            by_table.setdefault(table, []).append(key)
        cond = or_(
            *[and_(AuditEntry.object_type == t, AuditEntry.object_id.in_(ks)) for t, ks in by_table.items()]
        )
        total = int(s.scalar(select(func.count()).select_from(AuditEntry).where(cond)) or 0)
        entries = list(
            s.scalars(
                select(AuditEntry).where(cond).order_by(AuditEntry.id.desc()).offset(offset).limit(limit)
            )
        )
        names = _Names(platform, s, entries)
        items = [_entry(names, e, lang) for e in entries]
    return Page(items=items, total=total, offset=offset, limit=limit)


def _pairs(result: Any) -> dict[Any, Any]:
    return {key: value for key, value in result}
