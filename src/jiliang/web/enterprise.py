"""The enterprise's console (使用单位): its instruments, filing one (备案) or many (批量上传, with the
row-by-row report), what falls due next month, its certificates, its places (一站一码) and its bookings
of a verification (预约).

Every page calls the services with the signed-in Principal, so an enterprise reaches only its own
instruments (``scope.instruments``): another enterprise's instrument id in a URL is answered as not found.
Forms are validated by the same domain functions as the API (``domain.filing`` through
``services.instruments.file_instrument``; the bulk upload through ``services.transfer``).
"""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from jiliang.api.deps import PlatformDep
from jiliang.domain.access import Principal, Role
from jiliang.domain.catalogue import Use
from jiliang.domain.instruments import InstrumentStatus
from jiliang.domain.places import PLACE_KIND_LABELS, STATUS_LABELS, PlaceKind, public_status, registry_code
from jiliang.errors import ImportRefused, InvalidInput, JiliangError, NotAuthorised
from jiliang.services import bookings, certificates, enterprise, instruments, organisations, places, transfer
from jiliang.services import catalogue as catalogue_service
from jiliang.services.platform import Platform
from jiliang.services.transfer.columns import INSTRUMENT_COLUMNS, USE_LABELS, header_row
from jiliang.web.auth import ConsoleUser, CsrfForm, Lang, console_context
from jiliang.web.common import refused, templates

router = APIRouter(prefix="/console/enterprise", include_in_schema=False)
PAGE = 50

