"""Online energy-consumption monitoring (能耗在线监测): a Beijing day of remote-supervision readings folded
into a stored energy period.

Energy meters report through the ingestion of remote supervision (``services/telemetry/ingest.py``: MQTT
and HTTP batches, one stored reading per device and message id, bad payloads quarantined). A metering
point of a key energy-using unit references a registry instrument; when that instrument is a telemetry
device, its readings are the point's. ``fold_day`` takes, for every unit with such points, the register
readings of the calendar day in Asia/Shanghai (00:00 to 24:00 +08:00, plus the reading that closes the
previous day, which is the day's starting register):

- only the register of the schema that measures the point's energy counts (``REGISTERS``: an electricity
  meter's ``energy_kwh`` at an electricity point, …); another schema is counted as ``wrong_schema`` and left
  out; the register is converted to the point's unit (pint), a unit that does not convert leaves it out;
- ``energy/daily.py::slot_readings`` places them in 15-minute slots in order of arrival: a second reading
  for a filled slot is a duplicate and not counted (the same message redelivered never reaches here twice:
  ingestion stores it once), clock jumps (device time going back, or ahead of its receipt) are flagged;
- ``energy/daily.py::register_day`` turns registers into interval consumption and the day's total (exact
  when the register is known at both ends; otherwise the known intervals, flagged ``gaps`` — never filled);
  ``hourly`` sums four slots into an hour (an hour missing a slot stays empty);
- the day is stored through ``readings.store_period`` — the path of uploaded files — with
  ``source = "live"``: the overlap refusal, consumption per node and energy, balance, standard coal and
  carbon are the same code. The hours per point and per node and energy go in the period's ``hourly``.

Idempotent: a unit whose day is already stored as a live period is not stored again; the fold reports the
readings of that day received after it was folded (``late``) — they stay in ``telemetry_readings``, the
stored figures are not changed (an energy period is an audited fact; the late count is written to the
period's ``hourly["late"]`` — an audited change, shown on the period page — and logged when it grows;
correcting the day is a new decision, not a silent rewrite). A day already covered by an
uploaded period is refused for that unit (``overlap``), as an overlapping upload is.
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import func, select

from jiliang.domain.access import Principal, Role
from jiliang.energy import conversion, daily
from jiliang.energy.rules import EnergyType, coefficients
from jiliang.errors import Conflict, InvalidInput
from jiliang.services.energy.common import current_topology
from jiliang.services.energy.readings import refuse_overlap, store_period
from jiliang.services.periodic import Periodic
from jiliang.services.platform import Platform
from jiliang.store.models import (
    EnergyPeriod,
    EnergyPoint,
    EnergyUnit,
    TelemetryDevice,
    TelemetryReading,
)

log = logging.getLogger(__name__)

BEIJING = ZoneInfo("Asia/Shanghai")
FOLDER = Principal(user_id=None, username="energy-live", role=Role.ADMINISTRATOR)
SLOTS = 96
SLOT = timedelta(seconds=daily.SLOT_SECONDS)
# schema → (register value, its unit, the energies such a meter measures). gas_meter/1 and heat_meter/1
# are the payloads of remote supervision's gas and heat meters; a schema not (yet) in
# telemetry/payloads.py is refused by ingestion, so its row here is simply never met.
REGISTERS: dict[str, tuple[str, str, frozenset[EnergyType]]] = {
    "electricity_meter/1": ("energy_kwh", "kWh", frozenset({EnergyType.ELECTRICITY})),
    "water_meter/1": ("volume_m3", "m3", frozenset({EnergyType.WATER})),
    "gas_meter/1": (
        "volume_m3",
        "m3",
        frozenset({EnergyType.NATURAL_GAS, EnergyType.COAL_GAS, EnergyType.LPG}),
    ),
    "heat_meter/1": ("energy_kwh", "kWh", frozenset({EnergyType.STEAM})),
}
GRACE = timedelta(minutes=10)  # the timer folds a day this long after Beijing midnight (last slot's readings)


def day_window(day: date) -> tuple[datetime, datetime]:
    """The Beijing day as UTC instants: its start and its end (24:00 +08:00)."""
    start = datetime.combine(day, time(0), BEIJING).astimezone(UTC)
    return start, start + timedelta(days=1)


def beijing_today(platform: Platform) -> date:
    now = platform.now()
    return (now if now.tzinfo else now.replace(tzinfo=UTC)).astimezone(BEIJING).date()


@dataclass
class UnitFold:
    unit_id: int
    status: str  # stored | already_folded | overlap | no_readings | refused
    period_id: int | None = None
    points: int = 0
    readings: int = 0
    duplicates: int = 0
    clock_jumps: int = 0
    wrong_schema: int = 0
    late: int = 0
    message: str = ""

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class FoldResult:
    day: str
    units: list[UnitFold] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"day": self.day, "units": [u.as_dict() for u in self.units]}


def _epoch(value: datetime) -> int:
    v = value if value.tzinfo else value.replace(tzinfo=UTC)
    return int(v.timestamp())


def live_units(platform: Platform) -> list[int]:
    """Units whose current metering tree has at least one point read by an active telemetry device."""
    with platform.reading() as s:
        out = []
        for unit_id in s.scalars(select(EnergyUnit.id).order_by(EnergyUnit.id)):
            topo = current_topology(s, unit_id)
            if topo is None:
                continue
            n = s.scalar(
                select(func.count())
                .select_from(EnergyPoint)
                .join(TelemetryDevice, TelemetryDevice.instrument_id == EnergyPoint.instrument_id)
                .where(EnergyPoint.topology_id == topo.id, TelemetryDevice.active.is_(True))
            )
            if n:
                out.append(unit_id)
        return out


def fold_day(platform: Platform, day: date, unit_ids: list[int] | None = None) -> FoldResult:
    """Fold ``day`` (Beijing) for each unit read online (module docstring); one transaction per unit."""
    if day >= beijing_today(platform):
        raise InvalidInput("该日尚未结束（北京时间）/ the day has not ended yet (Beijing time)", field="day")
    result = FoldResult(day.isoformat())
    for unit_id in unit_ids if unit_ids is not None else live_units(platform):
        result.units.append(_fold_unit(platform, unit_id, day))
    return result


def _fold_unit(platform: Platform, unit_id: int, day: date) -> UnitFold:
    start, end = day_window(day)
    out = UnitFold(unit_id, "stored")
    try:
        with platform.unit_of_work(FOLDER) as s:
            s.execute(select(EnergyUnit.id).where(EnergyUnit.id == unit_id).with_for_update())
            topo = current_topology(s, unit_id)
            if topo is None:
                raise InvalidInput("该单位尚未上传计量网络 / the unit has no metering tree yet", field="topology")
            points = {p.key: p for p in s.scalars(select(EnergyPoint).where(EnergyPoint.topology_id == topo.id))}
            devices = {
                d.instrument_id: d
                for d in s.scalars(
                    select(TelemetryDevice).where(
                        TelemetryDevice.instrument_id.in_([p.instrument_id for p in points.values()]),
                        TelemetryDevice.active.is_(True),
                    )
                )
            }
            done = s.scalars(
                select(EnergyPeriod).where(
                    EnergyPeriod.unit_id == unit_id,
                    EnergyPeriod.source == "live",
                    EnergyPeriod.period_start == day,
                    EnergyPeriod.period_end == day,
                )
            ).first()
            if done is not None:
                out.status, out.period_id = "already_folded", done.id
                out.late = _late(s, [d.id for d in devices.values()], start, end, done.uploaded_at)
                if out.late != (done.hourly or {}).get("late", 0):  # kept with the period (audited), logged once
                    done.hourly = {**(done.hourly or {}), "late": out.late}
                    log.warning(
                        "迟到读数 / %d late readings for unit %d on %s after it was folded (period %d)",
                        out.late, unit_id, day, done.id,
                    )
                return out
            refuse_overlap(s, unit_id, day, day)
            keyed = sorted(points.items())
            meter_of = {devices[p.instrument_id].id: i for i, (_k, p) in enumerate(keyed) if p.instrument_id in devices}
            t = TelemetryReading
            rows = (
                s.execute(  # columns, not ORM objects: the fold's cost was building 10⁴ instances (profiled)
                    select(t.device_pk, t.message_id, t.device_time, t.received_at, t.schema, t.values)
                    .where(
                        TelemetryReading.device_pk.in_(list(meter_of)),
                        TelemetryReading.device_time > start - SLOT,
                        TelemetryReading.device_time <= end,
                    )
                    .order_by(TelemetryReading.received_at, TelemetryReading.id)
                ).all()
                if meter_of
                else []
            )
            m_idx, t_dev, t_rec, vals, ids = [], [], [], [], []
            wrong: dict[int, int] = defaultdict(int)
            for r in rows:
                i = meter_of[r.device_pk]
                point = keyed[i][1]
                spec = REGISTERS.get(r.schema)
                if spec is None or EnergyType(point.energy_type) not in spec[2] or spec[0] not in r.values:
                    wrong[i] += 1
                    continue
                try:
                    v = float(r.values[spec[0]])
                    v = conversion.convert(v, spec[1], point.unit, "unit") if spec[1] != point.unit else v
                except InvalidInput:
                    wrong[i] += 1
                    continue
                m_idx.append(i)
                t_dev.append(_epoch(r.device_time))
                t_rec.append(_epoch(r.received_at))
                vals.append(v)
                ids.append(f"{r.device_pk}:{r.message_id}:{v!r}")
            out.points, out.readings = len(meter_of), len(vals)
            out.wrong_schema = sum(wrong.values())
            if not vals:
                out.status = "no_readings"
                out.message = "该日没有在线读数 / no live readings on this day"
                raise _NothingToStore
            slotted = daily.slot_readings(
                np.asarray(m_idx, np.int64),
                np.asarray(t_dev, np.int64),
                np.asarray(t_rec, np.int64),
                np.asarray(vals, np.float64),
                len(keyed),
                _epoch(start) - daily.SLOT_SECONDS,
                slots=SLOTS + 1,
            )
            reg = daily.register_day(slotted.values)
            hours = daily.hourly(reg.intervals)
            values: dict[tuple[str, date], float] = {}
            extra: dict[str, dict[str, Any]] = {}
            hourly_points: dict[str, Any] = {}
            for i, (key, point) in enumerate(keyed):
                device = devices.get(point.instrument_id)
                known = int((~np.isnan(reg.intervals[i])).sum())
                if device is None:
                    extra[key] = {"online": False, "flags": ["not_online"]}
                    continue
                flags: list[str] = []
                had = int((~np.isnan(slotted.values[i])).sum())
                if had >= 2:  # one register alone measures nothing (the next day's 00:00 reading, say)
                    values[(key, day)] = float(reg.total[i])
                    if not reg.exact[i]:
                        flags.append("gaps")
                    elif known < SLOTS:
                        flags.append("hour_gaps")
                jumps = int(slotted.clock_back[i] + slotted.clock_ahead[i])
                if jumps:
                    flags.append("clock_jump")
                if slotted.duplicates[i]:
                    flags.append("duplicates")
                if reg.backwards[i]:
                    flags.append("register_back")
                if wrong.get(i):
                    flags.append("wrong_schema")
                out.duplicates += int(slotted.duplicates[i])
                out.clock_jumps += jumps
                extra[key] = {
                    "online": True,
                    "device_id": device.device_id,
                    "slots": known,
                    "slot_gaps": SLOTS - known,
                    "duplicates": int(slotted.duplicates[i]),
                    "clock_back": int(slotted.clock_back[i]),
                    "clock_ahead": int(slotted.clock_ahead[i]),
                    "register_back": int(reg.backwards[i]),
                    "wrong_schema": wrong.get(i, 0),
                    "exact": bool(reg.exact[i]),
                    "flags": flags,
                }
                hourly_points[key] = [None if math.isnan(h) else float(h) for h in hours[i]]
            if not values:
                out.status = "no_readings"
                out.message = "该日没有可计算消耗的在线读数 / no live readings that measure the day"
                raise _NothingToStore
            digest = hashlib.sha256(f"live {unit_id} {day}\n".encode() + "\n".join(sorted(ids)).encode())
            period = store_period(
                s,
                platform,
                FOLDER.username,
                unit_id,
                topo.id,
                points,
                day,
                day,
                values,
                digest.hexdigest(),
                source="live",
                extra=extra,
                hourly={"unit": "point", "points": hourly_points, "nodes": _node_hours(points, hourly_points)},
            )
            out.period_id = period.id
    except _NothingToStore:
        pass
    except Conflict as e:
        out.status, out.message = "overlap", e.message
    except InvalidInput as e:  # e.g. no metering tree, a unit that does not convert: this unit only
        out.status, out.message = "refused", f"{e.field}: {e.message}"
    return out


class _NothingToStore(Exception):
    """Leaves the unit's transaction without storing (a day without any live reading is not a period)."""


