"""Comparisons and proficiency testing as a lab runs them: read the participants' CSV, analyse, report.

The CSV has the columns laboratory, value, uncertainty, k (or 实验室, 测量值, 不确定度, 包含因子), in
UTF-8, UTF-8 with a BOM or GB18030 (what a spreadsheet on a Chinese desktop writes). ``uncertainty`` is
the expanded uncertainty U at coverage factor k (k = 1: a standard uncertainty; an empty k means 2).
A file with bad rows is refused whole, each bad row named. The analysis itself is
``jiliang.metrology.comparison``; this module only turns files into results and results into a report
(a plain dict for JSON and a standalone HTML chart).
"""

from __future__ import annotations

import csv
import html
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from jiliang.errors import FieldProblem, ImportRefused, InvalidInput, NotFound, PayloadTooLarge
from jiliang.metrology import comparison as engine
from jiliang.metrology.comparison import Exclusion, LabResult, MeanUncertainty, Method, Score

MAX_PROBLEMS = 50
MAX_ROWS = 10_000
MAX_FILE_BYTES = 2 * 1024 * 1024  # a participants' CSV; read no further than this (CLI, API upload, page)
# Example rounds shipped with the package: the console page offers them, the docs and tests use them.
ROUNDS = resources.files("jiliang") / "data" / "comparisons"


def example_rounds() -> list[str]:
    return sorted(p.name.removesuffix(".csv") for p in ROUNDS.iterdir() if p.name.endswith(".csv"))


def example_round(name: str) -> bytes:
    if name not in example_rounds():
        raise NotFound(f"没有这个示例 / no example round {name!r}", field="example")
    return (ROUNDS / f"{name}.csv").read_bytes()


# header (lower-cased, stripped) → field
HEADERS = {
    "laboratory": "laboratory",
    "lab": "laboratory",
    "participant": "laboratory",
    "实验室": "laboratory",
    "参加实验室": "laboratory",
    "value": "value",
    "result": "value",
    "测量值": "value",
    "测得值": "value",
    "uncertainty": "uncertainty",
    "u": "uncertainty",
    "expanded uncertainty": "uncertainty",
    "不确定度": "uncertainty",
    "扩展不确定度": "uncertainty",
    "k": "k",
    "coverage factor": "k",
    "包含因子": "k",
    "contributes": "contributes",
    "in reference": "contributes",
    "in_reference": "contributes",
    "计入参考值": "contributes",
    "参与参考值": "contributes",
}
# the ``contributes`` column: empty means yes (every result contributes unless marked)
YES = {"yes", "y", "true", "1", "是", "计入", "√"}
NO = {"no", "n", "false", "0", "否", "不计入", "×"}


def read_path(path: Path) -> bytes:
    """A participants' CSV read at most MAX_FILE_BYTES + 1 bytes: a larger file is refused at the limit."""
    try:
        with path.open("rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise InvalidInput(
            f"无法读取文件 / cannot read {path}: {exc.strerror or exc}", field="file"
        ) from None
    return bounded(data)


def bounded(data: bytes) -> bytes:
    if len(data) > MAX_FILE_BYTES:
        raise PayloadTooLarge(f"文件过大 / file larger than {MAX_FILE_BYTES:,} bytes", field="file")
    return data