STRINGS: dict[str, dict[str, str]] = {
    "zh": {
        "home": "单位首页",
        "instruments": "我的计量器具",
        "new": "计量器具备案",
        "upload": "批量上传备案",
        "due": "下月到期检定",
        "certificates": "我的证书",
        "bookings": "预约检定",
        "places": "使用场所（一站一码）",
        "in_service": "在用器具",
        "compulsory": "其中强制检定",
        "overdue": "超期未检",
        "due_next": "下月到期",
        "open_bookings": "进行中的预约",
        "name": "器具名称",
        "item": "目录项（器具类别）",
        "model": "型号规格",
        "serial": "出厂编号",
        "manufacturer": "制造单位",
        "region": "所在区划",
        "use": "用途",
        "filed_on": "备案日期",
        "range": "测量范围",
        "accuracy": "准确度等级",
        "pattern": "型式批准编号",
        "size": "规格参数（水表 DN、燃气表 G、电能表等级）",
        "location": "安装地点",
        "first_used": "启用日期",
        "place": "使用场所",
        "no_place": "（不指定）",
        "status": "状态",
        "verification": "检定状态",
        "last_verified": "最近检定",
        "due_on": "下次检定日期",
        "registry_code": "器具登记码",
        "submit_file": "提交备案",
        "filed": "已备案：{name}（登记码 {code}）",
        "required": "必填",
        "choose": "请选择",
        "search": "按名称查找",
        "find": "查找",
        "none": "无",
        "until_failure": "使用至失准",
        "total": "共 {n} 台",
        "prev": "上一页",
        "next": "下一页",
        "error": "未能保存",
        "upload_intro": "上传 CSV 或 XLSX 文件，每行一台器具。任何一行有错，整个文件都不会写入，并逐行列出问题；改正后重新上传。",
        "template": "下载表头模板（CSV）",
        "file": "文件（CSV 或 XLSX）",
        "send": "上传",
        "refused": "文件被拒绝，未写入任何数据",
        "row": "行",
        "field": "字段",
        "reason": "原因",
        "value": "原值",
        "accepted": "已备案 {n} 台器具（读取 {rows} 行）。",
        "due_intro": "{start} 至 {end} 到期的在用强检器具：请在到期前预约检定。",
        "book": "预约",
        "number": "证书编号",
        "issuer": "出具机构",
        "issued": "出具时间",
        "cert_status": "证书状态",
        "valid": "有效",
        "withdrawn": "已撤销",
        "superseded": "已被替代",
        "item_summary": "器具",
        "institution": "检定机构",
        "preferred_on": "希望检定日期",
        "note": "备注",
        "reply": "机构答复",
        "request": "提交预约",
        "cancel": "取消预约",
        "no_institution": "目前没有机构获得此类器具在本地的检定授权，请联系当地市场监管部门。",
        "booked": "预约已提交，检定机构将在其工作台看到并答复。",
        "choose_instrument": "要预约的器具",
        "next_step": "下一步",
        "place_name": "场所名称",
        "kind": "场所类型",
        "address": "地址",
        "add_place": "登记场所",
        "qr": "二维码",
        "public_page": "公开页面",
        "set_place": "设为此场所",
        "place_saved": "已更新使用场所。",
        "detail": "器具详情",
        "filed_detail": "备案信息",
        "nothing": "暂无。",
    },
    "en": {
        "home": "My organisation",
        "instruments": "My instruments",
        "new": "File an instrument",
        "upload": "Bulk filing",
        "due": "Due next month",
        "certificates": "My certificates",
        "bookings": "Book a verification",
        "places": "Places of use (one place, one code)",
        "in_service": "In service",
        "compulsory": "under compulsory verification",
        "overdue": "Overdue",
        "due_next": "Due next month",
        "open_bookings": "Open bookings",
        "name": "Instrument name",
        "item": "Catalogue item",
        "model": "Model",
        "serial": "Serial number",
        "manufacturer": "Manufacturer",
        "region": "Region",
        "use": "Use",
        "filed_on": "Filed on",
        "range": "Measuring range",
        "accuracy": "Accuracy class",
        "pattern": "Pattern approval number",
        "size": "Nominal size (water DN, gas G, meter class)",
        "location": "Location",
        "first_used": "First used on",
        "place": "Place of use",
        "no_place": "(none)",
        "status": "Status",
        "verification": "Verification",
        "last_verified": "Last verified",
        "due_on": "Next verification due",
        "registry_code": "Registry code",
        "submit_file": "File it",
        "filed": "Filed: {name} (registry code {code})",
        "required": "required",
        "choose": "Choose",
        "search": "Find by name",
        "find": "Find",
        "none": "none",
        "until_failure": "until it fails",
        "total": "{n} in all",
        "prev": "Previous",
        "next": "Next",
        "error": "Not saved",
        "upload_intro": "Upload a CSV or XLSX file, one instrument per row. If any row is wrong, nothing of the "
        "file is stored and every problem is listed by row; correct them and upload again.",
        "template": "Download the header template (CSV)",
        "file": "File (CSV or XLSX)",
        "send": "Upload",
        "refused": "File refused; nothing was stored",
        "row": "Row",
        "field": "Field",
        "reason": "Reason",
        "value": "Value",
        "accepted": "Filed {n} instruments ({rows} rows read).",
        "due_intro": "In-service instruments under compulsory verification due from {start} to {end}: book "
        "their verification before then.",
        "book": "Book",
        "number": "Certificate number",
        "issuer": "Issued by",
        "issued": "Issued",
        "cert_status": "Status",
        "valid": "valid",
        "withdrawn": "withdrawn",
        "superseded": "superseded",
        "item_summary": "Instrument",
        "institution": "Institution",
        "preferred_on": "Preferred day",
        "note": "Note",
        "reply": "Reply",
        "request": "Send the booking",
        "cancel": "Cancel",
        "no_institution": "No institution is authorised for this kind of instrument here yet; ask the local "
        "market regulator.",
        "booked": "Booking sent; the institution sees it on its console and answers.",
        "choose_instrument": "Instrument to book",
        "next_step": "Next",
        "place_name": "Place name",
        "kind": "Kind",
        "address": "Address",
        "add_place": "Register the place",
        "qr": "QR code",
        "public_page": "Public page",
        "set_place": "Set as its place",
        "place_saved": "Place of use updated.",
        "detail": "Instrument",
        "filed_detail": "As filed",
        "nothing": "Nothing yet.",
    },
}
USE_EN = {
    Use.TRADE_SETTLEMENT: "trade settlement",
    Use.SAFETY_PROTECTION: "safety protection",
    Use.MEDICAL: "medical care",
    Use.ENVIRONMENTAL_MONITORING: "environmental monitoring",
    Use.OTHER: "other (not compulsory)",
}
STATUS_NAMES = {
    InstrumentStatus.IN_SERVICE.value: ("在用", "in service"),
    InstrumentStatus.SUSPENDED.value: ("停用", "suspended"),
    InstrumentStatus.SCRAPPED.value: ("报废", "scrapped"),
}
TONE = {"valid": "ok", "due_soon": "warn", "overdue": "bad", "never_verified": "bad", "failed": "bad"}
FORM_FIELDS = (
    "name",
    "item_code",
    "model",
    "serial_number",
    "manufacturer",
    "region_code",
    "use",
    "filed_on",
    "measuring_range",
    "accuracy_class",
    "pattern_approval_no",
    "nominal_size",
    "location",
    "first_used_on",
)


