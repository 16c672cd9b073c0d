"""The energy-metering review of a key energy-using unit (能源计量审查) under GB 17167, from its topology.

A unit's metering tree has three levels (GB 17167): the boundary (进出用能单位), main secondary units
(主要次级用能单位) and main energy-using equipment (主要用能设备). Which secondary units and equipment are
"main" follows from their demand against the thresholds of 表1 and 表2; every (node, energy type) that must
be metered needs as many meters as it has supply points. The equipping rate (配备率, 3.2) of an energy type
at a level is the meters installed at the required points ÷ the meters required — computed, never typed
in — and is compared with 表3. Every meter at a required point is then checked for the accuracy 表4 asks
of its kind and energy, for a valid verification or calibration and for being in service (第5章).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from jiliang.energy.rules import (
    ENERGY_LABELS,
    LEVEL_LABELS,
    EnergyType,
    Level,
    Provenance,
    RuleSet,
    energy_type,
)
from jiliang.energy.rules import level as parse_level
from jiliang.errors import InvalidInput


@dataclass(frozen=True)
class Node:
    """A node of the metering tree. ``demand`` is per energy type, in the unit of the threshold that applies
    at the node's level (installed kW for electricity, t/a for coal at a secondary unit, t/h for coal at a
    piece of equipment, …: see ``rules.Threshold``); ``supply_points`` is how many meters measuring an energy
    at that node needs (default 1)."""

    key: str
    name: str
    level: Level
    parent: str | None = None
    demand: Mapping[EnergyType, float] = field(default_factory=dict)
    supply_points: Mapping[EnergyType, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Meter:
    """An energy meter at a node: the registry instrument, its accuracy (MPE in percent) and its state."""

    key: str  # the registry's reference (e.g. the instrument's id or serial number)
    node: str
    energy_type: EnergyType
    meter_kind: str  # "electricity_meter", "gas_flowmeter", … as in the accuracy table
    mpe_percent: float | None
    verified: bool  # a valid verification or calibration on the review date
    in_service: bool = True


@dataclass(frozen=True)
class Topology:
    nodes: tuple[Node, ...]
    meters: tuple[Meter, ...]

    def node(self, key: str) -> Node:
        for n in self.nodes:
            if n.key == key:
                return n
        raise KeyError(key)


ALLOWED_PARENTS: dict[Level, set[Level | None]] = {
    Level.BOUNDARY: {None},
    Level.SECONDARY: {Level.BOUNDARY, Level.SECONDARY},
    Level.EQUIPMENT: {Level.BOUNDARY, Level.SECONDARY},
}


def validate(topology: Topology) -> None:
    """Refuse a tree that cannot be reviewed, naming the node or meter: duplicates, unknown parents,
    cycles, levels out of order, negative demand, a meter on an unknown node or on two nodes."""
    nodes: dict[str, Node] = {}
    for i, n in enumerate(topology.nodes):
        where = f"nodes[{i}]"
        if not n.key:
            raise InvalidInput("节点缺少编号 / a node needs a key", field=f"{where}.key")
        if n.key in nodes:
            raise InvalidInput(f"节点编号重复 / node {n.key!r} is given twice", field=f"{where}.key")
        for et, value in n.demand.items():
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
                raise InvalidInput(
                    f"用能量须为非负有限数 / demand of {et.value} at node {n.key!r} must be a finite number ≥ 0",
                    field=f"{where}.demand.{et.value}",
                )
        for et, count in n.supply_points.items():
            if not (isinstance(count, int) and count >= 1):
                raise InvalidInput(
                    f"计量点数须为正整数 / supply points of {et.value} at node {n.key!r} must be an integer ≥ 1",
                    field=f"{where}.supply_points.{et.value}",
                )
        nodes[n.key] = n
    roots = [n for n in nodes.values() if n.parent is None]
    if len(roots) != 1 or roots[0].level is not Level.BOUNDARY:
        raise InvalidInput(
            "计量网络须有且只有一个用能单位边界节点作为根 / the tree needs exactly one root, at the unit's boundary",
            field="nodes",
        )
    for i, n in enumerate(topology.nodes):
        if n.parent is not None and n.parent not in nodes:
            raise InvalidInput(
                f"上级节点不存在 / parent {n.parent!r} of node {n.key!r} is not in the tree",
                field=f"nodes[{i}].parent",
            )
        parent_level = nodes[n.parent].level if n.parent is not None else None
        if parent_level not in ALLOWED_PARENTS[n.level]:
            raise InvalidInput(
                f"层级不符 / a {n.level.value} node ({n.key!r}) cannot sit under a {parent_level} node",
                field=f"nodes[{i}].parent",
            )
    for i, n in enumerate(topology.nodes):  # every walk up must reach the root within len(nodes) steps
        seen = {n.key}
        cursor = n.parent
        while cursor is not None:
            if cursor in seen:
                raise InvalidInput(
                    f"计量网络有环 / node {n.key!r} is its own ancestor", field=f"nodes[{i}].parent"
                )
            seen.add(cursor)
            cursor = nodes[cursor].parent
    placed: dict[str, str] = {}
    for i, m in enumerate(topology.meters):
        if m.node not in nodes:
            raise InvalidInput(
                f"计量器具所在节点不存在 / meter {m.key!r} is on unknown node {m.node!r}",
                field=f"meters[{i}].node",
            )
        if m.key in placed and placed[m.key] != m.node:
            raise InvalidInput(
                f"同一计量器具装在两个节点 / meter {m.key!r} is on both {placed[m.key]!r} and {m.node!r}",
                field=f"meters[{i}].node",
            )
        placed[m.key] = m.node
        if m.mpe_percent is not None and not (math.isfinite(m.mpe_percent) and m.mpe_percent > 0):
            raise InvalidInput(
                f"最大允许误差须为正数 / MPE of meter {m.key!r} must be a positive percentage",
                field=f"meters[{i}].mpe_percent",
            )


@dataclass(frozen=True)
class RequiredPoint:
    node: str
    level: Level
    energy_type: EnergyType
    meters_required: int
    meters_installed: int


@dataclass(frozen=True)
class RateRow:
    energy_type: EnergyType
    level: Level
    required: int
    installed: int
    percent: float | None  # None when nothing at this level needs metering
    required_percent: float | None  # None when the standard sets no rate here
    compliant: bool
    provenance: Provenance | None


@dataclass(frozen=True)
class Shortfall:
    code: str  # rate_below_required | point_unmetered | accuracy_insufficient | not_verified | out_of_service
    clause: str
    message_zh: str
    message_en: str
    node: str = ""
    energy_type: EnergyType | None = None
    meter: str = ""


@dataclass(frozen=True)
class Review:
    rule_set: str
    points: tuple[RequiredPoint, ...]
    rates: tuple[RateRow, ...]
    shortfalls: tuple[Shortfall, ...]
    provisional_rules: int  # rows of the rule set applied that are not confirmed from the standard's text

    @property
    def compliant(self) -> bool:
        return not self.shortfalls

    def rate(self, et: EnergyType, lvl: Level) -> RateRow:
        for row in self.rates:
            if row.energy_type is et and row.level is lvl:
                return row
        raise KeyError((et, lvl))


def is_main(node: Node, et: EnergyType, rules: RuleSet) -> bool:
    """Whether ``node`` must be metered for ``et``: the boundary always (for every energy it takes in),
    secondary units and equipment from the threshold of 表1 / 表2."""
    demand = node.demand.get(et, 0.0)
    if demand <= 0:
        return False
    if node.level is Level.BOUNDARY:
        return True
    threshold = rules.thresholds.get((et, node.level))
    return threshold is not None and demand >= threshold.limit


def review(topology: Topology, rules: RuleSet) -> Review:
    """The review of one unit against ``rules`` (its topology validated first)."""
    validate(topology)
    by_point: dict[tuple[str, EnergyType], list[Meter]] = defaultdict(list)
    for m in topology.meters:
        by_point[(m.node, m.energy_type)].append(m)
    boundary = next(n for n in topology.nodes if n.level is Level.BOUNDARY)
    energies = {et for n in topology.nodes for et, v in n.demand.items() if v > 0}
    points: list[RequiredPoint] = []
    shortfalls: list[Shortfall] = []
    for node in topology.nodes:
        types = sorted(energies, key=lambda e: e.value) if node is boundary else list(node.demand)
        for et in types:
            if node is not boundary and not is_main(node, et, rules):
                continue
            required = node.supply_points.get(et, 1)
            meters = by_point.get((node.key, et), [])
            installed = min(len(meters), required)
            points.append(RequiredPoint(node.key, node.level, et, required, installed))
            zh, en = ENERGY_LABELS[et]
            if installed < required:
                shortfalls.append(
                    Shortfall(
                        "point_unmetered",
                        rules.clauses.rate,
                        f"{node.name}的{zh}缺少计量器具：需 {required} 台，已配 {installed} 台",
                        f"{node.name}: {en} needs {required} meter(s), {installed} installed",
                        node=node.key,
                        energy_type=et,
                    )
                )
            for m in meters:
                shortfalls.extend(_check_meter(m, node, rules))
    totals: dict[tuple[EnergyType, Level], Counter[str]] = defaultdict(Counter)
    for p in points:
        totals[(p.energy_type, p.level)]["required"] += p.meters_required
        totals[(p.energy_type, p.level)]["installed"] += p.meters_installed
    rates: list[RateRow] = []
    for et in sorted(energies, key=lambda e: e.value):
        for lvl in Level:
            count = totals.get((et, lvl), Counter())
            required, installed = count["required"], count["installed"]
            rule = rules.rates.get((et, lvl))
            percent = 100.0 * installed / required if required else None
            ok = percent is None or rule is None or percent >= rule.percent
            rates.append(
                RateRow(
                    et,
                    lvl,
                    required,
                    installed,
                    percent,
                    rule.percent if rule else None,
                    ok,
                    rule.provenance if rule else None,
                )
            )
            if not ok and rule is not None and percent is not None:
                zh, en = ENERGY_LABELS[et]
                lzh, len_ = LEVEL_LABELS[lvl]
                shortfalls.append(
                    Shortfall(
                        "rate_below_required",
                        rules.clauses.rate,
                        f"{lzh}{zh}计量器具配备率 {percent:.1f} %，低于要求的 {rule.percent:g} %",
                        f"{en} meters at the {len_}: equipping rate {percent:.1f} % below the required {rule.percent:g} %",
                        energy_type=et,
                    )
                )
    return Review(rules.name, tuple(points), tuple(rates), tuple(shortfalls), rules.provisional_rows)


def _check_meter(m: Meter, node: Node, rules: RuleSet) -> list[Shortfall]:
    def shortfall(code: str, clause: str, zh: str, en: str) -> Shortfall:
        return Shortfall(
            code,
            clause,
            f"{node.name}的计量器具 {m.key} {zh}",
            f"meter {m.key} at {node.name} {en}",
            node=node.key,
            energy_type=m.energy_type,
            meter=m.key,
        )

    out: list[Shortfall] = []
    rule = rules.accuracy.get((m.meter_kind, m.energy_type))
    if rule is not None and (m.mpe_percent is None or m.mpe_percent > rule.max_mpe_percent + 1e-12):
        stated = "未知" if m.mpe_percent is None else f"±{m.mpe_percent:g} %"
        stated_en = "unknown" if m.mpe_percent is None else f"±{m.mpe_percent:g} %"
        required = f"{rule.class_label}，{rule.application}"
        out.append(
            shortfall(
                "accuracy_insufficient",
                rules.clauses.accuracy,
                f"准确度 {stated}，低于要求（{required}）",
                f"has accuracy {stated_en}, worse than required ({rule.class_label}, {rule.application})",
            )
        )
    if not m.in_service:
        out.append(shortfall("out_of_service", rules.clauses.state, "已停用", "is out of service"))
    elif not m.verified:
        out.append(
            shortfall(
                "not_verified",
                rules.clauses.state,
                "无有效检定或校准",
                "has no valid verification or calibration",
            )
        )
    return out


def topology_from_rows(
    nodes: Sequence[Mapping[str, object]], meters: Sequence[Mapping[str, object]]
) -> Topology:
    """A topology from plain rows (an upload or an API body), refusing bad values with the field named."""
    out_nodes = []
    for i, row in enumerate(nodes):
        demand_raw = row.get("demand") or {}
        points_raw = row.get("supply_points") or {}
        if not isinstance(demand_raw, Mapping) or not isinstance(points_raw, Mapping):
            raise InvalidInput(
                "用能量须为按能源种类的表 / demand must map energy types to numbers",
                field=f"nodes[{i}].demand",
            )
        demand = {
            energy_type(k, f"nodes[{i}].demand"): _number(v, f"nodes[{i}].demand.{k}")
            for k, v in demand_raw.items()
        }
        points = {
            energy_type(k, f"nodes[{i}].supply_points"): _count(v, f"nodes[{i}].supply_points.{k}")
            for k, v in points_raw.items()
        }
        out_nodes.append(
            Node(
                key=str(row.get("key") or ""),
                name=str(row.get("name") or row.get("key") or ""),
                level=parse_level(row.get("level"), f"nodes[{i}].level"),
                parent=None if row.get("parent") in (None, "") else str(row.get("parent")),
                demand=demand,
                supply_points=points,
            )
        )
    out_meters = []
    for i, row in enumerate(meters):
        mpe = row.get("mpe_percent")
        out_meters.append(
            Meter(
                key=str(row.get("key") or ""),
                node=str(row.get("node") or ""),
                energy_type=energy_type(row.get("energy_type"), f"meters[{i}].energy_type"),
                meter_kind=str(row.get("meter_kind") or ""),
                mpe_percent=None if mpe in (None, "") else _number(mpe, f"meters[{i}].mpe_percent"),
                verified=bool(row.get("verified", False)),
                in_service=bool(row.get("in_service", True)),
            )
        )
    return Topology(tuple(out_nodes), tuple(out_meters))


def _number(value: object, field_name: str) -> float:
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InvalidInput(f"须为数值 / must be a number, got {value!r}", field=field_name) from None
    if not math.isfinite(x):
        raise InvalidInput("须为有限数值 / must be finite", field=field_name)
    return x


def _count(value: object, field_name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"须为整数 / must be an integer, got {value!r}", field=field_name)
    return value
