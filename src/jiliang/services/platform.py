"""The composition root: settings, engine, sessions and clock, built once and passed down."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from jiliang.domain.access import SYSTEM, Principal
from jiliang.settings import Settings
from jiliang.store import audit
from jiliang.store.db import is_postgres, make_engine, session_factory
from jiliang.store.migrate import upgrade

# Set by the API middleware (and the CLI) so that every unit of work in a request shares its id.
request_id_var: ContextVar[str | None] = ContextVar("jiliang_request_id", default=None)


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

    @classmethod
    def open(
        cls,
        settings: Settings,
        *,
        migrate: bool = True,
        now: Callable[[], datetime] | None = None,
        **engine_kwargs: Any,
    ) -> Platform:
        engine = make_engine(settings.database_url, **engine_kwargs)
        if migrate:
            upgrade(engine)
        return cls(settings=settings, engine=engine, sessions=session_factory(engine), now=now or _utc_now)

    def today(self) -> date:
        return self.now().date()

    @property
    def postgres(self) -> bool:
        return is_postgres(self.engine)

    @contextlib.contextmanager
    def unit_of_work(self, principal: Principal = SYSTEM, request_id: str | None = None) -> Iterator[Session]:
        """One transaction, attributed to ``principal`` in the audit trail; commits only if the block ends."""
        rid = request_id or request_id_var.get() or uuid.uuid4().hex
        with audit.acting_as(principal.user_id, principal.username, rid), self.sessions() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise
        for callback in list(self.after_commit):
            callback()

    @contextlib.contextmanager
    def reading(self) -> Iterator[Session]:
        """A read-only session; closing (not rolling back) keeps loaded objects usable after the block."""
        with self.sessions() as session:
            yield session

    def close(self) -> None:
        self.engine.dispose()
