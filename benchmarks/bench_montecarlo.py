"""Monte Carlo propagation (JCGM 101): 10⁶ trials of each §9 example, and peak memory at 10⁷ trials.

    python benchmarks/bench_montecarlo.py                 # targets: ≤ 1 s per example, ≤ 1 GiB at 10⁷
    python benchmarks/bench_montecarlo.py --loop-trials 20000

For each example of tests/montecarlo_examples.py: ``propagate`` with 10⁶ trials (blocks of 10⁵; best of
``--repeat``), against a per-trial Python loop in the same run (same distributions and model, one trial
at a time, on ``--loop-trials`` trials, scaled linearly to 10⁶ — stated in the output). Then the §9.3
mass model with 10⁷ trials, blocked and naive (all 10⁷ draws of every input at once), each in a child
process whose peak RSS is read from getrusage.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from tests.montecarlo_examples import Example, all_examples, mass_calibration  # noqa: E402

from jiliang.metrology.montecarlo import coverage_intervals, propagate  # noqa: E402


def per_trial_loop(ex: Example, trials: int, seed: int) -> float:
    """The straightforward way: draw one trial of every input, evaluate, repeat; then sort and summarise."""
    rng = np.random.default_rng(seed)
    out = []
    start = time.perf_counter()
    for _ in range(trials):
        x = {}
        for name, dist in ex.inputs.items():
            v = dist.sample(rng, 1)
            x[name] = v.T if v.ndim == 2 else v
        out.append(float(ex.model(x)[0]))
    values = np.sort(np.asarray(out))
    values.mean(), values.std(ddof=1), coverage_intervals(values, 0.95)
    return time.perf_counter() - start


def child(mode: str, trials: int) -> None:
    """Run the 10⁷-trial mass example in this (child) process; the parent reads its peak RSS."""
    ex = mass_calibration()
    start = time.perf_counter()
    if mode == "blocked":
        r = propagate(ex.model, ex.inputs, trials=trials, seed=1)
        y, u = r.y, r.u
    else:  # naive: every input drawn for all trials at once, then the model on whole arrays
        rng = np.random.default_rng(1)
        x = {name: dist.sample(rng, trials) for name, dist in ex.inputs.items()}
        values = np.sort(ex.model(x))
        y, u = float(values.mean()), float(values.std(ddof=1))
        coverage_intervals(values, 0.95)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(f"{time.perf_counter() - start:.2f} {peak:.0f} {y:.5f} {u:.5f}")


def rss_of(mode: str, trials: int) -> tuple[float, float, str]:
    """Seconds and peak RSS (MiB, the child's own getrusage) of a child process running ``mode``."""
    proc = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--trials", str(trials)],
        check=True, capture_output=True, text=True,
    )
    seconds, peak, y, u = proc.stdout.split()
    return float(seconds), float(peak), f"y = {y} mg, u = {u} mg"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=1_000_000)
    parser.add_argument("--loop-trials", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--big", type=int, default=10_000_000, help="trials of the memory run")
    parser.add_argument("--child", choices=["blocked", "naive"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.trials)
        return

    scale = args.trials / args.loop_trials
    print(f"{args.trials:,} trials per example (best of {args.repeat}); per-trial loop on {args.loop_trials:,} "
          f"trials × {scale:g}")
    print(f"{'§':7} {'example':42} {'propagate':>10} {'loop (scaled)':>14} {'ratio':>8}")
    worst = 0.0
    for ex in all_examples():
        best = min(_timed(ex, args.trials) for _ in range(args.repeat))
        loop = per_trial_loop(ex, args.loop_trials, seed=2) * scale
        worst = max(worst, best)
        print(f"{ex.section:7} {ex.name:42} {best:9.3f}s {loop:13.1f}s {loop / best:7.0f}×")
    print(f"slowest example: {worst:.3f} s (target ≤ 1 s)")

    print(f"\n§9.3 mass calibration, {args.big:,} trials, each in a fresh process:")
    for mode in ("blocked", "naive"):
        seconds, mib, summary = rss_of(mode, args.big)
        print(f"  {mode:8} {seconds:6.2f} s  peak RSS {mib:7.0f} MiB  ({summary})")
    print("target: blocked ≤ 1024 MiB")


def _timed(ex: Example, trials: int) -> float:
    start = time.perf_counter()
    propagate(ex.model, ex.inputs, trials=trials, seed=1)
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
