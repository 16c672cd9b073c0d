"""Telemetry history: the database keeps a recent window; older readings move to Parquet files partitioned
by region and day (hive layout ``region_code=<code>/day=<YYYY-MM-DD>/part-<first>-<last>.parquet``),
old partitions are dropped by a retention policy, DuckDB answers analytics over the files, and the
detectors run over them in batch — in this process or on a Dask cluster, one task per region.

Nothing is lost or counted twice:

- ``archive`` writes a part file to a temporary name, reads it back, checks that it holds exactly the
  rows meant for it, renames it into place, and only then deletes those rows from the database (by row
  id, in one transaction per chunk).
- The database row id goes into the file (``reading_id``). If a run stops between the rename and the
  delete, the next run finds those ids already in the partition, does not write them again, and deletes
  them. A reading that arrives late for a day already archived stays in the database until the next run
  adds it to that day's partition as another part file.

Settings: ``telemetry_history_dir`` (default ``<data_dir>/telemetry-history``),
``telemetry_recent_days`` (the database window, in whole Asia/Shanghai days; default 31 — it must
outlast the 30 days within which ingestion accepts a reading, so a redelivery still meets its first copy) and
``telemetry_history_days`` (partitions older than this are dropped; default 3 years and a day).
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import delete, select

from jiliang.errors import InvalidInput
from jiliang.services.platform import Platform
from jiliang.services.telemetry.ingest import DEFAULT_LIMITS, utc
from jiliang.settings import Settings
from jiliang.store.models import TelemetryDevice, TelemetryReading
from jiliang.telemetry import columnar
from jiliang.telemetry.batch import Result
from jiliang.telemetry.detectors import Finding, State
from jiliang.telemetry.profiles import Profile

CHUNK = 50_000  # readings read, written and deleted per transaction
WINDOW_ROWS = 2_000_000  # readings detected in one call over the history (about 200 MB of columns)
ARCHIVER_NAME = "telemetry-history"


def history_dir(settings: Settings) -> Path:
    return settings.telemetry_history_dir or settings.data_dir / "telemetry-history"


def cutoff(settings: Settings, now: datetime) -> datetime:
    """Readings timed before this (a midnight in Asia/Shanghai) belong in the history."""
    shanghai = utc(now) + timedelta(seconds=columnar.SHANGHAI_OFFSET_S)
    midnight = shanghai.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight - timedelta(days=settings.telemetry_recent_days, seconds=columnar.SHANGHAI_OFFSET_S)


@dataclass
class ArchiveResult:
    archived: int = 0  # rows written to Parquet by this run
    already: int = 0  # rows found already in Parquet (a previous run stopped before deleting them)
    deleted: int = 0  # rows deleted from the database (archived + already)
    partitions: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)  # partitions removed by the retention policy


def _partition(root: Path, region: str, day: str) -> Path:
    return root / f"region_code={region}" / f"day={day}"


def _archived_ids(part: Path, lowest: int, highest: int) -> set[int]:
    """Ids already in the partition within [lowest, highest]: only files whose id range (in their name,
    ``part-<min>-<max>-<tag>``) overlaps it are read, so a run's later chunks skip its earlier files."""
    ids: set[int] = set()
    for f in sorted(part.glob("part-*.parquet")):
        bits = f.stem.split("-")
        try:
            lo, hi = int(bits[1]), int(bits[2])
        except (IndexError, ValueError):
            lo, hi = lowest, highest  # a file not named by archive: read it
        if hi < lowest or lo > highest:
            continue
        ids.update(pq.read_table(f, columns=["reading_id"])["reading_id"].to_pylist())
    return ids


def _write_checked(part: Path, table: pa.Table) -> Path:
    """Write, read back, compare, then rename into place (a reader never sees a partial file)."""
    part.mkdir(parents=True, exist_ok=True)
    ids = table["reading_id"].to_pylist()
    final = part / f"part-{min(ids)}-{max(ids)}-{uuid.uuid4().hex[:8]}.parquet"
    tmp = part / f".tmp-{uuid.uuid4().hex}.parquet"
    # lz4: read at 119 ns/row against zstd's 264 (one thread, this machine), for 17 % more bytes —
    # the history is read by every batch detection, written once
    pq.write_table(table, tmp, compression="lz4", row_group_size=256 * 1024)
    back = pq.read_table(tmp, columns=["reading_id"])["reading_id"].to_pylist()
    if sorted(back) != sorted(ids):
        tmp.unlink(missing_ok=True)
        raise RuntimeError(f"Parquet file {tmp} did not read back what was written")
    os.replace(tmp, final)
    return final


