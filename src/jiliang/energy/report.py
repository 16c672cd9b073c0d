"""The energy-metering review report (能源计量审查报告) as PDF: Chinese first, every shortfall with its clause.

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
    yield "head", "一、计量器具配备率 / equipping rates (GB 17167-2006 表3)"
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
    if CJK_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, invariant=True)
    c.setTitle(f"能源计量审查报告 {review['organisation']} {review['review_date']}")
    width, height = A4
    margin = 18 * mm
    y = height - margin
    sizes = {"title": 15.0, "head": 11.0, "body": 9.0, "en": 8.0, "note": 8.0}
    for style, line in review_lines(review):
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