def _context(
    request: Request, principal: Principal, lang: str, title_key: str, **extra: Any
) -> dict[str, Any]:
    if principal.role is not Role.ENTERPRISE:
        raise NotAuthorised("仅使用单位账户可用 / enterprise accounts only", field="role")
    context = console_context(request, principal, lang)
    context["t"].update(STRINGS[lang])
    i = 0 if lang == "zh" else 1
    context.update(
        title=STRINGS[lang][title_key],
        uses=[(u.value, USE_LABELS[u] if lang == "zh" else USE_EN[u]) for u in Use],
        status_names={k: v[i] for k, v in STATUS_NAMES.items()},
        kinds=[(k.value, PLACE_KIND_LABELS[k][i]) for k in PlaceKind],
        kind_names={k.value: PLACE_KIND_LABELS[k][i] for k in PlaceKind},
        labels={s.value: (v[0], v[1 + i]) for s, v in STATUS_LABELS.items()},
        tone=TONE,
        **extra,
    )
    return context


def _items(platform: Platform, lang: str) -> dict[str, str]:
    items = catalogue_service.catalogue(platform)
    return {
        code: f"{code} {it.level2_zh if lang == 'zh' else (it.level2_en or it.level2_zh)}"
        for code, it in sorted(items.items())
    }


def _row(platform: Platform, inst: Any, items: dict[str, str]) -> dict[str, Any]:
    """An instrument as the pages show it: names and words, the ids only for links."""
    state = public_status(
        status=inst.status,
        compulsory=inst.compulsory,
        last_conclusion=inst.last_conclusion,
        valid_until=inst.valid_until,
        due_on=inst.due_on,
        today=platform.local_today(),
        grace_days=platform.settings.coverage.grace_days,
    )
    return {
        "id": inst.id,
        "name": inst.name,
        "item": items.get(inst.item_code, inst.item_code),
        "serial": inst.serial_number,
        "model": inst.model,
        "status": inst.status,
        "verification": state.value,
        "last_verified_on": inst.last_verified_on,
        "due_on": inst.due_on,
        "until_failure": inst.valid_until is not None and inst.valid_until.year == 9999,
        "registry_code": registry_code(inst.region_code, inst.id),
    }


def _pager(offset: int, total: int, base: str) -> dict[str, Any]:
    return {
        "prev": f"{base}offset={max(offset - PAGE, 0)}" if offset > 0 else None,
        "next": f"{base}offset={offset + PAGE}" if offset + PAGE < total else None,
        "total": total,
    }


# -- home, lists ----------------------------------------------------------------------------------


@router.get("", response_class=HTMLResponse)
def home(request: Request, platform: PlatformDep, principal: ConsoleUser, lang: Lang) -> HTMLResponse:
    context = _context(request, principal, lang, "home")
    context["overview"] = enterprise.overview(platform, principal)
    return templates.TemplateResponse(request, "enterprise/home.html", context)


