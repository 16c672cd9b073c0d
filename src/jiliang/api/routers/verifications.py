"""Verification records (检定记录): recorded once, corrected only by a superseding record."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from jiliang.api.deps import Limit, Offset, PlatformDep, PrincipalDep
from jiliang.api.schemas.common import ERRORS, Page, page_of
from jiliang.api.schemas.instruments import VerificationIn, VerificationOut
from jiliang.services import verifications

router = APIRouter(prefix="/api/v1/verifications", tags=["verifications 检定记录"], responses=ERRORS)


@router.get("", summary="检定记录列表 / List verification records")
def list_records(
    platform: PlatformDep,
    principal: PrincipalDep,
    instrument_id: Annotated[int | None, Query(description="器具 / instrument")] = None,
    institution_id: Annotated[int | None, Query(description="检定机构 / institution")] = None,
    include_superseded: Annotated[
        bool, Query(description="包括已被更正的记录 / include records a correction replaced")
    ] = False,
    offset: Offset = 0,
    limit: Limit = 50,
) -> Page[VerificationOut]:
    page = verifications.list_records(
        platform,
        principal,
        instrument_id=instrument_id,
        institution_id=institution_id,
        include_superseded=include_superseded,
        offset=offset,
        limit=limit,
    )
    return page_of(page, VerificationOut)


@router.get("/{record_id}", summary="查看检定记录 / Get a verification record")
def get_record(record_id: int, platform: PlatformDep, principal: PrincipalDep) -> VerificationOut:
    return VerificationOut.model_validate(verifications.get_record(platform, principal, record_id))


@router.post(
    "",
    status_code=201,
    summary="记录检定结果（带 supersedes_id 即为更正）/ Record a result (with supersedes_id: a correction)",
)
def record_verification(
    body: VerificationIn, platform: PlatformDep, principal: PrincipalDep
) -> VerificationOut:
    record = verifications.record_verification(platform, principal, body.model_dump(mode="json"))
    return VerificationOut.model_validate(record)
