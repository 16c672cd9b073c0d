"""The administrator's catalogue pages (/console/admin/catalogue): the versions and their dates, upload a
version (the layout of docs/catalogue.md, refused whole with the row-by-row report), its differences
from the version in force row by row, and activation from a date. Everything through
``services.catalogue``, the same functions as the API and ``jiliang catalogue``."""

from __future__ import annotations

import io
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from jiliang.api.deps import PlatformDep
from jiliang.domain.access import Principal, Role
from jiliang.domain.catalogue import EVIDENCE_LABELS, FORM_LABELS, MODE_LABELS, validate_version_name
from jiliang.errors import InvalidInput, JiliangError, NotAuthorised
from jiliang.services import catalogue as catalogue_service
from jiliang.services.platform import Platform
from jiliang.web.auth import ConsoleUser, CsrfForm, Lang, console_context
from jiliang.web.common import refused, templates

router = APIRouter(prefix="/console/admin/catalogue", include_in_schema=False)

STRINGS: dict[str, dict[str, str]] = {
    "zh": {
        "title": "强制管理计量器具目录",
        "versions": "目录版本",
        "version": "版本",
        "state": "状态",
        "active_from": "启用日期",
        "items": "目录项",
        "rules": "规则",
        "file_name": "上传文件",
        "flags_applied": "强检标志已按此版本重算",
        "flags_not_yet": "尚未（启用当日或服务每日运行时重算在用器具的强检标志）",
        "loaded_at": "上传时间",
        "in_force": "现行",
        "scheduled": "待生效",
        "superseded": "已被替代",
        "loaded": "已上传，未启用",
        "upload": "上传新版本",
        "upload_intro": "按 docs/catalogue.md 的格式（CSV 或 XLSX，每条检定规则一行）上传。任何一行有误，整个文件都不会保存，并逐行列出问题。上传后先查看与现行版本的差异，再选择启用日期。",
        "version_name": "新版本名（如 SAMR-2026-01）",
        "file": "文件（CSV 或 XLSX）",
        "send": "上传",
        "export": "导出 CSV",
        "diff": "与现行版本 {base} 的差异",
        "no_diff": "与现行版本没有差异。",
        "item": "目录项",
        "change": "变化",
        "scope": "规格范围",
        "field": "字段",
        "old": "原",
        "new": "新",
        "added": "新增",
        "removed": "删除",
        "changed": "修改",
        "activate": "自此日起启用",
        "activate_intro": "启用后，此日起录入的检定按新版本确定到期日；已有检定记录的到期日、检定形式和规程不变。",
        "unschedule": "撤销待生效的启用",
        "refused": "文件被拒绝，未保存任何数据",
        "row": "行",
        "reason": "原因",
        "value": "原值",
        "error": "未能完成",
        "open": "查看差异与启用",
        "rule": "规则",
        "every_size": "全部规格",
    },
    "en": {
        "title": "Catalogue of instruments under compulsory management",
        "versions": "Versions",
        "version": "Version",
        "state": "State",
        "active_from": "In force from",
        "items": "Items",
        "rules": "Rules",
        "file_name": "File",
        "flags_applied": "Compulsory flags recomputed",
        "flags_not_yet": "not yet (on its first day in force, by the activation or the daily run)",
        "loaded_at": "Loaded",
        "in_force": "in force",
        "scheduled": "scheduled",
        "superseded": "superseded",
        "loaded": "loaded, not activated",
        "upload": "Upload a version",
        "upload_intro": "Upload in the layout of docs/catalogue.md (CSV or XLSX, one row per verification rule). "
        "If any row is wrong nothing is stored and every problem is listed by row. Then look at the "
        "differences from the version in force and choose the day it takes over.",
        "version_name": "New version name (e.g. SAMR-2026-01)",
        "file": "File (CSV or XLSX)",
        "send": "Upload",
        "export": "Export CSV",
        "diff": "Differences from the version in force, {base}",
        "no_diff": "No differences from the version in force.",
        "item": "Item",
        "change": "Change",
        "scope": "Size range",
        "field": "Field",
        "old": "Old",
        "new": "New",
        "added": "added",
        "removed": "removed",
        "changed": "changed",
        "activate": "Put in force from this day",
        "activate_intro": "From that day, verifications entered take their due dates from the new version; the "
        "due dates, forms and regulations of records already made do not change.",
        "unschedule": "Withdraw the scheduled activation",
        "refused": "File refused; nothing was stored",
        "row": "Row",
        "reason": "Reason",
        "value": "Value",
        "error": "Could not complete",
        "open": "Differences and activation",
        "rule": "rule",
        "every_size": "every size",
    },
}
RULE_ONLY = ("form", "period_months", "service_life_months", "regulation", "rule")
FIELD_LABELS: dict[str, tuple[str, str]] = {
    "level1_no": ("一级序号", "first-level number"),
    "level1_zh": ("一级目录", "first-level name"),
    "level1_en": ("一级目录英文", "first-level name (English)"),
    "level2_zh": ("二级目录", "second-level name"),
    "level2_en": ("二级目录英文", "second-level name (English)"),
    "mode": ("监管方式", "regulatory mode"),
    "effective_from": ("实施日期", "effective from"),
    "evidence": ("依据", "evidence"),
    "form": ("检定形式", "verification form"),
    "period_months": ("检定周期（月）", "period (months)"),
    "service_life_months": ("使用期限（月）", "service life (months)"),
    "regulation": ("检定规程", "regulation"),
    "rule": ("规则", "rule"),
}


