"""Energy readings uploaded by the unit as a file, one reported period at a time, and what follows from them.

The sheet (CSV or XLSX, read by ``services/transfer``) holds one day's consumption per row: ``point`` (the
metering point's code), ``energy_type``, ``day``, ``value`` and ``unit``. A row is refused — and with it
the whole file, nothing stored — for an unknown point, an energy other than the point's, a unit that does
not measure that energy, a negative or non-numeric consumption, a day outside the period or given twice. A
period that overlaps one already reported for the unit is refused as a whole.

From an accepted period the service computes and stores, in the same transaction:
- data quality per point: days reported, gaps (days without a reading: **not filled**, only marked) and
  stuck runs (the same non-zero value on three or more consecutive days, what a frozen data logger sends);
- consumption per node and energy (the sum of the node's points, in the energy's unit of GB/T 2589);
- the balance of each metered parent against its metered children (``energy/balance.py``: the tolerance
  follows from the meters' accuracy classes); an imbalance is stored with its evidence and raised in the warning workflow (services.warnings),
  a parent whose children are not all metered, or whose data have gaps, as ``not_checked`` with the reason;
- standard coal of the boundary (both electricity methods stated: 当量值 and 等价值);
- carbon emissions of the boundary's fuels and purchased electricity with their GUM and Monte Carlo
  uncertainty and the budget, each meter named (``energy/carbon.py``).

Readings of remote supervision (MQTT and HTTP batches) reach the same path through
``services/energy/live.py``: it folds a Beijing day of them and calls ``store_period`` with
``source="live"``, so the overlap refusal, balance, standard coal and carbon are the same code.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date, timedelta
from typing import Any, BinaryIO

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from jiliang.domain.access import Principal
from jiliang.energy import balance, carbon, conversion, intensity
from jiliang.energy.rules import ENERGY_LABELS, EnergyType, coefficients
from jiliang.errors import Conflict, InvalidInput
from jiliang.services.common import not_found
from jiliang.services.energy.common import (
    current_topology,
    mpe_percent,
    now,
    verified_on,
    visible_unit,
)
from jiliang.services.energy.topology import ENERGY_FROM_LABEL
from jiliang.services.platform import Platform
from jiliang.services.transfer.columns import Column
from jiliang.services.transfer.reading import Problems, open_sheet
from jiliang.services.warnings import records as warning_records
from jiliang.store.models import (
    EnergyBalanceCheck,
    EnergyConsumption,
    EnergyNode,
    EnergyPeriod,
    EnergyPoint,
    EnergyReading,
    EnergyUnit,
    Instrument,
)

READING_COLUMNS: tuple[Column, ...] = (
    Column("point", "计量点编号", True),
    Column("energy_type", "能源种类", True),
    Column("day", "日期", True),
    Column("value", "消耗量", True),
    Column("unit", "单位", True),
)
MAX_BYTES = 32 * 1024 * 1024
MAX_DAYS = 366
STUCK_RUN = 3
MC_TRIALS = 20_000


def power_supply_coal() -> dict[int, tuple[float, str, str]]:
    """The year's coal consumption of power supply (kgce/kWh) for the equal-value method, with provenance."""
    import csv
    from importlib import resources

    with (resources.files("jiliang") / "data" / "energy" / "power-supply-coal.csv").open(
        encoding="utf-8"
    ) as fh:
        return {
            int(r["year"]): (float(r["kgce_per_kwh"]), r["evidence"], r["source"]) for r in csv.DictReader(fh)
        }


