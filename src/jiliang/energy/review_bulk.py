"""The GB 17167 review of many units at once, on columns (numpy), with the results of ``review.review``.

``review.review`` walks one unit's tree in Python (about 10⁵ meters a second); a province registers tens of
thousands of key units with millions of metering points. Here every unit's nodes, node energies and meters
are columns of one table each (all units concatenated), and the same steps run as array operations:

- validation (one boundary root per unit, parents inside the unit, levels in order, no cycle — by pointer
  doubling —, demand ≥ 0, supply points ≥ 1, a meter on one node only, MPE > 0), refusing the first bad
  row with its field, as ``review.validate`` does;
- which (node, energy) points must be metered (the boundary for every energy the unit uses, the others
  from 表1 / 表2), meters required and installed per point, the equipping rate per unit, energy and level
  against 表3, and each meter at a required point against 表4, its verification and its service state.

The shortfalls come out as code arrays; ``BulkReview.review_of(u)`` turns one unit's rows into the
``review.Review`` that ``review.review`` gives for it (a test checks they are equal, shortfall for shortfall
and in the same order), so the bureau's report reads the same whichever path computed it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from jiliang.energy.review import (
    Meter,
    Node,
    RateRow,
    RequiredPoint,
    Review,
    Shortfall,
    Topology,
    _check_meter,
)
from jiliang.energy.rules import ENERGY_LABELS, LEVEL_LABELS, EnergyType, Level, RuleSet
from jiliang.errors import InvalidInput

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

ENERGIES: tuple[EnergyType, ...] = tuple(EnergyType)  # column code = index here
LEVELS: tuple[Level, ...] = tuple(Level)  # boundary 0, secondary 1, equipment 2
ENERGY_SORT = np.argsort([e.value for e in ENERGIES]).astype(np.int64)  # the order review.review uses
_RANK = np.empty(len(ENERGIES), np.int64)
_RANK[ENERGY_SORT] = np.arange(len(ENERGIES))

# shortfall codes of the arrays
POINT_UNMETERED, ACCURACY, OUT_OF_SERVICE, NOT_VERIFIED, RATE_BELOW = range(5)


@dataclass(frozen=True)
class Columns:
    """All units' trees as columns. Nodes are rows 0…N−1 (a unit's nodes contiguous, in its own order);
    ``node_parent`` is a row index (−1 at the root). Node energies carry demand and supply points (the
    per-unit ``Node.demand`` / ``supply_points``; a missing demand is 0). Meters name their node row."""

    n_units: int
    node_unit: IntArray
    node_level: IntArray  # index into LEVELS
    node_parent: IntArray
    ne_node: IntArray
    ne_energy: IntArray  # index into ENERGIES
    ne_demand: FloatArray
    ne_points: IntArray
    ne_has_demand: BoolArray  # the energy is a key of Node.demand (not only of supply_points)
    m_node: IntArray
    m_energy: IntArray
    m_kind: IntArray  # index into kinds
    m_mpe: FloatArray  # NaN: unknown
    m_verified: BoolArray
    m_in_service: BoolArray
    m_ident: IntArray  # the meter's identity (two rows with one ident on two nodes are refused)
    kinds: tuple[str, ...]
    node_keys: Sequence[str] = ()
    node_names: Sequence[str] = ()
    meter_keys: Sequence[str] = ()


@dataclass(frozen=True)
class BulkReview:
    columns: Columns
    rules: RuleSet
    # required points (node, energy) in review order
    p_node: IntArray
    p_energy: IntArray
    p_required: IntArray
    p_installed: IntArray
    # rates: (unit, energy, level) rows for the energies each unit uses
    r_unit: IntArray
    r_energy: IntArray
    r_level: IntArray
    r_required: IntArray
    r_installed: IntArray
    r_compliant: BoolArray
    # shortfalls: code, unit, node (−1), energy, meter (−1), level (rates only, else −1)
    s_code: IntArray
    s_unit: IntArray
    s_node: IntArray
    s_energy: IntArray
    s_meter: IntArray

    @property
    def shortfalls_per_unit(self) -> IntArray:
        return np.bincount(self.s_unit, minlength=self.columns.n_units).astype(np.int64)

    @property
    def compliant(self) -> BoolArray:
        out: BoolArray = self.shortfalls_per_unit == 0
        return out

    def review_of(self, unit: int) -> Review:
        """Unit ``unit``'s review as ``review.review`` gives it (needs the keys and names of the columns)."""
        c = self.columns
        nodes = np.flatnonzero(c.node_unit == unit)
        topo = _unit_topology(c, unit, nodes)
        pts = np.flatnonzero(np.isin(self.p_node, nodes))
        meters_at: dict[tuple[int, int], list[int]] = {}  # (node row, energy) → positions in topo.meters
        for pos, m in enumerate(np.flatnonzero(np.isin(c.m_node, nodes)).tolist()):
            meters_at.setdefault((int(c.m_node[m]), int(c.m_energy[m])), []).append(pos)
        points: list[RequiredPoint] = []
        shortfalls: list[Shortfall] = []
        for p in pts:
            row, e = int(self.p_node[p]), int(self.p_energy[p])
            node = topo.nodes[row - nodes[0]]
            et = ENERGIES[e]
            required, installed = int(self.p_required[p]), int(self.p_installed[p])
            points.append(RequiredPoint(node.key, node.level, et, required, installed))
            if installed < required:
                zh, en = ENERGY_LABELS[et]
                shortfalls.append(
                    Shortfall(
                        "point_unmetered",
                        self.rules.clauses.rate,
                        f"{node.name}的{zh}缺少计量器具：需 {required} 台，已配 {installed} 台",
                        f"{node.name}: {en} needs {required} meter(s), {installed} installed",
                        node=node.key,
                        energy_type=et,
                    )
                )
            for pos in meters_at.get((row, e), []):
                shortfalls.extend(_check_meter(topo.meters[pos], node, self.rules))
        rates: list[RateRow] = []
        for r in np.flatnonzero(self.r_unit == unit):
            et, lvl = ENERGIES[int(self.r_energy[r])], LEVELS[int(self.r_level[r])]
            required, installed = int(self.r_required[r]), int(self.r_installed[r])
            rule = self.rules.rates.get((et, lvl))
            percent = 100.0 * installed / required if required else None
            ok = bool(self.r_compliant[r])
            rates.append(
                RateRow(
                    et, lvl, required, installed, percent, rule.percent if rule else None, ok,
                    rule.provenance if rule else None,
                )
            )
            if not ok and rule is not None and percent is not None:
                zh, en = ENERGY_LABELS[et]
                lzh, len_ = LEVEL_LABELS[lvl]
                shortfalls.append(
                    Shortfall(
                        "rate_below_required",
                        self.rules.clauses.rate,
                        f"{lzh}{zh}计量器具配备率 {percent:.1f} %，低于要求的 {rule.percent:g} %",
                        f"{en} meters at the {len_}: equipping rate {percent:.1f} % below the required {rule.percent:g} %",
                        energy_type=et,
                    )
                )
        return Review(
            self.rules.name, tuple(points), tuple(rates), tuple(shortfalls), self.rules.provisional_rows
        )


