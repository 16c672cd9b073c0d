"""What every warning gets when it is raised, and what every step announces: owner, region and deadline,
a transparency-log leaf, and outbox messages to the owner's webhooks — all in the caller's transaction,
so a warning exists, is logged and is announced together or not at all."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jiliang.services import transparency
from jiliang.services.platform import Platform
from jiliang.store.models import (
    EnergyBalanceCheck,
    EnergyPeriod,
    EnergyPoint,
    Instrument,
    OutboxMessage,
    TelemetryWarning,
    Webhook,
)
from jiliang.telemetry.workflow import Deadlines

TOPIC_PREFIX = "warning."  # outbox topics: warning.raised, warning.assigned, warning.inspected, …


def deadlines(platform: Platform) -> Deadlines:
    st = platform.settings
    return Deadlines(
        st.warning_deadline_critical_h, st.warning_deadline_warning_h, st.warning_deadline_info_h
    )


def utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def digest(value: Any) -> str:
    """SHA-256 of canonical JSON: a leaf carries no floats (docs/transparency.md), so evidence is hashed."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def warning_leaf(s: Session, w: TelemetryWarning) -> None:
    transparency.enqueue(
        s,
        "supervision_warning",
        {
            "warning_id": w.id,
            "source": w.source,
            "instrument_id": w.instrument_id,
            "region_code": w.region_code,
            "detector": w.detector,
            "condition": w.condition,
            "severity": w.severity,
            "raised_at": utc(w.raised_at).isoformat(),
            "evidence_sha256": digest(w.evidence),
        },
    )


def disposal_leaf(s: Session, w: TelemetryWarning, step: str, at: datetime) -> None:
    """A leaf per disposal and per closing: what was done to the instrument, and by which finding."""
    transparency.enqueue(
        s,
        "supervision_disposal",
        {
            "warning_id": w.id,
            "step": step,
            "instrument_id": w.instrument_id,
            "region_code": w.region_code,
            "confirmed": w.confirmed,
            "measured_error_percent": None if w.measured_error is None else f"{w.measured_error:g}",
            "disposal": w.disposal,
            "findings_sha256": hashlib.sha256(w.findings.encode()).hexdigest(),
            "note_sha256": hashlib.sha256((w.disposal_note or w.close_note).encode()).hexdigest(),
            "case_id": w.case_id,
            "at": utc(at).isoformat(),
        },
    )


def notify(s: Session, platform: Platform, w: TelemetryWarning, event: str, key: str, **extra: Any) -> int:
    """One outbox message per active webhook of the instrument's owner (``services.reminders`` delivers
    them); ``key`` makes the same step announced once."""
    if w.owner_id is None:
        return 0
    hooks = s.scalars(select(Webhook.id).where(Webhook.organisation_id == w.owner_id, Webhook.active)).all()
    at = platform.now()
    payload = {
        "topic": TOPIC_PREFIX + event,
        "warning_id": w.id,
        "instrument_id": w.instrument_id,
        "region_code": w.region_code,
        "detector": w.detector,
        "condition": w.condition,
        "severity": w.severity,
        "state": w.state,
        **extra,
    }
    for hook in hooks:
        s.add(
            OutboxMessage(
                dedupe_key=f"warning:{w.id}:{key}:{hook}",
                topic=TOPIC_PREFIX + event,
                webhook_id=hook,
                payload=payload,
                created_at=at,
                attempts=0,
                next_attempt_at=at,
                dead=False,
                last_error="",
            )
        )
    return len(hooks)


def on_raised(s: Session, platform: Platform, w: TelemetryWarning) -> None:
    """Complete a freshly added warning (flushed, so it has its id): owner and region from the registry,
    the severity's deadline from when it was raised, its leaf and its notification."""
    if w.instrument_id is not None and (w.owner_id is None or w.region_code is None):
        row = s.execute(
            select(Instrument.owner_id, Instrument.region_code).where(Instrument.id == w.instrument_id)
        ).first()
        if row is not None:
            w.owner_id = w.owner_id or row[0]
            w.region_code = w.region_code or row[1]
    w.state = w.state or "new"
    w.due_at = deadlines(platform).due(w.severity, utc(w.raised_at))
    s.flush()
    warning_leaf(s, w)
    if w.severity != "info":  # an informational event (a remote unlock) is listed, not pushed
        notify(s, platform, w, "raised", "raised")


def energy_balances(
    s: Session, platform: Platform, unit_id: int, organisation_id: int, period_id: int
) -> int:
    """The balance checks of a period just computed (``services.energy.readings``) in the warning workflow:
    an imbalance raises a warning on the parent node's meter — once while it persists (an active one for the
    same node and energy is not raised again) — and a later balanced period clears it. Returns how many
    were raised."""
    checks = s.scalars(
        select(EnergyBalanceCheck)
        .where(
            EnergyBalanceCheck.period_id == period_id,
            EnergyBalanceCheck.status.in_(("imbalance", "balanced")),
        )
        .order_by(EnergyBalanceCheck.id)
    ).all()
    if not checks:
        return 0
    period = s.get(EnergyPeriod, period_id)
    assert period is not None
    meters = {
        (p.node_key, p.energy_type): p.instrument_id
        for p in s.scalars(
            select(EnergyPoint)
            .where(EnergyPoint.topology_id == period.topology_id)
            .order_by(EnergyPoint.key.desc())
        )
    }
    now = utc(platform.now())
    raised = 0
    for c in checks:
        condition = f"imbalance:{c.node_key}:{c.energy_type}"[:40]
        active = s.scalars(
            select(TelemetryWarning).where(
                TelemetryWarning.source == "energy",
                TelemetryWarning.owner_id == organisation_id,
                TelemetryWarning.condition == condition,
                TelemetryWarning.status == "active",
            )
        ).first()
        evidence = {
            "unit_id": unit_id,
            "period_id": period_id,
            "period": f"{period.period_start.isoformat()}/{period.period_end.isoformat()}",
            "node": c.node_key,
            "energy_type": c.energy_type,
            "parent": c.parent,
            "children": c.children,
            "difference": c.difference,
            "tolerance": c.tolerance,
            **{k: v for k, v in (c.evidence or {}).items() if k in ("u", "k", "relative", "children")},
        }
        if c.status == "balanced":
            if active is not None:
                active.status, active.cleared_at = "cleared", now
                active.cleared_message_id, active.clear_evidence = f"period:{period_id}", evidence
            continue
        if active is not None:
            continue
        instrument_id = meters.get((c.node_key, c.energy_type))
        w = TelemetryWarning(
            device_pk=None,
            source="energy",
            instrument_id=instrument_id,
            owner_id=organisation_id,
            energy_check_id=c.id,
            detector="energy_balance",
            condition=condition,
            severity="warning",
            status="active",
            raised_at=now,
            raised_message_id=f"period:{period_id}",
            evidence=evidence,
            state="new",
        )
        s.add(w)
        s.flush()
        on_raised(s, platform, w)
        raised += 1
    return raised