@router.get("/instruments", response_class=HTMLResponse)
def my_instruments(
    request: Request,
    platform: PlatformDep,
    principal: ConsoleUser,
    lang: Lang,
    q: Annotated[str, Query(max_length=100)] = "",
    offset: Annotated[int, Query(ge=0)] = 0,
    overdue: Annotated[bool, Query()] = False,
) -> HTMLResponse:
    context = _context(request, principal, lang, "instruments", q=q, overdue=overdue)
    filters: dict[str, Any] = {"q": q or None}
    if overdue:  # the overdue indicator's rule, as the home page's card counts it
        filters["overdue_on"] = platform.local_today()
    page = instruments.list_instruments(platform, principal, filters, offset, PAGE)
    items = _items(platform, lang)
    context.update(
        rows=[_row(platform, i, items) for i in page.items],
        pager=_pager(
            offset, page.total, f"/console/enterprise/instruments?{urlencode({'q': q, 'overdue': overdue})}&"
        ),
    )
    return templates.TemplateResponse(request, "enterprise/instruments.html", context)


@router.get("/instruments/{instrument_id:int}", response_class=HTMLResponse)
def instrument_detail(
    request: Request, instrument_id: int, platform: PlatformDep, principal: ConsoleUser, lang: Lang
) -> HTMLResponse:
    context = _context(request, principal, lang, "detail")
    inst = instruments.get_instrument(platform, principal, instrument_id)  # NotFound outside one's own
    items = _items(platform, lang)
    here = places.place_of(platform, principal, instrument_id)
    context.update(
        row=_row(platform, inst, items),
        inst=inst,
        use_name=dict(context["uses"]).get(inst.use, inst.use),
        place=here,
        my_places=places.list_places(platform, principal, limit=200).items,
        saved=request.query_params.get("saved") == "1",
    )
    return templates.TemplateResponse(request, "enterprise/instrument.html", context)


