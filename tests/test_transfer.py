"""Bulk import and export (services.transfer, api/routers/transfer): round trips, encodings, every refusal.

Every refusal asserts the row and field named in the report AND that nothing was written: the counts of
instruments, verification records and audit entries are the same after the refused import as before.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable
from itertools import pairwise
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, select

from jiliang.domain.access import SYSTEM
from jiliang.errors import ImportRefused, InvalidInput, PayloadTooLarge
from jiliang.services import instruments as instruments_service
from jiliang.services import standards
from jiliang.services import verifications as verifications_service
from jiliang.services.platform import Platform
from jiliang.services.transfer import (
    export_instruments,
    export_verifications,
    import_instruments,
    import_verifications,
)
from jiliang.services.transfer.columns import INSTRUMENT_COLUMNS, VERIFICATION_COLUMNS
from jiliang.store.models import AuditEntry, Instrument, VerificationRecord
from tests.factories import (
    CITY,
    COUNTY_A,
    COUNTY_B,
    OTHER_CITY,
    World,
    authorise_all,
    credit_code,
    instrument_raw,
)

FIELDS = [c.field for c in INSTRUMENT_COLUMNS]
ZH = [c.zh for c in INSTRUMENT_COLUMNS]
V_FIELDS = [c.field for c in VERIFICATION_COLUMNS]
OWNER = credit_code(1)  # 东城加油站, COUNTY_A
OTHER_OWNER = credit_code(2, COUNTY_B)  # 西城医院
INSTITUTION = credit_code(3, CITY)


def inst(serial: str, **changes: str) -> dict[str, str]:
    row = {
        "name": "燃油加油机",
        "item_code": "09.01",
        "model": "M-1",
        "serial_number": serial,
        "manufacturer": "示例制造有限公司",
        "region_code": COUNTY_A,
        "use": "trade_settlement",
        "filed_on": "2025-01-10",
        "measuring_range": "5–60 L/min",
        "accuracy_class": "0.3",
        "pattern_approval_no": "",
        "nominal_size": "",
        "location": "1 号岛",
        "first_used_on": "",
        "owner_credit_code": OWNER,
    }
    row.update(changes)
    return row


def csv_file(
    rows: list[dict[str, str]], header: list[str] | None = None, encoding: str = "utf-8"
) -> io.BytesIO:
    header = header or FIELDS
    text = io.StringIO()
    w = csv.writer(text)
    w.writerow(header)
    for r in rows:
        w.writerow(list(r.values()))
    return io.BytesIO(text.getvalue().encode(encoding))


def counts(platform: Platform) -> tuple[int, int, int]:
    with platform.reading() as s:
        return (
            s.scalar(select(func.count()).select_from(Instrument)) or 0,
            s.scalar(select(func.count()).select_from(VerificationRecord)) or 0,
            s.scalar(select(func.count()).select_from(AuditEntry)) or 0,
        )


def refused(platform: Platform, run: Callable[[], Any]) -> ImportRefused:
    """Run an import that must be refused; assert that it changed nothing."""
    before = counts(platform)
    with pytest.raises(ImportRefused) as caught:
        run()
    assert counts(platform) == before
    return caught.value


def only_problem(exc: ImportRefused) -> tuple[int, str, str]:
    assert exc.problem_count == 1, exc.problems
    p = exc.problems[0]
    return p.row, p.field, p.reason


# -- instruments: accepted files --------------------------------------------------------------------


def test_chinese_headers_gb18030_and_chinese_use_labels(world: World) -> None:
    p = world.platform
    rows = [inst(f"G{i}", use="贸易结算") for i in range(3)]
    data = csv_file(rows, header=ZH, encoding="gb18030").getvalue()
    report = import_instruments(p, world.as_("city"), io.BytesIO(data), fmt="csv")
    assert (report.kind, report.rows_read, report.rows_written) == ("instruments", 3, 3)
    assert report.sha256 == hashlib.sha256(data).hexdigest()
    page = instruments_service.list_instruments(p, world.as_("city"), {"manufacturer": "示例制造有限公司"})
    assert sorted(i.serial_number for i in page.items) == ["G0", "G1", "G2"]
    assert {i.use for i in page.items} == {"trade_settlement"}
    assert {i.owner_id for i in page.items} == {world.enterprise_id}
    with p.reading() as s:
        entry = s.get(AuditEntry, report.audit_id)
        ids = sorted(i.id for i in page.items)
    assert entry is not None and (entry.action, entry.object_type) == ("import", "instruments")
    assert entry.after == {
        "count": 3,
        "sha256": report.sha256,
        "first_id": ids[0],
        "last_id": ids[-1],
        "format": "csv",
        "rows_read": 3,
    }
    assert entry.actor_name == "city"


def test_utf8_with_bom_and_a_header_with_must_fill_marks(world: World) -> None:
    header = [h + ("*" if c.required else "") for h, c in zip(ZH, INSTRUMENT_COLUMNS, strict=True)]
    data = csv_file([inst("B1")], header=header, encoding="utf-8-sig")
    assert data.getvalue().startswith(b"\xef\xbb\xbf")
    report = import_instruments(world.platform, world.as_("city"), data, fmt="csv")
    assert report.rows_written == 1


def test_an_enterprise_imports_its_own_instruments_without_naming_itself(world: World) -> None:
    report = import_instruments(
        world.platform, world.as_("enterprise"), csv_file([inst("E1", owner_credit_code="")]), fmt="csv"
    )
    assert report.rows_written == 1
    page = instruments_service.list_instruments(world.platform, world.as_("enterprise"), {})
    assert [i.serial_number for i in page.items] == ["E1"]


def _columns_without_id(platform: Platform) -> list[tuple[Any, ...]]:
    cols = [c for c in Instrument.__table__.columns if c.name != "id"]
    with platform.reading() as s:
        return [tuple(r) for r in s.execute(select(*cols).order_by(Instrument.serial_number))]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("headers", ["zh", "en"])
def test_export_then_import_into_an_empty_registry_gives_the_same_rows(
    world: World, fmt: str, headers: str
) -> None:
    p = world.platform
    water = next(c for c, i in _items(p).items() if i.size_parameter == "DN")
    for raw in (
        instrument_raw("R1", item_code="09.01", owner_id=world.enterprise_id, location='东岛，"2" 号'),
        instrument_raw(
            "R2", item_code=water, nominal_size=15, owner_id=world.enterprise_id, first_used_on="2024-03-01"
        ),
        instrument_raw(
            "R3", item_code="09.01", region=COUNTY_B, owner_id=world.other_enterprise_id, use="other"
        ),
    ):
        instruments_service.file_instrument(p, world.as_("city"), raw)
    filed = _columns_without_id(p)
    first = io.BytesIO()
    assert export_instruments(p, world.as_("city"), {}, first, fmt=fmt, headers=headers) == 3  # type: ignore[arg-type]
    with p.engine.begin() as conn:
        conn.execute(delete(Instrument))
    report = import_instruments(p, world.as_("city"), io.BytesIO(first.getvalue()), fmt=fmt)  # type: ignore[arg-type]
    assert report.rows_written == 3
    # The bulk path writes exactly the row the single-record service writes (same status, dates, flags).
    assert _columns_without_id(p) == filed
    second = io.BytesIO()
    export_instruments(p, world.as_("city"), {}, second, fmt=fmt, headers=headers)  # type: ignore[arg-type]
    assert _sheet(second.getvalue(), fmt) == _sheet(first.getvalue(), fmt)


def _items(platform: Platform) -> dict[str, Any]:
    from jiliang.services import catalogue as catalogue_service

    return catalogue_service.catalogue(platform)


def _sheet(data: bytes, fmt: str) -> list[list[str]]:
    if fmt == "csv":
        return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    return [
        [("" if v is None else str(v)) for v in row] for row in book.worksheets[0].iter_rows(values_only=True)
    ]


def test_xlsx_written_by_openpyxl_with_dates_and_numbers_as_cells(world: World) -> None:
    from datetime import datetime

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["序号", *ZH])
    water = next(c for c, i in _items(world.platform).items() if i.size_parameter == "DN")
    row: list[Any] = list(inst("X1", item_code=water, use="贸易结算").values())
    row[FIELDS.index("filed_on")] = datetime(2025, 2, 3)
    row[FIELDS.index("nominal_size")] = 20
    row[FIELDS.index("region_code")] = int(COUNTY_A)
    sheet.append([1, *row])
    sheet.append([])  # an empty row is skipped
    buf = io.BytesIO()
    book.save(buf)
    buf.seek(0)
    report = import_instruments(world.platform, world.as_("city"), buf, fmt="xlsx")
    assert report.rows_written == 1
    [got] = instruments_service.list_instruments(
        world.platform, world.as_("city"), {"serial_number": "X1"}
    ).items
    assert (got.filed_on.isoformat(), got.nominal_size, got.region_code) == ("2025-02-03", 20.0, COUNTY_A)


# -- instruments: refusals --------------------------------------------------------------------------


def _import(world: World, who: str, rows: list[dict[str, str]], **kw: Any) -> Callable[[], Any]:
    return lambda: import_instruments(world.platform, world.as_(who), csv_file(rows, **kw), fmt="csv")


def test_wrong_credit_code_is_refused_with_row_and_field(world: World) -> None:
    bad = OWNER[:17] + ("0" if OWNER[17] != "0" else "1")
    exc = refused(world.platform, _import(world, "city", [inst("C1"), inst("C2", owner_credit_code=bad)]))
    row, field, reason = only_problem(exc)
    assert (row, field) == (3, "owner_credit_code")
    assert "校验码" in reason and exc.problems[0].value == bad


def test_unknown_catalogue_item(world: World) -> None:
    exc = refused(world.platform, _import(world, "city", [inst("U1", item_code="99.99")]))
    assert only_problem(exc)[:2] == (2, "item_code")


def test_date_in_the_future(world: World) -> None:
    exc = refused(world.platform, _import(world, "city", [inst("F1"), inst("F2", filed_on="2026-06-16")]))
    assert only_problem(exc)[:2] == (3, "filed_on")


def test_duplicate_serial_within_the_file_names_the_first_row(world: World) -> None:
    exc = refused(world.platform, _import(world, "city", [inst("D1"), inst("D2"), inst("D1")]))
    row, field, reason = only_problem(exc)
    assert (row, field) == (4, "serial_number") and "row 2" in reason


def test_duplicate_serial_against_the_registry(world: World) -> None:
    instruments_service.file_instrument(
        world.platform,
        world.as_("city"),
        instrument_raw("DB1", item_code="09.01", owner_id=world.enterprise_id),
    )
    same = {"model": "M-1", "manufacturer": "示例制造有限公司"}
    exc = refused(world.platform, _import(world, "city", [inst("N1"), inst("DB1", **same)]))
    row, field, reason = only_problem(exc)
    assert (row, field) == (3, "serial_number") and "核查" in reason and "DB1" not in reason


def test_a_problem_in_a_late_chunk_undoes_the_chunks_already_written(world: World) -> None:
    p = world.platform
    p.settings = p.settings.model_copy(update={"import_chunk_rows": 100})
    rows = [inst(f"L{i}") for i in range(250)] + [inst("L5")]
    exc = refused(p, _import(world, "city", rows))
    assert only_problem(exc)[:2] == (252, "serial_number")


def test_ids_drawn_with_gaps_still_name_the_first_row_of_a_duplicate(world: World) -> None:
    """PostgreSQL: ids that are not contiguous (as when other sessions draw from the sequence at the same
    time) come back as a list instead of a range; a later chunk's clash must still find its first row."""
    p = world.platform
    p.settings = p.settings.model_copy(update={"import_chunk_rows": 100})
    postgres = p.engine.dialect.name == "postgresql"
    if postgres:
        with p.engine.begin() as conn:
            conn.exec_driver_sql("ALTER SEQUENCE instruments_id_seq INCREMENT BY 3")
    try:
        rows = [inst(f"G{i}") for i in range(150)]
        exc = refused(p, _import(world, "city", [*rows, inst("G120")]))
        row, field, reason = only_problem(exc)
        assert (row, field) == (152, "serial_number") and "row 122" in reason
        import_instruments(p, world.as_("city"), csv_file(rows), fmt="csv")
        with p.reading() as s:
            ids = list(s.scalars(select(Instrument.id).order_by(Instrument.id)))
        assert len(ids) == 150 and len(set(ids)) == 150
        if postgres:
            assert all(b - a == 3 for a, b in pairwise(ids))
    finally:
        if postgres:
            with p.engine.begin() as conn:
                conn.exec_driver_sql("ALTER SEQUENCE instruments_id_seq INCREMENT BY 1")


