"""Traceability at province scale: 1,000,000 instruments, chains up to 6 calibrations deep.

Measures, in one run:
- building the graph (sorting ~600k calibrations, resolving every parent and every use) and walking the
  chain of every instrument (validity on the date of use, TUR, RSS propagation), against the 5 s bar;
- impact analysis of one failed national primary standard, against the 1 s bar;
- the baseline: a per-instrument Python walk (dicts and bisect, the natural hand-written version) on a
  sample, scaled to 1,000,000, and checked to agree with the arrays on that sample;
- peak RSS (≤ 4 GiB).

    PYTHONPATH=src python benchmarks/bench_traceability.py [--instruments N] [--sample N]
"""

from __future__ import annotations

import argparse
import bisect
import math
import resource
import time
from datetime import date

import numpy as np

from jiliang.metrology.traceability import LinkStatus, TraceabilityGraph

# standards per level: 0 = national primary (anchored), 5 = working standards of county institutions
LEVELS = (20, 200, 2_000, 10_000, 30_000, 60_000)
YEARS = 6


def synthetic(n_instruments: int, seed: int = 2026) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    base = date(2020, 1, 1).toordinal()
    first = np.cumsum((0, *LEVELS))[:-1]
    n_std = sum(LEVELS)
    std, ref, on, until, u, ok, tol = [], [], [], [], [], [], []
    for lv, count in enumerate(LEVELS):
        ids = np.arange(first[lv], first[lv] + count)
        if lv == 0:  # anchors: one calibration (the primary standard's certificate) each, long validity
            std.append(ids)
            ref.append(np.full(count, -1))
            on.append(np.full(count, base - 400))
            until.append(np.full(count, base + 10 * 365))
            u.append(np.full(count, 1e-6))
            ok.append(np.ones(count, dtype=bool))
            tol.append(np.full(count, np.nan))
            continue
        parents = first[lv - 1] + rng.integers(0, LEVELS[lv - 1], count)  # each standard keeps its parent
        phase = rng.integers(0, 30, count)
        for year in range(YEARS):
            day = base - 200 + 40 * lv + 365 * year + phase  # higher levels are calibrated first
            std.append(ids)
            ref.append(parents)
            on.append(day)
            until.append(day + 365 + rng.integers(-20, 5, count))  # a few lapse before the next
            u.append(np.full(count, 1e-6 * 3**lv))
            ok.append(rng.random(count) > 0.003)
            tol.append(np.full(count, 2.5e-6 * 3**lv * 4) * rng.choice([1.0, 0.7], count, p=[0.98, 0.02]))
    working = np.arange(first[5], first[5] + LEVELS[5])
    return {
        "approval_from": np.full(n_std, base - 1000),
        "approval_until": np.full(n_std, base + 4000)
        - rng.integers(0, 400, n_std) * (rng.random(n_std) < 0.01),
        "cal_standard": np.concatenate(std),
        "cal_reference": np.concatenate(ref),
        "cal_on": np.concatenate(on),
        "cal_until": np.concatenate(until),
        "cal_u": np.concatenate(u),
        "cal_tolerance": np.concatenate(tol),
        "cal_in_tolerance": np.concatenate(ok),
        "use_standard": np.where(rng.random(n_instruments) < 0.002, -1, rng.choice(working, n_instruments)),
        "use_on": base + 365 + rng.integers(0, 4 * 365, n_instruments),
        "use_tolerance": np.full(n_instruments, 0.01),
    }


