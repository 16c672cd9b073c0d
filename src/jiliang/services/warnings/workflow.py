"""The steps of a warning (``telemetry.workflow`` decides which may follow which) and their effects.

Each step is one transaction: the warning's row (audited), a ``warning_actions`` row, and what the step
changes elsewhere —

- ``inspect`` confirmed → a ``remote_warning`` credit event for the owner (``services.market.credit``);
- ``dispose`` → the registry through ``services.instruments``: replaced or sealed → out of service
  (suspended); adjusted or repaired → suspended until a passing verification returns it to service
  (re-verification due); penalised → an enforcement case opened
  from the warning (``services.market.cases``); a ``supervision_disposal`` leaf;
- ``close`` / ``dismiss`` → a ``supervision_disposal`` leaf;
- every step → outbox messages to the owner's webhooks.

Supervisors and administrators take the steps, within their jurisdiction; another region's warning is
not found. A refused step names the field and why, and stores nothing.
"""

from __future__ import annotations

import math
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jiliang.domain.access import Principal, Role
from jiliang.domain.instruments import InstrumentStatus
from jiliang.domain.regions import in_jurisdiction
from jiliang.errors import InvalidInput
from jiliang.legal import cases as case_rules
from jiliang.legal import credit as credit_rules
from jiliang.services import instruments as instrument_service
from jiliang.services.common import not_found, require_role
from jiliang.services.market import cases, credit
from jiliang.services.platform import Platform
from jiliang.services.warnings import records
from jiliang.services.warnings.queries import SHANGHAI, detail_in
from jiliang.store.models import Instrument, TelemetryWarning, User, WarningAction
from jiliang.telemetry import workflow as rules


def visible_warning(
    s: Session, principal: Principal, warning_id: int, *, lock: bool = False
) -> TelemetryWarning:
    stmt = select(TelemetryWarning).where(TelemetryWarning.id == warning_id)
    if lock:
        stmt = stmt.with_for_update()
    w = s.scalars(stmt).first()
    if w is None or w.region_code is None or not principal.sees_region(w.region_code):
        raise not_found("预警 warning", warning_id)
    if principal.role is Role.ENTERPRISE and w.owner_id != principal.organisation_id:
        raise not_found("预警 warning", warning_id)
    return w


def _deadline(value: object, now: datetime) -> datetime | None:
    """A deadline given as an ISO date (the end of that day in Beijing) or date-time; none: the default."""
    if value in (None, ""):
        return None
    text = str(value).strip()
    try:
        if len(text) == 10:
            d = date.fromisoformat(text)
            return datetime.combine(d, time(23, 59, 59), SHANGHAI).astimezone(now.tzinfo)
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            "期限须为日期或日期时间（ISO 8601）/ due_at: an ISO 8601 date or time", field="due_at"
        ) from None
    return parsed.replace(tzinfo=SHANGHAI) if parsed.tzinfo is None else parsed


def _assignee(s: Session, value: object, region_code: str) -> User | None:
    if value in (None, ""):
        return None
    try:
        uid = int(str(value))
    except ValueError:
        raise InvalidInput(
            "核查人员编号须为整数 / assignee_id must be an integer", field="assignee_id"
        ) from None
    user = s.get(User, uid)
    if (
        user is None
        or not user.active
        or user.role not in (Role.SUPERVISOR.value, Role.ADMINISTRATOR.value)
        or not in_jurisdiction(region_code, user.jurisdiction)
    ):
        raise InvalidInput(
            "核查人员须为该辖区在岗的监管人员 / the inspector must be an active supervisor of this region",
            field="assignee_id",
        )
    return user


def _measured_error(value: object) -> float | None:
    if value in (None, ""):
        return None
    try:
        x = float(str(value))
    except ValueError:
        raise InvalidInput(
            "实测误差须为数字（%）/ measured_error must be a number (%)", field="measured_error"
        ) from None
    if not math.isfinite(x) or abs(x) >= 1000:
        raise InvalidInput(
            "实测误差须在 ±1000 % 以内 / measured_error within ±1000 %", field="measured_error"
        )
    return x


def _confirmed(value: object) -> bool | None:
    if isinstance(value, bool) or value is None:
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    if text == "":
        return None
    raise InvalidInput("是否属实须为 true 或 false / confirmed must be true or false", field="confirmed")


