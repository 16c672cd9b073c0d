"""Catalogue versions: list, upload (administrator), compare row by row, activate from a date, export."""

from __future__ import annotations

import io
from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from jiliang.api.deps import PlatformDep, PrincipalDep
from jiliang.api.routers.transfer import _REFUSALS, _UPLOAD_BODY, receive_upload
from jiliang.api.schemas.common import ERRORS, In, Out
from jiliang.errors import InvalidInput
from jiliang.services import catalogue

router = APIRouter(prefix="/api/v1/catalogue/versions", tags=["catalogue 目录"], responses=ERRORS)


class VersionOut(Out):
    version: str
    loaded_at: datetime
    active_from: date | None = Field(description="启用日期 / in force from (None: not activated)")
    state: Literal["in_force", "scheduled", "superseded", "loaded"]
    items: int
    rules: int
    source_name: str
    sha256: str


class UploadOut(BaseModel):
    version: str
    rows_read: int
    items: int
    rules: int
    sha256: str


class FieldChangeOut(Out):
    field: str
    old: str
    new: str
    scope: str = Field(
        description="规则的规格范围（空：目录项本身）/ the rule's size range, empty for the item"
    )


class ItemDiffOut(Out):
    item_code: str
    change: Literal["added", "removed", "changed"]
    name_zh: str
    changes: list[FieldChangeOut]


class ActivateIn(In):
    active_from: date = Field(description="启用日期（今天或以后）/ in force from (today or later)")


@router.get("", summary="目录版本列表 / List catalogue versions")
def list_versions(platform: PlatformDep) -> list[VersionOut]:
    return [VersionOut.model_validate(v) for v in catalogue.list_versions(platform)]


@router.post(
    "",
    status_code=201,
    responses=_REFUSALS,
    openapi_extra=_UPLOAD_BODY,
    summary="上传目录版本（管理员，暂不启用）/ Upload a catalogue version (administrator; not yet in force)",
)
async def upload_version(
    request: Request,
    platform: PlatformDep,
    principal: PrincipalDep,
    version: Annotated[str, Query(description="新版本名 / the new version's name")],
) -> UploadOut:
    upload = await receive_upload(request, platform.settings.max_upload_bytes)
    try:
        fmt = upload.format
        report = await run_in_threadpool(
            lambda: catalogue.upload_version(
                platform, principal, upload.file, fmt=fmt, version=version, source_name=upload.filename
            )
        )
    finally:
        upload.file.close()
    return UploadOut(
        version=report.version,
        rows_read=report.rows_read,
        items=report.items,
        rules=report.rules,
        sha256=report.sha256,
    )


@router.get("/{version}/diff", summary="与现行版本逐行比较 / Differences from the version in force")
def diff(
    version: str,
    platform: PlatformDep,
    against: Annotated[str | None, Query(description="比较的版本（缺省为现行）/ compare with")] = None,
) -> list[ItemDiffOut]:
    return [ItemDiffOut.model_validate(d) for d in catalogue.diff(platform, version, against)]


@router.post(
    "/{version}/activate", summary="自某日起启用（管理员）/ Put in force from a date (administrator)"
)
def activate(version: str, body: ActivateIn, platform: PlatformDep, principal: PrincipalDep) -> VersionOut:
    return VersionOut.model_validate(catalogue.activate(platform, principal, version, body.active_from))


@router.get("/{version}/export", summary="按上传格式导出 CSV / Export in the upload layout (CSV)")
def export(
    version: str,
    platform: PlatformDep,
    headers: Annotated[Literal["zh", "en"], Query(description="表头 / header labels")] = "zh",
) -> Response:
    if len(version) > 40:
        raise InvalidInput("版本名过长 / version name too long", field="version")
    sink = io.BytesIO()
    catalogue.export_version(platform, version, sink, headers)
    return Response(
        sink.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="catalogue-{version}.csv"'},
    )
