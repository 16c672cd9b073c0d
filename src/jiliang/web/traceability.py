"""The public traceability console (量值溯源): the demo city's standards, chains and recall lists.

Read-only and public like the indicators page, so it reads as ``PAGE_READER`` and shows only the
synthetic demo city (演示市, 339900): its standards and instruments, and the provincial and national
standards above them (a chain is only useful whole, and the demo's out-of-tolerance standard is a
provincial one). Anything else is a 404 page. Every figure comes from ``services.traceability``, the
same functions as the JSON API; the router only chooses what to show and formats it.
"""

from __future__ import annotations

import math
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from jiliang import __version__
from jiliang.api.deps import PlatformDep
from jiliang.api.downloads import attachment
from jiliang.domain.access import Principal
from jiliang.errors import InvalidInput, JiliangError, NotFound
from jiliang.services import standards as standards_service
from jiliang.services import traceability
from jiliang.services.platform import Platform
from jiliang.services.supervision import names, search
from jiliang.services.traceability import ImpactReason
from jiliang.web.common import DEMO_CITY, PAGE_READER, has_demo, templates
from jiliang.web.indicators import STRINGS as INDICATOR_STRINGS

router = APIRouter(include_in_schema=False)

Lang = Annotated[str, Query(pattern="^(zh|en)$")]

