"""The public lookup pages, no sign-in: a place by name or by its QR code (一站一码), an instrument by its
registry code, a certificate by its number (which opens the existing check page ``/v/<number>``).

Chinese first; one column on a phone; every status in a symbol and words, colour only repeating them.
The pages call ``services.public`` (values holding only public facts) and ``services.places`` for the QR.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from jiliang import __version__
from jiliang.api.deps import PlatformDep
from jiliang.domain.places import PLACE_KIND_LABELS, STATUS_LABELS, PlaceKind, PublicStatus
from jiliang.errors import InvalidInput, NotFound
from jiliang.services import places, public
from jiliang.web.common import SHANGHAI, templates

router = APIRouter(include_in_schema=False)
Lang = Annotated[str, Query(pattern="^(zh|en)$")]
Offset = Annotated[int, Query(ge=0, le=10_000)]

STRINGS: dict[str, dict[str, str]] = {
    "zh": {
        "title": "计量器具公开查询",
        "portal": "公开查询",
        "nav": "导航",
        "lookup": "查询",
        "switch": "English",
        "footer": "公开信息：器具名称、检定状态与日期；不含使用单位联系方式",
        "intro": "查询加油站、集贸市场、医院等场所在用的强制检定计量器具及其检定状态；也可按器具登记码或证书编号查询。",
        "place_name": "场所名称",
        "place_hint": "如：加油站、农贸市场",
        "place_help": "至少输入 2 个字；扫描场所张贴的二维码可直接打开该场所页面。",
        "search": "搜索",
        "find": "查询",
        "registry_code": "器具登记码",
        "registry_help": "器具标签上的登记码，形如 339901-00001234-5。",
        "certificate_no": "证书编号",
        "certificate_help": "检定证书或校准证书上的编号，打开证书核验页。",
        "results": "找到 {n} 个场所",
        "no_results": "没有找到名称包含该词的场所。",
        "instrument_count": "强检器具 {n} 台",
        "pages": "分页",
        "prev": "上一页",
        "next": "下一页",
        "page_of": "第 {first}–{last} 条，共 {total} 条",
        "kind": "场所类型",
        "region": "所在地区",
        "address": "地址",
        "operator": "经营单位",
        "place_code": "场所码",
        "as_of": "查询日期",
        "summary": "检定状态汇总",
        "compulsory_here": "本场所强制检定计量器具（{n} 台）",
        "item": "器具类别",
        "serial": "出厂编号",
        "model": "型号规格",
        "manufacturer": "制造单位",
        "accuracy": "准确度等级",
        "range": "测量范围",
        "owner": "使用单位",
        "place": "使用场所",
        "last_verified": "最近检定日期",
        "due": "下次检定日期",
        "until_failure": "首次检定后使用至失准",
        "certificates": "有效证书",
        "none": "无",
        "nothing_here": "本场所尚无登记的强制检定计量器具。",
        "print_qr": "打印本场所二维码",
        "status_rule": "检定状态按检定记录计算：有效期届满未再检定的为“超期未检”。",
        "qr_title": "场所二维码",
        "qr_intro": "扫码查看本场所强制检定计量器具的检定状态（一站一码）。",
        "download_svg": "下载二维码（SVG）",
        "not_found": "未找到",
        "back": "返回查询",
    },
    "en": {
        "title": "Public lookup of measuring instruments",
        "portal": "Public lookup",
        "nav": "Navigation",
        "lookup": "Lookup",
        "switch": "中文",
        "footer": "Public facts only: instrument names, verification status and dates; no owner contacts",
        "intro": "Look up the instruments under compulsory verification used at a fuel station, a market or a "
        "hospital, with their verification status; or an instrument by its registry code, or a certificate "
        "by its number.",
        "place_name": "Place name",
        "place_hint": "e.g. 加油站, 农贸市场",
        "place_help": "At least 2 characters; the QR code posted at a place opens its page directly.",
        "search": "Search",
        "find": "Look up",
        "registry_code": "Registry code",
        "registry_help": "The code on the instrument's label, like 339901-00001234-5.",
        "certificate_no": "Certificate number",
        "certificate_help": "The number on a verification or calibration certificate; opens its check page.",
        "results": "{n} place(s) found",
        "no_results": "No place has that in its name.",
        "instrument_count": "{n} instrument(s) under compulsory verification",
        "pages": "Pages",
        "prev": "Previous",
        "next": "Next",
        "page_of": "{first}–{last} of {total}",
        "kind": "Kind",
        "region": "Region",
        "address": "Address",
        "operator": "Operated by",
        "place_code": "Place code",
        "as_of": "As of",
        "summary": "Status summary",
        "compulsory_here": "Instruments under compulsory verification here ({n})",
        "item": "Category",
        "serial": "Serial number",
        "model": "Model",
        "manufacturer": "Manufacturer",
        "accuracy": "Accuracy class",
        "range": "Measuring range",
        "owner": "Owner",
        "place": "Place of use",
        "last_verified": "Last verified",
        "due": "Next verification due",
        "until_failure": "verified once, used until it fails",
        "certificates": "Valid certificates",
        "none": "none",
        "nothing_here": "No instrument under compulsory verification is registered at this place.",
        "print_qr": "Print this place's QR code",
        "status_rule": "Status follows the verification records: past its validity without a new verification "
        "is 'overdue'.",
        "qr_title": "QR code",
        "qr_intro": "Scan to see the verification status of the instruments under compulsory verification "
        "here (one place, one code).",
        "download_svg": "Download the QR code (SVG)",
        "not_found": "Not found",
        "back": "Back to lookup",
    },
}
STATUS_ORDER = list(PublicStatus)


def _context(lang: str, **extra: Any) -> dict[str, Any]:
    i = 1 if lang == "zh" else 2
    return {
        "t": STRINGS[lang],
        "lang": lang,
        "version": __version__,
        "kinds": {k: PLACE_KIND_LABELS[k][0 if lang == "zh" else 1] for k in PlaceKind},
        "labels": {s: (v[0], v[i]) for s, v in STATUS_LABELS.items()},
        **extra,
    }


def _pager(base: str, offset: int, limit: int, total: int) -> dict[str, Any]:
    return {
        "base": base,
        "prev": max(offset - limit, 0) if offset > 0 else None,
        "next": offset + limit if offset + limit < total else None,
        "first": offset + 1 if total else 0,
        "last": min(offset + limit, total),
        "total": total,
    }


def _not_found(request: Request, lang: str, message: str) -> HTMLResponse:
    return templates.TemplateResponse(
        request, "public/not_found.html", _context(lang, error=message), status_code=404
    )


@router.get("/public", response_class=HTMLResponse)
def home(request: Request, lang: Lang = "zh") -> HTMLResponse:
    return templates.TemplateResponse(request, "public/home.html", _context(lang, results=None))


@router.get("/public/places", response_class=HTMLResponse)
def search(
    request: Request,
    platform: PlatformDep,
    q: Annotated[str, Query(max_length=100)] = "",
    offset: Offset = 0,
    lang: Lang = "zh",
) -> HTMLResponse:
    context = _context(lang, q=q, results=None)
    try:
        found = public.search_places(platform, q, offset=offset, limit=20)
    except InvalidInput as exc:
        context["error"] = exc.message
        return templates.TemplateResponse(request, "public/home.html", context, status_code=422)
    base = f"/public/places?{urlencode({'q': q, 'lang': lang})}&"
    context.update(results=found, pager=_pager(base, offset, found.limit, found.total))
    return templates.TemplateResponse(request, "public/home.html", context)


@router.get("/public/places/{code}", response_class=HTMLResponse)
def place(
    request: Request, code: str, platform: PlatformDep, offset: Offset = 0, lang: Lang = "zh"
) -> HTMLResponse:
    try:
        found = public.place(platform, code, offset=offset)
    except NotFound as exc:
        return _not_found(request, lang, exc.message)
    page = found.instruments
    counts = [(s, found.counts[s]) for s in STATUS_ORDER if s in found.counts]
    today = platform.now().astimezone(SHANGHAI).date()
    context = _context(
        lang,
        place=found,
        counts=counts,
        today=today.isoformat(),
        pager=_pager(f"/public/places/{quote(found.code)}?lang={lang}&", offset, page.limit, page.total),
    )
    return templates.TemplateResponse(request, "public/place.html", context)


@router.get("/public/places/{code}/qr", response_class=HTMLResponse)
def place_qr(request: Request, code: str, platform: PlatformDep, lang: Lang = "zh") -> HTMLResponse:
    try:
        found = public.place(platform, code, limit=1)
    except NotFound as exc:
        return _not_found(request, lang, exc.message)
    context = _context(
        lang, place=found, qr=places.qr_svg(platform, found.code), url=places.public_url(platform, found.code)
    )
    return templates.TemplateResponse(request, "public/place_qr.html", context)


@router.get("/public/places/{code}/qr.svg")
def place_qr_svg(code: str, platform: PlatformDep) -> Response:
    found = public.place(platform, code, limit=1)  # NotFound → 404 through the API's error mapping
    svg = places.qr_svg(platform, found.code, scale=10).replace(
        "<svg ", '<svg xmlns="http://www.w3.org/2000/svg" ', 1
    )
    return Response(svg, media_type="image/svg+xml")


@router.get("/public/instruments", response_class=HTMLResponse)
def instrument_lookup(
    request: Request, code: Annotated[str, Query(max_length=40)] = "", lang: Lang = "zh"
) -> Response:
    text = code.strip().upper()
    if not text:
        return RedirectResponse(f"/public?lang={lang}", status_code=303)
    return RedirectResponse(f"/public/instruments/{quote(text)}?lang={lang}", status_code=303)


@router.get("/public/instruments/{code}", response_class=HTMLResponse)
def instrument(request: Request, code: str, platform: PlatformDep, lang: Lang = "zh") -> HTMLResponse:
    try:
        found = public.instrument(platform, code)
    except NotFound as exc:
        return _not_found(request, lang, exc.message)
    return templates.TemplateResponse(request, "public/instrument.html", _context(lang, i=found))


@router.get("/public/certificates")
def certificate_lookup(number: Annotated[str, Query(max_length=100)] = "", lang: Lang = "zh") -> Response:
    """The box for a certificate number (on /verify and /public): the check page of that number."""
    text = number.strip()
    if not text:
        return RedirectResponse(f"/verify?lang={lang}", status_code=303)
    return RedirectResponse(f"/v/{quote(text, safe='')}?lang={lang}", status_code=303)