def upload_readings(
    platform: Platform,
    principal: Principal,
    unit_id: int,
    source: BinaryIO,
    fmt: str,
    period_start: date,
    period_end: date,
    product: str | None = None,
    output: float | None = None,
    output_node: str | None = None,
) -> dict[str, Any]:
    """Store one reported period of the unit's readings and everything computed from it (module docstring).
    With ``product`` and ``output`` (tonnes), the unit energy consumption of ``output_node`` (default the
    boundary) against the product's limit standard (``energy/intensity.py``)."""
    if product or output is not None:
        if not product:
            raise InvalidInput("给出产量时须给出产品 / an output needs its product", field="product")
        if product not in intensity.limits():
            raise InvalidInput(
                f"没有这种产品的能耗限额 / no limit standard for product {product!r}", field="product"
            )
        if output is None or not (math.isfinite(output) and output > 0):
            raise InvalidInput("产量须为正数（吨）/ the output must be a positive number of tonnes", field="output")
    if period_end < period_start:
        raise InvalidInput("报告期结束早于开始 / the period ends before it starts", field="period_end")
    if (period_end - period_start).days + 1 > MAX_DAYS:
        raise InvalidInput(
            f"报告期不超过 {MAX_DAYS} 天 / a period is at most {MAX_DAYS} days", field="period_end"
        )
    if period_end > platform.local_today():
        raise InvalidInput("报告期尚未结束 / the period has not ended yet", field="period_end")
    problems = Problems(limit=200)
    with platform.unit_of_work(principal) as s:
        unit = visible_unit(s, principal, unit_id)
        # one upload per unit at a time (PostgreSQL row lock), so two overlapping periods cannot both pass
        s.execute(select(EnergyUnit.id).where(EnergyUnit.id == unit.id).with_for_update())
        topo = current_topology(s, unit.id)
        if topo is None:
            raise InvalidInput("该单位尚未上传计量网络 / the unit has no metering tree yet", field="topology")
        refuse_overlap(s, unit.id, period_start, period_end)
        points = {p.key: p for p in s.scalars(select(EnergyPoint).where(EnergyPoint.topology_id == topo.id))}
        if product and output_node and not any(p.node_key == output_node for p in points.values()):
            raise InvalidInput(
                f"节点 {output_node!r} 不在计量网络中或没有计量点 / node {output_node!r} is not a metered node of the tree",
                field="output_node",
            )
        sheet = open_sheet(source, fmt, READING_COLUMNS, problems, MAX_BYTES)
        values: dict[tuple[str, date], float] = {}
        first_row: dict[tuple[str, date], int] = {}
        rows_read = 0
        for row_no, raw in sheet.rows:
            rows_read += 1
            if raw is None:
                continue
            parsed = _row(row_no, raw, points, period_start, period_end, problems)
            if parsed is None:
                continue
            key = (parsed[0], parsed[1])
            if key in first_row:
                problems.add(
                    row_no,
                    "day",
                    f"与第 {first_row[key]} 行重复 / the same point and day as row {first_row[key]}",
                    raw["day"],
                )
                continue
            first_row[key] = row_no
            values[key] = parsed[2]
        if problems:
            raise problems.refuse(rows_read)
        if not values:
            raise InvalidInput("文件中没有读数 / the file holds no readings", field="file")
        period = store_period(
            s, platform, principal.username, unit.id, topo.id, points, period_start, period_end, values, sheet.sha256
        )
        if product and output is not None:
            period.coal = {**period.coal, "intensity": _intensity(s, period, points, product, output, output_node)}
        return period_summary(s, period)


def refuse_overlap(s: Session, unit_id: int, period_start: date, period_end: date) -> None:
    """A period overlapping one already reported for the unit (uploaded or live) is refused as a whole."""
    overlap = s.scalars(
        select(EnergyPeriod)
        .where(EnergyPeriod.unit_id == unit_id)
        .where(EnergyPeriod.period_start <= period_end)
        .where(EnergyPeriod.period_end >= period_start)
    ).first()
    if overlap is not None:
        raise Conflict(
            f"报告期与已报送的 {overlap.period_start} 至 {overlap.period_end} 重叠 / the period overlaps the one "
            f"already reported, {overlap.period_start} to {overlap.period_end}",
            field="period_start",
        )


