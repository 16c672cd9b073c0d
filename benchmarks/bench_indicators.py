"""All indicators for every region and catalogue item at province scale, against a per-row baseline.

    python benchmarks/bench_indicators.py --instruments 1000000
    python benchmarks/bench_indicators.py --instruments 5000000      # target: ≤ 5 s

The measured call is ``services.indicators.report(region=province, by_item=True)``: verification
coverage and overdue counts for every (region, item) pair of the province, plus 建标覆盖率 per region.
The baseline, run in the same process on the same database, is the straightforward way: read every
instrument row into Python and count in a loop. It computes the same numbers, which are compared.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import add_db_arguments, open_or_build

from jiliang.domain.access import SYSTEM
from jiliang.domain.regions import ancestors
from jiliang.legal.coverage import ALL_ITEMS, Indicator
from jiliang.services import catalogue as catalogue_service
from jiliang.services import indicators
from jiliang.services.platform import Platform

PROVINCE = "330000"


def baseline(platform: Platform, limit: int) -> tuple[dict[tuple[str, str], list[int]], int]:
    """Per-row Python: (covered, in service, overdue) per (region, item) rolled up to the province."""
    today = platform.today().isoformat()
    items = catalogue_service.catalogue(platform)
    sql = "SELECT region_code, item_code, compulsory, status, filed_on, valid_until FROM instruments" + (
        f" ORDER BY id LIMIT {limit}" if limit else ""
    )
    totals: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    rows = 0
    with platform.engine.connect() as conn:
        for region, item, compulsory, status, filed_on, valid_until in conn.execute(text(sql)):
            rows += 1
            if not compulsory or status != "in_service" or str(filed_on) > today:
                continue
            entry = items.get(item)
            if entry is None or entry.effective_from.isoformat() > today:
                continue
            covered = valid_until is not None and str(valid_until) > today
            for r in ancestors(region):
                for key in ((r, item), (r, ALL_ITEMS)):
                    t = totals[key]
                    t[0] += covered
                    t[1] += 1
                    t[2] += not covered
                if r == PROVINCE:
                    break
    return totals, rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_db_arguments(parser)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--baseline-rows", type=int, default=0, help="rows for the baseline (0: all; the ratio is per row)"
    )
    args = parser.parse_args()
    platform = open_or_build(args)
    with platform.engine.connect() as conn:
        n_inst = conn.execute(text("SELECT COUNT(*) FROM instruments")).scalar_one()
        n_rec = conn.execute(text("SELECT COUNT(*) FROM verification_records")).scalar_one()
    print(
        f"database: {n_inst:,} instruments, {n_rec:,} verification records ({platform.engine.dialect.name})"
    )

    times = []
    report = None
    for _ in range(args.repeat):
        started = time.perf_counter()
        report = indicators.report(platform, SYSTEM, region=PROVINCE, by_item=True)
        times.append(time.perf_counter() - started)
    assert report is not None
    regions = {v.region_code for v in report.values}
    items = {v.item_code for v in report.values if v.item_code}
    best, median = min(times), statistics.median(times)
    print(
        f"indicators.report: {len(report.values):,} values ({len(regions)} regions × {len(items)} items + totals) "
        f"best {best:.2f} s, median {median:.2f} s of {args.repeat}  (target ≤ 5 s)"
    )

    started = time.perf_counter()
    totals, rows = baseline(platform, args.baseline_rows)
    base = time.perf_counter() - started
    per_row = base / rows
    full = per_row * n_inst
    label = "" if rows == n_inst else f" on {rows:,} rows, extrapolated to {n_inst:,}"
    print(f"baseline (per-row Python loop){label}: {full:.2f} s")
    print(f"ratio baseline / indicators.report (median): {full / median:.1f}×")

    if rows == n_inst:
        mismatches = 0
        for v in report.values:
            if v.indicator is Indicator.STANDARD_COVERAGE:
                continue
            t = totals.get((v.region_code, v.item_code), [0, 0, 0])
            expect = (t[0], t[1]) if v.indicator is Indicator.VERIFICATION_COVERAGE else (t[2], t[1])
            mismatches += (v.numerator, v.denominator) != expect
        print(f"baseline agrees with the service on every count: {mismatches == 0} ({mismatches} mismatches)")
    city = report.get(Indicator.VERIFICATION_COVERAGE, "339900")
    if city and city.rate is not None:
        print(
            f"demo city coverage {city.rate:.2%} ({city.numerator:,}/{city.denominator:,}), target {city.target}"
        )


if __name__ == "__main__":
    main()