def test_malformed_rows_wrong_column_count_and_bad_quoting(world: World) -> None:
    good = ",".join(inst("M1").values())
    text = ",".join(FIELDS) + "\n" + good + "\n" + "only,three,cells\n" + good.replace("M1", "M2") + "\n"
    exc = refused(
        world.platform,
        lambda: import_instruments(world.platform, world.as_("city"), io.BytesIO(text.encode()), fmt="csv"),
    )
    row, field, reason = only_problem(exc)
    assert (row, field) == (3, "row") and "3 columns" in reason


def test_bytes_that_are_not_the_file_encoding_are_reported_by_row(world: World) -> None:
    lines = [",".join(ZH).encode()] + [",".join(inst(f"B{i}").values()).encode() for i in range(3)]
    lines[2] = lines[2].replace("燃油加油机".encode(), b"\xff\xfe bad")
    exc = refused(
        world.platform,
        lambda: import_instruments(
            world.platform, world.as_("city"), io.BytesIO(b"\n".join(lines)), fmt="csv"
        ),
    )
    row, field, reason = only_problem(exc)
    assert (row, field) == (3, "row") and "utf-8" in reason


def test_unknown_and_missing_headers(world: World) -> None:
    header = ["器具名称", "目录项代码", "颜色"]
    exc = refused(
        world.platform,
        lambda: import_instruments(
            world.platform, world.as_("city"), io.BytesIO((",".join(header) + "\n").encode()), fmt="csv"
        ),
    )
    fields = {(p.row, p.field) for p in exc.problems}
    assert (
        (1, "header") in fields and (1, "serial_number") in fields and (1, "owner_credit_code") not in fields
    )