def _unit_topology(c: Columns, unit: int, nodes: IntArray) -> Topology:
    out_nodes = []
    by_node: dict[int, list[int]] = {}
    for i in np.flatnonzero(np.isin(c.ne_node, nodes)).tolist():
        by_node.setdefault(int(c.ne_node[i]), []).append(i)
    for row in nodes.tolist():
        nes = by_node.get(row, [])
        parent = int(c.node_parent[row])
        out_nodes.append(
            Node(
                key=c.node_keys[row],
                name=c.node_names[row],
                level=LEVELS[int(c.node_level[row])],
                parent=None if parent < 0 else c.node_keys[parent],
                demand={ENERGIES[int(c.ne_energy[i])]: float(c.ne_demand[i]) for i in nes if c.ne_has_demand[i]},
                supply_points={ENERGIES[int(c.ne_energy[i])]: int(c.ne_points[i]) for i in nes},
            )
        )
    meters = []
    for m in np.flatnonzero(np.isin(c.m_node, nodes)).tolist():
        mpe = float(c.m_mpe[m])
        meters.append(
            Meter(
                key=c.meter_keys[m],
                node=c.node_keys[int(c.m_node[m])],
                energy_type=ENERGIES[int(c.m_energy[m])],
                meter_kind=c.kinds[int(c.m_kind[m])],
                mpe_percent=None if np.isnan(mpe) else mpe,
                verified=bool(c.m_verified[m]),
                in_service=bool(c.m_in_service[m]),
            )
        )
    return Topology(tuple(out_nodes), tuple(meters))


