"""Bulk import speed against the physical limit of each database, measured in the same run.

    python benchmarks/bench_import.py [--rows 200000] [--kind instruments|verifications|both]
        [--baseline-rows 20000] [--postgres-url postgresql://postgres@127.0.0.1/jiliang_bench]

One run imports ``--rows`` instruments and then ``--rows`` verification records for them, on SQLite and
(when a URL is given) PostgreSQL, and after each import writes the same rows, already validated, into a
clone of the table with the same indexes and foreign keys the fastest way the database offers
(PostgreSQL: binary ``COPY … FROM STDIN`` through psycopg; SQLite: the sqlite3 CLI's ``.import``, or
``executemany`` of pre-built tuples where it cannot be used — the output says which). It prints each
rate, the ratio importer / limit and ``os.getloadavg()`` before and after. Province scale:
``--rows 1000000``.

The CSVs are deterministic (Chinese headers, as an office writes them), for owners spread over a
province's region tree; SQLite is a fresh file, PostgreSQL the database given (flag or
JILIANG_BENCH_POSTGRES_URL; its public schema is DROPPED). Each import runs in a child process so that
its peak RSS is its own. With ``--baseline-rows`` a sample also goes in one row at a time through the
single-record service (services.instruments.file_instrument / services.verifications.record_verification).
"""

from __future__ import annotations

import argparse
import csv
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text

from jiliang.domain.access import SYSTEM, Principal, Role
from jiliang.domain.credit_code import make_credit_code
from jiliang.services import catalogue as catalogue_service
from jiliang.services import instruments as instruments_service
from jiliang.services import organisations, standards
from jiliang.services import verifications as verifications_service
from jiliang.services.platform import Platform
from jiliang.services.transfer import import_instruments, import_verifications
from jiliang.services.transfer.columns import INSTRUMENT_COLUMNS, VERIFICATION_COLUMNS
from jiliang.settings import Settings
from jiliang.store.db import make_engine

PROVINCE = "330000"
CITIES = [f"33{c:02d}00" for c in range(1, 12)]
COUNTIES_PER_CITY = 8
OWNERS = 1000
NOW = datetime(2026, 6, 15, 2, 0, tzinfo=UTC)
# Catalogue items without a size parameter, so every generated row has one verification rule.
ITEMS = ["09.01", "22.01", "11.01", "14.01"]
MANUFACTURERS = [f"示例制造{i:02d}有限公司" for i in range(40)]
SUPERVISOR = Principal(user_id=None, username="bench-province", role=Role.SUPERVISOR, jurisdiction=PROVINCE)


def counties() -> list[str]:
    return [c[:4] + f"{k:02d}" for c in CITIES for k in range(1, COUNTIES_PER_CITY + 1)]


def owner_code(n: int, region: str) -> str:
    return make_credit_code(f"91{region}{n:08d}X"[:17])


def owners() -> list[tuple[str, str]]:
    regions = counties()
    return [(owner_code(n, regions[n % len(regions)]), regions[n % len(regions)]) for n in range(OWNERS)]


def instrument_rows(start: int, count: int) -> Iterator[list[str]]:
    """Row i is the same in every run: serials are unique, owners and items cycle."""
    own = owners()
    base = date(2020, 1, 1)
    for i in range(start, start + count):
        code, region = own[i % len(own)]
        item = ITEMS[i % len(ITEMS)]
        yield [
            f"计量器具{i % 97}",
            item,
            f"M-{i % 13}",
            f"SN{i:010d}",
            MANUFACTURERS[i % len(MANUFACTURERS)],
            region,
            "贸易结算",
            (base + timedelta(days=i % 2000)).isoformat(),
            "0–100",
            "0.5",
            f"PA-{i % 50}",
            "",
            f"第 {i % 300} 号",
            (base + timedelta(days=i % 1500)).isoformat(),
            code,
        ]


INSTITUTION = make_credit_code("12330100MB0000001X"[:17])


def verification_rows(start: int, count: int) -> Iterator[list[str]]:
    base = date(2025, 1, 1)
    for i in range(start, start + count):
        yield [
            MANUFACTURERS[i % len(MANUFACTURERS)],
            f"M-{i % 13}",
            f"SN{i:010d}",
            INSTITUTION,
            "",
            (base + timedelta(days=i % 500)).isoformat(),
            "不合格" if i % 20 == 0 else "合格",
            f"JD-{i:010d}",
            "",
        ]


