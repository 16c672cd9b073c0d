"""The verification institution's console (法定计量检定机构): record a verification with its data, sign it
off (检定员 → 核验员 → 批准人), issue the certificate; the queue of instruments due in its area; its
standards, authorisations and certificates.

Every page calls the same services as the JSON API with the signed-in principal; another institution's
verification or certificate answers as not found.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from jiliang.api.deps import PlatformDep
from jiliang.errors import Conflict, JiliangError, NotFound
from jiliang.legal import conformity, mpe
from jiliang.services import bookings, certificates, institution_work, instruments
from jiliang.services import catalogue as catalogue_service
from jiliang.services import measured_verifications as mv
from jiliang.web.auth import ConsoleUser, CsrfForm, Lang, console_context
from jiliang.web.common import refused, templates

router = APIRouter(include_in_schema=False, prefix="/console/institution")

POINT_ROWS = 6  # blank test point rows in a new form
INSPECTION_ROWS = 3

STRINGS: dict[str, dict[str, str]] = {
    "zh": {
        "home_title": "检定机构工作台",
        "to_check": "待核验",
        "to_approve": "待批准",
        "returned": "已退回",
        "to_issue": "已批准，待出具证书",
        "none": "暂无。",
        "new_title": "录入检定数据",
        "detail_title": "检定记录",
        "queue_title": "待检器具",
        "queue_intro": "本机构授权范围内、已超期、60 天内到期或从未检定的器具（最早到期者在前）。",
        "certs_title": "我的证书",
        "standards_title": "计量标准、授权与签字人员",
        "instrument": "计量器具",
        "instrument_id": "器具登记号",
        "serial": "出厂编号",
        "owner": "使用单位",
        "item": "目录项",
        "region": "区划",
        "location": "使用地点",
        "due_on": "应检日期",
        "overdue": "超期天数",
        "never": "从未检定",
        "record_this": "录入检定",
        "bookings_title": "预约检定",
        "bookings_intro": "使用单位向本机构提出的预约（待答复与已接受），按希望日期排列。",
        "preferred_on": "希望日期",
        "contact": "联系人及电话",
        "booking_note": "备注",
        "booking_status": "状态",
        "accept": "接受",
        "decline": "婉拒",
        "reply": "答复",
        "b_requested": "待答复",
        "b_accepted": "已接受",
        "b_declined": "已婉拒",
        "b_cancelled": "已取消",
        "b_done": "已检定",
        "verified_on": "检定日期",
        "document_no": "证书编号",
        "stage": "检定类别",
        "accuracy_class": "准确度等级",
        "scale_interval": "检定分度值 e（衡器）",
        "decision_rule": "判定规则",
        "standard_id": "所用计量标准",
        "no_standard": "（不填）",
        "remarks": "备注",
        "points": "检定点",
        "point": "点",
        "label": "名称",
        "nominal": "标准值",
        "unit": "单位",
        "indications": "示值（多个用空格分隔）",
        "zone": "区段",
        "u": "扩展不确定度 U",
        "k": "k",
        "mpe_lower": "MPE 下限",
        "mpe_upper": "MPE 上限",
        "mpe": "最大允许误差",
        "error": "示值误差",
        "result": "结论",
        "mpe_given": "本目录项无 MPE 规则，请逐点填写 MPE 上下限。",
        "mpe_rule": "MPE 按规则表自动给出",
        "inspections": "检查项目（目力/手动检查，由检定员判定）",
        "inspection": "项目",
        "judged": "判定",
        "preview": "计算结论",
        "submit": "提交（检定员签字）",
        "conclusion": "检定结论",
        "pass": "合格",
        "fail": "不合格",
        "warnings": "提示",
        "state": "状态",
        "persons": "签字",
        "verifier": "检定员",
        "checker": "核验员",
        "approver": "批准人",
        "qualification": "资格证号",
        "signed_at": "签字时间",
        "check": "核验通过",
        "approve": "批准",
        "return": "退回",
        "reason": "退回原因",
        "issue": "出具证书",
        "certificate": "证书",
        "view_cert": "查看证书",
        "pdf": "PDF",
        "public_check": "公开核验页",
        "valid_until": "有效期至",
        "not_yet": "—",
        "return_reason": "退回原因",
        "status": "状态",
        "valid": "有效",
        "withdrawn": "已撤销",
        "superseded": "已被替代",
        "issued_at": "出具时间",
        "withdraw": "撤销",
        "withdraw_reason": "撤销原因",
        "all": "全部",
        "filter": "筛选",
        "standards": "计量标准",
        "std_name": "名称",
        "person_name": "姓名",
        "quantity": "量",
        "range": "测量范围",
        "uncertainty": "不确定度/准确度等级",
        "cert_no": "考核证书编号",
        "valid_from": "有效期自",
        "expired": "已过期",
        "expiring": "90 天内到期",
        "in_force": "有效",
        "items": "可检目录项",
        "authorisations": "授权项目",
        "signatories": "签字人员",
        "add_signatory": "登记或修改签字人员（本机构账户）",
        "username": "账户用户名",
        "name_on_cert": "证书上的姓名",
        "save": "保存",
        "duties": "职责",
        "open": "打开",
        "prev": "上一页",
        "next": "下一页",
        "page_of": "共 {total} 条",
        "go": "打开表单",
        "or_serial": "或出厂编号",
        "no_match": "您的辖区内没有这个出厂编号的器具。",
        "rule_table": "MPE 规则",
        "evidence_confirmed": "已核实",
        "evidence_provisional": "待核实",
        "evidence_given": "逐点给定",
        "issued_ok": "证书已出具。",
        "recorded_ok": "已记录，等待核验。",
        "live": "填写时自动计算（需启用 JavaScript）；也可点“计算结论”。",
    },
    "en": {
        "home_title": "Institution workspace",
        "to_check": "To check",
        "to_approve": "To approve",
        "returned": "Returned",
        "to_issue": "Approved, certificate to issue",
        "none": "Nothing here.",
        "new_title": "Record a verification",
        "detail_title": "Verification",
        "queue_title": "Instruments due",
        "queue_intro": "Instruments of the items you are authorised for, in your area: overdue, due within 60 "
        "days or never verified (soonest first).",
        "certs_title": "My certificates",
        "standards_title": "Standards, authorisations and signatories",
        "instrument": "Instrument",
        "instrument_id": "Registry number",
        "serial": "Serial number",
        "owner": "Owner",
        "item": "Catalogue item",
        "region": "Region",
        "location": "Place of use",
        "due_on": "Due",
        "overdue": "Days overdue",
        "never": "never verified",
        "record_this": "Record",
        "bookings_title": "Bookings",
        "bookings_intro": "Verifications owners booked with this institution (awaiting an answer or accepted), by "
        "preferred day.",
        "preferred_on": "Preferred day",
        "contact": "Contact",
        "booking_note": "Note",
        "booking_status": "State",
        "accept": "Accept",
        "decline": "Decline",
        "reply": "Reply",
        "b_requested": "awaiting an answer",
        "b_accepted": "accepted",
        "b_declined": "declined",
        "b_cancelled": "cancelled",
        "b_done": "verified",
        "verified_on": "Verified on",
        "document_no": "Certificate number",
        "stage": "Kind of verification",
        "accuracy_class": "Accuracy class",
        "scale_interval": "Verification scale interval e (weighing)",
        "decision_rule": "Decision rule",
        "standard_id": "Measurement standard used",
        "no_standard": "(none)",
        "remarks": "Remarks",
        "points": "Test points",
        "point": "No.",
        "label": "Label",
        "nominal": "Reference value",
        "unit": "Unit",
        "indications": "Indications (space-separated)",
        "zone": "Zone",
        "u": "Expanded uncertainty U",
        "k": "k",
        "mpe_lower": "MPE lower",
        "mpe_upper": "MPE upper",
        "mpe": "MPE",
        "error": "Error",
        "result": "Result",
        "mpe_given": "No MPE rule for this item: give the MPE limits per point.",
        "mpe_rule": "MPE from the rule table",
        "inspections": "Inspection items (checked by eye or hand, judged by the verifier)",
        "inspection": "Item",
        "judged": "Judgement",
        "preview": "Compute the conclusion",
        "submit": "Submit (verifier signs)",
        "conclusion": "Conclusion",
        "pass": "pass",
        "fail": "fail",
        "warnings": "Warnings",
        "state": "State",
        "persons": "Signed off by",
        "verifier": "Verifier",
        "checker": "Checker",
        "approver": "Approver",
        "qualification": "Qualification no.",
        "signed_at": "Signed",
        "check": "Checked",
        "approve": "Approve",
        "return": "Return",
        "reason": "Reason for returning",
        "issue": "Issue the certificate",
        "certificate": "Certificate",
        "view_cert": "View certificate",
        "pdf": "PDF",
        "public_check": "Public check page",
        "valid_until": "Valid until",
        "not_yet": "—",
        "return_reason": "Returned because",
        "status": "Status",
        "valid": "valid",
        "withdrawn": "withdrawn",
        "superseded": "superseded",
        "issued_at": "Issued",
        "withdraw": "Withdraw",
        "withdraw_reason": "Reason for withdrawal",
        "all": "All",
        "filter": "Filter",
        "standards": "Measurement standards",
        "std_name": "Name",
        "person_name": "Name",
        "quantity": "Quantity",
        "range": "Range",
        "uncertainty": "Uncertainty / class",
        "cert_no": "Approval certificate",
        "valid_from": "Valid from",
        "expired": "expired",
        "expiring": "expires within 90 days",
        "in_force": "in force",
        "items": "Catalogue items",
        "authorisations": "Authorisations",
        "signatories": "Signatories",
        "add_signatory": "Register or change a signatory (an account of this institution)",
        "username": "Account user name",
        "name_on_cert": "Name on certificates",
        "save": "Save",
        "duties": "Duties",
        "open": "Open",
        "prev": "Previous",
        "next": "Next",
        "page_of": "{total} in all",
        "go": "Open the form",
        "or_serial": "or serial number",
        "no_match": "No instrument with this serial number in your area.",
        "rule_table": "MPE rule",
        "evidence_confirmed": "confirmed",
        "evidence_provisional": "provisional",
        "evidence_given": "given per point",
        "issued_ok": "The certificate is issued.",
        "recorded_ok": "Recorded; waiting for the checker.",
        "live": "Computed as you type (with JavaScript on); or press “Compute the conclusion”.",
    },
}


def page_context(request: Request, principal: Any, lang: str, title_key: str) -> dict[str, Any]:
    """The labels of a verification with data, for this module's pages and the supervisor's read-only one."""
    return _context(request, principal, lang, title_key)


def _context(request: Request, principal: Any, lang: str, title_key: str) -> dict[str, Any]:
    ctx = console_context(request, principal, lang)
    ctx["t"].update(STRINGS[lang])
    ctx["title"] = STRINGS[lang][title_key]
    ctx["stage_labels"] = {s.value: (z if lang == "zh" else e) for s, (z, e) in mpe.STAGE_LABELS.items()}
    ctx["rule_labels"] = {r.value: (z if lang == "zh" else e) for r, (z, e) in conformity.RULE_LABELS.items()}
    ctx["state_labels"] = {k: (z if lang == "zh" else e) for k, (z, e) in mv.STATE_LABELS.items()}
    ctx["mpe_rule_labels"] = {k: (z if lang == "zh" else e) for k, (z, e) in mpe.RULE_LABELS.items()}
    ctx["zone_labels"] = {k: (z if lang == "zh" else e) for k, (z, e) in mpe.ZONE_LABELS.items()}
    return ctx


# ---------------------------------------------------------------------------------------------------
# home: the sign-off queue


@router.get("", response_class=HTMLResponse)
def home(request: Request, platform: PlatformDep, principal: ConsoleUser, lang: Lang) -> HTMLResponse:
    ctx = _context(request, principal, lang, "home_title")
    ctx["groups"] = [
        ("to_check", mv.queue(platform, principal, [mv.RECORDED])),
        ("to_approve", mv.queue(platform, principal, [mv.CHECKED])),
        ("to_issue", mv.awaiting_certificate(platform, principal)),
        ("returned", mv.queue(platform, principal, [mv.RETURNED], limit=20, newest_first=True)),
    ]
    return templates.TemplateResponse(request, "console/institution_home.html", ctx)


# ---------------------------------------------------------------------------------------------------
# recording a verification with its data


def _raw(form: FormData) -> dict[str, Any]:
    """The form's fields as the service reads them: test point rows p1…pN, inspection rows q1…qM."""

    def get(name: str) -> str:
        value = form.get(name)
        return value.strip() if isinstance(value, str) else ""

    raw: dict[str, Any] = {
        k: get(k)
        for k in (
            "instrument_id",
            "verified_on",
            "document_no",
            "stage",
            "accuracy_class",
            "scale_interval",
            "decision_rule",
            "standard_id",
            "remarks",
        )
    }
    points = []
    for i in range(1, mv.MAX_POINTS + 1):
        if f"p{i}_nominal" not in form:
            break
        if not get(f"p{i}_nominal") and not get(f"p{i}_indications"):
            continue
        points.append(
            {
                "label": get(f"p{i}_label"),
                "nominal": get(f"p{i}_nominal"),
                "unit": get(f"p{i}_unit"),
                "indications": get(f"p{i}_indications"),
                "zone": get(f"p{i}_zone"),
                "uncertainty": get(f"p{i}_u"),
                "coverage_factor": get(f"p{i}_k"),
                "mpe_lower": get(f"p{i}_mpe_lower"),
                "mpe_upper": get(f"p{i}_mpe_upper"),
            }
        )
    raw["points"] = points
    inspections = []
    for i in range(1, 51):
        if f"q{i}_label" not in form:
            break
        if get(f"q{i}_label"):
            inspections.append({"label": get(f"q{i}_label"), "passed": get(f"q{i}_passed") == "pass"})
    raw["inspections"] = inspections
    return raw


