"""``jiliang energy``: online energy-consumption monitoring — fold a Beijing day of live meter readings
into a stored energy period (services/energy/live.py)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer
from rich.markup import escape

from jiliang.commands import common
from jiliang.services.energy import live

app: typer.Typer = typer.Typer(help="能源计量 / energy metering", no_args_is_help=True)


@app.command("fold-live")
def fold_live(
    ctx: typer.Context,
    day: Annotated[str, typer.Option(help="北京时间日期 / the Beijing day, YYYY-MM-DD")],
) -> None:
    """把该日的在线读数汇总为报告期 / fold the day's live readings into each unit's energy period."""
    with common.errors():
        try:
            on = date.fromisoformat(day)
        except ValueError:
            common.console.print("[red]--day 须为 YYYY-MM-DD / --day must be YYYY-MM-DD[/red]")
            raise typer.Exit(2) from None
        platform = common.open_platform(common.state(ctx).settings)
        result = live.fold_day(platform, on)
    if not result.units:
        common.console.print("没有在线计量的重点用能单位 / no key energy-using unit is read online")
    for u in result.units:
        common.console.print(
            f"unit {u.unit_id}: {u.status}"
            + (f" period {u.period_id}" if u.period_id else "")
            + f" · points {u.points} · readings {u.readings} · duplicates {u.duplicates}"
            + f" · clock jumps {u.clock_jumps} · wrong schema {u.wrong_schema} · late {u.late}"
            + (f" · {escape(u.message)}" if u.message else "")
        )