def store_period(
    s: Session,
    platform: Platform,
    username: str,
    unit_id: int,
    topology_id: int,
    points: dict[str, EnergyPoint],
    period_start: date,
    period_end: date,
    values: dict[tuple[str, date], float],
    sha256: str,
    *,
    source: str = "upload",
    extra: dict[str, dict[str, Any]] | None = None,
    hourly: dict[str, Any] | None = None,
) -> EnergyPeriod:
    """Store a period's daily values per point and everything computed from them (the module docstring):
    the one path of uploaded files and of live readings (``source``). ``extra`` adds quality entries and
    flags per point (a live day's slot counts, duplicates, clock jumps); a ``gaps`` or ``no_data`` flag
    among them keeps the point out of the balance, as a gap of an upload does. The caller holds the unit's
    row lock and has refused an overlapping period (``refuse_overlap``)."""
    period = EnergyPeriod(
        unit_id=unit_id,
        topology_id=topology_id,
        period_start=period_start,
        period_end=period_end,
        sha256=sha256,
        rows=len(values),
        quality=[],
        coal={},
        carbon={},
        uploaded_by=username,
        uploaded_at=now(platform),
        source=source,
        hourly=hourly,
    )
    s.add(period)
    s.flush()
    if values:
        s.execute(
            insert(EnergyReading),
            [
                {"period_id": period.id, "point_id": points[k].id, "day": d, "value": v}
                for (k, d), v in sorted(values.items())
            ],
        )
    _compute(s, unit_id, period, points, values, extra or {})
    # an imbalance of this period (uploaded or live) is raised in the warning workflow, a balanced one clears it
    s.flush()
    unit = s.get(EnergyUnit, unit_id)
    assert unit is not None
    warning_records.energy_balances(s, platform, unit_id, unit.organisation_id, period.id)
    return period


def _intensity(
    s: Session,
    period: EnergyPeriod,
    points: dict[str, EnergyPoint],
    product: str,
    output: float,
    node_key: str | None,
) -> dict[str, Any]:
    """The period's unit energy consumption of ``node_key`` (the boundary by default), kgce by 当量值."""
    if node_key is None:
        boundary = s.scalars(
            select(EnergyNode).where(EnergyNode.topology_id == period.topology_id, EnergyNode.level == "boundary")
        ).first()
        node_key = boundary.key if boundary is not None else ""
    coefs = coefficients()
    rows = s.scalars(
        select(EnergyConsumption).where(EnergyConsumption.period_id == period.id, EnergyConsumption.node_key == node_key)
    ).all()
    kgce, missing, flags = 0.0, [], set()
    for row in rows:
        coef = coefs.get(EnergyType(row.energy_type))
        if coef is None:
            missing.append(row.energy_type)
            continue
        kgce += conversion.to_standard_coal(row.value, row.unit, coef).kgce
        flags.update(row.flags or [])
    a = intensity.assess(product, output, kgce)
    return {
        "product": a.product,
        "product_zh": a.rows[0][0].product_zh,
        "standard": a.standard,
        "indicator_zh": a.indicator_zh,
        "node": node_key,
        "output_t": a.output_t,
        "kgce": a.kgce,
        "value": a.value,
        "method": "calorific_value",
        "compliant": a.compliant,
        "provisional": a.provisional,
        "without_coefficient": missing,
        "flags": sorted(flags),
        "rows": [
            {
                "grade": r.grade,
                "grade_zh": intensity.GRADE_LABELS[r.grade][0],
                "grade_en": intensity.GRADE_LABELS[r.grade][1],
                "scope": r.scope,
                "kgce_per_t": r.kgce_per_t,
                "met": ok,
                "evidence": r.provenance.evidence,
                "source": r.provenance.source,
            }
            for r, ok in a.rows
        ],
    }


