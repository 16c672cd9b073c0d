"""Issue 14: an insider with write access to the database, caught by the reconciliation audit.

Every test performs the attack with plain SQL on the real database (SQLite, and PostgreSQL with
JILIANG_TEST_POSTGRES_URL) after the log has sequenced and published its tree head, then runs
``services.reconciliation.reconcile`` (what ``jiliang log reconcile`` and the scheduled job run) and
requires the named finding and exit status. docs/threat-model.md has one row per test here.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from jiliang.cli import app as cli
from jiliang.services import certificates, log_publication, reconciliation, transparency
from jiliang.services.platform import Platform
from jiliang.store.models import Certificate, VerificationRecord
from tests.factories import World, authorise_all
from tests.signed_support import signed_record
from tests.test_registry import FUEL, file, verify

runner = CliRunner()


def _sql(platform: Platform, statement: str, **params: object) -> None:
    with platform.engine.begin() as conn:
        conn.execute(text(statement), params)


def _scalar(platform: Platform, statement: str, **params: object) -> object:
    with platform.engine.begin() as conn:
        return conn.execute(text(statement), params).scalar()


def _codes(platform: Platform) -> set[str]:
    return {f.code for f in reconciliation.reconcile(platform).findings}


class Log:
    """A small register: three records, two certificates (one withdrawn), sequenced and published."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.platform = world.platform
        authorise_all(world, [FUEL])
        self.records: list[VerificationRecord] = []
        for n in range(3):
            inst = file(world, f"R-{n}")
            make = signed_record if n < 2 else verify  # the third stays a bare record, never certified
            self.records.append(make(world, inst.id, "2026-05-20", doc=f"JD-R-{n}"))
        inst = self.world.as_("institution")
        self.cert = certificates.issue(self.platform, inst, self.records[0].id)
        self.withdrawn = certificates.issue(self.platform, inst, self.records[1].id)
        certificates.withdraw(self.platform, inst, self.withdrawn.number, "测试 / test")
        transparency.sequence_and_publish(self.platform)

    def leaf_index(self, kind: str, key: str, value: object) -> int:
        for e in transparency.read_entries(self.platform, 0, 1000):
            body = json.loads(e.body)
            if body["kind"] == kind and body[key] == value:
                return e.index
        raise AssertionError("no such leaf")


@pytest.fixture
def log(world: World) -> Log:
    return Log(world)


def test_untouched_register_reconciles(log: Log) -> None:
    report = reconciliation.reconcile(log.platform)
    assert report.findings == []
    assert report.exit_code == 0
    assert (report.records, report.certificates, report.leaves, report.published) == (3, 2, 6, 1)


def test_changed_conclusion_is_leaf_differs(log: Log) -> None:
    """The attack the witness cannot see: the record's conclusion edited in place."""
    rid = log.records[2].id
    _sql(log.platform, "UPDATE verification_records SET conclusion = 'fail' WHERE id = :id", id=rid)
    report = reconciliation.reconcile(log.platform)
    [finding] = report.findings
    assert finding.code == "leaf_differs" and finding.subject == f"verification record {rid}"
    assert "conclusion" in finding.message and "'fail'" in finding.message
    assert report.exit_code == reconciliation.EXIT_REGISTRY


def test_deleted_leaf_is_caught(log: Log) -> None:
    index = log.leaf_index("verification_recorded", "record_id", log.records[2].id)
    _sql(log.platform, "DELETE FROM log_leaves WHERE leaf_index = :i", i=index)
    codes = _codes(log.platform)
    assert {"index_gap", "checkpoint_beyond_log", "rollback", "leaf_missing"} <= codes
    assert reconciliation.reconcile(log.platform).exit_code == reconciliation.EXIT_LOG


def test_deleted_last_leaf_with_its_nodes_and_size_is_caught(log: Log) -> None:
    """A careful insider: the certificate's own leaf (the last one) and every trace of it in the tree."""
    size = transparency.current_size(log.platform)
    _sql(log.platform, "DELETE FROM log_leaves WHERE leaf_index = :i", i=size - 1)
    _sql(log.platform, "DELETE FROM log_nodes")  # a tree of size-1 leaves has other complete subtrees
    _sql(log.platform, "UPDATE log_state SET size = :n", n=size - 1)
    codes = _codes(log.platform)
    assert {"checkpoint_beyond_log", "rollback", "node_mismatch"} <= codes
    assert "leaf_missing" in codes or "status_mismatch" in codes


