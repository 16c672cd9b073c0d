"""``jiliang uncertainty evaluate FILE [--json]``: a model file's GUM result and budget, as tables or JSON.

Every text that comes from the file (title, names, units, messages that quote them) is escaped before Rich
prints it: a unit such as ``[kg]`` in a message is text, not markup.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from jiliang.errors import JiliangError
from jiliang.services import uncertainty

app = typer.Typer(help="测量不确定度评定 / measurement uncertainty evaluation", no_args_is_help=True)
console = Console()
err = Console(stderr=True)


def _g(x: float | None, digits: int = 6) -> str:
    if x is None:
        return "∞"
    return f"{x:.{digits}g}"


@app.command("evaluate")
def evaluate(
    file: Annotated[Path, typer.Argument(help="模型文件（YAML 或 JSON）/ model file (YAML or JSON)")],
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON / print JSON")] = False,
    trials: Annotated[
        int | None,
        typer.Option(
            "--trials", help="蒙特卡洛试验次数（覆盖文件）/ Monte Carlo trials (overrides the file)"
        ),
    ] = None,
    seed: Annotated[
        int | None, typer.Option("--seed", help="随机种子（覆盖文件）/ random seed (overrides the file)")
    ] = None,
) -> None:
    """评定模型文件（GUM 和/或蒙特卡洛）/ evaluate a model file by the GUM and/or JCGM 101 Monte Carlo."""
    try:
        answer = uncertainty.evaluate_path(file, trials=trials, seed=seed)
    except JiliangError as exc:
        err.print(
            f"[red]{escape(exc.message)}[/red]" + (f" [dim]({escape(exc.field)})[/dim]" if exc.field else "")
        )
        raise typer.Exit(code=2) from exc
    if as_json:
        answer.pop("charts", None)
        answer.pop("histograms", None)
        typer.echo(json.dumps(answer, ensure_ascii=False, indent=2, allow_nan=False, default=_jsonable))
        return
    _print(answer)


def _jsonable(x: Any) -> Any:
    return None if isinstance(x, float) and not math.isfinite(x) else str(x)


def _print(answer: dict[str, Any]) -> None:
    if answer.get("title"):
        console.print(f"[bold]{escape(answer['title'])}[/bold]")
    if answer.get("evaluations"):
        _print_evaluations(answer["evaluations"])
    if "outputs" in answer:
        _print_gum(answer)
    if "monte_carlo" in answer:
        _print_mc(answer["monte_carlo"], answer.get("validation", []))


def _print_evaluations(evaluations: dict[str, dict[str, Any]]) -> None:
    """How each input given by data was evaluated: Type A, ANOVA (H.5) or a fitted line (H.3)."""
    table = Table(title="由数据评定的输入 / inputs evaluated from data")
    for col in ("输入 / input", "方法 / method", "n", "估计值 / estimate", "u", "ν", "详情 / details"):
        table.add_column(col, justify="left" if col.startswith(("输入", "方法", "详情")) else "right")
    for name, e in evaluations.items():
        if e["kind"] == "type_a":
            row = ("A 类 / Type A (GUM 4.2)", str(e["n"]), _g(e["mean"], 8), _g(e["u"], 3), _g(e["dof"], 3))
            details = f"s = {_g(e['s'], 3)}; {e['source']}"
        elif e["kind"] == "anova":
            row = (
                "方差分析 / ANOVA (GUM H.5)",
                f"{e['groups']}×{e['per_group']}",
                _g(e["grand_mean"], 10),
                _g(e["u"], 3),
                _g(e["dof"], 3),
            )
            details = (
                f"s(x̄_k) = {_g(e['s_means'], 3)}, s_W = {_g(e['s_within'], 3)} (ν {e['dof_within']}), "
                f"s_B = {_g(e['s_between'], 3)}, F = {e['F']:.2f} (F_0.95 = {e['F_critical']:.2f})"
            )
        else:
            value = e["intercept"] if e["parameter"] == "intercept" else e["slope"]
            u = e["u_intercept"] if e["parameter"] == "intercept" else e["u_slope"]
            row = (
                f"拟合直线 / fitted line (GUM H.3): {e['parameter']}",
                str(e["n"]),
                _g(value, 6),
                _g(u, 3),
                _g(e["dof"], 3),
            )
            details = f"{e['y']} = y1 + y2·({e['x']} − {_g(e['x0'])}), r(y1,y2) = {e['r']:.3f}" + (
                f", s = {_g(e['s'], 3)}" if e.get("s") is not None else ", WLS"
            )
        table.add_row(escape(name), *(escape(c) for c in row), escape(details))
    console.print(table)


def _print_mc(mc: dict[str, Any], validation: list[dict[str, Any]]) -> None:
    run = f"{mc['trials']:,} 次试验 / trials, seed {mc['seed']}" + (
        ", 自适应 / adaptive" if mc["adaptive"] else ""
    )
    table = Table(title=f"蒙特卡洛 (JCGM 101) / Monte Carlo — {run}")
    kind = "概率对称 / symmetric" if mc["interval_kind"] == "symmetric" else "最短 / shortest"
    for col in ("输出 / output", "y", "u(y)", "p", f"包含区间 / interval ({kind})", "单位 / unit"):
        table.add_column(col, justify="left" if col.startswith(("输出", "单位")) else "right")
    for o in mc["outputs"]:
        low, high = o["interval"]
        table.add_row(
            escape(o["name"]),
            _g(o["y"], 8),
            _g(o["u"], 4),
            f"{o['p']:g}",
            escape(f"[{_g(low, 6)}, {_g(high, 6)}]"),
            escape(o["unit"]),
        )
    console.print(table)
    if mc.get("excluded"):
        console.print(
            f"[yellow]排除了模型无定义的 {mc['excluded']:,} 次试验 / {mc['excluded']:,} trial(s) where the model is "
            "undefined were left out (nonfinite: exclude)[/yellow]"
        )
    for o in mc["outputs"]:
        if not o["converged"]:
            console.print(
                f"[yellow]自适应程序未在上限内稳定 / the adaptive procedure did not stabilise within "
                f"{o['trials']:,} trials ({escape(o['name'])})[/yellow]"
            )
    if not validation:
        return
    check = Table(title="GUM 验证 (JCGM 101 §8) / validation of the GUM result")
    for col in ("输出 / output", "结论 / verdict", "d_low", "d_high", "δ", "GUM y ± U", "MC"):
        check.add_column(col, justify="left" if col.startswith(("输出", "结论")) else "right")
    for v in validation:
        verdict = "[green]通过 / validated[/green]" if v["validated"] else "[red]未通过 / not validated[/red]"
        g, m = v["gum_interval"], v["mc_interval"]
        check.add_row(
            escape(v["output"]),
            verdict,
            _g(v["d_low"], 2),
            _g(v["d_high"], 2),
            _g(v["delta"], 2),
            escape(f"[{_g(g[0], 6)}, {_g(g[1], 6)}]"),
            escape(f"[{_g(m[0], 6)}, {_g(m[1], 6)}]"),
        )
    console.print(check)


def _print_gum(answer: dict[str, Any]) -> None:
    summary = Table(title="结果 / result")
    for col in ("输出 / output", "y", "u_c", "ν_eff", "k", "p", "U", "报告 / reported"):
        summary.add_column(
            col, justify="right" if col not in ("输出 / output", "报告 / reported") else "left"
        )
    for o in answer["outputs"]:
        unit = f" {o['unit']}" if o["unit"] else ""
        rep = o["reported"]
        summary.add_row(
            escape(o["name"]),
            _g(o["value"], 10),
            _g(o["u"], 4),
            _g(o["dof"], 3),
            f"{o['k']:.3f}",
            f"{o['p']:g}",
            _g(o["U"], 4),
            escape(f"({rep['value']} ± {rep['U']}){unit}"),
        )
    console.print(summary)
    for o in answer["outputs"]:
        table = Table(
            title=escape(f"不确定度分量 / budget of {o['name']}" + (f" [{o['unit']}]" if o["unit"] else ""))
        )
        for col in ("输入 / input", "x_i", "u(x_i)", "单位 / unit", "ν_i", "c_i", "u_i(y)", "占比 / share"):
            table.add_column(col, justify="left" if col in ("输入 / input", "单位 / unit") else "right")
        for b in sorted(o["budget"], key=lambda b: -b["contribution"]):
            table.add_row(
                escape(b["input"]),
                _g(b["estimate"], 8),
                _g(b["u"], 3),
                escape(b["unit"]),
                _g(b["dof"], 3),
                _g(b["sensitivity"], 4),
                _g(b["contribution"], 3),
                f"{100 * b['share']:.1f} %",
            )
        if abs(o["covariance_share"]) > 1e-12:
            table.add_row("相关项 / corr.", "", "", "", "", "", "", f"{100 * o['covariance_share']:.1f} %")
        console.print(table)
        if o.get("intermediate_budget"):
            _print_intermediates(o)
    if len(answer["outputs"]) > 1:
        names = [o["name"] for o in answer["outputs"]]
        corr = Table(title="输出相关系数 / correlation of the outputs")
        corr.add_column("")
        for n in names:
            corr.add_column(escape(n), justify="right")
        for i, n in enumerate(names):
            corr.add_row(escape(n), *(f"{answer['correlation'][i][j]:+.3f}" for j in range(len(names))))
        console.print(corr)
    for note in answer.get("notes", []):
        console.print(f"[dim]{escape(note)}[/dim]")


def _print_intermediates(o: dict[str, Any]) -> None:
    """The budget of one output against the intermediate results it is computed from."""
    table = Table(title=escape(f"对中间结果的分量 / budget of {o['name']} against intermediate results"))
    for col in ("中间结果 / intermediate", "x", "u(x)", "单位 / unit", "∂y/∂x", "u_x(y)", "占比 / share"):
        table.add_column(col, justify="left" if col.startswith(("中间", "单位")) else "right")
    for row in o["intermediate_budget"]:
        table.add_row(
            escape(row["intermediate"]),
            _g(row["value"], 8),
            _g(row["u"], 3),
            escape(row["unit"]),
            _g(row["sensitivity"], 4),
            _g(row["contribution"], 3),
            f"{100 * row['share']:.1f} %",
        )
    console.print(table)
