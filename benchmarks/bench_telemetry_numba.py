"""Is numba worth it for the batch detectors' recursions? The CUSUM + EWMA core with its hysteresis,
over (400 steps x 2,000 instruments): the numpy step loop of telemetry/batch.py against a numba kernel
(one instrument at a time), checked bit-identical, same run.

    PYTHONPATH=src python benchmarks/bench_telemetry_numba.py      # needs numba (not a dependency)

Result (docs/benchmarks.md): numba is ~4x faster on this core, but the core already runs at ~40 M
readings/s in numpy, a small part of the detectors' ~2 M/s — so numba was not adopted.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

try:
    import numba
except ImportError:  # pragma: no cover - optional
    sys.exit("numba is not installed (it is not a dependency of jiliang): pip install numba")

T, N = 400, 2000
CLIP, K, H, LAM, CAP, LIM, CLEAR = 10.0, 0.5, 8.0, 0.1, 16.0, 1.0, 0.8


def load() -> str:
    return Path("/proc/loadavg").read_text().split()[0] if Path("/proc/loadavg").exists() else "?"


def numpy_loop(
    z: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The drift and out-of-tolerance recursion as telemetry/batch.py steps it: all instruments per step."""
    n = z.shape[1]
    cp, cn, ew = np.zeros(n), np.zeros(n), np.zeros(n)
    ad, ao = np.zeros(n, bool), np.zeros(n, bool)
    drift, oot = np.zeros(z.shape, bool), np.zeros(z.shape, bool)
    for t in range(z.shape[0]):
        zt = z[t]
        has = ~np.isnan(zt)
        zc = np.clip(zt, -CLIP, CLIP)
        cp = np.where(has, np.minimum(CAP, np.maximum(0.0, cp + zc - K)), cp)
        cn = np.where(has, np.minimum(CAP, np.maximum(0.0, cn - zc - K)), cn)
        ew = np.where(has, ew + LAM * (zc - ew), ew)
        d = np.maximum(cp, cn) > np.where(ad, H / 2, H)
        ad = np.where(has, d, ad)
        o = np.abs(ew) > np.where(ao, CLEAR, LIM)
        ao = np.where(has, o, ao)
        drift[t], oot[t] = has & d, has & o
    return drift, oot, cp, cn, ew


@numba.njit
def nb_kernel(z):  # type: ignore[no-untyped-def]
    """The same recursion compiled, one instrument at a time (the detect order of operations)."""
    steps, n = z.shape
    drift = np.zeros((steps, n), np.bool_)
    oot = np.zeros((steps, n), np.bool_)
    cpo, cno, ewo = np.zeros(n), np.zeros(n), np.zeros(n)
    for j in range(n):
        cp = cn = ew = 0.0
        ad = ao = False
        for t in range(steps):
            x = z[t, j]
            if x != x:
                continue
            zc = max(-CLIP, min(CLIP, x))
            cp = min(CAP, max(0.0, cp + zc - K))
            cn = min(CAP, max(0.0, cn - zc - K))
            ew = ew + LAM * (zc - ew)
            ad = max(cp, cn) > (H / 2 if ad else H)
            ao = abs(ew) > (CLEAR if ao else LIM)
            drift[t, j] = ad
            oot[t, j] = ao
        cpo[j], cno[j], ewo[j] = cp, cn, ew
    return drift, oot, cpo, cno, ewo


def main() -> None:
    rng = np.random.default_rng(1)
    z = rng.normal(0, 1, (T, N))
    z[rng.random((T, N)) < 0.1] = np.nan
    a, b = numpy_loop(z), nb_kernel(z)
    print("bit-identical:", all(np.array_equal(x, y) for x, y in zip(a, b, strict=True)))
    for name, f in (("numpy step loop (telemetry/batch.py)", numpy_loop), ("numba kernel", nb_kernel)):
        best = 1e9
        for _ in range(5):
            c0 = time.process_time()
            f(z)
            best = min(best, time.process_time() - c0)
        print(f"{name}: {T * N / best:,.0f} readings/s per core  [load {load()}]")


if __name__ == "__main__":
    main()