def _late(s: Any, device_pks: list[int], start: datetime, end: datetime, folded_at: datetime) -> int:
    if not device_pks:
        return 0
    at = folded_at if folded_at.tzinfo else folded_at.replace(tzinfo=UTC)
    return int(
        s.scalar(
            select(func.count())
            .select_from(TelemetryReading)
            .where(
                TelemetryReading.device_pk.in_(device_pks),
                TelemetryReading.device_time > start - SLOT,
                TelemetryReading.device_time <= end,
                TelemetryReading.received_at > at.astimezone(UTC),
            )
        )
        or 0
    )


def _node_hours(points: dict[str, EnergyPoint], hourly_points: dict[str, Any]) -> list[dict[str, Any]]:
    """Hours per node and energy in the energy's unit of GB/T 2589: the sum of its points' hours; an hour
    is empty when any point of the node misses it (a sum with a hole is not the node's consumption)."""
    coefs = coefficients()
    groups: dict[tuple[str, str], list[EnergyPoint]] = defaultdict(list)
    for p in points.values():
        groups[(p.node_key, p.energy_type)].append(p)
    out = []
    for (node, et), pts in sorted(groups.items()):
        target = conversion.canonical_unit(EnergyType(et), coefs) or pts[0].unit
        hours: list[float | None] = [0.0] * 24
        for p in pts:
            series = hourly_points.get(p.key)
            factor = conversion.convert(1.0, p.unit, target, "unit") if target != p.unit else 1.0
            for h in range(24):
                v = series[h] if series else None
                cur = hours[h]
                hours[h] = None if v is None or cur is None else cur + v * factor
        out.append({"node": node, "energy_type": et, "unit": target, "hours": hours})
    return out


