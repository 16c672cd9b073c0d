"""The columnar engines of issue 13 give the per-unit engines' results (review, daily balance, carbon)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from jiliang.energy import review_bulk, rules
from jiliang.energy.review import review
from jiliang.errors import InvalidInput
from tests.energy_worlds import units


def test_bulk_review_equals_the_per_unit_review() -> None:
    topologies = units(300)
    rs = rules.rule_set()
    bulk = review_bulk.review(review_bulk.columns_from_topologies(topologies), rs)
    codes = set()
    for u, topo in enumerate(topologies):
        one = review(topo, rs)
        assert bulk.review_of(u) == one, u
        assert bulk.compliant[u] == one.compliant
        assert bulk.shortfalls_per_unit[u] == len(one.shortfalls)
        codes.update(s.code for s in one.shortfalls)
    # the world exercises every kind of shortfall
    assert codes == {"point_unmetered", "accuracy_insufficient", "not_verified", "out_of_service", "rate_below_required"}
    assert 0 < int(bulk.compliant.sum()) < len(topologies)


def test_bulk_validation_refuses_what_the_per_unit_engine_refuses() -> None:
    c = review_bulk.columns_from_topologies(units(20))
    rs = rules.rule_set()

    def broken(**changes: object) -> str:
        with pytest.raises(InvalidInput) as err:
            review_bulk.review(dataclasses.replace(c, **changes), rs)
        return str(err.value.field)

    cyc = c.node_parent.copy()
    # a cycle between two secondary units of one unit
    sec = np.flatnonzero(c.node_level == 1)
    per_unit = np.bincount(c.node_unit[sec], minlength=c.n_units)
    u = int(np.flatnonzero(per_unit >= 2)[0])
    a, b = (int(x) for x in sec[c.node_unit[sec] == u][:2])
    cyc[a], cyc[b] = b, a
    assert broken(node_parent=cyc) in (f"nodes[{a}].parent", f"nodes[{b}].parent")
    other = c.node_parent.copy()
    other[a] = int(np.flatnonzero(c.node_unit != c.node_unit[a])[0])
    assert broken(node_parent=other) == f"nodes[{a}].parent"
    demand = c.ne_demand.copy()
    demand[5] = -1
    assert broken(ne_demand=demand) == "node_energies[5].demand"
    ident = c.m_ident.copy()
    j = int(np.flatnonzero(c.m_node != c.m_node[0])[0])
    ident[j] = ident[0]
    assert broken(m_ident=ident) == f"meters[{max(0, j)}].node"
    mpe = c.m_mpe.copy()
    mpe[3] = -2
    assert broken(m_mpe=mpe) == "meters[3].mpe_percent"
    roots = c.node_parent.copy()
    roots[a] = -1
    assert broken(node_parent=roots) == f"units[{int(c.node_unit[a])}].nodes"


def per_row_day(values: list[list[float]]) -> list[tuple[float, int, int, bool]]:
    """The straightforward way, one reading at a time (the benchmark's baseline is the same loop)."""
    out = []
    for row in values:
        total, gaps, negative, run, stuck, last = 0.0, 0, 0, 1, False, None
        for v in row:
            if v != v:  # NaN: no reading
                gaps += 1
                run, last = 1, None
                continue
            total += v
            negative += v < 0
            run = run + 1 if (last is not None and v == last and v != 0) else 1
            stuck = stuck or run >= 3
            last = v
        out.append((total, gaps, negative, stuck))
    return out


def test_daily_consumption_flags_and_balances_equal_the_per_row_path() -> None:
    from jiliang.energy import balance, daily

    rng = np.random.default_rng(7)
    meters, slots = 400, 96
    values = rng.gamma(2.0, 5.0, size=(meters, slots)).round(2)
    values[150, 40] = np.nan  # a gap in family 3 (family 0 has the negative slot)
    values[3, 10] = -1.0
    values[5, 20:23] = 4.25  # stuck for three slots
    values[6, 30:32] = 4.25  # two slots only: not stuck
    day = daily.meter_day(values)
    rows = per_row_day(values.tolist())
    assert np.allclose(day.consumption, [r[0] for r in rows], rtol=1e-12, atol=0)
    assert day.gaps.tolist() == [r[1] for r in rows]
    assert day.negative.tolist() == [r[2] for r in rows]
    assert day.stuck.tolist() == [r[3] for r in rows]
    assert day.stuck[5] and day.negative[3] == 1
    # 100 groups: 10 roots with 9 children each, 4 meters a group; MPE 1 % at roots, 2 % below
    groups = 100
    group_parent = np.where(np.arange(groups) % 10 == 0, -1, np.arange(groups) // 10 * 10)
    meter_group = np.arange(meters) // 4
    mpe = np.where(group_parent[meter_group] < 0, 1.0, 2.0)
    consumption = day.consumption.copy()
    for g in range(0, groups, 10):  # make the roots carry their children, one of them 30 % off
        kids = consumption[(meter_group // 10 == g // 10) & (meter_group % 10 != 0)].sum()
        consumption[meter_group == g] = kids / 4 * (1.3 if g == 20 else 1.0)
    got = daily.balances(consumption, mpe, day.complete, meter_group, group_parent)
    statuses = set()
    for g in range(0, groups, 10):
        mine = meter_group == g
        kids = (meter_group // 10 == g // 10) & (meter_group % 10 != 0)
        if not day.complete[mine | kids].all():
            assert daily.STATUS[got.status[g]] == "not_checked"
            statuses.add("not_checked")
            continue
        # balance.check with the group's meters combined as the service does: u² = Σ(MPE·x/√3)²
        parent = balance.Reading("p", float(consumption[mine].sum()), 1.0)
        u_p = math.sqrt(sum((0.01 * x) ** 2 / 3 for x in consumption[mine]))
        children = [balance.Reading(str(i), float(consumption[i]), 2.0) for i in np.flatnonzero(kids)]
        ref = balance.check(parent, children)
        u = math.sqrt(u_p**2 + sum((0.02 * float(consumption[i])) ** 2 / 3 for i in np.flatnonzero(kids)))
        assert math.isclose(got.difference[g], ref.difference, rel_tol=1e-9, abs_tol=1e-9)
        assert math.isclose(got.tolerance[g], 2 * u, rel_tol=1e-12)
        status = "balanced" if abs(ref.difference) <= 2 * u else "imbalance"
        assert daily.STATUS[got.status[g]] == status
        statuses.add(status)
    assert statuses == {"balanced", "imbalance", "not_checked"}
    assert set(got.status[group_parent >= 0].tolist()) == {daily.NO_CHILDREN}


def test_bulk_monte_carlo_agrees_with_the_per_unit_carbon_engine() -> None:
    from jiliang.energy import carbon, carbon_bulk
    from jiliang.energy.rules import EnergyType as E

    units_acts = [
        [carbon.Activity("gas", E.NATURAL_GAS, 2.0e6, mpe_percent=2.0), carbon.Activity("el", E.ELECTRICITY, 8000, mpe_percent=1.0)],
        [carbon.Activity("coal", E.COAL, 12_000, mpe_percent=0.5, verified=False)],
        [carbon.Activity("el", E.ELECTRICITY, 500, u_percent=3.0), carbon.Activity("gas", E.NATURAL_GAS, 1e5, mpe_percent=2.5)],
    ]
    flat = [(u, a) for u, acts in enumerate(units_acts) for a in acts]
    cols = carbon_bulk.Activities(
        n_units=len(units_acts),
        unit=np.array([u for u, _ in flat]),
        energy=np.array([carbon_bulk.ENERGIES.index(a.energy_type) for _, a in flat]),
        amount=np.array([a.amount for _, a in flat]),
        mpe_percent=np.array([np.nan if a.mpe_percent is None else a.mpe_percent for _, a in flat]),
        u_percent=np.array([np.nan if a.u_percent is None else a.u_percent for _, a in flat]),
        verified=np.array([a.verified for _, a in flat]),
    )
    got = carbon_bulk.monte_carlo(cols, trials=20_000, seed=3)
    for u, acts in enumerate(units_acts):
        ref = carbon.emissions(acts, trials=20_000, seed=5)
        assert ref.mc_u is not None and ref.mc_interval is not None
        assert math.isclose(got.mean[u], ref.total, rel_tol=2e-3)
        assert math.isclose(got.u[u], ref.u, rel_tol=0.03)  # GUM, the model is nearly linear
        assert math.isclose(got.u[u], ref.mc_u, rel_tol=0.03)
        lo, hi = ref.mc_interval
        assert math.isclose(got.low[u], lo, rel_tol=2e-3) and math.isclose(got.high[u], hi, rel_tol=2e-3)
    with pytest.raises(InvalidInput) as err:
        carbon_bulk.monte_carlo(dataclasses.replace(cols, amount=np.array([1.0, -1, 1, 1, 1])), trials=100)
    assert err.value.field == "activities[1].amount"


def test_readings_are_slotted_once_with_clock_jumps_flagged_and_hours_summed() -> None:
    from jiliang.energy import daily

    day = 1_700_000_000 - 1_700_000_000 % 86_400
    t = day + np.array([900, 1800, 1800, 2700, 1800, 86_400 + 900, 900, 3600 + 4000])
    received = t.copy()
    received[7] = t[7] - 4000  # meter 1's clock is more than an hour ahead of its receipt
    meter = np.array([0, 0, 0, 0, 0, 0, 1, 1])
    value = np.array([1.0, 2.0, 99.0, 3.0, 98.0, 5.0, 7.0, 8.0])
    s = daily.slot_readings(meter, t, received, value, meters=2, day_start=day)
    # 00:15 closes slot 0, 00:30 slot 1 (its repeats are duplicates, not added), 00:45 slot 2
    assert s.values[0, :3].tolist() == [1.0, 2.0, 3.0] and np.isnan(s.values[0, 3:]).all()
    assert s.duplicates.tolist() == [2, 0] and s.outside.tolist() == [1, 0]
    assert s.clock_back.tolist() == [1, 0]  # 00:30 arriving after 00:45
    assert s.clock_ahead.tolist() == [0, 1]
    assert s.values[1, 0] == 7.0 and s.values[1, 8] == 8.0  # 02:06:40 falls in slot 8
    h = daily.hourly(s.values)
    assert h.shape == (2, 24) and np.isnan(h[0, 0])  # slot 3 missing: the hour is not filled
    full = np.ones((1, 96))
    assert daily.hourly(full).tolist() == [[4.0] * 24]
