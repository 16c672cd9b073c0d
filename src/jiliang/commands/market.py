"""``jiliang market``: net-content checks, random-inspection plans, re-running a published draw, grades."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from jiliang.commands import common
from jiliang.legal import sampling
from jiliang.services.market import calculator, credit, plans

app: typer.Typer = typer.Typer(help="民生计量 / market supervision", no_args_is_help=True)

UserOpt = Annotated[str | None, typer.Option(help="以该账户身份 / act as this account (default system)")]
FormatOpt = Annotated[str, typer.Option("--format", help="table | json")]


def _json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, indent=1) + "\n")


@app.command("check")
def check(
    nominal: Annotated[str, typer.Argument(help="标注净含量，如 '500 g' / nominal quantity, e.g. '500 g'")],
    lot_size: Annotated[int, typer.Option("--lot", help="检验批量 N / lot size")],
    measurements: Annotated[
        Path, typer.Option("--values", help="实际含量文件，每行一个值 / file with one value per line")
    ],
    ruleset: Annotated[
        str, typer.Option(help="JJF1070-2005 | JJF1070-2023 | EU-76/211/EEC")
    ] = "JJF1070-2023",
    unit: Annotated[str | None, typer.Option(help="测量值的单位 / unit of the values")] = None,
    tares: Annotated[Path | None, typer.Option(help="皮重文件 / tare values, one per line")] = None,
    destructive: Annotated[bool, typer.Option(help="破坏性检验（欧盟）/ destructive test (EU)")] = False,
    drained: Annotated[bool, typer.Option(help="沥干物 / drained weight")] = False,
    fmt: FormatOpt = "table",
) -> None:
    """净含量检验（不保存）/ check one lot's net content and print each criterion and the verdict."""

    def read(path: Path) -> list[float | str]:
        out: list[float | str] = []
        for line in path.read_text(encoding="utf-8").splitlines():
            text = line.strip()
            if text:
                try:
                    out.append(float(text))
                except ValueError:
                    out.append(text)
        return out

    with common.errors():
        report = calculator.check(
            {
                "nominal": nominal,
                "lot_size": lot_size,
                "measurements": read(measurements),
                "measurement_unit": unit,
                "tares": read(tares) if tares else None,
                "ruleset": ruleset,
                "method": "destructive" if destructive else "non_destructive",
                "drained": drained,
            }
        )
    if fmt == "json":
        _json(report)
        return
    table = Table(
        title=f"{report['ruleset']} · Qn = {report['nominal']:g} {report['unit']} · N = {report['lot_size']}"
        f" · n = {report['sample_size']} · T = {report['tolerable_deficiency']:g}"
    )
    for col in ("判据 / criterion", "要求 / required", "实测 / observed", "结论 / result"):
        table.add_column(col)
    for c in report["criteria"]:
        mark = "—" if c["passed"] is None else ("✓" if c["passed"] else "[red]✗[/red]")
        table.add_row(f"{c['title_zh']} / {c['title_en']}", c["required"], c["observed"], mark)
    common.console.print(table)
    verdict = {
        "pass": "[green]合格 / pass[/green]",
        "fail": "[red]不合格 / fail[/red]",
        "second_sample": "[yellow]须抽第二样本 / draw the second sample[/yellow]",
    }[report["verdict"]]
    common.console.print(verdict)
    if report["verdict"] == "fail":
        raise typer.Exit(1)


@app.command("commitment")
def commitment(
    seed: Annotated[str, typer.Argument(help="64 位十六进制种子 / the seed, 64 hex digits")],
) -> None:
    """计算种子的承诺值 / print the SHA-256 commitment to publish before the draw."""
    with common.errors():
        sys.stdout.write(sampling.commitment(seed) + "\n")


