"""``jiliang log``: sequence the transparency log, publish signed tree heads, and witness a log."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.markup import escape

from jiliang.commands import common
from jiliang.commands.common import console, err
from jiliang.commands.common import errors as _errors
from jiliang.commands.common import open_platform as _open
from jiliang.commands.common import state as _state
from jiliang.errors import ProofError
from jiliang.services import reconciliation, tlog_witness, transparency, witness

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
            err.print(
                f"[bold red]最后接受的树头保存在 / last accepted tree head kept in {escape(str(state))}[/bold red]"
            )
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


@app.command("reconcile")
def reconcile(
    ctx: typer.Context,
    key: Annotated[
        str | None,
        typer.Option(
            help="固定的日志验证密钥（缺省：数据库中的）/ pinned log verifier key (default: the stored one)"
        ),
    ] = None,
    published: Annotated[
        Path | None,
        typer.Option(
            help="库外发布的树头目录（缺省：设置中的）/ folder of heads published outside the database"
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON / print JSON")] = False,
) -> None:
    """对账：登记库与日志逐条核对 / reconcile the register with the log.

    Exit status: 0 consistent; 3 the log itself is inconsistent (tree, tree heads, published heads);
    4 the register and the log disagree (records, certificate events, statuses); 2 bad input.
    """
    with _errors():
        report = reconciliation.reconcile(
            _open(_state(ctx).settings), verifier_key=key, publish_dir=published
        )
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "exit_code": report.exit_code,
                    "leaves": report.leaves,
                    "queued": report.queued,
                    "records": report.records,
                    "certificates": report.certificates,
                    "checkpoints": report.checkpoints,
                    "published": report.published,
                    "findings": [f.__dict__ for f in report.findings],
                },
                ensure_ascii=False,
            )
        )
    else:
        console.print(
            f"叶子 / leaves {report.leaves:,} · 排队 / queued {report.queued:,} · 检定记录 / records "
            f"{report.records:,} · 证书 / certificates {report.certificates:,} · 树头 / tree heads "
            f"{report.checkpoints:,} · 已发布 / published {report.published:,}"
        )
        for f in report.findings:
            err.print(f"[bold red]{f.code}[/bold red] {escape(f.subject)}: {escape(f.message)}")
        if report.findings:
            err.print(
                f"[bold red]对账未通过：{len(report.findings)} 项 / RECONCILIATION FAILED: "
                f"{len(report.findings)} finding(s)[/bold red]"
            )
        else:
            console.print("[green]登记库与日志一致 / the register and the log agree[/green]")
    if report.exit_code:
        raise typer.Exit(report.exit_code)


@app.command("witness-serve")
def witness_serve(
    directory: Annotated[
        Path, typer.Option("--dir", help="见证自己的目录（密钥与状态）/ the witness's own folder")
    ],
    name: Annotated[str, typer.Option(help="见证名称 / witness name, e.g. witness.example.org/w1")],
    log_key: Annotated[
        list[str],
        typer.Option("--log", help="跟随的日志的验证密钥（可多次）/ verifier key of a log to follow"),
    ],
    host: Annotated[str, typer.Option(help="监听地址 / host")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="端口 / port")] = 8081,
) -> None:
    """运行 C2SP 见证（副署树头）/ run a C2SP tlog-witness that cosigns the log's tree heads."""
    with _errors():
        w = tlog_witness.Witness(directory, name, {k.split("+", 1)[0]: k for k in log_key})
    typer.echo(f"witness key / 见证公钥: {w.verifier_key}")
    assert common.serve_witness is not None, "jiliang.cli installs the witness server"
    common.serve_witness(w, host, port)


@app.command("witness-key")
def witness_key(
    directory: Annotated[Path, typer.Option("--dir", help="见证自己的目录 / the witness's own folder")],
    name: Annotated[str, typer.Option(help="见证名称 / witness name")],
) -> None:
    """打印见证公钥（首次则生成）/ print the witness's verifier key (created on first use)."""
    with _errors():
        typer.echo(tlog_witness.Witness(directory, name, {}).verifier_key)


@app.command("cosign")
def cosign(
    ctx: typer.Context,
    witness_url: Annotated[str, typer.Option("--witness", help="见证的网址前缀 / the witness's URL prefix")],
    witness_vkey: Annotated[str, typer.Option("--witness-key", help="见证公钥 / the witness's verifier key")],
) -> None:
    """请见证副署最新树头 / get the latest tree head cosigned by a witness (exit 3 if it refuses)."""
    with _errors():
        platform = _open(_state(ctx).settings)
        try:
            note = tlog_witness.request_cosignature(
                platform, httpx.Client(base_url=witness_url, timeout=30), witness_vkey
            )
        except ProofError as exc:
            err.print(f"[bold red]见证拒绝 / WITNESS REFUSED: {escape(exc.message)}[/bold red]")
            raise typer.Exit(REWRITTEN_EXIT) from None
    typer.echo(note, nl=False)
