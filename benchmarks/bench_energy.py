"""Issue 13's benchmarks: the GB 17167 review, daily consumption and balance, carbon Monte Carlo.

    python benchmarks/bench_energy.py                       # all three at the issue's sizes
    python benchmarks/bench_energy.py --only review --units 20000 --points-per-unit 100

1. Equipping rates and the review of ``--units`` key units with ``--points-per-unit`` metering points each
   (targets: 20,000 units, 2,000,000 points, ≤ 10 s): ``energy.review_bulk`` on columns, validation
   included, against ``energy.review.review`` unit by unit on ``--sample-units`` of the same units (scaled
   linearly; their results are compared, review for review), and against one pass over the meter column
   (the floor: every meter has to be read once).
2. Daily consumption, quality flags and balance checks of ``--meters`` meters × 96 fifteen-minute slots
   (target ≥ 2,000,000 readings/s on one core; the issue's 1,000,000 meters are 96 M readings, the run
   takes a sample of them, the figure is per reading): ``energy.daily`` against a per-reading Python loop
   with ``balance.check`` per parent on ``--sample-meters`` meters (scaled), and against one read of the
   matrix (``values.sum``).
3. Carbon Monte Carlo with ``--trials`` trials for ``--carbon-units`` units (target 10⁵ trials, 10,000
   units, ≤ 60 s): ``energy.carbon_bulk`` against ``carbon.emissions`` unit by unit on
   ``--sample-carbon`` units (scaled), and against drawing the uniform numbers alone (the floor).
Each figure is printed with the machine's load (``os.getloadavg``).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar, overload

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from jiliang.energy import balance, carbon, carbon_bulk, daily, review_bulk, rules  # noqa: E402
from jiliang.energy.review import review  # noqa: E402
from jiliang.energy.rules import EnergyType as E  # noqa: E402


def load() -> str:
    return "load {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


T = TypeVar("T")


def timed(fn: Callable[[], T]) -> tuple[T, float, float]:
    """(result, wall seconds, CPU seconds of this process). On a shared machine the CPU time is the
    figure per core; the wall time is what the load left of it."""
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w, time.process_time() - c


class Names(Sequence[str]):
    """``prefix`` + row number, without holding millions of strings."""

    def __init__(self, prefix: str, n: int) -> None:
        self.prefix, self.n = prefix, n

    def __len__(self) -> int:
        return self.n

    @overload
    def __getitem__(self, i: int) -> str: ...
    @overload
    def __getitem__(self, i: slice) -> Sequence[str]: ...
    def __getitem__(self, i: int | slice) -> str | Sequence[str]:
        if isinstance(i, slice):
            return [f"{self.prefix}{j}" for j in range(*i.indices(self.n))]
        return f"{self.prefix}{int(i)}"


def world(units: int, per_unit: int, seed: int) -> review_bulk.Columns:
    """``units`` plants of ``per_unit`` nodes: the boundary, 1/5 workshops, the rest machines; electricity
    everywhere and natural gas at one node in ten, demand around the thresholds; about one meter per
    node and energy (some missing, some doubled), 5 % unverified, 1 % out of service, MPEs of classes."""
    rng = np.random.default_rng(seed)
    n = units * per_unit
    i = np.arange(n)
    local = i % per_unit
    unit = i // per_unit
    secondary = max(1, per_unit // 5)
    level = np.where(local == 0, 0, np.where(local <= secondary, 1, 2))
    parent = np.where(local == 0, -1, np.where(local <= secondary, unit * per_unit, unit * per_unit + 1 + local % secondary))
    el = E.ELECTRICITY
    gas = E.NATURAL_GAS
    ei, gi = review_bulk.ENERGIES.index(el), review_bulk.ENERGIES.index(gas)
    el_demand = np.where(level == 0, 5e4, np.where(level == 1, 20.0, 150.0)) * rng.choice([0.4, 1.0, 2.0], n)
    has_gas = (local == 0) | (rng.random(n) < 0.1)
    gas_demand = np.where(level == 0, 1e6, np.where(level == 1, 2e4, 200.0)) * rng.choice([0.4, 1.0, 2.0], n)
    ne_node = np.concatenate([i, i[has_gas]])
    order = np.argsort(ne_node, kind="stable")
    ne_node = ne_node[order]
    ne_energy = np.concatenate([np.full(n, ei), np.full(int(has_gas.sum()), gi)])[order]
    ne_demand = np.concatenate([el_demand, gas_demand[has_gas]])[order]
    copies = rng.choice([0, 1, 1, 1, 1, 1, 1, 1, 1, 2], ne_node.size)
    m_ne = np.repeat(np.arange(ne_node.size), copies)
    m = m_ne.size
    kinds = ("electricity_meter", "gas_flowmeter")
    return review_bulk.Columns(
        n_units=units,
        node_unit=unit,
        node_level=level,
        node_parent=parent,
        ne_node=ne_node,
        ne_energy=ne_energy,
        ne_demand=ne_demand,
        ne_points=np.ones(ne_node.size, np.int64),
        ne_has_demand=np.ones(ne_node.size, np.bool_),
        m_node=ne_node[m_ne],
        m_energy=ne_energy[m_ne],
        m_kind=np.where(ne_energy[m_ne] == ei, 0, 1),
        m_mpe=rng.choice([0.5, 1.0, 2.0, 2.5], m),
        m_verified=rng.random(m) > 0.05,
        m_in_service=rng.random(m) > 0.01,
        m_ident=np.arange(m),
        kinds=kinds,
        node_keys=Names("n", n),
        node_names=Names("节点", n),
        meter_keys=Names("M", m),
    )


def bench_review(args: argparse.Namespace) -> None:
    rs = rules.rule_set()
    c = world(args.units, args.points_per_unit, args.seed)
    meters = c.m_node.size
    print(f"\n[review] {args.units:,} units, {c.node_unit.size:,} nodes, {meters:,} metering points")
    runs = [timed(lambda: review_bulk.review(c, rs)) for _ in range(args.repeat)]
    bulk = runs[0][0]
    wall = min(r[1] for r in runs)
    best = min(r[2] for r in runs)
    print(f"  columnar review: {best:.2f} s CPU ({wall:.2f} s wall), {meters / best:,.0f} points/s, "
          f"{int(bulk.compliant.sum()):,} compliant, {bulk.s_code.size:,} shortfalls  [{load()}]")
    sample = np.random.default_rng(1).choice(args.units, min(args.sample_units, args.units), replace=False)
    tops = []
    for u in sample:
        nodes = np.flatnonzero(c.node_unit == u)
        tops.append(review_bulk._unit_topology(c, int(u), nodes))
    per_unit, _, cpu = timed(lambda: [review(topo, rs) for topo in tops])
    loop = cpu / len(tops) * args.units
    same = all(bulk.review_of(int(u)) == r for u, r in zip(sample, per_unit, strict=True))
    print(f"  per-unit review.review on {len(tops)} units, scaled: {loop:.1f} s CPU → ratio {loop / best:.1f}×; "
          f"results equal on the sample: {same}")
    _, _, floor = timed(lambda: np.bincount(c.m_node, minlength=c.node_unit.size))
    print(f"  floor (one pass over the meter column): {floor:.3f} s → {best / floor:.0f}× the floor; "
          f"target ≤ 10 s at 2,000,000 points: {'met' if best <= 10 * meters / 2e6 else 'NOT met'}  [{load()}]")


def per_row_day(values: list[list[float]], groups: list[int], parents: list[int], mpe: list[float]) -> list[str]:
    """The straightforward path: every reading in a Python loop, then ``balance.check`` per parent."""
    totals, complete = [], []
    for row in values:
        total, gaps, last, run, stuck = 0.0, 0, None, 1, False
        for v in row:
            if v != v:
                gaps += 1
                last = None
                continue
            total += v
            run = run + 1 if v == last and v != 0 else 1
            stuck = stuck or run >= 3
            last = v
        totals.append(total)
        complete.append(gaps == 0)
    by_group: dict[int, list[int]] = {}
    for m, g in enumerate(groups):
        by_group.setdefault(g, []).append(m)
    kids_of: dict[int, list[int]] = {}
    for g, p in enumerate(parents):
        kids_of.setdefault(p, []).append(g)
    out = []
    for g, p in enumerate(parents):
        if p >= 0:
            continue
        kids = kids_of.get(g, [])
        ms = by_group[g]
        if not all(complete[m] for m in ms) or not all(complete[m] for k in kids for m in by_group[k]):
            out.append("not_checked")
            continue
        parent = balance.Reading("p", sum(totals[m] for m in ms), mpe[ms[0]])
        children = [balance.Reading(str(m), totals[m], mpe[m]) for k in kids for m in by_group[k]]
        out.append("balanced" if balance.check(parent, children).within else "imbalance")
    return out


def bench_daily(args: argparse.Namespace) -> None:
    rng = np.random.default_rng(args.seed)
    meters, slots = args.meters, 96
    values = rng.gamma(2.0, 2.5, size=(meters, slots)).round(3)
    # a root group's two meters carry its nine children's eighteen (one family in twenty 3 % over)
    families = values[: meters // 20 * 20].reshape(-1, 20, slots)
    off = np.where(rng.random(families.shape[0]) < 0.05, 1.03, 1.0) * rng.normal(1, 0.001, families.shape[0])
    families[:, :2] = (families[:, 2:].sum(axis=1) / 2 * off[:, None])[:, None, :]
    values[rng.random((meters, slots)) < 1e-4] = np.nan
    groups = meters // 2  # two meters a group; a root group every tenth with nine children
    meter_group = np.arange(meters) // 2
    group_parent = np.where(np.arange(groups) % 10 == 0, -1, np.arange(groups) // 10 * 10)
    mpe = np.where(group_parent[meter_group] < 0, 0.5, 1.0)
    readings = meters * slots
    print(f"\n[daily] {meters:,} meters × {slots} slots = {readings:,} readings, {groups:,} groups")
    def columnar() -> tuple[daily.MeterDay, daily.Balances]:
        day = daily.meter_day(values)
        return day, daily.balances(day.consumption, mpe, day.complete, meter_group, group_parent)

    runs = [timed(columnar) for _ in range(args.repeat)]
    day, bal = runs[0][0]
    best = min(r[2] for r in runs)
    counts = np.bincount(bal.status, minlength=4)
    print(f"  columnar day + balance: {best:.3f} s CPU → {readings / best:,.0f} readings/s on one core; "
          f"{counts[daily.BALANCED]:,} balanced, {counts[daily.IMBALANCE]:,} imbalance, "
          f"{counts[daily.NOT_CHECKED]:,} not checked  [{load()}]")
    # the same day from raw readings: (meter, device time, time received, value) rows in arrival order,
    # placed into slots (duplicates kept out, clock jumps flagged), then the same day and balances
    day0 = 1_798_000_000 - 1_798_000_000 % 86_400
    have = ~np.isnan(values)
    meter_of, slot_of = np.nonzero(have)
    device = day0 + (slot_of + 1) * 900
    received = device + rng.integers(1, 60, device.size)
    order = np.argsort(received, kind="stable")
    raw = (meter_of[order], device[order], received[order], values[have][order])

    def from_raw() -> daily.Balances:
        slotted = daily.slot_readings(*raw, meters=meters, day_start=day0)
        day = daily.meter_day(slotted.values)
        return daily.balances(day.consumption, mpe, day.complete, meter_group, group_parent)

    raw_bal, _, raw_cpu = timed(from_raw)
    same = np.array_equal(raw_bal.status, bal.status)
    print(f"  from raw rows (slotting + day + balance): {raw_cpu:.3f} s CPU → {raw[0].size / raw_cpu:,.0f} readings/s "
          f"on one core; statuses equal to the matrix path: {same}  [{load()}]")
    k = min(args.sample_meters, meters) // 20 * 20
    sample = values[:k].tolist()
    statuses, _, cpu = timed(
        lambda: per_row_day(sample, meter_group[:k].tolist(), group_parent[: k // 2].tolist(), mpe[:k].tolist())
    )
    loop = cpu / (k * slots)
    small = daily.balances(day.consumption[:k], mpe[:k], day.complete[:k], meter_group[:k], group_parent[: k // 2])
    agree = statuses == [daily.STATUS[s] for s in small.status[group_parent[: k // 2] < 0]]
    print(f"  per-reading loop + balance.check on {k:,} meters: {1 / loop:,.0f} readings/s → ratio "
          f"{loop * readings / best:.0f}×; statuses equal on the sample: {agree}")
    _, _, floor = timed(lambda: values.sum(axis=1))
    print(f"  floor (one read of the matrix): {readings / floor:,.0f} readings/s → {best / floor:.1f}× the floor; "
          f"target ≥ 2,000,000 readings/s: {'met' if readings / best >= 2e6 else 'NOT met'}  [{load()}]")


def carbon_world(units: int, seed: int) -> tuple[carbon_bulk.Activities, list[list[carbon.Activity]]]:
    """Each unit: purchased electricity (1 % meter), natural gas (2 %), coal at one in three (0.5 %, one
    in twenty unverified)."""
    rng = np.random.default_rng(seed)
    rows: list[tuple[int, E, float, float, bool]] = []
    for u in range(units):
        rows.append((u, E.ELECTRICITY, float(rng.uniform(1e3, 1e5)), 1.0, True))
        rows.append((u, E.NATURAL_GAS, float(rng.uniform(1e5, 1e7)), 2.0, bool(rng.random() > 0.05)))
        if rng.random() < 1 / 3:
            rows.append((u, E.COAL, float(rng.uniform(1e3, 1e5)), 0.5, bool(rng.random() > 0.05)))
    cols = carbon_bulk.Activities(
        n_units=units,
        unit=np.array([r[0] for r in rows]),
        energy=np.array([carbon_bulk.ENERGIES.index(r[1]) for r in rows]),
        amount=np.array([r[2] for r in rows]),
        mpe_percent=np.array([r[3] for r in rows]),
        u_percent=np.full(len(rows), np.nan),
        verified=np.array([r[4] for r in rows]),
    )
    per_unit: list[list[carbon.Activity]] = [[] for _ in range(units)]
    for r in rows:
        per_unit[r[0]].append(carbon.Activity(f"{r[1].value}", r[1], r[2], mpe_percent=r[3], verified=r[4]))
    return cols, per_unit


def bench_carbon(args: argparse.Namespace) -> None:
    cols, per_unit = carbon_world(args.carbon_units, args.seed)
    n = cols.amount.size
    print(f"\n[carbon] {args.carbon_units:,} units, {n:,} activity data, {args.trials:,} trials each")
    res, wall, took = timed(lambda: carbon_bulk.monte_carlo(cols, trials=args.trials, seed=args.seed))
    print(f"  columnar Monte Carlo: {took:.1f} s CPU ({wall:.1f} s wall), {args.carbon_units / took:,.0f} units/s; "
          f"median u/E {float(np.median(res.u / res.mean)) * 100:.2f} %  [{load()}]")
    k = min(args.sample_carbon, args.carbon_units)
    refs, _, cpu = timed(lambda: [carbon.emissions(per_unit[u], trials=args.trials, seed=u) for u in range(k)])
    loop = cpu / k * args.carbon_units
    worst = max(abs(res.u[u] / (r.mc_u or r.u) - 1) for u, r in enumerate(refs))
    print(f"  per-unit carbon.emissions on {k} units, scaled: {loop:.0f} s CPU → ratio {loop / took:.1f}×; "
          f"largest difference of u against it on the sample {worst * 100:.2f} % (Monte Carlo noise)")
    rng = np.random.default_rng(0)
    part = min(n, 200)
    row = np.empty(args.trials)

    def draws() -> None:
        for _ in range(part):
            rng.random(out=row)

    _, _, cpu = timed(draws)
    floor = cpu / part * n
    print(f"  floor (drawing one uniform per activity and trial, scaled): {floor:.1f} s CPU → {took / floor:.1f}× the floor; "
          f"target ≤ 60 s at 10,000 units: {'met' if took <= 60 * args.carbon_units / 1e4 else 'NOT met'}  [{load()}]")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=["review", "daily", "carbon"], default=None)
    parser.add_argument("--units", type=int, default=20_000)
    parser.add_argument("--points-per-unit", type=int, default=90, help="nodes per unit (≈ 1.1 meters per node)")
    parser.add_argument("--sample-units", type=int, default=200)
    parser.add_argument("--meters", type=int, default=100_000)
    parser.add_argument("--sample-meters", type=int, default=2_000)
    parser.add_argument("--carbon-units", type=int, default=10_000)
    parser.add_argument("--trials", type=int, default=100_000)
    parser.add_argument("--sample-carbon", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    print(load())
    if args.only in (None, "review"):
        bench_review(args)
    if args.only in (None, "daily"):
        bench_daily(args)
    if args.only in (None, "carbon"):
        bench_carbon(args)


if __name__ == "__main__":
    main()
