"""``jiliang traceability chain | broken | impact``: traceability chains and recall lists from the console."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from datetime import date
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from jiliang.commands import common
from jiliang.services import traceability

app: typer.Typer = typer.Typer(
    help="量值溯源 / traceability chains and impact analysis", no_args_is_help=True
)

UserOpt = Annotated[str | None, typer.Option(help="以该账户身份 / act as this account (default system)")]
FormatOpt = Annotated[str, typer.Option("--format", help="table | json (impact: also csv)")]


def _json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, indent=1, default=_default) + "\n")


def _default(value: object) -> str:
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def _num(x: float | None, digits: int = 3) -> str:
    return "—" if x is None else f"{x:.{digits}g}"


@app.command("chain")
def chain(
    ctx: typer.Context,
    instrument: Annotated[int | None, typer.Option("--instrument", help="器具编号 / instrument id")] = None,
    standard: Annotated[int | None, typer.Option("--standard", help="计量标准编号 / standard id")] = None,
    on: Annotated[str | None, typer.Option(help="日期 / as of (YYYY-MM-DD)")] = None,
    fmt: FormatOpt = "table",
    user: UserOpt = None,
) -> None:
    """一件器具或一台计量标准的溯源链 / the chain of an instrument or a standard up to its anchor."""
    if (instrument is None) == (standard is None):
        raise typer.BadParameter(
            "--instrument 或 --standard 二选一 / give one of them", param_hint="--instrument"
        )
    with common.errors():
        platform = common.open_platform(common.state(ctx).settings)
        principal = common.principal(platform, user)
        if instrument is not None:
            found = traceability.instrument_chain(platform, principal, instrument, on)
        else:
            assert standard is not None
            found = traceability.standard_chain(platform, principal, standard, on)
        if fmt == "json":
            _json(asdict(found))
            return
        table = Table(title=escape(f"溯源链 / chain: {found.subject}"))
        for col in (
            "层 / level",
            "对象 / item",
            "所用标准或源头 / standard or anchor",
            "证书 / certificate",
            "日期 / on",
            "有效至 / until",
            "u (k=1)",
            "TUR",
            "状态 / status",
        ):
            table.add_column(col)
        for link in found.links:
            table.add_row(
                str(link.level),
                escape(link.item),
                escape(link.standard_name or link.anchor),
                escape(link.certificate_no),
                link.on.isoformat(),
                link.valid_until.isoformat() if link.valid_until else "",
                escape(f"{_num(link.uncertainty)} {link.unit}".strip()),
                _num(link.tur),
                "✓" if link.status == "ok" else f"[red]{escape(link.reason)}[/red]",
            )
        common.console.print(table)
        colour = "green" if found.status == "ok" else "red"
        common.console.print(f"[{colour}]{escape(found.reason)}[/{colour}]")
        common.console.print(
            f"传播的标准不确定度 / propagated u (k=1, RSS): {_num(found.uncertainty)} {escape(found.unit)}; "
            f"最小 TUR / lowest TUR: {_num(found.min_tur)}"
            + (" [yellow]⚠ TUR 偏低 / below the minimum[/yellow]" if found.tur_warning else "")
            + (
                " [yellow]⚠ 上游标准后来超差 / upstream later found out of tolerance[/yellow]"
                if found.suspect
                else ""
            )
        )


@app.command("broken")
def broken(
    ctx: typer.Context,
    region: Annotated[str | None, typer.Option(help="区划代码 / region code")] = None,
    institution: Annotated[int | None, typer.Option(help="检定机构编号 / institution id")] = None,
    limit: Annotated[int, typer.Option(help="列出的断链器具上限 / items listed")] = 50,
    fmt: FormatOpt = "table",
    user: UserOpt = None,
) -> None:
    """按区划和机构列出断链或过期的溯源链 / broken or expired chains by region and institution."""
    with common.errors():
        platform = common.open_platform(common.state(ctx).settings)
        report = traceability.broken_chains(
            platform,
            common.principal(platform, user),
            region_code=region,
            institution_id=institution,
            limit=limit,
        )
        if fmt == "json":
            _json(asdict(report))
            return
        common.console.print(
            f"在用器具 / instruments checked {report.checked:,}; 断链 / broken {report.broken:,}; "
            f"未记录标准 / no standard recorded {report.unrecorded:,}; "
            f"TUR 偏低 / low TUR {report.tur_warnings:,} ({report.as_of.isoformat()})"
        )
        table = Table(title="按区划和机构 / by region and institution")
        for col in (
            "区划 / region",
            "机构 / institution",
            "检查 / checked",
            "断链 / broken",
            "TUR<min",
            "原因 / reasons",
        ):
            table.add_column(col)
        for g in report.groups:
            table.add_row(
                escape(g.region_code),
                escape(g.institution),
                f"{g.checked:,}",
                f"{g.broken:,}",
                f"{g.tur_warnings:,}",
                escape(", ".join(f"{k}: {v}" for k, v in sorted(g.by_reason.items()))),
            )
        common.console.print(table)
        if report.standards:
            common.console.print("[bold]今日断链的计量标准 / standards whose chain is broken today[/bold]")
            for c in report.standards:
                common.console.print(f"  {escape(c.subject)}: [red]{escape(c.reason)}[/red]")
        for item in report.items:
            common.console.print(
                escape(
                    f"  {item.serial_number} ({item.region_code}) {item.document_no} {item.verified_on}: {item.reason}"
                )
            )


@app.command("impact")
def impact(
    ctx: typer.Context,
    standard: Annotated[int, typer.Option("--standard", help="计量标准编号 / standard id")],
    on: Annotated[
        str | None, typer.Option(help="发现超差的日期（默认今天）/ date found (default today)")
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(help="起算日（默认上次合格校准）/ window start (default last good calibration)"),
    ] = None,
    reason: Annotated[str, typer.Option(help="out_of_tolerance | certificate_lapsed")] = "out_of_tolerance",
    fmt: FormatOpt = "table",
    user: UserOpt = None,
) -> None:
    """标准超差或证书失效时需追回的证书、记录和器具 / what to recall when a standard fails."""
    with common.errors():
        platform = common.open_platform(common.state(ctx).settings)
        report = traceability.impact(
            platform,
            common.principal(platform, user),
            standard,
            on=on or platform.local_today(),
            reason=reason,
            since=since,
        )
        if fmt == "csv":
            sys.stdout.write(traceability.impact_csv(report))
            return
        if fmt == "json":
            _json(asdict(report))
            return
        since_text = report.since.isoformat() if report.since else "—"
        common.console.print(
            f"[bold]{escape(report.standard_name)}[/bold] ({escape(report.reason)}, {report.on.isoformat()}); "
            f"自上次合格校准 / since last good calibration {since_text}"
        )
        common.console.print(
            f"需追回：校准证书 {len(report.calibrations)} 份、下游标准 {len(report.standards)} 台、"
            f"检定记录 {report.records_total:,} 条、器具 {report.instruments_total:,} 台 / to recall: "
            f"{len(report.calibrations)} calibration certificates, {len(report.standards)} downstream standards, "
            f"{report.records_total:,} verification records, {report.instruments_total:,} instruments"
        )
        table = Table(title="校准证书 / calibrations")
        for col in ("证书 / certificate", "日期 / on", "标准 / standard"):
            table.add_column(col)
        for c in report.calibrations:
            table.add_row(escape(c.certificate_no), c.calibrated_on.isoformat(), escape(c.standard_name))
        common.console.print(table)
        shown = report.records[:50]
        for x in shown:
            common.console.print(
                escape(
                    f"  {x.document_no} {x.verified_on} {x.serial_number} ({x.region_code}) {x.conclusion}"
                )
            )
        if len(report.records) > len(shown):
            common.console.print(f"  … {len(report.records) - len(shown):,} more (--format csv)")