def write_csv(path: Path, header: list[str], rows: Iterator[list[str]]) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)


def open_platform(url: str, fresh: bool) -> Platform:
    settings = Settings(environment="test", database_url=url, argon2_memory_kib=1024, argon2_time_cost=1)
    if fresh and url.startswith("postgresql"):
        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    return Platform.open(settings, now=lambda: NOW)


def build_world(url: str) -> None:
    p = open_platform(url, fresh=True)
    organisations.ensure_national(p)
    catalogue_service.ensure_shipped(p)
    organisations.add_region(p, SYSTEM, PROVINCE, "浙江省")
    for c in CITIES:
        organisations.add_region(p, SYSTEM, c, f"市{c}")
    for c in counties():
        organisations.add_region(p, SYSTEM, c, f"县{c}")
    for n, (code, region) in enumerate(owners()):
        organisations.add_organisation(
            p, SYSTEM, credit_code=code, name=f"使用单位{n}", kind="enterprise", region_code=region
        )
    inst = organisations.add_organisation(
        p,
        SYSTEM,
        credit_code=INSTITUTION,
        name="省计量科学研究院",
        kind="legal_verification_institution",
        region_code=PROVINCE,
    )
    supervisor = Principal(user_id=None, username="bench", role=Role.SUPERVISOR, jurisdiction=PROVINCE)
    for item in ITEMS:
        standards.authorise(
            p,
            supervisor,
            {
                "institution_id": inst.id,
                "item_code": item,
                "region_code": PROVINCE,
                "valid_from": "2020-01-01",
                "valid_until": "2030-12-31",
            },
        )
    p.close()


def institution_principal(p: Platform) -> Principal:
    from sqlalchemy import select

    from jiliang.store.models import Organisation

    with p.reading() as s:
        oid = s.scalar(select(Organisation.id).where(Organisation.credit_code == INSTITUTION))
    return Principal(
        user_id=None,
        username="bench-institution",
        role=Role.INSTITUTION,
        jurisdiction=PROVINCE,
        organisation_id=oid,
    )


def _bulk_child(url: str, kind: str, path: str, conn: Any) -> None:
    p = open_platform(url, fresh=False)
    principal = SUPERVISOR if kind == "instruments" else institution_principal(p)
    importer = import_instruments if kind == "instruments" else import_verifications
    start = time.perf_counter()
    with open(path, "rb") as f:
        report = importer(p, principal, f, fmt="csv")
    elapsed = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    p.close()
    conn.send((elapsed, report.rows_written, peak))


def _baseline_child(url: str, kind: str, start_row: int, count: int, conn: Any) -> None:
    """The straightforward way: the single-record service, one row (one transaction) at a time."""
    from sqlalchemy import select

    from jiliang.store.models import Instrument, Organisation

    p = open_platform(url, fresh=False)
    with p.reading() as s:
        ids = {code: id_ for code, id_ in s.execute(select(Organisation.credit_code, Organisation.id))}
    started = time.perf_counter()
    if kind == "instruments":
        fields = [c.field for c in INSTRUMENT_COLUMNS]
        for row in instrument_rows(start_row, count):
            raw: dict[str, Any] = dict(zip(fields, row, strict=True))
            raw["use"] = "trade_settlement"
            raw["owner_id"] = ids[raw.pop("owner_credit_code")]
            instruments_service.file_instrument(p, SUPERVISOR, raw)
    else:
        principal = institution_principal(p)
        fields = [c.field for c in VERIFICATION_COLUMNS]
        for row in verification_rows(start_row, count):
            raw = dict(zip(fields, row, strict=True))
            with p.reading() as s:
                iid = s.scalar(
                    select(Instrument.id).where(
                        Instrument.manufacturer == raw["manufacturer"],
                        Instrument.model == raw["model"],
                        Instrument.serial_number == raw["serial_number"],
                    )
                )
            verifications_service.record_verification(
                p,
                principal,
                {
                    "instrument_id": iid,
                    "verified_on": raw["verified_on"],
                    "conclusion": raw["conclusion"],
                    "document_no": raw["document_no"],
                },
            )
    elapsed = time.perf_counter() - started
    p.close()
    conn.send((elapsed, count, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))


