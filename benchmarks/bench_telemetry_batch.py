"""Batch detection over the Parquet history: readings/s per core against the per-reading ``detect`` and
against a physical limit measured in the same run, Dask speed-up from 1 to 2 workers, state per
instrument, and the province sizing that follows.

    PYTHONPATH=src python benchmarks/bench_telemetry_batch.py [--copies 25] [--regions 4] [--no-dask]

The seeded labelled data set (160 devices x 400 readings, every fault of docs/telemetry.md) is copied
``--copies`` times under new device ids, spread over ``--regions`` regions and written as the history
(region/day partitions, sorted by device and time as ``history.archive`` writes them). Figures:

1. baseline: ``detectors.detect`` per device over the 64,000 original readings (the live path);
2. the batch path: ``history.detect_region`` over every region (read Parquet, columns, detectors, findings,
   states carried day to day) — and the detectors alone over columns already in memory;
3. physical limits over the same rows: one DuckDB aggregate over the Parquet files (1 thread: count and
   sums of every value column, per device), and one numpy pass over the in-memory value columns;
4. Dask distributed: the same detection on a LocalCluster of 1 then 2 worker processes (1 thread each);
5. state per instrument: the JSON a device keeps between batches, and the batch loop's arrays.

Per core = readings / CPU seconds of this process (``time.process_time``), printed next to wall time and
the machine load: the machines are shared, and CPU time is what a core costs when it is not.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.compute as pc  # noqa: E402
import pyarrow.dataset as ds  # noqa: E402

from jiliang.services.telemetry import history  # noqa: E402
from jiliang.settings import Settings  # noqa: E402
from jiliang.telemetry import batch, columnar, detectors, synthetic  # noqa: E402
from jiliang.telemetry.profiles import DEFAULTS  # noqa: E402

PROVINCE_DEVICES = 10_000_000
READINGS_PER_DAY = 96  # one per 15 min


def load() -> str:
    return Path("/proc/loadavg").read_text().split()[0] if Path("/proc/loadavg").exists() else "?"


class Timer:
    def __enter__(self) -> Timer:
        self.cpu, self.wall = time.process_time(), time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.cpu = time.process_time() - self.cpu
        self.wall = time.perf_counter() - self.wall


def build(root: Path, data: list[synthetic.Device], copies: int, regions: int) -> int:
    rows = [
        {
            "reading_id": 0,
            "device_id": d.device_id,
            "instrument_type": d.instrument_type,
            "message_id": r.message_id,
            "device_time": r.device_time,
            "received_at": rec,
            "values": r.values,
            "events": r.events,
        }
        for d in data
        for r, rec in zip(d.readings, d.received, strict=True)
    ]
    base = columnar.table_from_rows(rows)
    parts = []
    for k in range(copies):
        t = base.set_column(1, "device_id", pc.binary_join_element_wise(base["device_id"], f"-{k:04d}", ""))
        region = pa.array([f"{339901 + k % regions}"] * len(t))
        parts.append(t.append_column("region_code", region))
    table = pa.concat_tables(parts)
    table = table.set_column(0, "reading_id", pa.array(np.arange(len(table), dtype=np.int64)))
    local = pc.add(table["device_time"].cast(pa.int64()), columnar.SHANGHAI_OFFSET_S * 1_000_000)
    days = pc.cast(pc.cast(local, pa.timestamp("us")), pa.date32()).cast(pa.string())
    table = columnar.sort_for_detection(table.append_column("day", days))
    ds.write_dataset(
        table,
        root,
        format="parquet",
        partitioning=ds.partitioning(
            pa.schema([("region_code", pa.string()), ("day", pa.string())]), flavor="hive"
        ),
        basename_template="part-{i}.parquet",
        file_options=ds.ParquetFileFormat().make_write_options(compression="lz4"),  # as history.archive
        existing_data_behavior="overwrite_or_ignore",
        use_threads=False,
        preserve_order=True,
    )
    return len(table)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--copies", type=int, default=25)
    ap.add_argument("--regions", type=int, default=2)
    ap.add_argument("--no-dask", action="store_true")
    args = ap.parse_args()
    data = synthetic.generate()
    n_base = sum(len(d.readings) for d in data)

    with Timer() as t_live:
        for d in data:
            detectors.detect(d.readings, None, DEFAULTS[d.instrument_type], received=d.received)
    live_rate = n_base / t_live.cpu
    print(f"baseline detect (live path): {n_base:,} readings, {live_rate:,.0f} readings/s per core "
          f"(wall {t_live.wall:.2f} s)  [load {load()}]", flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(environment="test", database_url="sqlite://", data_dir=Path(tmp))
        root = history.history_dir(settings)
        n = build(root, data, args.copies, args.regions)
        files = list(history.iter_files(settings))
        size = sum(f.stat().st_size for f in files)
        print(f"history: {n:,} readings, {len(data) * args.copies:,} devices, {len(files)} files, "
              f"{size / n:.1f} bytes/reading on disk", flush=True)

        with Timer() as t_hist:
            results = history.detect_history(settings)
        found = sum(len(r.findings) for r in results.values())
        states = {d: s for r in results.values() for d, s in r.states.items()}
        hist_rate = n / t_hist.cpu
        print(f"batch over Parquet (read + detect, day by day, states carried): {hist_rate:,.0f} readings/s "
              f"per core, {hist_rate / live_rate:.0f}x the live path; {found:,} findings "
              f"(wall {t_hist.wall:.2f} s)  [load {load()}]", flush=True)

        table = ds.dataset(root, format="parquet", partitioning="hive").to_table()
        table = columnar.sort_for_detection(table)
        cols = {k: columnar.columns_from_table(table, k) for k in DEFAULTS}
        with Timer() as t_det:
            for k, c in cols.items():
                batch.detect_columns(c, DEFAULTS[k], with_states=False)
        det_rate = n / t_det.cpu
        print(f"batch detectors alone (columns in memory, one call per type): {det_rate:,.0f} readings/s per "
              f"core (wall {t_det.wall:.2f} s)  [load {load()}]", flush=True)

        import duckdb

        con = duckdb.connect()
        con.execute("SET threads TO 1")
        sums = ", ".join(f"sum(v_{v})" for v in columnar.VALUE_NAMES)
        glob = str(root / "region_code=*" / "day=*" / "part-*.parquet")
        with Timer() as t_duck:
            con.execute(f"SELECT device_id, count(*), {sums} FROM read_parquet('{glob}') GROUP BY device_id").fetchall()
        duck_rate = n / t_duck.wall  # DuckDB's thread is not this process's Python thread: wall, 1 thread
        with Timer() as t_np:
            acc = 0.0
            for c in cols.values():
                for v in c.values.values():
                    acc += float(np.nansum(np.diff(v)))
        np_rate = n / t_np.cpu
        print(f"physical limits: DuckDB aggregate over the same Parquet rows (1 thread) {duck_rate:,.0f} "
              f"readings/s; numpy pass over the value columns {np_rate:,.0f} readings/s. Batch detection "
              f"is {duck_rate / hist_rate:.1f}x below the DuckDB scan and {np_rate / det_rate:.0f}x below one "
              f"numpy pass  [load {load()}]", flush=True)

        sizes = [len(json.dumps(s.to_dict())) for s in states.values()]
        print(f"state per instrument: JSON mean {np.mean(sizes):.0f} B, max {max(sizes)} B "
              f"(bar: 1 KiB); the batch loop holds ~{8 * 22 + 16 * 3} B of arrays per instrument", flush=True)

        if not args.no_dask:
            from distributed import Client, LocalCluster

            walls = {}
            for workers in (1, 2):
                with (
                    LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                 dashboard_address=None) as cluster,
                    Client(cluster) as client,
                ):
                    client.run(lambda: __import__("jiliang.services.telemetry.history"))  # warm imports
                    t0 = time.perf_counter()
                    out = history.detect_history_distributed(client, settings)
                    walls[workers] = time.perf_counter() - t0
                assert sum(len(o.findings) for o in out.values()) == found
                cpu = sum(o.cpu_s for o in out.values())
                print(f"Dask LocalCluster, {workers} worker(s): {n / walls[workers]:,.0f} readings/s wall "
                      f"({walls[workers]:.2f} s); tasks' own CPU {cpu:.2f} s = {n / cpu:,.0f} readings/s per "
                      f"core  [load {load()}]", flush=True)
            print(f"Dask speed-up 1 -> 2 workers: {walls[1] / walls[2]:.2f}x on {os.cpu_count()} shared cores  "
                  f"[load {load()}]")

        per_day = PROVINCE_DEVICES * READINGS_PER_DAY
        core_s = per_day / hist_rate
        print(f"province sizing: {PROVINCE_DEVICES:,} devices x {READINGS_PER_DAY}/day = {per_day:,} readings/day "
              f"= {per_day / 86400:,.0f}/s on average; a day's batch detection is {core_s / 3600:.1f} core-hours "
              f"at the measured rate (a year of history: {365 * core_s / 3600:,.0f} core-hours); "
              f"{size / n * per_day / 1e9:.1f} GB of Parquet a day")


if __name__ == "__main__":
    main()
