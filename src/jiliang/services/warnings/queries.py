"""What supervisors read: the warning list per jurisdiction with its filters, one warning with its
evidence series and steps, the assigned-to-me list, and the risk list (风险防控清单) by region and
instrument type with its CSV. A warning outside the caller's jurisdiction is not found."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any, BinaryIO
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from jiliang.domain.access import Principal, Role
from jiliang.domain.regions import in_jurisdiction
from jiliang.domain.spreadsheet import neutralise
from jiliang.errors import InvalidInput
from jiliang.services import catalogue as catalogue_service
from jiliang.services.common import require_role
from jiliang.services.platform import Platform
from jiliang.services.warnings.records import deadlines, utc
from jiliang.store.models import (
    EnergyBalanceCheck,
    Instrument,
    Organisation,
    Region,
    TelemetryDevice,
    TelemetryReading,
    TelemetryWarning,
    User,
    WarningAction,
)
from jiliang.telemetry import workflow as rules

SHANGHAI = ZoneInfo("Asia/Shanghai")
SEVERITIES = ("critical", "warning", "info")
MAX_LIST = 500
SERIES_BEFORE = 40  # readings shown before the one that raised the warning
SERIES_MAX = 200

# The values charted per instrument type: what the instrument showed against what checks it.
CHART: dict[str, tuple[tuple[str, str, str], ...]] = {
    "fuel_dispenser": (
        ("volume_l", "示值体积", "volume shown (L)"),
        ("pulse_volume_l", "脉冲折算体积", "volume by pulses (L)"),
    ),
    "price_computing_scale": (
        ("zero_kg", "空载示值", "no-load indication (kg)"),
        ("mass_kg", "称量", "mass (kg)"),
    ),
    "electricity_meter": (
        ("energy_kwh", "电能表", "meter (kWh)"),
        ("reference_energy_kwh", "核查表", "check meter (kWh)"),
    ),
    "water_meter": (("volume_m3", "水表", "meter (m³)"), ("reference_volume_m3", "参比", "reference (m³)")),
}


def _scoped(stmt: Any, principal: Principal) -> Any:
    if principal.role is Role.PUBLIC:
        return stmt.where(TelemetryWarning.id.is_(None))
    if principal.prefix:
        stmt = stmt.where(TelemetryWarning.region_code.like(principal.prefix + "%"))
    if principal.role is Role.ENTERPRISE:
        stmt = stmt.where(TelemetryWarning.owner_id == principal.organisation_id)
    return stmt


def _due(w: TelemetryWarning, platform: Platform) -> datetime:
    return utc(w.due_at) if w.due_at is not None else deadlines(platform).due(w.severity, utc(w.raised_at))


def _label(table: dict[Any, tuple[str, str]], value: str | None) -> tuple[str, str]:
    for k, v in table.items():
        if k == value:
            return v
    return (value or "", value or "")


def row_dict(
    w: TelemetryWarning,
    platform: Platform,
    now: datetime,
    *,
    device_id: str | None = None,
    instrument: tuple[str, str, str] | None = None,
    owner: str = "",
    assignee: str = "",
) -> dict[str, Any]:
    due = _due(w, platform)
    state = rules.parse_state(w.state)
    return {
        "id": w.id,
        "source": w.source,
        "device_id": device_id,
        "instrument_id": w.instrument_id,
        "instrument_name": instrument[0] if instrument else "",
        "serial_number": instrument[1] if instrument else "",
        "item_code": instrument[2] if instrument else "",
        "owner_id": w.owner_id,
        "owner_name": owner,
        "region_code": w.region_code,
        "detector": w.detector,
        "condition": w.condition,
        "severity": w.severity,
        "status": w.status,
        "state": w.state,
        "state_label": rules.STATE_ZH[state],
        "raised_at": utc(w.raised_at).isoformat(),
        "cleared_at": utc(w.cleared_at).isoformat() if w.cleared_at else None,
        "due_at": due.isoformat(),
        "overdue": rules.overdue(state, due, now),
        "assignee_id": w.assignee_id,
        "assignee": assignee,
        "confirmed": w.confirmed,
        "disposal": w.disposal,
        "disposal_label": _label(dict(rules.DISPOSAL_ZH), w.disposal) if w.disposal else None,
        "case_id": w.case_id,
    }


def _base() -> Any:
    return (
        select(
            TelemetryWarning,
            TelemetryDevice.device_id,
            Instrument.name,
            Instrument.serial_number,
            Instrument.item_code,
            Organisation.name,
            User.display_name,
            User.username,
        )
        .outerjoin(TelemetryDevice, TelemetryDevice.id == TelemetryWarning.device_pk)
        .outerjoin(Instrument, Instrument.id == TelemetryWarning.instrument_id)
        .outerjoin(Organisation, Organisation.id == TelemetryWarning.owner_id)
        .outerjoin(User, User.id == TelemetryWarning.assignee_id)
    )


def list_warnings(
    platform: Platform,
    principal: Principal,
    *,
    state: str = "",
    severity: str = "",
    detector: str = "",
    region_code: str = "",
    overdue: bool = False,
    assigned_to_me: bool = False,
    source: str = "",
    offset: int = 0,
    limit: int = 100,
) -> dict[str, Any]:
    """Newest first, within the caller's jurisdiction; ``{"total", "items"}``."""
    require_role(principal, Role.SUPERVISOR, Role.ENTERPRISE)
    if state:
        rules.parse_state(state)
    if severity and severity not in SEVERITIES:
        raise InvalidInput(f"级别须为 {', '.join(SEVERITIES)} 之一 / unknown severity", field="severity")
    if region_code and not region_code.isdigit():
        raise InvalidInput("区划代码须为数字 / region_code: digits", field="region_code")
    if not 1 <= limit <= MAX_LIST or offset < 0:
        raise InvalidInput(f"每页 1–{MAX_LIST} 条 / limit 1..{MAX_LIST}", field="limit")
    now = utc(platform.now())
    where: list[Any] = []
    if state:
        where.append(TelemetryWarning.state == state)
    if severity:
        where.append(TelemetryWarning.severity == severity)
    if detector:
        where.append(TelemetryWarning.detector == detector[:20])
    if source:
        where.append(TelemetryWarning.source == source[:10])
    if region_code:
        where.append(TelemetryWarning.region_code.like(region_code.rstrip("0") + "%"))
    if assigned_to_me:
        where.append(TelemetryWarning.assignee_id == (principal.user_id or -1))
    if overdue:
        # Overdue = still open after its deadline. Legacy rows without a stored deadline are judged in
        # Python below; every row raised since 0018 has one.
        where.append(TelemetryWarning.state.in_([s.value for s in rules.OPEN_STATES]))
        where.append(or_(TelemetryWarning.due_at < now, TelemetryWarning.due_at.is_(None)))
    with platform.reading() as s:
        stmt = _scoped(_base().where(*where), principal)
        count = _scoped(select(func.count()).select_from(TelemetryWarning).where(*where), principal)
        total = int(s.scalar(count) or 0)
        rows = s.execute(stmt.order_by(TelemetryWarning.id.desc()).offset(offset).limit(limit)).all()
        items = [
            row_dict(
                w,
                platform,
                now,
                device_id=dev,
                instrument=(iname or "", serial or "", item or ""),
                owner=org or "",
                assignee=dname or uname or "",
            )
            for w, dev, iname, serial, item, org, dname, uname in rows
        ]
        if overdue:
            items = [i for i in items if i["overdue"]]
        return {"total": total, "items": items}