def in_child(target: Callable[..., None], *args: Any) -> Any:
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=target, args=(*args, child))
    proc.start()
    result = parent.recv()
    proc.join()
    return result


# -- the physical limit: the same rows, already validated, into a table with the same indexes ----------

LIMIT_TABLE = "bench_limit"


def _written_columns(kind: str) -> tuple[str, ...]:
    from jiliang.services.transfer import instruments, verifications

    return ("id", *(instruments.WRITTEN if kind == "instruments" else verifications.WRITTEN))


def _table(kind: str) -> str:
    return "instruments" if kind == "instruments" else "verification_records"


def _pg_limit_child(url: str, kind: str, conn: Any) -> None:
    """Binary ``COPY … FROM STDIN`` (psycopg) of the rows the importer wrote into a clone of the table.

    The clone has the table's columns, defaults, indexes (unique ones included) and foreign keys. The
    rows are read back from the imported table as a binary COPY stream beforehand (not timed), so the
    timed part is the server's work plus handing it bytes: the strictest limit this client can reach.
    """
    import psycopg

    table, cols = _table(kind), ", ".join(_written_columns(kind))
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as pg:
        pg.execute(f"DROP TABLE IF EXISTS {LIMIT_TABLE}")
        pg.execute(f"CREATE TABLE {LIMIT_TABLE} (LIKE {table} INCLUDING ALL)")
        for name, definition in pg.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype = 'f'",
            (table,),
        ).fetchall():
            pg.execute(f"ALTER TABLE {LIMIT_TABLE} ADD CONSTRAINT limit_{name} {definition}")
        pg.commit()
        data = bytearray()
        with pg.cursor().copy(
            f"COPY (SELECT {cols} FROM {table} ORDER BY id) TO STDOUT (FORMAT BINARY)"
        ) as cp:
            for block in cp:
                data += block
        pg.commit()
        n = pg.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # type: ignore[index]
        pg.commit()
        view = memoryview(data)
        started = time.perf_counter()
        with pg.cursor().copy(f"COPY {LIMIT_TABLE} ({cols}) FROM STDIN (FORMAT BINARY)") as cp:
            for i in range(0, len(view), 1 << 20):
                cp.write(view[i : i + (1 << 20)])
        pg.commit()
        elapsed = time.perf_counter() - started
        pg.execute(f"DROP TABLE {LIMIT_TABLE}")
        pg.commit()
        same = _pg_same_work(pg, n, data) if kind != "instruments" else None
    conn.send(("binary COPY FROM STDIN (psycopg)", elapsed, n, same))


# What a verification-record import must do besides writing the records (services/transfer/verifications):
# bring each instrument's summary up to date and queue one transparency-log leaf per record.
REFRESHED = ("last_verified_on", "last_conclusion", "due_on", "valid_until", "status", "status_since", "row_version")
RESET = (
    "last_verified_on = NULL, last_conclusion = NULL, due_on = NULL, valid_until = NULL, "
    "status = 'in_service', status_since = filed_on, row_version = 1"
)
SAME_INSTRUMENTS, SAME_QUEUE = "bench_limit_instruments", "bench_limit_queue"