def test_rewritten_leaf_body_is_caught(log: Log) -> None:
    """Leaf bytes and leaf hash rewritten together, so the row is self-consistent."""
    from jiliang.trust import merkle

    index = log.leaf_index("verification_recorded", "record_id", log.records[2].id)
    body = _scalar(log.platform, "SELECT body FROM log_leaves WHERE leaf_index = :i", i=index)
    assert isinstance(body, bytes | memoryview)
    forged = bytes(body).replace(b'"conclusion":"pass"', b'"conclusion":"fail"')
    assert forged != bytes(body)
    _sql(
        log.platform,
        "UPDATE log_leaves SET body = :b, leaf_hash = :h WHERE leaf_index = :i",
        b=forged,
        h=merkle.leaf_hash(forged),
        i=index,
    )
    codes = _codes(log.platform)
    assert {"leaf_differs", "checkpoint_root_mismatch", "node_mismatch"} <= codes


def test_withdrawn_in_database_only_is_status_mismatch(log: Log) -> None:
    _sql(
        log.platform,
        "UPDATE certificates SET status = 'withdrawn', status_reason = 'x' WHERE number = :n",
        n=log.cert.number,
    )
    report = reconciliation.reconcile(log.platform)
    assert [(f.code, f.subject) for f in report.findings] == [
        ("status_mismatch", f"certificate {log.cert.number} (certificate_withdrawn)")
    ]
    assert report.exit_code == reconciliation.EXIT_REGISTRY


def test_withdrawal_undone_in_database_is_status_mismatch(log: Log) -> None:
    _sql(log.platform, "UPDATE certificates SET status = 'valid' WHERE number = :n", n=log.withdrawn.number)
    assert _codes(log.platform) == {"status_mismatch"}


def test_deleted_record_leaves_a_leaf_without_record(log: Log) -> None:
    rid = log.records[2].id
    _sql(log.platform, "DELETE FROM verification_records WHERE id = :id", id=rid)
    assert _codes(log.platform) == {"leaf_without_record"}


def test_record_inserted_without_leaf_is_leaf_missing(log: Log) -> None:
    r = log.records[2]
    _sql(
        log.platform,
        "INSERT INTO verification_records (instrument_id, institution_id, verified_on, conclusion, "
        "document_no, catalogue_version, regulation, superseded, remarks, recorded_at) SELECT instrument_id, "
        "institution_id, verified_on, conclusion, 'FORGED-1', catalogue_version, regulation, superseded, "
        "remarks, recorded_at "
        "FROM verification_records WHERE id = :id",
        id=r.id,
    )
    assert _codes(log.platform) == {"leaf_missing"}


def test_duplicated_leaf_is_caught(log: Log) -> None:
    body = _scalar(log.platform, "SELECT body FROM log_leaves WHERE leaf_index = 0")
    _sql(
        log.platform,
        "INSERT INTO log_queue (kind, body, created_at) VALUES ('verification_recorded', :b, :t)",
        b=bytes(body),  # type: ignore[arg-type]
        t=log.platform.now(),
    )
    assert _codes(log.platform) == {"leaf_duplicated"}


def test_forged_tree_head_row_is_caught(log: Log) -> None:
    note = str(_scalar(log.platform, "SELECT note FROM log_checkpoints ORDER BY id DESC LIMIT 1"))
    lines = note.split("\n")
    lines[1] = "5"
    _sql(
        log.platform,
        "INSERT INTO log_checkpoints (size, root_hash, note, created_at) VALUES (5, :r, :n, :t)",
        r=bytes(32),
        n="\n".join(lines),
        t=log.platform.now(),
    )
    assert {"checkpoint_signature_invalid"} <= _codes(log.platform)


def test_database_rollback_is_caught_by_the_published_heads(log: Log) -> None:
    """A restore of an older backup: a later record, its leaf and the head over it vanish from the
    database together and consistently; only the heads published outside the database still have it."""
    late = verify(log.world, file(log.world, "R-9").id, "2026-05-21", doc="JD-R-9")
    transparency.sequence_and_publish(log.platform)
    size = transparency.current_size(log.platform)
    assert size == 7  # leaf 6 completes no subtree: the backup's log_nodes are today's
    _sql(log.platform, "DELETE FROM log_checkpoints WHERE size = :n", n=size)
    _sql(log.platform, "DELETE FROM log_leaves WHERE leaf_index = :i", i=size - 1)
    _sql(log.platform, "UPDATE log_state SET size = :n", n=size - 1)
    _sql(log.platform, "DELETE FROM verification_records WHERE id = :id", id=late.id)
    report = reconciliation.reconcile(log.platform)
    assert {f.code for f in report.findings} == {"rollback", "published_checkpoint_missing"}
    assert report.exit_code == reconciliation.EXIT_LOG


