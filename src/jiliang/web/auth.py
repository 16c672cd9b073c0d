"""Who is signed in to the console, CSRF protection, the language, and what every console page shares.

The contract the console's pages build on (docs/console.md):

- ``ConsoleUser``: the signed-in caller (a ``Principal``) from the server-side session cookie; a browser
  that is not signed in is sent to ``/login?next=<path>`` (303), never shown a 500.
- ``CsrfForm``: put ``dependencies=[CsrfForm]`` on every POST page route; forms carry
  ``<input type="hidden" name="csrf_token" value="{{ csrf_token }}">`` (scripts send ``X-CSRF-Token``).
- ``Lang``: ``zh`` (default) or ``en`` from ``?lang=``, remembered in a cookie.
- ``console_context(request, principal, lang)``: ``t`` (base strings; pages merge theirs in), ``tb``
  (the layout's strings, which pages' keys cannot shadow), ``lang``, ``user``, ``nav`` (the role's menu),
  ``csrf_token``, ``version``; pages add their own keys and extend ``console/base.html``.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Iterator
from typing import Annotated, Any
from urllib.parse import quote, urlencode

import anyio.to_thread
from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from jiliang import __version__
from jiliang.api.deps import PlatformDep
from jiliang.domain.access import Principal, Role
from jiliang.errors import JiliangError, NotAuthorised, NotFound
from jiliang.services import sessions
from jiliang.services.platform import Platform
from jiliang.web.common import templates

SESSION_COOKIE = "jl_session"
PRE_COOKIE = "jl_pre"  # a signed-out browser's random token, so that the sign-in form has a CSRF token too
LANG_COOKIE = "jl_lang"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"

STRINGS: dict[str, dict[str, str]] = {
    "zh": {
        "brand": "智慧计量监管平台",
        "switch": "English",
        "switch_lang": "en",
        "menu": "菜单",
        "sign_out": "退出",
        "password": "修改密码",
        "signed_in_as": "当前用户",
        "skip": "跳到正文",
        "footer": "jiliang 计量 · Apache-2.0 · 时间均为北京时间",
        "not_found": "未找到",
        "not_found_text": "没有这个对象，或它不在您的管辖范围内。",
        "forbidden": "无权操作",
        "csrf": "表单已过期",
        "csrf_text": "为保护您的账户，表单须从本站页面提交。请返回重新打开页面后再提交。",
        "back": "返回首页",
        "error": "无法完成",
    },
    "en": {
        "brand": "Smart metrology supervision",
        "switch": "中文",
        "switch_lang": "zh",
        "menu": "Menu",
        "sign_out": "Sign out",
        "password": "Change password",
        "signed_in_as": "Signed in as",
        "skip": "Skip to content",
        "footer": "jiliang · Apache-2.0 · times in China Standard Time",
        "not_found": "Not found",
        "not_found_text": "There is no such object, or it is outside your jurisdiction.",
        "forbidden": "Not allowed",
        "csrf": "The form has expired",
        "csrf_text": "To protect your account, forms must be sent from this site's pages. Go back, reopen "
        "the page and send it again.",
        "back": "Back to the start page",
        "error": "Could not complete",
    },
}

ROLE_LABELS: dict[Role, tuple[str, str]] = {
    Role.ADMINISTRATOR: ("系统管理员", "Administrator"),
    Role.SUPERVISOR: ("计量监管人员", "Supervisor"),
    Role.INSTITUTION: ("检定机构", "Verification institution"),
    Role.ENTERPRISE: ("使用单位", "Enterprise"),
    Role.PUBLIC: ("社会公众", "Public"),
    Role.COMPLAINT_OFFICER: ("举报受理专员", "Complaint officer"),
}

# Each role's start page under /console; /console redirects there once that page is mounted.
HOMES: dict[Role, str] = {
    Role.SUPERVISOR: "/console/supervision",
    Role.INSTITUTION: "/console/institution",
    Role.ENTERPRISE: "/console/enterprise",
    Role.ADMINISTRATOR: "/console/admin",
    Role.COMPLAINT_OFFICER: "/console/market/complaints",
}

# Each role's menu: (path, Chinese, English). An entry shows only when a page is mounted at its path, so
# the console helpers' pages join the menu by existing; append entries for new pages.
NAV: dict[Role, list[tuple[str, str, str]]] = {
    Role.ADMINISTRATOR: [
        ("/console/admin", "管理首页", "Administration"),
        ("/console/admin/users", "用户", "Users"),
        ("/console/admin/targets", "规划目标", "Plan targets"),
        ("/console/admin/webhooks", "推送与发件箱", "Webhooks and outbox"),
        ("/console/admin/catalogue", "强检目录", "Catalogue"),
        ("/console/supervision/telemetry/provision", "设备登记", "Device provisioning"),
        ("/", "指标", "Indicators"),
        ("/docs", "接口文档", "API docs"),
    ],
    Role.SUPERVISOR: [
        ("/console/supervision", "监管首页", "Dashboard"),
        ("/console/supervision/instruments", "计量器具", "Instruments"),
        ("/console/supervision/organisations", "单位", "Organisations"),
        ("/console/supervision/verifications", "检定记录", "Verification records"),
        ("/console/supervision/followups", "督办", "Follow-ups"),
        ("/", "指标", "Indicators"),
        ("/traceability", "溯源", "Traceability"),
        ("/console/market", "双随机抽查", "Random inspections"),
        ("/console/market/inspectors", "检查人员", "Inspectors"),
        ("/console/market/net-content", "净含量", "Net content"),
        ("/console/market/credit", "诚信计量", "Credit"),
        ("/console/market/cases", "案件", "Cases"),
        ("/console/market/complaints", "举报", "Complaints"),
        ("/console/supervision/energy", "能源计量", "Energy metering"),
        ("/console/supervision/telemetry/provision", "设备登记", "Device provisioning"),
        ("/console/warnings", "预警处置", "Warnings"),
        ("/console/warnings/mine", "我的核查", "Assigned to me"),
        ("/console/warnings/risk", "风险防控清单", "Risk list"),
        ("/console/supervision/state-evaluation", "状态评价", "State evaluation"),
    ],
    Role.INSTITUTION: [
        ("/console/institution", "机构首页", "Institution"),
        ("/console/institution/verifications/new", "录入检定", "Record a verification"),
        ("/console/institution/queue", "待检队列", "Queue"),
        ("/console/institution/certificates", "证书", "Certificates"),
        ("/console/institution/standards", "计量标准", "Standards"),
        ("/uncertainty", "不确定度", "Uncertainty"),
        ("/comparison", "比对", "Comparisons"),
    ],
    Role.ENTERPRISE: [
        ("/console/enterprise", "单位首页", "My organisation"),
        ("/console/enterprise/instruments", "我的器具", "My instruments"),
        ("/console/enterprise/instruments/new", "备案", "File an instrument"),
        ("/console/enterprise/upload", "批量上传", "Bulk upload"),
        ("/console/enterprise/bookings", "预约检定", "Book a verification"),
        ("/verify", "证书核验", "Check a certificate"),
        ("/console/enterprise/due", "下月到期", "Due next month"),
        ("/console/enterprise/certificates", "我的证书", "My certificates"),
        ("/console/enterprise/places", "使用场所", "Places"),
        ("/console/enterprise/energy", "能源计量自查", "Energy self-check"),
    ],
    Role.PUBLIC: [
        ("/verify", "证书核验", "Check a certificate"),
        ("/public", "公开查询", "Public lookups"),
        ("/public/market", "民生计量", "Market supervision"),
    ],
    Role.COMPLAINT_OFFICER: [
        ("/console/market/complaints", "举报", "Complaints"),
        ("/console/market/cases", "案件", "Cases"),
        ("/public/market", "公开页", "Public portal"),
    ],
}


class SignInRequired(Exception):
    """Raised by ``console_principal`` for a browser that is not signed in; answered with a 303."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