def _pg_same_work(pg: Any, n: int, records: bytearray) -> float:
    """The records' limit plus the same set-based work in SQL, timed together in one transaction: binary
    COPY of the records into the clone, binary COPY of each instrument's new summary (as the import left
    it) into a staging table and one ``UPDATE … FROM`` of a clone of ``instruments`` (same indexes; its
    summaries reset to a never-verified instrument's beforehand), binary COPY of the log leaves the
    import queued into a clone of ``log_queue``. Returns the seconds."""
    cols = ", ".join(_written_columns("verifications"))
    refreshed = ", ".join(REFRESHED)
    pg.execute(f"DROP TABLE IF EXISTS {LIMIT_TABLE}, {SAME_INSTRUMENTS}, {SAME_QUEUE}")
    pg.execute(f"CREATE TABLE {LIMIT_TABLE} (LIKE verification_records INCLUDING ALL)")
    for name, definition in pg.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = 'verification_records'::regclass AND contype = 'f'"
    ).fetchall():
        pg.execute(f"ALTER TABLE {LIMIT_TABLE} ADD CONSTRAINT limit_{name} {definition}")
    pg.execute(f"CREATE TABLE {SAME_INSTRUMENTS} (LIKE instruments INCLUDING ALL)")
    pg.execute(f"INSERT INTO {SAME_INSTRUMENTS} SELECT * FROM instruments")
    pg.execute(f"UPDATE {SAME_INSTRUMENTS} SET {RESET}")
    pg.execute(f"CREATE TABLE {SAME_QUEUE} (LIKE log_queue INCLUDING ALL)")
    pg.commit()
    pg.execute(f"ANALYZE {SAME_INSTRUMENTS}")
    pg.commit()
    summaries, leaves = bytearray(), bytearray()
    with pg.cursor().copy(
        "COPY (SELECT id, " + refreshed + " FROM instruments WHERE id IN "
        "(SELECT instrument_id FROM verification_records) ORDER BY id) TO STDOUT (FORMAT BINARY)"
    ) as cp:
        for block in cp:
            summaries += block
    with pg.cursor().copy(
        "COPY (SELECT kind, body, created_at FROM log_queue ORDER BY id) TO STDOUT (FORMAT BINARY)"
    ) as cp:
        for block in cp:
            leaves += block
    pg.commit()
    sets = ", ".join(f"{c} = u.{c}" for c in REFRESHED)
    started = time.perf_counter()
    with pg.cursor().copy(f"COPY {LIMIT_TABLE} ({cols}) FROM STDIN (FORMAT BINARY)") as cp:
        cp.write(records)
    pg.execute(
        f"CREATE TEMP TABLE bench_staging ON COMMIT DROP AS SELECT id, {refreshed} FROM instruments WITH NO DATA"
    )
    with pg.cursor().copy(f"COPY bench_staging (id, {refreshed}) FROM STDIN (FORMAT BINARY)") as cp:
        cp.write(summaries)
    pg.execute(f"UPDATE {SAME_INSTRUMENTS} i SET {sets} FROM bench_staging u WHERE i.id = u.id")
    with pg.cursor().copy(f"COPY {SAME_QUEUE} (kind, body, created_at) FROM STDIN (FORMAT BINARY)") as cp:
        cp.write(leaves)
    pg.commit()
    elapsed = time.perf_counter() - started
    pg.execute(f"DROP TABLE {LIMIT_TABLE}, {SAME_INSTRUMENTS}, {SAME_QUEUE}")
    pg.commit()
    del n
    return elapsed


def _sqlite_clone(db: Any, table: str, clone: str = LIMIT_TABLE) -> None:
    """``clone``: the table's own CREATE statement (keys, foreign keys) and its indexes, renamed."""
    import re

    db.execute(f"DROP TABLE IF EXISTS {clone}")
    (create,) = db.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    ).fetchone()
    db.execute(re.sub(rf"^CREATE TABLE \"?{table}\"?", f"CREATE TABLE {clone}", create))
    for (sql,) in db.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL", (table,)
    ).fetchall():
        sql = re.sub(r"INDEX (\w+) ON \w+", rf"INDEX {clone}_\1 ON {clone}", sql)
        db.execute(sql)
    db.commit()


