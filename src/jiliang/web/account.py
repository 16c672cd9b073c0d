"""Signing in and out, changing one's password, and ``/console``, the signed-in start page.

``/console`` sends each role to its home (``web.auth.HOMES``) once that page exists; until then it lists
what the role can do today, with links to the pages and API that already serve it.
"""

from __future__ import annotations

from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from jiliang.api.deps import PlatformDep
from jiliang.domain.access import Role
from jiliang.errors import AuthenticationFailed, InvalidInput, TooManyAttempts
from jiliang.services import sessions
from jiliang.web.auth import (
    SESSION_COOKIE,
    ConsoleUser,
    CsrfForm,
    Lang,
    anonymous_context,
    clear_session_cookie,
    console_context,
    csrf_protect,
    mounted_paths,
    role_home,
    safe_next,
    set_session_cookie,
    signed_in,
)
from jiliang.web.common import templates

router = APIRouter(include_in_schema=False)

STRINGS: dict[str, dict[str, str]] = {
    "zh": {
        "login_title": "登录",
        "login_intro": "请使用管理员为您开设的账户登录。连续输错密码将被暂时锁定。",
        "username": "用户名",
        "password_label": "密码",
        "submit": "登录",
        "password_title": "修改密码",
        "current_password": "当前密码",
        "new_password": "新密码（至少 10 位）",
        "confirm_password": "再次输入新密码",
        "change": "修改密码",
        "changed": "密码已修改。您在其他设备上的登录和接口令牌已全部失效。",
        "password_note": "修改后，您在其他浏览器和设备上的登录以及所有接口令牌都将失效。",
        "home_title": "工作台",
        "home_intro": "您的角色目前可以使用以下功能：",
        "jurisdiction": "管辖区划",
        "organisation": "所属单位",
    },
    "en": {
        "login_title": "Sign in",
        "login_intro": "Sign in with the account your administrator opened for you. Repeated wrong "
        "passwords lock the sign-in for a while.",
        "username": "User name",
        "password_label": "Password",
        "submit": "Sign in",
        "password_title": "Change password",
        "current_password": "Current password",
        "new_password": "New password (at least 10 characters)",
        "confirm_password": "New password again",
        "change": "Change password",
        "changed": "Password changed. Your sign-ins on other devices and all your API tokens have ended.",
        "password_note": "After the change, your sign-ins in other browsers and devices and all your API "
        "tokens end.",
        "home_title": "Workspace",
        "home_intro": "With your role you can use these today:",
        "jurisdiction": "Jurisdiction",
        "organisation": "Organisation",
    },
}

# What each role can do today with the pages and API that exist: (path, Chinese, English, what for).
CAPABILITIES: dict[Role, list[tuple[str, str, str, str, str]]] = {
    Role.SUPERVISOR: [
        (
            "/",
            "覆盖率指标",
            "Coverage indicators",
            "按区划查看强检覆盖率、超期未检和建标覆盖率。",
            "Coverage, overdue and standards coverage per region.",
        ),
        (
            "/traceability",
            "量值溯源",
            "Traceability",
            "查看计量标准的溯源链、断链和到期情况，做影响分析。",
            "Standards' traceability chains, broken links and impact analysis.",
        ),
        (
            "/docs",
            "接口（器具清单、导出、督办提醒）",
            "API (instrument lists, exports, reminders)",
            "通过接口查询器具、导出超期清单、发送到期提醒。",
            "Query instruments, export overdue lists, send reminders.",
        ),
    ],
    Role.INSTITUTION: [
        (
            "/uncertainty",
            "不确定度评定",
            "Uncertainty evaluation",
            "按 GUM 和蒙特卡洛法评定测量不确定度。",
            "Evaluate measurement uncertainty by the GUM and Monte Carlo.",
        ),
        (
            "/comparison",
            "比对与能力验证",
            "Comparisons",
            "分析比对数据：En、z、ζ 和参考值。",
            "Analyse a comparison round: En, z, ζ and reference values.",
        ),
        (
            "/traceability",
            "量值溯源",
            "Traceability",
            "查看本机构计量标准的溯源链。",
            "Your standards' traceability chains.",
        ),
        (
            "/docs",
            "接口（检定记录、证书）",
            "API (verification records, certificates)",
            "通过接口录入检定记录、出具数字证书。",
            "Record verifications and issue digital certificates.",
        ),
    ],
    Role.ENTERPRISE: [
        (
            "/verify",
            "证书核验",
            "Check a certificate",
            "核验数字计量证书的真伪和有效性。",
            "Check that a digital certificate is genuine and valid.",
        ),
        (
            "/docs",
            "接口（器具备案、批量上传）",
            "API (filing, bulk upload)",
            "通过接口备案计量器具、批量上传器具清单。",
            "File instruments and upload lists of them.",
        ),
    ],
    Role.ADMINISTRATOR: [
        (
            "/docs",
            "接口（账户、目录）",
            "API (accounts, catalogue)",
            "通过接口开设账户、管理目录。",
            "Open accounts and manage the catalogue.",
        ),
    ],
    Role.PUBLIC: [
        (
            "/verify",
            "证书核验",
            "Check a certificate",
            "核验数字计量证书的真伪和有效性。",
            "Check that a digital certificate is genuine and valid.",
        ),
    ],
}


