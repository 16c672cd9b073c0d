"""Bulk import speed: the streaming importer against a per-row baseline, on SQLite and PostgreSQL.

    python benchmarks/bench_import.py --rows 1000000 [--kind instruments|verifications]
        [--baseline-rows 20000] [--postgres-url postgresql://postgres@127.0.0.1/jiliang_bench]

Generates a deterministic CSV (Chinese headers, as an office writes them) for owners spread over a
province's region tree, imports it into a fresh SQLite file and, when a PostgreSQL URL is given (flag or
JILIANG_BENCH_POSTGRES_URL; the database's public schema is DROPPED), into PostgreSQL. In the same run a
sample of ``--baseline-rows`` goes in one row at a time through the single-record service
(services.instruments.file_instrument / services.verifications.record_verification), the straightforward
way; the ratio of the two rates is printed, with each import's peak RSS (each import runs in a child
process so that its peak is its own).
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


def in_child(target: Callable[..., None], *args: Any) -> tuple[float, int, float]:
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=target, args=(*args, child))
    proc.start()
    result = parent.recv()
    proc.join()
    return result  # type: ignore[no-any-return]


def run_backend(name: str, url: str, kind: str, rows: int, baseline_rows: int, work: Path) -> None:
    print(f"\n== {name}: {kind}, {rows:,} rows ==", flush=True)
    build_world(url)
    if kind == "verifications":
        # The instruments the records are for, filed by the bulk importer itself (not timed).
        path = work / "setup-instruments.csv"
        write_csv(path, [c.zh for c in INSTRUMENT_COLUMNS], instrument_rows(0, rows + baseline_rows))
        elapsed, written, _ = in_child(_bulk_child, url, "instruments", str(path))
        print(f"setup: {written:,} instruments in {elapsed:.1f} s", flush=True)
        path.unlink()
        header, gen = [c.zh for c in VERIFICATION_COLUMNS], verification_rows
    else:
        header, gen = [c.zh for c in INSTRUMENT_COLUMNS], instrument_rows
    path = work / f"{kind}.csv"
    write_csv(path, header, gen(0, rows))
    size = path.stat().st_size
    elapsed, written, peak = in_child(_bulk_child, url, kind, str(path))
    assert written == rows, (written, rows)
    path.unlink()
    bulk_rate = written / elapsed
    print(
        f"bulk     {written:>10,} rows  {elapsed:8.1f} s  {bulk_rate:>10,.0f} rows/s  peak RSS {peak:,.0f} MiB"
        f"  (file {size / 2**20:,.0f} MiB)",
        flush=True,
    )
    b_elapsed, b_count, b_peak = in_child(_baseline_child, url, kind, rows, baseline_rows)
    base_rate = b_count / b_elapsed
    print(
        f"baseline {b_count:>10,} rows  {b_elapsed:8.1f} s  {base_rate:>10,.0f} rows/s  peak RSS {b_peak:,.0f} MiB",
        flush=True,
    )
    print(f"ratio bulk / per-row baseline: {bulk_rate / base_rate:,.1f}×", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--baseline-rows", type=int, default=20_000)
    parser.add_argument("--kind", choices=["instruments", "verifications"], default="instruments")
    parser.add_argument("--postgres-url", default=os.environ.get("JILIANG_BENCH_POSTGRES_URL"))
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args = parser.parse_args(argv)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPU(s)")
    with tempfile.TemporaryDirectory(prefix="jiliang-bench-") as tmp:
        work = Path(tmp)
        if args.only != "postgresql":
            run_backend(
                "SQLite", f"sqlite:///{work / 'bench.db'}", args.kind, args.rows, args.baseline_rows, work
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
                    run_backend(
                        "PostgreSQL", args.postgres_url, args.kind, args.rows, args.baseline_rows, work
                    )


if __name__ == "__main__":
    main()