def _sqlite_limit_child(path: str, kind: str, work: str, conn: Any) -> None:
    """The rows the importer wrote, into a clone of the table (same keys, foreign keys and indexes).

    The sqlite3 CLI's ``.import`` unless a NULL sits in a column under a foreign key or a unique index
    (it reads an empty field as '', which those would refuse); otherwise ``executemany`` of the pre-built tuples in one
    transaction. Either way with the pragmas jiliang's own connections use (WAL, synchronous=NORMAL,
    foreign keys on, 64 MiB cache).
    """
    import shutil
    import sqlite3
    import subprocess

    table = _table(kind)
    cols = _written_columns(kind)
    pragmas = "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY;"
    db = sqlite3.connect(path, isolation_level=None)
    db.executescript(pragmas)
    rows = db.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()
    names = [r[1] for r in db.execute(f"PRAGMA table_info({table})")]
    keyed = {r[3] for r in db.execute(f"PRAGMA foreign_key_list({table})")}
    for index in db.execute(f"PRAGMA index_list({table})").fetchall():
        if index[2]:  # unique
            keyed |= {r[2] for r in db.execute(f"PRAGMA index_info({index[1]})")}
    positions = [names.index(c) for c in keyed]
    has_null = any(r[i] is None for r in rows for i in positions)
    _sqlite_clone(db, table)
    cli = shutil.which("sqlite3")
    if cli and not has_null:
        csv_path = Path(work) / "limit.csv"
        with csv_path.open("w", newline="", encoding="utf-8") as f:
            csv.writer(f).writerows(rows)
        db.close()
        script = f"{pragmas}\n.mode csv\n.import {csv_path} {LIMIT_TABLE}\n"
        started = time.perf_counter()
        subprocess.run([cli, path], input=script, text=True, check=True, capture_output=True)
        elapsed = time.perf_counter() - started
        csv_path.unlink()
        method = "sqlite3 CLI .import"
        db = sqlite3.connect(path, isolation_level=None)
    else:
        marks = ", ".join("?" * len(rows[0])) if rows else ""
        started = time.perf_counter()
        db.execute("BEGIN IMMEDIATE")
        db.executemany(f"INSERT INTO {LIMIT_TABLE} VALUES ({marks})", rows)
        db.execute("COMMIT")
        elapsed = time.perf_counter() - started
        method = "executemany of pre-built tuples" + (" (NULLs under keys: .import cannot)" if cli else "")
    (n,) = db.execute(f"SELECT count(*) FROM {LIMIT_TABLE}").fetchone()
    assert n == len(rows), (n, len(rows))
    db.execute(f"DROP TABLE {LIMIT_TABLE}")
    same = _sqlite_same_work(db, table, rows) if kind != "instruments" else None
    db.close()
    del cols
    conn.send((method, elapsed, n, same))


def _sqlite_same_work(db: Any, table: str, rows: list[tuple[Any, ...]]) -> float:
    """As ``_pg_same_work`` on SQLite, in one ``BEGIN IMMEDIATE`` … ``COMMIT``: executemany of the
    records into the clone, executemany of one ``UPDATE`` per instrument (its summary as the import
    left it) on a clone of ``instruments`` (same indexes, summaries reset beforehand), executemany of
    the leaves the import queued into a clone of ``log_queue``. Returns the seconds."""
    _sqlite_clone(db, table)
    _sqlite_clone(db, "instruments", SAME_INSTRUMENTS)
    _sqlite_clone(db, "log_queue", SAME_QUEUE)
    db.execute(f"INSERT INTO {SAME_INSTRUMENTS} SELECT * FROM instruments")
    db.execute(f"UPDATE {SAME_INSTRUMENTS} SET {RESET}")
    summaries = db.execute(
        f"SELECT {', '.join(REFRESHED)}, id FROM instruments WHERE id IN "
        "(SELECT instrument_id FROM verification_records) ORDER BY id"
    ).fetchall()
    leaves = db.execute("SELECT kind, body, created_at FROM log_queue ORDER BY id").fetchall()
    marks = ", ".join("?" * len(rows[0]))
    sets = ", ".join(f"{c} = ?" for c in REFRESHED)
    started = time.perf_counter()
    db.execute("BEGIN IMMEDIATE")
    db.executemany(f"INSERT INTO {LIMIT_TABLE} VALUES ({marks})", rows)
    db.executemany(f"UPDATE {SAME_INSTRUMENTS} SET {sets} WHERE id = ?", summaries)
    db.executemany(f"INSERT INTO {SAME_QUEUE} (kind, body, created_at) VALUES (?, ?, ?)", leaves)
    db.execute("COMMIT")
    elapsed = time.perf_counter() - started
    for clone in (LIMIT_TABLE, SAME_INSTRUMENTS, SAME_QUEUE):
        db.execute(f"DROP TABLE {clone}")
    return elapsed


