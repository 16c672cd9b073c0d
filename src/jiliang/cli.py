"""The command line: ``jiliang init | demo | serve | import | export | report | reminders``.

Thin over the services. Settings are built once here (the composition root of a CLI process); every
command acts as a named account (``--user``) or as ``system`` for set-up work, and all its changes share
one request id in the audit trail, so a console session can be traced like an API request.
"""

from __future__ import annotations

import csv
import importlib
import io
import json
import os
import secrets
import sys
import time
import uuid
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from rich.markup import escape
from rich.table import Table

from jiliang.commands import catalogue as _catalogue
from jiliang.commands import certificate as _certificate
from jiliang.commands import common as _common
from jiliang.commands import comparison as _comparison
from jiliang.commands import dcc as _dcc
from jiliang.commands import energy as _energy
from jiliang.commands import keys as _keys
from jiliang.commands import log as _log
from jiliang.commands import market as _market
from jiliang.commands import telemetry as _telemetry
from jiliang.commands import traceability as _traceability
from jiliang.commands import uncertainty as _uncertainty
from jiliang.commands.common import State, console, err  # noqa: F401 (err: kept for older commands)
from jiliang.commands.common import errors as _errors
from jiliang.commands.common import open_platform as _open
from jiliang.commands.common import principal as _principal
from jiliang.commands.common import progress as _progress
from jiliang.commands.common import state as _state
from jiliang.domain.access import SYSTEM
from jiliang.domain.instruments import parse_date
from jiliang.domain.spreadsheet import neutralise
from jiliang.legal.coverage import ALL_ITEMS, Indicator, IndicatorValue
from jiliang.services import catalogue as catalogue_service
from jiliang.services import indicators, organisations, reminders, users
from jiliang.services.platform import Platform, request_id_var
from jiliang.settings import Settings

# The helpers shared with jiliang.commands keep their old names here too (_errors, _open, _principal,
# _state, _progress, console, err) for commands written against them; new code imports jiliang.commands.common.

app = typer.Typer(
    help="jiliang 计量 — 智慧计量监管服务平台 / smart metrology supervision platform",
    no_args_is_help=True,
    add_completion=False,
)
report_app = typer.Typer(help="指标报表 / indicator reports", no_args_is_help=True)
reminders_app = typer.Typer(help="到期提醒 / due reminders", no_args_is_help=True)
app.add_typer(report_app, name="report")
app.add_typer(reminders_app, name="reminders")

DEFAULT_DEMO_DB = Path("jiliang-data") / "demo.db"
# Idle keep-alive connections are kept this long (uvicorn closes them after 5 s by default, and a client
# that sends just then sees a reset: measured as read errors under a paced load).
KEEP_ALIVE_S = 30


@app.callback()
def main(
    ctx: typer.Context,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            envvar="JILIANG_DATABASE_URL",
            help="数据库地址 / database URL (sqlite:///… or postgresql://…)",
        ),
    ] = None,
) -> None:
    settings = Settings(database_url=database_url) if database_url else Settings()
    rid = f"cli-{uuid.uuid4().hex[:16]}"
    request_id_var.set(rid)
    ctx.obj = State(settings, rid)


# ---------------------------------------------------------------------------------------------------
# init, serve


@app.command()
def init(
    ctx: typer.Context,
    admin: Annotated[str, typer.Option(help="管理员用户名 / administrator's username")] = "admin",
    admin_password: Annotated[
        str | None,
        typer.Option(
            envvar="JILIANG_ADMIN_PASSWORD",
            help="管理员密码；缺省时提示输入或自动生成 / password; prompted or generated when absent",
        ),
    ] = None,
) -> None:
    """建库或升级、加载计量器具目录、创建管理员 / create or upgrade the database, load the catalogue, add an administrator."""
    settings = _state(ctx).settings
    with _errors():
        platform = _open(settings)
        organisations.ensure_provinces(platform)
        version = catalogue_service.ensure_shipped(platform)
        console.print(escape(f"数据库已就绪 / database ready: {settings.database_url}"))
        console.print(f"计量器具目录 / catalogue: {version}")
        if users.user_exists(platform, admin):
            console.print(
                escape(f"管理员 {admin} 已存在，未改动 / administrator {admin} exists, left unchanged")
            )
            return
        password, generated = admin_password, False
        if password is None and sys.stdin.isatty():
            password = typer.prompt(
                "管理员密码（留空则自动生成）/ administrator password (empty: generate)",
                default="",
                hide_input=True,
                show_default=False,
            )
        if not password:
            password, generated = secrets.token_urlsafe(15), True
        users.create_user(
            platform,
            SYSTEM,
            username=admin,
            password=password,
            role="administrator",
            display_name="系统管理员",
        )
        console.print(f"已创建管理员 / administrator created: [bold]{escape(admin)}[/bold]")
        if generated:
            console.print(
                f"生成的密码 / generated password: [bold]{password}[/bold]  (请妥善保存 / keep it safe)"
            )