def test_published_file_is_appended_per_head(log: Log) -> None:
    folder = log_publication.folder(log.platform.settings)
    first = log_publication.read_published(folder)
    verify(log.world, file(log.world, "R-9").id, "2026-05-21", doc="JD-R-9")
    transparency.sequence_and_publish(log.platform)
    second = log_publication.read_published(folder)
    assert second[: len(first)] == first and len(second) == len(first) + 1
    assert (folder / log_publication.LATEST).read_text("utf-8") == second[-1].note
    assert reconciliation.reconcile(log.platform).findings == []


def test_reconcile_command_exit_codes(log: Log, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("JILIANG_DATABASE_URL", log.platform.settings.database_url)
    monkeypatch.setenv("JILIANG_DATA_DIR", str(log.platform.settings.data_dir))
    monkeypatch.setenv("JILIANG_ENVIRONMENT", "test")
    r = runner.invoke(cli, ["log", "reconcile"])
    assert r.exit_code == 0, r.output
    _sql(log.platform, "UPDATE certificates SET status = 'withdrawn' WHERE number = :n", n=log.cert.number)
    r = runner.invoke(cli, ["log", "reconcile", "--json"])
    assert r.exit_code == 4, r.output
    assert json.loads(r.stdout)["findings"][0]["code"] == "status_mismatch"
    _sql(log.platform, "DELETE FROM log_leaves WHERE leaf_index = 0")
    assert runner.invoke(cli, ["log", "reconcile"]).exit_code == 3
    assert reconciliation.reconcile_job(log.platform) == 3


def test_certificate_rows_are_counted(log: Log) -> None:
    with log.platform.reading() as s:
        assert s.query(Certificate).count() == 2


# --- issue 14 (3): "pending" only for what the next tree head will cover --------------------------------


def test_certificate_whose_leaf_was_deleted_is_tampered_not_pending(
    log: Log, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    index = log.leaf_index("certificate_issued", "number", log.cert.number)
    _sql(log.platform, "DELETE FROM log_leaves WHERE leaf_index = :i", i=index)
    status = certificates.public_status(log.platform, log.cert.number)
    assert not status.pending
    assert status.check is not None and not status.check.genuine
    assert [s.code for s in status.check.steps if not s.ok] == ["missing_from_log"]
    with log.platform.reading() as s:
        document = s.get(Certificate, log.cert.id).document  # type: ignore[union-attr]
    upload = certificates.verify_upload(log.platform, document)
    assert upload.report.steps[-1].code == "missing_from_log" and not upload.report.genuine
    with pytest.raises(certificates.MissingFromLog):
        certificates.bundle(log.platform, log.cert.number)
    monkeypatch.setenv("JILIANG_DATABASE_URL", log.platform.settings.database_url)
    monkeypatch.setenv("JILIANG_ENVIRONMENT", "test")
    r = runner.invoke(cli, ["certificate", "bundle", log.cert.number, "--out-dir", str(tmp_path)])
    assert r.exit_code == 3 and "TAMPERED" in r.output
    (tmp_path / "c.xml").write_bytes(document)
    assert runner.invoke(cli, ["certificate", "verify", str(tmp_path / "c.xml")]).exit_code == 3


def test_certificate_after_the_latest_head_is_pending(log: Log) -> None:
    record = signed_record(log.world, file(log.world, "R-8").id, "2026-05-21", doc="JD-R-8")
    late = certificates.issue(log.platform, log.world.as_("institution"), record.id)
    assert certificates.public_status(log.platform, late.number).pending  # queued
    transparency.sequence_pending(log.platform)  # sequenced, but no tree head over it yet
    status = certificates.public_status(log.platform, late.number)
    assert status.pending and status.check is None
    with pytest.raises(certificates.NotLogged):
        certificates.bundle(log.platform, late.number)


def test_the_server_reconciles_on_a_schedule_and_logs_each_finding(
    log: Log, caplog: pytest.LogCaptureFixture
) -> None:
    """`jiliang serve` runs the audit every reconcile_every_minutes; a finding reaches its log at ERROR."""
    rid = log.records[2].id
    _sql(log.platform, "UPDATE verification_records SET conclusion = 'fail' WHERE id = :id", id=rid)
    with caplog.at_level(logging.INFO, logger="jiliang.services.reconciliation"):
        timer = reconciliation.ReconcileTimer(log.platform, 0.05).start()
        try:
            for _ in range(400):  # bounded wait for the first round, not a timing assertion
                if any("exit status" in r.getMessage() for r in caplog.records):
                    break
                time.sleep(0.05)
        finally:
            timer.stop()
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert any("leaf_differs" in m and f"verification record {rid}" in m for m in errors)
    assert any(f"exit status {reconciliation.EXIT_REGISTRY}" in r.getMessage() for r in caplog.records)
