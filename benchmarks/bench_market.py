"""Market supervision engines at province scale (issue 12's bars), each with a baseline in the same run.

- net-content verdicts (JJF 1070-2023): lots/s through ``inspect_many`` (bar ≥ 10,000 lots/s), against
  the per-lot ``inspect`` report on a sample;
- a reproducible stratified, weighted draw over 1,000,000 entities (bar ≤ 1 s), against the plain-Python
  re-implementation of the published algorithm on a sample (and checked to agree on it);
- credit grades for 1,000,000 entities from 20,000,000 events (bar ≤ 10 s), against the explained
  per-entity ``grade`` on a sample.

    PYTHONPATH=src python benchmarks/bench_market.py [--scale 1.0] [--lots 50000]

``--scale 0.1`` runs a tenth of the entities and events (for a loaded machine); the bars are for 1.0.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import os
import time
from datetime import date

import numpy as np

from jiliang.legal import credit, net_content, sampling


def bench_net_content(lots: int) -> None:
    rng = np.random.default_rng(1)
    rs = net_content.rule_set("JJF1070-2023")
    sizes = rng.choice([40, 80, 300, 2000, 5000], size=lots)
    qn = rng.choice([150.0, 250.0, 500.0, 1000.0, 2500.0], size=lots)
    n = np.array([rs.plan(int(s)).sample_size(int(s)) for s in sizes])
    samples = [q + rng.normal(0.5, 0.01 * q, size=k) for q, k in zip(qn, n, strict=True)]
    t0 = time.perf_counter()
    passed = net_content.inspect_many(rs, net_content.QuantityKind.MASS, qn, sizes, samples)
    fast = time.perf_counter() - t0
    k = min(lots, 500)
    t0 = time.perf_counter()
    slow_v = [
        net_content.inspect(
            ruleset=rs,
            nominal=float(qn[i]),
            unit="g",
            lot_size=int(sizes[i]),
            measurements=samples[i].tolist(),
        ).verdict
        is net_content.Verdict.PASS
        for i in range(k)
    ]
    slow = (time.perf_counter() - t0) * lots / k
    assert slow_v == passed[:k].tolist()
    print(
        f"net content: {lots:,} lots in {fast:.3f} s = {lots / fast:,.0f} lots/s (bar ≥ 10,000); "
        f"per-lot reports ≈ {lots / slow:,.0f} lots/s; ratio {slow / fast:.0f}×; {passed.mean():.0%} pass"
    )


def bench_draw(entities: int) -> None:
    rng = np.random.default_rng(2)
    ids = rng.choice(10 * entities, size=entities, replace=False)
    strata_names = np.array(
        [f"{r}-{k}" for r in range(12) for k in ("市场", "加油站", "超市", "眼镜店", "定量包装")]
    )
    strata_names = np.sort(strata_names)
    codes = rng.integers(0, strata_names.size, entities)
    strata = strata_names[codes]
    weights = rng.choice([0.5, 1.0, 2.0, 4.0], size=entities)
    seed = sampling.new_seed()
    t0 = time.perf_counter()
    got = sampling.draw(seed, ids, codes, weights, ratio=0.02, stratum_names=strata_names.tolist())
    fast = time.perf_counter() - t0
    # Baseline: the docstring's algorithm in plain Python on a sample, scaled.
    k = min(entities, 100_000)
    key = int.from_bytes(hashlib.sha256(("jiliang-draw-v1/key:" + seed).encode()).digest()[:8], "big")
    t0 = time.perf_counter()
    keys = [
        math.log(((sampling.splitmix64_int(key ^ int(i)) >> 11) + 0.5) / 2**53) / w
        for i, w in zip(ids[:k].tolist(), weights[:k].tolist(), strict=True)
    ]
    order = sorted(range(k), key=lambda j: (strata[j], -keys[j], ids[j]))
    slow = (time.perf_counter() - t0) * entities / k
    check = sampling.draw(seed, ids[:k], strata[:k], weights[:k], ratio=0.02)  # names path, same rules
    first = {s: [] for s in sorted(set(strata[:k].tolist()))}
    for j in order:
        first[strata[j]].append(int(ids[j]))
    expect = [
        i for s, members in first.items() for i in members[: sampling.stratum_quota(len(members), 0.02)]
    ]
    assert check.ids.tolist() == expect
    print(
        f"draw: {entities:,} entities, {len(strata_names)} strata, {got.ids.size:,} drawn in {fast:.3f} s "
        f"(bar ≤ 1 s); plain Python ≈ {slow:.1f} s; ratio {slow / fast:.0f}×"
    )


def bench_credit(entities: int, events: int) -> None:
    rng = np.random.default_rng(3)
    as_of = date(2026, 6, 15).toordinal()
    ent = rng.integers(0, entities, events, dtype=np.int32)
    kind = rng.integers(0, len(credit.KINDS), events).astype(np.int8)
    day = (as_of - rng.integers(0, 5 * 365, events)).astype(np.int32)
    t0 = time.perf_counter()
    g = credit.grade_many(ent, kind, day, entities, as_of)
    fast = time.perf_counter() - t0
    k = 2_000
    sel = np.flatnonzero(ent < k)
    order = sel[np.argsort(ent[sel], kind="stable")]
    t0 = time.perf_counter()
    bounds = np.searchsorted(ent[order], np.arange(k + 1))
    for e in range(k):
        idx = order[bounds[e] : bounds[e + 1]]
        evs = [credit.CreditEvent(credit.KINDS[kind[i]], date.fromordinal(int(day[i]))) for i in idx]
        r = credit.grade(evs, date.fromordinal(as_of))
        assert r.score == g.score[e]
    slow = (time.perf_counter() - t0) * entities / k
    counts = np.bincount(g.grade, minlength=4)
    print(
        f"credit: {entities:,} entities, {events:,} events in {fast:.2f} s (bar ≤ 10 s); explained per-entity "
        f"≈ {slow:.0f} s; ratio {slow / fast:.0f}×; grades A/B/C/D = {counts.tolist()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--lots", type=int, default=50_000)
    args = parser.parse_args()
    print(f"load before: {os.getloadavg()}")
    bench_net_content(args.lots)
    bench_draw(int(1_000_000 * args.scale))
    bench_credit(int(1_000_000 * args.scale), int(20_000_000 * args.scale))
    print(f"load after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
