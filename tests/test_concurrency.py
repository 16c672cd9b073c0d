"""Many writers at once (issue 16): on the embedded SQLite every unit of work takes the write lock up front
and queues for it, so concurrent filings, verifications and sign-ins all succeed; when the lock does not
come within the bound the answer is ``Busy`` (503 with Retry-After), never a 500."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from jiliang.api.app import create_app
from jiliang.domain.access import SYSTEM
from jiliang.errors import Busy
from jiliang.services import instruments, organisations, users, verifications
from jiliang.services.platform import Platform
from jiliang.settings import Settings
from jiliang.store.models import Instrument, Region, VerificationRecord
from tests.conftest import CHEAP_HASH
from tests.factories import PASSWORD, World, authorise_all, instrument_raw

FUEL = "09.01"
THREADS, ROUNDS = 12, 6


def _run_all(work: list[Any]) -> list[BaseException]:
    errors: list[BaseException] = []
    start = threading.Barrier(len(work))

    def run(fn: Any) -> None:
        start.wait()
        try:
            fn()
        except BaseException as exc:  # collected and reported by the test
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(fn,)) for fn in work]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def test_twelve_threads_filing_verifying_and_signing_in_at_once_get_no_errors(world: World) -> None:
    """The attack of issue 16: 20 clients filing and verifying on SQLite got 2,256 × 500 'database is locked'."""
    platform = world.platform
    authorise_all(world, [FUEL])

    def writer(n: int) -> Any:
        def go() -> None:
            for r in range(ROUNDS):
                inst = instruments.file_instrument(
                    platform, world.as_("enterprise"), instrument_raw(f"C-{n}-{r}", item_code=FUEL)
                )
                verifications.record_verification(
                    platform,
                    world.as_("institution"),
                    {
                        "instrument_id": inst.id,
                        "verified_on": "2026-05-01",
                        "conclusion": "pass",
                        "document_no": f"JD-C-{n}-{r}",
                    },
                )
                users.login(platform, "enterprise", PASSWORD)

        return go

    errors = _run_all([writer(n) for n in range(THREADS)])
    assert errors == []
    with platform.reading() as s:
        assert s.scalar(select(func.count()).select_from(Instrument)) == THREADS * ROUNDS
        assert s.scalar(select(func.count()).select_from(VerificationRecord)) == THREADS * ROUNDS


def test_a_unit_of_work_that_reads_then_writes_waits_for_another_writer(platform: Platform) -> None:
    """A deferred transaction that reads, then writes while another holds the lock, failed at once."""
    organisations.add_region(platform, SYSTEM, "330000", "浙江省")
    inside, release = threading.Event(), threading.Event()

    def holder() -> None:
        with platform.unit_of_work() as s:
            s.add(Region(code="339900", name_zh="演示市", name_en="", level="city", parent_code="330000"))
            s.flush()
            inside.set()
            release.wait(5)

    t = threading.Thread(target=holder)
    t.start()
    inside.wait(5)
    threading.Timer(0.3, release.set).start()
    organisations.add_region(platform, SYSTEM, "339800", "邻市")  # waits for the holder, then writes
    t.join()
    with platform.reading() as s:
        assert s.get(Region, "339900") is not None and s.get(Region, "339800") is not None


def _locked_platform(tmp_path: Path) -> tuple[Platform, sqlite3.Connection]:
    """A platform whose database another process-like connection holds the write lock of."""
    url = f"sqlite:///{tmp_path / 'busy.db'}"
    platform = Platform.open(Settings(database_url=url, environment="test", write_wait_s=0.2, **CHEAP_HASH))
    organisations.ensure_national(platform)
    users.create_user(
        platform, SYSTEM, username="admin", password=PASSWORD, role="administrator", jurisdiction="000000"
    )
    other = sqlite3.connect(tmp_path / "busy.db", isolation_level=None, timeout=0)
    other.execute("BEGIN IMMEDIATE")
    return platform, other


def test_a_write_that_cannot_get_the_lock_in_time_is_busy_not_a_crash(tmp_path: Path) -> None:
    platform, other = _locked_platform(tmp_path)
    try:
        with pytest.raises(Busy):
            organisations.add_region(platform, SYSTEM, "330000", "浙江省")
    finally:
        other.rollback()
        other.close()
    organisations.add_region(platform, SYSTEM, "330000", "浙江省")  # the lock is free again: it works
    platform.close()


def test_the_api_answers_503_with_retry_after_when_the_database_is_busy(tmp_path: Path) -> None:
    platform, other = _locked_platform(tmp_path)
    try:
        with TestClient(create_app(platform)) as client:
            r = client.post("/api/v1/auth/login", json={"username": "admin", "password": PASSWORD})
    finally:
        other.rollback()
        other.close()
        platform.close()
    assert r.status_code == 503, r.text
    assert r.headers["retry-after"].isdigit()
    assert r.json()["error"]["code"] == "busy"


def test_a_unit_of_work_inside_another_on_one_thread_is_refused_at_once(platform: Platform) -> None:
    if platform.postgres:
        pytest.skip("PostgreSQL has row locks; nesting is the caller's business there")
    with platform.unit_of_work(), pytest.raises(RuntimeError), platform.unit_of_work():
        pass
