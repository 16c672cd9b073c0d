"""Today's indicators from the trigger-kept tallies (migration 0017) agree with the scan of the registry.

After every kind of write — filing, verification, correction, failure, status change, editing, bulk
imports of instruments and of records — and after random sequences of them (hypothesis), on SQLite and
PostgreSQL: the tally tables equal a fresh GROUP BY of the instruments, ``indicators.report`` gives
the same numbers from the tallies as from the scan, and ``indicators.due_count`` the same total as the
due list, with each coverage option.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections import Counter
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from jiliang.demo import build_demo
from jiliang.domain.access import SYSTEM
from jiliang.errors import ImportRefused, JiliangError
from jiliang.services import indicators, instruments, tallies
from jiliang.services.platform import Platform
from jiliang.services.supervision import search
from jiliang.services.transfer import import_instruments, import_verifications
from jiliang.services.transfer.columns import INSTRUMENT_COLUMNS, VERIFICATION_COLUMNS
from jiliang.store.models import Instrument, InstrumentTally, InstrumentTotal, VerificationRecord
from tests.factories import CITY, COUNTY_A, COUNTY_B, PROVINCE, World, authorise_all, credit_code
from tests.test_registry import FUEL, WATER, file, verify

NEVER = date(1, 1, 1)
_serials = itertools.count()


def _tables(platform: Platform) -> tuple[Counter[tuple[Any, ...]], Counter[tuple[Any, ...]]]:
    """(totals, tallies) as stored, and as a fresh GROUP BY of the instruments would give them."""
    with platform.reading() as s:
        stored_totals = Counter(
            {(t.region_code, t.item_code, t.status): t.n for t in s.scalars(select(InstrumentTotal)) if t.n}
        )
        stored_tallies = Counter(
            {
                (t.region_code, t.item_code, t.status, t.valid_until): t.n
                for t in s.scalars(select(InstrumentTally))
                if t.n
            }
        )
        totals: Counter[tuple[Any, ...]] = Counter()
        tallies: Counter[tuple[Any, ...]] = Counter()
        for i in s.scalars(select(Instrument).where(Instrument.compulsory.is_(True))):
            totals[(i.region_code, i.item_code, i.status)] += 1
            tallies[(i.region_code, i.item_code, i.status, i.valid_until or NEVER)] += 1
    assert stored_totals == totals
    assert stored_tallies == tallies
    return totals, tallies


def _values(rep: indicators.IndicatorReport) -> list[tuple[Any, ...]]:
    return [
        (v.indicator, v.region_code, v.item_code, v.numerator, v.denominator, v.target) for v in rep.values
    ]


def assert_agree(platform: Platform) -> None:
    _tables(platform)
    coverage = platform.settings.coverage
    try:
        for count_suspended, grace in ((False, 0), (True, 0), (False, 45)):
            coverage.count_suspended, coverage.grace_days = count_suspended, grace
            for on in (platform.today(), platform.today() + timedelta(days=40)):
                fast = indicators.report(platform, SYSTEM, region=PROVINCE, on=on)
                scanned = indicators.report(platform, SYSTEM, region=PROVINCE, on=on, use_tallies=False)
                assert _values(fast) == _values(scanned), (count_suspended, grace, on)
                for region, days in ((PROVINCE, 30), (COUNTY_A, 30), (COUNTY_B, 200)):
                    listed = search.search_instruments(
                        platform,
                        SYSTEM,
                        {"region_code": region, "on": on.isoformat(), "state": "due", "within_days": days},
                        limit=1,
                    )
                    due = indicators.due_count(platform, region, on, days)
                    assert due == (listed.total if indicators._tallies_answer(platform, on) else None)
                for region in (COUNTY_A, COUNTY_B):
                    one = indicators.report(platform, SYSTEM, region=region, on=on)
                    assert _values(one) == _values(
                        indicators.report(platform, SYSTEM, region=region, on=on, use_tallies=False)
                    )
    finally:
        coverage.count_suspended, coverage.grace_days = False, 0


def _csv(fields: list[str], rows: list[dict[str, str]]) -> io.BytesIO:
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=fields)
    w.writeheader()
    w.writerows(rows)
    return io.BytesIO(out.getvalue().encode())


def _bulk_instruments(world: World, serials: list[str], region: str = COUNTY_A) -> None:
    rows = [
        {
            "name": "燃油加油机",
            "item_code": FUEL,
            "model": "M-1",
            "serial_number": serial,
            "manufacturer": "示例制造有限公司",
            "region_code": region,
            "use": "trade_settlement",
            "filed_on": "2025-01-10",
            "measuring_range": "5–60 L/min",
            "accuracy_class": "0.3",
            "pattern_approval_no": "",
            "nominal_size": "",
            "location": "1 号岛",
            "first_used_on": "",
            "owner_credit_code": credit_code(1) if region == COUNTY_A else credit_code(2, COUNTY_B),
        }
        for serial in serials
    ]
    import_instruments(
        world.platform, world.as_("city"), _csv([c.field for c in INSTRUMENT_COLUMNS], rows), fmt="csv"
    )


def _bulk_verifications(world: World, serials: list[str], on: str, conclusion: str = "合格") -> None:
    rows = [
        {
            "manufacturer": "示例制造有限公司",
            "model": "M-1",
            "serial_number": serial,
            "institution_credit_code": credit_code(3, CITY),
            "standard_certificate_no": "",
            "verified_on": on,
            "conclusion": conclusion,
            "document_no": f"BJ-{serial}-{on}-{next(_serials)}",
            "remarks": "",
        }
        for serial in serials
    ]
    import_verifications(
        world.platform,
        world.as_("institution"),
        _csv([c.field for c in VERIFICATION_COLUMNS], rows),
        fmt="csv",
    )


@pytest.fixture
def fuel_and_water(world: World) -> World:
    authorise_all(world, [FUEL, WATER])
    return world


def test_every_kind_of_write_keeps_the_tallies_and_the_indicators_agree(fuel_and_water: World) -> None:
    w = fuel_and_water
    p = w.platform
    assert_agree(p)  # empty
    a, b, c = (file(w, f"T-{i}") for i in range(3))  # filing
    water = file(w, "T-W", who="other_enterprise", item_code=WATER, nominal_size=20, region=COUNTY_B)
    file(w, "T-other", use="other")  # not compulsory: never tallied
    assert_agree(p)
    verify(w, a.id, "2026-03-01")  # verification
    wrong = verify(w, b.id, "2025-11-01")  # expires inside the window the +40-day check looks at
    verify(w, water.id, "2026-01-10")
    assert_agree(p)
    verify(w, b.id, "2026-02-01", doc="FIX-1", supersedes_id=wrong.id)  # correction
    assert_agree(p)
    verify(w, c.id, "2026-04-01", "fail")  # failure suspends
    assert_agree(p)
    instruments.change_status(p, w.as_("enterprise"), a.id, "suspended", "2026-05-01")  # status changes
    instruments.change_status(p, w.as_("enterprise"), a.id, "in_service", "2026-05-02")
    instruments.change_status(p, w.as_("enterprise"), b.id, "scrapped", "2026-05-03")
    assert_agree(p)
    _bulk_instruments(w, ["B-1", "B-2", "B-3"])  # bulk import of instruments
    assert_agree(p)
    with pytest.raises(ImportRefused):  # a clash with the registry undoes the chunk (and its tallies)
        _bulk_instruments(w, ["B-9", "B-1"])
    assert_agree(p)
    _bulk_verifications(w, ["B-1", "B-2"], "2026-02-02")  # bulk import of records
    _bulk_verifications(w, ["B-3"], "2026-02-03", "不合格")
    assert_agree(p)


def test_a_past_date_still_reads_the_records(fuel_and_water: World) -> None:
    w = fuel_and_water
    inst = file(w, "P-1")
    verify(w, inst.id, "2026-03-01")
    p = w.platform
    past = p.today() - timedelta(days=200)
    assert not indicators._tallies_answer(p, past)
    assert indicators._tallies_answer(p, p.today())


def test_a_row_filed_after_the_day_asked_falls_back_to_the_scan(fuel_and_water: World) -> None:
    """Filing refuses a future date, but a hand-made row could carry one: then the scan answers."""
    w = fuel_and_water
    p = w.platform
    inst = file(w, "F-1")
    with p.unit_of_work() as s:
        s.get_one(Instrument, inst.id).filed_on = p.today() + timedelta(days=10)
    assert not indicators._tallies_answer(p, p.today())
    assert indicators._tallies_answer(p, p.today() + timedelta(days=10))
    assert_agree(p)


OPS = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "file",
                "file_water",
                "file_other",
                "pass",
                "fail",
                "correct",
                "suspend",
                "resume",
                "scrap",
                "move",
                "bulk",
                "bulk_verify",
            ]
        ),
        st.integers(min_value=0, max_value=30),
        st.integers(min_value=0, max_value=400),
    ),
    min_size=1,
    max_size=8,
)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=OPS)
def test_random_sequences_of_writes_keep_the_tallies(fuel_and_water: World, ops: list[Any]) -> None:
    w = fuel_and_water
    p = w.platform
    for op, pick, days_ago in ops:
        with p.reading() as s:
            ids = list(s.scalars(select(Instrument.id).order_by(Instrument.id)))
            serials = {i: sn for i, sn in s.execute(select(Instrument.id, Instrument.serial_number))}
        target = ids[pick % len(ids)] if ids else None
        on = (p.today() - timedelta(days=days_ago)).isoformat()
        n = next(_serials)
        try:
            if op == "file":
                file(w, f"H-{n}")
            elif op == "file_water":
                file(w, f"HW-{n}", who="other_enterprise", item_code=WATER, nominal_size=20, region=COUNTY_B)
            elif op == "file_other":
                file(w, f"HO-{n}", use="other")
            elif op == "bulk":
                _bulk_instruments(w, [f"HB-{n}-{k}" for k in range(pick % 3 + 1)])
            elif target is None:
                continue
            elif op in ("pass", "fail"):
                verify(w, target, on, op, doc=f"HV-{n}")
            elif op == "correct":
                with p.reading() as s:
                    last = s.scalar(
                        select(VerificationRecord.id)
                        .where(
                            VerificationRecord.instrument_id == target,
                            VerificationRecord.superseded.is_(False),
                        )
                        .order_by(VerificationRecord.id.desc())
                    )
                if last is not None:
                    verify(w, target, on, "pass" if pick % 2 else "fail", doc=f"HC-{n}", supersedes_id=last)
            elif op in ("suspend", "resume", "scrap"):
                status = {"suspend": "suspended", "resume": "in_service", "scrap": "scrapped"}[op]
                instruments.change_status(p, w.as_("city"), target, status, on)
            elif op == "move":
                with p.unit_of_work() as s:  # a hand-written change of region and item: triggers see it
                    inst = s.get_one(Instrument, target)
                    inst.region_code = COUNTY_B if inst.region_code == COUNTY_A else COUNTY_A
            elif op == "bulk_verify":
                _bulk_verifications(w, [serials[target]], on, "合格" if pick % 2 else "不合格")
        except JiliangError:
            pass  # refused writes change nothing; the invariant must hold all the same
    assert_agree(p)


def test_folding_old_expiries_changes_no_number(fuel_and_water: World) -> None:
    w = fuel_and_water
    p = w.platform
    items = [file(w, f"C-{i}") for i in range(4)]
    for inst, on in zip(items, ("2024-01-10", "2024-06-01", "2025-02-01", "2026-03-01"), strict=True):
        verify(w, inst.id, on)  # the first three have expired by 2026-06-15
    assert_agree(p)
    before = indicators.report(p, SYSTEM, region=PROVINCE)
    assert tallies.compact(p) == 3
    assert tallies.compact(p) == 0  # once a day is enough
    with p.reading() as s:
        dates = set(s.scalars(select(InstrumentTally.valid_until)))
    assert dates == {NEVER, date(2026, 9, 1)}  # fuel dispensers: every 6 months
    assert _values(indicators.report(p, SYSTEM, region=PROVINCE)) == _values(before)
    # writes after the fold still agree (a row of a folded date goes negative, the folded row keeps it)
    verify(w, items[0].id, "2026-06-01")
    instruments.change_status(p, w.as_("enterprise"), items[1].id, "scrapped", "2026-06-01")
    assert _values(indicators.report(p, SYSTEM, region=PROVINCE)) == _values(
        indicators.report(p, SYSTEM, region=PROVINCE, use_tallies=False)
    )
    # a larger grace than the fold allowed for cannot use the tallies
    p.settings.coverage.grace_days = 30
    try:
        assert not indicators._tallies_answer(p, p.today())
    finally:
        p.settings.coverage.grace_days = 0


def test_a_bulk_demo_build_keeps_the_tallies(platform: Platform) -> None:
    """The demo generator's Core inserts (set-aside triggers on SQLite, statement triggers on PostgreSQL)
    and its status changes through the services leave tallies that equal the registry."""
    from tests.test_demo import PASSWORD, SMALL

    build_demo(platform, SMALL, password=PASSWORD, snapshots=False)
    _tables(platform)
    fast = indicators.report(platform, SYSTEM, region=PROVINCE)
    assert fast.values and _values(fast) == _values(
        indicators.report(platform, SYSTEM, region=PROVINCE, use_tallies=False)
    )