def _series(s: Session, w: TelemetryWarning, device: TelemetryDevice) -> dict[str, Any]:
    """The device's readings around the warning (placed by device time), with the charted values."""
    raised = utc(w.raised_at)
    before = s.scalars(
        select(TelemetryReading.device_time)
        .where(TelemetryReading.device_pk == device.id, TelemetryReading.device_time <= raised)
        .order_by(TelemetryReading.device_time.desc())
        .offset(SERIES_BEFORE)
        .limit(1)
    ).first()
    start = utc(before) if before is not None else raised - timedelta(days=3650)
    rows = s.scalars(
        select(TelemetryReading)
        .where(TelemetryReading.device_pk == device.id, TelemetryReading.device_time >= start)
        .order_by(TelemetryReading.device_time, TelemetryReading.message_id)
        .limit(SERIES_MAX)
    ).all()
    k = float((device.profile or {}).get("k_factor") or 0) or 100.0
    columns = CHART.get(device.instrument_type, ())
    points = []
    for r in rows:
        values = dict(r.values)
        if device.instrument_type == "fuel_dispenser" and "pulses" in values:
            values["pulse_volume_l"] = round(float(values["pulses"]) / k, 4)
        points.append(
            {
                "message_id": r.message_id,
                "time": utc(r.device_time).astimezone(SHANGHAI).strftime("%m-%d %H:%M:%S"),
                "values": [values.get(key) for key, _, _ in columns],
                "events": list(r.events),
                "trigger": r.message_id == w.raised_message_id,
            }
        )
    return {
        "kind": "readings",
        "columns": [{"key": key, "zh": zh, "en": en} for key, zh, en in columns],
        "points": points,
    }


