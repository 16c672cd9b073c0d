"""``jiliang keys``: issue and list institutions' signing keys (the private keys stay encrypted)."""

from __future__ import annotations

from typing import Annotated, Literal

import typer
from rich.table import Table

from jiliang.commands.common import console
from jiliang.commands.common import errors as _errors
from jiliang.commands.common import open_platform as _open
from jiliang.commands.common import state as _state
from jiliang.domain.access import SYSTEM
from jiliang.services import signing_keys

app: typer.Typer = typer.Typer(help="签名密钥与证书 / signing keys and certificates", no_args_is_help=True)


@app.command("issue")
def issue(
    ctx: typer.Context,
    institution: Annotated[int, typer.Option("--institution", help="机构（单位）编号 / institution id")],
    algorithm: Annotated[
        Literal["ecdsa-p256", "rsa-3072"], typer.Option(help="密钥算法 / key algorithm")
    ] = "ecdsa-p256",
) -> None:
    """为机构签发新的签名密钥和证书（旧密钥停用）/ issue a new key and certificate (the old one retires)."""
    with _errors():
        platform = _open(_state(ctx).settings)
        row = signing_keys.issue_key(platform, SYSTEM, institution, algorithm=algorithm)
        console.print(
            f"已签发 / issued key {row.id} ({row.algorithm}) for institution {institution}: {row.subject}, "
            f"serial {row.serial_number}, not after {row.not_after:%Y-%m-%d}"
        )


@app.command("list")
def list_keys(ctx: typer.Context) -> None:
    """列出签名密钥（不含私钥）/ list signing keys (never the private keys)."""
    with _errors():
        platform = _open(_state(ctx).settings)
        table = Table("id", "kind", "institution", "algorithm", "subject", "not after", "active")
        for r in signing_keys.all_keys(platform):
            table.add_row(
                str(r.id),
                r.kind,
                "" if r.institution_id is None else str(r.institution_id),
                r.algorithm,
                r.subject,
                f"{r.not_after:%Y-%m-%d}",
                "yes" if r.active else "no",
            )
        console.print(table)
