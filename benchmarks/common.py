"""Shared by the benchmarks: build (or reuse) a demo database of a given size, and print figures."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from jiliang.demo import DemoConfig, build_demo, demo_exists
from jiliang.services.platform import Platform
from jiliang.settings import Settings

PASSWORD = "bench-password-123"  # every demo account of a benchmark database


def add_db_arguments(parser: argparse.ArgumentParser, default_instruments: int = 1_000_000) -> None:
    parser.add_argument(
        "--instruments", type=int, default=default_instruments, help="size of the demo database"
    )
    parser.add_argument("--cities", type=int, default=0, help="cities (0: one per 500,000 instruments, ≤ 9)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--db", default="", help="SQLite file or database URL (default jiliang-data/bench-<N>.db, reused)"
    )


def database_url(args: argparse.Namespace) -> str:
    db = args.db or f"jiliang-data/bench-{args.instruments}.db"
    return db if "://" in db else f"sqlite:///{Path(db)}"


def open_or_build(args: argparse.Namespace) -> Platform:
    """Open the benchmark database, building the demo city into it first if it is not there."""
    platform = Platform.open(Settings(database_url=database_url(args)))
    if demo_exists(platform):
        print(f"reusing {database_url(args)}")
        return platform
    cities = args.cities or min(9, max(1, args.instruments // 500_000))
    print(
        f"building {args.instruments:,} instruments in {cities} cities into {database_url(args)} …",
        flush=True,
    )
    last = [0.0]

    def progress(stage: str, done: int, total: int) -> None:
        if time.perf_counter() - last[0] > 10 or done == total:
            last[0] = time.perf_counter()
            print(f"  {stage}: {done:,}/{total:,}", flush=True)

    summary = build_demo(
        platform,
        DemoConfig(instruments=args.instruments, seed=args.seed, cities=cities),
        password=PASSWORD,
        snapshots=False,
        progress=progress,
    )
    print(
        f"built {summary.instruments:,} instruments, {summary.records:,} records in {summary.seconds:.1f} s "
        f"({summary.instruments / summary.seconds:,.0f} instruments/s)",
        flush=True,
    )
    return platform
