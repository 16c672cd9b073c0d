"""``jiliang catalogue``: load a catalogue version, compare it with the one in force, activate it from a date."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.table import Table

from jiliang.commands.common import console
from jiliang.commands.common import errors as _errors
from jiliang.commands.common import open_platform as _open
from jiliang.commands.common import principal as _principal
from jiliang.commands.common import state as _state
from jiliang.domain.catalogue import FORM_LABELS, MODE_LABELS, ItemDiff
from jiliang.services import catalogue as catalogue_service

app: typer.Typer = typer.Typer(help="计量器具目录版本 / catalogue versions", no_args_is_help=True)


def _fmt(path: Path, fmt: str | None) -> Literal["csv", "xlsx"]:
    chosen = (fmt or path.suffix.lstrip(".")).lower()
    if chosen not in ("csv", "xlsx"):
        raise typer.BadParameter("格式须为 csv 或 xlsx / format must be csv or xlsx", param_hint="--format")
    return "csv" if chosen == "csv" else "xlsx"


STATES = {"in_force": "现行", "scheduled": "待生效", "superseded": "已被替代", "loaded": "已上传未启用"}


@app.command("versions")
def versions(ctx: typer.Context) -> None:
    """列出目录版本及其启用日期 / list the versions and when each is (or was) in force."""
    with _errors():
        platform = _open(_state(ctx).settings)
        table = Table("版本 version", "状态 state", "启用 from", "目录项 items", "规则 rules", "文件 file")
        for v in catalogue_service.list_versions(platform):
            table.add_row(
                v.version,
                f"{STATES[v.state]} {v.state}",
                v.active_from.isoformat() if v.active_from else "",
                str(v.items),
                str(v.rules),
                v.source_name,
            )
        console.print(table)


@app.command("upload")
def upload(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="CSV / XLSX 文件")],
    version: Annotated[str, typer.Option(help="新版本名 / the new version's name, e.g. SAMR-2026-01")],
    user: Annotated[str | None, typer.Option(help="以该管理员账户身份 / act as this administrator")] = None,
    fmt: Annotated[str | None, typer.Option("--format", help="csv 或 xlsx（缺省按扩展名）")] = None,
) -> None:
    """上传目录版本（docs/catalogue.md 的格式），暂不启用，并列出与现行版本的差异 / load a version, not yet in force."""
    chosen = _fmt(file, fmt)
    with _errors():
        platform = _open(_state(ctx).settings)
        with file.open("rb") as source:
            report = catalogue_service.upload_version(
                platform,
                _principal(platform, user),
                source,
                fmt=chosen,
                version=version,
                source_name=file.name,
            )
        console.print(
            f"已上传 / loaded {report.version}: {report.items} 目录项 items, {report.rules} 规则 rules, "
            f"sha256 {report.sha256[:16]}…"
        )
        _print_diff(catalogue_service.diff(platform, report.version), report.version)


@app.command("diff")
def diff(
    ctx: typer.Context,
    version: Annotated[str, typer.Argument(help="版本 / version")],
    against: Annotated[
        str | None, typer.Option(help="与此版本比较（缺省为现行）/ compare with this version")
    ] = None,
) -> None:
    """逐行列出与现行版本的差异 / the differences from the version in force, row by row."""
    with _errors():
        platform = _open(_state(ctx).settings)
        _print_diff(catalogue_service.diff(platform, version, against), version)


@app.command("activate")
def activate(
    ctx: typer.Context,
    version: Annotated[str, typer.Argument(help="版本 / version")],
    on: Annotated[str, typer.Option("--from", help="启用日期 YYYY-MM-DD（今天或以后）/ in force from")],
    user: Annotated[str | None, typer.Option(help="以该管理员账户身份 / act as this administrator")] = None,
) -> None:
    """自某日起启用目录版本；已有记录的到期日不变 / put a version in force from a date; no record changes."""
    with _errors():
        platform = _open(_state(ctx).settings)
        info = catalogue_service.activate(platform, _principal(platform, user), version, on)
        assert info.active_from is not None
        console.print(
            f"{info.version}: {STATES[info.state]} / {info.state}, 自 / from {info.active_from.isoformat()}"
        )


@app.command("export")
def export(
    ctx: typer.Context,
    version: Annotated[str, typer.Argument(help="版本 / version")],
    file: Annotated[Path | None, typer.Argument(dir_okay=False, help="输出 CSV（缺省为标准输出）")] = None,
    headers: Annotated[Literal["zh", "en"], typer.Option(help="表头 / header labels")] = "zh",
) -> None:
    """按上传格式导出一个版本（可修改后再上传）/ write a version in the upload layout."""
    with _errors():
        platform = _open(_state(ctx).settings)
        if file is None:
            catalogue_service.export_version(platform, version, sys.stdout.buffer, headers)
            return
        with file.open("wb") as sink:
            n = catalogue_service.export_version(platform, version, sink, headers)
        console.print(f"已导出 / wrote {n} 行 rows to {file}")


def _print_diff(diffs: list[ItemDiff], version: str) -> None:
    if not diffs:
        console.print(f"{version} 与比较版本相同 / no differences")
        return
    table = Table("目录项 item", "变化 change", "范围 range", "字段 field", "原 old", "新 new")
    labels = {"added": "新增 added", "removed": "删除 removed", "changed": "修改 changed"}
    for d in diffs:
        if not d.changes:
            table.add_row(f"{d.item_code} {d.name_zh}", labels[d.change], "", "", "", "")
        for c in d.changes:
            table.add_row(
                f"{d.item_code} {d.name_zh}", labels[d.change], c.scope, c.field, _label(c.old), _label(c.new)
            )
    console.print(table)


def _label(value: str) -> str:
    for enum_labels in (MODE_LABELS, FORM_LABELS):
        for key, label in enum_labels.items():
            if value == key.value:
                return f"{label} ({value})"
    return value
