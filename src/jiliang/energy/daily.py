"""One day of interval readings of many meters on columns: consumption, quality flags and the energy balance.

The online-monitoring platform receives a reading per meter every 15 minutes (96 a day; 1 M meters make
96 M readings a day). Here a day is a matrix ``values[meter, slot]`` of interval consumptions (NaN where
no reading arrived) and everything is an array operation:

- consumption per meter = the sum of its slots; ``gaps`` = slots without a reading (never filled, only
  counted); ``negative`` = slots below zero; ``stuck`` = the same non-zero value in ``stuck_run`` or more
  consecutive slots (the rule the daily upload applies to days, ``services/energy/readings.py``);
- the balance of every metered (node, energy) group with children: the group's meters against the sum of
  its children's, with the tolerance of ``energy/balance.py`` (u(x) = MPE·x/√3 per meter, summed in
  quadrature on both sides, k = 2). A group is checked only when it and every child are metered and
  every meter involved is complete (no gap, no negative slot, a known MPE); otherwise it is
  ``NOT_CHECKED``, never guessed.

``balance.check`` gives the same numbers one parent at a time; tests/test_energy_bulk.py compares them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

NO_CHILDREN, NOT_CHECKED, BALANCED, IMBALANCE = range(4)
STATUS = ("no_children", "not_checked", "balanced", "imbalance")


@dataclass(frozen=True)
class MeterDay:
    consumption: FloatArray  # sum of the slots that have a reading
    gaps: IntArray
    negative: IntArray
    stuck: BoolArray

    @property
    def complete(self) -> BoolArray:
        out: BoolArray = (self.gaps == 0) & (self.negative == 0)
        return out


def meter_day(values: FloatArray, stuck_run: int = 3) -> MeterDay:
    """Consumption and quality flags of each row (meter) of ``values`` (slots as columns, NaN: missing)."""
    if values.ndim != 2:
        raise ValueError("values must be a (meters, slots) matrix")
    missing = np.isnan(values)
    consumption = np.where(missing, 0.0, values).sum(axis=1)
    gaps = missing.sum(axis=1).astype(np.int64)
    negative = (values < 0).sum(axis=1).astype(np.int64)
    run = (values[:, 1:] == values[:, :-1]) & (values[:, 1:] != 0)  # slot j+1 repeats slot j
    stuck = np.zeros(values.shape[0], np.bool_)
    if stuck_run >= 2 and values.shape[1] >= stuck_run:
        window = run[:, : run.shape[1] - (stuck_run - 2)].copy()
        for shift in range(1, stuck_run - 1):
            window &= run[:, shift : run.shape[1] - (stuck_run - 2) + shift]
        stuck = window.any(axis=1)
    return MeterDay(consumption, gaps, negative, stuck)


@dataclass(frozen=True)
class Balances:
    """Per group (a node and one energy): its meters' total, the children's total, the difference and
    the tolerance (NaN where not checked), and the status code (index into ``STATUS``)."""

    parent: FloatArray
    children: FloatArray
    difference: FloatArray
    tolerance: FloatArray
    status: IntArray


def balances(
    consumption: FloatArray,
    mpe_percent: FloatArray,
    complete: BoolArray,
    meter_group: IntArray,
    group_parent: IntArray,
    k: float = 2.0,
) -> Balances:
    """The balance of every group with children (``group_parent``: the parent group, −1 at a root)."""
    n = group_parent.size
    ok = complete & np.isfinite(mpe_percent) & (mpe_percent > 0)
    u2_meter = np.where(ok, (np.nan_to_num(mpe_percent) / 100 * consumption) ** 2 / 3, 0.0)
    total = np.bincount(meter_group, weights=consumption, minlength=n).astype(np.float64)
    u2 = np.bincount(meter_group, weights=u2_meter, minlength=n)
    metered = np.bincount(meter_group, minlength=n) > 0
    clean = np.bincount(meter_group, weights=~ok, minlength=n) == 0
    usable = metered & clean
    has_parent = group_parent >= 0
    parents = group_parent[has_parent]
    kids = np.bincount(parents, minlength=n)
    kids_total = np.bincount(parents, weights=total[has_parent], minlength=n).astype(np.float64)
    kids_u2 = np.bincount(parents, weights=u2[has_parent], minlength=n)
    kids_unusable = np.bincount(parents, weights=~usable[has_parent], minlength=n)
    checked = (kids > 0) & usable & (kids_unusable == 0)
    difference = np.where(checked, total - kids_total, np.nan)
    tolerance = np.where(checked, k * np.sqrt(u2 + kids_u2), np.nan)
    status = np.full(n, NO_CHILDREN, np.int64)
    status[kids > 0] = NOT_CHECKED
    status[checked] = np.where(np.abs(difference[checked]) <= tolerance[checked], BALANCED, IMBALANCE)
    return Balances(total, kids_total, difference, tolerance, status)


SLOT_SECONDS = 900  # 15 minutes


@dataclass(frozen=True)
class Slotted:
    """Interval readings placed in a day's slots, with what the clock did."""

    values: FloatArray  # (meters, slots), NaN where no reading
    duplicates: IntArray  # per meter: readings for a slot already filled (kept out: never counted twice)
    outside: IntArray  # per meter: readings stamped outside the day
    clock_back: IntArray  # per meter: device time went backwards against the order of arrival
    clock_ahead: IntArray  # per meter: device time ahead of the time received by more than the tolerance


