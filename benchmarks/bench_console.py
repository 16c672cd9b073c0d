"""Server time of each supervisor console page at city (1 M) and province (5 M) scale: p50/p99 per page.

    python benchmarks/bench_console.py --instruments 1000000 --db /work/bench/city-1m.db
    python benchmarks/bench_console.py --instruments 5000000 --db /work/bench/province-5m.db

Builds the demo registry into ``--db`` unless it is there (reused by path). Each page is timed as the
service calls its router makes, signed in as the province supervisor (the widest jurisdiction); the
dashboard is also timed through FastAPI's TestClient (sign-in, template, everything). "before" is the
dashboard with today's indicators computed by scanning the instruments (``use_tallies=False``, what every
view did before migration 0017); "after" reads the trigger-kept tallies. Issue 10 asks ≤ 300 ms per page.
"""

from __future__ import annotations

import argparse
import gc
import os
import re
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import PASSWORD, add_db_arguments, open_or_build

from jiliang.domain.access import Principal, Role
from jiliang.services import indicators
from jiliang.services.platform import Platform
from jiliang.services.supervision import dashboard, followup, history, paging, search
from jiliang.web.supervision import COUNT_LIMIT

TARGET_MS = 300.0


def load() -> str:
    return Path("/proc/loadavg").read_text().split()[0] if os.path.exists("/proc/loadavg") else "?"


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float, str]:
    fn()  # warm the caches (catalogue, SQLite pages) once
    times = []
    loads = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
        loads.append(load())
    times.sort()
    p99 = times[min(len(times) - 1, round(0.99 * (len(times) - 1)))]
    return statistics.median(times), p99, f"{loads[0]}–{loads[-1]}"


def report_line(name: str, fn: Callable[[], Any], repeat: int) -> float:
    p50, p99, loads = timed(fn, repeat)
    mark = "ok" if p99 <= TARGET_MS else "OVER"
    print(f"  {name:<46} p50 {p50:8.1f} ms  p99 {p99:8.1f} ms  {mark:<4}  load {loads}", flush=True)
    return p99


def supervisor(platform: Platform) -> tuple[Principal, str]:
    with platform.engine.connect() as conn:
        uid, username, jurisdiction = conn.execute(
            text(
                "SELECT id, username, jurisdiction FROM users WHERE role = 'supervisor' "
                "ORDER BY length(rtrim(jurisdiction, '0')), id LIMIT 1"
            )
        ).one()
    return Principal(uid, username, Role.SUPERVISOR, jurisdiction), username


