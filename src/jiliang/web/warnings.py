"""Warning workflow pages (预警 → 处置; issue 11, and the energy imbalances of issue 13): the warning list
of the jurisdiction with its filters, the inspector's assigned-to-me list, one warning with its evidence
chart (and the same numbers as a table) and the workflow's forms, and the risk list (风险防控清单) with its
CSV. Every page calls the warning services with the signed-in supervisor: another region's warning is
answered as not found."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from jiliang.api.deps import PlatformDep
from jiliang.api.routers.transfer import spooled_download
from jiliang.domain.access import Principal, Role
from jiliang.errors import JiliangError, NotFound
from jiliang.services import organisations
from jiliang.services.common import require_role
from jiliang.services.platform import Platform
from jiliang.services.warnings import queries, workflow
from jiliang.telemetry import workflow as rules
from jiliang.web.auth import ConsoleUser, CsrfForm, Lang, console_context
from jiliang.web.common import local_time, templates

router = APIRouter(prefix="/console/warnings", include_in_schema=False)
Id = Annotated[int, Path(ge=1, le=2**63 - 1)]
PAGE = 50

DETECTORS: dict[str, tuple[str, str]] = {
    "consistency": ("一致性", "consistency"),
    "drift": ("漂移与超差", "drift and out of tolerance"),
    "values": ("数值异常", "impossible values"),
    "liveness": ("在线与时钟", "liveness and clock"),
    "tamper": ("开封与干扰事件", "tamper events"),
    "cheating": ("作弊特征", "cheating patterns"),
    "energy_balance": ("能源平衡", "energy balance"),
}
# What a person reads for a detector's condition and a device's event (the codes stay in the API and the
# CSV); a code without a label is shown as it is.
CONDITIONS: dict[str, tuple[str, str]] = {
    "totaliser": ("累计数与交易量不符", "totaliser disagrees with the transactions"),
    "check_load": ("核查载荷误差超差", "check-load error beyond the MPE"),
    "amount": ("金额与数量×单价不符", "amount disagrees with quantity × price"),
    "pulses": ("脉冲数与体积不符", "pulses disagree with the volume"),
    "reference_energy": ("充电电量与参考表不符", "charged energy disagrees with the reference meter"),
    "vehicle_energy": ("充电电量与车端电量不符", "charged energy disagrees with the vehicle's figure"),
    "drift": ("示值误差漂移", "error drifting"),
    "out_of_tolerance": ("示值误差超差", "error beyond the MPE"),
    "reverse": ("示数倒走", "register running backwards"),
    "stuck": ("示数停滞", "register stuck"),
    "impossible": ("不可能的数值", "impossible value"),
    "zero": ("持续零值", "zero values"),
    "offline": ("离线", "offline"),
    "gap": ("数据缺失", "gap in the data"),
    "clock_jump": ("时钟跳变", "clock jump"),
    "size_dependent": ("误差随交易量变化（疑似作弊）", "error depends on transaction size (suspected cheating)"),
    "change_after_event": ("事件后误差突变（疑似作弊）", "error changed after an event (suspected cheating)"),
    "imbalance": ("能源不平衡", "energy imbalance"),
}
EVENTS: dict[str, tuple[str, str]] = {
    "seal_opened": ("铅封开启", "seal opened"),
    "seal_closed": ("铅封恢复", "seal closed"),
    "case_opened": ("机壳开启", "case opened"),
    "case_locked": ("机壳锁闭", "case locked"),
    "cover_opened": ("表盖开启", "cover opened"),
    "cover_closed": ("表盖闭合", "cover closed"),
    "encoder_mismatch": ("编码器不匹配", "encoder mismatch"),
    "encoder_replaced": ("更换编码器", "encoder replaced"),
    "main_board_replaced": ("更换主板", "main board replaced"),
    "remote_unlock": ("远程解锁", "remote unlock"),
    "magnetic_interference": ("磁场干扰", "magnetic interference"),
    "reverse_energy": ("反向电能", "reverse energy"),
    "clock_set": ("校时", "clock set"),
    "tamper": ("防拆报警", "tamper"),
    "tamper_cleared": ("防拆报警解除", "tamper cleared"),
    "leak": ("泄漏", "leak"),
    "zero_set": ("置零", "zero set"),
    "tare_set": ("去皮", "tare set"),
}
EVIDENCE_KEYS: dict[str, tuple[str, str]] = {
    "message_id": ("报文编号", "message id"),
    "device_time": ("设备时间", "device time"),
    "register_step": ("示数增量", "register step"),
}
SEVERITY: dict[str, tuple[str, str]] = {
    "critical": ("严重", "critical"),
    "warning": ("警告", "warning"),
    "info": ("提示", "info"),
}
SOURCES: dict[str, tuple[str, str]] = {
    "telemetry": ("远程监管", "remote supervision"),
    "energy": ("能耗在线监测", "energy monitoring"),
}

STRINGS: dict[str, dict[str, str]] = {
    "zh": {
        "warnings": "预警处置",
        "warnings_intro": "远程监管检测规则与能源平衡核查发出的预警：派发、现场核查、处置、办结。超过处置期限仍未处置的标为超期。",
        "mine": "派给我的预警",
        "mine_intro": "派给您现场核查的预警，按编号倒序。",
        "risk": "风险防控清单",
        "risk_intro": "按区划和器具类别汇总：未办结（其中严重、超期）的预警，一年内核查属实与已处置的预警。有严重或超期预警为高风险，有未办结或属实预警为中风险。",
        "export_csv": "导出 CSV",
        "state": "处置状态",
        "severity": "级别",
        "detector": "类型",
        "source": "来源",
        "region": "区划",
        "overdue": "超期",
        "only_overdue": "只看超期",
        "all": "全部",
        "filter": "筛选",
        "id": "编号",
        "instrument": "计量器具",
        "owner": "使用单位",
        "condition": "条件",
        "raised_at": "发出时间",
        "due_at": "处置期限",
        "assignee": "核查人员",
        "status": "条件状态",
        "active": "持续中",
        "cleared": "已消除",
        "none": "暂无预警。",
        "total": "共 {n} 条",
        "prev": "上一页",
        "next": "下一页",
        "warning": "预警",
        "device": "设备",
        "evidence": "证据",
        "chart": "证据曲线",
        "chart_table": "证据数据表",
        "balance_chart": "上级表与下级表的消耗量",
        "time": "设备时间",
        "events": "事件",
        "trigger": "触发预警的读数",
        "node": "节点",
        "role": "层级",
        "parent": "上级（总表）",
        "child": "下级",
        "value": "消耗量",
        "mpe": "最大允许误差 %",
        "difference": "差值",
        "tolerance": "允差",
        "rule_numbers": "规则数值",
        "steps": "处置记录",
        "step_at": "时间",
        "actor": "经办人",
        "action": "操作",
        "note": "说明",
        "no_steps": "尚无处置记录。",
        "take_step": "处置操作",
        "assign": "派发",
        "assign_to": "派给",
        "due_hint": "留空则按级别默认期限",
        "inspect": "记录现场核查",
        "findings": "现场核查情况",
        "confirmed": "预警是否属实",
        "yes": "属实（发现问题）",
        "no": "不属实（未发现问题）",
        "measured_error": "实测误差（%）",
        "dispose": "处置",
        "disposal": "处置方式",
        "close": "办结",
        "dismiss": "无需处置（条件已消除）",
        "reason": "理由",
        "instrument_state": "器具状态",
        "in_service": "在用",
        "suspended": "停用",
        "scrapped": "报废",
        "due_on": "下次检定",
        "case": "立案",
        "closed_note": "该预警已办结。",
        "saved": "已保存。",
        "error": "未保存",
        "level": "风险等级",
        "instruments": "涉及器具",
        "open": "未办结",
        "critical_open": "其中严重",
        "confirmed_year": "属实（一年内）",
        "disposed_year": "已处置（一年内）",
        "out_of_service": "更换/封存",
        "item": "器具类别",
        "no_risk": "辖区内没有预警。",
        "to_list": "返回预警列表",
    },
    "en": {
        "warnings": "Warnings and disposal",
        "warnings_intro": "Warnings raised by the remote-supervision detectors and by energy balance checks: assign, inspect on site, dispose, close. A warning still open after its deadline is overdue.",
        "mine": "Warnings assigned to me",
        "mine_intro": "Warnings assigned to you for on-site inspection, newest first.",
        "risk": "Risk list",
        "risk_intro": "By region and instrument type: warnings still open (critical, overdue) and those confirmed and disposed in the last year. High with a critical or overdue warning open; medium with any open or confirmed.",
        "export_csv": "Export CSV",
        "state": "State",
        "severity": "Severity",
        "detector": "Type",
        "source": "Source",
        "region": "Region",
        "overdue": "Overdue",
        "only_overdue": "Overdue only",
        "all": "All",
        "filter": "Filter",
        "id": "No.",
        "instrument": "Instrument",
        "owner": "Owner",
        "condition": "Condition",
        "raised_at": "Raised",
        "due_at": "Deadline",
        "assignee": "Inspector",
        "status": "Condition",
        "active": "persists",
        "cleared": "cleared",
        "none": "No warnings.",
        "total": "{n} in all",
        "prev": "Previous",
        "next": "Next",
        "warning": "Warning",
        "device": "Device",
        "evidence": "Evidence",
        "chart": "Evidence chart",
        "chart_table": "Evidence data",
        "balance_chart": "Consumption of the parent meter and of its children",
        "time": "Device time",
        "events": "Events",
        "trigger": "reading that raised the warning",
        "node": "Node",
        "role": "Level",
        "parent": "parent (main meter)",
        "child": "child",
        "value": "Consumption",
        "mpe": "MPE %",
        "difference": "Difference",
        "tolerance": "Tolerance",
        "rule_numbers": "The rule's numbers",
        "steps": "Steps taken",
        "step_at": "When",
        "actor": "By",
        "action": "Step",
        "note": "Note",
        "no_steps": "No steps yet.",
        "take_step": "Next step",
        "assign": "Assign",
        "assign_to": "Assign to",
        "due_hint": "empty: the severity's default deadline",
        "inspect": "Record the on-site inspection",
        "findings": "Findings on site",
        "confirmed": "Is the warning confirmed?",
        "yes": "confirmed (a fault was found)",
        "no": "not confirmed (no fault found)",
        "measured_error": "Measured error (%)",
        "dispose": "Dispose",
        "disposal": "Disposal",
        "close": "Close",
        "dismiss": "Dismiss (the condition has cleared)",
        "reason": "Reason",
        "instrument_state": "Instrument status",
        "in_service": "in service",
        "suspended": "out of service",
        "scrapped": "scrapped",
        "due_on": "Verification due",
        "case": "Case",
        "closed_note": "This warning is closed.",
        "saved": "Saved.",
        "error": "Not saved",
        "level": "Risk",
        "instruments": "Instruments",
        "open": "Open",
        "critical_open": "critical",
        "confirmed_year": "Confirmed (1 year)",
        "disposed_year": "Disposed (1 year)",
        "out_of_service": "Replaced / sealed",
        "item": "Instrument type",
        "no_risk": "No warnings in the jurisdiction.",
        "to_list": "Back to the warning list",
    },
}


def _pick(table: dict[Any, tuple[str, str]], lang: str) -> dict[str, str]:
    i = 0 if lang == "zh" else 1
    return {str(k): v[i] for k, v in table.items()}


def _context(request: Request, principal: Principal, lang: str, title_key: str) -> dict[str, Any]:
    require_role(principal, Role.SUPERVISOR)
    context = console_context(request, principal, lang)
    context["t"].update(STRINGS[lang])
    context["title"] = context["t"][title_key]
    context["labels"] = {
        "state": _pick(rules.STATE_ZH, lang),
        "action": _pick(rules.ACTION_ZH, lang),
        "disposal": _pick(rules.DISPOSAL_ZH, lang),
        "detector": _pick(DETECTORS, lang),
        "condition": _pick({**CONDITIONS, **EVENTS}, lang),
        "event": _pick(EVENTS, lang),
        "evidence": _pick(EVIDENCE_KEYS, lang),
        "severity": _pick(SEVERITY, lang),
        "source": _pick(SOURCES, lang),
    }
    return context


def _when(value: str | None) -> str:
    return local_time(datetime.fromisoformat(value)) if value else ""


def _evidence_value(value: int | float | str) -> int | float | str:
    """A moment in the evidence (ISO 8601 with its offset) in Beijing time; anything else as it is."""
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] == "T":
        try:
            return _when(value)
        except ValueError:
            return value
    return value


def _rows(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for i in items:
        i["raised_local"], i["due_local"] = _when(i["raised_at"]), _when(i["due_at"])
    return items


def _page(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    return templates.TemplateResponse(request, f"console/{name}", context, status_code=status_code)


def _regions(platform: Platform, principal: Principal, lang: str) -> dict[str, str]:
    return {
        r.code: r.name_zh if lang == "zh" else (r.name_en or r.name_zh)
        for r in organisations.list_regions(platform, principal)
    }


@router.get("", response_class=HTMLResponse)
def list_page(
    request: Request,
    platform: PlatformDep,
    principal: ConsoleUser,
    lang: Lang,
    state: Annotated[str, Query(max_length=12)] = "",
    severity: Annotated[str, Query(max_length=10)] = "",
    detector: Annotated[str, Query(max_length=20)] = "",
    region_code: Annotated[str, Query(max_length=6)] = "",
    source: Annotated[str, Query(max_length=10)] = "",
    overdue: Annotated[str, Query(max_length=3)] = "",
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> HTMLResponse:
    context = _context(request, principal, lang, "warnings")
    found = queries.list_warnings(
        platform,
        principal,
        state=state,
        severity=severity,
        detector=detector,
        region_code=region_code,
        source=source,
        overdue=overdue == "1",
        offset=offset,
        limit=PAGE,
    )
    filters = {
        "state": state,
        "severity": severity,
        "detector": detector,
        "region_code": region_code,
        "source": source,
        "overdue": overdue,
    }
    context.update(
        items=_rows(found["items"]),
        total=found["total"],
        filters=filters,
        regions=_regions(platform, principal, lang),
        offset=offset,
        page=PAGE,
        query={k: v for k, v in filters.items() if v},
    )
    return _page(request, "warnings.html", context)


@router.get("/mine", response_class=HTMLResponse)
def mine_page(request: Request, platform: PlatformDep, principal: ConsoleUser, lang: Lang) -> HTMLResponse:
    context = _context(request, principal, lang, "mine")
    found = queries.list_warnings(platform, principal, assigned_to_me=True, limit=queries.MAX_LIST)
    context.update(items=_rows([i for i in found["items"] if i["state"] != "closed"]), total=found["total"])
    return _page(request, "warnings_mine.html", context)


@router.get("/risk", response_class=HTMLResponse)
def risk_page(
    request: Request,
    platform: PlatformDep,
    principal: ConsoleUser,
    lang: Lang,
    region_code: Annotated[str, Query(max_length=6)] = "",
) -> HTMLResponse:
    context = _context(request, principal, lang, "risk")
    context.update(
        rows=queries.risk_list(platform, principal, region_code),
        region_code=region_code,
        regions=_regions(platform, principal, lang),
    )
    return _page(request, "warnings_risk.html", context)


@router.get("/risk/export")
def risk_export(
    platform: PlatformDep,
    principal: ConsoleUser,
    lang: Lang,
    region_code: Annotated[str, Query(max_length=6)] = "",
) -> Response:
    require_role(principal, Role.SUPERVISOR)
    return spooled_download(
        platform,
        principal,
        lambda sink: queries.export_risk_list(platform, principal, region_code, sink, lang),
        "csv",
        f"risk-list-{platform.local_today().isoformat()}",
    )


def _detail(
    request: Request, platform: Platform, principal: Principal, lang: str, warning_id: int
) -> dict[str, Any]:
    context = _context(request, principal, lang, "warning")
    w = queries.get_warning(platform, principal, warning_id)
    w["raised_local"], w["due_local"] = _when(w["raised_at"]), _when(w["due_at"])
    w["cleared_local"] = _when(w["cleared_at"])
    for s in w["steps"]:
        s["at_local"] = _when(s["at"])
    numbers = {
        k: _evidence_value(v)
        for k, v in (w["evidence"] or {}).items()
        if isinstance(v, int | float | str) and k != "events"
    }
    context.update(
        w=w,
        numbers=numbers,
        title=f"{context['t']['warning']} {w['id']}",
        disposals=[d.value for d in rules.Disposal],
        chart={
            "series": w["series"],
            "labels": {
                "trigger": context["t"]["trigger"],
                "parent": context["t"]["parent"],
                "child": context["t"]["child"],
                "tolerance": context["t"]["tolerance"],
            },
            "lang": lang,
        },
    )
    if request.query_params.get("done"):
        context["notice"] = context["t"]["saved"]
    return context


@router.get("/{warning_id}", response_class=HTMLResponse)
def detail_page(
    request: Request, platform: PlatformDep, principal: ConsoleUser, lang: Lang, warning_id: Id
) -> HTMLResponse:
    return _page(request, "warning.html", _detail(request, platform, principal, lang, warning_id))


@router.post("/{warning_id}/step", response_class=HTMLResponse, dependencies=[CsrfForm])
def step(
    request: Request,
    platform: PlatformDep,
    principal: ConsoleUser,
    lang: Lang,
    warning_id: Id,
    action: Annotated[str, Form(max_length=20)] = "",
    assignee_id: Annotated[str, Form(max_length=20)] = "",
    due_at: Annotated[str, Form(max_length=30)] = "",
    findings: Annotated[str, Form(max_length=5000)] = "",
    confirmed: Annotated[str, Form(max_length=5)] = "",
    measured_error: Annotated[str, Form(max_length=30)] = "",
    disposal: Annotated[str, Form(max_length=20)] = "",
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    require_role(principal, Role.SUPERVISOR)
    data = {
        "assignee_id": assignee_id,
        "due_at": due_at,
        "findings": findings,
        "confirmed": confirmed,
        "measured_error": measured_error,
        "disposal": disposal or None,
        "note": note,
    }
    try:
        workflow.act(platform, principal, warning_id, action, data)
    except NotFound:
        raise
    except JiliangError as exc:
        context = _detail(request, platform, principal, lang, warning_id)
        context.update(error=exc.message, field=exc.field, form_action=action)
        return _page(request, "warning.html", context, 422)
    return RedirectResponse(f"{router.prefix}/{warning_id}?done=1&lang={lang}", status_code=303)
