"""Digital calibration certificates (数字计量证书): public validation of a DCC from anywhere."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from jiliang.api.routers.transfer import receive_upload
from jiliang.api.schemas.common import ERRORS
from jiliang.services import dcc_records
from jiliang.services.transfer.reading import too_large
from jiliang.trust import dcc

router = APIRouter(prefix="/api/v1/dcc", tags=["dcc 数字计量证书"], responses=ERRORS)

# The request body of every route that takes a DCC: raw XML, or a form's `file` (shared with certificates).
XML_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/xml": {"schema": {"type": "string", "description": "DCC XML"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "format": "binary", "description": "DCC XML"}},
                }
            },
        },
    }
}


class DccValidationOut(BaseModel):
    schema_version: str = Field(
        description="文件声明并通过校验的版本 / the release it names and validates against"
    )
    content: dict[str, Any] = Field(description="证书内容 / what the certificate says")


async def _body(request: Request, limit: int) -> bytes:
    """The raw body, counted as it arrives: a huge upload is refused before it is held in memory."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large(limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


async def read_xml(request: Request, limit: int) -> bytes:
    """An uploaded DCC, as a form's ``file`` or as the raw body; refused (413) as soon as it passes ``limit``."""
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        upload = await receive_upload(request, limit)
        try:
            return bytes(upload.file.read(limit + 1))
        finally:
            upload.file.close()
    return await _body(request, limit)


@router.post(
    "/validate",
    openapi_extra=XML_BODY,
    summary="校验并读取 DCC（公开）/ Validate and read a DCC (public)",
    description="上传文件（multipart 的 file）或直接发送 XML。按文件的 schemaVersion（3.0.0–3.2.0）校验；"
    "不通过时 422，附 schema 的报错、行号与路径。/ Upload a file (multipart `file`) or send the XML as the "
    "body; validated against the release its schemaVersion names (3.0.0–3.2.0); 422 with the schema's "
    "message, line and path when it does not validate.",
)
async def validate(request: Request) -> DccValidationOut:
    xml = await read_xml(request, dcc.MAX_BYTES)
    version, cert = await run_in_threadpool(dcc_records.read_certificate, xml)
    return DccValidationOut(schema_version=version, content=dcc.content(cert))
