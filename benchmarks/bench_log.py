"""Transparency log at scale: appends, proof generation and verification, memory (issue 3 targets).

Fills a log of N leaves (default 10,000,000) in a SQLite file through the service's own path (enqueue in
batches, then ``sequence``), timing the sequencing of each batch; then generates inclusion and consistency
proofs at full size from storage, verifies them, and reports the peak RSS of the process.

Baseline (measured in the same run): an append that recomputes the root from all leaves. Its cost per
batch is one MTH over every leaf hash read back from storage; that is measured at ``--baseline-leaves``
(default 1,000,000, to keep the baseline's own list of hashes out of the memory figure) and scaled
linearly to N, since MTH is Θ(n) in hashes and in rows read.

    python benchmarks/bench_log.py [--leaves N] [--batch B] [--dir DIR]
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import select

from jiliang.services import transparency
from jiliang.services.platform import Platform
from jiliang.settings import Settings
from jiliang.store.models import LogLeaf
from jiliang.trust import merkle


def body(i: int) -> dict[str, object]:
    """A leaf the size of a real verification record's (≈250 bytes canonical)."""
    return {
        "record_id": i,
        "instrument_id": 1_000_000 + i // 3,
        "institution_id": 17,
        "standard_id": None,
        "verified_on": "2026-03-01",
        "conclusion": "pass",
        "document_no": f"JJ2026-{i:09d}",
        "due_on": "2027-03-01",
        "supersedes_id": None,
        "recorded_at": "2026-03-01T09:00:00+00:00",
    }


def fill(platform: Platform, n: int, batch: int) -> tuple[float, float, float]:
    """Append n leaves; return (enqueue seconds, sequence seconds, sequence seconds of the last 10 %)."""
    t_enqueue = t_sequence = t_tail = 0.0
    done = 0
    last_report = time.perf_counter()
    while done < n:
        b = min(batch, n - done)
        t0 = time.perf_counter()
        with platform.unit_of_work() as s:
            transparency.enqueue_many(s, "verification_recorded", (body(i) for i in range(done, done + b)))
        t1 = time.perf_counter()
        with platform.unit_of_work() as s:
            got = transparency.sequence(s, batch)
        t2 = time.perf_counter()
        assert got == b
        t_enqueue += t1 - t0
        t_sequence += t2 - t1
        if done >= n * 0.9:
            t_tail += t2 - t1
        done += b
        if time.perf_counter() - last_report > 30:
            last_report = time.perf_counter()
            print(f"  {done:,} leaves, sequencing {done / t_sequence:,.0f}/s", flush=True)
    return t_enqueue, t_sequence, t_tail


