"""Catalogue versions an office uploads (one sheet, one row per rule), compares and activates from a date.

The shipped SAMR 2020 No. 42 version round-trips through the upload layout unchanged; a changed version
shows its differences row by row; activation from a later date changes nothing recorded before it.
"""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from jiliang.domain.access import SYSTEM
from jiliang.errors import Conflict, ImportRefused, InvalidInput, NotAuthorised
from jiliang.services import catalogue as catalogue_service
from jiliang.services import instruments, verifications
from jiliang.services.platform import Platform
from jiliang.store.models import CatalogueVersion
from tests.factories import World, authorise_all, instrument_raw

FUEL, WATER = "09.01", "06.01"
SHIPPED = "SAMR-2020-42"


def _rows(sink: io.BytesIO) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(sink.getvalue().decode("utf-8-sig"))))


def exported(platform: Platform, version: str = SHIPPED, headers: str = "zh") -> list[dict[str, str]]:
    sink = io.BytesIO()
    catalogue_service.export_version(platform, version, sink, headers)  # type: ignore[arg-type]
    return _rows(sink)


def as_csv(rows: list[dict[str, str]], encoding: str = "utf-8") -> io.BytesIO:
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return io.BytesIO(text.getvalue().encode(encoding))


def upload(platform: Platform, rows: list[dict[str, str]], version: str, **kw: object) -> object:
    return catalogue_service.upload_version(
        platform,
        SYSTEM,
        as_csv(rows, **kw),
        fmt="csv",
        version=version,
        source_name="test.csv",  # type: ignore[arg-type]
    )


def count_versions(platform: Platform) -> int:
    with platform.reading() as s:
        return int(s.scalar(select(func.count()).select_from(CatalogueVersion)) or 0)


def test_the_shipped_catalogue_round_trips_through_the_upload_layout(platform: Platform) -> None:
    rows = exported(platform)
    assert len(rows) == 66  # one row per rule (docs/catalogue.md: 66 rule rows, 62 items)
    assert list(rows[0])[:4] == ["一级序号", "一级目录", "一级目录英文", "目录项代码"]
    report = upload(platform, rows, "SAMR-2020-42-COPY")
    assert (report.items, report.rules, report.rows_read) == (62, 66, 66)  # type: ignore[attr-defined]
    assert catalogue_service.diff(platform, "SAMR-2020-42-COPY") == []
    # loaded, not in force
    states = {v.version: v.state for v in catalogue_service.list_versions(platform)}
    assert states == {SHIPPED: "in_force", "SAMR-2020-42-COPY": "loaded"}
    assert catalogue_service.active_version(platform) == SHIPPED


def test_english_headers_and_gb18030_are_read_as_the_bulk_importers_read_them(platform: Platform) -> None:
    rows = exported(platform, headers="en")
    assert list(rows[0])[:2] == ["level1_no", "level1_zh"]
    upload(platform, rows, "GB-COPY", encoding="gb18030")
    assert catalogue_service.diff(platform, "GB-COPY") == []


def test_the_differences_are_listed_row_by_row(platform: Platform) -> None:
    rows = exported(platform)
    changed = []
    for row in rows:
        if row["目录项代码"] == FUEL:
            row.update({"检定周期（月）": "12", "检定规程": "JJG 443-2099"})
        if row["目录项代码"] == "02.01":
            row["监管方式"] = "强制检定"
        if row["目录项代码"] == "40.01":
            continue  # removed
        changed.append(row)
    new = dict(changed[-1])
    new.update({"目录项代码": "41.01", "一级序号": "41", "一级目录": "新器具", "二级目录": "新器具甲"})
    changed.append(new)
    upload(platform, changed, "TEST-2027")
    diffs = {d.item_code: d for d in catalogue_service.diff(platform, "TEST-2027")}
    assert set(diffs) == {FUEL, "02.01", "40.01", "41.01"}
    assert diffs["40.01"].change == "removed" and diffs["41.01"].change == "added"
    fuel = {(c.field, c.old, c.new) for c in diffs[FUEL].changes}
    assert ("period_months", "6", "12") in fuel and ("regulation", "JJG 443-2023", "JJG 443-2099") in fuel
    assert [(c.field, c.old, c.new) for c in diffs["02.01"].changes] == [("mode", "P+V", "V")]


def test_water_meter_rules_changed_by_size_range_are_named_by_their_range(platform: Platform) -> None:
    rows = exported(platform)
    for row in rows:
        if row["目录项代码"] == WATER and row["规格上限（含）"] == "25":
            row["使用期限（月）"] = "60"
    upload(platform, rows, "WATER-5Y")
    (d,) = catalogue_service.diff(platform, "WATER-5Y")
    assert [(c.scope, c.field, c.old, c.new) for c in d.changes] == [
        ("DN ≤ 25", "service_life_months", "72", "60")
    ]