def _rows(platform: Platform, before: datetime, after_id: int) -> list[dict[str, Any]]:
    with platform.reading() as s:
        q = (
            select(
                TelemetryReading.id,
                TelemetryDevice.device_id,
                TelemetryDevice.instrument_type,
                TelemetryDevice.region_code,
                TelemetryReading.message_id,
                TelemetryReading.device_time,
                TelemetryReading.received_at,
                TelemetryReading.values,
                TelemetryReading.events,
            )
            .join(TelemetryDevice, TelemetryDevice.id == TelemetryReading.device_pk)
            .where(TelemetryReading.device_time < before, TelemetryReading.id > after_id)
            .order_by(TelemetryReading.id)
            .limit(CHUNK)
        )
        return [
            {
                "reading_id": r[0],
                "device_id": r[1],
                "instrument_type": r[2],
                "region_code": r[3],
                "message_id": r[4],
                "device_time": utc(r[5]),
                "received_at": utc(r[6]),
                "values": r[7] or {},
                "events": r[8] or [],
            }
            for r in s.execute(q)
        ]


def archive(platform: Platform, now: datetime | None = None) -> ArchiveResult:
    """Move the readings older than the recent window to Parquet, then apply the retention policy."""
    settings = platform.settings
    if timedelta(days=settings.telemetry_recent_days) <= DEFAULT_LIMITS.max_past:
        # a reading still accepted by ingestion must still be in the database, where its (device,
        # message id) makes a redelivery count once
        raise InvalidInput(
            f"近期窗口须长于 {DEFAULT_LIMITS.max_past.days} 天 / the recent window must outlast the "
            f"{DEFAULT_LIMITS.max_past.days} days within which readings are accepted",
            field="telemetry_recent_days",
        )
    root = history_dir(settings)
    now = now or platform.now()
    before = cutoff(settings, now)
    result = ArchiveResult()
    after_id = 0
    touched: set[str] = set()
    while rows := _rows(platform, before, after_id):
        after_id = rows[-1]["reading_id"]
        groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
        for r in rows:
            groups[(r["region_code"], columnar.shanghai_day(r["device_time"]))].append(r)
        safe: list[int] = []
        for (region, day), items in sorted(groups.items()):
            part = _partition(root, region, day)
            ids = [r["reading_id"] for r in items]
            present = _archived_ids(part, min(ids), max(ids)) if part.exists() else set()
            new = [r for r in items if r["reading_id"] not in present]
            result.already += len(items) - len(new)
            if new:
                _write_checked(part, columnar.sort_for_detection(columnar.table_from_rows(new)))
                result.archived += len(new)
            touched.add(f"region_code={region}/day={day}")
            safe += [r["reading_id"] for r in items]
        with platform.unit_of_work() as s:
            for i in range(0, len(safe), 5000):
                gone = s.execute(delete(TelemetryReading).where(TelemetryReading.id.in_(safe[i : i + 5000])))
                result.deleted += int(gone.rowcount or 0)  # type: ignore[attr-defined]
    result.partitions = sorted(touched)
    result.dropped = apply_retention(settings, now)
    return result


def apply_retention(settings: Settings, now: datetime) -> list[str]:
    """Drop whole day partitions older than ``telemetry_history_days`` (Asia/Shanghai days)."""
    root = history_dir(settings)
    if not root.exists():
        return []
    oldest = columnar.shanghai_day(utc(now) - timedelta(days=settings.telemetry_history_days))
    dropped = []
    for region in sorted(root.glob("region_code=*")):
        for day in sorted(region.glob("day=*")):
            if day.name.removeprefix("day=") < oldest:
                shutil.rmtree(day)
                dropped.append(f"{region.name}/{day.name}")
        if not any(region.iterdir()):
            region.rmdir()
    return dropped


# --- reading the history ---------------------------------------------------------------------------


def regions(root: Path) -> list[str]:
    return sorted(p.name.removeprefix("region_code=") for p in root.glob("region_code=*") if p.is_dir())


def days(root: Path, region: str) -> list[str]:
    return sorted(p.name.removeprefix("day=") for p in (root / f"region_code={region}").glob("day=*"))


DETECTION_SCHEMA = pa.schema([f for f in columnar.ARROW_SCHEMA if f.name != "reading_id"])


def read_day(root: Path, region: str, day: str, instrument_type: str | None = None) -> pa.Table:
    """One partition as one table, sorted for detection (part files of late readings merged in); the
    database row id is not read (detection does not need it, and it is the costliest column to decode)."""
    files = sorted(_partition(root, region, day).glob("part-*.parquet"))
    names = DETECTION_SCHEMA.names
    tables = [
        pq.read_table(f, columns=names, schema=columnar.ARROW_SCHEMA, use_threads=False).cast(DETECTION_SCHEMA)
        for f in files
    ]
    table = pa.concat_tables(tables) if tables else DETECTION_SCHEMA.empty_table()
    if instrument_type is not None:
        table = table.filter(pa.compute.equal(table["instrument_type"], instrument_type))
    return table if len(files) == 1 else columnar.sort_for_detection(table)