def _serve_witness(witness: Any, host: str, port: int) -> None:
    """Serve a C2SP witness (services.tlog_witness.Witness) over HTTP: api/witness_app.py."""
    import uvicorn

    from jiliang.api.witness_app import create_witness_app

    uvicorn.run(create_witness_app(witness), host=host, port=port)


_common.serve_witness = _serve_witness


def _serve(platform: Platform, host: str, port: int, workers: int = 1, log_every: int = 60) -> None:
    import uvicorn

    from jiliang.api.app import create_app
    from jiliang.services.reconciliation import ReconcileTimer
    from jiliang.services.transparency import CheckpointTimer

    console.print(
        f"服务地址 / serving at [bold]http://{host}:{port}/[/bold]  (API: /docs)  Ctrl+C 停止 / to stop"
    )
    if log_every:
        # One timer in this (parent) process, on its own platform: workers only answer requests.
        CheckpointTimer(Platform.open(platform.settings, migrate=False), log_every).start()
        console.print(
            f"透明日志每 {log_every} 秒发布树头 / the log publishes a tree head every {log_every} s"
        )
    every = platform.settings.reconcile_every_minutes
    if every:
        ReconcileTimer(Platform.open(platform.settings, migrate=False), every * 60).start()
        console.print(f"每 {every} 分钟对账一次 / the register is reconciled with the log every {every} min")
    from jiliang.services.catalogue import apply_compulsory
    from jiliang.services.tallies import TallyCompactor, compact

    apply_compulsory(platform)  # a catalogue version in force since the last run: its compulsory flags
    compact(platform)  # then daily: keeps today's indicators a small GROUP BY (docs/indicators.md)
    TallyCompactor(Platform.open(platform.settings, migrate=False)).start()
    from jiliang.services.energy.live import LiveFoldTimer

    # folds each Beijing day's live meter readings into energy periods once it has ended (docs/energy.md)
    LiveFoldTimer(Platform.open(platform.settings, migrate=False)).start()
    if workers > 1:
        # each worker process opens its own platform from the environment (jiliang.api.asgi)
        os.environ["JILIANG_DATABASE_URL"] = platform.settings.database_url
        platform.close()
        uvicorn.run(
            "jiliang.api.asgi:app_from_environment",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="info",
            timeout_keep_alive=KEEP_ALIVE_S,
        )
        return
    uvicorn.run(create_app(platform), host=host, port=port, log_level="info", timeout_keep_alive=KEEP_ALIVE_S)


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="监听地址 / host")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="端口 / port")] = 8000,
    workers: Annotated[int, typer.Option(help="工作进程数 / worker processes", min=1, max=64)] = 1,
    log_every: Annotated[
        int,
        typer.Option(
            help="透明日志发布树头的间隔秒数（0：不在此进程发布）/ log checkpoint interval, s (0: off)", min=0
        ),
    ] = 60,
) -> None:
    """启动 API 与页面 / serve the API and the web page."""
    with _errors():
        platform = _open(_state(ctx).settings)
        catalogue_service.ensure_shipped(platform)
    _serve(platform, host, port, workers, log_every)


# ---------------------------------------------------------------------------------------------------
# demo


def _demo_url(db: str) -> str:
    return db if "://" in db else f"sqlite:///{Path(db)}"


