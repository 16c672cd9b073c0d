"""The composition root: settings, engine, sessions and clock, built once and passed down."""

from __future__ import annotations

import contextlib
import threading
import uuid
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session, sessionmaker

from jiliang.domain.access import SYSTEM, Principal
from jiliang.errors import Busy
from jiliang.settings import Settings
from jiliang.store import audit
from jiliang.store.db import IMMEDIATE, is_postgres, make_engine, session_factory
from jiliang.store.migrate import upgrade

# Set by the API middleware (and the CLI) so that every unit of work in a request shares its id.
request_id_var: ContextVar[str | None] = ContextVar("jiliang_request_id", default=None)
# The request id a client sent (X-Request-ID), kept apart in the audit trail: never used as the request id.
client_request_id_var: ContextVar[str] = ContextVar("jiliang_client_request_id", default="")


LOCAL_ZONE = ZoneInfo("Asia/Shanghai")  # the day as the platform's people name it (dates typed in forms)


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Platform:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    now: Callable[[], datetime] = _utc_now
    # Callbacks run after a unit of work commits (NetBox's event_tracking): never on rollback.
    after_commit: list[Callable[[], None]] = field(default_factory=list)
    # SQLite has one writer at a time. Writers of this process queue here (woken at once, in turn) rather
    # than in SQLite's busy handler, which polls with sleeps of up to 100 ms and lets a late arrival
    # overtake; other processes still wait in BEGIN IMMEDIATE's busy timeout.
    _write_gate: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _gate_held: threading.local = field(default_factory=threading.local, repr=False)

    @classmethod
    def open(
        cls,
        settings: Settings,
        *,
        migrate: bool = True,
        now: Callable[[], datetime] | None = None,
        **engine_kwargs: Any,
    ) -> Platform:
        engine = make_engine(settings.database_url, busy_timeout_s=settings.write_wait_s, **engine_kwargs)
        if migrate:
            upgrade(engine)
        return cls(settings=settings, engine=engine, sessions=session_factory(engine), now=now or _utc_now)

    def today(self) -> date:
        return self.now().date()

    @staticmethod
    def local_date(moment: datetime) -> date:
        """The day in Asia/Shanghai of a stored moment (naive values, as SQLite returns them, are UTC)."""
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(LOCAL_ZONE).date()

    def local_today(self) -> date:
        """Today in Asia/Shanghai: what a date field defaults to and the latest day a person may type as
        'today' (from 16:00 UTC it is one day ahead of ``today()``, the platform's UTC day)."""
        return self.local_date(self.now())

    @property
    def postgres(self) -> bool:
        return is_postgres(self.engine)

    @contextlib.contextmanager
    def unit_of_work(self, principal: Principal = SYSTEM, request_id: str | None = None) -> Iterator[Session]:
        """One transaction, attributed to ``principal`` in the audit trail; commits only if the block ends.

        On SQLite the transaction takes the write lock when it begins (BEGIN IMMEDIATE), after queueing for
        it behind this process's other writers; if it does not come within ``settings.write_wait_s`` the
        unit of work raises ``Busy`` (503 with Retry-After) having changed nothing.
        """
        rid = request_id or request_id_var.get() or uuid.uuid4().hex
        gated = not self.postgres
        if gated:
            if getattr(self._gate_held, "held", False):
                # The outer transaction holds SQLite's write lock: the inner one could only time out.
                raise RuntimeError("a unit of work inside another on the same thread would wait for itself")
            if not self._write_gate.acquire(timeout=self.settings.write_wait_s):
                raise _busy()
            self._gate_held.held = True
        try:
            with (
                audit.acting_as(principal.user_id, principal.username, rid, client_request_id_var.get()),
                self.sessions() as session,
            ):
                try:
                    if gated:
                        session.connection(execution_options={IMMEDIATE: True})
                    yield session
                    session.commit()
                except BaseException:
                    session.rollback()
                    raise
        except (sa_exc.OperationalError, sa_exc.TimeoutError) as exc:
            if _is_busy(exc):
                raise _busy() from exc
            raise
        finally:
            if gated:
                self._gate_held.held = False
                self._write_gate.release()
        for callback in list(self.after_commit):
            callback()

    @contextlib.contextmanager
    def reading(self) -> Iterator[Session]:
        """A read-only session; closing (not rolling back) keeps loaded objects usable after the block."""
        try:
            with self.sessions() as session:
                yield session
        except (sa_exc.OperationalError, sa_exc.TimeoutError) as exc:
            if _is_busy(exc):
                raise _busy() from exc
            raise

    def close(self) -> None:
        self.engine.dispose()


def _is_busy(exc: Exception) -> bool:
    """The pool had no connection in time, SQLite's lock did not come, or PostgreSQL gave up on a lock."""
    if isinstance(exc, sa_exc.TimeoutError):
        return True
    text = str(getattr(exc, "orig", exc)).lower()
    return "database is locked" in text or "database table is locked" in text or "lock timeout" in text


def _busy() -> Busy:
    return Busy(
        "数据库繁忙，未做任何更改，请稍后重试 / the database is busy: nothing was changed, try again shortly"
    )