def _row(
    row_no: int,
    raw: dict[str, str],
    points: dict[str, EnergyPoint],
    start: date,
    end: date,
    problems: Problems,
) -> tuple[str, date, float] | None:
    key = raw.get("point", "").strip()
    point = points.get(key)
    if point is None:
        problems.add(
            row_no, "point", "计量网络中没有该计量点 / no such metering point in the unit's tree", key
        )
        return None
    et_text = raw.get("energy_type", "").strip()
    et = ENERGY_FROM_LABEL.get(et_text, et_text)
    if et != point.energy_type:
        problems.add(
            row_no,
            "energy_type",
            f"该计量点计量{ENERGY_LABELS[EnergyType(point.energy_type)][0]}，不是 {et_text} / the point measures "
            f"{point.energy_type}, not {et_text}",
            et_text,
        )
        return None
    try:
        day = date.fromisoformat(raw.get("day", "").strip())
    except ValueError:
        problems.add(row_no, "day", "日期无效（YYYY-MM-DD）/ day must be a date (YYYY-MM-DD)", raw.get("day"))
        return None
    if not start <= day <= end:
        problems.add(row_no, "day", "日期不在报告期内 / the day is outside the period", raw.get("day"))
        return None
    try:
        value = float(raw.get("value", "").strip())
    except ValueError:
        problems.add(row_no, "value", "消耗量须为数值 / the consumption must be a number", raw.get("value"))
        return None
    if not math.isfinite(value) or value < 0:
        problems.add(
            row_no,
            "value",
            "消耗量须为非负有限数 / the consumption must be a finite number ≥ 0",
            raw.get("value"),
        )
        return None
    unit = raw.get("unit", "").strip()
    try:
        converted = conversion.convert(value, unit, point.unit, "unit") if unit != point.unit else value
    except InvalidInput:
        problems.add(
            row_no,
            "unit",
            f"单位 {unit} 不能换算为该计量点的 {point.unit} / {unit} does not convert to the point's {point.unit}",
            unit,
        )
        return None
    return key, day, converted


def _quality(days: list[date], series: dict[date, float], start: date, end: date) -> dict[str, Any]:
    gaps: list[list[str]] = []
    day, gap_start = start, None
    while day <= end:
        if day not in series and gap_start is None:
            gap_start = day
        if day in series and gap_start is not None:
            gaps.append([gap_start.isoformat(), (day - timedelta(days=1)).isoformat()])
            gap_start = None
        day += timedelta(days=1)
    if gap_start is not None:
        gaps.append([gap_start.isoformat(), end.isoformat()])
    stuck: list[list[str]] = []
    run: list[date] = []
    for d in days:
        if run and d == run[-1] + timedelta(days=1) and series[d] == series[run[-1]] and series[d] > 0:
            run.append(d)
        else:
            if len(run) >= STUCK_RUN:
                stuck.append([run[0].isoformat(), run[-1].isoformat()])
            run = [d]
    if len(run) >= STUCK_RUN:
        stuck.append([run[0].isoformat(), run[-1].isoformat()])
    return {"days": len(days), "gaps": gaps, "stuck": stuck}


