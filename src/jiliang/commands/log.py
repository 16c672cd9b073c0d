"""``jiliang log``: sequence the transparency log, publish signed tree heads, and witness a log."""

from __future__ import annotations

import base64
import time
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.markup import escape

from jiliang.commands.common import console, err
from jiliang.commands.common import errors as _errors
from jiliang.commands.common import open_platform as _open
from jiliang.commands.common import state as _state
from jiliang.errors import ProofError
from jiliang.services import transparency, witness

app: typer.Typer = typer.Typer(
    help="透明日志 / the transparency log (RFC 9162 Merkle tree, signed tree heads)", no_args_is_help=True
)


REWRITTEN_EXIT = 3


@app.command("sequence")
def sequence(
    ctx: typer.Context,
    batch: Annotated[int, typer.Option(help="每个事务的条数 / leaves per transaction", min=1)] = 50_000,
) -> None:
    """把排队的条目加入默克尔树 / move queued leaves into the Merkle tree."""
    with _errors():
        platform = _open(_state(ctx).settings)
        added = transparency.sequence_pending(platform, batch)
        size = transparency.current_size(platform)
        console.print(f"新增叶子 / sequenced {added:,}; 树大小 / tree size {size:,}")


@app.command("checkpoint")
def checkpoint(
    ctx: typer.Context,
    every: Annotated[
        int, typer.Option(help="每隔几秒重复（0：只一次）/ repeat every N seconds (0: once)", min=0)
    ] = 0,
    passes: Annotated[
        int, typer.Option(help="最多几轮（0：不限）/ stop after N passes (0: no limit)", min=0)
    ] = 0,
    batch: Annotated[int, typer.Option(help="每个事务的条数 / leaves per transaction", min=1)] = 50_000,
) -> None:
    """排序并发布签名树头 / sequence, then sign and publish a tree head (once, or at a fixed interval)."""
    with _errors():
        platform = _open(_state(ctx).settings)
        done = 0
        while True:
            added, head = transparency.sequence_and_publish(platform, batch)
            console.print(
                f"新增 / sequenced {added:,}; 树头 / tree head size {head.size:,} "
                f"root {base64.b64encode(head.root_hash).decode()}"
            )
            done += 1
            if not every or (passes and done >= passes):
                break
            time.sleep(every)
        typer.echo(head.text, nl=False)  # the note verbatim: no markup, no wrapping


@app.command("audit")
def audit(
    ctx: typer.Context,
    url: Annotated[str | None, typer.Option(help="日志的网址 / base URL of the log's API")] = None,
    database: Annotated[
        bool, typer.Option("--database", help="直接读取本地数据库 / read the log from its database")
    ] = False,
    state: Annotated[
        Path, typer.Option(help="见证状态文件 / where the last accepted tree head is kept")
    ] = Path("jiliang-data/witness.json"),
    key: Annotated[
        str | None,
        typer.Option(
            help="固定的验证密钥 name+id+key（缺省：首次使用时信任）/ pinned verifier key (default: TOFU)"
        ),
    ] = None,
    every: Annotated[
        int, typer.Option(help="每隔几秒再查（0：只查一次）/ check again every N seconds", min=0)
    ] = 0,
    passes: Annotated[
        int, typer.Option(help="最多几轮（0：不限）/ stop after N passes (0: no limit)", min=0)
    ] = 0,
) -> None:
    """见证：检查树头只增不改 / witness: check that each tree head extends the last one; exit 3 if not."""
    if (url is None) == (not database):
        err.print("[red]需要 --url 或 --database 之一 / give exactly one of --url or --database[/red]")
        raise typer.Exit(2)
    with _errors():
        if database:
            source: witness.LogSource = witness.DatabaseLog(_open(_state(ctx).settings))
        else:
            assert url is not None
            source = witness.HttpLog(httpx.Client(base_url=url, timeout=30))
        run_audit(source, state, key, every, passes)


def run_audit(
    source: witness.LogSource, state: Path, key: str | None, every: int = 0, passes: int = 0
) -> None:
    """The audit loop, separate from option parsing so that tests can hand it any log source."""
    done = 0
    while True:
        try:
            seen = witness.observe(source, state, key)
        except ProofError as exc:
            err.print("[bold red]" + "!" * 78 + "[/bold red]")
            err.print(f"[bold red]日志不可信 / THE LOG FAILED AUDIT: {escape(exc.message)}[/bold red]")
            err.print(f"[bold red]最后接受的树头保存在 / last accepted tree head kept in {state}[/bold red]")
            err.print("[bold red]" + "!" * 78 + "[/bold red]")
            raise typer.Exit(REWRITTEN_EXIT) from None
        head = seen.current
        what = {
            "first": "首次记录 / first tree head recorded",
            "unchanged": "未变化 / unchanged",
            "grown": f"一致增长 / consistent growth from {seen.previous.size if seen.previous else 0:,}",
        }[seen.outcome]
        console.print(
            f"{what}: size {head.size:,} root {base64.b64encode(head.root_hash).decode()} ({escape(head.origin)})"
        )
        done += 1
        if not every or (passes and done >= passes):
            return
        time.sleep(every)
