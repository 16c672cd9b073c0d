"""Readings as Arrow tables — the layout of the Parquet history — and batch detection over such a table.

Pure: builds and reads in-memory Arrow tables, no files (``services/telemetry/history.py`` writes and
reads them). One row per reading:

| column | type | meaning |
| --- | --- | --- |
| ``reading_id`` | int64 | the database row id (archiving is idempotent on it) |
| ``device_id`` | string | |
| ``instrument_type`` | string | |
| ``message_id`` | string | |
| ``device_time`` | timestamp[us, UTC] | |
| ``utc_offset_s`` | int32 | the device time's offset (the database keeps UTC only: +08:00 assumed) |
| ``received_at`` | timestamp[us, UTC] | |
| ``v_<value>`` | float64, null when absent | one column per value of every payload schema |
| ``events`` | list<string> | |

The hive partition keys ``region_code`` and ``day`` (the reading's date in Asia/Shanghai) are the
directories, not columns of the files.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from jiliang.telemetry.batch import Columns, Result, detect_columns
from jiliang.telemetry.detectors import Finding, Params, State
from jiliang.telemetry.payloads import SCHEMAS
from jiliang.telemetry.profiles import DEFAULTS, Profile

VALUE_NAMES: tuple[str, ...] = tuple(dict.fromkeys(v.name for s in SCHEMAS.values() for v in s.values))
SHANGHAI_OFFSET_S = 8 * 3600
ARROW_SCHEMA = pa.schema(
    [
        ("reading_id", pa.int64()),
        ("device_id", pa.string()),
        ("instrument_type", pa.string()),
        ("message_id", pa.string()),
        ("device_time", pa.timestamp("us", tz="UTC")),
        ("utc_offset_s", pa.int32()),
        ("received_at", pa.timestamp("us", tz="UTC")),
        *((f"v_{v}", pa.float64()) for v in VALUE_NAMES),
        ("events", pa.list_(pa.string())),
    ]
)
DEFAULT_PARAMS = Params()


def table_from_rows(rows: Iterable[Mapping[str, Any]]) -> pa.Table:
    """Rows with ``reading_id, device_id, instrument_type, message_id, device_time, received_at,
    values, events`` (and optionally ``utc_offset_s``) as a table of ``ARROW_SCHEMA``."""
    cols: dict[str, list[Any]] = {f.name: [] for f in ARROW_SCHEMA}
    for r in rows:
        for k in ("reading_id", "device_id", "instrument_type", "message_id", "device_time", "received_at"):
            cols[k].append(r[k])
        cols["utc_offset_s"].append(r.get("utc_offset_s", SHANGHAI_OFFSET_S))
        values = r["values"]
        for v in VALUE_NAMES:
            x = values.get(v)
            cols[f"v_{v}"].append(None if x is None else float(x))
        cols["events"].append(list(r["events"]))
    return pa.table(cols, schema=ARROW_SCHEMA)


def shanghai_day(t: datetime) -> str:
    """The partition day of a reading: its date in Asia/Shanghai (UTC+8, no daylight saving)."""
    return (t.astimezone(UTC) + timedelta(seconds=SHANGHAI_OFFSET_S)).date().isoformat()


def sort_for_detection(table: pa.Table) -> pa.Table:
    """Device by device, each in device time then message id: the order ``detect`` reads, and the one
    the history files are written in (so batch detection needs no sort)."""
    return table.sort_by([("device_id", "ascending"), ("device_time", "ascending"), ("message_id", "ascending")])


ENVELOPE = ("device_id", "instrument_type", "message_id", "device_time", "utc_offset_s", "received_at", "events")


def columns_of(instrument_type: str) -> list[str]:
    """The columns detection reads for one type (its own value columns only)."""
    names = {v.name for s in SCHEMAS.values() if s.instrument_type == instrument_type for v in s.values}
    return [*ENVELOPE, *(f"v_{v}" for v in VALUE_NAMES if v in names)]


def columns_from_table(table: pa.Table, instrument_type: str, filtered: bool = False) -> Columns:
    """The rows of one instrument type as ``batch.Columns`` (no Python objects per reading);
    ``filtered``: the table holds that type only."""
    t = table if filtered else table.filter(pc.equal(table["instrument_type"], instrument_type))
    dev = pc.dictionary_encode(t["device_id"]).combine_chunks()
    events = t["events"].combine_chunks()
    offsets = events.offsets.to_numpy().astype(np.int64)
    offsets = offsets - offsets[0]
    flat = events.flatten().to_numpy(zero_copy_only=False).astype(object)
    received = t["received_at"].cast(pa.int64())
    received_s = pc.divide(pc.cast(received, pa.float64()), 1e6).to_numpy(zero_copy_only=False)
    values = {}
    for v in VALUE_NAMES:
        if f"v_{v}" not in t.column_names:
            continue
        col = t[f"v_{v}"]
        if col.null_count == len(col):
            continue
        values[v] = pc.fill_null(col, np.nan).to_numpy()
    names = dev.dictionary.to_numpy(zero_copy_only=False).astype(object)
    return Columns(
        instrument_type,
        np.empty(0, dtype=object),  # not used when codes are given
        t["message_id"].combine_chunks(),  # read only at findings and ties
        t["device_time"].cast(pa.int64()).to_numpy(),
        t["utc_offset_s"].to_numpy().astype(np.int64),
        np.asarray(received_s, dtype=np.float64),
        values,
        offsets,
        flat,
        dev.indices.to_numpy().astype(np.int64),
        names,
    )


def detect_table(
    table: pa.Table,
    states: Mapping[str, State] | None = None,
    profiles: Mapping[str, Profile] | None = None,
    params: Params = DEFAULT_PARAMS,
    with_states: bool = True,
) -> Result:
    """Every detector over every reading of the table (any types, any devices), from ``states``.

    ``profiles`` maps a device to its profile where it is not its type's default (devices with the
    same profile are detected together)."""
    findings: list[Finding] = []
    out_states: dict[str, State] = {}
    late = 0
    kinds = sorted(set(table["instrument_type"].unique().to_pylist()))
    for kind in kinds:
        needed = table.select([c for c in columns_of(kind) if c in table.column_names])
        sub = needed if len(kinds) == 1 else needed.filter(pc.equal(needed["instrument_type"], kind))
        groups: dict[Profile, list[str]] = {}
        if profiles:
            for d in sub["device_id"].unique().to_pylist():
                groups.setdefault(profiles.get(d, DEFAULTS[kind]), []).append(d)
        else:
            groups[DEFAULTS[kind]] = []
        for profile, devices in groups.items():
            part = sub if not profiles else sub.filter(pc.is_in(sub["device_id"], pa.array(devices)))
            r = detect_columns(columns_from_table(part, kind, True), profile, states, params, with_states)
            findings += r.findings
            out_states.update(r.states)
            late += r.late
    return Result(findings, out_states, late)


def findings_table(findings: Sequence[Finding]) -> pa.Table:
    """Findings as a small table (what a distributed task sends back)."""
    return pa.table(
        {
            "device_id": [f.device_id for f in findings],
            "detector": [f.detector for f in findings],
            "condition": [f.condition for f in findings],
            "transition": [f.transition for f in findings],
            "severity": [f.severity for f in findings],
            "device_time": pa.array([f.device_time for f in findings], pa.timestamp("us", tz="UTC")),
            "message_id": [f.message_id for f in findings],
        }
    )