def test_oversized_upload(world: World) -> None:
    p = world.platform
    p.settings = p.settings.model_copy(update={"max_upload_bytes": 1024})
    before = counts(p)
    with pytest.raises(PayloadTooLarge):
        import_instruments(p, world.as_("city"), csv_file([inst(f"O{i}") for i in range(40)]), fmt="csv")
    assert counts(p) == before


def test_a_region_outside_the_callers_jurisdiction_is_not_found(world: World) -> None:
    exc = refused(world.platform, _import(world, "county_b", [inst("J1", region_code=COUNTY_A)]))
    row, field, reason = only_problem(exc)
    assert (row, field) == (2, "region_code") and "not found" in reason


def test_an_owner_outside_the_callers_jurisdiction_is_not_found(world: World) -> None:
    exc = refused(world.platform, _import(world, "county_b", [inst("J2", region_code=COUNTY_B)]))
    row, field, reason = only_problem(exc)
    assert (row, field) == (2, "owner_credit_code") and "not found" in reason


def test_an_enterprise_cannot_import_for_another_owner(world: World) -> None:
    exc = refused(world.platform, _import(world, "enterprise", [inst("J3", owner_credit_code=OTHER_OWNER)]))
    assert only_problem(exc)[:2] == (2, "owner_credit_code")