def _compute(
    s: Session,
    unit_id: int,
    period: EnergyPeriod,
    points: dict[str, EnergyPoint],
    values: dict[tuple[str, date], float],
    extra: dict[str, dict[str, Any]],
) -> None:
    coefs = coefficients()
    series: dict[str, dict[date, float]] = defaultdict(dict)
    for (k, d), v in values.items():
        series[k][d] = v
    instruments = {
        i.id: i
        for i in s.scalars(
            select(Instrument).where(Instrument.id.in_([p.instrument_id for p in points.values()]))
        )
    }
    quality: list[dict[str, Any]] = []
    flags_of: dict[str, list[str]] = {}
    totals: dict[str, float] = {}  # point -> consumption in the energy's canonical unit
    for key, p in sorted(points.items()):
        q = _quality(sorted(series.get(key, {})), series.get(key, {}), period.period_start, period.period_end)
        flags = (["gaps"] if q["gaps"] else []) + (["stuck"] if q["stuck"] else [])
        if q["days"] == 0:
            flags = ["no_data"]
        more = extra.get(key, {})
        flags = sorted(set(flags) | set(more.get("flags", [])))
        flags_of[key] = flags
        quality.append(
            {"point": key, "node": p.node_key, "energy_type": p.energy_type, **q, **more, "flags": flags}
        )
        target = conversion.canonical_unit(EnergyType(p.energy_type), coefs) or p.unit
        amount = math.fsum(series.get(key, {}).values())
        totals[key] = conversion.convert(amount, p.unit, target, "unit") if target != p.unit else amount
    period.quality = quality
    nodes = s.scalars(select(EnergyNode).where(EnergyNode.topology_id == period.topology_id)).all()
    by_node: dict[tuple[str, str], list[EnergyPoint]] = defaultdict(list)
    for p in points.values():
        by_node[(p.node_key, p.energy_type)].append(p)
    for (node_key, et), pts in sorted(by_node.items()):
        et_enum = EnergyType(et)
        s.add(
            EnergyConsumption(
                period_id=period.id,
                node_key=node_key,
                energy_type=et,
                value=math.fsum(totals[p.key] for p in pts),
                unit=conversion.canonical_unit(et_enum, coefs) or pts[0].unit,
                flags=sorted({f for p in pts for f in flags_of[p.key]}),
            )
        )
    _balances(s, unit_id, period, nodes, by_node, totals, flags_of, instruments)
    boundary = next((n for n in nodes if n.level == "boundary"), None)
    boundary_points = [p for p in points.values() if boundary is not None and p.node_key == boundary.key]
    period.coal = _coal(boundary_points, totals, period.period_end.year)
    period.carbon = _carbon(boundary_points, totals, flags_of, instruments, period)


def _node_reading(
    pts: list[EnergyPoint], totals: dict[str, float], instruments: dict[int, Instrument]
) -> tuple[float, float | None]:
    """The node's consumption and the equivalent MPE (percent) of its meters together: u² = Σ(MPEᵢ·xᵢ/√3)²."""
    value = math.fsum(totals[p.key] for p in pts)
    mpes = [mpe_percent(instruments[p.instrument_id].accuracy_class) for p in pts]
    if any(m is None for m in mpes):
        return value, None
    if value <= 0:
        return value, max(m for m in mpes if m is not None)
    u = math.sqrt(
        math.fsum((m / 100 * totals[p.key] / math.sqrt(3)) ** 2 for p, m in zip(pts, mpes, strict=True) if m)
    )
    return value, u * math.sqrt(3) / value * 100 if u > 0 else max(m for m in mpes if m is not None)