def act(
    platform: Platform, principal: Principal, warning_id: int, action: str, data: dict[str, Any]
) -> dict[str, Any]:
    """Take one step of the warning's workflow (module docstring); answers the warning as stored."""
    require_role(principal, Role.SUPERVISOR)
    step = rules.parse_action(action)
    now = records.utc(platform.now())
    today = now.astimezone(SHANGHAI).date()
    note = str(data.get("note", "") or "").strip()[:2000]
    with platform.unit_of_work(principal) as s:
        w = visible_warning(s, principal, warning_id, lock=platform.postgres)
        state = rules.parse_state(w.state)
        assignee = (
            _assignee(s, data.get("assignee_id"), w.region_code or "")
            if step is rules.Action.ASSIGN
            else None
        )
        confirmed = _confirmed(data.get("confirmed")) if step is rules.Action.INSPECT else w.confirmed
        findings = str(data.get("findings", "") or "").strip()[:5000]
        due_at = _deadline(data.get("due_at"), now) if step is rules.Action.ASSIGN else None
        facts = rules.Facts(
            state=state,
            severity=w.severity,
            condition_active=w.status == "active",
            confirmed=confirmed,
            findings=findings,
            disposal=data.get("disposal"),
            note=note,
            assignee=assignee.id if assignee is not None else None,
            due_at=due_at,
            now=now,
        )
        target = rules.step(step, facts)
        extra: dict[str, Any] = {}
        if step is rules.Action.ASSIGN:
            assert assignee is not None
            w.assignee_id, w.assigned_at = assignee.id, now
            w.due_at = due_at or records.deadlines(platform).due(w.severity, now)
            extra = {"assignee": assignee.username, "due_at": records.utc(w.due_at).isoformat()}
        elif step is rules.Action.INSPECT:
            w.findings, w.confirmed, w.inspected_at = findings, confirmed, now
            w.measured_error = _measured_error(data.get("measured_error"))
            extra = {"confirmed": confirmed, "measured_error": w.measured_error}
            if confirmed and w.owner_id is not None:
                credit.add_event_in(
                    s,
                    platform,
                    w.owner_id,
                    credit_rules.EventKind.REMOTE_WARNING,
                    today,
                    source_type="warning",
                    source_id=str(w.id),
                    note=f"{w.detector}:{w.condition}",
                )
        elif step is rules.Action.DISPOSE:
            disposal = rules.parse_disposal(data.get("disposal"))
            w.disposal, w.disposal_note, w.disposed_at = disposal.value, note, now
            extra = {"disposal": disposal.value, **_registry_effect(s, w, disposal, today)}
            if disposal is rules.Disposal.PENALISED:
                case = cases.open_case_in(
                    s,
                    platform,
                    principal,
                    case_rules.CaseSource.WARNING,
                    {
                        "source_id": str(w.id),
                        "summary": f"远程监管预警 {w.id}（{w.detector}:{w.condition}）处置：行政处罚。{note}",
                    },
                    [f"warning:{w.id}", f"findings:{w.findings[:400]}"],
                )
                extra["case_number"] = case.number
        else:  # close, dismiss
            w.closed_at = now
            w.close_note = note
        w.state = target.value
        s.flush()
        row = WarningAction(
            warning_id=w.id,
            at=now,
            actor_id=principal.user_id,
            actor_name=principal.username,
            action=step.value,
            from_state=state.value,
            to_state=target.value,
            note=note or findings,
            data=extra,
        )
        s.add(row)
        s.flush()
        if step in (rules.Action.DISPOSE, rules.Action.CLOSE, rules.Action.DISMISS):
            records.disposal_leaf(s, w, step.value, now)
        records.notify(s, platform, w, step.value, f"{step.value}:{row.id}", **extra)
        return detail_in(s, platform, principal, w)


def _registry_effect(
    s: Session, w: TelemetryWarning, disposal: rules.Disposal, today: date
) -> dict[str, Any]:
    """What the disposal does to the instrument, through the instrument service's own rules."""
    if w.instrument_id is None:
        return {}
    inst = s.get(Instrument, w.instrument_id)
    if inst is None:
        return {}
    if disposal in rules.OUT_OF_SERVICE | rules.REVERIFY and inst.status == InstrumentStatus.IN_SERVICE.value:
        instrument_service.set_status_in(inst, InstrumentStatus.SUSPENDED, max(today, inst.status_since))
        return {
            "instrument_status": InstrumentStatus.SUSPENDED.value,
            "reverify": disposal in rules.REVERIFY,
        }
    return {}