def test_roles_that_do_not_file_instruments_are_refused(world: World) -> None:
    from jiliang.errors import NotAuthorised

    with pytest.raises(NotAuthorised):
        import_instruments(world.platform, world.as_("institution"), csv_file([inst("R")]), fmt="csv")


def test_the_report_is_bounded_but_counts_every_problem(world: World) -> None:
    p = world.platform
    p.settings = p.settings.model_copy(update={"import_max_reported_problems": 2})
    rows = [inst(f"P{i}", item_code="99.99") for i in range(5)]
    exc = refused(p, _import(world, "city", rows))
    assert exc.problem_count == 5 and exc.rows_read == 5
    assert [(q.row, q.field) for q in exc.problems] == [(2, "item_code"), (3, "item_code")]


def test_unknown_format_is_invalid_input(world: World) -> None:
    with pytest.raises(InvalidInput) as caught:
        import_instruments(world.platform, world.as_("city"), csv_file([]), fmt="ods")  # type: ignore[arg-type]
    assert caught.value.field == "format"


# -- verification records ---------------------------------------------------------------------------


def _file(world: World, serial: str, region: str = COUNTY_A, item_code: str = "09.01", **kw: Any) -> int:
    owner = world.enterprise_id if region == COUNTY_A else world.other_enterprise_id
    raw = instrument_raw(serial, item_code=item_code, region=region, owner_id=owner, **kw)
    return int(instruments_service.file_instrument(world.platform, world.as_("city"), raw).id)