def _balances(
    s: Session,
    unit_id: int,
    period: EnergyPeriod,
    nodes: Any,
    by_node: dict[tuple[str, str], list[EnergyPoint]],
    totals: dict[str, float],
    flags_of: dict[str, list[str]],
    instruments: dict[int, Instrument],
) -> None:
    children: dict[str, list[EnergyNode]] = defaultdict(list)
    for n in nodes:
        if n.parent_key is not None:
            children[n.parent_key].append(n)
    for parent in nodes:
        for et in sorted({et for (k, et) in by_node if k == parent.key}):
            kids = [
                c
                for c in children.get(parent.key, [])
                if (c.demand or {}).get(et, 0) > 0 or (c.key, et) in by_node
            ]
            if not kids:
                continue
            evidence: dict[str, Any] = {"children": [c.key for c in kids], "meters": {}}
            unmetered = [c.key for c in kids if (c.key, et) not in by_node]
            involved = by_node[(parent.key, et)] + [p for c in kids for p in by_node.get((c.key, et), [])]
            gaps = sorted({p.key for p in involved if {"gaps", "no_data"} & set(flags_of[p.key])})
            p_value, p_mpe = _node_reading(by_node[(parent.key, et)], totals, instruments)
            reason = ""
            if unmetered:
                reason = "下级未全部计量 / children without a meter: " + ", ".join(unmetered)
            elif gaps:
                reason = "读数有缺失 / readings with gaps: " + ", ".join(gaps)
            readings: list[balance.Reading] = []
            for c in kids:
                if (c.key, et) not in by_node:
                    continue
                value, mpe = _node_reading(by_node[(c.key, et)], totals, instruments)
                evidence["meters"][c.key] = {"value": value, "mpe_percent": mpe}
                if mpe is None and not reason:
                    reason = f"准确度未知 / accuracy unknown at {c.key}"
                readings.append(balance.Reading(c.key, value, mpe or 1.0))
            evidence["meters"][parent.key] = {"value": p_value, "mpe_percent": p_mpe}
            if p_mpe is None and not reason:
                reason = f"准确度未知 / accuracy unknown at {parent.key}"
            if reason or not readings or p_value <= 0:
                evidence["reason"] = reason or "上级无消耗 / nothing consumed at the parent"
                s.add(
                    EnergyBalanceCheck(
                        period_id=period.id,
                        unit_id=unit_id,
                        node_key=parent.key,
                        energy_type=et,
                        status="not_checked",
                        parent=p_value,
                        children=None,
                        difference=None,
                        tolerance=None,
                        evidence=evidence,
                    )
                )
                continue
            result = balance.check(balance.Reading(parent.key, p_value, p_mpe or 1.0), readings)
            evidence.update({"u": result.u, "k": result.k, "relative": result.relative})
            s.add(
                EnergyBalanceCheck(
                    period_id=period.id,
                    unit_id=unit_id,
                    node_key=parent.key,
                    energy_type=et,
                    status="balanced" if result.within else "imbalance",
                    parent=result.parent,
                    children=result.children,
                    difference=result.difference,
                    tolerance=result.tolerance,
                    evidence=evidence,
                )
            )


def _coal(points: list[EnergyPoint], totals: dict[str, float], year: int) -> dict[str, Any]:
    coefs = coefficients()
    supply = power_supply_coal()
    known = [y for y in supply if y <= year]
    eq_year = max(known) if known else None
    rows: list[dict[str, Any]] = []
    calorific = equal = 0.0
    for et in sorted({p.energy_type for p in points}):
        amount = math.fsum(totals[p.key] for p in points if p.energy_type == et)
        coef = coefs.get(EnergyType(et))
        if coef is None:
            rows.append({"energy_type": et, "amount": amount, "note": "没有折标系数 / no coefficient"})
            continue
        c = conversion.to_standard_coal(amount, coef.unit, coef)
        row: dict[str, Any] = {
            "energy_type": et,
            "amount": amount,
            "unit": coef.unit,
            "kgce_calorific": c.kgce,
            "coefficient": c.coefficient,
            "method": c.method,
            "evidence": coef.provenance.evidence,
        }
        calorific += c.kgce
        if EnergyType(et) is EnergyType.ELECTRICITY and eq_year is not None:
            e = conversion.to_standard_coal(
                amount,
                coef.unit,
                coef,
                electricity="equal_value",
                equal_value_kgce_per_kwh=supply[eq_year][0],
            )
            row["kgce_equal_value"] = e.kgce
            row["equal_value_coefficient"] = e.coefficient
            row["equal_value_year"] = eq_year
            equal += e.kgce
        else:
            equal += c.kgce
        rows.append(row)
    return {
        "rows": rows,
        "tce_calorific": calorific / 1000,
        "tce_equal_value": equal / 1000 if eq_year is not None else None,
        "equal_value_year": eq_year,
    }


