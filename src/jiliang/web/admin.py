"""The administrator's pages (/console/admin): accounts, plan targets, webhooks and the outbox.

Each page calls the same service functions as the API with the signed-in administrator, so the same
rules hold: an administrator with a regional jurisdiction sees and edits only the accounts and targets
inside it, and an account id outside it is answered as not found.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from jiliang.api.deps import PlatformDep
from jiliang.domain.access import Principal, Role
from jiliang.errors import InvalidInput, JiliangError
from jiliang.legal.coverage import Indicator
from jiliang.services import indicators, organisations, reminders, users
from jiliang.services.common import require_role
from jiliang.web.auth import ROLE_LABELS, ConsoleUser, CsrfForm, Lang, console_context
from jiliang.web.common import templates

router = APIRouter(prefix="/console/admin", include_in_schema=False)
PAGE = 50
Id = Annotated[int, Path(ge=1, le=2**63 - 1)]  # bounded: a 65-bit id is a 422, not an OverflowError

STRINGS: dict[str, dict[str, str]] = {
    "zh": {
        "home": "系统管理",
        "home_intro": "账户、规划目标、到期提醒的推送地址与发件箱。",
        "users": "用户",
        "users_count": "账户数",
        "active_count": "可登录",
        "targets": "规划目标",
        "webhooks": "推送与发件箱",
        "outbox_pending": "待发送",
        "outbox_retrying": "重试中",
        "outbox_delivered": "已送达",
        "outbox_dead": "已放弃",
        "new_user": "新建账户",
        "search": "查找",
        "q": "用户名、姓名或单位",
        "role": "角色",
        "any": "全部",
        "status": "状态",
        "active": "可登录",
        "disabled": "已停用",
        "username": "用户名",
        "display_name": "显示名称",
        "jurisdiction": "管辖区划",
        "organisation": "所属单位",
        "organisation_credit_code": "所属单位的统一社会信用代码（企业、机构账户必填）",
        "initial_password": "初始密码（至少 10 位）",
        "create": "创建账户",
        "save": "保存",
        "edit": "编辑",
        "may_sign_in": "允许登录",
        "reset_password": "重置密码",
        "reset_note": "重置后该账户的所有登录和接口令牌立即失效；新密码只显示这一次，请当面或经安全渠道交给本人。",
        "new_password": "新密码（只显示这一次）",
        "saved": "已保存。",
        "created": "账户已创建。",
        "prev": "上一页",
        "next": "下一页",
        "shown": "第 {start}–{end} 条，共 {total} 条",
        "none": "没有符合条件的账户。",
        "year": "年度",
        "region": "区划",
        "indicator": "指标",
        "target": "目标值（%）",
        "source": "依据（文件名称、文号）",
        "set_target": "保存目标",
        "no_targets": "该年度尚未设定目标。",
        "targets_intro": "各区划各年度的指标目标值，指标页据此显示是否达标。",
        "show": "显示",
        "url": "推送地址",
        "messages": "消息",
        "last_error": "最近错误",
        "pause": "暂停",
        "resume": "恢复",
        "paused": "已暂停",
        "running": "启用中",
        "no_webhooks": "尚无推送地址。使用单位和监管人员可通过接口登记（POST /api/v1/webhooks）。",
        "problems": "发送失败的消息",
        "no_problems": "没有发送失败的消息。",
        "created_at": "生成时间",
        "attempts": "已尝试",
        "next_attempt": "下次尝试",
        "about": "内容",
        "retry": "重新发送",
        "retry_all": "全部重新发送",
        "retried": "已重新排队 {n} 条消息。",
        "oldest": "最早的待发送消息生成于",
        "outbox_intro": "到期提醒先写入发件箱，再由发送程序（jiliang reminders send）推送到各单位登记的地址；失败的消息按指数退避重试，超过次数后放弃但保留。",
        "state": "状态",
        "dead": "已放弃",
        "failing": "重试中",
    },
    "en": {
        "home": "Administration",
        "home_intro": "Accounts, plan targets, and the webhooks and outbox of due reminders.",
        "users": "Users",
        "users_count": "Accounts",
        "active_count": "May sign in",
        "targets": "Plan targets",
        "webhooks": "Webhooks and outbox",
        "outbox_pending": "Pending",
        "outbox_retrying": "Retrying",
        "outbox_delivered": "Delivered",
        "outbox_dead": "Given up",
        "new_user": "New account",
        "search": "Search",
        "q": "User name, display name or organisation",
        "role": "Role",
        "any": "Any",
        "status": "Status",
        "active": "may sign in",
        "disabled": "disabled",
        "username": "User name",
        "display_name": "Display name",
        "jurisdiction": "Jurisdiction",
        "organisation": "Organisation",
        "organisation_credit_code": "Organisation's unified social credit code (enterprise and institution accounts)",
        "initial_password": "Initial password (at least 10 characters)",
        "create": "Create account",
        "save": "Save",
        "edit": "Edit",
        "may_sign_in": "May sign in",
        "reset_password": "Reset password",
        "reset_note": "Resetting ends every sign-in and API token of the account at once; the new password "
        "is shown only this once: hand it over in person or over a secure channel.",
        "new_password": "New password (shown only this once)",
        "saved": "Saved.",
        "created": "Account created.",
        "prev": "Previous",
        "next": "Next",
        "shown": "{start}–{end} of {total}",
        "none": "No account matches.",
        "year": "Year",
        "region": "Region",
        "indicator": "Indicator",
        "target": "Target (%)",
        "source": "Source (document title and number)",
        "set_target": "Save target",
        "no_targets": "No targets set for this year.",
        "targets_intro": "Each region's yearly targets; the indicators page shows whether they are met.",
        "show": "Show",
        "url": "Receiver URL",
        "messages": "Messages",
        "last_error": "Last error",
        "pause": "Pause",
        "resume": "Resume",
        "paused": "paused",
        "running": "active",
        "no_webhooks": "No webhooks yet. Enterprises and supervisors register them through the API "
        "(POST /api/v1/webhooks).",
        "problems": "Messages that failed",
        "no_problems": "No failed messages.",
        "created_at": "Created",
        "attempts": "Attempts",
        "next_attempt": "Next attempt",
        "about": "About",
        "retry": "Send again",
        "retry_all": "Send all again",
        "retried": "{n} message(s) queued again.",
        "oldest": "Oldest pending message created",
        "outbox_intro": "Due reminders are written to the outbox and pushed by the sender (jiliang reminders "
        "send) to each organisation's registered address; failures are retried with exponential back-off and "
        "given up (but kept) after the last attempt.",
        "state": "State",
        "dead": "given up",
        "failing": "retrying",
    },
}

INDICATOR_LABELS = {
    Indicator.VERIFICATION_COVERAGE: ("强检计量器具检定覆盖率", "Compulsory verification coverage"),
    Indicator.STANDARD_COVERAGE: ("强检项目建标覆盖率", "Standards coverage of compulsory items"),
    Indicator.ENERGY_MONITORING_COVERAGE: (
        "重点用能单位能耗在线监测覆盖率",
        "Key energy-using units monitored online",
    ),
}


def _context(request: Request, principal: Principal, lang: str, title_key: str) -> dict[str, Any]:
    require_role(principal, Role.ADMINISTRATOR)
    context = console_context(request, principal, lang)
    context["t"].update(STRINGS[lang])
    context["title"] = context["t"][title_key]
    context["role_labels"] = {r.value: (zh if lang == "zh" else en) for r, (zh, en) in ROLE_LABELS.items()}
    return context


def _page(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    return templates.TemplateResponse(request, f"console/{name}", context, status_code=status_code)


def _regions(request: Request, principal: Principal, lang: str) -> list[dict[str, str]]:
    platform = request.app.state.platform
    return [
        {"code": r.code, "name": (r.name_zh if lang == "zh" else (r.name_en or r.name_zh)) + f"（{r.code}）"}
        for r in organisations.list_regions(platform, principal)
    ]


@router.get("", response_class=HTMLResponse)
def admin_home(request: Request, platform: PlatformDep, principal: ConsoleUser, lang: Lang) -> HTMLResponse:
    context = _context(request, principal, lang, "home")
    everyone = users.list_users(platform, principal, limit=1)
    enabled = users.list_users(platform, principal, active=True, limit=1)
    context.update(users_total=everyone.total, users_active=enabled.total)
    context["outbox"] = reminders.outbox_state(platform, principal, problems=0)
    return _page(request, "admin_home.html", context)


# --- users -----------------------------------------------------------------------------------------------


@router.get("/users", response_class=HTMLResponse)
def users_page(
    request: Request,
    platform: PlatformDep,
    principal: ConsoleUser,
    lang: Lang,
    q: Annotated[str, Query(max_length=100)] = "",
    role: Annotated[str, Query(pattern="^(|administrator|supervisor|institution|enterprise|public)$")] = "",
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> HTMLResponse:
    context = _context(request, principal, lang, "users")
    page = users.list_users(platform, principal, q=q or None, role=role or None, offset=offset, limit=PAGE)
    t = context["t"]
    context.update(
        page=page,
        q=q,
        role=role,
        shown=t["shown"].format(start=offset + 1, end=offset + len(page.items), total=page.total),
        prev_url=_with(request, offset=max(0, offset - PAGE)) if offset else "",
        next_url=_with(request, offset=offset + PAGE) if offset + PAGE < page.total else "",
    )
    return _page(request, "admin_users.html", context)


def _with(request: Request, **changes: Any) -> str:
    query = dict(request.query_params)
    query.update({k: str(v) for k, v in changes.items()})
    return request.url.path + "?" + urlencode(query)


def _user_form(
    request: Request,
    principal: Principal,
    lang: str,
    *,
    user: Any = None,
    values: dict[str, Any] | None = None,
    error: JiliangError | None = None,
    notice: str = "",
    new_password: str = "",
) -> HTMLResponse:
    context = _context(request, principal, lang, "edit" if user else "new_user")
    if user is not None:
        context["title"] = f"{context['t']['edit']}：{user.display_name or user.username}"
    context.update(
        account=user,  # not "user": that is the signed-in administrator, shown in the layout
        values=values or {},
        regions=_regions(request, principal, lang),
        roles=[r.value for r in Role],
        error=error.message if error else "",
        field=error.field if error else None,
        notice=notice,
        new_password=new_password,
    )
    return _page(request, "admin_user.html", context, status_code=422 if error else 200)


@router.get("/users/new", response_class=HTMLResponse)
def new_user_form(request: Request, principal: ConsoleUser, lang: Lang) -> HTMLResponse:
    return _user_form(
        request, principal, lang, values={"role": "supervisor", "jurisdiction": principal.jurisdiction}
    )


@router.post("/users/new", response_class=HTMLResponse, dependencies=[CsrfForm])
def create_user(
    request: Request,
    platform: PlatformDep,
    principal: ConsoleUser,
    lang: Lang,
    username: Annotated[str, Form(max_length=100)],
    password: Annotated[str, Form(max_length=1000)],
    role: Annotated[str, Form(max_length=20)],
    jurisdiction: Annotated[str, Form(max_length=6)],
    display_name: Annotated[str, Form(max_length=100)] = "",
    organisation_credit_code: Annotated[str, Form(max_length=18)] = "",
) -> Response:
    values = {
        "username": username,
        "role": role,
        "jurisdiction": jurisdiction,
        "display_name": display_name,
        "organisation_credit_code": organisation_credit_code,
    }
    try:
        if (
            not 0 < len(jurisdiction) <= 6
            or not jurisdiction.isdigit()
            or (jurisdiction != principal.jurisdiction and not principal.sees_region(jurisdiction))
        ):
            raise InvalidInput("管辖区划超出您的范围 / jurisdiction outside yours", field="jurisdiction")
        org_id = (
            users.organisation_by_credit_code(platform, principal, organisation_credit_code)
            if organisation_credit_code.strip()
            else None
        )
        created = users.create_user(
            platform,
            principal,
            username=username,
            password=password,
            role=role,
            jurisdiction=jurisdiction,
            organisation_id=org_id,
            display_name=display_name,
        )
    except JiliangError as exc:
        return _user_form(request, principal, lang, values=values, error=exc)
    return RedirectResponse(f"/console/admin/users/{created.id}?done=created&lang={lang}", status_code=303)


def _values(user: users.UserRow) -> dict[str, Any]:
    return {
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role.value,
        "jurisdiction": user.jurisdiction,
        "organisation_credit_code": user.organisation_credit_code,
        "active": user.active,
    }


@router.get("/users/{user_id}", response_class=HTMLResponse)
def user_page(
    request: Request,
    platform: PlatformDep,
    principal: ConsoleUser,
    lang: Lang,
    user_id: Id,
    done: Annotated[str, Query(pattern="^(|saved|created)$")] = "",
) -> HTMLResponse:
    user = users.get_user(platform, principal, user_id)
    notice = STRINGS[lang][done] if done else ""
    return _user_form(request, principal, lang, user=user, values=_values(user), notice=notice)


@router.post("/users/{user_id}", response_class=HTMLResponse, dependencies=[CsrfForm])
def update_user(
    request: Request,
    platform: PlatformDep,
    principal: ConsoleUser,
    lang: Lang,
    user_id: Id,
    role: Annotated[str, Form(max_length=20)],
    jurisdiction: Annotated[str, Form(max_length=6)],
    display_name: Annotated[str, Form(max_length=100)] = "",
    organisation_credit_code: Annotated[str, Form(max_length=18)] = "",
    active: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    user = users.get_user(platform, principal, user_id)
    values = {
        "username": user.username,
        "display_name": display_name,
        "role": role,
        "jurisdiction": jurisdiction,
        "organisation_credit_code": organisation_credit_code,
        "active": active == "on",
    }
    try:
        org_id = (
            users.organisation_by_credit_code(platform, principal, organisation_credit_code)
            if organisation_credit_code.strip()
            else None
        )
        users.update_user(
            platform,
            principal,
            user_id,
            display_name=display_name,
            role=role,
            jurisdiction=jurisdiction,
            organisation_id=org_id,
            active=active == "on",
        )
    except JiliangError as exc:
        return _user_form(request, principal, lang, user=user, values=values, error=exc)
    return RedirectResponse(f"/console/admin/users/{user_id}?done=saved&lang={lang}", status_code=303)


@router.post("/users/{user_id}/password", response_class=HTMLResponse, dependencies=[CsrfForm])
def reset_password(
    request: Request, platform: PlatformDep, principal: ConsoleUser, lang: Lang, user_id: Id
) -> HTMLResponse:
    password = users.reset_password(platform, principal, user_id)
    user = users.get_user(platform, principal, user_id)
    return _user_form(request, principal, lang, user=user, values=_values(user), new_password=password)


# --- plan targets ----------------------------------------------------------------------------------------


def _targets_page(
    request: Request,
    principal: Principal,
    lang: str,
    year: int,
    *,
    values: dict[str, Any] | None = None,
    error: JiliangError | None = None,
    notice: str = "",
) -> HTMLResponse:
    platform = request.app.state.platform
    context = _context(request, principal, lang, "targets")
    rows = indicators.list_targets(platform, principal, year)
    regions = _regions(request, principal, lang)
    context.update(
        year=year,
        years=list(range(platform.local_today().year - 3, platform.local_today().year + 6)),
        rows=[
            {
                "region": r.region_name
                if lang == "zh"
                else next((g["name"] for g in regions if g["code"] == r.region_code), r.region_name),
                "region_code": r.region_code,
                "indicator": INDICATOR_LABELS[r.indicator][0 if lang == "zh" else 1],
                "target": r.target,
                "source": r.source,
            }
            for r in rows
        ],
        regions=regions,
        indicators=[(i.value, z if lang == "zh" else e) for i, (z, e) in INDICATOR_LABELS.items()],
        values=values or {"year": year},
        error=error.message if error else "",
        field=error.field if error else None,
        notice=notice,
    )
    return _page(request, "admin_targets.html", context, status_code=422 if error else 200)


@router.get("/targets", response_class=HTMLResponse)
def targets_page(
    request: Request,
    platform: PlatformDep,
    principal: ConsoleUser,
    lang: Lang,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    done: Annotated[str, Query(pattern="^(|saved)$")] = "",
) -> HTMLResponse:
    chosen = year or platform.local_today().year
    return _targets_page(request, principal, lang, chosen, notice=STRINGS[lang][done] if done else "")


@router.post("/targets", response_class=HTMLResponse, dependencies=[CsrfForm])
def set_target(
    request: Request,
    platform: PlatformDep,
    principal: ConsoleUser,
    lang: Lang,
    region_code: Annotated[str, Form(max_length=6)],
    year: Annotated[int, Form(ge=2000, le=2100)],
    indicator: Annotated[str, Form(max_length=40)],
    target_percent: Annotated[str, Form(max_length=20)],
    source: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    values = {
        "region_code": region_code,
        "year": year,
        "indicator": indicator,
        "target_percent": target_percent,
        "source": source,
    }
    try:
        try:
            fraction = float(target_percent.replace("%", "").strip()) / 100
        except ValueError:
            raise InvalidInput(
                "目标值须为 0–100 的数 / target must be a number 0..100", field="target_percent"
            ) from None
        require_role(principal, Role.ADMINISTRATOR)
        indicators.set_target(
            platform,
            principal,
            region_code=region_code,
            year=year,
            indicator=indicator,
            target=fraction,
            source=source,
        )
    except JiliangError as exc:
        if exc.field == "target":
            exc.field = "target_percent"
        return _targets_page(request, principal, lang, year, values=values, error=exc)
    return RedirectResponse(f"/console/admin/targets?year={year}&done=saved&lang={lang}", status_code=303)


# --- webhooks and the outbox -----------------------------------------------------------------------------


@router.get("/webhooks", response_class=HTMLResponse)
def webhooks_page(
    request: Request,
    platform: PlatformDep,
    principal: ConsoleUser,
    lang: Lang,
    retried: Annotated[int | None, Query(ge=0, le=10_000_000)] = None,
) -> HTMLResponse:
    context = _context(request, principal, lang, "webhooks")
    context["outbox"] = reminders.outbox_state(platform, principal)
    context["notice"] = context["t"]["retried"].format(n=retried) if retried is not None else ""
    return _page(request, "admin_webhooks.html", context)


@router.post("/webhooks/{webhook_id}/active", dependencies=[CsrfForm])
def webhook_active(
    platform: PlatformDep,
    principal: ConsoleUser,
    lang: Lang,
    webhook_id: Id,
    active: Annotated[str, Form(pattern="^(on|off)$")],
) -> Response:
    reminders.set_webhook_active(platform, principal, webhook_id, active == "on")
    return RedirectResponse(f"/console/admin/webhooks?lang={lang}", status_code=303)


@router.post("/outbox/retry", dependencies=[CsrfForm])
def outbox_retry(
    platform: PlatformDep,
    principal: ConsoleUser,
    lang: Lang,
    message_id: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    if message_id and not (message_id.isdigit() and len(message_id) < 19):
        raise InvalidInput("消息编号无效 / bad message id", field="message_id")
    chosen = int(message_id) if message_id else None
    n = reminders.retry_dead(platform, principal, chosen)
    return RedirectResponse(f"/console/admin/webhooks?retried={n}&lang={lang}", status_code=303)
