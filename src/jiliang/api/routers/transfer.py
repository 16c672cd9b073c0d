"""Bulk import (multipart upload of CSV/XLSX) and streaming export of instruments and verification records.

The upload is parsed as it arrives (python-multipart's streaming parser) into a spooled temporary file
while its bytes are counted, so an oversized file is refused (413) as soon as it passes the limit —
or before a byte is read when its Content-Length already says so — never after it has been stored
whole. Exports are written whole into a spooled temporary file in one short read transaction, then sent
(``api/downloads.SpooledDownload``): no connection waits on a slow client, a stalled download is dropped,
and exports at once are bounded per user and in all (services/transfer/spool.py).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, BinaryIO, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.concurrency import run_in_threadpool

from jiliang.api.deps import InstrumentFiltersDep, PlatformDep, PrincipalDep
from jiliang.api.downloads import SpooledDownload
from jiliang.api.schemas.common import ERRORS, ErrorDetail, ErrorOut
from jiliang.domain.access import Principal
from jiliang.errors import InvalidInput
from jiliang.services import transfer
from jiliang.services.platform import Platform
from jiliang.services.transfer import spool
from jiliang.services.transfer.reading import too_large

router = APIRouter(prefix="/api/v1", tags=["transfer 批量导入导出"], responses=ERRORS)

MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
FORM_OVERHEAD = 64 * 1024  # multipart boundaries and part headers around the file itself
_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {
                            "type": "string",
                            "format": "binary",
                            "description": "CSV 或 XLSX / CSV or XLSX",
                        },
                        "format": {
                            "type": "string",
                            "enum": ["csv", "xlsx"],
                            "description": "默认取文件扩展名",
                        },
                    },
                }
            }
        },
    }
}


class ProblemOut(BaseModel):
    row: int = Field(description="行号（与表格软件一致）/ row number as a spreadsheet shows it")
    field: str = Field(description="字段 / field")
    reason: str = Field(description="原因 / reason")
    value: str | None = Field(default=None, description="原值 / the value given")


class RefusalDetail(ErrorDetail):
    rows_read: int = Field(description="已读行数 / rows read")
    problem_count: int = Field(description="问题总数 / problems in all")
    problems: list[ProblemOut] = Field(description="逐行问题（有上限）/ per-row problems (bounded)")


class RefusalOut(BaseModel):
    error: RefusalDetail


_REFUSALS: dict[int | str, dict[str, Any]] = {
    413: {"model": ErrorOut, "description": "文件过大 / file larger than the upload limit"},
    422: {
        "model": RefusalOut,
        "description": "导入被拒绝，附逐行报告 / import refused, with the per-row report",
    },
}


class ImportReportOut(BaseModel):
    kind: str
    rows_read: int
    rows_written: int
    sha256: str
    audit_id: int


@dataclass
class Upload:
    file: BinaryIO
    filename: str = ""
    fields: dict[str, str] = field(default_factory=dict)

    @property
    def format(self) -> Literal["csv", "xlsx"]:
        chosen = (self.fields.get("format") or self.filename.rsplit(".", 1)[-1]).strip().lower()
        if chosen not in ("csv", "xlsx"):
            raise InvalidInput(
                "无法判断文件格式：请上传 .csv 或 .xlsx 文件，或填写 format / format must be csv or xlsx "
                "(from the file name or the format field)",
                field="format",
            )
        return chosen  # type: ignore[return-value]


async def receive_upload(request: Request, limit: int) -> Upload:
    """Stream a multipart body's ``file`` part into a spooled temporary file, counting its bytes."""
    ctype, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if ctype != b"multipart/form-data" or not boundary:
        raise InvalidInput(
            "须以 multipart/form-data 上传 file / upload the file as multipart/form-data", field="file"
        )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + FORM_OVERHEAD:
        raise too_large(limit)
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 (returned; closed by caller)
    upload = Upload(file=spool)  # type: ignore[arg-type]
    part: dict[str, Any] = {}
    state = {"size": 0, "over": False, "seen_file": False}

    def on_part_begin() -> None:
        part.clear()
        part.update(headers={}, name="", value=b"", header=b"", header_value=b"")

    def on_header_field(data: bytes, start: int, end: int) -> None:
        part["header"] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        part["header_value"] += data[start:end]

    def on_header_end() -> None:
        part["headers"][part["header"].lower()] = part["header_value"]
        part["header"], part["header_value"] = b"", b""

    def on_headers_finished() -> None:
        _, disposition = parse_options_header(part["headers"].get(b"content-disposition", b""))
        part["name"] = disposition.get(b"name", b"").decode("utf-8", "replace")
        if part["name"] == "file":
            state["seen_file"] = True
            upload.filename = disposition.get(b"filename", b"").decode("utf-8", "replace")

    def on_part_data(data: bytes, start: int, end: int) -> None:
        if part["name"] == "file":
            state["size"] += end - start
            if state["size"] > limit:
                state["over"] = True
            elif not state["over"]:
                spool.write(data[start:end])
        elif len(part["value"]) < 1024:
            part["value"] += data[start:end]

    def on_part_end() -> None:
        if part.get("name") and part["name"] != "file":
            upload.fields[part["name"]] = part["value"].decode("utf-8", "replace")

    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
        },
    )
    try:
        async for chunk in request.stream():
            parser.write(chunk)
            if state["over"]:
                raise too_large(limit)
        parser.finalize()
    except BaseException:
        spool.close()
        raise
    if not state["seen_file"]:
        spool.close()
        raise InvalidInput("缺少文件 file / the form has no file part", field="file")
    spool.seek(0)
    return upload


