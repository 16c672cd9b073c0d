"""Reading exchange files as a stream of rows, each with the row number an office sees in Excel.

CSV is decoded as UTF-8 (with or without BOM) or GB18030 — what Chinese Excel writes — chosen from the
file's first 64 KiB; bytes that do not decode are kept (surrogate-escaped) so that the row holding them
is reported by number instead of the whole file failing at an unknown place. XLSX is read with
openpyxl's read-only mode, which streams the sheet. Either way the bytes are counted (an oversized file
is refused as soon as the limit is passed) and hashed, so the report can name the exact file imported.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import heapq
import io
import re
import tempfile
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, BinaryIO, Literal

from jiliang.domain import spreadsheet
from jiliang.errors import FieldProblem, ImportRefused, PayloadTooLarge
from jiliang.services.transfer.columns import IGNORED_HEADERS, Column, header_index, normalise_header

Format = Literal["csv", "xlsx"]
SNIFF_BYTES = 64 * 1024
_ESCAPED = re.compile("[\udc80-\udcff]")


@dataclass
class Problems:
    """Every problem is counted; the ``limit`` earliest (by row, then field) are kept for the report."""

    limit: int
    count: int = 0
    _heap: list[tuple[int, int, str, str, str | None]] = field(default_factory=list)
    _seq: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, row: int, field_: str, reason: str, value: object = None) -> None:
        with self._lock:
            self._add(row, field_, reason, value)

    def _add(self, row: int, field_: str, reason: str, value: object) -> None:
        self.count += 1
        self._seq += 1
        text = None if value is None else str(value)[:200]
        # A max-heap on (row, seq) of size `limit`: keeps the first problems of the file, not the first found.
        item = (-row, -self._seq, field_, reason, text)
        if len(self._heap) < self.limit:
            heapq.heappush(self._heap, item)
        elif item > self._heap[0]:
            heapq.heapreplace(self._heap, item)

    def __bool__(self) -> bool:
        return self.count > 0

    def report(self) -> list[FieldProblem]:
        ordered = sorted(self._heap, key=lambda t: (-t[0], -t[1]))
        return [FieldProblem(row=-r, field=f, reason=why, value=v) for r, _, f, why, v in ordered]

    def refuse(self, rows_read: int) -> ImportRefused:
        return ImportRefused(problems=self.report(), problem_count=self.count, rows_read=rows_read)


class Metered(io.RawIOBase):
    """Counts and hashes the bytes read from ``source``; refuses the file once it passes ``limit``."""

    def __init__(self, source: BinaryIO, limit: int) -> None:
        self._source = source
        self._limit = limit
        self.size = 0
        self.sha256 = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._source.read(len(buffer))
        n = len(data)
        self.size += n
        if self.size > self._limit:
            raise too_large(self._limit)
        self.sha256.update(data)
        buffer[:n] = data
        return n


def too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"文件超过上限 {limit} 字节 / the file is larger than the limit of {limit} bytes", field="file"
    )


def refused_file(reason: str, rows_read: int = 0) -> ImportRefused:
    return ImportRefused(
        problems=[FieldProblem(row=0, field="file", reason=reason)], problem_count=1, rows_read=rows_read
    )


def sniff_encoding(head: bytes) -> str:
    """UTF-8 (BOM or not) or GB18030, from the file's first bytes.

    Chinese text in GB18030 is almost never valid UTF-8, while a UTF-8 file with a stray bad byte is
    still mostly valid UTF-8: so UTF-8 wins when its valid multi-byte characters far outnumber the bytes
    that do not decode (those rows are then reported), and GB18030 otherwise.
    """
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    cut = head.rfind(b"\n")
    text = (head[: cut + 1] if cut >= 0 else head).decode("utf-8", errors="replace")  # whole lines only
    bad = text.count("\ufffd")
    good = sum(1 for ch in text if ord(ch) > 127) - bad
    return "utf-8" if bad * 10 <= good else "gb18030"


@dataclass
class Sheet:
    """The header mapping and the data rows of one file: ``rows`` yields (row number, {field: text})."""

    fields: list[str | None]
    rows: Iterator[tuple[int, dict[str, str] | None]]
    metered: Metered
    encoding: str = ""

    @property
    def sha256(self) -> str:
        return self.metered.sha256.hexdigest()


def map_header(cells: list[Any], columns: tuple[Column, ...], problems: Problems) -> list[str | None]:
    """The field each column holds (None for an ignored column); unknown or missing headers are problems."""
    index = header_index(columns)
    fields: list[str | None] = []
    seen: set[str] = set()
    for pos, cell in enumerate(cells, start=1):
        key = normalise_header(cell)
        name = None if key in IGNORED_HEADERS or key == "" else index.get(key)
        if name is None and key not in IGNORED_HEADERS and key != "":
            problems.add(1, "header", f"第 {pos} 列表头无法识别 / column {pos}: unknown header", cell)
        elif name is not None and name in seen:
            problems.add(1, "header", f"第 {pos} 列与前面的列重复 / column {pos}: repeated header", cell)
            name = None
        if name is not None:
            seen.add(name)
        fields.append(name)
    for col in columns:
        if col.required and col.field not in seen:
            problems.add(1, col.field, f"缺少必填列 {col.zh} / required column {col.field} is missing")
    return fields


def open_sheet(
    source: BinaryIO, fmt: str, columns: tuple[Column, ...], problems: Problems, max_bytes: int
) -> Sheet:
    if fmt == "csv":
        return _csv_sheet(source, columns, problems, max_bytes)
    if fmt == "xlsx":
        return _xlsx_sheet(source, columns, problems, max_bytes)
    from jiliang.errors import InvalidInput

    raise InvalidInput(f"不支持的格式 {fmt!r}，应为 csv 或 xlsx / format must be csv or xlsx", field="format")


def _csv_sheet(source: BinaryIO, columns: tuple[Column, ...], problems: Problems, max_bytes: int) -> Sheet:
    metered = Metered(source, max_bytes)
    buffered = io.BufferedReader(metered, SNIFF_BYTES)
    encoding = sniff_encoding(buffered.peek(SNIFF_BYTES)[:SNIFF_BYTES])
    text = io.TextIOWrapper(buffered, encoding=encoding, errors="surrogateescape", newline="")
    undecodable = [False]
    quoted = [False]  # a line with a ' in it: cells may carry the formula-injection prefix of our exports

    def lines() -> Iterator[str]:
        for line in text:
            if not line.isascii() and _ESCAPED.search(line):
                undecodable[0] = True
            if "'" in line:
                quoted[0] = True
            yield line

    reader = csv.reader(lines(), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise refused_file(f"表头行不是有效的 CSV / the header row is not valid CSV: {exc}") from None
    if header is None:
        raise refused_file("文件为空 / the file is empty")
    if undecodable[0]:
        problems.add(1, "header", f"表头含无法按 {encoding} 解码的字节 / header bytes are not {encoding}")
        undecodable[0] = False
    fields = map_header(header, columns, problems)
    width = len(fields)
    # Usually every column is a field: then dict(zip()) builds the row at C speed.
    every = None not in fields
    names = [f for f in fields if f is not None]

    def pick(cells: list[str]) -> dict[str, str]:
        return {f: c for f, c in zip(fields, cells, strict=True) if f is not None}

    def rows() -> Iterator[tuple[int, dict[str, str] | None]]:
        row_no = 1
        while True:
            row_no += 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                undecodable[0] = False
                problems.add(row_no, "row", f"CSV 格式错误 / malformed CSV: {exc}")
                yield row_no, None
                continue
            if undecodable[0]:
                undecodable[0] = False
                problems.add(
                    row_no, "row", f"含无法按 {encoding} 解码的字节 / bytes that are not valid {encoding}"
                )
                yield row_no, None
                continue
            if len(cells) != width:
                if not any(c.strip() for c in cells):
                    continue  # a blank line
                problems.add(
                    row_no,
                    "row",
                    f"有 {len(cells)} 列，表头有 {width} 列 / {len(cells)} columns, header has {width}",
                )
                yield row_no, None
                continue
            if not any(cells):
                continue
            if quoted[0]:
                quoted[0] = False
                cells = [spreadsheet.restore(c) for c in cells]
            yield row_no, dict(zip(names, cells, strict=True)) if every else pick(cells)

    return Sheet(fields=fields, rows=rows(), metered=metered, encoding=encoding)


def _xlsx_sheet(source: BinaryIO, columns: tuple[Column, ...], problems: Problems, max_bytes: int) -> Sheet:
    import openpyxl  # type: ignore[import-untyped]

    metered = Metered(source, max_bytes)
    # A zip is read from its end, so the upload is spooled (and measured) before it is opened.
    spool = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024)  # noqa: SIM115 (closed by rows())
    while chunk := metered.read(1024 * 1024):
        spool.write(chunk)
    spool.seek(0)
    try:
        book = openpyxl.load_workbook(spool, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise refused_file(f"不是有效的 XLSX 文件 / not a valid XLSX workbook: {exc}") from None
    sheet = book.worksheets[0]
    cells_iter = sheet.iter_rows(values_only=True)
    header = next(cells_iter, None)
    if header is None:
        raise refused_file("工作表为空 / the first worksheet is empty")
    while header and header[-1] is None:
        header = header[:-1]
    fields = map_header(list(header), columns, problems)
    width = len(fields)

    def rows() -> Iterator[tuple[int, dict[str, str] | None]]:
        try:
            for row_no, values in enumerate(cells_iter, start=2):
                cells = [spreadsheet.restore(cell_text(v)) for v in values]
                if any(cells[width:]):
                    problems.add(
                        row_no, "row", f"表头只有 {width} 列 / data beyond the header's {width} columns"
                    )
                    yield row_no, None
                    continue
                cells = (cells + [""] * width)[:width]
                if not any(cells):
                    continue
                yield row_no, {f: c for f, c in zip(fields, cells, strict=True) if f is not None}
        finally:
            book.close()
            spool.close()

    return Sheet(fields=fields, rows=rows(), metered=metered, encoding="xlsx")


def cell_text(value: object) -> str:
    """A cell as the text a CSV would hold: dates as ISO dates, whole numbers without '.0'."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