@app.command()
def demo(
    ctx: typer.Context,
    instruments: Annotated[int, typer.Option(min=100, help="器具数量 / number of instruments")] = 30_000,
    db: Annotated[str, typer.Option(help="SQLite 文件或数据库地址 / SQLite file or database URL")] = str(
        DEFAULT_DEMO_DB
    ),
    seed: Annotated[int, typer.Option(help="随机种子 / seed (same seed, same city)")] = 2026,
    cities: Annotated[
        int,
        typer.Option(min=1, max=9, help="城市数（默认 2，省级可逐级浏览）/ cities (2: the province can be browsed)"),
    ] = 2,
    password: Annotated[
        str | None, typer.Option(help="所有演示账户的密码；缺省自动生成 / one password for all demo accounts")
    ] = None,
    snapshots: Annotated[
        bool | None,
        typer.Option(
            "--snapshots/--no-snapshots",
            help="保存近 12 个月指标快照 / keep 12 month-end snapshots for trends",
        ),
    ] = None,
    rebuild: Annotated[
        bool, typer.Option(help="删除已有的演示库重建 / delete an existing demo file first")
    ] = False,
    serve_: Annotated[
        bool, typer.Option("--serve/--no-serve", help="建好后启动服务 / serve afterwards")
    ] = True,
    host: Annotated[str, typer.Option(help="监听地址 / host")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="端口 / port")] = 8000,
    stream: Annotated[
        bool,
        typer.Option(
            "--stream/--no-stream",
            help="模拟设备经 MQTT 实时上报（含注入的漂移与作弊）/ simulated devices stream over MQTT "
            "(docs/telemetry.md)",
        ),
    ] = False,
    stream_devices: Annotated[int, typer.Option(min=4, help="模拟设备数 / streaming devices")] = 2000,
    stream_period: Annotated[
        float, typer.Option(min=0.2, help="每台设备的上报间隔秒数 / seconds between a device's readings")
    ] = 4.0,
    mqtt_host: Annotated[str, typer.Option(help="MQTT 代理 / broker host")] = "127.0.0.1",
    mqtt_port: Annotated[int, typer.Option(help="MQTT 代理端口 / broker port")] = 1883,
) -> None:
    """建立合成的演示市并启动服务 / build the synthetic demo city and serve it."""
    from jiliang.demo import DemoConfig, build_demo, demo_exists
    from jiliang.demo.accounts import account_lines, accounts_file, write_accounts

    url = _demo_url(db)
    if rebuild and "://" not in db:
        for suffix in ("", "-wal", "-shm"):
            Path(db + suffix).unlink(missing_ok=True)
    settings = _state(ctx).settings.model_copy(update={"database_url": url})
    with _errors():
        platform = _open(settings)
        if demo_exists(platform):
            saved = accounts_file(url, settings.data_dir)
            where = f"见 / see {saved}" if saved.exists() else "见首次建库输出 / printed when it was built"
            console.print(
                f"演示库已存在，直接使用 / reusing the demo database {url} "
                f"(账户密码{where}；--rebuild 重建)",
                soft_wrap=True,
                markup=False,
            )
        else:
            config = DemoConfig(instruments=instruments, seed=seed, cities=cities)
            keep = snapshots if snapshots is not None else instruments <= 200_000
            with _progress() as bar:
                tasks: dict[str, Any] = {}

                def step(stage: str, done: int, total: int) -> None:
                    label = {
                        "organisations": "单位 / organisations",
                        "instruments": "器具与检定记录 / instruments and records",
                        "indexes": "建索引 / indexing",
                        "snapshots": "指标快照 / snapshots",
                    }.get(stage, stage)
                    if stage not in tasks:
                        tasks[stage] = bar.add_task(label, total=total)
                    bar.update(tasks[stage], completed=done, total=total)

                summary = build_demo(platform, config, password=password, snapshots=keep, progress=step)
            console.print(
                f"演示市已建成 / demo city built: {summary.instruments:,} 台器具 instruments, "
                f"{summary.records:,} 条检定记录 records, {summary.organisations:,} 个单位 organisations, "
                f"{summary.seconds:.1f} s"
            )
            if summary.certificates is not None and summary.certificates.replacement:
                c = summary.certificates
                console.print(
                    f"数字证书 / certificates: {c.issued} 份已签发并记入透明日志 / issued, signed and logged "
                    f"(日志 / log {summary.log_size:,} 条 leaves); 已撤销 / withdrawn {c.withdrawn}; "
                    f"{c.superseded} 被 / superseded by {c.replacement}. 核验 / verify: "
                    f"http://{host}:{port}/v/{c.replacement}"
                )
            if summary.market is not None:
                m = summary.market
                console.print(
                    f"双随机抽查 / random inspection: 计划 plan {m.plan_id}, {m.targets} 个对象 targets, "
                    f"{m.results} 条结果 results; 复核 / re-run: http://{host}:{port}/api/v1/public/market/plans/"
                    f"{m.plan_id}/rerun; 案件 / case {m.case_number}"
                )
            for pl in summary.places:  # 一站一码: each place's public page, the URL on a line of its own
                console.print(
                    f"一站一码 / place: {pl.name}（{pl.instruments} 台强检器具 / instruments）",
                    soft_wrap=True,
                    markup=False,
                )
                console.print(f"  http://{host}:{port}/public/places/{pl.code}", soft_wrap=True, markup=False)
            if summary.energy is not None:
                e = summary.energy
                console.print(
                    f"重点用能单位 / key energy-using units: {e.units} 家, {e.reviews} 次审查 reviews, "
                    f"{e.periods} 个报告期 periods; http://{host}:{port}/console/supervision/energy"
                )
            # One account per block of short lines, never wrapped or cut at any width, and a 0600 file.
            names = {r.code: r.name_zh for r in organisations.list_regions(platform, SYSTEM)}
            lines = account_lines(summary.accounts, f"http://{host}:{port}/login", names)
            for line in lines:
                console.print(line, soft_wrap=True, highlight=False, markup=False)
            saved = write_accounts(accounts_file(url, settings.data_dir), lines)
            console.print(f"账户与密码已另存 / accounts saved to {saved} (0600)", soft_wrap=True, markup=False)
        rep = indicators.report(platform, SYSTEM, region="339900", by_item=False)
        console.print(_coverage_table(platform, rep.values, rep.as_of, by_item=False))
    if not stream:
        if serve_:
            _serve(platform, host, port)
        return
    import threading

    from jiliang.demo import stream as demo_stream

    stop = threading.Event()

    def say(line: str) -> None:
        console.print(line, soft_wrap=True, markup=False, highlight=False)

    def streaming() -> None:
        with _errors():
            demo_stream.run(
                platform,
                host=mqtt_host,
                port=mqtt_port,
                devices=stream_devices,
                period_s=stream_period,
                seed=seed,
                stop=stop,
                say=say,
            )

    if not serve_:
        streaming()
        return
    worker = threading.Thread(target=streaming, daemon=True)
    worker.start()
    say(f"预警 / warnings: http://{host}:{port}/api/v1/telemetry/warnings?status=active")
    try:
        _serve(platform, host, port)
    finally:
        stop.set()
        worker.join(30)