def load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def run_backend(
    name: str, url: str, kinds: list[str], rows: int, baseline_rows: int, work: Path
) -> list[tuple[str, str, float, str, float, str, str]]:
    """Import ``rows`` instruments, then ``rows`` verification records for them; each import followed by its
    physical limit, measured on the same machine a moment later. Returns the summary lines."""
    print(f"\n== {name}: {rows:,} rows ==", flush=True)
    build_world(url)
    out = []
    for kind in ("instruments", "verifications"):
        before = load()
        header, gen = (
            ([c.zh for c in INSTRUMENT_COLUMNS], instrument_rows)
            if kind == "instruments"
            else ([c.zh for c in VERIFICATION_COLUMNS], verification_rows)
        )
        path = work / f"{kind}.csv"
        write_csv(path, header, gen(0, rows))
        size = path.stat().st_size
        elapsed, written, peak = in_child(_bulk_child, url, kind, str(path))
        assert written == rows, (written, rows)
        path.unlink()
        rate = written / elapsed
        print(
            f"{kind:<13} import {written:>9,} rows {elapsed:7.1f} s {rate:>9,.0f} rows/s  peak RSS {peak:,.0f} MiB"
            f"  (file {size / 2**20:,.0f} MiB)",
            flush=True,
        )
        if kind not in kinds:
            continue  # only the setup for the verification records
        if url.startswith("postgresql"):
            method, l_elapsed, n, same = in_child(_pg_limit_child, url, kind)
        else:
            method, l_elapsed, n, same = in_child(
                _sqlite_limit_child, url.removeprefix("sqlite:///"), kind, str(work)
            )
        limit = n / l_elapsed
        after = load()
        print(
            f"{kind:<13} limit  {n:>9,} rows {l_elapsed:7.1f} s {limit:>9,.0f} rows/s  ({method})"
            f"  ratio {rate / limit:.2f}  load {before} → {after}",
            flush=True,
        )
        out.append((name, kind, rate, method, limit, before, after))
        if same is not None:
            same_limit = n / same
            what = "records + the same instrument UPDATE + the same log-queue rows, one transaction"
            print(
                f"{kind:<13} same-work limit {n:>9,} rows {same:7.1f} s {same_limit:>9,.0f} rows/s  ({what})"
                f"  ratio {rate / same_limit:.2f}  load {load()}",
                flush=True,
            )
            out.append((name, kind + " (same work)", rate, what, same_limit, before, load()))
    if baseline_rows:
        for kind in kinds:
            b_elapsed, b_count, b_peak = in_child(_baseline_child, url, kind, rows, baseline_rows)
            base_rate = b_count / b_elapsed
            print(
                f"{kind:<13} per-row baseline {b_count:,} rows {b_elapsed:.1f} s {base_rate:,.0f} rows/s"
                f"  peak RSS {b_peak:,.0f} MiB",
                flush=True,
            )
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=200_000, help="rows per import (province scale: 1000000)")
    parser.add_argument("--baseline-rows", type=int, default=0, help="also file this many one at a time")
    parser.add_argument("--kind", choices=["instruments", "verifications", "both"], default="both")
    parser.add_argument("--postgres-url", default=os.environ.get("JILIANG_BENCH_POSTGRES_URL"))
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args = parser.parse_args(argv)
    kinds = ["instruments", "verifications"] if args.kind == "both" else [args.kind]
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPU(s), load {load()}")
    lines = []
    with tempfile.TemporaryDirectory(prefix="jiliang-bench-") as tmp:
        work = Path(tmp)
        if args.only != "postgresql":
            lines += run_backend(
                "SQLite", f"sqlite:///{work / 'bench.db'}", kinds, args.rows, args.baseline_rows, work
            )
        if args.only != "sqlite":
            if not args.postgres_url:
                print("\nPostgreSQL skipped: give --postgres-url or set JILIANG_BENCH_POSTGRES_URL")
            else:
                try:
                    make_engine(args.postgres_url).connect().close()
                except Exception as exc:
                    print(f"\nPostgreSQL skipped: cannot connect ({exc.__class__.__name__}: {exc})")
                else:
                    lines += run_backend(
                        "PostgreSQL", args.postgres_url, kinds, args.rows, args.baseline_rows, work
                    )
    print(
        f"\n{args.rows:,} rows | importer rows/s | limit rows/s | ratio | load before → after | limit measured by"
    )
    for name, kind, rate, method, limit, before, after in lines:
        print(
            f"{kind} → {name} | {rate:,.0f} | {limit:,.0f} | {rate / limit:.2f} | {before} → {after} | {method}"
        )


if __name__ == "__main__":
    main()
