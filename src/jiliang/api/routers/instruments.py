"""Measuring instruments: filing (备案), finding, correcting and retiring them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Response

from jiliang.api.deps import InstrumentFiltersDep, Limit, Offset, PlatformDep, PrincipalDep
from jiliang.api.schemas.common import ERRORS, Page, page_of
from jiliang.api.schemas.instruments import InstrumentIn, InstrumentOut, InstrumentPatch, StatusIn
from jiliang.errors import InvalidInput
from jiliang.services import instruments

router = APIRouter(prefix="/api/v1/instruments", tags=["instruments 计量器具"], responses=ERRORS)


def _etag(response: Response, row_version: int) -> None:
    response.headers["ETag"] = f'"{row_version}"'


@router.get("", summary="计量器具列表 / List instruments")
def list_instruments(
    platform: PlatformDep,
    principal: PrincipalDep,
    filters: InstrumentFiltersDep,
    offset: Offset = 0,
    limit: Limit = 50,
) -> Page[InstrumentOut]:
    page = instruments.list_instruments(platform, principal, filters, offset, limit)
    return page_of(page, InstrumentOut)


@router.get("/{instrument_id}", summary="查看计量器具 / Get an instrument")
def get_instrument(
    instrument_id: int, platform: PlatformDep, principal: PrincipalDep, response: Response
) -> InstrumentOut:
    inst = instruments.get_instrument(platform, principal, instrument_id)
    _etag(response, inst.row_version)
    return InstrumentOut.model_validate(inst)


@router.post("", status_code=201, summary="备案计量器具 / File an instrument")
def file_instrument(
    body: InstrumentIn, platform: PlatformDep, principal: PrincipalDep, response: Response
) -> InstrumentOut:
    inst = instruments.file_instrument(platform, principal, body.model_dump(mode="json"))
    _etag(response, inst.row_version)
    response.headers["Location"] = f"{router.prefix}/{inst.id}"
    return InstrumentOut.model_validate(inst)


def _expected_version(if_match: str | None, body_version: int | None) -> int | None:
    """If-Match carries the ETag of a GET ("3", W/"3" or 3); the body's row_version is the alternative."""
    if if_match is None:
        return body_version
    tag = if_match.strip().removeprefix("W/").strip('"')
    if not tag.isdigit():
        raise InvalidInput(
            f"If-Match 须为读取时的 ETag / If-Match must be the ETag you read, got {if_match!r}",
            field="if-match",
        )
    if body_version is not None and body_version != int(tag):
        raise InvalidInput(
            "If-Match 与 row_version 不一致 / If-Match and row_version disagree", field="row_version"
        )
    return int(tag)


@router.patch("/{instrument_id}", summary="修改计量器具 / Update an instrument")
def update_instrument(
    instrument_id: int,
    body: InstrumentPatch,
    platform: PlatformDep,
    principal: PrincipalDep,
    response: Response,
    if_match: Annotated[
        str | None,
        Header(description="读取时的 ETag（乐观并发）/ the ETag you read, for optimistic concurrency"),
    ] = None,
) -> InstrumentOut:
    changes = body.model_dump(mode="json", exclude_unset=True)
    expected = _expected_version(if_match, changes.pop("row_version", None))
    inst = instruments.update_instrument(platform, principal, instrument_id, changes, expected)
    _etag(response, inst.row_version)
    return InstrumentOut.model_validate(inst)


@router.post("/{instrument_id}/status", summary="停用、恢复或报废 / Suspend, return to service or scrap")
def change_status(
    instrument_id: int, body: StatusIn, platform: PlatformDep, principal: PrincipalDep, response: Response
) -> InstrumentOut:
    inst = instruments.change_status(platform, principal, instrument_id, body.status.value, body.on)
    _etag(response, inst.row_version)
    return InstrumentOut.model_validate(inst)