def test_a_bad_file_is_refused_whole_with_its_rows_and_nothing_is_stored(platform: Platform) -> None:
    rows = exported(platform)
    for row in rows:
        if row["目录项代码"] == FUEL:
            row["检定周期（月）"] = ""  # periodic without a period
        if row["目录项代码"] == "01.01":
            row["依据"], row["来源"] = "已核实", ""  # confirmed without a source
        if row["目录项代码"] == WATER and row["规格上限（含）"] == "25":
            row["规格上限（含）"] = "30"  # overlaps 25 < DN <= 50
    before = count_versions(platform)
    with pytest.raises(ImportRefused) as refused:
        upload(platform, rows, "BAD")
    problems = {(p.field, p.row) for p in refused.value.problems}
    fuel_row = 2 + next(i for i, r in enumerate(rows) if r["目录项代码"] == FUEL)
    assert ("period_months", fuel_row) in problems
    assert ("source", 2) in problems  # 01.01 is the first data row
    assert any(f == "size_min_exclusive" for f, _ in problems)
    assert refused.value.problem_count == 3
    assert count_versions(platform) == before


def test_rows_of_one_item_must_agree(platform: Platform) -> None:
    rows = exported(platform)
    water = [i for i, r in enumerate(rows) if r["目录项代码"] == WATER]
    rows[water[1]]["二级目录"] = "另一个名称"
    with pytest.raises(ImportRefused) as refused:
        upload(platform, rows, "BAD")
    (p,) = refused.value.problems
    assert (p.row, p.field) == (water[1] + 2, "level2_zh")


def test_a_version_name_is_loaded_once_and_must_be_a_name(platform: Platform) -> None:
    rows = exported(platform)
    with pytest.raises(Conflict):
        upload(platform, rows, SHIPPED)
    with pytest.raises(InvalidInput):
        upload(platform, rows, "has blank")


def test_only_an_administrator_changes_the_catalogue(world: World) -> None:
    rows = exported(world.platform)
    with pytest.raises(NotAuthorised):
        catalogue_service.upload_version(
            world.platform,
            world.as_("province"),
            as_csv(rows),
            fmt="csv",
            version="X",  # type: ignore[arg-type]
        )
    upload(world.platform, rows, "X")
    with pytest.raises(NotAuthorised):
        catalogue_service.activate(world.platform, world.as_("city"), "X", "2026-07-01")


def test_activation_from_a_date_rewrites_no_record(world: World) -> None:
    platform = world.platform
    authorise_all(world, [FUEL])
    inst = instruments.file_instrument(
        platform, world.as_("enterprise"), instrument_raw("V-1", item_code=FUEL)
    )
    before = verifications.record_verification(
        platform,
        world.as_("institution"),
        {"instrument_id": inst.id, "verified_on": "2026-06-01", "conclusion": "pass", "document_no": "D-1"},
    )
    rows = exported(platform)
    for row in rows:
        if row["目录项代码"] == FUEL:
            row["检定周期（月）"] = "12"
    upload(platform, rows, "TEST-2026-07")
    with pytest.raises(InvalidInput):
        catalogue_service.activate(platform, SYSTEM, "TEST-2026-07", "2026-06-14")  # yesterday
    info = catalogue_service.activate(platform, SYSTEM, "TEST-2026-07", "2026-07-01")
    assert (info.state, info.active_from) == ("scheduled", date(2026, 7, 1))
    assert catalogue_service.active_version(platform) == SHIPPED
    assert catalogue_service.active_version(platform, date(2026, 7, 1)) == "TEST-2026-07"

    # a month later the new version is in force for what is recorded then, and only for that
    later = replace(platform, now=lambda: datetime(2026, 7, 15, 2, 0, tzinfo=platform.now().tzinfo))
    assert catalogue_service.active_version(later) == "TEST-2026-07"
    after = verifications.record_verification(
        later,
        world.as_("institution"),
        {"instrument_id": inst.id, "verified_on": "2026-07-10", "conclusion": "pass", "document_no": "D-2"},
    )
    assert (after.catalogue_version, after.due_on) == ("TEST-2026-07", date(2027, 7, 10))
    again = verifications.get_record(later, SYSTEM, before.id)
    assert (again.catalogue_version, again.due_on) == (SHIPPED, date(2026, 12, 1))
    states = {v.version: v.state for v in catalogue_service.list_versions(later)}
    assert states == {SHIPPED: "superseded", "TEST-2026-07": "in_force"}
    with pytest.raises(Conflict):  # in force: its date is history now
        catalogue_service.activate(later, SYSTEM, "TEST-2026-07", "2026-08-01")


def test_a_scheduled_activation_can_be_withdrawn_and_dates_do_not_clash(platform: Platform) -> None:
    rows = exported(platform)
    upload(platform, rows, "A")
    upload(platform, rows, "B")
    catalogue_service.activate(platform, SYSTEM, "A", "2026-09-01")
    with pytest.raises(Conflict):
        catalogue_service.activate(platform, SYSTEM, "B", "2026-09-01")
    assert catalogue_service.unschedule(platform, SYSTEM, "A").state == "loaded"
    with pytest.raises(Conflict):
        catalogue_service.unschedule(platform, SYSTEM, SHIPPED)


