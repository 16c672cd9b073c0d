"""Public lookups as JSON, no sign-in: a place (一站一码) with its compulsory instruments, places by name,
an instrument by its registry code. The same service functions as the pages (``services.public``)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import Field

from jiliang.api.deps import PlatformDep
from jiliang.api.schemas.common import ERRORS, Out, Page
from jiliang.services import public

router = APIRouter(prefix="/api/v1/public", tags=["public 公开查询"], responses=ERRORS)


class PublicInstrumentOut(Out):
    registry_code: str = Field(description="器具登记码 / registry code")
    name: str
    item_code: str
    item_name_zh: str
    item_name_en: str
    model: str
    serial_number: str
    manufacturer: str
    accuracy_class: str
    measuring_range: str
    owner_name: str
    place_code: str | None
    place_name: str | None
    region_name: str
    status: str = Field(description="valid, due_soon, overdue, never_verified, failed, suspended, …")
    last_verified_on: date | None
    due_on: date | None
    valid_until: date | None
    until_failure: bool
    certificates: list[str]


class PlaceSummaryOut(Out):
    code: str
    name: str
    kind: str
    region_name: str
    address: str
    instruments: int


class PublicPlaceOut(Out):
    code: str
    name: str
    kind: str
    region_name: str
    address: str
    operator_name: str
    counts: dict[str, int]
    instruments: Page[PublicInstrumentOut]


@router.get("/places", summary="按名称查找场所 / Find places by name")
def search_places(
    platform: PlatformDep,
    q: Annotated[str, Query(min_length=2, max_length=100, description="名称包含 / name contains")],
    offset: Annotated[int, Query(ge=0, le=10_000, description="跳过的条数 / rows to skip")] = 0,
    limit: Annotated[int, Query(ge=1, le=public.MAX_PUBLIC_PAGE, description="每页条数 / page size")] = 20,
) -> Page[PlaceSummaryOut]:
    found = public.search_places(platform, q, offset=offset, limit=limit)
    return Page[PlaceSummaryOut](
        items=[PlaceSummaryOut.model_validate(p) for p in found.items],
        total=found.total,
        offset=found.offset,
        limit=found.limit,
    )


@router.get("/places/{code}", summary="场所及其强检器具（一站一码）/ A place and its compulsory instruments")
def place(
    code: str,
    platform: PlatformDep,
    offset: Annotated[int, Query(ge=0, le=100_000, description="跳过的条数 / rows to skip")] = 0,
    limit: Annotated[
        int, Query(ge=1, le=public.MAX_PUBLIC_PAGE, description="每页条数 / page size")
    ] = public.MAX_PUBLIC_PAGE,
) -> PublicPlaceOut:
    p = public.place(platform, code, offset=offset, limit=limit)
    return PublicPlaceOut(
        code=p.code,
        name=p.name,
        kind=p.kind.value,
        region_name=p.region_name,
        address=p.address,
        operator_name=p.operator_name,
        counts={k.value: v for k, v in p.counts.items()},
        instruments=Page[PublicInstrumentOut](
            items=[PublicInstrumentOut.model_validate(i) for i in p.instruments.items],
            total=p.instruments.total,
            offset=p.instruments.offset,
            limit=p.instruments.limit,
        ),
    )


@router.get("/instruments/{code}", summary="按登记码查器具 / An instrument by its registry code")
def instrument(code: str, platform: PlatformDep) -> PublicInstrumentOut:
    return PublicInstrumentOut.model_validate(public.instrument(platform, code))