class PythonWalk:
    """The per-instrument baseline: dicts of sorted calibration dates per standard, bisect, a while loop."""

    def __init__(self, a: dict[str, np.ndarray]) -> None:
        self.a = {k: v.tolist() for k, v in a.items()}
        self.by_std: dict[int, tuple[list[int], list[int]]] = {}
        order = sorted(
            range(len(self.a["cal_standard"])),
            key=lambda c: (self.a["cal_standard"][c], self.a["cal_on"][c], c),
        )
        for c in order:
            days, idx = self.by_std.setdefault(self.a["cal_standard"][c], ([], []))
            days.append(self.a["cal_on"][c])
            idx.append(c)

    def check(self, std: int, day: int) -> tuple[int, int]:
        a = self.a
        if std < 0:
            return LinkStatus.NO_STANDARD, -1
        days, idx = self.by_std.get(std, ([], []))
        k = bisect.bisect_right(days, day) - 1
        if k < 0:
            return LinkStatus.NO_CALIBRATION, -1
        c = idx[k]
        if not a["cal_in_tolerance"][c]:
            return LinkStatus.OUT_OF_TOLERANCE, c
        if day > a["cal_until"][c]:
            return LinkStatus.CALIBRATION_EXPIRED, c
        if not a["approval_from"][std] <= day <= a["approval_until"][std]:
            return LinkStatus.APPROVAL_NOT_IN_FORCE, c
        return LinkStatus.OK, c

    def walk(self, use: int) -> tuple[int, float]:
        a = self.a
        status, c = self.check(a["use_standard"][use], a["use_on"][use])
        u2, seen = 0.0, set()
        while c >= 0:
            std = a["cal_standard"][c]
            if std in seen:
                return LinkStatus.CYCLE, math.nan
            seen.add(std)
            u2 += a["cal_u"][c] ** 2
            r = a["cal_reference"][c]
            if r < 0:
                break
            s2, c = self.check(r, a["cal_on"][c])
            status = status or s2
        return status, math.sqrt(u2)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--instruments", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=20_000)
    args = parser.parse_args()
    a = synthetic(args.instruments)
    n_cal = a["cal_standard"].size
    print(f"{args.instruments:,} instruments, {sum(LEVELS):,} standards on 6 levels, {n_cal:,} calibrations")

    t0 = time.perf_counter()
    g = TraceabilityGraph.build(**a)
    t1 = time.perf_counter()
    res = g.use_chains(max_depth=12)
    t2 = time.perf_counter()
    chains_s = t2 - t0
    counts = {
        LinkStatus(s).name.lower(): int(n)
        for s, n in zip(*np.unique(res.status, return_counts=True), strict=True)
    }
    print(f"graph built (sort, resolve {n_cal:,} parents and {args.instruments:,} uses): {t1 - t0:.2f} s")
    print(f"chains validated + u propagated: {t2 - t1:.2f} s; total {chains_s:.2f} s (bar 5 s)")
    print(
        f"  depth max {int(res.depth.max())}, statuses {counts}, TUR < 4: {int(res.tur_warnings(4.0).sum()):,}"
    )

    t3 = time.perf_counter()
    found = g.impact(7, date(2024, 6, 1).toordinal())
    impact_s = time.perf_counter() - t3
    print(
        f"impact of primary standard 7: {impact_s:.3f} s (bar 1 s): {found.calibrations.size:,} calibrations, "
        f"{found.standards.size:,} standards, {found.uses.size:,} instruments to recall"
    )

    walker = PythonWalk(a)
    sample = np.random.default_rng(1).choice(args.instruments, args.sample, replace=False)
    t4 = time.perf_counter()
    walked = [walker.walk(int(i)) for i in sample]
    walk_s = (time.perf_counter() - t4) * args.instruments / args.sample
    agree = all(
        res.status[i] == s and (s != 0 or math.isclose(res.u[i], u, rel_tol=1e-12))
        for i, (s, u) in zip(sample.tolist(), walked, strict=True)
    )
    print(
        f"baseline per-instrument Python walk ({args.sample:,} sampled, scaled): {walk_s:.1f} s for "
        f"{args.instruments:,} (index build not counted); agrees on the sample: {agree}"
    )
    print(
        f"ratio: arrays {walk_s / (t2 - t1):.0f}× faster than the walk (chain step), "
        f"{walk_s / chains_s:.0f}× including the graph build"
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(f"peak RSS {peak:.2f} GiB (bar 4 GiB)")
    if not agree:
        raise SystemExit("the arrays and the walk disagree")


if __name__ == "__main__":
    main()