STRINGS: dict[str, dict[str, str]] = {
    "zh": {
        "title": "量值溯源",
        "synthetic": "本页为演示数据：演示市及其上级标准、校准证书、检定记录均为程序合成，不代表任何真实地区。",
        "standards": "演示市的计量标准",
        "standard": "计量标准",
        "kind": "类别",
        "certificate": "证书号",
        "chain_today": "今日溯源链",
        "min_tur": "最低 TUR",
        "lookup": "按出厂编号或证书编号查询器具的溯源链",
        "instrument_id": "出厂编号或证书编号",
        "several": "有多台器具匹配“{q}”，请输入完整的出厂编号或证书编号 / several instruments match {q!r}: "
        "give the full serial or certificate number",
        "c_pass": "合格",
        "c_fail": "不合格",
        "show": "查询",
        "broken": "断链与过期的溯源链（演示市）",
        "checked": "核查的在用器具检定",
        "broken_count": "断链或过期",
        "unrecorded": "未记录所用标准",
        "tur_warnings": "TUR 低于 {m:g}:1",
        "broken_standards": "今日溯源链不完整的计量标准",
        "broken_items": "溯源链断开或过期的器具",
        "by_group": "按区划与检定机构",
        "region": "区划",
        "institution": "检定机构",
        "instrument": "器具",
        "serial": "出厂编号",
        "record": "检定证书/记录号",
        "verified_on": "检定日期",
        "status": "状态",
        "reason": "原因",
        "at_fault": "出问题的标准",
        "level": "层级",
        "chain": "溯源链",
        "chain_of": "{name} 的溯源链",
        "as_of": "日期",
        "on_label": "查看某日的溯源链（YYYY-MM-DD）",
        "link_kind": "环节",
        "item": "被校对象",
        "used": "所用标准 / 溯源源头",
        "date": "日期",
        "valid_until": "有效期至",
        "valid_on": "当日有效",
        "u": "本级标准不确定度 u (k=1)",
        "tur": "TUR",
        "tur_low": "低于 {m:g}:1",
        "propagated": "沿链传递的合成标准不确定度 u_c (k=1)",
        "mixed_units": "各环节单位不同，无法合成",
        "depth": "链长",
        "suspect": "链上某标准在下一次校准时被发现超差：本链可疑，见影响分析。",
        "chain_ok": "溯源链完整有效，直至溯源源头。",
        "chain_tur": "溯源链完整，但有环节的测试不确定度比（TUR）低于 {m:g}:1。",
        "calibrations": "该标准的校准记录",
        "in_tolerance": "结论",
        "pass": "合格",
        "oot": "超差",
        "analyse": "影响分析",
        "impact": "影响分析（召回）",
        "impact_intro": "假定该标准在某日被发现超差（或校准证书失效），列出自其上一次合格校准以来用它（直接或经下级标准）"
        "出具的校准证书和检定记录，以及涉及的器具。",
        "impact_on": "发现日期",
        "impact_reason": "原因",
        "since": "起始日期（可选）",
        "run": "分析",
        "window": "召回窗口：{since} 至 {on}",
        "window_open": "召回窗口：截至 {on}（此前无合格校准）",
        "recall_calibrations": "需追回的校准证书",
        "recall_standards": "受影响的下级计量标准",
        "recall_records": "需追回的检定记录",
        "recall_instruments": "涉及器具",
        "totals": "全部（含演示市以外）：检定记录 {r} 条，器具 {i} 台",
        "csv": "下载 CSV",
        "conclusion": "结论",
        "none": "无",
        "national_primary": "计量基准",
        "social_public": "社会公用计量标准",
        "department": "部门最高计量标准",
        "enterprise_highest": "企事业单位最高计量标准",
        "in_use": "在用",
        "verification": "检定",
        "calibration": "校准",
        "anchor": "溯源源头",
        "s_ok": "有效",
        "s_expired": "已过期",
        "s_broken": "断链",
        "s_tur": "TUR 偏低",
        "s_suspect": "可疑",
        "out_of_tolerance": "标准超差",
        "certificate_lapsed": "校准证书失效",
        "not_found": "未找到",
        "not_found_text": "演示市内没有该器具或计量标准。本页只显示演示市及其上级标准。",
        "error": "无法显示",
        "bad_id": "请输入出厂编号或证书编号 / give a serial or certificate number",
        "back": "返回溯源总览",
        "indicators": "指标总览",
        "no_demo": INDICATOR_STRINGS["zh"]["no_demo"],
        "api": "接口文档",
        "switch": "English",
        "definitions": "溯源模型见 docs/traceability.md",
    },
    "en": {
        "title": "Traceability",
        "synthetic": "Demo data: Demo City, the standards above it, their calibration certificates and the "
        "verification records are synthetic, generated by the program; they describe no real place.",
        "standards": "Demo City's measurement standards",
        "standard": "Standard",
        "kind": "Kind",
        "certificate": "Certificate",
        "chain_today": "Chain today",
        "min_tur": "Lowest TUR",
        "lookup": "Look up an instrument's chain by serial or certificate number",
        "instrument_id": "Serial or certificate number",
        "several": "有多台器具匹配“{q}”，请输入完整的出厂编号或证书编号 / several instruments match {q!r}: "
        "give the full serial or certificate number",
        "c_pass": "passed",
        "c_fail": "failed",
        "show": "Show",
        "broken": "Broken and expired chains (Demo City)",
        "checked": "Current verifications checked",
        "broken_count": "Broken or expired",
        "unrecorded": "No standard recorded",
        "tur_warnings": "TUR below {m:g}:1",
        "broken_standards": "Standards whose chain is not valid today",
        "broken_items": "Instruments whose chain is broken or expired",
        "by_group": "By region and institution",
        "region": "Region",
        "institution": "Institution",
        "instrument": "Instrument",
        "serial": "Serial number",
        "record": "Record / certificate",
        "verified_on": "Verified on",
        "status": "Status",
        "reason": "Reason",
        "at_fault": "Standard at fault",
        "level": "Level",
        "chain": "Chain",
        "chain_of": "Chain of {name}",
        "as_of": "Date",
        "on_label": "Show the chain as of (YYYY-MM-DD)",
        "link_kind": "Link",
        "item": "Calibrated",
        "used": "Standard used / anchor",
        "date": "Date",
        "valid_until": "Valid until",
        "valid_on": "Valid that day",
        "u": "Link standard uncertainty u (k=1)",
        "tur": "TUR",
        "tur_low": "below {m:g}:1",
        "propagated": "Combined standard uncertainty propagated down the chain u_c (k=1)",
        "mixed_units": "the links use different units: no combined value",
        "depth": "Links",
        "suspect": "A standard of this chain was found out of tolerance at its next calibration: the chain is "
        "suspect, see the impact analysis.",
        "chain_ok": "The chain is valid up to its anchor.",
        "chain_tur": "The chain is valid, but a link's test uncertainty ratio (TUR) is below {m:g}:1.",
        "calibrations": "Calibrations of this standard",
        "in_tolerance": "Result",
        "pass": "in tolerance",
        "oot": "out of tolerance",
        "analyse": "Impact analysis",
        "impact": "Impact analysis (recall)",
        "impact_intro": "Supposing the standard was found out of tolerance (or its certificate lapsed) on a day: "
        "the calibration certificates and verification records issued with it, directly or through lower "
        "standards, since its last good calibration, and the instruments concerned.",
        "impact_on": "Found on",
        "impact_reason": "Reason",
        "since": "Since (optional)",
        "run": "Analyse",
        "window": "Recall window: {since} to {on}",
        "window_open": "Recall window: up to {on} (no earlier good calibration)",
        "recall_calibrations": "Calibration certificates to recall",
        "recall_standards": "Lower standards affected",
        "recall_records": "Verification records to recall",
        "recall_instruments": "Instruments concerned",
        "totals": "In all (including outside Demo City): {r} records, {i} instruments",
        "csv": "Download CSV",
        "conclusion": "Conclusion",
        "none": "none",
        "national_primary": "National primary standard",
        "social_public": "Social public measurement standard",
        "department": "Department's highest standard",
        "enterprise_highest": "Enterprise's highest standard",
        "in_use": "in use",
        "verification": "verification",
        "calibration": "calibration",
        "anchor": "anchor",
        "s_ok": "valid",
        "s_expired": "expired",
        "s_broken": "broken",
        "s_tur": "low TUR",
        "s_suspect": "suspect",
        "out_of_tolerance": "out of tolerance",
        "certificate_lapsed": "certificate lapsed",
        "not_found": "Not found",
        "not_found_text": "Demo City has no such instrument or standard. This page shows only Demo City and "
        "the standards above it.",
        "error": "Cannot show this",
        "bad_id": "请输入出厂编号或证书编号 / give a serial or certificate number",
        "back": "Back to the traceability overview",
        "indicators": "Indicators",
        "no_demo": INDICATOR_STRINGS["en"]["no_demo"],
        "api": "API docs",
        "switch": "中文",
        "definitions": "The model: docs/traceability.md",
    },
}

