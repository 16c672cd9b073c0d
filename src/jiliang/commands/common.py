"""What every command shares: the process's state, the consoles, refusals, opening the platform.

cli.py (the composition root: the top-level app, ``init``, ``demo``, ``serve`` …) and each capability's
sub-app in ``jiliang.commands`` import these from here, so neither imports the other's module: cli.py
imports the sub-apps at the top like any module, and ``python -m jiliang.cli`` no longer loads cli.py
twice through a sub-app that reached back into it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from jiliang.domain.access import SYSTEM, Principal
from jiliang.errors import ImportRefused, JiliangError
from jiliang.services import organisations, users
from jiliang.services.platform import Platform
from jiliang.settings import Settings

console = Console()
err = Console(stderr=True)


@dataclass
class State:
    """Built once by the top-level callback: the settings and the request id of this CLI process."""

    settings: Settings
    request_id: str


def state(ctx: typer.Context) -> State:
    found: State = ctx.obj
    return found


@contextlib.contextmanager
def errors() -> Iterator[None]:
    """Print a refusal as the API would answer it (field and reason) and exit non-zero."""
    try:
        yield
    except ImportRefused as exc:
        err.print(f"[red]{escape(exc.message)}[/red]")
        for p in exc.problems[:50]:
            err.print(escape(f"  第 {p.row} 行 / row {p.row} · {p.field}: {p.reason}"))
        raise typer.Exit(2) from None
    except JiliangError as exc:
        where = escape(f" [{exc.field}]") if exc.field else ""
        err.print(f"[red]错误 / error{where}: {escape(exc.message)}[/red]")
        raise typer.Exit(2) from None


def open_platform(settings: Settings) -> Platform:
    platform = Platform.open(settings)
    organisations.ensure_national(platform)
    return platform


def principal(platform: Platform, user: str | None) -> Principal:
    """The named account's principal (``--user``), or ``system`` for set-up work."""
    return SYSTEM if not user else users.principal_by_username(platform, user)


def progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )
