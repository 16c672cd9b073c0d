"""Bulk device provisioning page (issue 11): a supervisor or administrator uploads the installer's CSV
and gets either every problem by row (nothing stored) or the devices with their secrets — shown this
once, as a table and as the credentials CSV to copy or download.

The page calls ``services.telemetry.provisioning`` with the signed-in caller (jurisdiction, audit);
it reads nothing from the database itself.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from starlette.datastructures import UploadFile

from jiliang.api.deps import PlatformDep
from jiliang.domain.access import Principal, Role
from jiliang.errors import InvalidInput, JiliangError
from jiliang.services.common import require_role
from jiliang.services.telemetry import provisioning
from jiliang.web.auth import ConsoleUser, CsrfForm, Lang, console_context
from jiliang.web.common import refused, templates

router = APIRouter(include_in_schema=False)
PATH = "/console/supervision/telemetry/provision"

STRINGS: dict[str, dict[str, str]] = {
    "zh": {
        "title": "批量登记远程监管设备",
        "intro": "上传 CSV（UTF-8 或 GB18030），每行一台设备。任何一行有错，整个文件都不会写入，并逐行列出问题。",
        "columns": "列",
        "column_help": "device_id、instrument_type 必填；器具用 instrument_id、registry_code（器具登记码）或 serial_number"
        "（出厂编号，可加 manufacturer、model）指明；可选 gateway_device_id 与画像参数 mpe、k_factor、interval_s 等。",
        "types": "设备类型",
        "file": "设备 CSV 文件",
        "send": "登记",
        "done": "已登记 {n} 台设备。密钥只显示这一次：请立即复制或下载，交给安装人员，妥善保管。",
        "device_id": "设备标识",
        "instrument": "器具",
        "kind": "类型",
        "topic": "上报主题",
        "secret": "密钥",
        "sheet": "密钥表（CSV）",
        "download": "下载密钥表",
        "broker": "代理的密码与 ACL 文件已重新生成，请向 Mosquitto 发送 SIGHUP。",
        "refused": "文件被拒绝",
        "error": "错误",
        "row": "行",
        "field": "字段",
        "reason": "原因",
        "value": "值",
    },
    "en": {
        "title": "Provision remote devices in bulk",
        "intro": "Upload a CSV (UTF-8 or GB18030), one device per row. If any row is wrong, nothing of the file "
        "is stored and every problem is listed by row.",
        "columns": "Columns",
        "column_help": "device_id and instrument_type are required; name the instrument by instrument_id, "
        "registry_code or serial_number (with manufacturer, model if needed); optional gateway_device_id and "
        "profile overrides mpe, k_factor, interval_s …",
        "types": "Device types",
        "file": "Devices CSV file",
        "send": "Provision",
        "done": "{n} devices provisioned. The secrets are shown this once: copy or download them now for the "
        "installer and keep them safe.",
        "device_id": "Device id",
        "instrument": "Instrument",
        "kind": "Type",
        "topic": "Readings topic",
        "secret": "Secret",
        "sheet": "Credentials sheet (CSV)",
        "download": "Download the credentials sheet",
        "broker": "The broker's password and ACL files were regenerated: send Mosquitto a SIGHUP.",
        "refused": "File refused",
        "error": "Error",
        "row": "Row",
        "field": "Field",
        "reason": "Reason",
        "value": "Value",
    },
}


def _context(request: Request, principal: Principal, lang: str, **extra: Any) -> dict[str, Any]:
    require_role(principal, Role.SUPERVISOR)
    context = console_context(request, principal, lang)
    context["t"].update(STRINGS[lang])
    from jiliang.telemetry.payloads import INSTRUMENT_TYPES

    context.update(title=STRINGS[lang]["title"], types=INSTRUMENT_TYPES, result=None, **extra)
    return context


@router.get(PATH, response_class=HTMLResponse)
def provision_form(request: Request, principal: ConsoleUser, lang: Lang) -> HTMLResponse:
    return templates.TemplateResponse(
        request, "console/telemetry_provision.html", _context(request, principal, lang)
    )


@router.post(PATH, response_class=HTMLResponse, dependencies=[CsrfForm])
async def provision_upload(
    request: Request, platform: PlatformDep, principal: ConsoleUser, lang: Lang
) -> HTMLResponse:
    context = _context(request, principal, lang)
    form = await request.form()
    file = form.get("file")
    if not isinstance(file, UploadFile) or not file.filename:
        return refused(
            request,
            "console/telemetry_provision.html",
            context,
            InvalidInput("请选择文件 / choose a file", field="file"),
        )
    try:
        data = await file.read(provisioning.MAX_BYTES + 1)
        rows = provisioning.read_csv(data)
        result = await run_in_threadpool(
            provisioning.provision,
            platform,
            principal,
            rows,
            first_row=2,
            broker_dir=platform.settings.telemetry_broker_dir,
        )
    except JiliangError as exc:
        return refused(request, "console/telemetry_provision.html", context, exc)
    finally:
        await file.close()
    context["result"] = result
    response = templates.TemplateResponse(
        request, "console/telemetry_provision.html", context, status_code=201
    )
    response.headers["Cache-Control"] = "no-store"  # the secrets must not stay in a cache
    return response