def decode(data: bytes) -> str:
    """UTF-8 (with or without BOM) first, then GB18030; refuse anything else by name."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InvalidInput(
        "文件编码无法识别：请使用 UTF-8 或 GB18030 / the file is neither UTF-8 nor GB18030", field="file"
    )


def _number(text: str) -> float:
    return float(text.strip().replace("，", ".").replace(",", "."))


def read_results(data: bytes | str) -> list[LabResult]:
    """Parse a participants' CSV; every bad row is listed (row numbers count the header as row 1)."""
    text = decode(data) if isinstance(data, bytes) else data.lstrip("\ufeff")
    sample = text[:4096]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    header = next(reader, None)
    if not header:
        raise InvalidInput("文件为空 / the file is empty", field="file")
    columns: dict[str, int] = {}
    for i, name in enumerate(header):
        key = HEADERS.get(name.strip().lower())
        if key and key not in columns:
            columns[key] = i
    missing = [c for c in ("laboratory", "value") if c not in columns]
    if missing:
        raise InvalidInput(
            f"缺少列：{', '.join(missing)}（需要 laboratory/实验室, value/测量值, uncertainty/不确定度, "
            f"k/包含因子）/ missing column(s): {', '.join(missing)}; found {header}",
            field="file",
        )
    problems: list[FieldProblem] = []
    results: list[LabResult] = []
    seen: dict[str, int] = {}
    rows = 0
    for line, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        rows += 1
        if rows > MAX_ROWS:
            raise InvalidInput(f"行数超过 {MAX_ROWS} / more than {MAX_ROWS} rows", field="file")

        def cell(name: str, row: list[str] = row) -> str:
            i = columns.get(name)
            return row[i].strip() if i is not None and i < len(row) else ""

        def bad(name: str, reason: str, value: str, line: int = line) -> None:
            problems.append(FieldProblem(line, name, reason, value[:80]))

        lab = cell("laboratory")
        ok = True
        if not lab:
            bad("laboratory", "实验室名称为空 / laboratory name is empty", lab)
            ok = False
        elif lab in seen:
            bad("laboratory", f"实验室重复（第 {seen[lab]} 行）/ duplicate of row {seen[lab]}", lab)
            ok = False
        else:
            seen[lab] = line
        value = math.nan
        try:
            value = _number(cell("value"))
            if not math.isfinite(value):
                raise ValueError
        except ValueError:
            bad("value", "测量值须为有限数 / value must be a finite number", cell("value"))
            ok = False
        uncertainty: float | None = None
        if cell("uncertainty"):
            try:
                uncertainty = _number(cell("uncertainty"))
                if not math.isfinite(uncertainty) or uncertainty < 0:
                    raise ValueError
            except ValueError:
                bad(
                    "uncertainty",
                    "不确定度须为非负有限数 / uncertainty must be a finite number ≥ 0",
                    cell("uncertainty"),
                )
                ok = False
        k = 2.0
        if cell("k"):
            try:
                k = _number(cell("k"))
                if not math.isfinite(k) or k <= 0:
                    raise ValueError
            except ValueError:
                bad("k", "包含因子须为正数 / coverage factor must be a positive number", cell("k"))
                ok = False
        contributes = True
        flag = cell("contributes").lower()
        if flag in NO:
            contributes = False
        elif flag and flag not in YES:
            bad(
                "contributes",
                "是否计入参考值须为 是/否（yes/no）/ contributes must be yes or no (empty: yes)",
                cell("contributes"),
            )
            ok = False
        if ok:
            results.append(LabResult(lab, value, uncertainty, k, row=line, contributes=contributes))
    if problems:
        raise ImportRefused(problems=problems[:MAX_PROBLEMS], problem_count=len(problems), rows_read=rows)
    return results


@dataclass(frozen=True)
class Report:
    """What `jiliang comparison analyse` and the API answer: one row per laboratory and a summary."""

    method: Method
    reference_value: float
    reference_u: float  # standard uncertainty of the assigned/reference value
    sigma_pt: float | None
    score: Score
    rows: list[dict[str, Any]]
    summary: dict[str, Any]
    notes: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {
            "method": self.method.value,
            "score": self.score.value,
            "reference_value": self.reference_value,
            "reference_u": self.reference_u,
            "sigma_pt": self.sigma_pt,
            "summary": self.summary,
            "results": self.rows,
            "notes": self.notes,
        }


