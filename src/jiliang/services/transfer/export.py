"""Export of instruments and verification records in the columns the importers read.

What is exported imports again unchanged (owners and institutions by credit code, standards by
certificate number, instruments by manufacturer, model and serial number). Rows stream from the
database (``yield_per``) into the sink, so an export of millions of rows holds a few thousand at a time;
XLSX uses openpyxl's write-only mode, which keeps the sheet in a temporary file until it is saved. Every
text cell is neutralised against formula injection (``domain.spreadsheet``; XLSX text is stored as text).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import aliased

from jiliang.domain.access import Principal
from jiliang.domain.catalogue import Use
from jiliang.domain.spreadsheet import neutralise
from jiliang.domain.verification import Conclusion
from jiliang.errors import InvalidInput
from jiliang.services import instruments as instruments_service
from jiliang.services import scope
from jiliang.services.platform import Platform
from jiliang.services.transfer.columns import (
    CONCLUSION_LABELS,
    FOLLOW_UP_COLUMNS,
    INSTRUMENT_COLUMNS,
    USE_LABELS,
    VERIFICATION_COLUMNS,
    Column,
    Headers,
    header_row,
)
from jiliang.services.transfer.reading import Format, cell_text
from jiliang.store.models import Instrument, MeasurementStandard, Organisation, VerificationRecord

YIELD_PER = 2000
VERIFICATION_FILTERS = ("instrument_id", "institution_id", "include_superseded")


def export_instruments(
    platform: Platform,
    principal: Principal,
    filters: dict[str, Any],
    sink: BinaryIO,
    *,
    fmt: Format,
    headers: Headers = "zh",
) -> int:
    """Write the instruments the caller sees (with the list filters of the API); returns rows written."""
    _check_format(fmt)
    base = instruments_service.instrument_query(  # validates the filters
        principal, filters, platform.settings.coverage.grace_days
    )
    fields = [c.field for c in INSTRUMENT_COLUMNS if c.field != "owner_credit_code"]
    stmt = base.with_only_columns(
        *[getattr(Instrument, f) for f in fields], Organisation.credit_code, maintain_column_froms=False
    ).join_from(Instrument, Organisation, Organisation.id == Instrument.owner_id)
    use_index = fields.index("use")

    def rows(result: Iterable[Sequence[Any]]) -> Iterator[list[Any]]:
        for r in result:
            row = list(r)
            if headers == "zh":
                row[use_index] = USE_LABELS.get(Use(row[use_index]), row[use_index])
            yield row

    return _write(platform, stmt, rows, sink, fmt, INSTRUMENT_COLUMNS, headers)


def export_verifications(
    platform: Platform,
    principal: Principal,
    filters: dict[str, Any],
    sink: BinaryIO,
    *,
    fmt: Format,
    headers: Headers = "zh",
) -> int:
    """Write the verification records the caller sees; superseded ones only with include_superseded."""
    _check_format(fmt)
    unknown = sorted(set(filters) - set(VERIFICATION_FILTERS))
    if unknown:
        raise InvalidInput(f"未知的筛选条件 / unknown filter: {unknown[0]}", field=unknown[0])
    VR = VerificationRecord
    institution = aliased(Organisation)
    stmt: Any = (
        select(
            Instrument.manufacturer,
            Instrument.model,
            Instrument.serial_number,
            institution.credit_code,
            MeasurementStandard.certificate_no,
            VR.verified_on,
            VR.conclusion,
            VR.document_no,
            VR.remarks,
        )
        .select_from(VR)
        .join(Instrument, Instrument.id == VR.instrument_id)
        .join(institution, institution.id == VR.institution_id)
        .outerjoin(MeasurementStandard, MeasurementStandard.id == VR.standard_id)
        .order_by(VR.id)
    )
    stmt = scope.verification_records(stmt, principal)
    for key in ("instrument_id", "institution_id"):
        if filters.get(key) not in (None, ""):
            stmt = stmt.where(getattr(VR, key) == _int(filters[key], key))
    if not _flag(filters.get("include_superseded")):
        stmt = stmt.where(VR.superseded.is_(False))

    def rows(result: Iterable[Sequence[Any]]) -> Iterator[list[Any]]:
        for r in result:
            row = list(r)
            if headers == "zh":
                row[6] = CONCLUSION_LABELS[Conclusion(row[6])]
            yield row

    return _write(platform, stmt, rows, sink, fmt, VERIFICATION_COLUMNS, headers)


def _write(
    platform: Platform,
    stmt: Any,
    rows: Any,
    sink: BinaryIO,
    fmt: str,
    columns: tuple[Column, ...],
    headers: Headers,
) -> int:
    with platform.reading() as session:
        result = session.execute(stmt.execution_options(yield_per=YIELD_PER))
        if fmt == "csv":
            return _write_csv(sink, header_row(columns, headers), rows(result))
        return _write_xlsx(sink, header_row(columns, headers), rows(result))


def _write_csv(sink: BinaryIO, header: list[str], rows: Iterator[list[Any]]) -> int:
    # UTF-8 with BOM: what Excel needs to open Chinese text in a CSV correctly.
    text = io.TextIOWrapper(sink, encoding="utf-8-sig", newline="", write_through=False)
    try:
        writer = csv.writer(text)
        writer.writerow(header)
        count = 0
        for row in rows:
            writer.writerow([neutralise(cell_text(v)) for v in row])
            count += 1
        text.flush()
    finally:
        text.detach()
    return count


def _write_xlsx(sink: BinaryIO, header: list[str], rows: Iterator[list[Any]]) -> int:
    from openpyxl import Workbook  # type: ignore[import-untyped]
    from openpyxl.cell import WriteOnlyCell  # type: ignore[import-untyped]

    book = Workbook(write_only=True)
    sheet = book.create_sheet("data")
    sheet.append(header)
    count = 0
    for row in rows:
        cells = []
        for value in row:
            if isinstance(value, str):
                cell = WriteOnlyCell(sheet, value=neutralise(value))
                cell.data_type = "s"  # text is text: openpyxl would store "=…" as a live formula
            else:
                cell = WriteOnlyCell(sheet, value="" if value is None else value)
                if isinstance(value, date):
                    cell.number_format = "yyyy-mm-dd"
            cells.append(cell)
        sheet.append(cells)
        count += 1
    book.save(sink)
    return count


def _check_format(fmt: str) -> None:
    if fmt not in ("csv", "xlsx"):
        raise InvalidInput(
            f"不支持的格式 {fmt!r}，应为 csv 或 xlsx / format must be csv or xlsx", field="format"
        )


def _int(value: object, field: str) -> int:
    try:
        return int(value)  # type: ignore[call-overload,no-any-return]
    except (TypeError, ValueError):
        raise InvalidInput(f"{field} 必须是整数编号 / {field} must be an integer id", field=field) from None


def _flag(value: object) -> bool:
    return value is True or str(value).lower() in ("1", "true", "yes")


def export_follow_up_list(
    platform: Platform,
    principal: Principal,
    filters: dict[str, Any],
    sink: BinaryIO,
    *,
    fmt: Format,
    headers: Headers = "zh",
    sort: str | None = None,
) -> int:
    """The supervisor's instrument list (usually ``state=overdue``) as a 督办 list: owner name and
    contact, place of use, catalogue item, last verification, due date and days overdue, as of the
    list's date. Takes the filters of ``services.supervision.search.search_instruments``."""
    from jiliang.services.supervision import search  # supervision builds on transfer's neighbours

    _check_format(fmt)
    stmt, shape = search.instrument_statement(platform, principal, filters, sort)
    zh = headers == "zh"

    def rows(result: Iterable[Sequence[Any]]) -> Iterator[list[Any]]:
        for r in result:
            row = shape(r)
            conclusion = row.last_conclusion
            yield [
                row.name,
                row.serial_number,
                row.item_name if zh else row.item_code,
                row.model,
                row.owner_name,
                row.owner_credit_code,
                row.owner_contact,
                row.owner_address,
                row.location,
                row.region_name,
                row.last_verified_on,
                (CONCLUSION_LABELS[Conclusion(conclusion)] if zh else conclusion) if conclusion else "",
                row.due_on,
                row.days_overdue,
            ]

    return _write(platform, stmt, rows, sink, fmt, FOLLOW_UP_COLUMNS, headers)