# ---------------------------------------------------------------------------------------------------
# import, export

Kind = Literal["instruments", "verifications"]
FormatOpt = Literal["csv", "xlsx"]


def _fmt(path: Path, fmt: str | None) -> FormatOpt:
    chosen = (fmt or path.suffix.lstrip(".")).lower()
    if chosen not in ("csv", "xlsx"):
        raise typer.BadParameter("格式须为 csv 或 xlsx / format must be csv or xlsx", param_hint="--format")
    return "csv" if chosen == "csv" else "xlsx"


@app.command("import")
def import_(
    ctx: typer.Context,
    kind: Annotated[Kind, typer.Argument(help="instruments 或 verifications")],
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="CSV / XLSX 文件")],
    user: Annotated[str, typer.Option(help="以该账户身份导入 / act as this account")],
    fmt: Annotated[str | None, typer.Option("--format", help="csv 或 xlsx（缺省按扩展名）")] = None,
) -> None:
    """批量导入器具或检定记录：全部成功或全部拒绝 / import a file: all rows or none."""
    transfer = importlib.import_module("jiliang.services.transfer")  # written on a sibling branch
    chosen = _fmt(file, fmt)
    with _errors():
        platform = _open(_state(ctx).settings)
        principal = _principal(platform, user)
        run = transfer.import_instruments if kind == "instruments" else transfer.import_verifications
        with _progress() as bar, file.open("rb") as source:
            task = bar.add_task(f"导入 / importing {kind}", total=None)
            report = run(
                platform, principal, source, fmt=chosen, progress=lambda n: bar.update(task, completed=n)
            )
        console.print(
            f"已导入 / imported {report.rows_written:,} 行 rows (读取 read {report.rows_read:,}), "
            f"审计 / audit #{report.audit_id}, sha256 {report.sha256[:16]}…"
        )


