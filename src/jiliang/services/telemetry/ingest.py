"""Exactly-once ingestion of a batch of messages, from MQTT or HTTP.

One transaction per batch: valid readings are inserted with ``ON CONFLICT (device, message id) DO
NOTHING ... RETURNING``, so a duplicate inside the batch, a redelivery after a crash, or a device that
sends twice counts once, and only the readings that were new reach the detectors; each device's detector
state is read (``FOR UPDATE`` on PostgreSQL, so two ingesters of a shared subscription serialise per
device), advanced and written back with its warnings in the same transaction. Bad payloads are stored in
``telemetry_quarantine`` with the field and the reason; they never fail the batch. The caller acknowledges
the messages only after this function returns (the MQTT ingester sends its PUBACKs then), so a crash
before the commit leaves them to be redelivered and a crash after it finds them already stored.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from jiliang.domain.access import Principal, Role
from jiliang.errors import InvalidInput
from jiliang.services.platform import Platform
from jiliang.services.telemetry.devices import profile_of
from jiliang.services.warnings import records
from jiliang.store.models import TelemetryDevice, TelemetryQuarantine, TelemetryReading, TelemetryWarning
from jiliang.telemetry import detectors
from jiliang.telemetry.payloads import Limits, Reading, validate

INGESTER = Principal(user_id=None, username="ingester", role=Role.ADMINISTRATOR)
MAX_BATCH = 10_000  # readings in one HTTP request or one MQTT message
DEFAULT_LIMITS = Limits()


@dataclass(frozen=True)
class Message:
    """What a transport received: the raw payload (bytes from MQTT, parsed JSON from HTTP), when, and
    which device identity the transport itself authenticated (the topic's device, or the HTTP caller)."""

    payload: bytes | str | object
    received_at: datetime
    source: str
    device_id: str | None = None  # the payload must be this device's
    may_submit_for: frozenset[str] | None = None  # or one of these (an HTTP gateway)


@dataclass
class IngestResult:
    accepted: int = 0
    duplicates: int = 0
    quarantined: int = 0
    raised: int = 0
    cleared: int = 0
    late: int = 0
    refusals: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Refusal:
    device_id: str | None
    field: str
    reason: str
    payload: str
    received_at: datetime
    source: str


def utc(value: datetime) -> datetime:
    """Stored times are UTC: SQLite keeps no offset, so a +08:00 time must be converted, not labelled."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _text(payload: object) -> str:
    if isinstance(payload, bytes):
        return payload[:4000].decode("utf-8", "replace")
    if isinstance(payload, str):
        return payload[:4000]
    try:
        return json.dumps(payload, ensure_ascii=False, default=str)[:4000]
    except (TypeError, ValueError):
        return repr(payload)[:4000]


def _items(m: Message) -> tuple[list[tuple[str, object]], _Refusal | None]:
    """The readings of one message (one object, or ``{"readings": [...]}``) with their field prefixes."""
    body = m.payload
    if isinstance(body, bytes | str):
        try:
            body = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return [], _Refusal(
                m.device_id, "payload", "不是 JSON / not JSON", _text(m.payload), m.received_at, m.source
            )
    if isinstance(body, dict) and "readings" in body and "schema" not in body:
        readings = body["readings"]
        if not isinstance(readings, list) or not 1 <= len(readings) <= MAX_BATCH:
            reason = f"readings 须为 1–{MAX_BATCH} 条的列表 / readings must be a list of 1–{MAX_BATCH}"
            return [], _Refusal(m.device_id, "readings", reason, _text(body), m.received_at, m.source)
        return [(f"readings[{i}].", r) for i, r in enumerate(readings)], None
    return [("", body)], None


def parse(
    messages: Sequence[Message], limits: Limits = DEFAULT_LIMITS
) -> tuple[list[tuple[Reading, Message]], list[_Refusal]]:
    good: list[tuple[Reading, Message]] = []
    bad: list[_Refusal] = []
    for m in messages:
        items, refusal = _items(m)
        if refusal is not None:
            bad.append(refusal)
        for where, obj in items:
            try:
                reading = validate(
                    obj, received_at=m.received_at, limits=limits, device_id=m.device_id, where=where
                )
                if m.may_submit_for is not None and reading.device_id not in m.may_submit_for:
                    raise InvalidInput(
                        "无权代该设备上报 / may not submit for this device", field=f"{where}device_id"
                    )
                good.append((reading, m))
            except InvalidInput as e:
                claimed = obj.get("device_id") if isinstance(obj, dict) else None
                bad.append(
                    _Refusal(
                        m.device_id or (claimed if isinstance(claimed, str) else None),
                        e.field or "payload",
                        e.message[:300],
                        _text(obj),
                        m.received_at,
                        m.source,
                    )
                )
    return good, bad


def _insert_new(s: Session, rows: list[dict[str, Any]], postgres: bool) -> set[tuple[int, str]]:
    """Insert, skipping (device, message id) pairs already stored; return the pairs that were new.

    One Core statement executed over the list (SQLAlchemy's "insertmanyvalues": batched multi-row
    INSERTs with RETURNING, compiled once and cached) — compiling a fresh 500-row VALUES statement per
    batch cost more than the insert itself (profiled)."""
    dialect_insert = postgresql.insert if postgres else sqlite.insert
    stmt = (
        dialect_insert(TelemetryReading)
        .on_conflict_do_nothing(index_elements=["device_pk", "message_id"])
        .returning(TelemetryReading.device_pk, TelemetryReading.message_id)
    )
    return {(int(pk), str(mid)) for pk, mid in s.connection().execute(stmt, rows).all()}


def _apply_findings(
    s: Session,
    platform: Platform,
    device: TelemetryDevice,
    findings: list[detectors.Finding],
    result: IngestResult,
) -> None:
    for f in findings:
        if f.transition == "raised":
            result.raised += 1
            w = TelemetryWarning(
                device_pk=device.id,
                source="telemetry",
                instrument_id=device.instrument_id,
                region_code=device.region_code,
                detector=f.detector,
                condition=f.condition,
                severity=f.severity,
                status="active",
                raised_at=utc(f.device_time),
                raised_message_id=f.message_id,
                evidence=f.evidence,
                state="new",
            )
            s.add(w)
            s.flush()  # a condition raised and cleared in one batch must find its row
            records.on_raised(s, platform, w)
        else:
            result.cleared += 1
            found = s.scalars(
                select(TelemetryWarning)
                .where(
                    TelemetryWarning.device_pk == device.id,
                    TelemetryWarning.detector == f.detector,
                    TelemetryWarning.condition == f.condition,
                    TelemetryWarning.status == "active",
                )
                .order_by(TelemetryWarning.id.desc())
            ).first()
            if found is not None:
                found.status, found.cleared_at = "cleared", utc(f.device_time)
                found.cleared_message_id, found.clear_evidence = f.message_id, f.evidence


def ingest(platform: Platform, messages: Sequence[Message], limits: Limits = DEFAULT_LIMITS) -> IngestResult:
    result = IngestResult()
    good, bad = parse(messages, limits)
    with platform.unit_of_work(INGESTER) as s:
        ids = sorted({r.device_id for r, _ in good})
        stmt = select(TelemetryDevice).where(TelemetryDevice.device_id.in_(ids)).order_by(TelemetryDevice.id)
        if platform.postgres:
            stmt = stmt.with_for_update()
        devices = {d.device_id: d for d in s.scalars(stmt).all()} if ids else {}
        rows: list[dict[str, Any]] = []
        seen: set[tuple[int, str]] = set()
        batch: dict[tuple[int, str], tuple[Reading, datetime]] = {}
        for reading, m in good:
            device = devices.get(reading.device_id)
            if device is None or not device.active:
                bad.append(
                    _Refusal(
                        reading.device_id,
                        "device_id",
                        "未登记或已停用的设备 / unknown or inactive device",
                        reading.device_id,
                        m.received_at,
                        m.source,
                    )
                )
                continue
            key = (device.id, reading.message_id)
            if key in seen:
                result.duplicates += 1
                continue
            seen.add(key)
            batch[key] = (reading, m.received_at)
            rows.append(
                {
                    "device_pk": device.id,
                    "message_id": reading.message_id,
                    "device_time": utc(reading.device_time),
                    "received_at": utc(m.received_at),
                    "schema": reading.schema,
                    "values": dict(reading.values),
                    "events": list(reading.events),
                }
            )
        new = _insert_new(s, rows, platform.postgres) if rows else set()
        result.duplicates += len(rows) - len(new)
        result.accepted = len(new)
        per_device: dict[int, list[tuple[Reading, datetime]]] = defaultdict(list)
        for key in new:
            per_device[key[0]].append(batch[key])
        by_pk = {d.id: d for d in devices.values()}
        for pk, items in per_device.items():
            device = by_pk[pk]
            state = detectors.State.from_dict(device.detector_state)
            late_before = state.late
            state, findings = detectors.detect(
                [r for r, _ in items], state, profile_of(device), received=[t for _, t in items]
            )
            result.late += state.late - late_before
            device.detector_state = state.to_dict()
            device.readings_count = (device.readings_count or 0) + len(items)
            newest = utc(max(t for _, t in items))
            seen_at = device.last_seen_at
            device.last_seen_at = newest if seen_at is None else max(utc(seen_at), newest)
            _apply_findings(s, platform, device, findings, result)
        for b in bad:
            s.add(
                TelemetryQuarantine(
                    received_at=utc(b.received_at),
                    source=b.source,
                    device_id=b.device_id,
                    field=b.field[:120],
                    reason=b.reason[:300],
                    payload=b.payload,
                )
            )
        result.quarantined = len(bad)
        result.refusals = [{"field": b.field, "reason": b.reason} for b in bad[:100]]
    return result


def presence(platform: Platform, updates: Sequence[tuple[str, bytes, datetime]]) -> tuple[int, int]:
    """Birth and death messages (``broker.status_topic``): ``offline`` — the device's MQTT will, sent by
    the broker when the connection is lost — raises ``liveness:offline`` at once; ``online`` clears it.
    Idempotent (a redelivered status changes nothing); another payload is quarantined. Returns
    (raised, cleared)."""
    result = IngestResult()
    with platform.unit_of_work(INGESTER) as s:
        for device_id, body, at in updates:
            status = body.decode("utf-8", "replace").strip().lower()
            device = s.scalars(select(TelemetryDevice).where(TelemetryDevice.device_id == device_id)).first()
            if device is None or status not in ("online", "offline"):
                reason = (
                    "未登记的设备 / unknown device"
                    if device is None
                    else "须为 online 或 offline / online | offline"
                )
                s.add(
                    TelemetryQuarantine(
                        received_at=utc(at),
                        source="mqtt",
                        device_id=device_id or None,
                        field="status",
                        reason=reason,
                        payload=_text(body),
                    )
                )
                continue
            state = detectors.State.from_dict(device.detector_state)
            active = "liveness:offline" in state.active
            if (status == "offline") == active:
                continue
            transition = "raised" if status == "offline" else "cleared"
            if transition == "raised":
                state.active["liveness:offline"] = "warning"
            else:
                state.active.pop("liveness:offline")
            device.detector_state = state.to_dict()
            finding = detectors.Finding(
                device_id,
                "liveness",
                "offline",
                transition,
                "warning",
                at,
                "",
                {"status": status, "source": "status topic (birth / will)"},
            )
            _apply_findings(s, platform, device, [finding], result)
    return result.raised, result.cleared


def check_offline(platform: Platform) -> int:
    """Raise ``offline`` for scheduled devices silent too long (run by a timer); returns how many."""
    raised = 0
    now = platform.now()
    with platform.unit_of_work(INGESTER) as s:
        for device in s.scalars(select(TelemetryDevice).where(TelemetryDevice.active.is_(True))).all():
            profile = profile_of(device)
            if profile.interval_s <= 0 or device.detector_state is None:
                continue
            state, findings = detectors.offline(
                device.device_id, detectors.State.from_dict(device.detector_state), profile, now
            )
            if findings:
                device.detector_state = state.to_dict()
                tmp = IngestResult()
                _apply_findings(s, platform, device, findings, tmp)
                raised += tmp.raised
    return raised