def columns_from_topologies(topologies: Sequence[Topology]) -> Columns:
    """Columns of per-unit topologies (their nodes and meters in order); validate each first if unsure."""
    node_unit: list[int] = []
    node_level: list[int] = []
    node_parent: list[int] = []
    node_keys: list[str] = []
    node_names: list[str] = []
    ne: list[tuple[int, int, float, int, bool]] = []
    meters: list[tuple[int, int, int, float, bool, bool, int]] = []
    meter_keys: list[str] = []
    kinds: dict[str, int] = {}
    idents: dict[tuple[int, str], int] = {}
    for u, topo in enumerate(topologies):
        base = len(node_unit)
        rows = {n.key: base + i for i, n in enumerate(topo.nodes)}
        for n in topo.nodes:
            row = rows[n.key]
            node_unit.append(u)
            node_level.append(LEVELS.index(n.level))
            node_parent.append(-1 if n.parent is None else rows.get(n.parent, -2))
            node_keys.append(n.key)
            node_names.append(n.name)
            for et in dict.fromkeys([*n.demand, *n.supply_points]):
                ne.append(
                    (row, ENERGIES.index(et), float(n.demand.get(et, 0.0)), n.supply_points.get(et, 1), et in n.demand)
                )
        for m in topo.meters:
            meters.append(
                (
                    rows.get(m.node, -1),
                    ENERGIES.index(m.energy_type),
                    kinds.setdefault(m.meter_kind, len(kinds)),
                    np.nan if m.mpe_percent is None else m.mpe_percent,
                    m.verified,
                    m.in_service,
                    idents.setdefault((u, m.key), len(idents)),
                )
            )
            meter_keys.append(m.key)
    ne_cols: list[tuple[object, ...]] = list(zip(*ne, strict=True)) if ne else [()] * 5
    m_cols: list[tuple[object, ...]] = list(zip(*meters, strict=True)) if meters else [()] * 7
    return Columns(
        n_units=len(topologies),
        node_unit=np.asarray(node_unit, np.int64),
        node_level=np.asarray(node_level, np.int64),
        node_parent=np.asarray(node_parent, np.int64),
        ne_node=np.asarray(ne_cols[0], np.int64),
        ne_energy=np.asarray(ne_cols[1], np.int64),
        ne_demand=np.asarray(ne_cols[2], np.float64),
        ne_points=np.asarray(ne_cols[3], np.int64),
        ne_has_demand=np.asarray(ne_cols[4], np.bool_),
        m_node=np.asarray(m_cols[0], np.int64),
        m_energy=np.asarray(m_cols[1], np.int64),
        m_kind=np.asarray(m_cols[2], np.int64),
        m_mpe=np.asarray(m_cols[3], np.float64),
        m_verified=np.asarray(m_cols[4], np.bool_),
        m_in_service=np.asarray(m_cols[5], np.bool_),
        m_ident=np.asarray(m_cols[6], np.int64),
        kinds=tuple(kinds),
        node_keys=node_keys,
        node_names=node_names,
        meter_keys=meter_keys,
    )


def _first(mask: BoolArray) -> int | None:
    hits = np.flatnonzero(mask)
    return int(hits[0]) if hits.size else None