def _energy_series(check: EnergyBalanceCheck) -> dict[str, Any]:
    meters = (check.evidence or {}).get("meters", {})
    points = [
        {
            "node": key,
            "role": "parent" if key == check.node_key else "child",
            "value": m.get("value"),
            "mpe_percent": m.get("mpe_percent"),
        }
        for key, m in meters.items()
    ]
    points.sort(key=lambda p: (p["role"] != "parent", p["node"]))
    return {
        "kind": "balance",
        "energy_type": check.energy_type,
        "parent": check.parent,
        "children": check.children,
        "difference": check.difference,
        "tolerance": check.tolerance,
        "points": points,
    }


def assignees(s: Session, principal: Principal, region_code: str) -> list[dict[str, Any]]:
    """Active supervisors whose jurisdiction covers the warning's region and who are within the caller's."""
    users = s.scalars(
        select(User).where(User.active, User.role.in_((Role.SUPERVISOR.value,))).order_by(User.username)
    ).all()
    return [
        {
            "id": u.id,
            "username": u.username,
            "name": u.display_name or u.username,
            "jurisdiction": u.jurisdiction,
        }
        for u in users
        if in_jurisdiction(region_code, u.jurisdiction) and principal.sees_region(u.jurisdiction)
    ]


def detail_in(s: Session, platform: Platform, principal: Principal, w: TelemetryWarning) -> dict[str, Any]:
    now = utc(platform.now())
    device = s.get(TelemetryDevice, w.device_pk) if w.device_pk is not None else None
    inst = s.get(Instrument, w.instrument_id) if w.instrument_id is not None else None
    owner = s.get(Organisation, w.owner_id) if w.owner_id is not None else None
    assignee = s.get(User, w.assignee_id) if w.assignee_id is not None else None
    out = row_dict(
        w,
        platform,
        now,
        device_id=device.device_id if device else None,
        instrument=(inst.name, inst.serial_number, inst.item_code) if inst else None,
        owner=owner.name if owner else "",
        assignee=(assignee.display_name or assignee.username) if assignee else "",
    )
    actions = s.scalars(
        select(WarningAction).where(WarningAction.warning_id == w.id).order_by(WarningAction.id)
    ).all()
    out.update(
        {
            "evidence": w.evidence,
            "clear_evidence": w.clear_evidence,
            "raised_message_id": w.raised_message_id,
            "instrument_status": inst.status if inst else None,
            "instrument_due_on": inst.due_on.isoformat() if inst and inst.due_on else None,
            "findings": w.findings,
            "measured_error": w.measured_error,
            "disposal_note": w.disposal_note,
            "close_note": w.close_note,
            "inspected_at": utc(w.inspected_at).isoformat() if w.inspected_at else None,
            "disposed_at": utc(w.disposed_at).isoformat() if w.disposed_at else None,
            "closed_at": utc(w.closed_at).isoformat() if w.closed_at else None,
            "allowed": [a.value for a in rules.allowed(rules.parse_state(w.state))],
            "steps": [
                {
                    "at": utc(a.at).isoformat(),
                    "actor": a.actor_name,
                    "action": a.action,
                    "from_state": a.from_state,
                    "to_state": a.to_state,
                    "note": a.note,
                    "data": a.data,
                }
                for a in actions
            ],
        }
    )
    if device is not None:
        out["series"] = _series(s, w, device)
        out["instrument_type"] = device.instrument_type
    elif w.energy_check_id is not None:
        check = s.get(EnergyBalanceCheck, w.energy_check_id)
        out["series"] = _energy_series(check) if check is not None else None
        out["instrument_type"] = "energy_meter"
    else:
        out["series"] = None
    return out


def get_warning(platform: Platform, principal: Principal, warning_id: int) -> dict[str, Any]:
    from jiliang.services.warnings.workflow import visible_warning  # the one jurisdiction check

    require_role(principal, Role.SUPERVISOR, Role.ENTERPRISE)
    with platform.reading() as s:
        w = visible_warning(s, principal, warning_id)
        out = detail_in(s, platform, principal, w)
        if principal.role is not Role.ENTERPRISE and w.region_code:
            out["assignees"] = assignees(s, principal, w.region_code)
        return out


RISK_COLUMNS = (
    ("region_code", "区划代码", "region code"),
    ("region_name", "区划", "region"),
    ("item_code", "器具类别代码", "item code"),
    ("item_name", "器具类别", "instrument type"),
    ("instruments", "涉及器具数", "instruments"),
    ("open", "未办结预警", "open warnings"),
    ("critical_open", "其中严重", "of them critical"),
    ("overdue", "超期未处置", "overdue"),
    ("confirmed", "核查属实（一年内）", "confirmed (one year)"),
    ("disposed", "已处置（一年内）", "disposed (one year)"),
    ("out_of_service", "更换/封存", "replaced / sealed"),
    ("level", "风险等级", "risk level"),
)
LEVELS = {"high": ("高", "high"), "medium": ("中", "medium"), "low": ("低", "low")}


