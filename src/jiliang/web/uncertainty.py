"""The public uncertainty calculator: paste a model file, read the GUM budget (and the Monte Carlo check).

A lab writes the same YAML it gives `jiliang uncertainty evaluate`; nothing is stored, so the page needs
no account. It shares the server with everyone, so Monte Carlo runs at most ``PAGE_MAX_TRIALS`` trials
here (the page says when it cut a file's request) and the text is bounded like the API's.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from jiliang import __version__
from jiliang.errors import JiliangError
from jiliang.services import uncertainty
from jiliang.web.common import refused, templates

router = APIRouter(include_in_schema=False)

PAGE_MAX_TRIALS = 200_000
DEFAULT_EXAMPLE = "gum_h1"

STRINGS: dict[str, dict[str, str]] = {
    "zh": {
        "title": "测量不确定度评定",
        "intro": "粘贴模型文件（YAML 或 JSON，格式见 docs/uncertainty.md），按 GUM（JJF 1059.1）评定合成标准不确定度、"
        "有效自由度、包含因子和扩展不确定度，给出不确定度分量表；选 method: both 时另以蒙特卡洛法（JJF 1059.2）验证。"
        "本页不保存任何内容。",
        "example": "示例",
        "load": "载入示例",
        "model_file": "模型文件",
        "evaluate": "评定",
        "error": "无法评定",
        "result": "结果",
        "output": "输出量",
        "value": "估计值",
        "u": "合成标准不确定度 u_c",
        "dof": "有效自由度 ν_eff",
        "k": "包含因子 k",
        "p": "包含概率 p",
        "U": "扩展不确定度 U",
        "reported": "报告",
        "budget": "不确定度分量",
        "input": "输入量",
        "estimate": "估计值 x_i",
        "u_i": "标准不确定度 u(x_i)",
        "unit": "单位",
        "nu_i": "自由度 ν_i",
        "c_i": "灵敏系数 c_i",
        "contribution": "分量 u_i(y)",
        "share": "占比",
        "correlation": "输出量相关系数",
        "mc": "蒙特卡洛法",
        "trials": "试验次数",
        "seed": "随机种子",
        "interval": "包含区间",
        "validation": "GUM 法验证",
        "validated": "通过",
        "not_validated": "未通过",
        "notes": "说明",
        "infinite": "∞",
        "switch": "English",
        "api": "接口文档",
        "definitions": "方法与约定见 docs/uncertainty.md",
        "evaluations": "由数据评定的输入",
        "method": "方法",
        "details": "详情",
        "type_a": "A 类评定（GUM 4.2）",
        "anova": "单因素方差分析（GUM H.5）",
        "fit": "拟合直线（GUM H.3）",
        "intermediate_budget": "对中间结果的分量",
        "intermediate": "中间结果",
        "excluded": "排除的无定义试验",
    },
    "en": {
        "title": "Evaluate measurement uncertainty",
        "intro": "Paste a model file (YAML or JSON, format in docs/uncertainty.md) to evaluate the combined "
        "standard uncertainty, effective degrees of freedom, coverage factor and expanded uncertainty by the "
        "GUM, with the uncertainty budget; with method: both, Monte Carlo (JCGM 101) validates it. Nothing "
        "is stored.",
        "example": "Example",
        "load": "Load example",
        "model_file": "Model file",
        "evaluate": "Evaluate",
        "error": "Cannot evaluate",
        "result": "Result",
        "output": "Output",
        "value": "Estimate",
        "u": "Combined standard uncertainty u_c",
        "dof": "Effective dof ν_eff",
        "k": "Coverage factor k",
        "p": "Coverage probability p",
        "U": "Expanded uncertainty U",
        "reported": "Reported",
        "budget": "Uncertainty budget",
        "input": "Input",
        "estimate": "Estimate x_i",
        "u_i": "Standard uncertainty u(x_i)",
        "unit": "Unit",
        "nu_i": "dof ν_i",
        "c_i": "Sensitivity c_i",
        "contribution": "Contribution u_i(y)",
        "share": "Share",
        "correlation": "Correlation of the outputs",
        "mc": "Monte Carlo",
        "trials": "Trials",
        "seed": "Seed",
        "interval": "Coverage interval",
        "validation": "GUM validated",
        "validated": "yes",
        "not_validated": "no",
        "notes": "Notes",
        "infinite": "∞",
        "switch": "中文",
        "api": "API docs",
        "definitions": "Methods and conventions: docs/uncertainty.md",
        "evaluations": "Inputs evaluated from data",
        "method": "Method",
        "details": "Details",
        "type_a": "Type A (GUM 4.2)",
        "anova": "one-way ANOVA (GUM H.5)",
        "fit": "fitted line (GUM H.3)",
        "intermediate_budget": "Budget against intermediate results",
        "intermediate": "Intermediate",
        "excluded": "undefined trials left out",
    },
}


# The shipped examples by name, in the page's language (the model files keep their English titles).
EXAMPLE_TITLES_ZH = {
    "ea4_02_s2_mass": "10 kg 砝码与参考标准比较（EA-4/02 S2）",
    "gs1_9_2_2": "加法模型，正态输入（JCGM 101:2008 9.2.2）",
    "gs1_9_2_3": "加法模型，矩形分布输入（JCGM 101:2008 9.2.3）",
    "gum_h1": "量块校准（JCGM 100:2008 H.1）",
    "gum_h2_observations": "由原始观测列同时测量电阻与电抗（JCGM 100:2008 H.2，表 H.2）",
    "gum_h3_table": "由数据表拟合温度计校准曲线（JCGM 100:2008 H.3，表 H.6）",
    "gum_h5_anova": "齐纳电压标准十日校准（JCGM 100:2008 H.5，单因素方差分析）",
    "gum_h2": "电阻、电抗与阻抗的同时测量（JCGM 100:2008 H.2）",
    "gum_h3": "温度计在 30 ℃ 的修正值（JCGM 100:2008 H.3）",
}


def example_titles(lang: str) -> dict[str, str]:
    titles = uncertainty.example_models()
    if lang == "zh":
        return {name: EXAMPLE_TITLES_ZH.get(name, title) for name, title in titles.items()}
    return titles


def _context(lang: str, text: str, example: str) -> dict[str, Any]:
    return {
        "t": STRINGS[lang],
        "lang": lang,
        "version": __version__,
        "examples": example_titles(lang),
        "example": example,
        "text": text,
    }


@router.get("/uncertainty", response_class=HTMLResponse)
def form(
    request: Request,
    lang: Annotated[str, Query(pattern="^(zh|en)$")] = "zh",
    example: Annotated[str, Query(max_length=64)] = DEFAULT_EXAMPLE,
) -> HTMLResponse:
    try:
        text = uncertainty.example_text(example)
    except JiliangError as exc:
        return refused(request, "uncertainty.html", _context(lang, "", example), exc, status_code=404)
    return templates.TemplateResponse(request, "uncertainty.html", _context(lang, text, example))


@router.post("/uncertainty", response_class=HTMLResponse)
async def evaluate(
    request: Request,
    model_file: Annotated[str, Form(max_length=uncertainty.MAX_FILE_BYTES)],
    lang: Annotated[str, Query(pattern="^(zh|en)$")] = "zh",
) -> HTMLResponse:
    context = _context(lang, model_file, "")
    try:
        doc = uncertainty.parse_bounded(model_file)
        answer = await run_in_threadpool(uncertainty.evaluate_document, doc, max_trials=PAGE_MAX_TRIALS)
    except JiliangError as exc:
        return refused(request, "uncertainty.html", context, exc)
    context["answer"] = answer
    return templates.TemplateResponse(request, "uncertainty.html", context)