def validate(c: Columns) -> None:
    """Refuse the first row that ``review.validate`` would refuse in its unit, naming the row and field
    (rows here are global: ``nodes[i]`` is row i of the node columns)."""
    n = c.node_unit.size
    bad = _first(~(np.isfinite(c.ne_demand) & (c.ne_demand >= 0)))
    if bad is not None:
        raise InvalidInput("用能量须为非负有限数 / demand must be a finite number ≥ 0", field=f"node_energies[{bad}].demand")
    bad = _first(c.ne_points < 1)
    if bad is not None:
        raise InvalidInput("计量点数须为正整数 / supply points must be an integer ≥ 1", field=f"node_energies[{bad}].supply_points")
    root = c.node_parent == -1
    roots = np.bincount(c.node_unit[root], minlength=c.n_units)
    boundary_roots = np.bincount(c.node_unit[root & (c.node_level == 0)], minlength=c.n_units)
    bad = _first((roots != 1) | (boundary_roots != 1))
    if bad is not None:
        raise InvalidInput(
            "计量网络须有且只有一个用能单位边界节点作为根 / the tree needs exactly one root, at the unit's boundary",
            field=f"units[{bad}].nodes",
        )
    parent = np.where(root, 0, c.node_parent)
    known = root | ((c.node_parent >= 0) & (c.node_parent < n))
    known[~root] &= c.node_unit[~root] == c.node_unit[np.clip(parent[~root], 0, max(n - 1, 0))]
    bad = _first(~known)
    if bad is not None:
        raise InvalidInput("上级节点不存在 / the parent is not in the unit's tree", field=f"nodes[{bad}].parent")
    plevel = np.where(root, -1, c.node_level[parent])
    ok = np.where(
        c.node_level == 0, root, np.where(c.node_level == 1, (plevel == 0) | (plevel == 1), (plevel == 0) | (plevel == 1))
    )
    bad = _first(~ok)
    if bad is not None:
        raise InvalidInput("层级不符 / the node's level cannot sit under its parent's", field=f"nodes[{bad}].parent")
    # pointer doubling: after ⌈log2 n⌉ + 1 squarings every node not on a cycle points at its root (−1 → self)
    jump = np.where(root, np.arange(n), c.node_parent)
    for _ in range(max(1, int(n).bit_length() + 1)):
        jump = jump[jump]
    bad = _first(~root[jump]) if n else None
    if bad is not None:
        raise InvalidInput("计量网络有环 / the node is its own ancestor", field=f"nodes[{bad}].parent")
    bad = _first((c.m_node < 0) | (c.m_node >= n))
    if bad is not None:
        raise InvalidInput("计量器具所在节点不存在 / the meter is on an unknown node", field=f"meters[{bad}].node")
    order = np.lexsort((c.m_node, c.m_ident))
    same = (c.m_ident[order][1:] == c.m_ident[order][:-1]) & (c.m_node[order][1:] != c.m_node[order][:-1])
    bad = _first(same)
    if bad is not None:
        raise InvalidInput("同一计量器具装在两个节点 / the meter is on two nodes", field=f"meters[{int(order[bad + 1])}].node")
    bad = _first(~np.isnan(c.m_mpe) & ~(np.isfinite(c.m_mpe) & (c.m_mpe > 0)))
    if bad is not None:
        raise InvalidInput("最大允许误差须为正数 / MPE must be a positive percentage", field=f"meters[{bad}].mpe_percent")


