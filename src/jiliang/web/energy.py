"""Energy metering pages (issue 13): the supervisor's regional view, a unit's page (tree, review with its
shortfalls, balance warnings, carbon report with its uncertainty budget), the review report (HTML and PDF),
and the enterprise's self-check with the upload of its readings.

Every page calls the energy services with the signed-in caller: a unit, review or period outside the
caller's reach is answered as not found.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Path, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from jiliang.api.deps import PlatformDep
from jiliang.domain.access import Principal, Role
from jiliang.energy import intensity, report
from jiliang.energy.rules import ENERGY_LABELS, LEVEL_LABELS, EnergyType, Level
from jiliang.errors import ImportRefused, InvalidInput, NotFound
from jiliang.services.common import require_role
from jiliang.services.energy import carbon_review, readings, regional, reviews, topology, units
from jiliang.services.platform import Platform
from jiliang.web.auth import ConsoleUser, CsrfForm, Lang, console_context
from jiliang.web.common import templates

router = APIRouter(include_in_schema=False)
Id = Annotated[int, Path(ge=1, le=2**63 - 1)]
SUPERVISION = "/console/supervision/energy"
ENTERPRISE = "/console/enterprise/energy"

STRINGS: dict[str, dict[str, str]] = {
    "zh": {
        "regional": "重点用能单位能源计量",
        "regional_intro": "按区县统计的审查情况、计量器具配备率与能耗在线监测覆盖率。",
        "county": "区县",
        "units": "重点用能单位",
        "reviewed": "已审查",
        "compliant": "符合",
        "non_compliant": "不符合",
        "not_reviewed": "未审查",
        "reporting": "边界计量器具全部在线上报",
        "coverage": "能耗在线监测覆盖率",
        "coverage_rule": "边界计量器具全部经远程监管通道（MQTT / HTTP 批量）在线上报、最近 {days} 天内的在线日数据完整的单位 ÷ 重点用能单位。只上传文件的单位不计为在线监测。",
        "target": "目标",
        "no_target": "未设定目标",
        "met": "已达标",
        "not_met": "未达标",
        "rates": "计量器具配备率（最近一次审查合计）",
        "review_rates": "计量器具配备率（{rule_set}）",
        "required_rate": "要求",
        "energy": "能源种类",
        "level": "层级",
        "installed": "已配",
        "required": "应配",
        "rate": "配备率",
        "unit_list": "单位一览",
        "organisation": "单位",
        "sector": "行业",
        "last_review": "最近审查",
        "result": "结论",
        "yes": "是",
        "no": "否",
        "unit": "用能单位",
        "tree": "计量网络",
        "node": "节点",
        "points": "计量点与器具",
        "point": "计量点",
        "instrument": "计量器具",
        "accuracy": "准确度等级",
        "valid_until": "检定有效期至",
        "in_service": "在用",
        "suspended": "停用",
        "overdue": "检定过期",
        "valid": "有效",
        "demand": "用能量",
        "no_tree": "尚未上传计量网络。",
        "tree_upload": "上传计量网络",
        "tree_upload_intro": "一张表（CSV 或 XLSX），每行一个节点的一种能源或一个计量点；列：类型、编号、名称、层级、上级节点、能源种类、用能量、计量点数、器具ID、器具类别、计量单位。整表无误才保存，保存为新版本。",
        "tree_stored": "计量网络已保存为新版本。",
        "review": "能源计量审查",
        "self_check": "能源计量自查",
        "run_review": "进行审查（今日）",
        "run_self_check": "进行自查（今日）",
        "no_review": "尚无审查。",
        "shortfalls": "问题及依据条款",
        "clause": "条款",
        "problem": "问题",
        "none": "无",
        "report": "审查报告",
        "report_pdf": "下载 PDF",
        "carbon_pdf": "碳排放报告 PDF",
        "reviews": "审查与自查记录",
        "date": "日期",
        "kind": "类型",
        "by": "执行人",
        "periods": "报告期",
        "period": "报告期",
        "balance": "能源平衡",
        "balance_intro": "上级计量器具与下级之和的差值，容差由各器具的准确度等级算出（k = 2）。",
        "parent": "上级",
        "children": "下级之和",
        "difference": "差值",
        "tolerance": "容差",
        "status": "状态",
        "balanced": "平衡",
        "imbalance": "不平衡（预警）",
        "not_checked": "未检查",
        "reason": "原因",
        "warnings": "不平衡预警",
        "no_periods": "尚无报告期数据。",
        "coal": "折标准煤",
        "carbon_review": "碳计量审查",
        "carbon_review_pdf": "碳计量审查报告 PDF",
        "quality_grade": "数据质量等级",
        "grade_rule": "等级取各项中最差者。规则为本项目所定（见文档），非国家标准。",
        "criterion": "评价项",
        "crit_value": "数值",
        "grade_col": "等级",
        "latest_review": "最近一次能源计量审查",
        "cems": "实测法（CEMS）与核算法比对",
        "calculated": "核算法",
        "measured": "实测法",
        "cems_difference": "差值（实测 − 核算）",
        "consistent": "在 2·u(d) 内一致",
        "inconsistent": "差异超出 2·u(d)",
        "intensity": "单位产品能耗",
        "intensity_value": "{product}：{value} kgce/t（{node}，{output} t，电力按当量值）",
        "grade": "指标",
        "limit_row": "限额 kgce/t",
        "met_col": "是否达到",
        "met_yes": "达到",
        "met_no": "未达到",
        "provisional_rows": "限额数据为暂定值（标准原文未能核对），不作执法依据",
        "product": "产品（填写产量时）",
        "output": "产量（吨）",
        "no_product": "不报送",
        "calorific": "电力按当量值",
        "equal_value": "电力按等价值（{year} 年供电煤耗）",
        "tce": "吨标准煤",
        "carbon": "碳排放及其不确定度",
        "total": "排放量",
        "u": "标准不确定度",
        "U": "扩展不确定度（k = 2）",
        "mc": "蒙特卡洛（{trials} 次）",
        "interval": "95 % 包含区间",
        "dominant": "主导来源",
        "budget": "不确定度分量",
        "source": "来源",
        "contribution": "分量 / t CO₂",
        "share": "占方差",
        "budget_chart": "不确定度分量图（下表为同一数据）",
        "flags": "说明",
        "quality": "数据质量",
        "days": "有数据天数",
        "gaps": "缺失",
        "stuck": "读数停滞",
        "no_data": "无数据",
        "upload": "上传报告期读数",
        "upload_intro": "CSV 或 XLSX，每行一个计量点一天的消耗量：计量点编号、能源种类、日期、消耗量、单位。有任何一行错误则整份文件不保存。",
        "file": "文件",
        "period_start": "报告期开始",
        "period_end": "报告期结束",
        "send": "上传",
        "refused": "文件被拒绝，未保存任何数据：",
        "row": "行",
        "field": "字段",
        "value": "原值",
        "uploaded": "已保存报告期 {start} 至 {end}。",
        "source_live": "来源：在线监测（远程监管接入的计量器具读数，按北京时间自然日汇总）",
        "source_upload": "来源：用能单位上传的文件",
        "late_readings": "汇总后又收到该日读数 {n} 条（未计入，保存在远程监管读数中）",
        "reviewed_ok": "已完成，结果如下。",
        "provisional": "所用 GB 17167 规则中 {n} 行为暂定值，尚未与标准原文核对。",
        "not_unit": "本单位尚未登记为重点用能单位。",
        "meters": "计量器具",
        "verified": "检定",
        "conclusion": "结论",
        "rule_set": "规则",
        "back_unit": "返回单位页面",
        "t_co2": "t CO₂",
    },
    "en": {
        "regional": "Energy metering of key energy-using units",
        "regional_intro": "Reviews by county, equipping rates and online-monitoring coverage.",
        "county": "County",
        "units": "Key energy-using units",
        "reviewed": "Reviewed",
        "compliant": "Compliant",
        "non_compliant": "Not compliant",
        "not_reviewed": "Not reviewed",
        "reporting": "All boundary meters reporting online",
        "coverage": "Online-monitoring coverage",
        "coverage_rule": "Units whose boundary meters all report online (the MQTT / HTTP batch ingestion of remote supervision) with a complete live day within the last {days} days ÷ key units. A unit that only uploads files is not monitored online.",
        "target": "Target",
        "no_target": "No target set",
        "met": "met",
        "not_met": "not met",
        "rates": "Equipping rates (latest reviews summed)",
        "review_rates": "Equipping rates ({rule_set})",
        "required_rate": "Required",
        "energy": "Energy",
        "level": "Level",
        "installed": "Installed",
        "required": "Required",
        "rate": "Rate",
        "unit_list": "Units",
        "organisation": "Organisation",
        "sector": "Sector",
        "last_review": "Latest review",
        "result": "Result",
        "yes": "yes",
        "no": "no",
        "unit": "Energy-using unit",
        "tree": "Metering tree",
        "node": "Node",
        "points": "Metering points and meters",
        "point": "Point",
        "instrument": "Meter",
        "accuracy": "Accuracy class",
        "valid_until": "Verification valid until",
        "in_service": "in service",
        "suspended": "out of service",
        "overdue": "overdue",
        "valid": "valid",
        "demand": "Demand",
        "no_tree": "No metering tree uploaded yet.",
        "tree_upload": "Upload the metering tree",
        "tree_upload_intro": "One sheet (CSV or XLSX), a row per node and energy or per metering point; columns: kind, key, name, level, parent, energy type, demand, supply points, instrument id, meter kind, unit. Stored only when the whole sheet is clean, as a new version.",
        "tree_stored": "The metering tree is stored as a new version.",
        "review": "Energy-metering review",
        "self_check": "Energy-metering self-check",
        "run_review": "Run a review (today)",
        "run_self_check": "Run a self-check (today)",
        "no_review": "No review yet.",
        "shortfalls": "Shortfalls and their clauses",
        "clause": "Clause",
        "problem": "Shortfall",
        "none": "None",
        "report": "Review report",
        "report_pdf": "Download PDF",
        "carbon_pdf": "Carbon report PDF",
        "reviews": "Reviews and self-checks",
        "date": "Date",
        "kind": "Kind",
        "by": "Run by",
        "periods": "Reported periods",
        "period": "Period",
        "balance": "Energy balance",
        "balance_intro": "Parent meter against the sum of its children; the tolerance follows from the meters' accuracy classes (k = 2).",
        "parent": "Parent",
        "children": "Children",
        "difference": "Difference",
        "tolerance": "Tolerance",
        "status": "Status",
        "balanced": "balanced",
        "imbalance": "imbalance (warning)",
        "not_checked": "not checked",
        "reason": "Reason",
        "warnings": "Imbalance warnings",
        "no_periods": "No reported period yet.",
        "coal": "Standard coal",
        "carbon_review": "Carbon-metering review",
        "carbon_review_pdf": "Carbon-metering review as PDF",
        "quality_grade": "Data-quality grade",
        "grade_rule": "The worst criterion decides. The rule is the project's (see the docs), not a national standard.",
        "criterion": "Criterion",
        "crit_value": "Value",
        "grade_col": "Grade",
        "latest_review": "Latest energy-metering review",
        "cems": "Measurement method (CEMS) beside the calculation method",
        "calculated": "Calculation",
        "measured": "Measurement",
        "cems_difference": "Difference (measured − calculated)",
        "consistent": "consistent within 2·u(d)",
        "inconsistent": "beyond 2·u(d)",
        "intensity": "Unit energy consumption",
        "intensity_value": "{product}: {value} kgce/t ({node}, {output} t, electricity by calorific value)",
        "grade": "Indicator",
        "limit_row": "Limit kgce/t",
        "met_col": "Met",
        "met_yes": "met",
        "met_no": "not met",
        "provisional_rows": "The limit rows are provisional (the standard's text could not be checked): not for enforcement",
        "product": "Product (with its output)",
        "output": "Output (t)",
        "no_product": "not reported",
        "calorific": "Electricity by calorific value",
        "equal_value": "Electricity by equal value ({year} coal rate of power supply)",
        "tce": "tce",
        "carbon": "Carbon emissions with uncertainty",
        "total": "Emissions",
        "u": "Standard uncertainty",
        "U": "Expanded uncertainty (k = 2)",
        "mc": "Monte Carlo ({trials} trials)",
        "interval": "95 % coverage interval",
        "dominant": "Dominating source",
        "budget": "Uncertainty budget",
        "source": "Source",
        "contribution": "Contribution / t CO₂",
        "share": "Share of variance",
        "budget_chart": "Uncertainty budget chart (the table below has the same data)",
        "flags": "Notes",
        "quality": "Data quality",
        "days": "Days with data",
        "gaps": "gaps",
        "stuck": "stuck",
        "no_data": "no data",
        "upload": "Upload a period's readings",
        "upload_intro": "CSV or XLSX, one row per point and day: point code, energy type, day, consumption, unit. One bad row refuses the whole file.",
        "file": "File",
        "period_start": "Period start",
        "period_end": "Period end",
        "send": "Upload",
        "refused": "The file was refused, nothing was stored:",
        "row": "Row",
        "field": "Field",
        "value": "Value",
        "uploaded": "Period {start} to {end} stored.",
        "source_live": "Source: online monitoring (meter readings received through remote supervision, folded per Beijing calendar day)",
        "source_upload": "Source: a file uploaded by the unit",
        "late_readings": "{n} readings of this day arrived after it was folded (not counted; kept with the remote-supervision readings)",
        "reviewed_ok": "Done; the result is below.",
        "provisional": "{n} rows of the GB 17167 rules applied are provisional, not yet checked against the text.",
        "not_unit": "Your organisation is not registered as a key energy-using unit.",
        "meters": "Meters",
        "verified": "Verification",
        "conclusion": "Conclusion",
        "rule_set": "Rules",
        "back_unit": "Back to the unit",
        "t_co2": "t CO₂",
    },
}


def _context(request: Request, principal: Principal, lang: str, title_key: str) -> dict[str, Any]:
    context = console_context(request, principal, lang)
    context["t"].update(STRINGS[lang])
    context["title"] = context["t"][title_key]
    i = 0 if lang == "zh" else 1
    context["energy_labels"] = {et.value: labels[i] for et, labels in ENERGY_LABELS.items()}
    context["level_labels"] = {lv.value: labels[i] for lv, labels in LEVEL_LABELS.items()}
    return context


def _page(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    return templates.TemplateResponse(request, f"console/{name}", context, status_code=status_code)


# --- supervisor ----------------------------------------------------------------------------------------


@router.get(SUPERVISION, response_class=HTMLResponse)
def regional_page(
    request: Request, platform: PlatformDep, principal: ConsoleUser, lang: Lang
) -> HTMLResponse:
    require_role(principal, Role.SUPERVISOR)
    context = _context(request, principal, lang, "regional")
    view = regional.regional_view(platform, principal)
    cov = view["coverage"]
    target = cov["target"]["target"] if cov["target"] else None
    context.update(
        view=view,
        coverage_met=None if target is None or cov["rate"] is None else cov["rate"] >= target,
        coverage_rule=context["t"]["coverage_rule"].format(days=cov["reporting_days"]),
    )
    return _page(request, "energy_regional.html", context)


@router.get(SUPERVISION + "/units/{unit_id}", response_class=HTMLResponse)
def unit_page(
    request: Request, platform: PlatformDep, principal: ConsoleUser, lang: Lang, unit_id: Id
) -> HTMLResponse:
    require_role(principal, Role.SUPERVISOR)
    return _unit(request, platform, principal, lang, unit_id, base=SUPERVISION)


@router.post(SUPERVISION + "/units/{unit_id}/review", dependencies=[CsrfForm])
def run_review(request: Request, platform: PlatformDep, principal: ConsoleUser, unit_id: Id) -> Response:
    require_role(principal, Role.SUPERVISOR)
    done = reviews.run_review(platform, principal, unit_id, kind="review")
    return RedirectResponse(f"{SUPERVISION}/reviews/{done['id']}", status_code=303)


def _reading_routes(base: str, role: Role) -> None:
    """The four read-only pages a supervisor and an enterprise both have, each under its own base path
    and its own role: a review, its PDF, a period, its carbon report PDF (the services scope the ids)."""

    def review(
        request: Request, platform: PlatformDep, principal: ConsoleUser, lang: Lang, review_id: Id
    ) -> HTMLResponse:
        require_role(principal, role)
        return _review(request, platform, principal, lang, review_id, base)

    def review_pdf(platform: PlatformDep, principal: ConsoleUser, review_id: Id) -> Response:
        require_role(principal, role)
        return _pdf(platform, principal, review_id)

    def period(
        request: Request, platform: PlatformDep, principal: ConsoleUser, lang: Lang, period_id: Id
    ) -> HTMLResponse:
        require_role(principal, role)
        return _period(request, platform, principal, lang, period_id, base)

    def carbon_pdf(platform: PlatformDep, principal: ConsoleUser, period_id: Id) -> Response:
        require_role(principal, role)
        return _carbon_pdf(platform, principal, period_id)

    router.add_api_route(base + "/reviews/{review_id}", review, response_class=HTMLResponse)
    router.add_api_route(base + "/reviews/{review_id}/report.pdf", review_pdf)
    router.add_api_route(base + "/periods/{period_id}", period, response_class=HTMLResponse)
    router.add_api_route(base + "/periods/{period_id}/carbon.pdf", carbon_pdf)


_reading_routes(SUPERVISION, Role.SUPERVISOR)


@router.post(SUPERVISION + "/units/{unit_id}/topology", response_class=HTMLResponse, dependencies=[CsrfForm])
def upload_tree(
    request: Request,
    platform: PlatformDep,
    principal: ConsoleUser,
    lang: Lang,
    unit_id: Id,
    file: Annotated[UploadFile, File()],
) -> Response:
    require_role(principal, Role.SUPERVISOR)
    return _upload_tree(request, platform, principal, lang, unit_id, file, SUPERVISION)


@router.get(SUPERVISION + "/units/{unit_id}/carbon-review", response_class=HTMLResponse)
def carbon_review_page(
    request: Request, platform: PlatformDep, principal: ConsoleUser, lang: Lang, unit_id: Id
) -> HTMLResponse:
    require_role(principal, Role.SUPERVISOR)
    return _carbon_review(request, platform, principal, lang, unit_id, SUPERVISION)


@router.get(SUPERVISION + "/units/{unit_id}/carbon-review.pdf")
def carbon_review_pdf(platform: PlatformDep, principal: ConsoleUser, unit_id: Id) -> Response:
    require_role(principal, Role.SUPERVISOR)
    return _carbon_review_pdf(platform, principal, unit_id)


# --- enterprise ----------------------------------------------------------------------------------------


@router.get(ENTERPRISE, response_class=HTMLResponse)
def enterprise_page(
    request: Request, platform: PlatformDep, principal: ConsoleUser, lang: Lang
) -> HTMLResponse:
    require_role(principal, Role.ENTERPRISE)
    unit_id = units.unit_for_organisation(platform, principal)
    if unit_id is None:
        context = _context(request, principal, lang, "self_check")
        context.update(unit=None)
        return _page(request, "energy_unit.html", context)
    return _unit(request, platform, principal, lang, unit_id, base=ENTERPRISE)


@router.post(ENTERPRISE + "/self-check", dependencies=[CsrfForm])
def run_self_check(platform: PlatformDep, principal: ConsoleUser) -> Response:
    require_role(principal, Role.ENTERPRISE)
    unit_id = units.unit_for_organisation(platform, principal)
    if unit_id is None:
        raise NotFound("没有重点用能单位 / no energy-using unit", field="id")
    done = reviews.run_review(platform, principal, unit_id, kind="self_check")
    return RedirectResponse(f"{ENTERPRISE}/reviews/{done['id']}", status_code=303)


@router.post(ENTERPRISE + "/readings", response_class=HTMLResponse, dependencies=[CsrfForm])
def upload_readings(
    request: Request,
    platform: PlatformDep,
    principal: ConsoleUser,
    lang: Lang,
    file: Annotated[UploadFile, File()],
    period_start: Annotated[date, Form()],
    period_end: Annotated[date, Form()],
    product: Annotated[str, Form()] = "",
    output: Annotated[str, Form()] = "",
) -> Response:
    require_role(principal, Role.ENTERPRISE)
    unit_id = units.unit_for_organisation(platform, principal)
    if unit_id is None:
        raise NotFound("没有重点用能单位 / no energy-using unit", field="id")
    fmt = "xlsx" if (file.filename or "").lower().endswith(".xlsx") else "csv"
    try:
        amount = _output(output)
        readings.upload_readings(
            platform, principal, unit_id, file.file, fmt, period_start, period_end,
            product=product or None, output=amount,
        )
    except ImportRefused as exc:
        return _unit(
            request, platform, principal, lang, unit_id, base=ENTERPRISE, refused=exc, status_code=422
        )
    except InvalidInput as exc:
        return _unit(
            request, platform, principal, lang, unit_id, base=ENTERPRISE, error=exc.message, status_code=422
        )
    return RedirectResponse(f"{ENTERPRISE}?uploaded={period_start}_{period_end}", status_code=303)


_reading_routes(ENTERPRISE, Role.ENTERPRISE)


@router.post(ENTERPRISE + "/topology", response_class=HTMLResponse, dependencies=[CsrfForm])
def enterprise_upload_tree(
    request: Request,
    platform: PlatformDep,
    principal: ConsoleUser,
    lang: Lang,
    file: Annotated[UploadFile, File()],
) -> Response:
    require_role(principal, Role.ENTERPRISE)
    return _upload_tree(request, platform, principal, lang, _own_unit(platform, principal), file, ENTERPRISE)


@router.get(ENTERPRISE + "/carbon-review", response_class=HTMLResponse)
def enterprise_carbon_review(
    request: Request, platform: PlatformDep, principal: ConsoleUser, lang: Lang
) -> HTMLResponse:
    require_role(principal, Role.ENTERPRISE)
    return _carbon_review(request, platform, principal, lang, _own_unit(platform, principal), ENTERPRISE)


@router.get(ENTERPRISE + "/carbon-review.pdf")
def enterprise_carbon_review_pdf(platform: PlatformDep, principal: ConsoleUser) -> Response:
    require_role(principal, Role.ENTERPRISE)
    return _carbon_review_pdf(platform, principal, _own_unit(platform, principal))


# --- shared --------------------------------------------------------------------------------------------


def _unit(
    request: Request,
    platform: Platform,
    principal: Principal,
    lang: str,
    unit_id: int,
    *,
    base: str,
    refused: ImportRefused | None = None,
    error: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    context = _context(request, principal, lang, "unit" if base == SUPERVISION else "self_check")
    context["intensity_products"] = sorted(intensity.limits().items())
    unit = units.get_unit(platform, principal, unit_id)
    history = reviews.list_reviews(platform, principal, unit_id)
    latest = reviews.get_review(platform, principal, history[0]["id"]) if history else None
    periods = readings.list_periods(platform, principal, unit_id)
    uploaded = request.query_params.get("uploaded", "")
    context.update(
        unit=unit,
        node_names={n["key"]: n["name"] for n in unit["nodes"]},
        base=base,
        enterprise=base == ENTERPRISE,
        history=history,
        latest=latest,
        periods=periods,
        period=periods[0] if periods else None,
        warnings=[(p, b) for p in periods for b in p["balance"] if b["status"] == "imbalance"],
        refused=refused,
        error=error,
        uploaded=uploaded.replace("_", " — ") if len(uploaded) <= 21 else "",
        tree_stored=request.query_params.get("tree", "").isdigit(),
        today=platform.local_today().isoformat(),
    )
    if latest is not None:
        context["title"] = f"{unit['organisation']} · {context['t']['unit']}"
    return _page(request, "energy_unit.html", context, status_code)


def _review(
    request: Request, platform: Platform, principal: Principal, lang: str, review_id: int, base: str
) -> HTMLResponse:
    context = _context(request, principal, lang, "report")
    review = reviews.get_review(platform, principal, review_id)
    context.update(
        review=review,
        base=base,
        kind_label=context["t"]["review" if review["kind"] == "review" else "self_check"],
        rates=[r for r in review["rates"] if r["required"]],
        level_order={lv.value: i for i, lv in enumerate(Level)},
        energy_types=[e.value for e in EnergyType],
    )
    context["title"] = (
        f"{context['kind_label']}报告 · {review['organisation']}"
        if lang == "zh"
        else (f"{context['kind_label']} report · {review['organisation']}")
    )
    return _page(request, "energy_review.html", context)


def _period(
    request: Request, platform: Platform, principal: Principal, lang: str, period_id: int, base: str
) -> HTMLResponse:
    period = readings.get_period(platform, principal, period_id)
    unit = units.get_unit(platform, principal, period["unit_id"])
    context = _context(request, principal, lang, "period")
    context.update(
        unit=unit,
        node_names={n["key"]: n["name"] for n in unit["nodes"]},
        period=period,
        base=base,
        back=f"{SUPERVISION}/units/{unit['id']}" if base == SUPERVISION else ENTERPRISE,
    )
    context["title"] = f"{unit['organisation']} · {context['t']['period']} {period['period_start']}"
    return _page(request, "energy_period.html", context)


def _upload_tree(
    request: Request,
    platform: Platform,
    principal: Principal,
    lang: str,
    unit_id: int,
    file: UploadFile,
    base: str,
) -> Response:
    """The metering tree as one CSV/XLSX sheet (``services/energy/topology.py``): whole or nothing; a refusal
    lists each row and field on the unit page."""
    fmt = "xlsx" if (file.filename or "").lower().endswith(".xlsx") else "csv"
    try:
        done = topology.upload_file(platform, principal, unit_id, file.file, fmt)
    except ImportRefused as exc:
        return _unit(request, platform, principal, lang, unit_id, base=base, refused=exc, status_code=422)
    except InvalidInput as exc:
        return _unit(request, platform, principal, lang, unit_id, base=base, error=exc.message, status_code=422)
    page = f"{SUPERVISION}/units/{unit_id}" if base == SUPERVISION else ENTERPRISE
    return RedirectResponse(f"{page}?tree={done['topology_id']}", status_code=303)


def _own_unit(platform: Platform, principal: Principal) -> int:
    unit_id = units.unit_for_organisation(platform, principal)
    if unit_id is None:
        raise NotFound("没有重点用能单位 / no energy-using unit", field="id")
    return unit_id


def _carbon_review(
    request: Request, platform: Platform, principal: Principal, lang: str, unit_id: int, base: str
) -> HTMLResponse:
    data = carbon_review.carbon_review(platform, principal, unit_id)
    context = _context(request, principal, lang, "carbon_review")
    context.update(
        r=data,
        base=base,
        node_names=data["node_names"],
        period=data["period"],
        pdf=f"{SUPERVISION}/units/{unit_id}/carbon-review.pdf" if base == SUPERVISION else f"{ENTERPRISE}/carbon-review.pdf",
        back=f"{SUPERVISION}/units/{unit_id}" if base == SUPERVISION else ENTERPRISE,
    )
    context["title"] = f"{context['t']['carbon_review']} · {data['organisation']}"
    return _page(request, "energy_carbon_review.html", context)


def _carbon_review_pdf(platform: Platform, principal: Principal, unit_id: int) -> Response:
    data = carbon_review.carbon_review(platform, principal, unit_id)
    return Response(
        report.carbon_review_pdf(data),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="carbon-review-{unit_id}.pdf"'},
    )


def _pdf(platform: Platform, principal: Principal, review_id: int) -> Response:
    review = reviews.get_review(platform, principal, review_id)
    return Response(
        report.review_pdf(review),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="energy-review-{review_id}.pdf"'},
    )


def _carbon_pdf(platform: Platform, principal: Principal, period_id: int) -> Response:
    period = readings.get_period(platform, principal, period_id)
    unit = units.get_unit(platform, principal, period["unit_id"])
    return Response(
        report.carbon_pdf(unit["organisation"], period),
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="carbon-{period_id}.pdf"'},
    )


def _output(text: str) -> float | None:
    """The output field of the upload form: empty for none, else a number of tonnes."""
    if not text.strip():
        return None
    try:
        return float(text)
    except ValueError:
        raise InvalidInput("产量须为数值（吨）/ the output must be a number of tonnes", field="output") from None