def _finite(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else x


def analyse(
    results: Sequence[LabResult],
    *,
    method: Method | str = Method.CONSENSUS,
    reference: float | None = None,
    reference_u: float | None = None,
    sigma_pt: float | None = None,
    score: Score | str | None = None,
    alpha: float = 0.05,
    exclusion: Exclusion | str = Exclusion.LARGEST_CONSISTENT_SUBSET,
    trials: int | None = None,
    seed: int | None = None,
    mean_u: MeanUncertainty | str = MeanUncertainty.STATED,
) -> Report:
    """Run the chosen analysis and shape it as rows (laboratory, value, U, score, verdict) and a summary.

    A result whose ``contributes`` is False is scored against a reference value formed without it.
    """
    try:
        method = Method(method)
    except ValueError:
        raise InvalidInput(
            f"方法须为 consensus、reference、weighted-mean、median 或 mean / unknown method {method!r}",
            field="method",
        ) from None
    try:
        chosen = None if score is None else Score(score)
    except ValueError:
        raise InvalidInput(f"评分须为 z、z'、zeta 或 En / unknown score {score!r}", field="score") from None
    if method in (Method.WEIGHTED_MEAN, Method.MEDIAN, Method.MEAN):
        if method is Method.MEDIAN:
            kc = engine.key_comparison_median(results, alpha=alpha, trials=trials, seed=seed)
        elif method is Method.MEAN:
            kc = engine.key_comparison_mean(results, uncertainty=mean_u, alpha=alpha)
        else:
            kc = engine.key_comparison(results, alpha=alpha, exclusion=exclusion)
        rows = [
            {
                "laboratory": e.result.laboratory,
                "value": e.result.value,
                "uncertainty": e.result.uncertainty,
                "k": e.result.k,
                "d": e.d,
                "U_d": e.expanded_u_d,
                "score": e.en,
                "in_reference": e.in_reference,
                "verdict": e.verdict.value,
                "verdict_zh": e.verdict.chinese,
            }
            | ({} if e.interval is None else {"d_low": e.interval[0], "d_high": e.interval[1]})
            for e in kc.equivalences
        ]
        kc_summary: dict[str, Any] = {
            "laboratories": len(results),
            "reference_value": kc.reference_value,
            "reference_u": kc.standard_uncertainty,
            "chi2_observed": kc.chi2_observed,
            "chi2_critical": kc.chi2_critical,
            "degrees_of_freedom": kc.degrees_of_freedom,
            "consistent": kc.consistent,
            "excluded": kc.excluded,
        }
        if kc.trials is not None:
            kc_summary.update(trials=kc.trials, seed=kc.seed)
        if method is Method.MEAN:
            kc_summary.update(mean_u=MeanUncertainty(mean_u).value)
        kc_summary.update(contributing=[r.laboratory for r in results if r.contributes])
        return Report(
            method, kc.reference_value, kc.standard_uncertainty, None, Score.EN, rows, kc_summary, kc.notes
        )
    if method is Method.REFERENCE:
        if reference is None or reference_u is None:
            raise InvalidInput(
                "参考值法需要 --reference 与 --reference-u / the reference method needs the reference value "
                "and its standard uncertainty",
                field="reference",
            )
        assigned = engine.assigned_by_reference(reference, reference_u)
    else:
        assigned = engine.assigned_by_consensus(results)
    pt = engine.proficiency(results, assigned, sigma_pt=sigma_pt, score=chosen)
    rows = [
        {
            "laboratory": s.result.laboratory,
            "value": s.result.value,
            "uncertainty": s.result.uncertainty,
            "k": s.result.k,
            "z": _finite(s.z),
            "z_prime": _finite(s.z_prime),
            "zeta": _finite(s.zeta),
            "En": _finite(s.en),
            "score": _finite(s.primary),
            "verdict": None if s.verdict is None else s.verdict.value,
            "verdict_zh": None if s.verdict is None else s.verdict.chinese,
        }
        for s in pt.scores
    ]
    counts = {v.value: sum(1 for s in pt.scores if s.verdict is v) for v in engine.Verdict}
    summary: dict[str, Any] = {
        "laboratories": len(results),
        "assigned_value": assigned.value,
        "assigned_u": assigned.standard_uncertainty,
        "sigma_pt": pt.sigma_pt,
        **counts,
    }
    if assigned.robust is not None:
        summary.update(
            robust_mean=assigned.robust.mean,
            robust_sd=assigned.robust.sd,
            iterations=assigned.robust.iterations,
        )
    return Report(
        method, assigned.value, assigned.standard_uncertainty, pt.sigma_pt, pt.score, rows, summary, pt.notes
    )


# --------------------------------------------------------------------------------------------------
# The chart: a standalone HTML page with an inline SVG (nothing fetched from a CDN)

_COLOURS = {
    "satisfactory": "#2e7d32",
    "questionable": "#ef6c00",
    "unsatisfactory": "#c62828",
    None: "#546e7a",
}


def chart_html(report: Report, *, title: str = "比对结果 / comparison results") -> str:
    """A standalone page around chart_svg (what `--chart FILE` writes)."""
    return (
        '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head><body>\n"
        + chart_svg(report, title=title)
        + "\n</body></html>\n"
    )


def chart_svg(report: Report, *, title: str = "比对结果 / comparison results") -> str:
    """Each laboratory's value with its ±U bar, the reference value and its ±2u band, as inline SVG."""
    rows = report.rows
    n = len(rows)
    width, height, left, right, top, bottom = max(480, 60 * n + 140), 420, 90, 30, 50, 90
    lows: list[float] = []
    highs: list[float] = []
    for r in rows:
        u = r["uncertainty"] or 0.0
        lows.append(r["value"] - u)
        highs.append(r["value"] + u)
    band = 2.0 * report.reference_u
    lo = min([*lows, report.reference_value - band])
    hi = max([*highs, report.reference_value + band])
    if hi == lo:
        hi, lo = hi + 1.0, lo - 1.0
    pad = 0.08 * (hi - lo)
    lo, hi = lo - pad, hi + pad
    plot_h = height - top - bottom
    plot_w = width - left - right

    def ypos(v: float) -> float:
        return top + (hi - v) / (hi - lo) * plot_h

    def xpos(i: int) -> float:
        return left + (i + 0.5) * plot_w / n

    esc = html.escape
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12" role="img">',
        f'<text x="{width / 2:.1f}" y="24" text-anchor="middle" font-size="15">{esc(title)}</text>',
        f'<rect class="band" x="{left}" y="{ypos(report.reference_value + band):.2f}" width="{plot_w}" '
        f'height="{max(ypos(report.reference_value - band) - ypos(report.reference_value + band), 0.5):.2f}" '
        'fill="#90caf9" fill-opacity="0.35"/>',
        f'<line class="reference" x1="{left}" x2="{left + plot_w}" y1="{ypos(report.reference_value):.2f}" '
        f'y2="{ypos(report.reference_value):.2f}" stroke="#1565c0" stroke-width="1.5"/>',
        f'<line x1="{left}" x2="{left}" y1="{top}" y2="{top + plot_h}" stroke="#333"/>',
        f'<line x1="{left}" x2="{left + plot_w}" y1="{top + plot_h}" y2="{top + plot_h}" stroke="#333"/>',
    ]
    for t in range(6):
        v = lo + t * (hi - lo) / 5
        parts.append(
            f'<text x="{left - 6}" y="{ypos(v) + 4:.2f}" text-anchor="end">{v:.6g}</text>'
            f'<line x1="{left - 3}" x2="{left}" y1="{ypos(v):.2f}" y2="{ypos(v):.2f}" stroke="#333"/>'
        )
    for i, r in enumerate(rows):
        x, colour = xpos(i), _COLOURS.get(r["verdict"], "#546e7a")
        u = r["uncertainty"]
        if u:
            y1, y2 = ypos(r["value"] + u), ypos(r["value"] - u)
            parts.append(
                f'<g class="errorbar" stroke="{colour}"><line x1="{x:.2f}" x2="{x:.2f}" y1="{y1:.2f}" '
                f'y2="{y2:.2f}"/><line x1="{x - 6:.2f}" x2="{x + 6:.2f}" y1="{y1:.2f}" y2="{y1:.2f}"/>'
                f'<line x1="{x - 6:.2f}" x2="{x + 6:.2f}" y1="{y2:.2f}" y2="{y2:.2f}"/></g>'
            )
        label = esc(str(r["laboratory"]))
        parts.append(
            f'<circle class="point" cx="{x:.2f}" cy="{ypos(r["value"]):.2f}" r="4" fill="{colour}">'
            f"<title>{label}: {r['value']:.6g}"
            + (f" ± {u:.3g}" if u else "")
            + (f"; {report.score.value} = {r['score']:.2f}" if r["score"] is not None else "")
            + "</title></circle>"
            f'<text x="{x:.2f}" y="{top + plot_h + 16}" text-anchor="end" '
            f'transform="rotate(-40 {x:.2f} {top + plot_h + 16})">{label}</text>'
        )
    parts.append(
        f'<text x="{left + 4}" y="{top + 14}" fill="#1565c0">参考值 / reference {report.reference_value:.6g} '
        f"± {band:.3g} (2u)</text></svg>"
    )
    return "".join(parts)