@app.command("rerun")
def rerun(
    published: Annotated[Path, typer.Argument(help="公布的计划 JSON / the published plan JSON")],
) -> None:
    """离线复核一次公开抽取 / re-run a published draw from its JSON (no database); exit 3 on a mismatch."""
    with common.errors():
        out = plans.rerun_published(json.loads(published.read_text(encoding="utf-8")))
    if out["matches"]:
        common.console.print(f"[green]一致 / the list matches: {len(out['drawn'])} drawn[/green]")
        return
    common.console.print(f"[red]不一致 / mismatch: drawn {out['drawn']} but listed {out['listed']}[/red]")
    raise typer.Exit(3)


@app.command("plan-create")
def plan_create(
    ctx: typer.Context,
    name: Annotated[str, typer.Option(help="计划名称 / name")],
    region: Annotated[str, typer.Option(help="区划代码 / region code")],
    kinds: Annotated[str, typer.Option(help="单位类型，逗号分隔 / organisation kinds, comma-separated")],
    ratio: Annotated[float, typer.Option(help="抽查比例 / ratio (0, 1]")],
    strata_by: Annotated[str, typer.Option(help="none | kind | region | kind_region")] = "kind",
    item_code: Annotated[str | None, typer.Option(help="目录项 / catalogue item")] = None,
    team_size: Annotated[int, typer.Option(help="检查组人数 / inspectors per target")] = 2,
    user: UserOpt = None,
) -> None:
    """新建抽查计划 / create a draft random-inspection plan."""
    with common.errors():
        platform = common.open_platform(common.state(ctx).settings)
        out = plans.create_plan(
            platform,
            common.principal(platform, user),
            {
                "name": name,
                "region_code": region,
                "org_kinds": [k.strip() for k in kinds.split(",") if k.strip()],
                "ratio": ratio,
                "strata_by": strata_by,
                "item_code": item_code,
                "team_size": team_size,
            },
        )
    _json(out)


@app.command("plan-commit")
def plan_commit(
    ctx: typer.Context,
    plan_id: int,
    commitment_hex: Annotated[
        str | None, typer.Option("--commitment", help="自带种子的承诺值 / your own seed's commitment")
    ] = None,
    user: UserOpt = None,
) -> None:
    """冻结名录并公布种子承诺值 / freeze the population and publish the seed commitment."""
    with common.errors():
        platform = common.open_platform(common.state(ctx).settings)
        _json(plans.commit_seed(platform, common.principal(platform, user), plan_id, commitment=commitment_hex))


@app.command("plan-draw")
def plan_draw(
    ctx: typer.Context,
    plan_id: int,
    seed: Annotated[str | None, typer.Option(help="自带种子 / your own seed (revealed now)")] = None,
    user: UserOpt = None,
) -> None:
    """公开种子并抽取（仅一次）/ reveal the seed and draw, once."""
    with common.errors():
        platform = common.open_platform(common.state(ctx).settings)
        _json(plans.draw_plan(platform, common.principal(platform, user), plan_id, seed=seed))


@app.command("plan-show")
def plan_show(ctx: typer.Context, plan_id: int) -> None:
    """公布的计划（可用 rerun 复核）/ the published plan as the portal shows it (feed it to rerun)."""
    with common.errors():
        platform = common.open_platform(common.state(ctx).settings)
        _json(plans.published(platform, plan_id))


@app.command("grade")
def grade(ctx: typer.Context, organisation_id: int, user: UserOpt = None, fmt: FormatOpt = "table") -> None:
    """单位的信用等级及逐项说明 / an organisation's credit grade with every point explained."""
    with common.errors():
        platform = common.open_platform(common.state(ctx).settings)
        out = credit.organisation_grade(platform, common.principal(platform, user), organisation_id)
    if fmt == "json":
        _json(out)
        return
    table = Table(title=f"{out['organisation_name']}: {out['grade']} ({out['score']:g}) · {out['policy']}")
    for col in ("日期 / on", "事件 / event", "分值 / points", "计入 / counted", "说明 / why"):
        table.add_column(col)
    for line in out["lines"]:
        table.add_row(
            line["occurred_on"],
            line["kind_zh"],
            f"{line['points']:+g}",
            f"{line['counted']:+g}",
            line["reason_zh"],
        )
    common.console.print(table)
