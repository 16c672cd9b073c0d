"""Batch GUM propagation: one model for 1,000,000 instruments, vectorised, against a per-instrument loop
with the `uncertainties` package (issue 4: ≥ 100× faster, identical results, ≤ 4 GiB).

    python benchmarks/bench_gum.py [--instruments 1000000] [--sample 20000]

The model is the thermal-expansion correction of a length standard, L = Ls*(1 + alpha_s*theta) + d,
with each instrument's own estimates and standard uncertainties. The loop is timed on a sample of
instruments and scaled to the full count (stated in the output); the two results are compared on that
sample (value and u_c, maximum relative difference must be ≤ 1e-12).
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import uncertainties
from uncertainties import ufloat

from jiliang.metrology import gum
from jiliang.metrology.expression import Model

MODEL = "L = Ls*(1 + alpha_s*theta) + d"


def data(n: int, seed: int) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    est = {
        "Ls": rng.uniform(10.0, 100.0, n),
        "alpha_s": rng.normal(11.5e-6, 0.5e-6, n),
        "theta": rng.normal(0.0, 0.5, n),
        "d": rng.normal(0.0, 1e-3, n),
    }
    unc = {
        "Ls": rng.uniform(1e-5, 5e-5, n),
        "alpha_s": rng.uniform(0.5e-6, 1.5e-6, n),
        "theta": rng.uniform(0.05, 0.5, n),
        "d": rng.uniform(1e-5, 1e-4, n),
    }
    return est, unc


def loop(
    est: dict[str, np.ndarray], unc: dict[str, np.ndarray], idx: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    values, us = np.empty(len(idx)), np.empty(len(idx))
    for out, i in enumerate(idx):
        ls = ufloat(est["Ls"][i], unc["Ls"][i])
        a = ufloat(est["alpha_s"][i], unc["alpha_s"][i])
        t = ufloat(est["theta"][i], unc["theta"][i])
        d = ufloat(est["d"][i], unc["d"][i])
        y = ls * (1 + a * t) + d
        values[out], us[out] = y.nominal_value, y.std_dev
    return values, us


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instruments", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=20_000, help="instruments the per-instrument loop runs")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    n = args.instruments
    est, unc = data(n, args.seed)
    model = Model.parse(MODEL)

    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        batch = gum.evaluate_batch(model, est, unc)
        best = min(best, time.perf_counter() - t0)

    idx = np.linspace(0, n - 1, min(args.sample, n)).astype(np.int64)
    t0 = time.perf_counter()
    ref_value, ref_u = loop(est, unc, idx)
    loop_s = time.perf_counter() - t0
    loop_full = loop_s * n / len(idx)

    dv = np.max(np.abs(batch.value[0, idx] - ref_value) / np.abs(ref_value))
    du = np.max(np.abs(batch.u[0, idx] - ref_u) / ref_u)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # KiB → GiB
    print(f"model: {MODEL}  (uncertainties {uncertainties.__version__})")
    print(
        f"vectorised evaluate_batch, {n:,} instruments: {best:.3f} s (best of 3), {n / best:,.0f} instruments/s"
    )
    print(
        f"per-instrument loop with uncertainties: {loop_s:.2f} s for {len(idx):,} instruments, "
        f"scaled to {n:,}: {loop_full:.1f} s"
    )
    print(f"ratio: {loop_full / best:,.0f}×")
    print(f"max relative difference on the sample: value {dv:.2e}, u_c {du:.2e}")
    print(f"peak RSS: {peak:.2f} GiB")
    assert dv <= 1e-12 and du <= 1e-12, "vectorised and per-instrument results differ"
    assert peak <= 4.0, "peak RSS above 4 GiB"


if __name__ == "__main__":
    main()