def due_days(platform: Platform, back: int = 7) -> list[date]:
    """The days the timer folds now: the last ``back`` Beijing days that have ended (plus ``GRACE``)."""
    now = platform.now()
    now = (now if now.tzinfo else now.replace(tzinfo=UTC)).astimezone(BEIJING) - GRACE
    last = now.date() - timedelta(days=1)
    return [last - timedelta(days=i) for i in range(back - 1, -1, -1)]


def fold_due(platform: Platform) -> list[FoldResult]:
    """What the timer runs: fold each due day (a day already folded is only checked for late readings)."""
    results = []
    for day in due_days(platform):
        r = fold_day(platform, day)
        for u in r.units:
            if u.status == "stored":
                log.info("能耗日数据已生成 / live day %s folded for unit %d (period %s)", day, u.unit_id, u.period_id)
            elif u.status == "overlap":
                log.info("能耗日数据与已报送期重叠 / live day %s of unit %d: %s", day, u.unit_id, u.message)
        results.append(r)
    return results


class LiveFoldTimer(Periodic):
    """The fold inside `jiliang serve`: every ``every_s`` it folds the Beijing days that have ended (the
    last seven, so a server that was down catches up); a day folded once is never stored again."""

    def __init__(self, platform: Platform, every_s: float = 600) -> None:
        self.platform = platform
        super().__init__(
            every_s,
            self.run_once,
            "energy-live-fold",
            "能耗在线数据汇总失败 / folding live energy readings failed",
        )

    def run_once(self) -> None:
        fold_due(self.platform)
