"""The energy-metering review report (能源计量审查报告) and a period's carbon report (碳排放报告) as PDF:
Chinese first, every shortfall with its clause, the uncertainty budget with the input that dominates.

Pure: it takes the stored review as the service answers it (a dict) and draws A4 pages in STSong-Light,
an Adobe CID font every PDF reader has (as ``trust/rendering.py`` does), so no font file is shipped.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from jiliang.energy.rules import ENERGY_LABELS, LEVEL_LABELS, EnergyType, Level

CJK_FONT = "STSong-Light"
KIND_LABELS = {
    "review": ("能源计量审查", "energy-metering review"),
    "self_check": ("能源计量自查", "self-check"),
}


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} %"


def review_lines(review: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(style, text) lines of the report, in reading order; the PDF and the tests read the same lines."""
    kind_zh, kind_en = KIND_LABELS.get(review["kind"], (review["kind"], review["kind"]))
    yield "title", f"{kind_zh}报告 / {kind_en} report"
    yield "body", f"用能单位 / unit: {review['organisation']}（{review['credit_code']}）"
    yield "body", f"审查日期 / date: {review['review_date']}    规则 / rules: {review['rule_set']}"
    verdict = "符合 / compliant" if review["compliant"] else "不符合 / not compliant"
    yield "body", f"结论 / conclusion: {verdict}，问题 {len(review['shortfalls'])} 项 / shortfalls"
    if review.get("provisional_rules"):
        yield (
            "note",
            (
                f"注：所用规则中 {review['provisional_rules']} 行为暂定值，尚未与标准原文核对 / "
                f"{review['provisional_rules']} rule rows applied are provisional, not yet checked against the text"
            ),
        )
    yield "head", f"一、计量器具配备率 / equipping rates ({review['rule_set']})"
    for r in review["rates"]:
        if not r["required"]:
            continue
        zh, en = ENERGY_LABELS[EnergyType(r["energy_type"])]
        lzh, _len = LEVEL_LABELS[Level(r["level"])]
        ok = "符合" if r["compliant"] else "不符合"
        yield (
            "body",
            (
                f"{zh} / {en} · {lzh}：{r['installed']}/{r['required']} = {percent(r['percent'])}，"
                f"要求 {percent(r['required_percent'])}，{ok}"
            ),
        )
    yield "head", "二、问题及依据条款 / shortfalls and the clauses they break"
    if not review["shortfalls"]:
        yield "body", "无 / none"
    for i, f in enumerate(review["shortfalls"], start=1):
        yield "body", f"{i}. 【{f['clause']}】{f['message_zh']}"
        yield "en", f"    {f['message_en']}"
    yield "head", "三、计量器具 / meters"
    for m in review["meters"]:
        state = [
            "有效检定" if m["verified"] else "检定过期",
            "在用" if m["in_service"] else "停用",
        ]
        yield (
            "body",
            (
                f"{m['point']} · {m['instrument']}（{m['serial_number']}）准确度 {m['accuracy_class'] or '—'}，"
                f"有效期至 {m['valid_until'] or '—'}，{'，'.join(state)}"
            ),
        )


def _num(value: float | None, places: int = 2) -> str:
    return "—" if value is None else f"{value:,.{places}f}"


def _u(value: float | None) -> str:
    """An uncertainty to two significant digits."""
    if value is None or value <= 0:
        return "—"
    return f"{value:.2g}" if value < 100 else f"{value:,.0f}"


