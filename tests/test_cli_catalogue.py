"""`jiliang catalogue` (export, upload, diff, activate, versions) and the demo's named places, through
Typer's CliRunner against real SQLite files."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from jiliang.cli import app
from jiliang.services import public
from jiliang.services.platform import Platform
from jiliang.settings import Settings

runner = CliRunner()
ENV = {"JILIANG_ARGON2_MEMORY_KIB": "1024", "JILIANG_ARGON2_TIME_COST": "1", "COLUMNS": "200"}


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env=ENV)
    return result.exit_code, result.stdout, result.stderr


def test_an_office_exports_edits_uploads_compares_and_activates(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    assert run("--database-url", url, "init", "--admin-password", "a-long-password-1")[0] == 0
    table = tmp_path / "table.csv"
    code, out, err = run("--database-url", url, "catalogue", "export", "SAMR-2020-42", str(table))
    assert code == 0 and "66" in out, out + err
    text = table.read_text(encoding="utf-8-sig").replace(",periodic,6,", ",periodic,12,")
    table.write_text(text, encoding="utf-8")
    code, out, err = run("--database-url", url, "catalogue", "upload", str(table), "--version", "SAMR-2026-T")
    assert code == 0, out + err
    assert "62 目录项 items" in out and re.search(r"09\.01.*period_months.*6.*12", out)
    code, out, _ = run("--database-url", url, "catalogue", "activate", "SAMR-2026-T", "--from", "2000-01-01")
    assert code == 2
    code, out, err = run(
        "--database-url", url, "catalogue", "activate", "SAMR-2026-T", "--from", "2099-01-01"
    )
    assert code == 0 and "scheduled" in out, out + err
    code, out, _ = run("--database-url", url, "catalogue", "versions")
    assert "SAMR-2026-T" in out and "2099-01-01" in out and "in_force" in out
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "一级序号,一级目录,目录项代码,二级目录,监管方式,实施日期\n1,甲,01.01,甲一,V,2026-01-01\n",
        encoding="utf-8",
    )
    code, _, err = run("--database-url", url, "catalogue", "upload", str(bad), "--version", "BAD")
    assert code == 2 and "第 2 行 / row 2 · form" in err


def test_the_demo_prints_its_places_public_addresses(tmp_path: Path) -> None:
    path = tmp_path / "demo.db"
    result = runner.invoke(app, ["demo", "--no-serve", "--instruments", "800", "--db", str(path)], env=ENV)
    assert result.exit_code == 0, result.stdout + result.stderr
    codes = re.findall(r"http://127\.0\.0\.1:8000/public/places/(\d{6}-\d{4})", result.stdout)
    assert len(codes) == 3
    platform = Platform.open(Settings(database_url=f"sqlite:///{path}"))
    kinds = {public.place(platform, c).kind.value for c in codes}
    assert kinds == {"fuel_station", "market", "hospital"}
    assert all(public.place(platform, c).instruments.total >= 3 for c in codes)
    platform.close()