def _address(request: Request) -> str:
    return request.client.host if request.client else ""


def _login_page(
    request: Request, lang: str, next_: str, username: str = "", error: str = "", status_code: int = 200
) -> HTMLResponse:
    context = anonymous_context(request, lang)
    context["t"].update(STRINGS[lang])
    context.update(next=next_, username=username, error=error)
    return templates.TemplateResponse(request, "console/login.html", context, status_code=status_code)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, platform: PlatformDep, lang: Lang, next: str = "/console") -> Response:
    if signed_in(request, platform) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _login_page(request, lang, safe_next(next))


@router.post("/login", response_class=HTMLResponse, dependencies=[CsrfForm])
async def login(
    request: Request,
    platform: PlatformDep,
    lang: Lang,
    username: Annotated[str, Form(max_length=100)],
    password: Annotated[str, Form(max_length=1000)],
    next: Annotated[str, Form(max_length=2000)] = "/console",
) -> Response:
    # async: the password check awaits the Argon2 pool without holding a request thread
    target = safe_next(next)
    try:
        token, _ = await sessions.sign_in_async(
            platform,
            username,
            password,
            address=_address(request),
            user_agent=request.headers.get("user-agent", ""),
            previous=request.cookies.get(SESSION_COOKIE, ""),
        )
    except TooManyAttempts as exc:
        page = _login_page(request, lang, target, username, exc.message, 429)
        page.headers["Retry-After"] = str(exc.retry_after_s)
        return page
    except AuthenticationFailed as exc:
        return _login_page(request, lang, target, username, exc.message, 401)
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(response, platform, token)
    return response


@router.post("/logout")
async def logout(request: Request, platform: PlatformDep, lang: Lang) -> Response:
    # A session that already ended (idle, expired) just goes to the sign-in page; a live one needs the
    # form's token, so that a foreign page cannot sign a user out.
    if await anyio.to_thread.run_sync(signed_in, request, platform) is not None:
        await csrf_protect(request, platform)
        await anyio.to_thread.run_sync(sessions.end, platform, request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse(f"/login?lang={lang}", status_code=303)
    clear_session_cookie(response, platform)
    return response


def _password_page(
    request: Request,
    principal: Any,
    lang: str,
    *,
    error: str = "",
    field: str | None = None,
    done: bool = False,
    status_code: int = 200,
) -> HTMLResponse:
    context = console_context(request, principal, lang)
    context["t"].update(STRINGS[lang])
    context.update(error=error, field=field, done=done)
    return templates.TemplateResponse(request, "console/password.html", context, status_code=status_code)


@router.get("/account/password", response_class=HTMLResponse)
def password_form(request: Request, principal: ConsoleUser, lang: Lang) -> HTMLResponse:
    return _password_page(request, principal, lang)


@router.post("/account/password", response_class=HTMLResponse, dependencies=[CsrfForm])
def change_password(
    request: Request,
    platform: PlatformDep,
    principal: ConsoleUser,
    lang: Lang,
    current_password: Annotated[str, Form(max_length=1000)],
    new_password: Annotated[str, Form(max_length=1000)],
    confirm_password: Annotated[str, Form(max_length=1000)],
) -> HTMLResponse:
    try:
        token = sessions.change_password(
            platform,
            principal,
            current_password,
            new_password,
            confirm_password,
            address=_address(request),
            user_agent=request.headers.get("user-agent", ""),
        )
    except TooManyAttempts as exc:
        return _password_page(
            request, principal, lang, error=exc.message, field="current_password", status_code=429
        )
    except (AuthenticationFailed, InvalidInput) as exc:
        return _password_page(request, principal, lang, error=exc.message, field=exc.field, status_code=422)
    # The old session ended with every other one; the page is answered under the new session.
    request.state.console_signed_in = sessions.resolve(platform, token)
    request.cookies[SESSION_COOKIE] = token
    response = _password_page(request, principal, lang, done=True)
    set_session_cookie(response, platform, token)
    return response


@router.get("/console", response_class=HTMLResponse)
def console_home(request: Request, platform: PlatformDep, principal: ConsoleUser, lang: Lang) -> Response:
    home = role_home(request, principal.role)
    if home is not None:
        return RedirectResponse(f"{home}?lang={lang}", status_code=303)
    context = console_context(request, principal, lang)
    context["t"].update(STRINGS[lang])
    mounted = mounted_paths(request)
    context["capabilities"] = [
        {"href": path, "label": zh if lang == "zh" else en, "text": tz if lang == "zh" else te}
        for path, zh, en, tz, te in CAPABILITIES.get(principal.role, [])
        if path in mounted
    ]
    context["principal"] = principal
    return templates.TemplateResponse(request, "console/home.html", context)
