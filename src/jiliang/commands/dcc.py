"""``jiliang dcc``: validate, show and render digital calibration certificates (files, no database)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from jiliang.errors import JiliangError
from jiliang.trust import dcc, dsi, rendering

app = typer.Typer(help="数字计量证书（DCC）/ digital calibration certificates", no_args_is_help=True)
console = Console()
err = Console(stderr=True)

FileArg = Annotated[Path, typer.Argument(help="DCC XML 文件 / DCC XML file", exists=True, dir_okay=False)]


@contextlib.contextmanager
def _refusals() -> Iterator[None]:
    try:
        yield
    except JiliangError as exc:
        err.print(f"[red]无效 / invalid: {escape(exc.message)}[/red]")
        raise typer.Exit(2) from None


def _read(path: Path) -> bytes:
    size = path.stat().st_size
    if size > dcc.MAX_BYTES:  # do not even read a file the parser would refuse
        raise dcc.DccInvalid(f"文件过大 / file too large: {size:,} bytes", field="xml")
    return path.read_bytes()


@app.command("validate")
def validate(file: FileArg) -> None:
    """按文件声明的版本校验 schema / validate against the schema release the file names."""
    with _refusals():
        version = dcc.validate(_read(file))
    console.print(f"有效 / valid: DCC {version}")


@app.command("show")
def show(
    file: FileArg,
    as_json: Annotated[bool, typer.Option("--json", help="输出 JSON / print JSON")] = False,
) -> None:
    """校验并显示证书内容 / validate and show what the certificate says."""
    with _refusals():
        content = dcc.content(dcc.parse(_read(file)))
    if as_json:
        console.print_json(json.dumps(content, ensure_ascii=False))
        return
    head = Table(
        title=escape(f"DCC {content['schema_version']} · {content['unique_identifier']}"), show_header=False
    )
    for label, key in (
        ("出具机构 / laboratory", "laboratory"),
        ("机构代码 / laboratory code", "laboratory_code"),
        ("委托方 / customer", "customer"),
        ("日期 / performance", "performance"),
        ("签发 / issued", "issue_date"),
        ("符合性 / conformity", "conformity"),
        ("签名 / signed", "signed"),
    ):
        value = content[key]
        shown = " – ".join(value) if isinstance(value, list) else "—" if value is None else str(value)
        head.add_row(label, escape(shown))
    for item in content["items"]:
        head.add_row(
            "器具 / item", escape(f"{item['name']} · {item['manufacturer']} · {item['model'] or ''}")
        )
        for name, value in item["identifications"].items():
            head.add_row(f"  {escape(name)}", escape(value))
    console.print(head)
    results = Table("结果 / result", "量 / quantity", "值 / value", "U (k, p)", "符合性 / conformity")
    for r in content["results"]:
        values = r["values"] or [{"value": r["text"] or "", "unit": "", "expanded_uncertainty": None}]
        for v in values:
            u = v.get("expanded_uncertainty")
            results.add_row(
                escape(r["result"]),
                escape(r["quantity"]),
                escape(f"{v['value']} {dsi.symbol(v['unit'])}".strip()),
                escape(f"{u} (k={v['coverage_factor']}, p={v['coverage_probability']})" if u else ""),
                escape(" ".join(r["conformity"])),
            )
        for rep in r["alternatives"]:  # si:hybrid: the same values in another unit
            results.add_row("", "  = " + escape(r["quantity"]), escape(_values(rep)), "", "")
        for m in r["meta"]:  # metaData: acceptance limits, calibration points, …
            results.add_row(
                "", "  ↳ " + escape(m["quantity"]), escape(_values(m["values"]) or m["text"] or ""), "", ""
            )
    console.print(results)
    if content["influence_conditions"]:
        conditions = Table("影响条件 / influence condition", "量 / quantity", "值 / value")
        for c in content["influence_conditions"]:
            for q in c["quantities"] or [{"quantity": "", "values": [], "text": None}]:
                conditions.add_row(
                    escape(c["condition"]),
                    escape(q["quantity"]),
                    escape(_values(q["values"]) or q["text"] or ""),
                )
        console.print(conditions)


def _values(values: list[dict[str, str]]) -> str:
    return " ".join(f"{v['value']} {dsi.symbol(v['unit'])}".strip() for v in values)


@app.command("render")
def render(
    file: FileArg,
    html: Annotated[Path | None, typer.Option("--html", help="写出 HTML / write HTML here")] = None,
    pdf: Annotated[Path | None, typer.Option("--pdf", help="写出 PDF / write PDF here")] = None,
    verify_url: Annotated[
        str, typer.Option(help="二维码指向的核验地址 / the verification page the QR code leads to")
    ] = "https://jiliang.example/verify",
) -> None:
    """生成可读的证书（中文在前）/ render a human-readable certificate (Chinese first)."""
    if html is None and pdf is None:
        err.print("[red]需要 --html 或 --pdf / give --html or --pdf[/red]")
        raise typer.Exit(2)
    with _refusals():
        cert = dcc.parse(_read(file))
    status = f"符合 DCC {cert.schema_version} schema（未查询登记状态）/ valid against the schema (registry status not checked)"
    summary = "含签名，本命令未核验 / carries a signature, not verified here" if cert.signed else None
    if html is not None:
        html.write_text(
            rendering.render_html(cert, verify_url=verify_url, status=status, signature_summary=summary),
            encoding="utf-8",
        )
        console.print(escape(f"HTML → {html}"))
    if pdf is not None:
        pdf.write_bytes(
            rendering.render_pdf(cert, verify_url=verify_url, status=status, signature_summary=summary)
        )
        console.print(escape(f"PDF → {pdf}"))