# A chain's status, in three words: valid, expired (a certificate ran out) or broken (anything else).
EXPIRED = {"calibration_expired", "approval_not_in_force"}


def status_class(status: str) -> str:
    return "ok" if status == "ok" else ("expired" if status in EXPIRED else "broken")


def say(text: str, lang: str) -> str:
    """One language of a service's "中文 / English" message."""
    zh, sep, en = text.partition(" / ")
    return (en if lang == "en" else zh) if sep else text


def fmt_u(value: float | None, unit: str) -> str:
    """An uncertainty as the page prints it; the engine's relative unit "1" is shown in %."""
    if value is None or not math.isfinite(value):
        return "—"
    if unit == "1":
        return f"{value * 100:.3g} %"
    return f"{value:.3g} {unit}".strip()


def fmt_tur(tur: float | None) -> str:
    return "—" if tur is None else f"{tur:.1f}:1"


class _Names:
    """Names for the ids and region codes the traceability services return (looked up once each)."""

    def __init__(self, platform: Platform) -> None:
        self._platform = platform
        self._standards: dict[int, str] = {}
        self._regions: dict[str, str] = {}

    def standard(self, standard_id: int) -> str:
        if standard_id not in self._standards:
            found = names.standard_names(self._platform, PAGE_READER, [standard_id])
            self._standards[standard_id] = found.get(standard_id, "—")
        return self._standards[standard_id]

    def region(self, code: str) -> str:
        if code not in self._regions:
            self._regions[code] = names.region_names(self._platform, [code]).get(code, code)
        return self._regions[code]


def _context(lang: str, platform: Platform) -> dict[str, Any]:
    return {
        "names": _Names(platform),
        "t": STRINGS[lang],
        "lang": lang,
        "version": __version__,
        "minimum": platform.settings.min_test_uncertainty_ratio,
        "say": lambda text: say(text, lang),
        "fmt_u": fmt_u,
        "fmt_tur": fmt_tur,
        "status_class": status_class,
    }