def baseline_root_seconds(platform: Platform, m: int) -> float:
    """One append under the baseline: read every leaf hash and recompute the root (RFC 9162 MTH)."""
    t0 = time.perf_counter()
    with platform.reading() as s:
        hashes = [bytes(h) for h in s.scalars(select(LogLeaf.leaf_hash).where(LogLeaf.leaf_index < m))]
    got = merkle.root(hashes)
    seconds = time.perf_counter() - t0
    with platform.reading() as s:
        assert got == transparency.root_at(s, m)  # the stored tree agrees with the recomputation
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--leaves", type=int, default=10_000_000)
    parser.add_argument("--batch", type=int, default=50_000)
    parser.add_argument("--baseline-leaves", type=int, default=1_000_000)
    parser.add_argument("--proofs", type=int, default=2000)
    parser.add_argument("--dir", default="", help="where the SQLite file goes (default: a temporary dir)")
    args = parser.parse_args()
    tmp = Path(args.dir or tempfile.mkdtemp(prefix="bench-log-"))
    url = f"sqlite:///{tmp / 'log.db'}"
    platform = Platform.open(Settings(database_url=url))
    n = args.leaves
    print(f"filling {n:,} leaves into {url} in batches of {args.batch:,} …", flush=True)
    t_enq, t_seq, t_tail = fill(platform, n, args.batch)
    tail_leaves = n - int(n * 0.9) if n >= 10 else n
    append_rate = n / t_seq
    tail_rate = tail_leaves / t_tail if t_tail else append_rate
    print(f"enqueue: {n / t_enq:,.0f} leaves/s (the business transaction's share)")
    print(f"append (sequence): {append_rate:,.0f} leaves/s overall, {tail_rate:,.0f}/s over the last 10 %")

    m = min(args.baseline_leaves, n)
    base_m = baseline_root_seconds(platform, m)
    base_n = base_m * n / m
    base_rate = args.batch / base_n
    print(
        f"baseline (recompute root from all leaves per batch): {base_m:.2f} s per root at {m:,} leaves, "
        f"scaled ×{n / m:g} to {base_n:.1f} s at {n:,} → {base_rate:,.0f} leaves/s in batches of {args.batch:,}"
    )
    print(f"append speed-up at {n:,}: ×{tail_rate / base_rate:,.0f}")

    with platform.unit_of_work() as s:
        head = transparency.publish_checkpoint(s, platform.settings)
    rng = random.Random(2026)
    size = head.size
    inc_times, con_times = [], []
    inclusions, consistencies = [], []
    with platform.reading() as s:
        transparency.inclusion_proof(s, 0, size)  # warm the statement and page caches alike for both
        for _ in range(args.proofs):
            index = rng.randrange(size)
            t0 = time.perf_counter()
            proof = transparency.inclusion_proof(s, index, size)
            inc_times.append(time.perf_counter() - t0)
            inclusions.append((index, proof))
        for _ in range(args.proofs):
            first = rng.randrange(1, size)
            t0 = time.perf_counter()
            proof = transparency.consistency_proof(s, first, size)
            con_times.append(time.perf_counter() - t0)
            consistencies.append((first, proof))
        leaf_of = {
            i: bytes(h)
            for i, h in s.execute(
                select(LogLeaf.leaf_index, LogLeaf.leaf_hash).where(
                    LogLeaf.leaf_index.in_([i for i, _ in inclusions])
                )
            )
        }
        roots = {f: transparency.root_at(s, f) for f, _ in consistencies}
        find_times = []
        for index, _ in inclusions[:200]:  # lookup by leaf hash: what certificate verification does first
            t0 = time.perf_counter()
            found = transparency.find_leaf(s, leaf_of[index])
            find_times.append(time.perf_counter() - t0)
            assert found is not None and leaf_of[found] == leaf_of[index]
    print(
        f"inclusion proof generation at {size:,}: median {statistics.median(inc_times) * 1e3:.3f} ms, "
        f"p99 {sorted(inc_times)[int(len(inc_times) * 0.99)] * 1e3:.3f} ms"
    )
    print(
        f"consistency proof generation at {size:,}: median {statistics.median(con_times) * 1e3:.3f} ms, "
        f"p99 {sorted(con_times)[int(len(con_times) * 0.99)] * 1e3:.3f} ms"
    )
    print(f"leaf lookup by hash at {size:,}: median {statistics.median(find_times) * 1e3:.3f} ms")
    # Proof generation baseline: rebuilding the path from all leaves costs at least one root computation.
    print(
        f"proof generation vs rebuilding from all leaves ({base_n:.1f} s): ×{base_n / statistics.median(inc_times):,.0f}"
    )

    t0 = time.perf_counter()
    rounds = 5
    for _ in range(rounds):
        for index, proof in inclusions:
            merkle.verify_inclusion(leaf_of[index], index, size, proof, head.root_hash)
    inc_rate = rounds * len(inclusions) / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    for _ in range(rounds):
        for first, proof in consistencies:
            merkle.verify_consistency(first, size, proof, roots[first], head.root_hash)
    con_rate = rounds * len(consistencies) / (time.perf_counter() - t0)
    print(f"verification: {inc_rate:,.0f} inclusion proofs/s, {con_rate:,.0f} consistency proofs/s")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {peak:,.0f} MiB")
    print(f"database: {(tmp / 'log.db').stat().st_size / 2**30:.2f} GiB")


if __name__ == "__main__":
    main()
