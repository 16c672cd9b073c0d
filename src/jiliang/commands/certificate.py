"""``jiliang certificate``: issue, withdraw, bundle, import, render, and verify a DCC (online or offline).

``verify FILE --bundle B --log-key K --roots R`` needs no database: it is what a customer, an auditor or a
court runs on the file they were given. Exit status: 0 genuine and valid; 1 genuine but withdrawn or
superseded; 3 a check failed (altered, wrong signer, not in the log, forged proof); 2 bad input.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from cryptography import x509
from rich.markup import escape
from rich.table import Table

from jiliang.commands.common import console, err
from jiliang.commands.common import errors as _errors
from jiliang.commands.common import open_platform as _open
from jiliang.commands.common import principal as _principal
from jiliang.commands.common import state as _state
from jiliang.services import certificates, signing_keys, transparency
from jiliang.trust import certificate_check
from jiliang.trust.certificate_check import CheckReport

app: typer.Typer = typer.Typer(
    help="数字计量证书 / digital calibration certificates (DCC)", no_args_is_help=True
)


UserOpt = Annotated[str | None, typer.Option("--user", help="以该账户身份操作 / act as this account")]


def _print_report(report: CheckReport) -> None:
    table = Table(title=f"证书核验 / certificate check · {escape(report.number or '?')}")
    for col in ("", "检查 / check", "代码 / code", "说明 / detail"):
        table.add_column(col)
    for s in report.steps:
        table.add_row("[green]✔[/green]" if s.ok else "[red]✘[/red]", s.name, s.code, escape(s.message))
    console.print(table)
    if report.valid:
        console.print("[bold green]证书真实有效 / genuine and valid[/bold green]")
    elif report.genuine:
        console.print(
            f"[bold yellow]证书真实，但{report.status} / genuine, but {report.status}[/bold yellow]"
        )
    else:
        console.print("[bold red]核验未通过 / verification FAILED[/bold red]")
    if report.index is not None:
        console.print(
            f"日志索引 / log index {report.index} · 树头 / tree head {report.tree_size} {report.root_hash}"
        )


def _exit_for(report: CheckReport) -> None:
    if report.valid:
        return
    raise typer.Exit(1 if report.genuine else 3)


def _load_roots(paths: list[Path]) -> list[x509.Certificate]:
    roots: list[x509.Certificate] = []
    for p in paths:
        roots.extend(x509.load_pem_x509_certificates(p.read_bytes()))
    return roots


@app.command("issue")
def issue(
    ctx: typer.Context,
    record: Annotated[int, typer.Option(help="检定记录编号 / verification record id")],
    number: Annotated[str | None, typer.Option(help="证书编号 / certificate number")] = None,
    supersedes: Annotated[str | None, typer.Option(help="替代的证书编号 / certificate it replaces")] = None,
    user: UserOpt = None,
) -> None:
    """为检定记录出具并签署数字证书 / issue and sign the DCC of a verification record."""
    with _errors():
        platform = _open(_state(ctx).settings)
        cert = certificates.issue(
            platform, _principal(platform, user), record, number=number, supersedes=supersedes
        )
        console.print(
            f"已出具 / issued {cert.number} · sha256 {cert.sha256} · 待记入日志 / queued for the log"
        )


@app.command("withdraw")
def withdraw(
    ctx: typer.Context,
    number: str,
    reason: Annotated[str, typer.Option(help="撤销原因 / reason")],
    user: UserOpt = None,
) -> None:
    """撤销证书 / withdraw a certificate (the withdrawal is logged)."""
    with _errors():
        platform = _open(_state(ctx).settings)
        cert = certificates.withdraw(platform, _principal(platform, user), number, reason)
        console.print(f"已撤销 / withdrawn {cert.number}: {escape(cert.status_reason)}")


@app.command("bundle")
def bundle(
    ctx: typer.Context,
    number: str,
    out_dir: Annotated[Path, typer.Option("--out-dir", help="输出目录 / output folder")] = Path("."),
) -> None:
    """导出离线核验材料 / write the proof bundle, the log's public key and the trusted roots."""
    with _errors():
        platform = _open(_state(ctx).settings)
        out_dir.mkdir(parents=True, exist_ok=True)
        data = certificates.bundle(platform, number)
        (out_dir / f"{number}.bundle.json").write_text(
            json.dumps(data, ensure_ascii=False, indent=1), "utf-8"
        )
        (out_dir / "log-key.txt").write_text(transparency.log_verifier_key(platform) + "\n", "utf-8")
        (out_dir / "roots.pem").write_bytes(signing_keys.roots_pem(platform))
        console.print(f"已写入 / wrote {out_dir}/{number}.bundle.json, log-key.txt, roots.pem")


@app.command("verify")
def verify(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="DCC XML 文件 / file")],
    bundle_file: Annotated[
        Path | None, typer.Option("--bundle", help="证明包：给出则离线核验 / proof bundle: check offline")
    ] = None,
    log_key: Annotated[Path | None, typer.Option(help="日志公钥文件 / the log's verifier key file")] = None,
    roots: Annotated[list[Path] | None, typer.Option(help="受信根证书 PEM / trusted roots (PEM)")] = None,
    checkpoint: Annotated[
        Path | None, typer.Option(help="自己保存的树头（缺省用证明包中的）/ a tree head you hold")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON / print JSON")] = False,
) -> None:
    """核验证书：模式、签名、出具机构、完整性、日志收录、撤销 / check a DCC end to end."""
    document = file.read_bytes()
    with _errors():
        if bundle_file is not None:
            if log_key is None or not roots:
                err.print(
                    "[red]离线核验需要 --log-key 和 --roots / offline checking needs --log-key and --roots[/red]"
                )
                raise typer.Exit(2)
            report = certificate_check.check_certificate(
                document,
                certificate_check.parse_bundle(bundle_file.read_bytes()),
                log_key=log_key.read_text("utf-8").strip(),
                trusted_roots=_load_roots(roots),
                tree_head=checkpoint.read_text("utf-8") if checkpoint else None,
            )
        else:
            platform = _open(_state(ctx).settings)
            report = certificates.verify_upload(platform, document).report
    if as_json:
        console.print_json(
            json.dumps(
                {
                    "genuine": report.genuine,
                    "valid": report.valid,
                    "number": report.number,
                    "status": report.status,
                    "index": report.index,
                    "tree_size": report.tree_size,
                    "root_hash": report.root_hash,
                    "steps": [s.__dict__ for s in report.steps],
                },
                ensure_ascii=False,
            )
        )
    else:
        _print_report(report)
    _exit_for(report)


@app.command("import")
def import_(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
    user: UserOpt = None,
) -> None:
    """登记外部出具的 DCC / register a DCC issued elsewhere (validated; signature checked)."""
    with _errors():
        platform = _open(_state(ctx).settings)
        cert = certificates.import_dcc(platform, _principal(platform, user), file.read_bytes())
        console.print(f"已登记 / registered {cert.number} ({cert.issuer_name}) DCC {cert.schema_version}")


@app.command("render")
def render(
    ctx: typer.Context,
    number: str,
    output: Annotated[Path, typer.Option("-o", "--output", help="输出文件 .html 或 .pdf / output file")],
    user: UserOpt = None,
) -> None:
    """生成可读版本（中文优先，含二维码）/ render as HTML or PDF (Chinese first, with the QR code)."""
    with _errors():
        platform = _open(_state(ctx).settings)
        fmt = "pdf" if output.suffix.lower() == ".pdf" else "html"
        output.write_bytes(certificates.render(platform, _principal(platform, user), number, fmt))
        console.print(f"已写入 / wrote {output}")