def ver(serial: str, **changes: str) -> dict[str, str]:
    row = {
        "manufacturer": "示例制造有限公司",
        "model": "M-1",
        "serial_number": serial,
        "institution_credit_code": INSTITUTION,
        "standard_certificate_no": "",
        "verified_on": "2026-01-05",
        "conclusion": "合格",
        "document_no": f"JD-{serial}",
        "remarks": "",
    }
    row.update(changes)
    return row


def _vimport(world: World, who: str, rows: list[dict[str, str]]) -> Callable[[], Any]:
    return lambda: import_verifications(
        world.platform, world.as_(who), csv_file(rows, header=V_FIELDS), fmt="csv"
    )


_STATE = (
    "last_verified_on",
    "last_conclusion",
    "due_on",
    "valid_until",
    "status",
    "status_since",
    "row_version",
)
_RECORD = ("verified_on", "conclusion", "due_on", "effective_until", "superseded", "rule_form", "regulation")


def _state(platform: Platform, instrument_id: int) -> tuple[Any, ...]:
    with platform.reading() as s:
        inst = s.get(Instrument, instrument_id)
        records = s.scalars(
            select(VerificationRecord)
            .where(VerificationRecord.instrument_id == instrument_id)
            .order_by(VerificationRecord.id)
        ).all()
        return (
            tuple(getattr(inst, c) for c in _STATE),
            [tuple(getattr(r, c) for c in _RECORD) for r in records],
        )


def test_imported_records_leave_instruments_exactly_as_record_verification_does(world: World) -> None:
    """The same history recorded one by one (service) and in one file (import) gives identical state."""
    p = world.platform
    authorise_all(world, ["09.01"])
    histories: dict[str, list[tuple[str, str]]] = {
        "fresh-pass": [("2026-01-05", "pass")],
        "fail-then-pass": [("2026-01-05", "fail"), ("2026-02-01", "pass")],
        "pass-then-fail": [("2026-01-05", "pass"), ("2026-03-01", "fail")],
        "backfilled": [("2026-03-01", "pass"), ("2025-06-01", "fail"), ("2025-09-01", "pass")],
        "same-day": [("2026-01-05", "fail"), ("2026-01-05", "pass")],
        "with-history": [("2026-04-01", "pass")],  # a record exists before the import
        "suspended-backfill": [("2024-01-01", "pass")],  # manually suspended, then an older record
    }
    water = next(c for c, i in _items(p).items() if i.size_parameter == "DN")
    authorise_all(world, [water])
    histories["rotation"] = [("2025-05-01", "pass"), ("2026-01-05", "pass")]  # due from first use
    kinds: dict[str, dict[str, Any]] = {
        "rotation": {"item_code": water, "nominal_size": 15, "first_used_on": "2024-03-01"}
    }
    pairs = {
        name: (
            _file(world, f"S-{name}", **kinds.get(name, {})),
            _file(world, f"I-{name}", **kinds.get(name, {})),
        )
        for name in histories
    }
    for name, ids in pairs.items():
        for id_ in ids:
            if name in ("with-history", "suspended-backfill"):
                verifications_service.record_verification(
                    p,
                    world.as_("institution"),
                    {
                        "instrument_id": id_,
                        "verified_on": "2025-01-02",
                        "conclusion": "pass",
                        "document_no": f"OLD-{id_}",
                    },
                )
            if name == "suspended-backfill":
                instruments_service.change_status(p, world.as_("city"), id_, "suspended", "2025-05-01")
    rows = []
    for name, history in histories.items():
        service_id, _ = pairs[name]
        for k, (on, conclusion) in enumerate(history):
            verifications_service.record_verification(
                p,
                world.as_("institution"),
                {
                    "instrument_id": service_id,
                    "verified_on": on,
                    "conclusion": conclusion,
                    "document_no": f"SV-{name}-{k}",
                },
            )
            rows.append(ver(f"I-{name}", verified_on=on, conclusion=conclusion, document_no=f"IM-{name}-{k}"))
    report = _vimport(world, "institution", rows)()
    assert report.rows_written == len(rows)
    for name, (service_id, import_id) in pairs.items():
        assert _state(p, import_id) == _state(p, service_id), name


