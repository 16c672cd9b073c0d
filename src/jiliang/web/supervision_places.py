"""The supervisor's places (一站一码): fuel stations, markets, hospitals of the jurisdiction by region,
each with its compulsory instruments and their verification status, and the place's printable QR code
(the public path ``/public/places/<code>/qr``, the one the code on site opens).

Same contract as ``web.supervision``: every call takes the signed-in principal, a place outside the
jurisdiction is a 404 page, lists are paged, the list and detail templates are the supervisor's own.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from jiliang.api.deps import PlatformDep
from jiliang.domain.places import (
    PLACE_KIND_LABELS,
    STATUS_LABELS,
    PlaceKind,
    PublicStatus,
    parse_registry_code,
)
from jiliang.services import places
from jiliang.web.auth import ConsoleUser, Lang
from jiliang.web.supervision import (
    PAGE_SIZE,
    Cell,
    Table,
    _choice,
    _date,
    _detail,
    _href,
    _list_response,
    _search_fields,
    _t,
)
from jiliang.web.supervision import router as supervision_router

router = APIRouter(prefix="/console/supervision/places", include_in_schema=False)
BASE = router.prefix
INSTRUMENTS_PAGE = 50

STRINGS = {
    "zh": {
        "places": "使用场所（一站一码）",
        "q_places": "场所名称",
        "place_kind": "场所类别",
        "code": "场所码",
        "operator": "经营单位",
        "compulsory_here": "强检器具",
        "by_status": "检定状态",
        "qr": "打印场所二维码",
        "public_page": "公众查询页",
        "instruments_here": "本场所的强检器具",
        "none_here": "本场所没有登记强检器具。",
        "more": "下一页器具",
        "none": "没有符合条件的场所。",
    },
    "en": {
        "places": "Places of use (one place, one code)",
        "q_places": "Place name",
        "place_kind": "Kind of place",
        "code": "Place code",
        "operator": "Operator",
        "compulsory_here": "Compulsory instruments",
        "by_status": "Verification status",
        "qr": "Print the place's QR code",
        "public_page": "Public page",
        "instruments_here": "Compulsory instruments at this place",
        "none_here": "No compulsory instrument is registered at this place.",
        "more": "Next page of instruments",
        "none": "No place matches.",
    },
}


def _s(lang: str) -> dict[str, str]:
    return {**_t(lang), **STRINGS[lang]}


def _kind(value: str, lang: str) -> str:
    try:
        zh, en = PLACE_KIND_LABELS[PlaceKind(value)]
    except ValueError:
        return value
    return zh if lang == "zh" else en


def _status(status: PublicStatus, lang: str) -> str:
    symbol, zh, en = STATUS_LABELS[status]
    return f"{symbol} {zh if lang == 'zh' else en}"  # the symbol and the words carry it, not a colour


@router.get("", response_class=HTMLResponse)
def places_page(
    request: Request,
    platform: PlatformDep,
    user: ConsoleUser,
    lang: Lang,
    q: str = "",
    region_code: str = "",
    kind: str = "",
    offset: Annotated[int, Query(ge=0)] = 0,
) -> HTMLResponse:
    t = _s(lang)
    page = places.supervised_places(
        platform, user, region_code=region_code, q=q, kind=kind, offset=offset, limit=PAGE_SIZE
    )
    fields = [
        *_search_fields(t, platform, user, q, region_code, "q_places"),
        _choice("kind", t["place_kind"], kind, [(k.value, _kind(k.value, lang)) for k in PlaceKind], any_of=t["all"]),
    ]
    rows = [
        [
            Cell(p.name, _href(f"{BASE}/{quote(p.code)}", lang=lang)),
            Cell(p.code),
            Cell(_kind(p.kind, lang)),
            Cell(p.region_name),
            Cell(p.address),
            Cell(p.operator_name),
            Cell(f"{p.instruments:,}", cls="num"),
            Cell(t["qr"], _href(f"/public/places/{quote(p.code)}/qr", lang=lang)),
        ]
        for p in page.items
    ]
    columns = [
        t["name"], t["code"], t["place_kind"], t["region"], t["address"], t["operator"], t["compulsory_here"], t["qr"],
    ]  # fmt: skip
    return _list_response(request, user, lang, t["places"], fields, columns, rows, page)


@router.get("/{code}", response_class=HTMLResponse)
def place_page(
    code: str,
    request: Request,
    platform: PlatformDep,
    user: ConsoleUser,
    lang: Lang,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> HTMLResponse:
    t = _s(lang)
    place, shown = places.supervised_place(platform, user, code, offset=offset, limit=INSTRUMENTS_PAGE)
    counts = "；".join(
        f"{_status(s, lang)} {shown.counts[s]}" for s in PublicStatus if shown.counts.get(s)
    )
    facts = [
        (t["code"], Cell(place.code)),
        (t["place_kind"], Cell(_kind(place.kind, lang))),
        (t["region"], Cell(shown.region_name)),
        (t["address"], Cell(place.address or "—")),
        (t["operator"], Cell(shown.operator_name or "—")),
        (t["compulsory_here"], Cell(f"{shown.instruments.total:,}")),
        (t["by_status"], Cell(counts or "—")),
        (t["qr"], Cell(t["qr"], _href(f"/public/places/{quote(place.code)}/qr", lang=lang))),
        (t["public_page"], Cell(t["public_page"], _href(f"/public/places/{quote(place.code)}", lang=lang))),
    ]
    page = shown.instruments
    rows = [
        [
            Cell(i.name, f"{supervision_router.prefix}/instruments/{_instrument_id(i.registry_code)}"),
            Cell(i.serial_number),
            Cell(i.item_name_zh if lang == "zh" else i.item_name_en),
            Cell(_status(i.status, lang)),
            Cell(_date(i.last_verified_on) or "—"),
            Cell(_date(i.due_on) or "—"),
        ]
        for i in page.items
    ]
    more = None
    if page.offset + page.limit < page.total:
        more = Cell(t["more"], _href(f"{BASE}/{quote(place.code)}", lang=lang, offset=page.offset + page.limit))
    table = Table(
        heading=t["instruments_here"],
        columns=[t["name"], t["serial"], t["item"], t["status"], t["last_verified"], t["due_on"]],
        rows=rows,
        empty=t["none_here"],
        more=more,
    )
    return _detail(request, user, lang, place.name, facts, [table])


def _instrument_id(registry_code: str) -> int:
    return parse_registry_code(registry_code)[1]  # the registry number is the instrument's id
