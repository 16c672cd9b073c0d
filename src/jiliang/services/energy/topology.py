"""A unit's metering tree uploaded as one CSV or XLSX sheet (read by ``services/transfer``), stored whole or
not at all: every refused row is listed with its field and reason (the import report), and nothing is kept.

One sheet, one row per node and energy or per metering point (``kind``):
- node rows: ``key``, ``name``, ``level`` (boundary / secondary / equipment, or 进出用能单位 / 主要次级用能单位
  / 主要用能设备), ``parent``, ``energy_type``, ``demand`` (in the unit of the threshold at the node's level),
  ``supply_points``; a node using several energies has one row per energy (the same key);
- point rows: ``key`` (the point's code), ``parent`` (the node it sits on), ``energy_type``,
  ``instrument_id`` (the registry instrument, which must belong to the unit), ``meter_kind``, ``unit``
  (the unit of its readings, which must measure the energy: kWh for electricity, m3 for gas, …).

Each upload is a new version of the tree (``energy_topologies``); reviews and readings name the version.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from typing import Any, BinaryIO

from sqlalchemy import select

from jiliang.domain.access import Principal
from jiliang.energy import conversion
from jiliang.energy import review as engine
from jiliang.energy.rules import ENERGY_LABELS, LEVEL_LABELS, EnergyType, Level, coefficients
from jiliang.errors import InvalidInput
from jiliang.services.energy.common import now, visible_unit
from jiliang.services.platform import Platform
from jiliang.services.transfer.columns import Column
from jiliang.services.transfer.reading import Problems, open_sheet
from jiliang.store.models import EnergyNode, EnergyPoint, EnergyTopology, Instrument

TOPOLOGY_COLUMNS: tuple[Column, ...] = (
    Column("kind", "类型", True),
    Column("key", "编号", True),
    Column("name", "名称"),
    Column("level", "层级"),
    Column("parent", "上级节点"),
    Column("energy_type", "能源种类", True),
    Column("demand", "用能量"),
    Column("supply_points", "计量点数"),
    Column("instrument_id", "器具ID"),
    Column("meter_kind", "器具类别"),
    Column("unit", "计量单位"),
)
KIND_LABELS = {"node": "node", "节点": "node", "point": "point", "计量点": "point"}
LEVEL_FROM_LABEL = {zh: lvl.value for lvl, (zh, _en) in LEVEL_LABELS.items()} | {
    "主要次级用能单位": "secondary",
    "次级用能单位": "secondary",
    "用能单位": "boundary",
}
ENERGY_FROM_LABEL = {zh: et.value for et, (zh, _en) in ENERGY_LABELS.items()}
DEFAULT_METER_KIND = {
    EnergyType.ELECTRICITY: "electricity_meter",
    EnergyType.NATURAL_GAS: "gas_flowmeter",
    EnergyType.COAL_GAS: "gas_flowmeter",
    EnergyType.LPG: "gas_flowmeter",
    EnergyType.COAL: "weighing_dynamic",
    EnergyType.COKE: "weighing_dynamic",
    EnergyType.CRUDE_OIL: "oil_flowmeter",
    EnergyType.REFINED_OIL: "oil_flowmeter",
    EnergyType.HEAVY_OIL: "oil_flowmeter",
    EnergyType.STEAM: "steam_flowmeter",
    EnergyType.WATER: "water_meter",
}
MAX_BYTES = 8 * 1024 * 1024
MAX_ROWS = 50_000
_ITEM = re.compile(r"^(nodes|meters)\[(\d+)\]")


def upload_file(
    platform: Platform, principal: Principal, unit_id: int, source: BinaryIO, fmt: str
) -> dict[str, Any]:
    """Read the sheet and store the tree as the unit's new version (see the module's docstring)."""
    problems = Problems(limit=200)
    sheet = open_sheet(source, fmt, TOPOLOGY_COLUMNS, problems, MAX_BYTES)
    rows: list[tuple[int, dict[str, str]]] = []
    for row_no, raw in sheet.rows:
        if raw is not None:
            rows.append((row_no, raw))
        if len(rows) > MAX_ROWS:
            raise InvalidInput(f"行数超过 {MAX_ROWS} / more than {MAX_ROWS} rows", field="file")
    return _store(platform, principal, unit_id, rows, problems, sheet.sha256)


def upload_rows(
    platform: Platform, principal: Principal, unit_id: int, rows: Iterable[dict[str, Any]]
) -> dict[str, Any]:
    """The same from JSON rows (the API): each row as a sheet row would hold it."""
    numbered = [(i + 2, {k: "" if v is None else str(v) for k, v in r.items()}) for i, r in enumerate(rows)]
    digest = hashlib.sha256(repr(numbered).encode()).hexdigest()
    return _store(platform, principal, unit_id, numbered, Problems(limit=200), digest)


def _store(
    platform: Platform,
    principal: Principal,
    unit_id: int,
    rows: list[tuple[int, dict[str, str]]],
    problems: Problems,
    sha256: str,
) -> dict[str, Any]:
    with platform.unit_of_work(principal) as s:
        unit = visible_unit(s, principal, unit_id)
        parsed = _parse(rows, problems)
        node_rows, point_rows = parsed
        instruments = {
            i.id: i
            for i in s.scalars(
                select(Instrument).where(Instrument.id.in_([p["instrument_id"] for _, p in point_rows]))
            )
        }
        seen_instrument: dict[int, int] = {}
        for row_no, p in point_rows:
            inst = instruments.get(p["instrument_id"])
            if inst is None or inst.owner_id != unit.organisation_id:
                problems.add(
                    row_no,
                    "instrument_id",
                    "登记册中没有本单位的这台器具 / no instrument of this unit with that id in the registry",
                    p["instrument_id"],
                )
            if p["instrument_id"] in seen_instrument:
                problems.add(
                    row_no,
                    "instrument_id",
                    f"同一器具已在第 {seen_instrument[p['instrument_id']]} 行的计量点 / the instrument is already "
                    f"at the point of row {seen_instrument[p['instrument_id']]} (a meter on two nodes)",
                    p["instrument_id"],
                )
            seen_instrument.setdefault(p["instrument_id"], row_no)
        if not problems:
            # the engine's checks of the whole tree: one root, no cycle, levels in order, points on nodes
            topo = engine.topology_from_rows(
                [n for _, n in node_rows],
                [
                    {
                        "key": p["key"],
                        "node": p["node"],
                        "energy_type": p["energy_type"],
                        "meter_kind": p["meter_kind"],
                    }
                    for _, p in point_rows
                ],
            )
            try:
                engine.validate(topo)
            except InvalidInput as exc:
                problems.add(_row_of(exc.field, node_rows, point_rows), exc.field or "row", exc.message)
        if problems:
            raise problems.refuse(len(rows))
        version = EnergyTopology(
            unit_id=unit.id,
            sha256=sha256,
            nodes=len(node_rows),
            points=len(point_rows),
            uploaded_by=principal.username,
            uploaded_at=now(platform),
        )
        s.add(version)
        s.flush()
        for _, n in node_rows:
            s.add(
                EnergyNode(
                    topology_id=version.id,
                    key=n["key"],
                    name=n["name"],
                    level=n["level"],
                    parent_key=n["parent"],
                    demand=n["demand"],
                    supply_points=n["supply_points"],
                )
            )
        for _, p in point_rows:
            s.add(
                EnergyPoint(
                    topology_id=version.id,
                    key=p["key"],
                    node_key=p["node"],
                    energy_type=p["energy_type"],
                    meter_kind=p["meter_kind"],
                    instrument_id=p["instrument_id"],
                    unit=p["unit"],
                )
            )
        return {
            "topology_id": version.id,
            "unit_id": unit.id,
            "nodes": len(node_rows),
            "points": len(point_rows),
            "rows_read": len(rows),
            "sha256": sha256,
        }


def _row_of(
    field: str | None, nodes: list[tuple[int, dict[str, Any]]], points: list[tuple[int, dict[str, Any]]]
) -> int:
    match = _ITEM.match(field or "")
    if match is None:
        return 0
    items = nodes if match.group(1) == "nodes" else points
    index = int(match.group(2))
    return items[index][0] if index < len(items) else 0


def _parse(
    rows: list[tuple[int, dict[str, str]]], problems: Problems
) -> tuple[list[tuple[int, dict[str, Any]]], list[tuple[int, dict[str, Any]]]]:
    """Node rows merged per key (one row per energy) and point rows, each problem added with its row."""
    nodes: dict[str, tuple[int, dict[str, Any]]] = {}
    points: list[tuple[int, dict[str, Any]]] = []
    point_keys: dict[str, int] = {}
    units = coefficients()
    for row_no, raw in rows:
        kind = KIND_LABELS.get(raw.get("kind", "").strip().lower())
        key = raw.get("key", "").strip()
        if kind is None:
            problems.add(
                row_no,
                "kind",
                "类型须为 节点/node 或 计量点/point / kind must be node or point",
                raw.get("kind"),
            )
            continue
        if not key or len(key) > 50:
            problems.add(row_no, "key", "编号须为 1–50 个字符 / key must be 1–50 characters", key)
            continue
        et_text = raw.get("energy_type", "").strip()
        try:
            et = EnergyType(ENERGY_FROM_LABEL.get(et_text, et_text))
        except ValueError:
            problems.add(row_no, "energy_type", "能源种类无效 / unknown energy type", et_text)
            continue
        parent = raw.get("parent", "").strip() or None
        if kind == "node":
            level_text = raw.get("level", "").strip()
            level = LEVEL_FROM_LABEL.get(level_text, level_text)
            if level not in {lv.value for lv in Level}:
                problems.add(
                    row_no, "level", "层级无效 / level must be boundary, secondary or equipment", level_text
                )
                continue
            demand = _float(raw.get("demand", ""), row_no, "demand", problems)
            count = _int(raw.get("supply_points", ""), row_no, "supply_points", problems)
            if demand is None or count is None:
                continue
            name = raw.get("name", "").strip()[:200] or key
            if key in nodes:
                first_row, node = nodes[key]
                if (node["level"], node["parent"]) != (level, parent):
                    problems.add(
                        row_no,
                        "parent",
                        f"与第 {first_row} 行的同一节点层级或上级不同 / the same node has another level or parent in "
                        f"row {first_row}",
                        parent,
                    )
                    continue
                if et.value in node["demand"]:
                    problems.add(
                        row_no, "energy_type", "该节点此能源已出现 / energy given twice for the node", et_text
                    )
                    continue
            else:
                node = {
                    "key": key,
                    "name": name,
                    "level": level,
                    "parent": parent,
                    "demand": {},
                    "supply_points": {},
                }
                nodes[key] = (row_no, node)
            node["demand"][et.value] = demand
            if count != 1:
                node["supply_points"][et.value] = count
            continue
        if key in point_keys:
            problems.add(
                row_no,
                "key",
                f"计量点编号与第 {point_keys[key]} 行重复 / point key repeats row {point_keys[key]}",
                key,
            )
            continue
        point_keys[key] = row_no
        if parent is None:
            problems.add(row_no, "parent", "计量点须给出所在节点 / a point needs its node", "")
            continue
        instrument = _int(raw.get("instrument_id", ""), row_no, "instrument_id", problems, required=True)
        unit = raw.get("unit", "").strip()
        target = conversion.canonical_unit(et, units)
        if not unit:
            problems.add(row_no, "unit", "计量点须给出读数单位 / a point needs the unit of its readings", "")
            continue
        if target is not None:
            try:
                conversion.convert(1.0, unit, target, "unit")
            except InvalidInput:
                problems.add(
                    row_no,
                    "unit",
                    f"单位 {unit} 不能计量{ENERGY_LABELS[et][0]}（应可换算为 {target}）/ {unit} does not measure "
                    f"{et.value} (it must convert to {target})",
                    unit,
                )
                continue
        if instrument is None:
            continue
        meter_kind = raw.get("meter_kind", "").strip() or DEFAULT_METER_KIND.get(et, "")
        points.append(
            (
                row_no,
                {
                    "key": key,
                    "node": parent,
                    "energy_type": et.value,
                    "meter_kind": meter_kind[:30],
                    "instrument_id": instrument,
                    "unit": unit[:20],
                },
            )
        )
    return list(nodes.values()), points


def _float(text: str, row_no: int, field: str, problems: Problems) -> float | None:
    text = text.strip()
    if not text:
        return 0.0
    try:
        value = float(text)
    except ValueError:
        problems.add(row_no, field, "须为数值 / must be a number", text)
        return None
    if not (value >= 0 and value != float("inf")):
        problems.add(row_no, field, "须为非负有限数 / must be a finite number ≥ 0", text)
        return None
    return value


def _int(text: str, row_no: int, field: str, problems: Problems, *, required: bool = False) -> int | None:
    text = text.strip()
    if not text:
        if required:
            problems.add(row_no, field, "必填 / required", "")
            return None
        return 1
    try:
        value = int(text)
    except ValueError:
        problems.add(row_no, field, "须为正整数 / must be a positive integer", text)
        return None
    if value < 1:
        problems.add(row_no, field, "须为正整数 / must be a positive integer", text)
        return None
    return value
