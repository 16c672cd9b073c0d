"""Engines and sessions for SQLite (embedded default, WAL) and PostgreSQL (production)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

# Execution option set by ``Platform.unit_of_work`` on SQLite: begin with BEGIN IMMEDIATE (take the write lock
# now, waiting up to the busy timeout) rather than a deferred BEGIN that fails at its first write.
IMMEDIATE = "jiliang_begin_immediate"


def make_engine(url: str, *, busy_timeout_s: float = 30.0, **kwargs: Any) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        connect_args = {"check_same_thread": False, "timeout": busy_timeout_s}
        if parsed.database and parsed.database != ":memory:":
            kwargs.setdefault("pool_timeout", busy_timeout_s)
        engine = create_engine(url, connect_args=connect_args, **kwargs)
        event.listen(
            engine, "connect", functools.partial(_sqlite_pragmas, busy_ms=int(busy_timeout_s * 1000))
        )
        # pysqlite's own transaction handling defers BEGIN; emit it ourselves so that reads in one session
        # see one snapshot (SQLAlchemy docs, "Serializable isolation / Savepoints / Transactional DDL").
        # A deferred transaction that later writes cannot wait for the write lock (SQLite answers
        # SQLITE_BUSY at once rather than risk a deadlock), so a unit of work that may write asks for
        # BEGIN IMMEDIATE, which waits up to the busy timeout for the lock and then holds it.
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if parsed.drivername == "postgresql":
        url = str(parsed.set(drivername="postgresql+psycopg"))
    kwargs.setdefault("pool_timeout", busy_timeout_s)
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _sqlite_begin(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(IMMEDIATE) else "BEGIN")


def _sqlite_pragmas(dbapi_conn: Any, record: Any, *, busy_ms: int) -> None:
    dbapi_conn.isolation_level = None  # let the "begin" listener issue BEGIN
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={busy_ms}")
    cur.execute("PRAGMA cache_size=-65536")
    cur.execute("PRAGMA temp_store=MEMORY")
    cur.close()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def is_postgres(engine_or_session: Engine | Session) -> bool:
    bind = engine_or_session.get_bind() if isinstance(engine_or_session, Session) else engine_or_session
    return bind.dialect.name == "postgresql"