def risk_list(platform: Platform, principal: Principal, region_code: str = "") -> list[dict[str, Any]]:
    """风险防控清单: per region and instrument type, the warnings still open (critical, overdue), those
    confirmed and disposed in the last year, and a level — high with a critical or overdue warning open,
    medium with any open or a confirmed one in the year, low otherwise. Sorted by level, then counts."""
    require_role(principal, Role.SUPERVISOR)
    if region_code and not region_code.isdigit():
        raise InvalidInput("区划代码须为数字 / region_code: digits", field="region_code")
    now = utc(platform.now())
    since = now - timedelta(days=365)
    items = catalogue_service.catalogue(platform)
    with platform.reading() as s:
        stmt = (
            select(
                TelemetryWarning.region_code,
                Instrument.item_code,
                TelemetryWarning.instrument_id,
                TelemetryWarning.state,
                TelemetryWarning.severity,
                TelemetryWarning.due_at,
                TelemetryWarning.raised_at,
                TelemetryWarning.confirmed,
                TelemetryWarning.disposal,
                TelemetryWarning.inspected_at,
                TelemetryWarning.disposed_at,
            )
            .outerjoin(Instrument, Instrument.id == TelemetryWarning.instrument_id)
            .where(or_(TelemetryWarning.state != "closed", TelemetryWarning.raised_at >= since))
        )
        if region_code:
            stmt = stmt.where(TelemetryWarning.region_code.like(region_code.rstrip("0") + "%"))
        rows = s.execute(_scoped(stmt, principal)).all()
        names = {c: n for c, n in s.execute(select(Region.code, Region.name_zh))}
    groups: dict[tuple[str, str], dict[str, Any]] = defaultdict(
        lambda: {
            "instrument_ids": set(),
            "open": 0,
            "critical_open": 0,
            "overdue": 0,
            "confirmed": 0,
            "disposed": 0,
            "out_of_service": 0,
        }
    )
    dl = deadlines(platform)
    for (
        region,
        item,
        iid,
        state,
        severity,
        due_at,
        raised_at,
        confirmed,
        disposal,
        inspected,
        disposed,
    ) in rows:
        g = groups[(region or "", item or "")]
        g["instrument_ids"].add(iid)
        st = rules.parse_state(state)
        due = utc(due_at) if due_at is not None else dl.due(severity, utc(raised_at))
        if st in rules.OPEN_STATES:
            g["open"] += 1
            g["critical_open"] += severity == "critical"
            g["overdue"] += rules.overdue(st, due, now)
        if confirmed and inspected is not None and utc(inspected) >= since:
            g["confirmed"] += 1
        if disposal and disposed is not None and utc(disposed) >= since:
            g["disposed"] += 1
            g["out_of_service"] += disposal in {d.value for d in rules.OUT_OF_SERVICE}
    out = []
    for (region, item), g in groups.items():
        level = (
            "high"
            if g["critical_open"] or g["overdue"]
            else "medium"
            if g["open"] or g["confirmed"]
            else "low"
        )
        cat = items.get(item)
        out.append(
            {
                "region_code": region,
                "region_name": names.get(region, region),
                "item_code": item,
                "item_name": (cat.level2_zh if cat else item) or item,
                "instruments": len(g.pop("instrument_ids")),
                **g,
                "level": level,
                "level_label": LEVELS[level],
            }
        )
    order = {"high": 0, "medium": 1, "low": 2}
    out.sort(
        key=lambda r: (
            order[r["level"]],
            -r["overdue"],
            -r["critical_open"],
            -r["open"],
            r["region_code"],
            r["item_code"],
        )
    )
    return out


def export_risk_list(
    platform: Platform, principal: Principal, region_code: str, sink: BinaryIO, lang: str = "zh"
) -> int:
    """The risk list as CSV (UTF-8 with a BOM so Excel reads the Chinese; cells neutralised against
    formula injection) into ``sink``; returns the rows written."""
    rows = risk_list(platform, principal, region_code)
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow([zh if lang == "zh" else en for _, zh, en in RISK_COLUMNS])
    for r in rows:
        cells = [
            (r["level_label"][0] if lang == "zh" else r["level"]) if key == "level" else r[key]
            for key, _, _ in RISK_COLUMNS
        ]
        writer.writerow([neutralise(c) for c in cells])
    sink.write(("\ufeff" + text.getvalue()).encode())
    return len(rows)
