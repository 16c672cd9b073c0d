"""The supervisor's JSON: search and lists, the 督办 list and its export, follow-ups, object history.

Thin over ``services.supervision``; the console's pages (``web/supervision.py``) call the same functions.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Depends, Path, Query
from pydantic import Field

from jiliang.api.deps import Limit, Offset, PlatformDep, PrincipalDep
from jiliang.api.downloads import SpooledDownload
from jiliang.api.routers.transfer import Fmt, HeaderLang, spooled_download
from jiliang.api.schemas.common import ERRORS, In, Page
from jiliang.services.common import Page as ServicePage
from jiliang.services.supervision import dashboard, followup, history, search
from jiliang.services.transfer import export as transfer_export

T = TypeVar("T")

router = APIRouter(prefix="/api/v1/supervision", tags=["supervision 监管"], responses=ERRORS)

Sort = Annotated[str | None, Query(description="排序字段，前加 - 为降序 / sort key, '-' for descending")]
Region = Annotated[str | None, Query(description="区划（含下级）/ region with its subtree")]
Kind = Annotated[str | None, Query(description="类别 / kind")]
Q = Annotated[
    str | None,
    Query(
        description="名称、出厂编号、使用单位名称或统一社会信用代码、证书编号 / name, serial, owner, number"
    ),
]


def _page(page: ServicePage[T]) -> Page[T]:
    return Page(items=list(page.items), total=page.total, offset=page.offset, limit=page.limit)


def instrument_filters(
    q: Q = None,
    serial_number: Annotated[str | None, Query(description="出厂编号 / serial number")] = None,
    owner: Annotated[str | None, Query(description="使用单位名称包含 / owner name contains")] = None,
    credit_code: Annotated[
        str | None, Query(description="使用单位统一社会信用代码 / owner's credit code")
    ] = None,
    certificate_no: Annotated[str | None, Query(description="证书编号 / certificate number")] = None,
    region_code: Annotated[str | None, Query(description="区划（含下级）/ region with its subtree")] = None,
    item_code: Annotated[str | None, Query(description="目录项代码 / catalogue item")] = None,
    status: Annotated[str | None, Query(description="状态 / status")] = None,
    use: Annotated[str | None, Query(description="用途 / use")] = None,
    state: Annotated[
        Literal["overdue", "due", "covered"] | None,
        Query(description="超期未检 / 即将到期 / 有效 — overdue, due soon, covered"),
    ] = None,
    on: Annotated[date | None, Query(description="统计日期（默认今天）/ as of this date")] = None,
    within_days: Annotated[int | None, Query(ge=0, le=366, description="即将到期的天数 / days ahead")] = None,
) -> dict[str, Any]:
    return {
        "q": q,
        "serial_number": serial_number,
        "owner": owner,
        "credit_code": credit_code,
        "certificate_no": certificate_no,
        "region_code": region_code,
        "item_code": item_code,
        "status": status,
        "use": use,
        "state": state,
        "on": on,
        "within_days": within_days,
    }


Filters = Annotated[dict[str, Any], Depends(instrument_filters)]


@router.get("/instruments", summary="搜索计量器具 / Search instruments")
def instruments(
    platform: PlatformDep,
    principal: PrincipalDep,
    filters: Filters,
    sort: Sort = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> Page[search.InstrumentRow]:
    return _page(
        search.search_instruments(platform, principal, filters, sort=sort, offset=offset, limit=limit)
    )


@router.get("/instruments/export", summary="导出督办清单 / Export the follow-up (督办) list")
def export_instruments(
    platform: PlatformDep,
    principal: PrincipalDep,
    filters: Filters,
    sort: Sort = None,
    format: Fmt = "xlsx",
    headers: HeaderLang = "zh",
) -> SpooledDownload:
    return spooled_download(
        platform,
        principal,
        lambda sink: transfer_export.export_follow_up_list(
            platform, principal, filters, sink, fmt=format, headers=headers, sort=sort
        ),
        format,
        "follow-up-list",
    )


@router.get("/organisations", summary="搜索单位 / Search organisations")
def organisations(
    platform: PlatformDep,
    principal: PrincipalDep,
    q: Q = None,
    region_code: Region = None,
    kind: Kind = None,
    sort: Sort = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> Page[search.OrganisationRow]:
    f = {"q": q, "region_code": region_code, "kind": kind}
    return _page(search.search_organisations(platform, principal, f, sort=sort, offset=offset, limit=limit))


@router.get("/standards", summary="搜索计量标准 / Search measurement standards")
def standards(
    platform: PlatformDep,
    principal: PrincipalDep,
    q: Q = None,
    region_code: Region = None,
    kind: Kind = None,
    expiring_within: Annotated[
        int | None, Query(ge=0, le=3650, description="考核证书在此天数内到期 / certificate ends within days")
    ] = None,
    sort: Sort = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> Page[search.StandardRow]:
    f = {"q": q, "region_code": region_code, "kind": kind, "expiring_within": expiring_within}
    return _page(search.search_standards(platform, principal, f, sort=sort, offset=offset, limit=limit))


@router.get("/records", summary="搜索检定记录 / Search verification records")
def records(
    platform: PlatformDep,
    principal: PrincipalDep,
    q: Q = None,
    region_code: Region = None,
    conclusion: Annotated[Literal["pass", "fail"] | None, Query(description="检定结论 / conclusion")] = None,
    verified_from: Annotated[date | None, Query(description="检定日期起 / verified from")] = None,
    verified_to: Annotated[date | None, Query(description="检定日期止 / verified to")] = None,
    sort: Sort = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> Page[search.RecordRow]:
    f = {
        "q": q,
        "region_code": region_code,
        "conclusion": conclusion,
        "verified_from": verified_from,
        "verified_to": verified_to,
    }
    return _page(search.search_records(platform, principal, f, sort=sort, offset=offset, limit=limit))


@router.get("/certificates", summary="搜索证书 / Search certificates")
def certificates(
    platform: PlatformDep,
    principal: PrincipalDep,
    q: Q = None,
    status: Annotated[
        Literal["valid", "withdrawn", "superseded"] | None, Query(description="证书状态 / status")
    ] = None,
    region_code: Region = None,
    sort: Sort = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> Page[search.CertificateRow]:
    f = {"q": q, "status": status, "region_code": region_code}
    return _page(search.search_certificates(platform, principal, f, sort=sort, offset=offset, limit=limit))


@router.get("/history/{kind}/{object_id}", summary="对象的变更历史 / An object's history")
def object_history(
    kind: Annotated[
        Literal["instrument", "organisation", "standard", "record", "certificate"],
        Path(description="对象类别 / kind of object"),
    ],
    object_id: Annotated[int, Path(description="对象编号 / the object's id")],
    platform: PlatformDep,
    principal: PrincipalDep,
    lang: Annotated[Literal["zh", "en"], Query(description="语言 / language")] = "zh",
    offset: Offset = 0,
    limit: Limit = 50,
) -> Page[history.HistoryEntry]:
    page = history.object_history(platform, principal, kind, object_id, lang=lang, offset=offset, limit=limit)
    return _page(page)


class FollowUpIn(In):
    instrument_ids: list[int] = Field(min_length=1, max_length=followup.MAX_MARK)
    note: str = Field(default="", max_length=500)
    remind: bool = True


@router.post("/follow-ups", status_code=201, summary="督办超期器具 / Mark overdue instruments for follow-up")
def mark(body: FollowUpIn, platform: PlatformDep, principal: PrincipalDep) -> followup.MarkResult:
    return followup.mark(platform, principal, body.instrument_ids, note=body.note, remind=body.remind)


@router.get("/follow-ups", summary="督办清单 / Follow-ups")
def follow_ups(
    platform: PlatformDep,
    principal: PrincipalDep,
    state: Annotated[
        Literal["open", "verified", "closed", "all"],
        Query(description="未办结 / 已检定 / 手工办结 / 全部 — open, verified, closed by hand, all"),
    ] = "all",
    offset: Offset = 0,
    limit: Limit = 50,
) -> Page[followup.FollowUpRow]:
    return _page(followup.list_follow_ups(platform, principal, state=state, offset=offset, limit=limit))


class ReasonIn(In):
    reason: str = Field(min_length=1, max_length=500, description="原因 / why")


@router.post("/follow-ups/{follow_up_id}/close", summary="手工办结督办 / Close a follow-up by hand, with a reason")
def close_follow_up(
    follow_up_id: int, body: ReasonIn, platform: PlatformDep, principal: PrincipalDep
) -> followup.FollowUpRow:
    followup.close(platform, principal, follow_up_id, body.reason)
    return followup.get(platform, principal, follow_up_id)


@router.post("/follow-ups/{follow_up_id}/reopen", summary="重新督办 / Reopen a follow-up closed by hand")
def reopen_follow_up(
    follow_up_id: int, body: ReasonIn, platform: PlatformDep, principal: PrincipalDep
) -> followup.FollowUpRow:
    followup.reopen(platform, principal, follow_up_id, body.reason)
    return followup.get(platform, principal, follow_up_id)


@router.get("/dashboard", summary="监管首页指标 / The supervisor's dashboard")
def board(
    platform: PlatformDep,
    principal: PrincipalDep,
    region: Region = None,
    on: Annotated[date | None, Query(description="统计日期（默认今天）/ as of this date")] = None,
) -> dict[str, Any]:
    d = dashboard.dashboard(platform, principal, region=region, on=on)

    def node(n: dashboard.RegionNode) -> dict[str, Any]:
        return {
            "code": n.code,
            "name": n.name,
            "level": n.level,
            "coverage": None if n.coverage is None else n.coverage.rate,
            "in_service": None if n.coverage is None else n.coverage.denominator,
            "overdue": n.overdue,
            "standard_coverage": None if n.standard_coverage is None else n.standard_coverage.rate,
            "children": [node(c) for c in n.children],
        }

    return {
        "on": d.on,
        "region_code": d.region_code,
        "region_name": d.region_name,
        "coverage": None if d.coverage is None else d.coverage.rate,
        "coverage_target": None if d.coverage is None else d.coverage.target,
        "standard_coverage": None if d.standard_coverage is None else d.standard_coverage.rate,
        "overdue": d.overdue,
        "due_soon": d.due_soon,
        "due_within_days": d.due_within_days,
        "expiring_standards": d.expiring_standards,
        "follow_ups_open": d.follow_ups_open,
        "follow_ups_verified": d.follow_ups_verified,
        "tree": node(d.tree),
    }