def _table(rules: RuleSet, kinds: Sequence[str]) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Rule lookups as arrays: threshold [energy, level], rate [energy, level], max MPE [kind, energy] (NaN: none)."""
    ne, nl = len(ENERGIES), len(LEVELS)
    threshold = np.full((ne, nl), np.nan)
    rate = np.full((ne, nl), np.nan)
    for (et, lvl), t in rules.thresholds.items():
        threshold[ENERGIES.index(et), LEVELS.index(lvl)] = t.limit
    for (et, lvl), r in rules.rates.items():
        rate[ENERGIES.index(et), LEVELS.index(lvl)] = r.percent
    accuracy = np.full((max(len(kinds), 1), ne), np.nan)
    for (kind, et), a in rules.accuracy.items():
        if kind in kinds:
            accuracy[kinds.index(kind), ENERGIES.index(et)] = a.max_mpe_percent
    return threshold, rate, accuracy


def _lookup(keys: IntArray, values: IntArray, wanted: IntArray) -> IntArray:
    """``values`` at ``wanted`` in sorted unique ``keys``, 0 where absent."""
    if not keys.size:
        return np.zeros(wanted.size, np.int64)
    at = np.clip(np.searchsorted(keys, wanted), 0, keys.size - 1)
    return np.where(keys[at] == wanted, values[at], 0).astype(np.int64)


def review(c: Columns, rules: RuleSet) -> BulkReview:
    """The review of every unit in ``c`` against ``rules`` (validated first)."""
    validate(c)
    ne_n, nl = len(ENERGIES), len(LEVELS)
    threshold, rate_rule, accuracy = _table(rules, c.kinds)
    # the energies each unit uses: any node with demand > 0
    used = np.zeros((c.n_units, ne_n), np.bool_)
    pos = c.ne_demand > 0
    used[c.node_unit[c.ne_node[pos]], c.ne_energy[pos]] = True
    # supply points of (node, energy), 1 unless given
    key_ne = c.ne_node * ne_n + c.ne_energy
    # boundary points: every used energy of the unit, at its root
    root_of_unit = np.empty(c.n_units, np.int64)
    is_root = c.node_parent == -1
    root_of_unit[c.node_unit[is_root]] = np.flatnonzero(is_root)
    bu, be = np.nonzero(used)
    b_node = root_of_unit[bu]
    b_key = b_node * ne_n + be
    b_points = np.ones(b_key.size, np.int64)
    if key_ne.size:
        sorter = np.argsort(key_ne, kind="stable")
        idx = sorter[np.clip(np.searchsorted(key_ne, b_key, sorter=sorter), 0, key_ne.size - 1)]
        match = key_ne[idx] == b_key
        b_points[match] = c.ne_points[idx[match]]
    # the other nodes' points from 表1 / 表2, in node-energy order
    lvl = c.node_level[c.ne_node]
    thr = threshold[c.ne_energy, lvl]
    main = (lvl != 0) & c.ne_has_demand & (c.ne_demand > 0) & ~np.isnan(thr) & (c.ne_demand >= np.nan_to_num(thr, nan=np.inf))
    o_node, o_energy, o_points = c.ne_node[main], c.ne_energy[main], c.ne_points[main]
    # one list of points in review order: by node row, then the boundary's energies sorted by value, the
    # others in the node's own order
    p_node = np.concatenate([b_node, o_node])
    p_energy = np.concatenate([be, o_energy])
    p_required = np.concatenate([b_points, o_points])
    p_sub = np.concatenate([_RANK[be], np.flatnonzero(main)])
    order = np.lexsort((p_sub, p_node))
    p_node, p_energy, p_required = p_node[order], p_energy[order], p_required[order]
    p_key = p_node * ne_n + p_energy
    # meters per point
    m_key = c.m_node * ne_n + c.m_energy
    m_keys, m_counts = np.unique(m_key, return_counts=True)
    meters_here = _lookup(m_keys, m_counts.astype(np.int64), p_key)
    p_installed = np.minimum(meters_here, p_required)
    # rates per (unit, energy, level)
    p_unit = c.node_unit[p_node]
    p_level = c.node_level[p_node]
    cell = (p_unit * ne_n + p_energy) * nl + p_level
    size = c.n_units * ne_n * nl
    req = np.bincount(cell, weights=p_required, minlength=size).astype(np.int64).reshape(c.n_units, ne_n, nl)
    ins = np.bincount(cell, weights=p_installed, minlength=size).astype(np.int64).reshape(c.n_units, ne_n, nl)
    ru, re_ = np.nonzero(used[:, ENERGY_SORT])  # units' energies sorted by value
    re_ = ENERGY_SORT[re_]
    r_unit = np.repeat(ru, nl)
    r_energy = np.repeat(re_, nl)
    r_level = np.tile(np.arange(nl, dtype=np.int64), ru.size)
    r_required = req[r_unit, r_energy, r_level]
    r_installed = ins[r_unit, r_energy, r_level]
    rule_pct = rate_rule[r_energy, r_level]
    with np.errstate(invalid="ignore", divide="ignore"):
        pct = 100.0 * r_installed / r_required
    r_ok = (r_required == 0) | np.isnan(rule_pct) | (pct >= rule_pct)
    # meters at required points
    point_set = np.unique(p_key)
    at_point = _lookup(point_set, np.ones(point_set.size, np.int64), m_key) > 0
    max_mpe = accuracy[c.m_kind, c.m_energy] if c.m_kind.size else np.zeros(0)
    acc_bad = at_point & ~np.isnan(max_mpe) & (np.isnan(c.m_mpe) | (c.m_mpe > max_mpe + 1e-12))
    oos = at_point & ~c.m_in_service
    unver = at_point & c.m_in_service & ~c.m_verified
    unmet = np.flatnonzero(p_installed < p_required)
    rate_bad = np.flatnonzero(~r_ok)
    parts = [
        (POINT_UNMETERED, p_unit[unmet], p_node[unmet], p_energy[unmet], np.full(unmet.size, -1)),
    ]
    for code, mask in ((ACCURACY, acc_bad), (OUT_OF_SERVICE, oos), (NOT_VERIFIED, unver)):
        rows = np.flatnonzero(mask)
        parts.append((code, c.node_unit[c.m_node[rows]], c.m_node[rows], c.m_energy[rows], rows))
    parts.append((RATE_BELOW, r_unit[rate_bad], np.full(rate_bad.size, -1), r_energy[rate_bad], np.full(rate_bad.size, -1)))
    s_code = np.concatenate([np.full(p[1].size, p[0], np.int64) for p in parts])
    return BulkReview(
        columns=c,
        rules=rules,
        p_node=p_node,
        p_energy=p_energy,
        p_required=p_required,
        p_installed=p_installed,
        r_unit=r_unit,
        r_energy=r_energy,
        r_level=r_level,
        r_required=r_required,
        r_installed=r_installed,
        r_compliant=r_ok,
        s_code=s_code,
        s_unit=np.concatenate([p[1] for p in parts]).astype(np.int64),
        s_node=np.concatenate([p[2] for p in parts]).astype(np.int64),
        s_energy=np.concatenate([p[3] for p in parts]).astype(np.int64),
        s_meter=np.concatenate([p[4] for p in parts]).astype(np.int64),
    )