def _page(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    return templates.TemplateResponse(request, name, context, status_code=status_code)


def _failure(request: Request, context: dict[str, Any], exc: JiliangError) -> HTMLResponse:
    """A 404 for what is absent or outside the demo city, a 422 with the service's message otherwise."""
    if isinstance(exc, NotFound):
        return _page(request, "traceability_error.html", {**context, "not_found": True}, 404)
    return _page(request, "traceability_error.html", {**context, "error": exc.message}, 422)


def _demo_standards(platform: Platform, reader: Principal) -> list[Any]:
    page_size = platform.settings.page_size_max
    out: list[Any] = []
    while True:
        page = standards_service.list_standards(
            platform, reader, region_code=DEMO_CITY, offset=len(out), limit=page_size
        )
        out.extend(page.items)
        if not page.items or len(out) >= page.total:
            return out


def overview_data(platform: Platform) -> dict[str, Any]:
    """The demo city's standards with their chains today, and the broken-chain report."""
    rows = []
    for std in _demo_standards(platform, PAGE_READER):
        chain = traceability.standard_chain(platform, PAGE_READER, std.id)
        rows.append({"std": std, "chain": chain})
    report = traceability.broken_chains(platform, PAGE_READER, region_code=DEMO_CITY)
    return {"rows": rows, "report": report, "today": platform.local_today()}


@router.get("/traceability", response_class=HTMLResponse)
def overview(request: Request, platform: PlatformDep, lang: Lang = "zh") -> HTMLResponse:
    context = _context(lang, platform)
    if not has_demo(platform):
        return _page(request, "no_demo.html", context)
    context["d"] = overview_data(platform)
    return _page(request, "traceability.html", context)


@router.get("/traceability/instrument", response_class=HTMLResponse, response_model=None)
def lookup(
    request: Request, platform: PlatformDep, q: str = "", id: str = "", lang: Lang = "zh"
) -> HTMLResponse | RedirectResponse:
    """The look-up form's target: an instrument by its serial number (出厂编号) or a certificate or record
    number, on to its page. (``id``, the internal id, is still read for old links.)"""
    context = _context(lang, platform)
    text = (q or id).strip()
    if not text:
        return _failure(request, context, InvalidInput(STRINGS[lang]["bad_id"], field="q"))
    if id and not q:
        if not text.isdigit():
            return _failure(request, context, InvalidInput(STRINGS[lang]["bad_id"], field="id"))
        return RedirectResponse(f"/traceability/instruments/{int(text)}?lang={lang}", status_code=303)
    page = search.search_instruments(platform, PAGE_READER, {"q": text}, limit=2)
    exact = [r for r in page.items if text in (r.serial_number,)]
    if page.total == 0:
        return _failure(request, context, NotFound("instrument", field="q"))
    if page.total > 1 and len(exact) != 1:
        return _failure(request, context, InvalidInput(STRINGS[lang]["several"].format(q=text), field="q"))
    found = exact[0] if exact else page.items[0]
    return RedirectResponse(f"/traceability/instruments/{found.id}?lang={lang}", status_code=303)


@router.get("/traceability/instruments/{instrument_id}", response_class=HTMLResponse)
def instrument_page(
    request: Request, instrument_id: str, platform: PlatformDep, on: str = "", lang: Lang = "zh"
) -> HTMLResponse:
    context = _context(lang, platform)
    context.update(on=on, query={"on": on} if on else {})
    if not has_demo(platform):
        return _page(request, "no_demo.html", context)
    if not instrument_id.isdigit():
        return _failure(request, context, NotFound("instrument", field="id"))
    try:
        chain = traceability.instrument_chain(platform, PAGE_READER, int(instrument_id), on or None)
    except JiliangError as exc:
        return _failure(request, context, exc)
    context.update(chain=chain, subject="instrument", subject_id=int(instrument_id))
    return _page(request, "traceability_chain.html", context)


@router.get("/traceability/standards/{standard_id}", response_class=HTMLResponse)
def standard_page(
    request: Request,
    standard_id: str,
    platform: PlatformDep,
    on: str = "",
    impact_on: str = "",
    reason: str = ImpactReason.OUT_OF_TOLERANCE.value,
    since: str = "",
    lang: Lang = "zh",
) -> HTMLResponse:
    """A standard's chain and calibrations; with ``impact_on``, the recall list from that day."""
    context = _context(lang, platform)
    query = {k: v for k, v in (("on", on), ("impact_on", impact_on), ("since", since)) if v}
    if impact_on:
        query["reason"] = reason
    context.update(on=on, impact_on=impact_on, reason=reason, since=since, query=query)
    if not has_demo(platform):
        return _page(request, "no_demo.html", context)
    if not standard_id.isdigit():
        return _failure(request, context, NotFound("standard", field="id"))
    sid = int(standard_id)
    try:
        chain = traceability.standard_chain(platform, PAGE_READER, sid, on or None, upstream=True)
        calibrations = traceability.list_calibrations(platform, PAGE_READER, sid, upstream=True)
        report = None
        if impact_on:
            report = traceability.impact(
                platform,
                PAGE_READER,
                sid,
                on=impact_on,
                reason=reason,
                since=since or None,
                upstream=True,
            )
    except JiliangError as exc:
        return _failure(request, context, exc)
    context.update(
        chain=chain,
        subject="standard",
        subject_id=sid,
        calibrations=calibrations,
        report=report,
        reasons=[r.value for r in ImpactReason],
        csv_query=urlencode({"on": impact_on, "reason": reason, **({"since": since} if since else {})}),
    )
    return _page(request, "traceability_chain.html", context)


@router.get("/traceability/standards/{standard_id}/impact.csv", response_model=None)
def impact_csv(
    request: Request,
    standard_id: str,
    platform: PlatformDep,
    on: str = "",
    reason: str = ImpactReason.OUT_OF_TOLERANCE.value,
    since: str = "",
    lang: Lang = "zh",
) -> Response:
    """The recall list as the service writes it (CSV with a BOM), for a spreadsheet."""
    context = _context(lang, platform)
    if not has_demo(platform):
        return _page(request, "no_demo.html", context)
    if not standard_id.isdigit():
        return _failure(request, context, NotFound("standard", field="id"))
    try:
        report = traceability.impact(
            platform, PAGE_READER, int(standard_id), on=on, reason=reason, since=since or None, upstream=True
        )
    except JiliangError as exc:
        return _failure(request, context, exc)
    name = f"impact-{report.standard_id}-{report.on.isoformat()}.csv"
    return Response(
        traceability.impact_csv(report),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": attachment(name)},
    )