@router.post("/instruments/{instrument_id:int}/place", dependencies=[CsrfForm])
def set_place(
    instrument_id: int,
    platform: PlatformDep,
    principal: ConsoleUser,
    lang: Lang,
    place_code: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    places.place_instruments(platform, principal, [instrument_id], place_code or None)
    return RedirectResponse(
        f"/console/enterprise/instruments/{instrument_id}?saved=1&lang={lang}", status_code=303
    )


@router.get("/due", response_class=HTMLResponse)
def due_next_month(
    request: Request,
    platform: PlatformDep,
    principal: ConsoleUser,
    lang: Lang,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> HTMLResponse:
    start, end = enterprise.next_month(platform.local_today())
    context = _context(
        request, principal, lang, "due", start=start, last=date.fromordinal(end.toordinal() - 1)
    )
    page = enterprise.due_between(platform, principal, start, end, offset, PAGE)
    items = _items(platform, lang)
    context.update(
        rows=[_row(platform, i, items) for i in page.items],
        pager=_pager(offset, page.total, "/console/enterprise/due?"),
    )
    return templates.TemplateResponse(request, "enterprise/due.html", context)


@router.get("/certificates", response_class=HTMLResponse)
def my_certificates(
    request: Request, platform: PlatformDep, principal: ConsoleUser, lang: Lang
) -> HTMLResponse:
    context = _context(request, principal, lang, "certificates")
    context["certs"] = certificates.list_for(platform, principal, limit=200)
    return templates.TemplateResponse(request, "enterprise/certificates.html", context)


# -- filing one, filing many ----------------------------------------------------------------------


def _form_context(
    request: Request, platform: Platform, principal: Principal, lang: str, **extra: Any
) -> dict[str, Any]:
    regions = organisations.list_regions(platform, principal, principal.jurisdiction)
    return _context(
        request,
        principal,
        lang,
        "new",
        items=_items(platform, lang),
        regions=[(r.code, r.name_zh if lang == "zh" else (r.name_en or r.name_zh)) for r in regions],
        my_places=places.list_places(platform, principal, limit=200).items,
        today=platform.local_today().isoformat(),
        **extra,
    )


@router.get("/instruments/new", response_class=HTMLResponse)
def new_instrument(
    request: Request, platform: PlatformDep, principal: ConsoleUser, lang: Lang
) -> HTMLResponse:
    context = _form_context(request, platform, principal, lang, values={}, filed=None)
    return templates.TemplateResponse(request, "enterprise/new.html", context)


@router.post("/instruments/new", response_class=HTMLResponse, dependencies=[CsrfForm])
async def file_instrument(
    request: Request, platform: PlatformDep, principal: ConsoleUser, lang: Lang
) -> HTMLResponse:
    form = await request.form()
    values = {k: str(form.get(k) or "").strip() for k in (*FORM_FIELDS, "place_code")}

    def work() -> HTMLResponse:
        raw: dict[str, Any] = {k: (values[k] or None) for k in FORM_FIELDS}
        context = _form_context(request, platform, principal, lang, values=values, filed=None)
        try:
            place = values["place_code"]
            if place:
                places.get_place(platform, principal, place)  # refused before anything is filed
            inst = instruments.file_instrument(platform, principal, raw)
            if place:
                places.place_instruments(platform, principal, [inst.id], place)
        except JiliangError as exc:
            return refused(request, "enterprise/new.html", context, exc)
        context.update(
            filed={"id": inst.id, "name": inst.name, "code": registry_code(inst.region_code, inst.id)},
            values={},
        )
        return templates.TemplateResponse(request, "enterprise/new.html", context, status_code=201)

    return await run_in_threadpool(work)


@router.get("/upload", response_class=HTMLResponse)
def upload_form(request: Request, platform: PlatformDep, principal: ConsoleUser, lang: Lang) -> HTMLResponse:
    context = _context(request, principal, lang, "upload", report=None)
    return templates.TemplateResponse(request, "enterprise/upload.html", context)


@router.get("/upload/template.csv")
def upload_template(principal: ConsoleUser) -> Response:
    text = io.StringIO()
    csv.writer(text).writerow(
        [c for c in header_row(INSTRUMENT_COLUMNS, "zh") if c != "使用单位统一社会信用代码"]
    )
    return Response(
        text.getvalue().encode("utf-8-sig"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="instruments-template.csv"'},
    )


@router.post("/upload", response_class=HTMLResponse, dependencies=[CsrfForm])
async def upload(request: Request, platform: PlatformDep, principal: ConsoleUser, lang: Lang) -> HTMLResponse:
    form = await request.form()
    file = form.get("file")
    context = _context(request, principal, lang, "upload", report=None)
    if not isinstance(file, UploadFile) or not file.filename:
        exc = InvalidInput("请选择文件 / choose a file", field="file")
        return refused(request, "enterprise/upload.html", context, exc)
    fmt = file.filename.rsplit(".", 1)[-1].lower()
    if fmt not in ("csv", "xlsx"):
        exc = InvalidInput("请上传 .csv 或 .xlsx 文件 / upload a .csv or .xlsx file", field="file")
        return refused(request, "enterprise/upload.html", context, exc)
    try:
        report = await run_in_threadpool(
            transfer.import_instruments,
            platform,
            principal,
            file.file,
            fmt=fmt,  # type: ignore[arg-type]
        )
    except ImportRefused as exc:
        return refused(request, "enterprise/upload.html", context, exc)
    except JiliangError as exc:
        return refused(request, "enterprise/upload.html", context, exc)
    finally:
        await file.close()
    context["report"] = report
    return templates.TemplateResponse(request, "enterprise/upload.html", context)


# -- bookings -------------------------------------------------------------------------------------


@router.get("/bookings", response_class=HTMLResponse)
def my_bookings(
    request: Request,
    platform: PlatformDep,
    principal: ConsoleUser,
    lang: Lang,
    instrument_id: Annotated[int | None, Query(ge=1)] = None,
) -> HTMLResponse:
    context = _booking_context(request, platform, principal, lang, instrument_id, values={})
    return templates.TemplateResponse(request, "enterprise/bookings.html", context)


def _booking_context(
    request: Request,
    platform: Platform,
    principal: Principal,
    lang: str,
    instrument_id: int | None,
    **extra: Any,
) -> dict[str, Any]:
    context = _context(request, principal, lang, "bookings", **extra)
    chosen = None
    if instrument_id is not None:
        inst = instruments.get_instrument(platform, principal, instrument_id)  # NotFound outside one's own
        chosen = {
            "id": inst.id,
            "name": inst.name,
            "serial": inst.serial_number,
            "institutions": bookings.institutions_for(platform, principal, inst.id),
        }
    mine = instruments.list_instruments(
        platform, principal, {"status": "in_service", "compulsory": True}, 0, 200
    )
    context.update(
        chosen=chosen,
        choices=[(i.id, f"{i.name} · {i.serial_number}") for i in mine.items],
        bookings=bookings.bookings_for_owner(platform, principal, limit=200).items,
        booking_labels={k: v[0 if lang == "zh" else 1] for k, v in bookings.BOOKING_LABELS.items()},
        tomorrow=date.fromordinal(platform.local_today().toordinal() + 1).isoformat(),
    )
    return context


@router.post("/bookings", response_class=HTMLResponse, dependencies=[CsrfForm])
def request_booking(
    request: Request,
    platform: PlatformDep,
    principal: ConsoleUser,
    lang: Lang,
    instrument_id: Annotated[int, Form()],
    institution_id: Annotated[str, Form(max_length=20)] = "",
    preferred_on: Annotated[str, Form(max_length=20)] = "",
    note: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    values = {"institution_id": institution_id, "preferred_on": preferred_on, "note": note}
    try:
        bookings.request_booking(
            platform,
            principal,
            {
                "instrument_id": instrument_id,
                "institution_id": institution_id,
                "preferred_on": preferred_on,
                "note": note,
            },
        )
    except JiliangError as exc:
        context = _booking_context(request, platform, principal, lang, instrument_id, values=values)
        return refused(request, "enterprise/bookings.html", context, exc)
    return RedirectResponse(f"/console/enterprise/bookings?booked=1&lang={lang}", status_code=303)


@router.post("/bookings/{booking_id:int}/cancel", dependencies=[CsrfForm])
def cancel_booking(booking_id: int, platform: PlatformDep, principal: ConsoleUser, lang: Lang) -> Response:
    bookings.cancel_booking(platform, principal, booking_id)
    return RedirectResponse(f"/console/enterprise/bookings?lang={lang}", status_code=303)


# -- places ---------------------------------------------------------------------------------------


@router.get("/places", response_class=HTMLResponse)
def my_places(request: Request, platform: PlatformDep, principal: ConsoleUser, lang: Lang) -> HTMLResponse:
    context = _places_context(request, platform, principal, lang, values={})
    return templates.TemplateResponse(request, "enterprise/places.html", context)


def _places_context(
    request: Request, platform: Platform, principal: Principal, lang: str, **extra: Any
) -> dict[str, Any]:
    regions = organisations.list_regions(platform, principal, principal.jurisdiction)
    return _context(
        request,
        principal,
        lang,
        "places",
        places=places.list_places(platform, principal, limit=200).items,
        regions=[(r.code, r.name_zh if lang == "zh" else (r.name_en or r.name_zh)) for r in regions],
        **extra,
    )


@router.post("/places", response_class=HTMLResponse, dependencies=[CsrfForm])
def add_place(
    request: Request,
    platform: PlatformDep,
    principal: ConsoleUser,
    lang: Lang,
    name: Annotated[str, Form(max_length=200)] = "",
    kind: Annotated[str, Form(max_length=20)] = "",
    region_code: Annotated[str, Form(max_length=6)] = "",
    address: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    values = {"name": name, "kind": kind, "region_code": region_code, "address": address}
    try:
        places.add_place(platform, principal, values)
    except JiliangError as exc:
        context = _places_context(request, platform, principal, lang, values=values)
        return refused(request, "enterprise/places.html", context, exc)
    return RedirectResponse(f"/console/enterprise/places?lang={lang}", status_code=303)
