"""What operators read: warnings with their evidence, a device's readings in device-time order, and the
quarantine counted by reason — each within the caller's jurisdiction (a device outside it is not found)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from jiliang.domain.access import Principal, Role
from jiliang.services import scope
from jiliang.services.common import not_found, require_role
from jiliang.services.platform import Platform
from jiliang.services.telemetry.ingest import utc
from jiliang.store.models import (
    Instrument,
    TelemetryDevice,
    TelemetryQuarantine,
    TelemetryReading,
    TelemetryWarning,
)


def _visible_devices(principal: Principal) -> Any:
    stmt = select(TelemetryDevice.id).join(Instrument, Instrument.id == TelemetryDevice.instrument_id)
    return scope.instruments(stmt, principal)


def warning_dict(w: TelemetryWarning, device_id: str) -> dict[str, Any]:
    return {
        "id": w.id,
        "device_id": device_id,
        "detector": w.detector,
        "condition": w.condition,
        "severity": w.severity,
        "status": w.status,
        "raised_at": utc(w.raised_at).isoformat(),
        "raised_message_id": w.raised_message_id,
        "evidence": w.evidence,
        "cleared_at": utc(w.cleared_at).isoformat() if w.cleared_at else None,
        "cleared_message_id": w.cleared_message_id,
        "clear_evidence": w.clear_evidence,
    }


def list_warnings(
    platform: Platform,
    principal: Principal,
    *,
    status: str | None = None,
    device_id: str | None = None,
    limit: int = 200,
) -> list[dict[str, Any]]:
    with platform.reading() as s:
        stmt = (
            select(TelemetryWarning, TelemetryDevice.device_id)
            .join(TelemetryDevice, TelemetryDevice.id == TelemetryWarning.device_pk)
            .where(TelemetryWarning.device_pk.in_(_visible_devices(principal)))
            .order_by(TelemetryWarning.id)
            .limit(limit)
        )
        if status is not None:
            stmt = stmt.where(TelemetryWarning.status == status)
        if device_id is not None:
            stmt = stmt.where(TelemetryDevice.device_id == device_id)
        return [warning_dict(w, d) for w, d in s.execute(stmt).all()]


def device_readings(
    platform: Platform, principal: Principal, device_id: str, limit: int = 1000
) -> list[dict[str, Any]]:
    """A device's readings placed by device time (late and out-of-order arrivals in their place)."""
    with platform.reading() as s:
        pk = s.scalars(
            select(TelemetryDevice.id).where(
                TelemetryDevice.device_id == device_id, TelemetryDevice.id.in_(_visible_devices(principal))
            )
        ).first()
        if pk is None:
            raise not_found("设备 / device", device_id)
        rows = s.scalars(
            select(TelemetryReading)
            .where(TelemetryReading.device_pk == pk)
            .order_by(TelemetryReading.device_time, TelemetryReading.message_id)
            .limit(limit)
        ).all()
        return [
            {
                "message_id": r.message_id,
                "device_time": utc(r.device_time).isoformat(),
                "values": r.values,
                "events": r.events,
            }
            for r in rows
        ]


def quarantine_counts(platform: Platform, principal: Principal) -> list[dict[str, Any]]:
    """Refused payloads counted by field and reason (operators see bad input; administrators and
    supervisors only, since a refused payload has not been placed in anyone's jurisdiction)."""
    require_role(principal, Role.SUPERVISOR)
    with platform.reading() as s:
        rows = s.execute(
            select(TelemetryQuarantine.field, TelemetryQuarantine.reason, func.count())
            .group_by(TelemetryQuarantine.field, TelemetryQuarantine.reason)
            .order_by(func.count().desc())
        ).all()
        return [{"field": f, "reason": r, "count": int(n)} for f, r, n in rows]


def reading_count(platform: Platform) -> int:
    with platform.reading() as s:
        return int(s.scalar(select(func.count()).select_from(TelemetryReading)) or 0)
