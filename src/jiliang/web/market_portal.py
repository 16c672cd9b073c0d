"""The public portal of market supervision (/public/market, /public/complaints): no sign-in.

- ``/public/market``: what the public can do here, and the published plans and draws (``/market/draws``).
- ``/public/complaints/new``: a complaint (举报), anonymous or named. The form carries a CSRF token bound
  to the browser's pre-session cookie (``web.auth``: an HMAC of a random HttpOnly cookie under the
  platform secret, checked on the POST), and each client address may send only
  ``settings.complaint_rate_per_hour`` complaints an hour (``complaints.admit_submission``). The receipt
  code is shown once, in the answer to the POST (never in a URL; ``Cache-Control: no-store``).
- ``/public/complaints/status``: the status by receipt code, posted (so the code stays out of URLs and
  logs), CSRF-protected alike.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from jiliang.api.deps import PlatformDep
from jiliang.domain.access import Principal, Role
from jiliang.errors import JiliangError, NotFound, TooManyAttempts
from jiliang.services import organisations
from jiliang.services.market import complaints, plans
from jiliang.services.platform import Platform
from jiliang.web.auth import CsrfForm, Lang, anonymous_context
from jiliang.web.common import templates
from jiliang.web.market_labels import labeller

router = APIRouter(include_in_schema=False)
PUBLIC = Principal(user_id=None, username="public-portal", role=Role.PUBLIC)

STRINGS: dict[str, dict[str, str]] = {
    "zh": {
        "portal": "民生计量公开服务",
        "portal_intro": "查看双随机抽查的公示与抽取结果，举报计量违法行为，凭回执码查询举报办理进度。",
        "draws": "双随机抽查公示",
        "draws_text": "抽查计划、种子承诺值、抽取名单和检查结论；任何人都可以用公布的种子重新抽取核对。",
        "file": "我要举报",
        "file_text": "短斤缺两、计量器具作弊等计量违法行为，可匿名或实名举报。",
        "status": "查询举报进度",
        "status_text": "凭提交举报时获得的回执码查询。",
        "latest": "最近公布的抽查计划",
        "complaint": "计量违法行为举报",
        "complaint_intro": "请如实填写。实名举报的个人信息加密保存，只有指定的举报受理专员可以查看，"
        "每次查看均留痕；我们不会向被举报方透露举报人信息。",
        "region": "发生地区划",
        "subject": "被举报的单位或摊位名称",
        "content": "举报内容（时间、地点、经过）",
        "how": "举报方式",
        "anonymous": "匿名举报",
        "named": "实名举报（便于核实和奖励）",
        "name": "姓名（实名举报必填）",
        "phone": "联系电话（实名举报必填）",
        "id_number": "身份证号（可选）",
        "address": "联系地址（可选）",
        "submit": "提交举报",
        "received": "举报已受理",
        "receipt": "回执码",
        "receipt_note": "请立即抄下或截图保存回执码：它只显示这一次，平台不保存回执码本身，遗失后无法找回。"
        "凭回执码可以查询办理进度和结果。",
        "check_now": "查询进度",
        "receipt_code": "回执码（16 位）",
        "lookup": "查询",
        "status_label": "办理状态",
        "received_at": "受理时间",
        "updated_at": "最近更新",
        "resolution": "办理结果",
        "reward": "奖励",
        "case_opened": "已依法立案查处",
        "not_found": "没有找到这个回执码，请核对后重试。",
        "error": "无法提交",
        "back": "返回公开服务",
        "none": "暂无公布的计划。",
        "drawn": "已抽取",
        "committed": "已公布承诺值，待抽取",
        "calculator": "净含量计算器",
        "calculator_text": "按 JJF 1070-2023、JJF 1070-2005 或欧盟/英国平均数制判定一批定量包装商品的净含量，不保存数据。",
    },
    "en": {
        "portal": "Public metrology services",
        "portal_intro": "See the published random inspections and their draws, report metrology cheating, and "
        "follow a complaint with its receipt code.",
        "draws": "Random inspections, published",
        "draws_text": "Plans, seed commitments, drawn lists and conclusions; anyone can re-run a draw from the "
        "published seed.",
        "file": "Report cheating",
        "file_text": "Short weight, tampered instruments and other metrology offences, anonymously or by name.",
        "status": "Follow a complaint",
        "status_text": "With the receipt code you were given when you sent it.",
        "latest": "Latest published plans",
        "complaint": "Report a metrology offence",
        "complaint_intro": "Please be accurate. A named reporter's details are stored encrypted; only the "
        "designated complaint officer can read them, and every read is recorded. They are never disclosed "
        "to the organisation complained about.",
        "region": "Region where it happened",
        "subject": "Name of the business or stall",
        "content": "What happened (when, where, how)",
        "how": "How to report",
        "anonymous": "Anonymously",
        "named": "By name (helps checking, and rewards)",
        "name": "Name (required by name)",
        "phone": "Phone (required by name)",
        "id_number": "ID number (optional)",
        "address": "Address (optional)",
        "submit": "Send the complaint",
        "received": "Complaint received",
        "receipt": "Receipt code",
        "receipt_note": "Write the receipt code down or take a screenshot now: it is shown only this once and "
        "the platform does not keep the code itself, so it cannot be recovered. Use it to follow the "
        "complaint and its outcome.",
        "check_now": "Follow it",
        "receipt_code": "Receipt code (16 characters)",
        "lookup": "Look up",
        "status_label": "Status",
        "received_at": "Received",
        "updated_at": "Last updated",
        "resolution": "Outcome",
        "reward": "Reward",
        "case_opened": "A case has been opened",
        "not_found": "No complaint has this receipt code; check it and try again.",
        "error": "Could not send",
        "back": "Back to public services",
        "none": "No plan is published yet.",
        "drawn": "drawn",
        "committed": "commitment published, not drawn",
        "calculator": "Net-content calculator",
        "calculator_text": "Judge a lot of prepackages by JJF 1070-2023, JJF 1070-2005 or the EU/UK average system; "
        "nothing is stored.",
    },
}


def _context(request: Request, lang: str, title: str) -> dict[str, Any]:
    context = anonymous_context(request, lang)
    context["t"].update(STRINGS[lang])
    context["title"] = context["t"][title]
    context["label"] = labeller(lang)
    return context


def _page(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    response = templates.TemplateResponse(request, f"public/{name}", context, status_code=status_code)
    # Receipt codes and statuses are personal: never kept by a shared browser's or proxy's cache.
    response.headers["Cache-Control"] = "no-store"
    return response


def _regions(platform: Platform, lang: str) -> dict[str, str]:
    return {
        r.code: (r.name_zh if lang == "zh" else (r.name_en or r.name_zh))
        for r in organisations.list_regions(platform, PUBLIC)
        if r.code != "000000"
    }


@router.get("/public/market", response_class=HTMLResponse)
def portal(request: Request, platform: PlatformDep, lang: Lang) -> HTMLResponse:
    context = _context(request, lang, "portal")
    context["plans"] = plans.list_published(platform)[:10]
    context["regions"] = _regions(platform, lang)
    return _page(request, "market_portal.html", context)


def _form(request: Request, platform: Platform, lang: str, values: dict[str, Any]) -> dict[str, Any]:
    context = _context(request, lang, "complaint")
    context["regions"] = _regions(platform, lang)
    context["values"] = values
    return context


@router.get("/public/complaints/new", response_class=HTMLResponse)
def complaint_form(request: Request, platform: PlatformDep, lang: Lang) -> HTMLResponse:
    return _page(request, "complaint_form.html", _form(request, platform, lang, {"how": "anonymous"}))


@router.post("/public/complaints/new", response_class=HTMLResponse, dependencies=[CsrfForm])
def submit_complaint(
    request: Request,
    platform: PlatformDep,
    lang: Lang,
    region_code: Annotated[str, Form(max_length=6)] = "",
    subject_name: Annotated[str, Form(max_length=200)] = "",
    content: Annotated[str, Form(max_length=5000)] = "",
    how: Annotated[str, Form(pattern="^(anonymous|named)$")] = "anonymous",
    name: Annotated[str, Form(max_length=100)] = "",
    phone: Annotated[str, Form(max_length=100)] = "",
    id_number: Annotated[str, Form(max_length=100)] = "",
    address: Annotated[str, Form(max_length=100)] = "",
) -> HTMLResponse:
    values = {
        "region_code": region_code,
        "subject_name": subject_name,
        "content": content,
        "how": how,
        "name": name,
        "phone": phone,
        "id_number": id_number,
        "address": address,
    }
    data: dict[str, Any] = {"region_code": region_code, "subject_name": subject_name, "content": content}
    if how == "named":
        data["reporter"] = {"name": name, "phone": phone, "id_number": id_number, "address": address}
    try:
        complaints.admit_submission(platform, request.client.host if request.client else "")
        receipt = complaints.submit(platform, data)
    except JiliangError as exc:
        context = _form(request, platform, lang, values)
        context.update(error=exc.message, field=exc.field)
        response = _page(
            request, "complaint_form.html", context, 429 if isinstance(exc, TooManyAttempts) else 422
        )
        if isinstance(exc, TooManyAttempts):
            response.headers["Retry-After"] = str(exc.retry_after_s)
        return response
    context = _context(request, lang, "received")
    context["receipt"] = receipt["receipt_code"]
    return _page(request, "complaint_receipt.html", context, 201)


@router.get("/public/complaints/status", response_class=HTMLResponse)
def status_form(request: Request, lang: Lang) -> HTMLResponse:
    return _page(request, "complaint_status.html", _context(request, lang, "status"))


@router.post("/public/complaints/status", response_class=HTMLResponse, dependencies=[CsrfForm])
def status(
    request: Request,
    platform: PlatformDep,
    lang: Lang,
    receipt_code: Annotated[str, Form(max_length=40)] = "",
) -> HTMLResponse:
    context = _context(request, lang, "status")
    try:
        context["found"] = complaints.status(platform, receipt_code)
    except NotFound:
        context.update(error=context["t"]["not_found"], field="receipt_code")
        return _page(request, "complaint_status.html", context, 404)
    return _page(request, "complaint_status.html", context)
