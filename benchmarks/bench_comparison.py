"""ISO 13528 Algorithm A on many proficiency-testing rounds: vectorised against a per-round loop.

    python benchmarks/bench_comparison.py                    # 10,000 rounds of 30 laboratories
    python benchmarks/bench_comparison.py --rounds 100000

Rounds are drawn once (seeded: Student t with 3 degrees of freedom, so that every round has a few
outlying laboratories and the winsorising matters). The measured call is
``metrology.comparison.algorithm_a_batch`` on the whole (rounds × laboratories) array; the baseline, in
the same run on the same data, is ``algorithm_a`` called once per round. Both results are compared.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from jiliang.metrology.comparison import algorithm_a, algorithm_a_batch


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=10_000)
    parser.add_argument("--labs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=13528)
    args = parser.parse_args()
    data = 100.0 + np.random.default_rng(args.seed).standard_t(3, size=(args.rounds, args.labs))

    t0 = time.perf_counter()
    mean, sd = algorithm_a_batch(data)
    vectorised = time.perf_counter() - t0

    t0 = time.perf_counter()
    loop = [algorithm_a(row) for row in data]
    baseline = time.perf_counter() - t0

    diff = max(
        float(np.max(np.abs(mean - [e.mean for e in loop]))),
        float(np.max(np.abs(sd - [e.sd for e in loop]))),
    )
    print(f"Algorithm A, {args.rounds:,} rounds × {args.labs} laboratories")
    print(f"  vectorised (algorithm_a_batch): {vectorised:8.3f} s")
    print(f"  per-round loop (algorithm_a):   {baseline:8.3f} s")
    print(f"  ratio: {baseline / vectorised:.1f}×   largest difference in x*, s*: {diff:.2e}")


if __name__ == "__main__":
    main()