async def _import(
    request: Request, platform: Any, principal: Any, importer: Callable[..., Any]
) -> ImportReportOut:
    upload = await receive_upload(request, platform.settings.max_upload_bytes)
    try:
        fmt = upload.format
        report = await run_in_threadpool(importer, platform, principal, upload.file, fmt=fmt)
    finally:
        upload.file.close()
    return ImportReportOut(**report.as_dict())


@router.post(
    "/instruments/import",
    response_model=ImportReportOut,
    responses=_REFUSALS,
    openapi_extra=_UPLOAD_BODY,
    summary="批量备案计量器具 / bulk-file instruments from CSV or XLSX",
)
async def import_instruments(
    request: Request, platform: PlatformDep, principal: PrincipalDep
) -> ImportReportOut:
    return await _import(request, platform, principal, transfer.import_instruments)


@router.post(
    "/verifications/import",
    response_model=ImportReportOut,
    responses=_REFUSALS,
    openapi_extra=_UPLOAD_BODY,
    summary="批量导入检定记录 / bulk-record verification results from CSV or XLSX",
)
async def import_verifications(
    request: Request, platform: PlatformDep, principal: PrincipalDep
) -> ImportReportOut:
    return await _import(request, platform, principal, transfer.import_verifications)


# -- export ---------------------------------------------------------------------------------------

Fmt = Annotated[Literal["csv", "xlsx"], Query(description="文件格式 / file format: csv or xlsx")]
HeaderLang = Annotated[
    Literal["zh", "en"], Query(description="表头：zh 中文（默认）或 en 字段名 / header labels")
]


def spooled_download(
    platform: Platform, principal: Principal, export: Callable[[BinaryIO], int], fmt: str, name: str
) -> SpooledDownload:
    """Take an export slot, write the whole export into a spool (one short read transaction), then send it.

    Errors (an unknown filter, a full set of slots) are answered before any byte is sent; no database
    connection is held while the client reads.
    """
    release = spool.take_slot(platform, principal)
    try:
        data, size = spool.spooled(platform, export)
    except BaseException:
        release()
        raise
    return SpooledDownload(
        data,
        size,
        release,
        stall_s=platform.settings.export_stall_s,
        media_type=MEDIA[fmt],
        filename=f"{name}.{fmt}",
    )


@router.get("/instruments/export", summary="导出计量器具 / export instruments as CSV or XLSX")
def export_instruments(
    platform: PlatformDep,
    principal: PrincipalDep,
    filters: InstrumentFiltersDep,
    format: Fmt = "csv",
    headers: HeaderLang = "zh",
) -> SpooledDownload:
    return spooled_download(
        platform,
        principal,
        lambda sink: transfer.export_instruments(
            platform, principal, filters, sink, fmt=format, headers=headers
        ),
        format,
        "instruments",
    )


@router.get("/verifications/export", summary="导出检定记录 / export verification records as CSV or XLSX")
def export_verifications(
    platform: PlatformDep,
    principal: PrincipalDep,
    format: Fmt = "csv",
    headers: HeaderLang = "zh",
    instrument_id: Annotated[int | None, Query(description="器具 / instrument")] = None,
    institution_id: Annotated[int | None, Query(description="检定机构 / institution")] = None,
    include_superseded: Annotated[
        bool, Query(description="含已被更正的记录 / include superseded records")
    ] = False,
) -> SpooledDownload:
    filters: dict[str, Any] = {"include_superseded": include_superseded}
    if instrument_id is not None:
        filters["instrument_id"] = instrument_id
    if institution_id is not None:
        filters["institution_id"] = institution_id
    return spooled_download(
        platform,
        principal,
        lambda sink: transfer.export_verifications(
            platform, principal, filters, sink, fmt=format, headers=headers
        ),
        format,
        "verification-records",
    )
