"""The public net-content calculator (/public/market/net-content): no sign-in, nothing stored.

A packer, an importer or a shopper types the nominal quantity, the lot size and the sample's values,
chooses a rule set (JJF 1070-2023 — in force since 2024-10-12 —, JJF 1070-2005, or the EU/UK average
system of Directive 76/211/EEC) and gets the report ``services.market.calculator.check`` gives the API:
T, n, mean, s, λ and Qn − λs, each criterion with its requirement, observation and verdict, and whether
each table row used is confirmed against the regulation's text or provisional. The form posts with the
pre-session CSRF token (``web.auth``) like the public complaint form.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from jiliang.errors import InvalidInput, JiliangError
from jiliang.services.market import calculator
from jiliang.web.auth import CsrfForm, Lang, anonymous_context
from jiliang.web.common import templates
from jiliang.web.market_console import STRINGS as CONSOLE_STRINGS
from jiliang.web.market_labels import RULESETS, labeller
from jiliang.web.net_content_form import NetContentFields

router = APIRouter(include_in_schema=False)

STRINGS: dict[str, dict[str, str]] = {
    "zh": {
        "calculator": "定量包装商品净含量计算器",
        "calculator_intro": "输入标注净含量、检验批量和样本各件的实测净含量，按所选检验规则逐项判定："
        "短缺量超过允许短缺量 T 的件数、超过 2T 的件数、平均实际含量。计算在服务器上进行，不保存任何数据，"
        "无需登录。结果仅供参考，监督抽查以计量技术机构的检验报告为准。",
        "ruleset_default": "JJF 1070-2023（2024 年 10 月 12 日起实施）",
        "check": "计算",
        "back_portal": "返回民生计量公开服务",
        "provenance": "表中各行数据的依据（已核实或待核实）见项目文档 docs/market.md。",
        "tare_used": "皮重",
    },
    "en": {
        "calculator": "Net-content calculator for prepackages",
        "calculator_intro": "Give the nominal quantity, the lot size and the net content of each package in "
        "the sample, choose the rules, and each criterion is judged: packages short by more than the "
        "tolerable deficiency T, by more than 2T, and the mean. Computed on the server, nothing stored, no "
        "sign-in. For guidance only: an official inspection is decided by the metrology institution's report.",
        "ruleset_default": "JJF 1070-2023 (in force from 12 October 2024)",
        "check": "Check",
        "back_portal": "Back to public services",
        "provenance": "Where each table row comes from (confirmed or provisional): docs/market.md.",
        "tare_used": "Tare",
    },
}


def _context(request: Request, lang: str, values: dict[str, Any]) -> dict[str, Any]:
    context = anonymous_context(request, lang)
    context["t"].update(CONSOLE_STRINGS[lang])
    context["t"].update(STRINGS[lang])
    context["title"] = context["t"]["calculator"]
    context["label"] = labeller(lang)
    context["rulesets"] = {k: (z if lang == "zh" else e) for k, (z, e) in RULESETS.items()}
    context["values"] = values
    return context


def _page(request: Request, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    return templates.TemplateResponse(request, "public/net_content.html", context, status_code=status_code)


@router.get("/public/market/net-content", response_class=HTMLResponse)
def calculator_form(request: Request, lang: Lang) -> HTMLResponse:
    values = {"ruleset": "JJF1070-2023", "unit": "g", "method": "non_destructive"}
    return _page(request, _context(request, lang, values))


@router.post("/public/market/net-content", response_class=HTMLResponse, dependencies=[CsrfForm])
def calculate(
    request: Request, lang: Lang, form: Annotated[NetContentFields, Form()]
) -> HTMLResponse:
    if not form.ruleset:
        form.ruleset = "JJF1070-2023"
    context = _context(request, lang, form.shown())
    try:
        if form.ruleset not in RULESETS:
            raise InvalidInput(f"未知的检验规则 {form.ruleset!r} / unknown rule set {form.ruleset!r}", field="ruleset")
        context["report"] = calculator.check(form.data())
    except JiliangError as exc:
        context.update(error=exc.message, field=exc.field)
        return _page(request, context, 422)
    return _page(request, context)
