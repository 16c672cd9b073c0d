"""`jiliang comparison analyse FILE`: a comparison or proficiency-testing round from the participants' CSV."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from jiliang.errors import ImportRefused, JiliangError
from jiliang.metrology.comparison import MEDIAN_TRIALS, Exclusion, MeanUncertainty, Method, Score
from jiliang.services import comparisons

app = typer.Typer(help="计量比对与能力验证 / comparisons and proficiency testing", no_args_is_help=True)
console = Console()
err = Console(stderr=True)

_VERDICT_STYLE = {"satisfactory": "green", "questionable": "yellow", "unsatisfactory": "red"}


def _fmt(x: Any, digits: int = 6) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "—"
    return f"{x:.{digits}g}" if isinstance(x, float) else str(x)


def _refuse(exc: JiliangError) -> typer.Exit:
    if isinstance(exc, ImportRefused):
        err.print(f"[red]{escape(exc.message)}[/red]")
        for p in exc.problems:
            err.print(escape(f"  第 {p.row} 行 / row {p.row} · {p.field}: {p.reason} ({p.value!r})"))
    else:
        where = escape(f" [{exc.field}]") if exc.field else ""
        err.print(f"[red]错误 / error{where}: {escape(exc.message)}[/red]")
    return typer.Exit(2)


@app.command("analyse")
def analyse(
    file: Annotated[
        Path, typer.Argument(help="CSV：laboratory,value,uncertainty,k / 实验室,测量值,不确定度,包含因子")
    ],
    method: Annotated[
        Method,
        typer.Option(
            help="定值方法 / how the reference is set: consensus, reference, weighted-mean, median, mean"
        ),
    ] = Method.CONSENSUS,
    reference: Annotated[
        float | None, typer.Option(help="参考值 / reference value (method reference)")
    ] = None,
    reference_u: Annotated[
        float | None, typer.Option("--reference-u", help="参考值的标准不确定度 / its standard uncertainty")
    ] = None,
    sigma_pt: Annotated[
        float | None, typer.Option("--sigma-pt", help="能力评定标准差 σ_pt / SD for proficiency assessment")
    ] = None,
    score: Annotated[
        Score | None,
        typer.Option(help="评分统计量 / statistic for the verdict: z, z', zeta, En (default: fitting)"),
    ] = None,
    exclusion: Annotated[
        Exclusion,
        typer.Option(
            help="加权平均不一致时的剔除方式 / weighted mean, when the χ² check fails: lcs (largest consistent "
            "subset), largest-en (one at a time), none"
        ),
    ] = Exclusion.LARGEST_CONSISTENT_SUBSET,
    trials: Annotated[
        int | None,
        typer.Option(help=f"中位数法蒙特卡洛次数 / median: Monte Carlo trials (default {MEDIAN_TRIALS:,})"),
    ] = None,
    seed: Annotated[
        int | None, typer.Option(help="中位数法随机种子 / median: seed (to repeat a run)")
    ] = None,
    mean_u: Annotated[
        MeanUncertainty,
        typer.Option(
            "--mean-u",
            help="算术平均参考值的不确定度 / mean: u(y) from the stated uncertainties (stated) or the spread",
        ),
    ] = MeanUncertainty.STATED,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON / print JSON")] = False,
    chart: Annotated[Path | None, typer.Option(help="写出 HTML 图表 / write an HTML chart here")] = None,
) -> None:
    """分析比对结果 / analyse a comparison: assigned value, scores and verdicts per laboratory."""
    try:
        results = comparisons.read_results(comparisons.read_path(file))
        report = comparisons.analyse(
            results,
            method=method,
            reference=reference,
            reference_u=reference_u,
            sigma_pt=sigma_pt,
            score=score,
            exclusion=exclusion,
            trials=trials,
            seed=seed,
            mean_u=mean_u,
        )
    except JiliangError as exc:
        raise _refuse(exc) from None
    if chart is not None:
        chart.write_text(comparisons.chart_html(report, title=f"{file.stem}"), encoding="utf-8")
    if as_json:
        typer.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
        return
    weighted = report.method in (Method.WEIGHTED_MEAN, Method.MEDIAN, Method.MEAN)
    table = Table(title=f"{escape(file.name)} · {report.method.value} · {report.score.value}")
    table.add_column("实验室 / lab")
    table.add_column("测量值 / value", justify="right")
    table.add_column("U (k)", justify="right")
    if weighted:
        table.add_column("d", justify="right")
        table.add_column("U(d)", justify="right")
    table.add_column(report.score.value, justify="right")
    table.add_column("结论 / verdict")
    for r in report.rows:
        u = "—" if r["uncertainty"] is None else f"{_fmt(r['uncertainty'], 3)} ({_fmt(r['k'], 3)})"
        verdict = "—"
        if r["verdict"]:
            style = _VERDICT_STYLE[r["verdict"]]
            verdict = f"[{style}]{r['verdict_zh']} / {r['verdict']}[/{style}]"
            if weighted and not r["in_reference"]:
                verdict += " ·未计入参考值 / not in the reference"
        cells = [escape(str(r["laboratory"])), _fmt(r["value"], 10), u]
        if weighted:
            cells += [_fmt(r["d"], 3), _fmt(r["U_d"], 3)]
        cells += [_fmt(r["score"], 3), verdict]
        table.add_row(*cells)
    console.print(table)
    s = report.summary
    if report.method is Method.MEDIAN:
        console.print(
            f"参考值 / reference value (median) = {_fmt(s['reference_value'], 10)}, "
            f"u = {_fmt(s['reference_u'], 3)} (蒙特卡洛 / Monte Carlo, {s['trials']:,} trials, seed {s['seed']})"
        )
    elif report.method is Method.MEAN:
        console.print(
            f"参考值 / reference value (arithmetic mean of {len(s['contributing'])}) = "
            f"{_fmt(s['reference_value'], 10)}, u = {_fmt(s['reference_u'], 3)} ({s['mean_u']})"
        )
    elif weighted:
        ok = "通过 / passed" if s["consistent"] else "未通过 / failed"
        console.print(
            f"参考值 / reference value (weighted mean) = {_fmt(s['reference_value'], 10)}, "
            f"u = {_fmt(s['reference_u'], 3)}; χ²_obs = {_fmt(s['chi2_observed'], 4)}, "
            f"χ²_0.95({s['degrees_of_freedom']}) = {_fmt(s['chi2_critical'], 4)}: 一致性检验 / consistency {ok}"
        )
        if s["excluded"]:
            console.print(f"剔除 / excluded from the reference: {escape(', '.join(s['excluded']))}")
    else:
        console.print(
            f"指定值 / assigned value x_pt = {_fmt(s['assigned_value'], 10)}, u(x_pt) = {_fmt(s['assigned_u'], 3)}, "
            f"σ_pt = {_fmt(s['sigma_pt'], 3)}; 满意 / satisfactory {s['satisfactory']}, "
            f"有问题 / questionable {s['questionable']}, 不满意 / unsatisfactory {s['unsatisfactory']}"
        )
    for note in report.notes:
        console.print(f"[dim]{escape(note)}[/dim]")
    if chart is not None:
        console.print(f"图表 / chart: {escape(str(chart))}")