def sample_ids(platform: Platform) -> dict[str, int]:
    with platform.engine.connect() as conn:
        one = conn.execute(text("SELECT MAX(id) FROM instruments")).scalar_one()
        rec = conn.execute(text("SELECT MAX(id) FROM verification_records")).scalar_one()
        inst = conn.execute(
            text("SELECT id, owner_id FROM instruments WHERE id >= :i LIMIT 1"), {"i": one // 2}
        ).one()
        return {"instrument": inst[0], "owner": inst[1], "record": rec // 2}


def deep_keys(platform: Platform, who: Principal, total: int, records: int) -> dict[str, str]:
    """Key tokens of rows 60 from the end of the instrument and record lists, as the console's next-page
    links carry them (found once by walking the index, not timed)."""
    with platform.engine.connect() as conn:
        inst = conn.execute(
            text("SELECT id FROM instruments ORDER BY id LIMIT 1 OFFSET :n"), {"n": max(0, total - 60)}
        ).scalar_one()
        effective = conn.execute(
            text("SELECT COUNT(*) FROM verification_records WHERE superseded = :f"), {"f": False}
        ).scalar_one()
        records = min(records, effective)
        verified_on, rec = conn.execute(
            text(
                "SELECT verified_on, id FROM verification_records WHERE superseded = :f "
                "ORDER BY verified_on DESC, id DESC LIMIT 1 OFFSET :n"
            ),
            {"n": max(0, records - 200), "f": False},
        ).one()
    if isinstance(verified_on, str):
        verified_on = date.fromisoformat(verified_on)
    return {
        "instrument": paging.encode("id", [inst, inst], max(0, total - 60)),
        "record": paging.encode("-verified_on", [verified_on, rec], max(0, records - 200)),
    }


def pages(
    platform: Platform, who: Principal, ids: dict[str, int], total: int, records: int
) -> dict[str, Callable[[], Any]]:
    keys = deep_keys(platform, who, total, records)
    deepest = paging.OFFSET_MAX  # the last numbered page; later pages go by key
    bounded = {"limit": 50, "count_limit": COUNT_LIMIT}  # as the list pages count (web/supervision.py)
    return {
        "dashboard (province)": lambda: dashboard.dashboard(platform, who),
        "instruments, page 1": lambda: search.search_instruments(platform, who, {}, **bounded),
        f"instruments, offset {deepest:,} (last numbered)": lambda: search.search_instruments(
            platform, who, {}, offset=deepest, **bounded
        ),
        f"instruments, next by key after row {total - 60:,}": lambda: search.search_instruments(
            platform, who, {}, after=keys["instrument"], **bounded
        ),
        f"instruments, previous by key before row {total - 60:,}": lambda: search.search_instruments(
            platform, who, {}, before=keys["instrument"], **bounded
        ),
        "instruments, overdue, page 1": lambda: search.search_instruments(
            platform, who, {"state": "overdue"}, **bounded
        ),
        "instruments, due in 30 days, page 1": lambda: search.search_instruments(
            platform, who, {"state": "due", "within_days": 30}, **bounded
        ),
        "instruments, search by name": lambda: search.search_instruments(
            platform, who, {"q": "加油机"}, **bounded
        ),
        "instrument detail (row, records, certs, history)": lambda: (
            search.instrument_row(platform, who, ids["instrument"]),
            search.search_records(platform, who, {"instrument_id": ids["instrument"]}, limit=50),
            search.search_certificates(platform, who, {"instrument_id": ids["instrument"]}, limit=50),
            history.object_history(platform, who, "instrument", ids["instrument"], limit=50),
        ),
        "organisations, page 1": lambda: search.search_organisations(platform, who, {}, limit=50),
        "organisation detail (row, its overdue)": lambda: (
            search.organisation_row(platform, who, ids["owner"]),
            search.search_instruments(
                platform, who, {"owner_id": ids["owner"], "state": "overdue"}, limit=50
            ),
        ),
        "standards, page 1": lambda: search.search_standards(platform, who, {}, limit=50),
        "verification records, page 1": lambda: search.search_records(platform, who, {}, **bounded),
        f"verification records, offset {deepest:,} (last numbered)": lambda: search.search_records(
            platform, who, {}, offset=deepest, **bounded
        ),
        "verification records, next by key near the end": lambda: search.search_records(
            platform, who, {}, after=keys["record"], **bounded
        ),
        "verification record detail": lambda: search.record_row(platform, who, ids["record"]),
        "certificates, page 1": lambda: search.search_certificates(platform, who, {}, limit=50),
        "follow-ups (督办), page 1": lambda: followup.list_follow_ups(platform, who, limit=50),
    }


def synthetic_province(platform: Platform, who: Principal, cities: int, repeat: int) -> None:
    """The dashboard over the tallies of a province of ``cities`` more cities: each built city's tally rows
    (and its regions) copied under new city codes, timed, then removed again (the instruments behind them
    are not built: the dashboard reads only the tallies for today, so its cost follows their rows)."""
    src = [
        r[0]
        for r in platform.engine.connect().execute(
            text("SELECT code FROM regions WHERE level = 'city' AND code LIKE '33%' ORDER BY code")
        )
    ]
    added = [f"339{k}00" for k in range(cities) if f"339{k}00" not in src][:cities]
    copies = [(src[i % len(src)][:4], code[:4]) for i, code in enumerate(added)]

    def move(column: str, old: str, new: str) -> str:  # the code under the new city: its last two digits
        return f"'{new}' || substr({column}, 5)"

    with platform.engine.begin() as conn:
        for old, new in copies:
            conn.execute(
                text(
                    f"INSERT INTO regions (code, name_zh, name_en, level, parent_code) "
                    f"SELECT {move('code', old, new)}, name_zh || '{new}', name_en || ' {new}', level, "
                    f"CASE WHEN level = 'city' THEN parent_code ELSE {move('parent_code', old, new)} END "
                    f"FROM regions WHERE code LIKE '{old}%' ORDER BY level = 'county', code"
                )
            )
            for table, cols in (
                ("instrument_totals", "item_code, status, n"),
                ("instrument_tallies", "item_code, status, valid_until, n"),
            ):
                conn.execute(
                    text(
                        f"INSERT INTO {table} (region_code, {cols}) SELECT {move('region_code', old, new)}, "
                        f"{cols} FROM {table} WHERE region_code LIKE '{old}%'"
                    )
                )
        tallies = conn.execute(text("SELECT COUNT(*) FROM instrument_tallies")).scalar_one()
        totals = conn.execute(text("SELECT COUNT(*) FROM instrument_totals")).scalar_one()
        n = conn.execute(text("SELECT SUM(n) FROM instrument_totals")).scalar_one()
    try:
        print(
            f"synthetic province: {len(src) + len(added)} cities, {n:,} compulsory instruments in the tallies "
            f"({totals:,} totals rows, {tallies:,} tally rows; instruments not built)",
            flush=True,
        )
        report_line("dashboard (synthetic province)", lambda: dashboard.dashboard(platform, who), repeat)
    finally:
        with platform.engine.begin() as conn:
            for _, new in copies:
                for table in ("instrument_totals", "instrument_tallies"):
                    conn.execute(text(f"DELETE FROM {table} WHERE region_code LIKE '{new}%'"))
                conn.execute(text(f"DELETE FROM regions WHERE code LIKE '{new}%' AND level = 'county'"))
                conn.execute(text(f"DELETE FROM regions WHERE code LIKE '{new}%'"))


def through_client(platform: Platform, username: str, repeat: int) -> None:
    from fastapi.testclient import TestClient

    from jiliang.api.app import create_app

    client = TestClient(create_app(platform))
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token, "no sign-in form"
    answer = client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": token.group(1), "next": "/console"},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text[:200]

    def get() -> None:
        r = client.get("/console/supervision")
        assert r.status_code == 200, r.status_code

    report_line("GET /console/supervision (TestClient)", get, repeat)

    def alerts() -> None:
        r = client.get("/console/supervision/alerts")
        assert r.status_code == 200, r.status_code

    report_line("GET /console/supervision/alerts (TestClient)", alerts, repeat)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_db_arguments(parser)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--before-repeat", type=int, default=3, help="repeats of the slow 'before' dashboard")
    parser.add_argument("--no-client", action="store_true", help="skip the TestClient timing")
    parser.add_argument("--no-before", action="store_true", help="skip the slow 'before' timings")
    parser.add_argument("--only", default="", help="time only the pages whose name contains this")
    parser.add_argument(
        "--synthetic-cities",
        type=int,
        default=0,
        help="also time the dashboard over this many more cities' tallies (copied, then removed)",
    )
    args = parser.parse_args()
    platform = open_or_build(args)
    with platform.engine.connect() as conn:
        total = conn.execute(text("SELECT COUNT(*) FROM instruments")).scalar_one()
        records = conn.execute(text("SELECT COUNT(*) FROM verification_records")).scalar_one()
    who, username = supervisor(platform)
    print(
        f"database: {total:,} instruments, {records:,} verification records ({platform.engine.dialect.name}); "
        f"signed in as {username} ({who.jurisdiction}); load {load()}; target p99 ≤ {TARGET_MS:.0f} ms",
        flush=True,
    )
    fast = indicators.report(platform, who)
    slow = indicators.report(platform, who, use_tallies=False)
    same = [(v.indicator, v.region_code, v.item_code, v.numerator, v.denominator) for v in fast.values] == [
        (v.indicator, v.region_code, v.item_code, v.numerator, v.denominator) for v in slow.values
    ]
    print(f"tallies and scan give the same {len(fast.values):,} indicator values: {same}", flush=True)
    # As the server does at start-up (api/app.py's lifespan): what is alive now stays alive, so the cyclic
    # collector's full passes need not walk it. Without this, a full pass lands in about one call in five
    # and adds ~150 ms to it (measured on the 5 M synthetic province: p99 381 ms, p50 98 ms).
    gc.collect()
    gc.freeze()

    original = indicators.report
    due_count = indicators.due_count
    if not args.no_before:
        print("before (today's indicators scanned on every view, the due count from the due list):")
        indicators.report = partial(original, use_tallies=False)  # type: ignore[assignment]
        indicators.due_count = lambda *a, **k: None  # type: ignore[assignment]
        try:
            report_line(
                "indicators.report (province, by item)",
                lambda: original(platform, who, use_tallies=False),
                args.before_repeat,
            )
            report_line(
                "dashboard (province)", lambda: dashboard.dashboard(platform, who), args.before_repeat
            )
        finally:
            indicators.report, indicators.due_count = original, due_count  # type: ignore[method-assign]

    print("after:")
    report_line(
        "indicators.report (province, by item)", lambda: indicators.report(platform, who), args.repeat
    )
    worst = 0.0
    for name, fn in pages(platform, who, sample_ids(platform), total, records).items():
        if args.only and args.only not in name:
            continue
        worst = max(worst, report_line(name, fn, args.repeat))
    if not args.no_client:
        through_client(platform, username, args.repeat)
    if args.synthetic_cities:
        synthetic_province(platform, who, args.synthetic_cities, args.repeat)
    print(f"worst p99 of the service calls: {worst:.1f} ms (target ≤ {TARGET_MS:.0f} ms); load {load()}")


if __name__ == "__main__":
    main()
