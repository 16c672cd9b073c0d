"""Telemetry history: the database's old readings move to Parquet (region/day partitions) exactly once,
retention drops old days, DuckDB counts them, and batch detection over the files — in this process and on
a Dask LocalCluster — gives the live detectors' findings. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from jiliang.errors import InvalidInput
from jiliang.services import instruments
from jiliang.services.platform import Platform
from jiliang.services.telemetry import devices, history, ingest
from jiliang.services.telemetry.ingest import Message
from jiliang.store.models import TelemetryReading
from jiliang.telemetry import columnar, synthetic
from jiliang.telemetry.detectors import Finding, detect
from jiliang.telemetry.profiles import DEFAULTS
from tests.conftest import FIXED_NOW
from tests.factories import COUNTY_A, COUNTY_B, World, instrument_raw

LATER = FIXED_NOW + timedelta(days=40)  # every synthetic reading (June 2026) is then outside the window


def fleet() -> list[synthetic.Device]:
    data = synthetic.generate(seed=7, devices_per_type=6, readings_per_device=150)
    # a faulty and a healthy device of two types, so findings of several detectors are in the history
    keep = {"fuel_dispenser": (3, 5), "electricity_meter": (0, 3)}  # stuck, tamper; none, stuck
    out = []
    for kind, picks in keep.items():
        group = [d for d in data if d.instrument_type == kind]
        out += [group[i] for i in picks]
    return out


def load(world: World, data: list[synthetic.Device]) -> int:
    for i, d in enumerate(data):
        inst = instruments.file_instrument(
            world.platform,
            world.as_("enterprise"),
            instrument_raw(f"H-{i}", item_code="09.01", region=COUNTY_A if i % 2 else COUNTY_B),
        )
        devices.register_device(
            world.platform, world.as_("province"), instrument_id=inst.id, device_id=d.device_id,
            instrument_type=d.instrument_type,
        )
    messages = [
        Message(json.dumps(payload(r)).encode(), rec, "mqtt", device_id=d.device_id)
        for d in data
        for r, rec in zip(d.readings, d.received, strict=True)
    ]
    result = ingest.ingest(world.platform, messages)
    assert result.accepted == len(messages), result.refusals
    return len(messages)


def payload(r: Any) -> dict[str, Any]:
    return {
        "schema": r.schema,
        "device_id": r.device_id,
        "message_id": r.message_id,
        "device_time": r.device_time.isoformat(),
        "values": dict(r.values),
        "events": list(r.events),
    }


def db_count(platform: Platform) -> int:
    with platform.reading() as s:
        return int(s.scalar(select(func.count()).select_from(TelemetryReading)) or 0)


def live(data: list[synthetic.Device]) -> dict[str, list[Finding]]:
    out = {}
    for d in data:
        _, found = detect(d.readings, None, DEFAULTS[d.instrument_type], received=d.received)
        out[d.device_id] = found
    return out


def by_device(findings: list[Finding]) -> dict[str, list[Finding]]:
    out: dict[str, list[Finding]] = {}
    for f in findings:
        out.setdefault(f.device_id, []).append(f)
    return out


def test_archive_moves_readings_exactly_once_and_detection_over_the_files_matches_live(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    platform = world.platform
    data = fleet()
    total = load(world, data)
    monkeypatch.setattr(history, "CHUNK", 97)  # several chunks, so a partition gets several part files
    assert history.archive(platform, now=FIXED_NOW).archived == 0  # all still in the 31-day window

    # a run that stops after writing the files but before deleting: nothing is lost …
    real = Platform.unit_of_work

    def broken(self: Platform, *a: Any, **k: Any) -> Any:
        raise RuntimeError("database gone")

    monkeypatch.setattr(Platform, "unit_of_work", broken)
    with pytest.raises(RuntimeError):
        history.archive(platform, now=LATER)
    monkeypatch.setattr(Platform, "unit_of_work", real)
    assert db_count(platform) == total
    # … and the next run writes nothing twice, then deletes what is safely in Parquet
    again = history.archive(platform, now=LATER)
    # the first chunk's files were in place: found, not written again; the rest archived now
    assert again.already == 97 and again.archived == total - 97 and again.deleted == total
    assert db_count(platform) == 0
    assert all(p.startswith(("region_code=339901/day=2026-06-", "region_code=339902/day=2026-06-"))
               for p in again.partitions)
    counts = history.daily_counts(platform.settings)
    assert sum(c["readings"] for c in counts) == total
    assert {c["region_code"] for c in counts} == {COUNTY_A, COUNTY_B}

    # the detectors over the history give what the live path gives, finding for finding
    results = history.detect_history(platform.settings)
    found = by_device([f for r in results.values() for f in r.findings])
    expected = live(data)
    assert found == {k: v for k, v in expected.items() if v}
    assert sum(len(v) for v in expected.values()) > 5

    # DuckDB's error series sees the drift the detectors found
    errors = history.daily_error(platform.settings, "electricity_meter", DEFAULTS["electricity_meter"].mpe)
    assert {e["device_id"] for e in errors} == {d.device_id for d in data if d.instrument_type == "electricity_meter"}


def test_retention_drops_old_days_and_the_window_must_outlast_ingestion(world: World) -> None:
    platform = world.platform
    total = load(world, fleet())
    history.archive(platform, now=LATER)
    root = history.history_dir(platform.settings)
    assert sum(1 for _ in root.glob("region_code=*/day=*")) >= 2
    short = platform.settings.model_copy(update={"telemetry_history_days": 30})
    dropped = history.apply_retention(short, FIXED_NOW + timedelta(days=17))  # keeps 2026-06-02 on
    assert dropped and all(d.endswith("day=2026-06-01") for d in dropped)
    assert not any(root.glob("region_code=*/day=2026-06-01"))
    assert 0 < sum(c["readings"] for c in history.daily_counts(short)) < total
    platform.settings = platform.settings.model_copy(update={"telemetry_recent_days": 7})
    with pytest.raises(InvalidInput) as e:
        history.archive(platform, now=LATER)
    assert e.value.field == "telemetry_recent_days"


def write_history(root: Path, data: list[synthetic.Device]) -> None:
    for i, d in enumerate(data):
        rows = [
            {
                "reading_id": i * 10_000 + j,
                "device_id": d.device_id,
                "instrument_type": d.instrument_type,
                "message_id": r.message_id,
                "device_time": r.device_time,
                "received_at": rec,
                "values": r.values,
                "events": r.events,
            }
            for j, (r, rec) in enumerate(zip(d.readings, d.received, strict=True))
        ]
        by_day: dict[str, list[dict[str, Any]]] = {}
        for row in rows:
            by_day.setdefault(columnar.shanghai_day(row["device_time"]), []).append(row)
        for day, items in by_day.items():
            region = COUNTY_A if i % 2 else COUNTY_B
            history._write_checked(history._partition(root, region, day), columnar.table_from_rows(items))


def test_dask_local_cluster_runs_the_same_detectors_per_region(tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    from jiliang.settings import Settings

    data = fleet()
    settings = Settings(environment="test", database_url="sqlite://", data_dir=tmp_path)
    write_history(history.history_dir(settings), data)
    with (
        distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster,
        distributed.Client(cluster) as client,
    ):
        out = history.detect_history_distributed(client, settings)
    assert set(out) == {COUNTY_A, COUNTY_B}
    rows = [r for o in out.values() for r in o.findings.to_pylist()]
    expected = live(data)
    assert sorted((r["device_id"], r["detector"], r["condition"], r["transition"], r["message_id"]) for r in rows) == sorted(
        (f.device_id, f.detector, f.condition, f.transition, f.message_id) for v in expected.values() for f in v
    )
    assert sum(o.instruments for o in out.values()) == len(data)
    assert sum(o.readings for o in out.values()) == sum(len(d.readings) for d in data)
    # in process, with windows of a few dozen readings (states carried across many calls): the same
    root = history.history_dir(settings)
    small = [f for region in history.regions(root) for f in history.detect_region(root, region, window_rows=40).findings]
    assert by_device(small) == {k: v for k, v in expected.items() if v}


def test_the_archive_command(world: World, backend: str, tmp_path: Path) -> None:
    if backend != "sqlite":
        pytest.skip("the command opens the database from its URL; one backend is enough")
    from typer.testing import CliRunner

    from jiliang.cli import app

    total = load(world, fleet()[:2])
    env = {
        "JILIANG_DATABASE_URL": world.platform.settings.database_url,
        "JILIANG_DATA_DIR": str(tmp_path / "cli"),
        "COLUMNS": "200",
    }
    result = CliRunner().invoke(app, ["telemetry", "archive"], env=env)  # today: June is past the window
    assert result.exit_code == 0, result.stdout
    assert f"archived {total}," in result.stdout and f"deleted from the database {total}," in result.stdout
    assert db_count(world.platform) == 0
    assert any((tmp_path / "cli" / "telemetry-history").glob("region_code=*/day=*/part-*.parquet"))
