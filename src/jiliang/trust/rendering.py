"""Human-readable certificates: HTML and printable A4 PDF, Chinese first, with a QR code to the verify page.

The rendering is for people; the XML is the certificate. Both views are generated from the same parsed
``DccCertificate`` so that what a reader sees is what the signed document says. The QR code is drawn from
segno's module matrix (SVG inline in HTML, rectangles in the PDF): no image files, nothing fetched.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import segno
from jinja2 import Environment, PackageLoader, select_autoescape
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from jiliang.trust import dsi
from jiliang.trust.dcc_model import Contact, DccCertificate, Quantity, RealQuantity, Text

CONFORMITY = {
    "pass": "合格 / pass",
    "fail": "不合格 / fail",
    "conditionalPass": "有条件合格 / conditional pass",
    "conditionalFail": "有条件不合格 / conditional fail",
    "noPass": "不判定合格 / no pass",
    "noFail": "不判定不合格 / no fail",
}
CJK_FONT = "STSong-Light"  # an Adobe CID font every PDF reader has: no font file to ship


def text(value: Text | None) -> str:
    """Chinese first, then English, then whatever else the document carries."""
    if value is None:
        return ""
    order = {"zh": 0, "en": 1}
    parts = sorted(value.contents, key=lambda c: order.get(c[0] or "", 2))
    return " / ".join(dict.fromkeys(s for _, s in parts if s))


def conformity_text(value: str) -> str:
    return CONFORMITY.get(value, value)


def real(q: RealQuantity) -> str:
    unit = dsi.symbol(q.unit)
    out = f"{q.value} {unit}".strip()
    if q.uncertainty is not None:
        u = q.uncertainty
        out += f"，U = {u.uncertainty} {unit}（k = {u.coverage_factor}，p = {u.coverage_probability}）"
    return out


MPE = "jiliang_maximumPermissibleError"  # stored as its magnitude; shown as ±


def quantity(q: Quantity) -> str:
    if q.values:
        sign = "±" if q.ref_type == MPE else ""
        return "；".join(sign + real(v) for v in q.values)
    return text(q.text)


@dataclass(frozen=True)
class PointRow:
    """One test point as a reader sees it in the table of a verification certificate."""

    label: str
    nominal: str
    indications: str
    error: str
    uncertainty: str
    mpe: str
    verdict: str  # pass | fail | ""


@dataclass(frozen=True)
class Signer:
    role: str
    name: str


@dataclass(frozen=True)
class Summary:
    """What a reader looks for first: which document, the conclusion, until when, who signed, the values."""

    kind: str  # verification | failure_notice | calibration
    title_zh: str
    title_en: str
    conclusion: str | None
    valid_until: date | None
    persons: tuple[Signer, ...]
    points: tuple[PointRow, ...]
    inspections: tuple[tuple[str, str], ...]  # (item, pass|fail)

    @property
    def verb_zh(self) -> str:
        """检定 for a verification (a conformity decision under a regulation), 校准 for a calibration."""
        return "校准" if self.kind == "calibration" else "检定"

    @property
    def verb_en(self) -> str:
        return "calibration" if self.kind == "calibration" else "verification"


TITLES = {
    "verification": ("检定证书", "Verification certificate"),
    "failure_notice": ("检定结果通知书", "Notice of verification result (failed)"),
    "calibration": ("校准证书", "Calibration certificate"),
}
TEST_POINT, INSPECTIONS = "jiliang_testPoint", "jiliang_inspections"


def _refs(q: Quantity) -> set[str]:
    return set((q.ref_type or "").split())


def _point(name: str, quantities: tuple[Quantity, ...]) -> PointRow:
    by: dict[str, list[Quantity]] = {}
    for q in quantities:
        for ref in _refs(q) or {""}:
            by.setdefault(ref, []).append(q)

    def plain(ref: str) -> str:
        return "；".join(_bare(q) for q in by.get(ref, []))

    error_q = next(iter(by.get("basic_measurementError", [])), None)
    uncertainty = ""
    if error_q is not None and error_q.values and error_q.values[0].uncertainty is not None:
        u = error_q.values[0].uncertainty
        uncertainty = f"{u.uncertainty} {dsi.symbol(error_q.values[0].unit)}（k = {u.coverage_factor}）"
    if MPE in by:
        mpe = "±" + plain(MPE)
    elif "jiliang_mpeLower" in by:
        mpe = f"{plain('jiliang_mpeLower')} … +{plain('jiliang_mpeUpper')}"
    else:
        mpe = ""
    verdict = error_q.conformity[0] if error_q is not None and error_q.conformity else ""
    return PointRow(
        label=name,
        nominal=plain("jiliang_nominalValue"),
        indications=plain("jiliang_indication"),
        error=_bare(error_q) if error_q is not None else "",
        uncertainty=uncertainty,
        mpe=mpe,
        verdict=verdict,
    )


def _bare(q: Quantity) -> str:
    """The value and unit without its uncertainty (shown in its own column)."""
    if q.values:
        return "；".join(f"{v.value} {dsi.symbol(v.unit)}".strip() for v in q.values)
    shown = text(q.text)
    return shown.split("，U =")[0]


def _is_verification(cert: DccCertificate) -> bool:
    """A legal verification (检定) — issued here from a verification record, or judged against a verification
    regulation (JJG …) — as opposed to a calibration (校准), which may also state conformity."""
    if cert.identification("jiliang_recordId") is not None:
        return True
    return any(n.strip().upper().startswith("JJG") for s in cert.statements for n in s.norms)


def summary(cert: DccCertificate) -> Summary:
    conformity = cert.conformity
    if _is_verification(cert):
        kind = "failure_notice" if conformity == "fail" else "verification"
    else:
        kind = "calibration"
    title_zh, title_en = TITLES[kind]
    valid_until = next(
        (s.date for s in cert.statements if s.date and "basic_recalibration" in (s.ref_type or "").split()),
        None,
    )
    persons = tuple(Signer(p.role or "", p.name) for p in cert.resp_persons)
    points: list[PointRow] = []
    inspections: list[tuple[str, str]] = []
    for mr in cert.measurement_results:
        for r in mr.results:
            if r.ref_type == TEST_POINT:
                points.append(_point(text(r.name), r.quantities))
            elif r.ref_type == INSPECTIONS:
                inspections += [(text(q.name), q.conformity[0] if q.conformity else "") for q in r.quantities]
    return Summary(
        kind, title_zh, title_en, conformity, valid_until, persons, tuple(points), tuple(inspections)
    )


def place(contact: Contact) -> str:
    loc = contact.location
    if loc is None:
        return ""
    return " ".join(p for p in (loc.state, loc.city, loc.street, *loc.further, loc.post_code) if p)


@lru_cache(maxsize=1)
def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("jiliang.trust", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(
        text=text,
        quantity=quantity,
        place=place,
        conformity=conformity_text,
        TEST_POINT=TEST_POINT,
        INSPECTIONS=INSPECTIONS,
    )
    env.filters["conformity_text"] = conformity_text
    return env


def qr_svg(url: str) -> str:
    """The URL as a QR code, an inline SVG element (error correction M, 4-module quiet zone)."""
    return str(segno.make(url, error="m").svg_inline(scale=4, title="scan to verify"))


def render_html(cert: DccCertificate, *, verify_url: str, status: str, signature_summary: str | None) -> str:
    return (
        _env()
        .get_template("certificate.html")
        .render(
            cert=cert,
            verify_url=verify_url,
            status=status,
            signature_summary=signature_summary,
            qr=qr_svg(verify_url),
            summary=summary(cert),
        )
    )


def _lines(cert: DccCertificate, status: str, signature_summary: str | None) -> Iterator[tuple[str, str]]:
    """(style, line) pairs of the printed certificate, in reading order."""
    core = cert.core
    sm = summary(cert)
    yield "title", f"{sm.title_zh} {sm.title_en}"
    yield "body", f"证书编号 Certificate no.: {core.unique_identifier}    数字证书 DCC {cert.schema_version}"
    if sm.conclusion:
        yield "body", f"{sm.verb_zh}结论 Conclusion: {conformity_text(sm.conclusion)}"
    if sm.valid_until:
        yield "body", f"有效期至 Valid until: {sm.valid_until}"
    for person in sm.persons:
        yield "body", f"{person.role}: {person.name}"
    yield "body", f"状态 Status: {status}"
    yield "body", f"签名 Signature: {signature_summary or '未签名 / unsigned'}"
    yield "head", "基本信息 Administrative data"
    yield (
        "body",
        f"出具机构 Laboratory: {text(cert.laboratory.contact.name)}"
        + (f"（{cert.laboratory.code}）" if cert.laboratory.code else ""),
    )
    yield "body", f"委托方 Customer: {text(cert.customer.name)}"
    dates = str(core.begin_performance)
    if core.end_performance != core.begin_performance:
        dates += f" – {core.end_performance}"
    yield "body", f"{sm.verb_zh}日期 Date of {sm.verb_en}: {dates}"
    if core.issue_date:
        yield "body", f"签发日期 Issue date: {core.issue_date}"
    for i in core.identifications:
        yield "body", f"{text(i.name) if i.name else i.issuer}: {i.value}"
    yield "body", "负责人 Responsible: " + "；".join(p.name for p in cert.resp_persons)
    yield "head", "被检器具 Item"
    for item in cert.items:
        yield "body", f"{text(item.name)}    {item.manufacturer}    {item.model or ''}"
        for i in item.identifications:
            yield "body", f"  {text(i.name) if i.name else i.issuer}: {i.value}"
        for q in item.quantities:
            yield "body", f"  {text(q.name)}: {quantity(q)}"
    yield "head", "结论与声明 Statements"
    for s in cert.statements:
        line = text(s.declaration) if s.declaration else (s.ref_type or "")
        if s.conformity:
            line += f"  {conformity_text(s.conformity)}"
        if s.date:
            line += f"  {s.date}"
        yield "body", line
    if sm.points:
        yield "head", "检定点数据 Test points (标准值 / 示值 / 示值误差 / U / 最大允许误差 / 结论)"
        for p in sm.points:
            yield (
                "body",
                f"{p.label}: {p.nominal} | {p.indications} | {p.error} | {p.uncertainty or '—'} | {p.mpe} | "
                f"{conformity_text(p.verdict) if p.verdict else ''}",
            )
    yield "head", "测量结果 Measurement results"
    for mr in cert.measurement_results:
        yield "body", text(mr.name)
        for e in mr.measuring_equipments:
            yield (
                "body",
                "  标准 Standard: " + text(e.name) + "".join(f"（{i.value}）" for i in e.identifications),
            )
        for r in mr.results:
            if r.ref_type == TEST_POINT:
                continue  # in the table above
            yield "body", f"  {text(r.name)}"
            for t in r.texts:
                yield "body", f"    {text(t)}"
            for q in r.quantities:
                line = f"    {text(q.name)}: {quantity(q)}"
                if q.conformity:
                    line += "  " + ", ".join(conformity_text(c) for c in q.conformity)
                yield "body", line


def _wrap(line: str, font: str, size: float, width: float) -> list[str]:
    out, current = [], ""
    for ch in line:
        if pdfmetrics.stringWidth(current + ch, font, size) > width and current:
            out.append(current)
            current = "  "
        current += ch
    out.append(current)
    return out


def _draw_qr(c: canvas.Canvas, url: str, x: float, y: float, size: float) -> None:
    qr = segno.make(url, error="m")
    rows = list(qr.matrix_iter(border=0))
    module = size / len(rows)
    for r, row in enumerate(rows):
        for col, dark in enumerate(row):
            if dark:
                c.rect(x + col * module, y + size - (r + 1) * module, module, module, stroke=0, fill=1)


def render_pdf(cert: DccCertificate, *, verify_url: str, status: str, signature_summary: str | None) -> bytes:
    """A4 PDF, text in STSong-Light (Chinese and Latin), the QR code at the top right of page one."""
    if CJK_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, invariant=True)
    c.setTitle(f"{summary(cert).title_zh} {cert.core.unique_identifier}")
    width, height = A4
    margin = 18 * mm
    qr_size = 32 * mm
    _draw_qr(c, verify_url, width - margin - qr_size, height - margin - qr_size, qr_size)
    c.setFont(CJK_FONT, 7)
    c.drawRightString(width - margin, height - margin - qr_size - 9, "扫码核验 scan to verify")
    y = height - margin - 6
    sizes = {"title": 15.0, "head": 11.0, "body": 9.0}
    for style, line in _lines(cert, status, signature_summary):
        size = sizes[style]
        text_width = width - 2 * margin - (qr_size + 6 * mm if y > height - margin - qr_size - 14 else 0)
        if style == "head":
            y -= 6
        for part in _wrap(line, CJK_FONT, size, text_width):
            if y < margin + size:
                c.showPage()
                y = height - margin - 6
            c.setFont(CJK_FONT, size)
            c.drawString(margin, y - size, part)
            y -= size * 1.45
    c.setFont(CJK_FONT, 7)
    c.drawString(margin, margin / 2, f"核验 Verify: {verify_url}")
    c.showPage()
    c.save()
    return buf.getvalue()
