"""State evaluation pages (状态评价) for supervisors: the batches of electricity meters in the
jurisdiction with their decisions, one batch's evidence (the engine's numbers, the sampling plan and its
operating characteristic as a table), and the replacement list (更换清单) as CSV through the spooled export
path. Read-only; every call goes through ``services.telemetry.state_evaluation`` with the signed-in
supervisor, so another jurisdiction's batch is not found."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from jiliang.api.deps import PlatformDep
from jiliang.api.routers.transfer import spooled_download
from jiliang.domain.access import Principal, Role
from jiliang.services.common import require_role
from jiliang.services.telemetry import state_evaluation as service
from jiliang.web.auth import ConsoleUser, Lang, console_context
from jiliang.web.common import templates

router = APIRouter(prefix="/console/supervision/state-evaluation", include_in_schema=False)

STRINGS: dict[str, dict[str, str]] = {
    "zh": {
        "title": "电能表状态评价",
        "detail_title": "批次状态评价",
        "intro": (
            "按制造单位、型号、投运年份分批；失效为检定不合格或预警经现场核查确认、以更换或修理处置；"
            "其余电能表按当前表龄计为截尾。判定限值与抽样方案为暂定参数。"
        ),
        "manufacturer": "制造单位",
        "model": "型号",
        "year": "投运年份",
        "size": "批量",
        "in_service": "在用",
        "failures": "失效数",
        "rate": "失效率",
        "bounds": "置信区间",
        "decision": "判定",
        "detail": "证据",
        "export_csv": "导出更换清单 CSV",
        "no_batches": "辖区内没有电能表。",
        "reasons": "判定理由",
        "evidence": "证据",
        "confidence": "置信水平",
        "plan": "抽样方案",
        "plan_accepts": "方案接收",
        "yes": "是",
        "no": "否",
        "limits": "判定限值（继续运行上限 / 更换下限）",
        "weibull": "Weibull 寿命模型（含截尾的最大似然估计）",
        "shape": "形状参数 β",
        "scale": "尺度参数 η（年）",
        "horizon": "预测表龄（年）",
        "predicted": "预测累计失效率",
        "no_weibull": "未拟合 Weibull：",
        "additional": "建议再抽样数",
        "oc": "抽样方案的 OC 曲线（接收概率）",
        "p": "批失效率 p",
        "pa": "接收概率 Pa(p)",
        "risks": "生产方风险 / 使用方风险",
        "meters": "本批电能表",
        "serial": "出厂编号",
        "region": "行政区划",
        "since": "投运日期",
        "failed_on": "失效日期",
        "source": "失效依据",
        "age": "表龄 / 失效时表龄（年）",
        "status": "状态",
        "verification": "检定不合格",
        "warning": "预警确认",
        "back": "返回批次列表",
    },
    "en": {
        "title": "State evaluation of electricity meters",
        "detail_title": "State evaluation of a batch",
        "intro": (
            "Batches by manufacturer, model and year put in use; a failure is a failed verification or a "
            "warning confirmed on site or disposed as replaced or repaired; every other meter is censored "
            "at its current age. The decision limits and the sampling plan are provisional parameters."
        ),
        "manufacturer": "Manufacturer",
        "model": "Model",
        "year": "Year in use",
        "size": "Batch size",
        "in_service": "In service",
        "failures": "Failures",
        "rate": "Failure rate",
        "bounds": "Confidence bounds",
        "decision": "Decision",
        "detail": "Evidence",
        "export_csv": "Export replacement list (CSV)",
        "no_batches": "No electricity meters in the jurisdiction.",
        "reasons": "Reasons",
        "evidence": "Evidence",
        "confidence": "Confidence",
        "plan": "Sampling plan",
        "plan_accepts": "Plan accepts",
        "yes": "yes",
        "no": "no",
        "limits": "Decision limits (keep below / replace above)",
        "weibull": "Weibull life model (maximum likelihood with censoring)",
        "shape": "Shape β",
        "scale": "Scale η (years)",
        "horizon": "Horizon (years)",
        "predicted": "Predicted fraction failed",
        "no_weibull": "No Weibull fit: ",
        "additional": "Additional sample",
        "oc": "Operating characteristic (OC) of the plan",
        "p": "Batch failure fraction p",
        "pa": "Probability of acceptance Pa(p)",
        "risks": "Producer's risk / consumer's risk",
        "meters": "Meters of the batch",
        "serial": "Serial number",
        "region": "Region",
        "since": "In use since",
        "failed_on": "Failed on",
        "source": "Failure from",
        "age": "Age / age at failure (years)",
        "status": "Status",
        "verification": "failed verification",
        "warning": "confirmed warning",
        "back": "Back to the batches",
    },
}


def _context(request: Request, principal: Principal, lang: str, title_key: str) -> dict[str, Any]:
    require_role(principal, Role.SUPERVISOR)
    context = console_context(request, principal, lang)
    context["t"].update(STRINGS[lang])
    context["title"] = context["t"][title_key]
    return context


@router.get("", response_class=HTMLResponse)
def batches_page(request: Request, platform: PlatformDep, principal: ConsoleUser, lang: Lang) -> HTMLResponse:
    context = _context(request, principal, lang, "title")
    context["batches"] = service.evaluate(platform, principal)
    return templates.TemplateResponse(request, "console/state_evaluation.html", context)


@router.get("/batch", response_class=HTMLResponse)
def batch_page(
    request: Request,
    platform: PlatformDep,
    principal: ConsoleUser,
    lang: Lang,
    manufacturer: Annotated[str, Query(max_length=200)],
    model: Annotated[str, Query(max_length=100)],
    year: Annotated[int, Query(ge=1900, le=2200)],
) -> HTMLResponse:
    context = _context(request, principal, lang, "detail_title")
    context["b"] = service.batch_detail(platform, principal, manufacturer, model, year)
    return templates.TemplateResponse(request, "console/state_evaluation_batch.html", context)


@router.get("/replacement-list.csv")
def replacement_export(platform: PlatformDep, principal: ConsoleUser, lang: Lang) -> Response:
    require_role(principal, Role.SUPERVISOR)
    return spooled_download(
        platform,
        principal,
        lambda sink: service.export_replacement_list(platform, principal, sink, lang),
        "csv",
        f"replacement-list-{platform.local_today().isoformat()}",
    )
