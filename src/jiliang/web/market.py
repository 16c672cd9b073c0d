"""The public page of random inspections (一公开): published plans, and one plan with its commitment, seed,
list and each target's conclusion, re-run on the spot from the published seed and population.

Read-only and without an account; the same service functions as ``/api/v1/public/market``. Times are shown
in Asia/Shanghai. The offline re-run (``jiliang market rerun``) and the algorithm (docs/market.md) are
linked so that nobody has to trust this page's own re-run."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from jiliang import __version__
from jiliang.api.deps import PlatformDep
from jiliang.errors import JiliangError
from jiliang.services.market import plans
from jiliang.web.common import templates

router = APIRouter(include_in_schema=False)
SHANGHAI = ZoneInfo("Asia/Shanghai")

STRINGS: dict[str, dict[str, str]] = {
    "zh": {
        "title": "双随机抽查公示",
        "intro": "抽查计划在抽取前公布随机种子的承诺值（SHA-256），抽取后公布种子、抽查对象名录和抽取结果。"
        "任何人都可以用公布的种子和名录重新抽取，核对名单是否一致。",
        "plans": "已公布的抽查计划",
        "plan": "计划",
        "region": "区划",
        "status": "状态",
        "committed": "已公布承诺值，待抽取",
        "drawn": "已抽取",
        "commitment": "种子承诺值",
        "seed": "随机种子",
        "population": "抽查对象名录",
        "population_hash": "名录哈希",
        "committed_at": "承诺时间",
        "drawn_at": "抽取时间",
        "algorithm": "算法",
        "targets": "抽中对象",
        "rank": "序号",
        "organisation": "单位",
        "stratum": "分层",
        "inspectors": "检查人员编号",
        "conclusion": "检查结论",
        "pending": "待检查",
        "rerun": "重新抽取核对",
        "matches": "✔ 用公布的种子和名录重新抽取，名单完全一致。",
        "mismatch": "✘ 重新抽取的名单与公布的名单不一致！",
        "offline": "离线复核：下载 JSON 后运行 jiliang market rerun plan.json；算法见 docs/market.md。",
        "json": "下载公布的 JSON",
        "none": "暂无公布的计划。",
        "error": "无法显示",
        "switch": "English",
        "api": "接口文档",
        "definitions": "抽取算法见 docs/market.md",
        "pass": "合格",
        "rectify": "限期整改",
        "fail": "不合格",
    },
    "en": {
        "title": "Random inspections, published",
        "intro": "Each plan publishes the SHA-256 commitment to its random seed before the draw, and the seed, "
        "the population and the list after it. Anyone can re-run the draw from what is published and check "
        "that the list is the same.",
        "plans": "Published plans",
        "plan": "Plan",
        "region": "Region",
        "status": "Status",
        "committed": "commitment published, not drawn yet",
        "drawn": "drawn",
        "commitment": "Seed commitment",
        "seed": "Seed",
        "population": "Population",
        "population_hash": "Population hash",
        "committed_at": "Committed",
        "drawn_at": "Drawn",
        "algorithm": "Algorithm",
        "targets": "Drawn",
        "rank": "#",
        "organisation": "Organisation",
        "stratum": "Stratum",
        "inspectors": "Inspector ids",
        "conclusion": "Conclusion",
        "pending": "pending",
        "rerun": "Re-run",
        "matches": "✔ Re-run from the published seed and population: the same list.",
        "mismatch": "✘ The re-run list differs from the published one!",
        "offline": "Offline: download the JSON and run jiliang market rerun plan.json; the algorithm is in "
        "docs/market.md.",
        "json": "Download the published JSON",
        "none": "No plan is published yet.",
        "error": "Cannot show",
        "switch": "中文",
        "api": "API docs",
        "definitions": "The draw's algorithm: docs/market.md",
        "pass": "pass",
        "rectify": "rectify",
        "fail": "fail",
    },
}

Lang = Annotated[str, Query(pattern="^(zh|en)$")]


def _local(iso: str | None) -> str:
    if not iso:
        return ""
    return datetime.fromisoformat(iso).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def _context(lang: str) -> dict[str, Any]:
    return {"t": STRINGS[lang], "lang": lang, "version": __version__, "local": _local}


@router.get("/market/draws", response_class=HTMLResponse)
def draws(request: Request, platform: PlatformDep, lang: Lang = "zh") -> HTMLResponse:
    context = _context(lang)
    context["plans"] = plans.list_published(platform)
    return templates.TemplateResponse(request, "market_draw.html", context)


@router.get("/market/draws/{plan_id}", response_class=HTMLResponse)
def draw(request: Request, plan_id: int, platform: PlatformDep, lang: Lang = "zh") -> HTMLResponse:
    context = _context(lang)
    try:
        published = plans.published(platform, plan_id)
        context["published"] = published
        if published["plan"]["status"] == "drawn":
            context["rerun"] = plans.rerun_published(published)
    except JiliangError as exc:
        context["error"] = exc.message
        return templates.TemplateResponse(request, "market_draw.html", context, status_code=404)
    return templates.TemplateResponse(request, "market_draw.html", context)