def _form_rows(raw: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    points = list(raw.get("points") or [])
    points += [{} for _ in range(max(POINT_ROWS - len(points), 1))]
    inspections = list(raw.get("inspections") or [])
    inspections += [{} for _ in range(max(INSPECTION_ROWS - len(inspections), 1))]
    return points, inspections


def _form_context(
    request: Request, platform: Any, principal: Any, lang: str, raw: dict[str, Any]
) -> dict[str, Any]:
    ctx = _context(request, principal, lang, "new_title")
    ctx["raw"] = raw
    ctx["points"], ctx["inspections"] = _form_rows(raw)
    ctx["instrument"] = None
    if raw.get("instrument_id"):
        try:
            inst = instruments.get_instrument(platform, principal, int(raw["instrument_id"]))
        except (JiliangError, ValueError):
            inst = None
        if inst is not None:
            rule = mpe.rule_for_item(inst.item_code)
            items = catalogue_service.catalogue(platform)
            ctx["instrument"] = inst
            ctx["item_name"] = items[inst.item_code].level2_zh if inst.item_code in items else inst.item_code
            ctx["rule"] = rule
            ctx["classes"] = mpe.classes_for(rule)
            ctx["zones"] = [z for z in mpe.zones_for(rule) if z]
            ctx["uses_e"] = mpe.uses_scale_interval(rule)
            try:
                ctx["selected_class"] = mpe.normalise_class(rule, str(raw.get("accuracy_class") or ""))
            except JiliangError:
                ctx["selected_class"] = raw.get("accuracy_class")
            ctx["standards"] = [
                s for s in institution_work.my_standards(platform, principal) if inst.item_code in s.items
            ]
    return ctx


@router.get("/verifications/new", response_class=HTMLResponse)
def new_form(
    request: Request,
    platform: PlatformDep,
    principal: ConsoleUser,
    lang: Lang,
    instrument_id: Annotated[int | None, Query()] = None,
    serial: Annotated[str | None, Query(max_length=100)] = None,
) -> HTMLResponse:
    matches = None
    if instrument_id is None and serial and serial.strip():
        found = instruments.list_instruments(platform, principal, {"serial_number": serial.strip()}, limit=20)
        if len(found.items) == 1:
            instrument_id = found.items[0].id
        else:
            matches = found.items
    raw: dict[str, Any] = {
        "instrument_id": str(instrument_id or ""),
        "verified_on": platform.local_today().isoformat(),
        "stage": "subsequent",
        "decision_rule": "simple",
    }
    if instrument_id is not None:
        inst = instruments.get_instrument(platform, principal, instrument_id)  # NotFound outside my area
        raw["accuracy_class"] = inst.accuracy_class
    ctx = _form_context(request, platform, principal, lang, raw)
    ctx["serial"], ctx["matches"] = serial or "", matches
    return templates.TemplateResponse(request, "console/institution_new.html", ctx)


@router.post("/verifications/new", response_class=HTMLResponse, dependencies=[CsrfForm])
async def new_submit(request: Request, platform: PlatformDep, principal: ConsoleUser, lang: Lang) -> Response:
    from starlette.concurrency import run_in_threadpool

    form = await request.form()
    raw = _raw(form)
    action = form.get("action")
    ctx = await run_in_threadpool(_form_context, request, platform, principal, lang, raw)
    try:
        if action == "submit":
            row = await run_in_threadpool(mv.record, platform, principal, raw)
            return RedirectResponse(
                f"/console/institution/verifications/{row.id}?lang={lang}&done=recorded", status_code=303
            )
        ctx["evaluation"] = await run_in_threadpool(mv.preview, platform, principal, raw)
    except JiliangError as exc:
        if isinstance(exc, NotFound):
            raise
        return refused(request, "console/institution_new.html", ctx, exc)
    return templates.TemplateResponse(request, "console/institution_new.html", ctx)


@router.post("/verifications/evaluate", dependencies=[CsrfForm])
async def evaluate_live(request: Request, platform: PlatformDep, principal: ConsoleUser) -> JSONResponse:
    """The form's data evaluated as the verifier types (static/js/institution.js); nothing stored."""
    from starlette.concurrency import run_in_threadpool

    raw = _raw(await request.form())
    try:
        ev = await run_in_threadpool(mv.preview, platform, principal, raw)
    except JiliangError as exc:
        return JSONResponse({"error": exc.message, "field": exc.field}, status_code=422)
    return JSONResponse(
        {
            "conclusion": ev.conclusion.value,
            "points": [
                {
                    "mpe": p.mpe.basis,
                    "mpe_lower": format(p.mpe.lower, "f"),
                    "mpe_upper": format(p.mpe.upper, "f"),
                    "error": format(p.error, "f"),
                    "passed": p.passed,
                }
                for p in ev.points
            ],
            "warnings": list(ev.judgement.warnings),
        }
    )


# ---------------------------------------------------------------------------------------------------
# one verification: detail, sign-off, issue


@router.get("/verifications/{verification_id}", response_class=HTMLResponse)
def detail(
    request: Request,
    verification_id: int,
    platform: PlatformDep,
    principal: ConsoleUser,
    lang: Lang,
    done: Annotated[str | None, Query(pattern="^(recorded|issued)$")] = None,
) -> HTMLResponse:
    ctx = _context(request, principal, lang, "detail_title")
    ctx["v"] = mv.get(platform, principal, verification_id)
    ctx["done"] = done
    ctx["me"] = principal.user_id
    return templates.TemplateResponse(request, "console/institution_detail.html", ctx)


def _step(
    request: Request, platform: Any, principal: Any, lang: str, verification_id: int, run: Any
) -> Response:
    try:
        run()
    except JiliangError as exc:
        if isinstance(exc, NotFound):
            raise
        ctx = _context(request, principal, lang, "detail_title")
        ctx["v"] = mv.get(platform, principal, verification_id)
        ctx["me"] = principal.user_id
        return refused(request, "console/institution_detail.html", ctx, exc)
    return RedirectResponse(
        f"/console/institution/verifications/{verification_id}?lang={lang}", status_code=303
    )


@router.post("/verifications/{verification_id}/check", dependencies=[CsrfForm])
async def check(
    request: Request, verification_id: int, platform: PlatformDep, principal: ConsoleUser, lang: Lang
) -> Response:
    from starlette.concurrency import run_in_threadpool

    form = await request.form()
    accept = form.get("decision") != "return"
    reason = str(form.get("reason") or "")
    return await run_in_threadpool(
        _step,
        request,
        platform,
        principal,
        lang,
        verification_id,
        lambda: mv.check(platform, principal, verification_id, accept=accept, reason=reason),
    )


@router.post("/verifications/{verification_id}/approve", dependencies=[CsrfForm])
async def approve(
    request: Request, verification_id: int, platform: PlatformDep, principal: ConsoleUser, lang: Lang
) -> Response:
    from starlette.concurrency import run_in_threadpool

    form = await request.form()
    accept = form.get("decision") != "return"
    reason = str(form.get("reason") or "")
    return await run_in_threadpool(
        _step,
        request,
        platform,
        principal,
        lang,
        verification_id,
        lambda: mv.approve(platform, principal, verification_id, accept=accept, reason=reason),
    )


@router.post("/verifications/{verification_id}/issue", dependencies=[CsrfForm])
def issue(
    request: Request, verification_id: int, platform: PlatformDep, principal: ConsoleUser, lang: Lang
) -> Response:
    view = mv.get(platform, principal, verification_id)

    def run() -> None:
        if view.record_id is None:
            raise Conflict("批准后才能出具证书 / approve it before issuing", field="state")
        certificates.issue(platform, principal, view.record_id)

    return _step(request, platform, principal, lang, verification_id, run)


# ---------------------------------------------------------------------------------------------------
# the due queue, certificates, standards


@router.get("/queue", response_class=HTMLResponse)
def queue(
    request: Request,
    platform: PlatformDep,
    principal: ConsoleUser,
    lang: Lang,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> HTMLResponse:
    ctx = _context(request, principal, lang, "queue_title")
    ctx["page"] = institution_work.due_queue(platform, principal, offset=offset, limit=50)
    ctx["bookings"] = bookings.bookings_for_institution(platform, principal, status="open", limit=50)
    return templates.TemplateResponse(request, "console/institution_queue.html", ctx)


@router.post("/bookings/{booking_id}", dependencies=[CsrfForm])
async def answer_booking(
    request: Request, booking_id: int, platform: PlatformDep, principal: ConsoleUser, lang: Lang
) -> Response:
    """Accept or decline a booking (services.bookings.respond_booking); another institution's is not found."""
    from starlette.concurrency import run_in_threadpool

    form = await request.form()
    accept = form.get("decision") == "accept"
    reply = str(form.get("reply") or "")
    try:
        await run_in_threadpool(
            bookings.respond_booking, platform, principal, booking_id, accept=accept, reply=reply
        )
    except JiliangError as exc:
        if isinstance(exc, NotFound):
            raise
        ctx = _context(request, principal, lang, "queue_title")
        ctx["page"] = institution_work.due_queue(platform, principal, offset=0, limit=50)
        ctx["bookings"] = bookings.bookings_for_institution(platform, principal, status="open", limit=50)
        return refused(request, "console/institution_queue.html", ctx, exc)
    return RedirectResponse(f"/console/institution/queue?lang={lang}#bookings", status_code=303)


@router.get("/certificates", response_class=HTMLResponse)
def certificate_list(
    request: Request,
    platform: PlatformDep,
    principal: ConsoleUser,
    lang: Lang,
    status: Annotated[str | None, Query(pattern="^(valid|withdrawn|superseded)?$")] = None,
) -> HTMLResponse:
    ctx = _context(request, principal, lang, "certs_title")
    ctx["status"] = status or ""
    ctx["certs"] = institution_work.my_certificates(platform, principal, status=status or None)
    return templates.TemplateResponse(request, "console/institution_certificates.html", ctx)


@router.get("/certificates/{number}")
def certificate_document(
    number: str,
    platform: PlatformDep,
    principal: ConsoleUser,
    fmt: Annotated[str, Query(pattern="^(html|pdf)$")] = "html",
) -> Response:
    body = certificates.render(platform, principal, number, fmt)  # NotFound for another's certificate
    media = "application/pdf" if fmt == "pdf" else "text/html; charset=utf-8"
    return Response(body, media_type=media)


@router.post("/certificates/{number}/withdraw", dependencies=[CsrfForm])
async def withdraw(
    request: Request, number: str, platform: PlatformDep, principal: ConsoleUser, lang: Lang
) -> Response:
    from starlette.concurrency import run_in_threadpool

    form = await request.form()
    reason = str(form.get("reason") or "")
    await run_in_threadpool(certificates.withdraw, platform, principal, number, reason)
    return RedirectResponse(f"/console/institution/certificates?lang={lang}", status_code=303)


def _standards_context(request: Request, platform: Any, principal: Any, lang: str) -> dict[str, Any]:
    ctx = _context(request, principal, lang, "standards_title")
    ctx["standards"] = institution_work.my_standards(platform, principal)
    ctx["authorisations"] = institution_work.my_authorisations(platform, principal)
    ctx["signatories"] = mv.list_signatories(platform, principal)
    return ctx


@router.get("/standards", response_class=HTMLResponse)
def standards(request: Request, platform: PlatformDep, principal: ConsoleUser, lang: Lang) -> HTMLResponse:
    ctx = _standards_context(request, platform, principal, lang)
    return templates.TemplateResponse(request, "console/institution_standards.html", ctx)


@router.post("/signatories", dependencies=[CsrfForm])
async def register_signatory(
    request: Request, platform: PlatformDep, principal: ConsoleUser, lang: Lang
) -> Response:
    """Register one of the institution's own accounts as a signatory (or change its duties)."""
    from starlette.concurrency import run_in_threadpool

    form = await request.form()
    raw = {k: str(form.get(k) or "").strip() for k in ("username", "name", "qualification_no", "valid_until")}
    for duty in ("may_verify", "may_check", "may_approve"):
        raw[duty] = "true" if form.get(duty) else "false"
    try:
        await run_in_threadpool(mv.register_signatory, platform, principal, raw)
    except JiliangError as exc:
        if isinstance(exc, NotFound):
            raise
        ctx = await run_in_threadpool(_standards_context, request, platform, principal, lang)
        ctx["raw"] = raw
        return refused(request, "console/institution_standards.html", ctx, exc)
    return RedirectResponse(f"/console/institution/standards?lang={lang}#h-sig", status_code=303)