@app.command("export")
def export_(
    ctx: typer.Context,
    kind: Annotated[Kind, typer.Argument(help="instruments 或 verifications")],
    file: Annotated[Path, typer.Argument(dir_okay=False, help="输出文件 / output file (.csv / .xlsx)")],
    region: Annotated[str | None, typer.Option(help="行政区划代码 / region code")] = None,
    item: Annotated[str | None, typer.Option(help="目录项 / catalogue item, e.g. 09.01")] = None,
    status: Annotated[str | None, typer.Option(help="in_service / suspended / scrapped")] = None,
    overdue_on: Annotated[
        str | None, typer.Option(help="该日超期未检 / overdue on this date (YYYY-MM-DD)")
    ] = None,
    user: Annotated[
        str | None, typer.Option(help="以该账户身份导出（缺省 system）/ act as this account")
    ] = None,
    fmt: Annotated[str | None, typer.Option("--format", help="csv 或 xlsx（缺省按扩展名）")] = None,
) -> None:
    """导出器具或检定记录 / export instruments or verification records."""
    transfer = importlib.import_module("jiliang.services.transfer")
    chosen = _fmt(file, fmt)
    filters: dict[str, Any] = {
        k: v
        for k, v in {
            "region_code": region,
            "item_code": item,
            "status": status,
            "overdue_on": overdue_on,
        }.items()
        if v
    }
    with _errors():
        platform = _open(_state(ctx).settings)
        principal = _principal(platform, user)
        run = transfer.export_instruments if kind == "instruments" else transfer.export_verifications
        with file.open("wb") as sink:
            written = run(platform, principal, filters, sink, fmt=chosen)
        console.print(
            f"已导出 / exported to {file}" + (f": {written:,} 行 rows" if isinstance(written, int) else "")
        )


# ---------------------------------------------------------------------------------------------------
# reports

INDICATOR_ZH = {
    Indicator.VERIFICATION_COVERAGE: "强检计量器具检定覆盖率",
    Indicator.STANDARD_COVERAGE: "强检项目建标覆盖率",
    Indicator.OVERDUE: "超期未检",
}


def _pct(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.2f} %"


def _rate_cell(v: IndicatorValue | None) -> str:
    if v is None or v.rate is None:
        return "—"
    text = _pct(v.rate)
    if v.meets_target is False:
        return f"[bold red]{text}[/bold red]"
    return f"[green]{text}[/green]" if v.meets_target else text


def _coverage_table(platform: Platform, values: list[IndicatorValue], as_of: date, by_item: bool) -> Table:
    names = {r.code: r.name_zh for r in organisations.list_regions(platform, SYSTEM)}
    items = catalogue_service.catalogue(platform)
    index = {(v.indicator, v.region_code, v.item_code): v for v in values}
    table = Table(title=f"强检覆盖率 / compulsory-verification coverage · {as_of.isoformat()}")
    for col in ("区划 / region", "目录项 / item", "在用强检 / in service", "已检 / covered", "覆盖率 / rate"):
        table.add_column(
            col, justify="right" if "/ in" in col or "covered" in col or "rate" in col else "left"
        )
    for col in ("目标 / target", "超期 / overdue", "建标覆盖率 / standards", "目标 / target"):
        table.add_column(col, justify="right")
    keys = sorted(
        {(v.region_code, v.item_code) for v in values if v.indicator is Indicator.VERIFICATION_COVERAGE},
        key=lambda k: (k[0], k[1]),
    )
    for region, item in keys:
        if item and not by_item:
            continue
        cov = index[(Indicator.VERIFICATION_COVERAGE, region, item)]
        over = index.get((Indicator.OVERDUE, region, item))
        std = index.get((Indicator.STANDARD_COVERAGE, region, item)) if item == ALL_ITEMS else None
        table.add_row(
            escape(f"{region} {names.get(region, '')}"),
            "全部 / all"
            if item == ALL_ITEMS
            else escape(f"{item} {items[item].level2_zh if item in items else ''}"),
            f"{cov.denominator:,}",
            f"{cov.numerator:,}",
            _rate_cell(cov),
            _pct(cov.target),
            f"{over.numerator:,}" if over else "—",
            _rate_cell(std) if std else "—",
            _pct(std.target) if std else "—",
        )
    return table


