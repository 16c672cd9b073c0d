"""The public comparison page: a round's results (pasted or uploaded CSV) scored, tabled and charted.

The organiser of a proficiency-testing round or a key comparison gets the same analysis as
`jiliang comparison analyse` and the API, with the chart inline. Nothing is stored, so no account is
needed; the upload is bounded and Procedure B's Monte Carlo is capped like the calculator page's.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from jiliang import __version__
from jiliang.errors import InvalidInput, JiliangError, PayloadTooLarge
from jiliang.metrology.comparison import Exclusion, MeanUncertainty, Method, Score, fitting_trials
from jiliang.services import comparisons
from jiliang.web.common import refused, templates

router = APIRouter(include_in_schema=False)

MAX_CSV_BYTES = comparisons.MAX_FILE_BYTES
PAGE_MEDIAN_TRIALS = 20_000
DEFAULT_EXAMPLE = "comparison_pt_consensus"
# How each shipped round is meant to be analysed (docs/comparisons.md gives the same command lines).
PRESETS: dict[str, dict[str, str]] = {
    "comparison_pt_consensus": {"method": "consensus"},
    "comparison_reference": {
        "method": "reference",
        "reference": "5.000",
        "reference_u": "0.003",
        "sigma_pt": "0.015",
    },
    "comparison_key": {"method": "weighted-mean"},
    "comparison_key_subset": {"method": "weighted-mean"},
}

STRINGS: dict[str, dict[str, str]] = {
    "zh": {
        "title": "计量比对与能力验证结果分析",
        "intro": "粘贴或上传各实验室结果（CSV：实验室、测量值、扩展不确定度、包含因子；UTF-8 或 GB18030），"
        "按 ISO 13528 计算指定值与 z、z′、ζ、E_n 评分，或按 Cox 方法计算关键比对参考值与等效度。本页不保存任何内容。",
        "example": "示例",
        "load": "载入示例",
        "csv": "结果（CSV）",
        "file": "或上传文件",
        "method": "定值方法",
        "consensus": "稳健平均（算法 A）",
        "reference_method": "参考值",
        "weighted-mean": "加权平均（Cox 程序 A）",
        "median": "中位数（Cox 程序 B）",
        "mean": "算术平均",
        "mean_u": "算术平均的不确定度",
        "stated": "由各实验室声明的不确定度",
        "spread": "由结果的分散性",
        "reference": "参考值",
        "reference_u": "参考值标准不确定度",
        "sigma_pt": "能力评定标准差 σ_pt",
        "score": "评分统计量",
        "auto": "自动",
        "exclusion": "不一致时剔除",
        "lcs": "最大一致子集",
        "largest-en": "逐个剔除 |E_n| 最大者",
        "none": "不剔除",
        "analyse": "分析",
        "error": "无法分析",
        "row": "行",
        "laboratory": "实验室",
        "value": "测量值",
        "verdict": "结论",
        "excluded": "未计入参考值",
        "summary": "汇总",
        "assigned": "指定值 x_pt",
        "reference_value": "参考值",
        "consistent": "一致性检验通过",
        "inconsistent": "一致性检验未通过",
        "notes": "说明",
        "switch": "English",
        "api": "接口文档",
        "definitions": "方法见 docs/comparisons.md",
    },
    "en": {
        "title": "Analyse a comparison or proficiency-testing round",
        "intro": "Paste or upload the participants' results (CSV: laboratory, value, expanded uncertainty, k; "
        "UTF-8 or GB18030) to get the assigned value and z, z′, ζ, E_n scores by ISO 13528, or a key "
        "comparison's reference value and degrees of equivalence by Cox's procedures. Nothing is stored.",
        "example": "Example",
        "load": "Load example",
        "csv": "Results (CSV)",
        "file": "or upload a file",
        "method": "Assigned/reference value",
        "consensus": "robust average (Algorithm A)",
        "reference_method": "reference value",
        "weighted-mean": "weighted mean (Cox Procedure A)",
        "median": "median (Cox Procedure B)",
        "mean": "arithmetic mean",
        "mean_u": "u of the arithmetic mean",
        "stated": "from the stated uncertainties",
        "spread": "from the spread of the results",
        "reference": "Reference value",
        "reference_u": "Its standard uncertainty",
        "sigma_pt": "σ_pt",
        "score": "Statistic",
        "auto": "automatic",
        "exclusion": "When inconsistent, set aside",
        "lcs": "outside the largest consistent subset",
        "largest-en": "the largest |E_n|, one at a time",
        "none": "nothing",
        "analyse": "Analyse",
        "error": "Cannot analyse",
        "row": "row",
        "laboratory": "Laboratory",
        "value": "Value",
        "verdict": "Verdict",
        "excluded": "not in the reference",
        "summary": "Summary",
        "assigned": "Assigned value x_pt",
        "reference_value": "Reference value",
        "consistent": "consistency check passed",
        "inconsistent": "consistency check failed",
        "notes": "Notes",
        "switch": "中文",
        "api": "API docs",
        "definitions": "Methods: docs/comparisons.md",
    },
}


# The shipped example rounds by name, in the page's language (illustrative numbers, docs/comparisons.md).
EXAMPLE_TITLES = {
    "zh": {
        "comparison_key": "关键比对（各国计量院，参考值为加权平均）",
        "comparison_pt_consensus": "能力验证（各市计量院，公议值）",
        "comparison_reference": "实验室间比对（参考实验室给出参考值）",
    },
    "en": {
        "comparison_key": "Key comparison (NMIs, weighted-mean reference value)",
        "comparison_pt_consensus": "Proficiency test (city institutes, consensus value)",
        "comparison_reference": "Interlaboratory comparison (reference laboratory's value)",
    },
}


def _context(lang: str, text: str, example: str, form: dict[str, str]) -> dict[str, Any]:
    return {
        "t": STRINGS[lang],
        "lang": lang,
        "version": __version__,
        "examples": {name: EXAMPLE_TITLES[lang].get(name, name) for name in comparisons.example_rounds()},
        "example": example,
        "text": text,
        "form": form,
        "methods": [m.value for m in Method],
        "scores": [s.value for s in Score],
        "exclusions": [e.value for e in Exclusion],
        "mean_us": [m.value for m in MeanUncertainty],
    }


def _number(raw: str | None, name: str) -> float | None:
    if raw is None or not raw.strip():
        return None
    try:
        return float(raw.replace(",", "."))
    except ValueError:
        raise InvalidInput(f"{name} 应为数值 / {name} must be a number: {raw!r}", field=name) from None


@router.get("/comparison", response_class=HTMLResponse)
def form(
    request: Request,
    lang: Annotated[str, Query(pattern="^(zh|en)$")] = "zh",
    example: Annotated[str, Query(max_length=64)] = DEFAULT_EXAMPLE,
) -> HTMLResponse:
    try:
        text = comparisons.decode(comparisons.example_round(example))
    except JiliangError as exc:
        return refused(request, "comparison.html", _context(lang, "", example, {}), exc, status_code=404)
    return templates.TemplateResponse(
        request, "comparison.html", _context(lang, text, example, PRESETS.get(example, {}))
    )


@router.post("/comparison", response_class=HTMLResponse)
async def analyse(
    request: Request,
    csv_text: Annotated[str, Form(max_length=MAX_CSV_BYTES)] = "",
    file: Annotated[UploadFile | None, File()] = None,
    method: Annotated[str, Form(max_length=32)] = Method.CONSENSUS.value,
    reference: Annotated[str, Form(max_length=64)] = "",
    reference_u: Annotated[str, Form(max_length=64)] = "",
    sigma_pt: Annotated[str, Form(max_length=64)] = "",
    score: Annotated[str, Form(max_length=16)] = "",
    exclusion: Annotated[str, Form(max_length=32)] = Exclusion.LARGEST_CONSISTENT_SUBSET.value,
    mean_u: Annotated[str, Form(max_length=16)] = MeanUncertainty.STATED.value,
    lang: Annotated[str, Query(pattern="^(zh|en)$")] = "zh",
) -> HTMLResponse:
    fields = {
        "method": method,
        "reference": reference,
        "reference_u": reference_u,
        "sigma_pt": sigma_pt,
        "score": score,
        "exclusion": exclusion,
        "mean_u": mean_u,
    }
    data = csv_text.encode("utf-8")
    if file is not None and file.filename:
        data = await file.read(MAX_CSV_BYTES + 1)
        await file.close()
    context = _context(lang, "", "", fields)
    try:
        if len(data) > MAX_CSV_BYTES:
            raise PayloadTooLarge(f"文件过大 / file larger than {MAX_CSV_BYTES:,} bytes", field="file")
        context["text"] = comparisons.decode(data)

        def run() -> comparisons.Report:
            results = comparisons.read_results(data)
            return comparisons.analyse(
                results,
                method=method,
                reference=_number(reference, "reference"),
                reference_u=_number(reference_u, "reference_u"),
                sigma_pt=_number(sigma_pt, "sigma_pt"),
                score=score or None,
                exclusion=exclusion,
                trials=fitting_trials(len(results), PAGE_MEDIAN_TRIALS),
                mean_u=mean_u,
            )

        report = await run_in_threadpool(run)
    except JiliangError as exc:
        return refused(request, "comparison.html", context, exc)
    context.update(report=report, chart=comparisons.chart_svg(report))
    return templates.TemplateResponse(request, "comparison.html", context)