class CsrfRefused(Exception):
    """A console POST without the form token of this browser's session; answered with a 403 page."""


def page_lang(
    request: Request,
    lang: Annotated[str | None, Query(pattern="^(zh|en)$", description="界面语言 / page language")] = None,
) -> str:
    """``?lang=`` when given (remembered in a cookie by the middleware), else the cookie, else Chinese."""
    if lang is not None:
        return lang
    remembered = request.cookies.get(LANG_COOKIE)
    return remembered if remembered in ("zh", "en") else "zh"


Lang = Annotated[str, Depends(page_lang)]


def secure_cookies(platform: Platform) -> bool:
    """Cookies are marked Secure when the platform is reached over HTTPS (its configured public URL)."""
    return platform.settings.public_url.lower().startswith("https://")


def signed_in(request: Request, platform: Platform) -> sessions.SignedIn | None:
    """The session of this request's cookie, resolved once per request."""
    if not hasattr(request.state, "console_signed_in"):
        request.state.console_signed_in = sessions.resolve(platform, request.cookies.get(SESSION_COOKIE, ""))
    found: sessions.SignedIn | None = request.state.console_signed_in
    return found


def console_principal(request: Request, platform: PlatformDep) -> Principal:
    found = signed_in(request, platform)
    if found is None:
        raise SignInRequired(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
    return found.principal


ConsoleUser = Annotated[Principal, Depends(console_principal)]


def _form_key(request: Request, platform: Platform) -> str:
    """What the CSRF token of this browser is bound to: its session, or its pre-session token."""
    if signed_in(request, platform) is not None:
        return request.cookies.get(SESSION_COOKIE, "")
    key = request.cookies.get(PRE_COOKIE) or getattr(request.state, "pre_token", "")
    if not key:
        key = secrets.token_urlsafe(24)
    request.state.pre_token = key
    return key


def form_token(request: Request, platform: Platform) -> str:
    return sessions.csrf_token(platform, _form_key(request, platform))


async def csrf_protect(request: Request, platform: PlatformDep) -> None:
    """Refuse a POST whose form token (or ``X-CSRF-Token`` header) is not this browser's."""
    submitted = request.headers.get(CSRF_HEADER, "")
    if not submitted:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        submitted = value if isinstance(value, str) else ""
    if await anyio.to_thread.run_sync(signed_in, request, platform) is not None:
        key = request.cookies.get(SESSION_COOKIE, "")
    else:
        key = request.cookies.get(PRE_COOKIE, "")
    if not sessions.csrf_matches(platform, key, submitted):
        raise CsrfRefused()


CsrfForm = Depends(csrf_protect)


def _paths(routes: list[Any], prefix: str = "") -> Iterator[str]:
    for route in routes:
        path = getattr(route, "path", None)
        if isinstance(path, str):
            yield prefix + path
        inner = getattr(route, "original_router", None)  # FastAPI ≥ 0.16x keeps included routers whole
        if inner is not None:
            context = getattr(route, "include_context", None)
            yield from _paths(inner.routes, prefix + str(getattr(context, "prefix", "")))


def mounted_paths(request: Request) -> frozenset[str]:
    """Every path the app answers (without trailing slashes), computed once per app."""
    app = request.app
    paths: frozenset[str] | None = getattr(app.state, "console_paths", None)
    if paths is None:
        paths = frozenset(p.rstrip("/") or "/" for p in _paths(app.routes))
        app.state.console_paths = paths
    return paths


def role_home(request: Request, role: Role) -> str | None:
    home = HOMES.get(role)
    return home if home is not None and home in mounted_paths(request) else None


def switch_url(request: Request, lang: str) -> str:
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    query.append(("lang", "en" if lang == "zh" else "zh"))
    return request.url.path + "?" + urlencode(query)


def console_context(request: Request, principal: Principal, lang: str) -> dict[str, Any]:
    """What ``console/base.html`` needs; pages add their own keys (``title``, ``t`` merged with theirs)."""
    platform: Platform = request.app.state.platform
    found = signed_in(request, platform)
    zh, en = ROLE_LABELS[principal.role]
    mounted = mounted_paths(request)
    here = request.url.path.rstrip("/") or "/"
    nav = [
        {"href": path, "label": z if lang == "zh" else e, "current": path == here}
        for path, z, e in NAV.get(principal.role, [])
        if path in mounted
    ]
    return {
        "t": dict(STRINGS[lang]),
        "tb": STRINGS[lang],  # the layout's own strings, safe from pages' keys merged into ``t``
        "lang": lang,
        "user": {
            "name": found.display_name if found else principal.username,
            "username": principal.username,
            "role": zh if lang == "zh" else en,
            "jurisdiction": (found.jurisdiction_name if lang == "zh" else found.jurisdiction_name_en)
            if found
            else principal.jurisdiction,
            "organisation": found.organisation_name if found else "",
        },
        "nav": nav,
        "csrf_token": form_token(request, platform),
        "version": __version__,
        "switch_url": switch_url(request, lang),
    }


def anonymous_context(request: Request, lang: str) -> dict[str, Any]:
    """``console_context`` for pages shown before sign-in (the sign-in page): no user, no menu."""
    platform: Platform = request.app.state.platform
    return {
        "t": dict(STRINGS[lang]),
        "tb": STRINGS[lang],
        "lang": lang,
        "user": None,
        "nav": [],
        "csrf_token": form_token(request, platform),
        "version": __version__,
        "switch_url": switch_url(request, lang),
    }


def safe_next(target: str | None) -> str:
    """A local path to return to after sign-in; anything else (another host, ``//x``) goes to /console."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/console"
    if any(ord(c) < 32 for c in target):
        return "/console"
    return target


def set_session_cookie(response: Response, platform: Platform, token: str) -> None:
    # No Max-Age: the cookie ends with the browser; the server ends the session on idle or absolute expiry.
    response.set_cookie(
        SESSION_COOKIE, token, httponly=True, samesite="lax", secure=secure_cookies(platform), path="/"
    )


def clear_session_cookie(response: Response, platform: Platform) -> None:
    response.delete_cookie(
        SESSION_COOKIE, httponly=True, samesite="lax", secure=secure_cookies(platform), path="/"
    )


def _lang_of(request: Request) -> str:
    value = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    return value if value in ("zh", "en") else "zh"


def error_page(request: Request, status_code: int, title: str, text: str) -> HTMLResponse:
    """A console error page (404, 403, …) in the console's layout, signed in or not."""
    platform: Platform = request.app.state.platform
    lang = _lang_of(request)
    found = signed_in(request, platform)
    context = (
        console_context(request, found.principal, lang)
        if found is not None
        else anonymous_context(request, lang)
    )
    context.update(title=title, text=text, home="/console" if found else "/login")
    return templates.TemplateResponse(request, "console/error.html", context, status_code=status_code)


def not_found_page(request: Request) -> HTMLResponse:
    t = STRINGS[_lang_of(request)]
    return error_page(request, 404, t["not_found"], t["not_found_text"])


def install(app: FastAPI) -> None:
    """Console answers: sign-in redirects, CSRF refusals, HTML error pages under /console, and cookies."""

    @app.exception_handler(SignInRequired)
    async def _sign_in(request: Request, exc: SignInRequired) -> Response:
        return RedirectResponse("/login?next=" + quote(exc.path, safe=""), status_code=303)

    @app.exception_handler(CsrfRefused)
    async def _csrf(request: Request, exc: CsrfRefused) -> Response:
        t = STRINGS[_lang_of(request)]
        return await anyio.to_thread.run_sync(error_page, request, 403, t["csrf"], t["csrf_text"])

    api_handler = app.exception_handlers.get(JiliangError)

    async def _domain(request: Request, exc: Exception) -> Response:
        # Console pages answer in HTML; the JSON API keeps its own error shape.
        if request.url.path.startswith(("/console", "/account")) and isinstance(exc, JiliangError):
            t = STRINGS[_lang_of(request)]
            if isinstance(exc, NotFound):
                return await anyio.to_thread.run_sync(not_found_page, request)
            status = 403 if isinstance(exc, NotAuthorised) else 422
            title = t["forbidden"] if status == 403 else t["error"]
            return await anyio.to_thread.run_sync(error_page, request, status, title, exc.message)
        assert api_handler is not None
        result = api_handler(request, exc)
        return await result if isinstance(result, Awaitable) else result

    app.add_exception_handler(JiliangError, _domain)

    validation_handler = app.exception_handlers.get(RequestValidationError)

    async def _validation(request: Request, exc: Exception) -> Response:
        # A malformed id or query on a console page (a tampered URL) gets a page, not JSON.
        if request.url.path.startswith(("/console", "/account")) and isinstance(exc, RequestValidationError):
            first = exc.errors()[0] if exc.errors() else {}
            field = ".".join(str(p) for p in first.get("loc", ())[1:]) or "request"
            t = STRINGS[_lang_of(request)]
            text = f"字段 {field} 无效 / field {field} is invalid: {first.get('msg', '')}"
            return await anyio.to_thread.run_sync(error_page, request, 422, t["error"], text)
        assert validation_handler is not None
        result = validation_handler(request, exc)
        return await result if isinstance(result, Awaitable) else result

    app.add_exception_handler(RequestValidationError, _validation)

    @app.middleware("http")
    async def _cookies(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        platform: Platform = request.app.state.platform
        pre = getattr(request.state, "pre_token", "")
        if pre and request.cookies.get(PRE_COOKIE) != pre:
            response.set_cookie(
                PRE_COOKIE, pre, httponly=True, samesite="lax", secure=secure_cookies(platform), path="/"
            )
        lang = request.query_params.get("lang")
        if lang in ("zh", "en") and request.cookies.get(LANG_COOKIE) != lang:
            response.set_cookie(
                LANG_COOKIE,
                lang,
                max_age=365 * 86400,
                samesite="lax",
                secure=secure_cookies(platform),
                path="/",
            )
        if request.url.path.startswith(("/console", "/login", "/account")):
            response.headers.setdefault("Cache-Control", "no-store")
        return response