def _carbon(
    points: list[EnergyPoint],
    totals: dict[str, float],
    flags_of: dict[str, list[str]],
    instruments: dict[int, Instrument],
    period: EnergyPeriod,
) -> dict[str, Any]:
    fuels = carbon.fuel_factors()
    activities: list[carbon.Activity] = []
    notes: list[str] = []
    for p in sorted(points, key=lambda x: x.key):
        et = EnergyType(p.energy_type)
        inst = instruments[p.instrument_id]
        label = f"{p.key} {inst.name}（{inst.serial_number}）"
        if et is EnergyType.ELECTRICITY:
            amount = conversion.convert(totals[p.key], "kWh", "MW*h", "unit")
        elif et in fuels:
            amount = conversion.convert(
                totals[p.key],
                conversion.canonical_unit(et, coefficients()) or p.unit,
                fuels[et].activity_unit,
                "unit",
            )
        else:
            continue
        mpe = mpe_percent(inst.accuracy_class)
        if mpe is None:
            return {
                "error": f"{label}: 准确度等级未知，无法评定不确定度 / accuracy class unknown: no uncertainty"
            }
        if flags_of[p.key]:
            notes.append(f"{label}: 读数 {', '.join(flags_of[p.key])} / readings flagged")
        activities.append(
            carbon.Activity(label, et, amount, mpe_percent=mpe, verified=verified_on(inst, period.period_end))
        )
    if not activities:
        return {"error": "边界没有产生排放的能源 / no emitting energy at the boundary"}
    seed = int(period.sha256[:8], 16)
    r = carbon.emissions(activities, grid_year=max(carbon.grid_factors()), trials=MC_TRIALS, seed=seed)
    return {
        "total": r.total,
        "u": r.u,
        "U": r.U,
        "k": r.k,
        "mc_total": r.mc_total,
        "mc_u": r.mc_u,
        "mc_interval": list(r.mc_interval) if r.mc_interval else None,
        "mc_trials": r.mc_trials,
        "by_source": [{"label": lab, "t": t} for lab, t in r.by_source],
        "budget": [{"input": b.input, "label": b.label, "u": b.u, "share": b.share} for b in r.budget],
        "dominant": r.dominant.label,
        "flags": list(r.flags) + notes,
        "grid_year": max(carbon.grid_factors()),
    }


def period_summary(s: Session, period: EnergyPeriod) -> dict[str, Any]:
    consumption = s.scalars(
        select(EnergyConsumption)
        .where(EnergyConsumption.period_id == period.id)
        .order_by(EnergyConsumption.id)
    ).all()
    checks = s.scalars(
        select(EnergyBalanceCheck)
        .where(EnergyBalanceCheck.period_id == period.id)
        .order_by(EnergyBalanceCheck.id)
    ).all()
    return {
        "id": period.id,
        "unit_id": period.unit_id,
        "topology_id": period.topology_id,
        "period_start": period.period_start.isoformat(),
        "period_end": period.period_end.isoformat(),
        "rows": period.rows,
        "sha256": period.sha256,
        "quality": list(period.quality),
        "consumption": [
            {
                "node": c.node_key,
                "energy_type": c.energy_type,
                "value": c.value,
                "unit": c.unit,
                "flags": list(c.flags),
            }
            for c in consumption
        ],
        "balance": [
            {
                "node": b.node_key,
                "energy_type": b.energy_type,
                "status": b.status,
                "parent": b.parent,
                "children": b.children,
                "difference": b.difference,
                "tolerance": b.tolerance,
                "evidence": dict(b.evidence),
            }
            for b in checks
        ],
        "coal": dict(period.coal),
        "carbon": dict(period.carbon),
        "source": period.source,
        "hourly": dict(period.hourly) if period.hourly else None,
    }


def list_periods(platform: Platform, principal: Principal, unit_id: int) -> list[dict[str, Any]]:
    with platform.reading() as s:
        unit = visible_unit(s, principal, unit_id)
        rows = s.scalars(
            select(EnergyPeriod)
            .where(EnergyPeriod.unit_id == unit.id)
            .order_by(EnergyPeriod.period_start.desc())
        ).all()
        return [period_summary(s, p) for p in rows]


def get_period(platform: Platform, principal: Principal, period_id: int) -> dict[str, Any]:
    with platform.reading() as s:
        row = s.get(EnergyPeriod, period_id)
        if row is None:
            raise not_found("报告期 period", period_id)
        try:
            visible_unit(s, principal, row.unit_id)
        except LookupError:
            raise not_found("报告期 period", period_id) from None
        return period_summary(s, row)