def test_verification_round_trip_and_audit(world: World) -> None:
    p = world.platform
    authorise_all(world, ["09.01"])
    ids = [_file(world, f"V{i}") for i in range(3)]
    report = _vimport(
        world, "institution", [ver("V0"), ver("V1", conclusion="不合格"), ver("V2", conclusion="pass")]
    )()
    assert (report.kind, report.rows_written) == ("verification_records", 3)
    assert instruments_service.get_instrument(p, world.as_("city"), ids[1]).status == "suspended"
    with p.reading() as s:
        entry = s.get(AuditEntry, report.audit_id)
    assert entry is not None and entry.object_type == "verification_records" and entry.after["count"] == 3
    exported = io.BytesIO()
    assert export_verifications(p, world.as_("institution"), {}, exported, fmt="csv") == 3
    snapshot = [_state(p, i) for i in ids]
    with p.engine.begin() as conn:
        conn.execute(delete(VerificationRecord))
        conn.execute(
            Instrument.__table__.update().values(
                last_verified_on=None, last_conclusion=None, due_on=None, valid_until=None,
                status="in_service", status_since=Instrument.filed_on, row_version=1,
            )
        )  # fmt: skip
    again = import_verifications(p, world.as_("institution"), io.BytesIO(exported.getvalue()), fmt="csv")
    assert again.rows_written == 3
    assert [_state(p, i) for i in ids] == snapshot


def test_verification_refusals_name_row_and_field(world: World) -> None:
    p = world.platform
    authorise_all(world, ["09.01"])
    _file(world, "A1")
    _file(world, "EV1", item_code="22.01")
    verifications_service.record_verification(
        p,
        world.as_("institution"),
        {
            "instrument_id": _file(world, "A2"),
            "verified_on": "2026-01-01",
            "conclusion": "pass",
            "document_no": "USED-1",
        },
    )
    bad_code = INSTITUTION[:17] + ("0" if INSTITUTION[17] != "0" else "1")
    cases = [
        (ver("EV1"), "institution_credit_code"),  # not authorised for 22.01
        (ver("NOPE"), "serial_number"),  # no such instrument
        (ver("A1", verified_on="2026-07-01"), "verified_on"),  # in the future
        (ver("A1", conclusion="maybe"), "conclusion"),
        (ver("A1", institution_credit_code=bad_code), "institution_credit_code"),
        (ver("A1", document_no="USED-1"), "document_no"),  # against the registry
        (ver("A1", standard_certificate_no="NO-SUCH-CERT"), "standard_certificate_no"),
    ]
    for row, field in cases:
        exc = refused(p, _vimport(world, "institution", [ver("A1", document_no="OK-1"), row]))
        assert only_problem(exc)[:2] == (3, field), (row, exc.problems)
    exc = refused(p, _vimport(world, "institution", [ver("A1", document_no="X"), ver("A2", document_no="X")]))
    row, field, reason = only_problem(exc)
    assert (row, field) == (3, "document_no") and "row 2" in reason


def test_an_institution_outside_its_jurisdiction_finds_no_instrument(world: World) -> None:
    authorise_all(world, ["09.01"], region=OTHER_CITY, institution_id=world.other_institution_id)
    _file(world, "Z1")
    other = credit_code(4, OTHER_CITY)
    exc = refused(
        world.platform, _vimport(world, "other_institution", [ver("Z1", institution_credit_code=other)])
    )
    row, field, reason = only_problem(exc)
    assert (row, field) == (2, "serial_number") and "not found" in reason


def test_an_administrator_names_the_institution_by_credit_code(world: World) -> None:
    authorise_all(world, ["09.01"])
    _file(world, "AD1")
    unknown = credit_code(99, CITY)
    exc = refused(world.platform, _vimport(world, "admin", [ver("AD1", institution_credit_code=unknown)]))
    assert only_problem(exc)[:2] == (2, "institution_credit_code")
    report = _vimport(world, "admin", [ver("AD1")])()
    assert report.rows_written == 1
    page = verifications_service.list_records(world.platform, world.as_("city"))
    assert [r.institution_id for r in page.items] == [world.institution_id]


def test_an_institution_records_only_as_itself(world: World) -> None:
    authorise_all(world, ["09.01"])
    _file(world, "W1")
    exc = refused(
        world.platform,
        _vimport(world, "institution", [ver("W1", institution_credit_code=credit_code(4, OTHER_CITY))]),
    )
    assert only_problem(exc)[:2] == (2, "institution_credit_code")