def _as_rows(values: list[IndicatorValue], as_of: date) -> list[dict[str, Any]]:
    return [
        {
            "as_of": as_of.isoformat(),
            "indicator": v.indicator.value,
            "region_code": v.region_code,
            "item_code": v.item_code,
            "numerator": v.numerator,
            "denominator": v.denominator,
            "rate": v.rate,
            "target": v.target,
            "meets_target": v.meets_target,
        }
        for v in values
    ]


@report_app.command("coverage")
def report_coverage(
    ctx: typer.Context,
    region: Annotated[
        str | None, typer.Option(help="行政区划代码 / region code (default: your jurisdiction)")
    ] = None,
    as_of: Annotated[str | None, typer.Option(help="统计日期 / as of (YYYY-MM-DD), default today")] = None,
    by_item: Annotated[bool, typer.Option(help="按目录项分列 / one row per catalogue item")] = False,
    fmt: Annotated[str, typer.Option("--format", help="table | json | csv")] = "table",
    user: Annotated[
        str | None, typer.Option(help="以该账户身份 / act as this account (default system)")
    ] = None,
) -> None:
    """指标对照目标 / the indicators against their targets."""
    if fmt not in ("table", "json", "csv"):
        raise typer.BadParameter("table | json | csv", param_hint="--format")
    with _errors():
        platform = _open(_state(ctx).settings)
        principal = _principal(platform, user)
        on = parse_date(as_of, "as_of") if as_of else None
        rep = indicators.report(platform, principal, region=region, on=on, by_item=by_item)
        if fmt == "table":
            console.print(_coverage_table(platform, rep.values, rep.as_of, by_item))
            return
        rows = _as_rows(rep.values, rep.as_of)
        if fmt == "json":
            sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=1) + "\n")
            return
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]) if rows else ["as_of"])
        writer.writeheader()
        writer.writerows({k: neutralise(v) for k, v in row.items()} for row in rows)
        sys.stdout.write(buffer.getvalue())


@report_app.command("snapshot")
def report_snapshot(
    ctx: typer.Context,
    as_of: Annotated[str | None, typer.Option(help="统计日期 / as of (YYYY-MM-DD), default today")] = None,
) -> None:
    """保存指标快照供趋势使用 / store today's (or a past date's) indicators for the trend."""
    with _errors():
        platform = _open(_state(ctx).settings)
        on = parse_date(as_of, "as_of") if as_of else None
        n = indicators.take_snapshot(platform, on)
        console.print(
            f"已保存 {n:,} 个指标值 / stored {n:,} indicator values ({(on or platform.today()).isoformat()})"
        )


@reminders_app.command("send")
def reminders_send(
    ctx: typer.Context,
    within_days: Annotated[int, typer.Option(help="提前天数 / days ahead")] = 30,
    every: Annotated[
        float,
        typer.Option(help="每隔几秒重复一轮（0：只运行一轮）/ repeat every N seconds (0: one pass)", min=0),
    ] = 0,
    passes: Annotated[
        int, typer.Option(help="最多几轮（0：不限）/ stop after N passes (0: no limit)", min=0)
    ] = 0,
) -> None:
    """生成到期提醒并投递 / queue due reminders and deliver them (one pass, or as a long-running sender)."""
    with _errors():
        platform = _open(_state(ctx).settings)
        done = 0
        while True:
            queued = reminders.enqueue_due_reminders(platform, within_days=within_days)
            result = reminders.deliver_pending(platform)
            console.print(
                f"新排队 / queued {queued:,}; 已送达 / delivered {result.delivered:,}; "
                f"待重试 / to retry {result.failed:,}; 放弃 / dead {result.dead:,}"
            )
            done += 1
            if not every or (passes and done >= passes):
                break
            time.sleep(every)


# Sub-commands of each capability live in jiliang.commands.<name>; the helpers they share with this
# file live in jiliang.commands.common, so neither imports the other.
app.add_typer(_comparison.app, name="comparison")
app.add_typer(_uncertainty.app, name="uncertainty")
app.add_typer(_keys.app, name="keys")
app.add_typer(_dcc.app, name="dcc")
app.add_typer(_traceability.app, name="traceability")
app.add_typer(_log.app, name="log")
app.add_typer(_certificate.app, name="certificate")
app.add_typer(_market.app, name="market")
app.add_typer(_catalogue.app, name="catalogue")
app.add_typer(_telemetry.app, name="telemetry")
app.add_typer(_energy.app, name="energy")


if __name__ == "__main__":  # pragma: no cover
    app()
