"""The command line, driven through Typer's CliRunner against real SQLite files."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from jiliang.cli import app
from jiliang.domain.access import SYSTEM
from jiliang.legal.coverage import Indicator
from jiliang.services import indicators, users
from jiliang.services.platform import Platform
from jiliang.settings import Settings
from jiliang.store.models import AuditEntry

runner = CliRunner()
ENV = {"JILIANG_ARGON2_MEMORY_KIB": "1024", "JILIANG_ARGON2_TIME_COST": "1", "COLUMNS": "200"}


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env=ENV)
    return result.exit_code, result.stdout, result.stderr


def open_platform(url: str) -> Platform:
    return Platform.open(Settings(database_url=url, argon2_memory_kib=1024, argon2_time_cost=1))


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("cli") / "demo.db"
    # An 80-column terminal and generated passwords: each must be printed whole (issue 10).
    result = runner.invoke(
        app, ["demo", "--no-serve", "--instruments", "1500", "--db", str(path)], env={**ENV, "COLUMNS": "80"}
    )
    code, out, err = result.exit_code, result.stdout, result.stderr
    assert code == 0, out + err
    assert "演示市已建成 / demo city built" in out and "fuel-station" in out
    saved = path.with_name("demo.accounts.txt")
    assert saved.stat().st_mode & 0o777 == 0o600
    text = saved.read_text(encoding="utf-8")
    printed = re.findall(r"密码 / password: +(\S+)", out)
    # 9 accounts, the complaint officer (demo/market.py), energy-unit (demo/energy.py), and the institute's
    # checker and approver (the sign-off needs three people)
    assert len(printed) == 13 and printed == re.findall(r"密码 / password: +(\S+)", text)
    platform = open_platform(f"sqlite:///{path}")
    for username, password in zip(re.findall(r"用户名 / username: (\S+)", out), printed, strict=True):
        assert users.login(platform, username, password)[1].username == username
    platform.close()
    return f"sqlite:///{path}"


def test_init_creates_the_database_and_an_administrator(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    code, out, _ = run("--database-url", url, "init", "--admin-password", "a-long-password-1")
    assert code == 0 and "SAMR-2020-42" in out
    platform = open_platform(url)
    _, principal = users.login(platform, "admin", "a-long-password-1")
    assert principal.role == "administrator"
    code, out, _ = run("--database-url", url, "init")
    assert code == 0 and "已存在" in out  # a second init changes nothing


def test_init_generates_and_prints_a_password_when_none_is_given(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'gen.db'}"
    code, out, _ = run("--database-url", url, "init", "--admin", "root")
    assert code == 0
    password = re.search(r"generated password: (\S+)", out)
    assert password is not None
    users.login(open_platform(url), "root", password.group(1))


def test_demo_reuses_an_existing_city(demo_db: str) -> None:  # and says where its passwords are
    code, out, _ = run("demo", "--no-serve", "--db", demo_db)
    assert code == 0 and "reusing" in out and "演示市" in out
    assert "demo.accounts.txt" in out


def test_report_coverage_as_json_matches_the_service(demo_db: str) -> None:
    code, out, _ = run(
        "--database-url", demo_db, "report", "coverage", "--region", "339900", "--format", "json"
    )
    assert code == 0
    rows = json.loads(out)
    rep = indicators.report(open_platform(demo_db), SYSTEM, region="339900", by_item=False)
    cov = rep.get(Indicator.VERIFICATION_COVERAGE, "339900")
    row = next(r for r in rows if r["indicator"] == "verification_coverage" and r["region_code"] == "339900")
    assert cov and (row["numerator"], row["denominator"], row["target"]) == (
        cov.numerator,
        cov.denominator,
        0.92,
    )


def test_report_coverage_table_and_csv(demo_db: str) -> None:
    code, out, _ = run("--database-url", demo_db, "report", "coverage", "--region", "339922", "--by-item")
    assert code == 0 and "北岭县" in out and "09.01" in out
    code, out, _ = run("--database-url", demo_db, "report", "coverage", "--format", "csv", "--user", "city")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert {r["region_code"] for r in rows} >= {"339900", "339902", "339981"}


def test_a_user_sees_only_their_jurisdiction(demo_db: str) -> None:
    code, _, err = run(
        "--database-url", demo_db, "report", "coverage", "--region", "330000", "--user", "county"
    )
    assert code == 2 and "region" in err and "not found" in err


def test_bad_input_names_the_field(demo_db: str) -> None:
    code, _, err = run("--database-url", demo_db, "report", "coverage", "--region", "12")
    assert code == 2 and "[region_code]" in err
    code, _, err = run("--database-url", demo_db, "report", "coverage", "--user", "nobody")
    assert code == 2 and "[user]" in err


def test_snapshot_and_reminders(demo_db: str) -> None:
    code, out, _ = run("--database-url", demo_db, "report", "snapshot")
    assert code == 0 and "stored" in out
    code, out, _ = run("--database-url", demo_db, "reminders", "send")
    assert code == 0 and "queued 0" in out  # the demo registers no webhooks
    platform = open_platform(demo_db)
    with platform.reading() as s:
        actors = set(s.scalars(select(AuditEntry.request_id).where(AuditEntry.actor_name == "system")))
    assert any(r.startswith("cli-") for r in actors)  # the CLI's changes carry its request id


def test_export_and_import_round_trip(demo_db: str, tmp_path: Path) -> None:
    transfer = pytest.importorskip("jiliang.services.transfer")
    if not hasattr(transfer, "export_instruments"):
        pytest.skip("jiliang.services.transfer has no export yet")
    out_file = tmp_path / "instruments.csv"
    code, out, err = run(
        "--database-url",
        demo_db,
        "export",
        "instruments",
        str(out_file),
        "--region",
        "339922",
        "--user",
        "city",
    )
    assert code == 0, out + err
    lines = out_file.read_text(encoding="utf-8-sig").splitlines()
    assert len(lines) > 10
    # importing the same instruments again is refused whole: they are already filed
    code, out, err = run("--database-url", demo_db, "import", "instruments", str(out_file), "--user", "city")
    assert code == 2 and "nothing was written" in err


def test_reminder_sender_delivers_to_a_real_receiver_once(demo_db: str) -> None:
    """A long-running sender (`--every`) posts each due reminder once to a real HTTP receiver."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from jiliang.services import reminders, users

    bodies: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            bodies.append(self.rfile.read(int(self.headers["content-length"])))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        platform = open_platform(demo_db)
        owner = users.principal_by_username(platform, "fuel-station")
        due = reminders.due_list(platform, owner, within_days=60, limit=1000).total
        assert due > 0
        reminders.add_webhook(platform, owner, url=f"http://127.0.0.1:{server.server_port}/hook")
        code, out, _ = run(
            "--database-url",
            demo_db,
            "reminders",
            "send",
            "--within-days",
            "60",
            "--every",
            "0.01",
            "--passes",
            "2",
        )
    finally:
        server.shutdown()
    assert code == 0, out
    assert f"queued {due:,}; 已送达 / delivered {due:,}" in out
    assert "queued 0; 已送达 / delivered 0" in out  # the second pass finds nothing new
    assert len(bodies) == due