def detect_region(
    root: str | Path,
    region: str,
    states: Mapping[str, State] | None = None,
    profiles: Mapping[str, Profile] | None = None,
    first_day: str | None = None,
    last_day: str | None = None,
    window_rows: int = WINDOW_ROWS,
) -> Result:
    """The detectors over one region's history, carrying each device's state forward (a device's
    readings are all in its region, and day partitions hold them by device time, so the order ``detect``
    needs is kept). Consecutive days are detected together up to ``window_rows`` readings, so the
    per-device cost of a call (states in and out) is spread over many readings; memory is one window of
    one region plus one state per device."""
    root = Path(root)
    st: dict[str, State] = dict(states or {})
    findings: list[Finding] = []
    late = 0
    window: list[pa.Table] = []
    rows = 0

    def flush() -> None:
        nonlocal late, rows
        if window:
            r = columnar.detect_table(pa.concat_tables(window), st, profiles)
            findings.extend(r.findings)
            st.update(r.states)
            late += r.late
        window.clear()
        rows = 0

    for day in days(root, region):
        if (first_day and day < first_day) or (last_day and day > last_day):
            continue
        table = read_day(root, region, day)
        window.append(table)
        rows += len(table)
        if rows >= window_rows:
            flush()
    flush()
    return Result(findings, st, late)


def detect_history(
    settings: Settings, profiles: Mapping[str, Profile] | None = None
) -> dict[str, Result]:
    """Batch detection over the whole history in this process, region by region."""
    root = history_dir(settings)
    return {region: detect_region(root, region, profiles=profiles) for region in regions(root)}


@dataclass(frozen=True)
class RegionOutcome:
    findings: pa.Table
    instruments: int
    readings: int
    cpu_s: float  # CPU time of the task in its worker (to tell contention from overhead)


def _region_task(root: str, region: str, profiles: Mapping[str, Profile] | None) -> RegionOutcome:
    t0 = time.process_time()
    r = detect_region(root, region, profiles=profiles)
    readings = sum(s.readings for s in r.states.values())
    return RegionOutcome(columnar.findings_table(r.findings), len(r.states), readings, time.process_time() - t0)


def detect_history_distributed(
    client: Any, settings: Settings, profiles: Mapping[str, Profile] | None = None
) -> dict[str, RegionOutcome]:
    """The same detection on a Dask distributed cluster: one task per region (its instruments never
    leave it, so each task keeps every instrument's order), the files read by the workers from a path
    they share. ``client`` is a ``distributed.Client``."""
    root = str(history_dir(settings))
    futures = {
        region: client.submit(_region_task, root, region, profiles, pure=False) for region in regions(Path(root))
    }
    return dict(zip(futures, client.gather(list(futures.values())), strict=True))


# --- analytics (DuckDB) -----------------------------------------------------------------------------


def _glob(settings: Settings) -> str:
    return str(history_dir(settings) / "region_code=*" / "day=*" / "part-*.parquet")


def _duckdb_rows(settings: Settings, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    import duckdb

    if not any(history_dir(settings).glob("region_code=*/day=*/part-*.parquet")):
        return []
    con = duckdb.connect()
    try:
        con.execute("SET threads TO 1")
        rel = f"read_parquet('{_glob(settings)}', hive_partitioning = true, hive_types = {{'region_code': VARCHAR, 'day': VARCHAR}})"
        return con.execute(sql.replace("{history}", rel), list(params)).fetchall()
    finally:
        con.close()


def daily_counts(settings: Settings) -> list[dict[str, Any]]:
    """Readings per region, day and instrument type, with the devices that reported."""
    rows = _duckdb_rows(
        settings,
        "SELECT region_code, day, instrument_type, count(*) AS readings, count(DISTINCT device_id) AS devices "
        "FROM {history} GROUP BY ALL ORDER BY region_code, day, instrument_type",
    )
    return [dict(zip(("region_code", "day", "instrument_type", "readings", "devices"), r, strict=True)) for r in rows]


def daily_error(settings: Settings, instrument_type: str, mpe: float) -> list[dict[str, Any]]:
    """The error series per device and day in MPEs: dispensers' shown volume against encoder pulses
    (K = 100 pulses/L, the default profile), meters' register advance against their reference's."""
    if instrument_type == "fuel_dispenser":
        expr = "(sum(v_volume_l) / (sum(v_pulses) / 100.0) - 1) / ?"
        where = "v_pulses > 0"
    elif instrument_type in ("electricity_meter", "water_meter"):
        reg, ref = (
            ("v_energy_kwh", "v_reference_energy_kwh")
            if instrument_type == "electricity_meter"
            else ("v_volume_m3", "v_reference_volume_m3")
        )
        expr = f"((max({reg}) - min({reg})) / nullif(max({ref}) - min({ref}), 0) - 1) / ?"
        where = f"{ref} IS NOT NULL"
    else:
        raise InvalidInput("没有误差序列的器具类型 / no error series for this type", field="instrument_type")
    rows = _duckdb_rows(
        settings,
        f"SELECT region_code, day, device_id, count(*), {expr} FROM {{history}} "
        f"WHERE instrument_type = ? AND {where} GROUP BY ALL ORDER BY device_id, day",
        [mpe, instrument_type],
    )
    return [
        {"region_code": r[0], "day": r[1], "device_id": r[2], "readings": r[3], "error_mpe": r[4]} for r in rows
    ]


def iter_files(settings: Settings) -> Iterator[Path]:
    yield from sorted(history_dir(settings).glob("region_code=*/day=*/part-*.parquet"))