def _value(value: str, lang: str) -> str:
    """Codes as words: P+V → 型式批准、强制检定, periodic → 周期检定, confirmed → 已核实."""
    for labels in (MODE_LABELS, FORM_LABELS):
        for key, label in labels.items():
            if value == key.value:
                return label if lang == "zh" else value
    if value in EVIDENCE_LABELS:
        return EVIDENCE_LABELS[value] if lang == "zh" else value
    if value in ("added", "removed"):
        return STRINGS[lang][value]
    return value


def _context(request: Request, principal: Principal, lang: str, **extra: Any) -> dict[str, Any]:
    if principal.role is not Role.ADMINISTRATOR:
        raise NotAuthorised("仅系统管理员可用 / administrators only", field="role")
    context = console_context(request, principal, lang)
    context["t"].update(STRINGS[lang])
    context.update(title=STRINGS[lang]["title"], **extra)
    return context


def _list_context(
    request: Request, platform: Platform, principal: Principal, lang: str, **extra: Any
) -> dict[str, Any]:
    return _context(
        request, principal, lang, versions=catalogue_service.list_versions(platform), values={}, **extra
    )


@router.get("", response_class=HTMLResponse)
def versions(request: Request, platform: PlatformDep, principal: ConsoleUser, lang: Lang) -> HTMLResponse:
    return templates.TemplateResponse(
        request, "admin/catalogue.html", _list_context(request, platform, principal, lang)
    )


@router.post("", response_class=HTMLResponse, dependencies=[CsrfForm])
async def upload(request: Request, platform: PlatformDep, principal: ConsoleUser, lang: Lang) -> Response:
    form = await request.form()
    file = form.get("file")
    version = str(form.get("version") or "").strip()

    def fail(exc: JiliangError) -> HTMLResponse:
        context = _list_context(request, platform, principal, lang)
        context["values"] = {"version": version}
        return refused(request, "admin/catalogue.html", context, exc)

    try:
        _context(request, principal, lang)  # administrators only, before reading the file
        validate_version_name(version)
        if not isinstance(file, UploadFile) or not file.filename:
            raise InvalidInput("请选择文件 / choose a file", field="file")
        fmt: Literal["csv", "xlsx"] = "xlsx" if file.filename.lower().endswith(".xlsx") else "csv"
        if not file.filename.lower().endswith((".csv", ".xlsx")):
            raise InvalidInput("请上传 .csv 或 .xlsx 文件 / upload a .csv or .xlsx file", field="file")
        await run_in_threadpool(
            lambda: catalogue_service.upload_version(
                platform,
                principal,
                file.file,
                fmt=fmt,
                version=version,
                source_name=file.filename or "",
            )
        )
    except NotAuthorised:
        raise
    except JiliangError as exc:
        return await run_in_threadpool(fail, exc)
    finally:
        if isinstance(file, UploadFile):
            await file.close()
    return RedirectResponse(f"/console/admin/catalogue/{version}?lang={lang}", status_code=303)


def _detail(
    request: Request, platform: Platform, principal: Principal, lang: str, version: str, **extra: Any
) -> dict[str, Any]:
    context = _context(request, principal, lang, **extra)
    info = catalogue_service.get_version(platform, version)  # NotFound → 404 page
    base = catalogue_service.active_version(platform)
    i = 0 if lang == "zh" else 1
    rows = []
    for d in catalogue_service.diff(platform, version, base):
        if not d.changes:
            rows.append(
                {
                    "item": f"{d.item_code} {d.name_zh}",
                    "change": d.change,
                    "scope": "",
                    "field": "",
                    "old": "",
                    "new": "",
                }
            )
        for c in d.changes:
            rows.append(
                {
                    "item": f"{d.item_code} {d.name_zh}",
                    "change": d.change,
                    "scope": c.scope or (STRINGS[lang]["every_size"] if c.field in RULE_ONLY else ""),
                    "field": FIELD_LABELS.get(c.field, (c.field, c.field))[i],
                    "old": _value(c.old, lang),
                    "new": _value(c.new, lang),
                }
            )
    context.update(info=info, base=base, rows=rows, today=platform.local_today().isoformat())
    return context


@router.get("/{version}", response_class=HTMLResponse)
def version_page(
    request: Request, version: str, platform: PlatformDep, principal: ConsoleUser, lang: Lang
) -> HTMLResponse:
    context = _detail(request, platform, principal, lang, version, values={})
    return templates.TemplateResponse(request, "admin/catalogue_version.html", context)


@router.post("/{version}/activate", response_class=HTMLResponse, dependencies=[CsrfForm])
def activate(
    request: Request,
    version: str,
    platform: PlatformDep,
    principal: ConsoleUser,
    lang: Lang,
    active_from: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    _context(request, principal, lang)
    try:
        catalogue_service.activate(platform, principal, version, active_from)
    except NotAuthorised:
        raise
    except JiliangError as exc:
        context = _detail(request, platform, principal, lang, version, values={"active_from": active_from})
        return refused(request, "admin/catalogue_version.html", context, exc)
    return RedirectResponse(f"/console/admin/catalogue/{version}?lang={lang}", status_code=303)


@router.post("/{version}/unschedule", dependencies=[CsrfForm])
def unschedule(
    request: Request, version: str, platform: PlatformDep, principal: ConsoleUser, lang: Lang
) -> Response:
    _context(request, principal, lang)
    catalogue_service.unschedule(platform, principal, version)
    return RedirectResponse(f"/console/admin/catalogue/{version}?lang={lang}", status_code=303)


@router.get("/{version}/export.csv")
def export(
    request: Request, version: str, platform: PlatformDep, principal: ConsoleUser, lang: Lang
) -> Response:
    _context(request, principal, lang)
    catalogue_service.get_version(platform, version)
    sink = io.BytesIO()
    catalogue_service.export_version(platform, version, sink, "zh")
    return Response(
        sink.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="catalogue-{version}.csv"'},
    )