def slot_readings(
    meter: IntArray,
    device_time: IntArray,
    received_time: IntArray,
    value: FloatArray,
    meters: int,
    day_start: int,
    slots: int = 96,
    ahead_tolerance: int = 300,
) -> Slotted:
    """Place readings (rows in the order they arrived; times in epoch seconds) into ``slots`` 15-minute
    slots of the day starting at ``day_start``. The slot of a reading is its device time's (the end of
    its interval minus one second, so 00:15:00 closes slot 0). A second reading for a filled slot is a
    duplicate and is not added; a reading outside the day is counted, not placed. Clock jumps: a device
    time earlier than the same meter's previous reading (arrival order) is ``clock_back``; a device time
    more than ``ahead_tolerance`` s after its receipt is ``clock_ahead``. Both are flags only — the
    reading stays where its device time puts it, and the flags say its slot is doubtful."""
    slot = (device_time - 1 - day_start) // SLOT_SECONDS
    inside = (slot >= 0) & (slot < slots)
    out = np.full((meters, slots), np.nan)
    cell = meter * slots + np.clip(slot, 0, slots - 1)
    idx = np.flatnonzero(inside)
    by_cell = idx[np.argsort(cell[idx], kind="stable")]  # cells in order, arrivals in order within one
    c_sorted = cell[by_cell]
    first = np.ones(by_cell.size, np.bool_)
    first[1:] = c_sorted[1:] != c_sorted[:-1]
    kept = by_cell[first]  # the first arrival for each cell wins
    out.reshape(-1)[cell[kept]] = value[kept]
    duplicates = np.bincount(meter[idx], minlength=meters) - np.bincount(meter[kept], minlength=meters)
    outside = np.bincount(meter[~inside], minlength=meters)
    order = np.argsort(meter, kind="stable")  # arrival order within each meter
    m_sorted, t_sorted = meter[order], device_time[order]
    back = (m_sorted[1:] == m_sorted[:-1]) & (t_sorted[1:] < t_sorted[:-1])
    clock_back = np.bincount(m_sorted[1:][back], minlength=meters)
    clock_ahead = np.bincount(meter[device_time - received_time > ahead_tolerance], minlength=meters)
    return Slotted(
        out,
        duplicates.astype(np.int64),
        outside.astype(np.int64),
        clock_back.astype(np.int64),
        clock_ahead.astype(np.int64),
    )


def hourly(values: FloatArray) -> FloatArray:
    """Consumption per hour from 15-minute slots (NaN where an hour misses a slot: never filled)."""
    if values.shape[1] % 4:
        raise ValueError("slots must be a whole number of hours")
    out: FloatArray = values.reshape(values.shape[0], -1, 4).sum(axis=2)
    return out


@dataclass(frozen=True)
class RegisterDay:
    """A day of register (totaliser) readings turned into consumption."""

    intervals: FloatArray  # (meters, slots): register differences, NaN where an end is missing or it fell
    total: FloatArray  # per meter: the day's consumption (see ``register_day``)
    exact: BoolArray  # per meter: the register is known at the day's start and end (the total is exact)
    backwards: IntArray  # per meter: intervals where the register fell (replaced meter, rollover): not counted


def register_day(registers: FloatArray) -> RegisterDay:
    """Consumption from register readings at slot ends: ``registers[meter, j]`` is the register at the end
    of slot j − 1 (column 0 the day's start, the last column its end; NaN where no reading). An interval is
    the difference of its two ends, NaN when either is missing — never interpolated. The day's total is
    the register's end minus its start when both are known and it never fell (exact even when readings in
    between are missing: that is the register's own arithmetic, not a fill); otherwise the sum of the
    known non-negative intervals, and ``exact`` is False (the figure is a lower bound, flagged as a gap)."""
    if registers.ndim != 2 or registers.shape[1] < 2:
        raise ValueError("registers must be a (meters, slots + 1) matrix")
    diff = registers[:, 1:] - registers[:, :-1]
    backwards = (diff < 0).sum(axis=1).astype(np.int64)
    intervals: FloatArray = np.where(diff < 0, np.nan, diff)
    known_sum = np.where(np.isnan(intervals), 0.0, intervals).sum(axis=1)
    start, end = registers[:, 0], registers[:, -1]
    exact: BoolArray = ~np.isnan(start) & ~np.isnan(end) & (backwards == 0)
    total: FloatArray = np.where(exact, np.nan_to_num(end - start), known_sum)
    return RegisterDay(intervals, total, exact, backwards)