def carbon_lines(unit: str, period: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(style, text) lines of a period's carbon report; ``period`` as ``readings.period_summary`` gives it."""
    yield "title", "碳排放报告 / carbon emissions report"
    yield "body", f"用能单位 / unit: {unit}"
    yield "body", f"报告期 / period: {period['period_start']} — {period['period_end']}"
    c = period["carbon"]
    if c.get("error"):
        yield "body", c["error"]
        return
    yield "head", "一、排放量及不确定度 / emissions and uncertainty"
    yield "body", f"排放量 / emissions: {_num(c['total'])} t CO₂（GUM，IPCC 2006 第1卷第3章 方法1）"
    yield (
        "body",
        f"标准不确定度 / u: {_u(c['u'])} t CO₂；扩展不确定度 / U (k = {c['k']:g}): {_u(c['U'])} t CO₂",
    )
    if c.get("mc_total") is not None:
        low, high = c["mc_interval"]
        yield (
            "body",
            (
                f"蒙特卡洛 / Monte Carlo（方法2，{c['mc_trials']} 次）：{_num(c['mc_total'])} t CO₂，u = {_u(c['mc_u'])}，"
                f"95 % 包含区间 [{_num(low)}, {_num(high)}]"
            ),
        )
    yield "body", f"主导来源 / dominant input: {c['dominant']}"
    yield "head", "二、不确定度分量 / uncertainty budget"
    for b in c["budget"]:
        yield "body", f"{b['label']}：{_u(b['u'])} t CO₂，占方差 {100 * b['share']:.1f} %"
    yield "head", "三、排放来源 / sources"
    for src in c["by_source"]:
        yield "body", f"{src['label']}：{_num(src['t'])} t CO₂"
    coal = period.get("coal") or {}
    if coal:
        yield "head", "四、折标准煤 / standard coal"
        yield "body", f"电力按当量值 / electricity by calorific value: {_num(coal['tce_calorific'], 3)} tce"
        if coal.get("tce_equal_value") is not None:
            yield (
                "body",
                (
                    f"电力按等价值（{coal['equal_value_year']} 年供电煤耗）/ by equal value: "
                    f"{_num(coal['tce_equal_value'], 3)} tce"
                ),
            )
    yield from cems_lines(c)
    if c.get("flags"):
        yield "head", "说明 / notes"
        for f in c["flags"]:
            yield "note", f


def cems_lines(c: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """The CEMS comparison of a period's carbon dict, when a system reported."""
    m = c.get("cems")
    if not m:
        return
    yield "head", "实测法与核算法比对 / measurement method beside the calculation method"
    yield "body", f"核算法 / calculation: {_num(m['calculated'])} t CO₂，u = {_u(m['u_calculated'])}"
    yield (
        "body",
        f"实测法 (CEMS{(' ' + m['system']) if m.get('system') else ''}) / measurement: {_num(m['measured'])} t CO₂，"
        f"u = {_u(m['u_measured'])}（{m['u_percent']:g} %）",
    )
    verdict = "在不确定度范围内一致 / consistent within 2·u(d)" if m["consistent"] else "差异超出 2·u(d) / beyond 2·u(d)"
    yield (
        "body",
        f"差值 / difference (实测 − 核算): {_num(m['difference'])} t CO₂（{100 * m['relative']:+.2f} %），"
        f"u(d) = {_u(m['u_difference'])}：{verdict}",
    )


def carbon_review_lines(r: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(style, text) lines of the carbon-metering review report (碳计量审查报告)."""
    yield "title", "碳计量审查报告 / carbon-metering review report"
    yield "body", f"用能单位 / unit: {r['organisation']}（{r['credit_code']}）  行业 / sector: {r['sector'] or '—'}"
    yield "body", f"审查日期 / as of: {r['as_of']}"
    g = r["grade"]
    yield "head", f"一、数据质量等级 / data-quality grade: {g['grade']}"
    for c in g["criteria"]:
        yield "body", f"{c['label_zh']} / {c['label_en']}：{c['value']} → {c['grade']}"
    yield "note", "等级取各项中最差者；规则见 docs/energy.md（项目规则，非国家标准）/ the worst criterion decides; the project's rule, not a standard"
    review = r.get("review")
    yield "head", "二、能源计量审查 / energy-metering review"
    if review is None:
        yield "body", "尚无审查 / no review yet"
    else:
        kind_zh, kind_en = KIND_LABELS.get(review["kind"], (review["kind"], review["kind"]))
        verdict = "符合 / compliant" if review["compliant"] else "不符合 / not compliant"
        yield "body", f"{kind_zh} / {kind_en} {review['review_date']}（{review['rule_set']}）：{verdict}，问题 {len(review['shortfalls'])} 项"
        for f in review["shortfalls"]:
            yield "body", f"• {f['message_zh']}（{f['clause']}）"
    period = r.get("period")
    yield "head", "三、排放量及其不确定度 / emissions and their uncertainty"
    if period is None:
        yield "body", "尚无报告期 / no period reported yet"
        return
    for style, text in carbon_lines(r["organisation"], period):
        if style == "title" or text.startswith("用能单位"):
            continue
        yield ("body" if style == "head" else style), text
    yield from cems_lines(period["carbon"])
    it = (period.get("coal") or {}).get("intensity")
    if it:
        yield "head", "单位产品能耗 / unit energy consumption"
        yield "body", f"{it['product_zh']}（{it['indicator_zh']}）：{_num(it['value'], 1)} kgce/t，{it['standard']}"
        for row in it["rows"]:
            mark = "达到 / met" if row["met"] else "未达到 / not met"
            yield "body", f"{row['grade_zh']}（{row['scope']}）≤ {row['kgce_per_t']:g} kgce/t：{mark}"
        if it.get("provisional"):
            yield "note", "限额数据为暂定值（标准原文未能核对）/ provisional limit rows"


def carbon_review_pdf(r: dict[str, Any]) -> bytes:
    return _pdf(f"碳计量审查报告 {r['organisation']} {r['as_of']}", carbon_review_lines(r))


def _wrap(line: str, size: float, width: float) -> list[str]:
    out, current = [], ""
    for ch in line:
        if pdfmetrics.stringWidth(current + ch, CJK_FONT, size) > width and current:
            out.append(current)
            current = "  "
        current += ch
    out.append(current)
    return out


def review_pdf(review: dict[str, Any]) -> bytes:
    return _pdf(f"能源计量审查报告 {review['organisation']} {review['review_date']}", review_lines(review))


def carbon_pdf(unit: str, period: dict[str, Any]) -> bytes:
    return _pdf(f"碳排放报告 {unit} {period['period_start']}", carbon_lines(unit, period))


def _pdf(title: str, lines: Iterator[tuple[str, str]]) -> bytes:
    if CJK_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, invariant=True)
    c.setTitle(title)
    width, height = A4
    margin = 18 * mm
    y = height - margin
    sizes = {"title": 15.0, "head": 11.0, "body": 9.0, "en": 8.0, "note": 8.0}
    for style, line in lines:
        size = sizes[style]
        if style == "head":
            y -= 4
        for part in _wrap(line, size, width - 2 * margin):
            if y < margin + size:
                c.showPage()
                y = height - margin
            c.setFont(CJK_FONT, size)
            c.drawString(margin, y - size, part)
            y -= size * 1.45
    c.showPage()
    c.save()
    return buf.getvalue()