def test_a_version_missing_an_item_that_instruments_use_is_not_activated(world: World) -> None:
    platform = world.platform
    instruments.file_instrument(platform, world.as_("enterprise"), instrument_raw("W-1", item_code=FUEL))
    rows = [r for r in exported(platform) if r["目录项代码"] != FUEL]
    upload(platform, rows, "NO-FUEL")
    with pytest.raises(Conflict) as exc:
        catalogue_service.activate(platform, SYSTEM, "NO-FUEL", platform.today() + timedelta(days=1))
    assert FUEL in exc.value.message


def test_an_xlsx_upload_is_read_too(platform: Platform) -> None:
    import openpyxl  # type: ignore[import-untyped]

    rows = exported(platform)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(rows[0]))
    for row in rows:
        sheet.append(list(row.values()))
    data = io.BytesIO()
    book.save(data)
    data.seek(0)
    catalogue_service.upload_version(platform, SYSTEM, data, fmt="xlsx", version="XLSX-COPY")
    assert catalogue_service.diff(platform, "XLSX-COPY") == []


def test_a_version_in_force_recomputes_the_compulsory_flag_from_its_day_only(world: World) -> None:
    """Issue 10: load cells (04.01, pattern approval only) become compulsory and fuel dispensers cease to
    be in a new version activated today; instruments filed earlier follow from today, no record's due
    date changes, the tallies stay equal to a fresh count, and the change is audited once."""
    from jiliang.services import indicators
    from jiliang.store.models import AuditEntry, Instrument, VerificationRecord
    from tests.test_indicator_tallies import assert_agree

    platform = world.platform
    authorise_all(world, [FUEL])
    fuel = instruments.file_instrument(platform, world.as_("enterprise"), instrument_raw("F-1", item_code=FUEL))
    cell = instruments.file_instrument(
        platform, world.as_("enterprise"), instrument_raw("L-1", item_code="04.01")
    )
    private = instruments.file_instrument(
        platform, world.as_("enterprise"), instrument_raw("L-2", item_code="04.01", use="other")
    )
    rec = verifications.record_verification(
        platform,
        world.as_("institution"),
        {"instrument_id": fuel.id, "verified_on": "2026-06-01", "conclusion": "pass", "document_no": "D-9"},
    )
    assert (fuel.compulsory, cell.compulsory, private.compulsory) == (True, False, False)
    before_report = indicators.report(platform, SYSTEM, region="339900")
    # the version already in force changes nothing when applied (the flags agree with it)
    first = catalogue_service.apply_compulsory(platform)
    assert first is not None and (first.became_compulsory, first.ceased) == (0, 0)
    assert catalogue_service.apply_compulsory(platform) is None  # once per version
    rows = exported(platform)
    for row in rows:
        if row["目录项代码"] == "04.01":
            row.update({"监管方式": "P+V", "检定形式": "periodic", "检定周期（月）": "12"})
        if row["目录项代码"] == FUEL:
            row.update({"监管方式": "P", "检定形式": "", "检定周期（月）": ""})
    upload(platform, rows, "TEST-FLAGS")
    # scheduled for tomorrow: nothing changes today
    catalogue_service.activate(platform, SYSTEM, "TEST-FLAGS", platform.today() + timedelta(days=1))
    assert catalogue_service.apply_compulsory(platform) is None
    catalogue_service.unschedule(platform, SYSTEM, "TEST-FLAGS")
    catalogue_service.activate(platform, SYSTEM, "TEST-FLAGS", platform.today())
    with platform.reading() as s:
        flags = dict(s.execute(select(Instrument.serial_number, Instrument.compulsory)).all())
        due = s.scalar(select(VerificationRecord.due_on).where(VerificationRecord.id == rec.id))
        version = s.get(CatalogueVersion, "TEST-FLAGS")
        audited = s.scalars(
            select(AuditEntry).where(
                AuditEntry.object_type == "catalogue_versions", AuditEntry.object_id == "TEST-FLAGS"
            )
        ).all()
    assert (flags["F-1"], flags["L-1"], flags["L-2"]) == (False, True, False)
    assert due == date(2026, 12, 1)  # the record keeps the due date its version gave it
    assert version is not None and version.compulsory_applied_on == platform.today()
    assert "+1" in version.compulsory_changes and "-1" in version.compulsory_changes
    assert any((e.after or {}).get("compulsory_changes") == version.compulsory_changes for e in audited)
    assert_agree(platform)  # tallies = a fresh GROUP BY, the report = the scan
    after_report = indicators.report(platform, SYSTEM, region="339900")
    assert after_report != before_report  # today's indicators follow the new flags
    assert catalogue_service.apply_compulsory(platform) is None