def test_export_filters_are_checked(world: World) -> None:
    with pytest.raises(InvalidInput) as caught:
        export_instruments(world.platform, world.as_("city"), {"colour": "red"}, io.BytesIO(), fmt="csv")
    assert caught.value.field == "colour"
    with pytest.raises(InvalidInput):
        export_verifications(world.platform, world.as_("city"), {"colour": "red"}, io.BytesIO(), fmt="csv")


def test_export_keeps_to_the_callers_jurisdiction(world: World) -> None:
    _file(world, "K1")
    _file(world, "K2", region=COUNTY_B)
    out = io.BytesIO()
    assert export_instruments(world.platform, world.as_("county_b"), {}, out, fmt="csv", headers="en") == 1
    rows = _sheet(out.getvalue(), "csv")
    assert rows[0] == FIELDS and rows[1][FIELDS.index("serial_number")] == "K2"


# -- API --------------------------------------------------------------------------------------------


@pytest.fixture
def client(world: World, monkeypatch: pytest.MonkeyPatch) -> TestClient:
    from jiliang.api import app as app_module

    monkeypatch.setattr(app_module, "ROUTERS", ["transfer"])
    return TestClient(app_module.create_app(world.platform))


def _auth(world: World, who: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {world.tokens[who]}"}


def test_api_import_report_and_refusal(world: World, client: TestClient) -> None:
    ok = client.post(
        "/api/v1/instruments/import",
        headers=_auth(world, "city"),
        files={"file": ("器具.csv", csv_file([inst("API1"), inst("API2")]).getvalue(), "text/csv")},
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["rows_written"] == 2 and len(ok.json()["sha256"]) == 64
    before = counts(world.platform)
    bad = client.post(
        "/api/v1/instruments/import",
        headers=_auth(world, "city"),
        files={"file": ("upload.bin", csv_file([inst("API3"), inst("API3")]).getvalue())},
        data={"format": "csv"},
    )
    assert bad.status_code == 422
    body = bad.json()["error"]
    assert body["problem_count"] == 1 and body["problems"][0]["row"] == 3
    assert body["problems"][0]["field"] == "serial_number"
    assert counts(world.platform) == before


def test_api_refuses_an_oversized_upload_with_413(world: World, client: TestClient) -> None:
    p = world.platform
    p.settings = p.settings.model_copy(update={"max_upload_bytes": 2048})
    big = csv_file([inst(f"BIG{i}") for i in range(100)]).getvalue()
    before = counts(p)
    r = client.post(
        "/api/v1/instruments/import", headers=_auth(world, "city"), files={"file": ("big.csv", big)}
    )
    assert r.status_code == 413 and r.json()["error"]["code"] == "too_large"
    assert counts(p) == before


def test_api_needs_a_known_format_and_a_login(world: World, client: TestClient) -> None:
    r = client.post(
        "/api/v1/instruments/import", headers=_auth(world, "city"), files={"file": ("a.ods", b"x")}
    )
    assert r.status_code == 422 and r.json()["error"]["field"] == "format"
    r = client.post("/api/v1/instruments/import", files={"file": ("a.csv", b"x")})
    assert r.status_code == 401


def test_api_verification_import_and_exports(world: World, client: TestClient) -> None:
    authorise_all(world, ["09.01"])
    _file(world, "AV1")
    r = client.post(
        "/api/v1/verifications/import",
        headers=_auth(world, "institution"),
        files={"file": ("records.csv", csv_file([ver("AV1")], header=V_FIELDS).getvalue())},
    )
    assert r.status_code == 200, r.text
    r = client.get("/api/v1/verifications/export?format=csv", headers=_auth(world, "institution"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = _sheet(r.content, "csv")
    assert (
        rows[0][:3] == ["制造单位", "型号规格", "出厂编号"] and rows[1][2] == "AV1" and rows[1][6] == "合格"
    )
    r = client.get(
        "/api/v1/instruments/export",
        params={"format": "xlsx", "serial_number": "AV1"},
        headers=_auth(world, "city"),
    )
    assert r.status_code == 200 and 'filename="instruments.xlsx"' in r.headers["content-disposition"]
    rows = _sheet(r.content, "xlsx")
    assert len(rows) == 2 and rows[1][ZH.index("出厂编号")] == "AV1"
    r = client.get("/api/v1/instruments/export", params={"region_code": "12"}, headers=_auth(world, "city"))
    assert r.status_code == 422 and r.json()["error"]["field"] == "region_code"


def test_openapi_documents_the_upload(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    body = spec["paths"]["/api/v1/instruments/import"]["post"]["requestBody"]
    assert "file" in body["content"]["multipart/form-data"]["schema"]["properties"]


def test_authorisation_fixture_is_for_the_city(world: World) -> None:
    # The refusal tests rely on the factory authorising within CITY only.
    authorise_all(world, ["09.01"])
    page = standards.list_authorisations(world.platform, SYSTEM)
    assert {a.region_code for a in page.items} == {CITY}


# -- the column-by-column fast path and the bulk leaf encoding ------------------------------------


def test_a_chunk_checked_column_by_column_stages_what_the_row_by_row_check_stages(world: World) -> None:
    """Both importers: the fast path gives the very tuples of the per-row check, and on any problem it
    gives way to the per-row check, which names the row and field."""
    from datetime import date

    from jiliang.services.transfer import columnwise
    from jiliang.services.transfer import instruments as instrument_import
    from jiliang.services.transfer import verifications as verification_import
    from jiliang.services.transfer.reading import Problems

    today = date(2026, 6, 1)
    rows = [
        inst(
            f" CW-{i} ",
            name=f" 加油机{i % 3} ",
            use="贸易结算" if i % 2 else "trade_settlement",
            filed_on="" if i % 4 == 0 else "2025-01-1" + str(i % 5),
            first_used_on="" if i % 3 == 0 else f"2024-03-0{1 + i % 5}",
            nominal_size="" if i % 5 else "12.5",
            location="",
        )
        for i in range(12)
    ]
    chunk = [(n, r) for n, r in enumerate(rows, start=2)]
    checks = instrument_import._Checks(world.as_("city"), _items(world.platform), today, Problems(50), None)
    fast = checks._columns([(n, dict(r)) for n, r in chunk])
    assert fast == [checks.validate(n, dict(r)) for n, r in chunk]
    assert not checks.problems
    bad = [*chunk, (14, inst("CW-late", filed_on="2099-01-01")), (15, inst("CW-\u202e"))]
    with pytest.raises(columnwise.Slow):
        checks._columns(bad)
    assert checks.validate_chunk(bad) == fast
    assert [(p.row, p.field) for p in checks.problems.report()] == [(14, "filed_on"), (15, "serial_number")]

    vrows = [
        ver(f"CW-{i}", conclusion="合格" if i % 3 else "fail", remarks=" 复检 " if i % 2 else "")
        for i in range(8)
    ]
    vchunk = [(n, r) for n, r in enumerate(vrows, start=2)]
    vchecks = verification_import._Checks(today, Problems(50), None)
    vfast = vchecks._columns(vchunk)
    assert vfast == [vchecks.validate(n, r) for n, r in vchunk]
    vbad = [*vchunk, (10, ver("CW-x", verified_on="2026-13-01")), (11, ver("CW-y", document_no=""))]
    assert vchecks.validate_chunk(vbad) == vfast
    assert [(p.row, p.field) for p in vchecks.problems.report()] == [(10, "verified_on"), (11, "document_no")]


def test_leaves_encoded_in_bulk_are_the_bytes_of_the_one_by_one_encoding() -> None:
    from datetime import UTC, date, datetime, timedelta, timezone

    from jiliang.services.transparency import leaf_bytes, verification_body
    from jiliang.trust.leaves import encode_verifications

    at = datetime(2026, 6, 15, 10, 0, 0, 123456, tzinfo=timezone(timedelta(hours=8)))
    cases = [
        (1, 2, 3, None, date(2026, 1, 5), "pass", date(2027, 1, 4), "JD-1"),
        (2**40, 7, 9, 11, date(2025, 12, 31), "fail", None, '浙计检字第"1\\2"号 é'),
    ]
    bulk = encode_verifications(
        [(r, i, n, s, on.isoformat(), c, d.isoformat() if d else None, doc) for r, i, n, s, on, c, d, doc in cases],
        at.astimezone(UTC).isoformat(),
    )
    one_by_one = [
        leaf_bytes(
            "verification_recorded",
            verification_body(
                record_id=r,
                instrument_id=i,
                institution_id=n,
                standard_id=s,
                verified_on=on,
                conclusion=c,
                document_no=doc,
                due_on=d,
                supersedes_id=None,
                recorded_at=at,
            ),
        )
        for r, i, n, s, on, c, d, doc in cases
    ]
    assert bulk == one_by_one
