"""What both importers share: the report, bulk writes per backend, the write-behind thread, the audit entry.

Rows go into the database through SQLAlchemy Core on the unit of work's own connection (PostgreSQL:
COPY through psycopg; SQLite: executemany), so the whole import is one transaction that a refusal rolls
back entirely. Core bypasses the ORM audit listener, hence the one explicit audit entry per import.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import date
from types import TracebackType
from typing import Any

from sqlalchemy import Column, Table, func, insert, select
from sqlalchemy.orm import Session

from jiliang.store import audit
from jiliang.store.models import AuditEntry


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What an accepted import did; ``audit_id`` names its entry in the audit trail."""

    kind: str
    rows_read: int
    rows_written: int
    sha256: str
    audit_id: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Bulk:
    """Many rows into one table on the session's connection, the fastest way each database offers."""

    def __init__(self, session: Session) -> None:
        self.connection = session.connection()
        self.postgres = self.connection.dialect.name == "postgresql"

    def write(self, table: Table, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
        if not rows:
            return
        names = ", ".join(columns)
        if self.postgres:
            driver = self.connection.connection.driver_connection
            with driver.cursor() as cur, cur.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:  # type: ignore[union-attr]
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" * len(columns))
            self.connection.exec_driver_sql(
                f"INSERT INTO {table.name} ({names}) VALUES ({marks})",
                [tuple(_sqlite_value(v) for v in row) for row in rows],
            )

    def create(self, table: Table) -> None:
        table.create(self.connection)

    def drop(self, table: Table) -> None:
        table.drop(self.connection)

    def max_id(self, column: Column[Any]) -> int:
        return int(self.connection.execute(select(func.coalesce(func.max(column), 0))).scalar_one())


def _sqlite_value(value: Any) -> Any:
    # SQLAlchemy keeps dates in SQLite as ISO text; rows written past it must use the same form.
    return value.isoformat() if isinstance(value, date) else value


class WriteBehind:
    """Runs ``write`` on chunks in one background thread while the caller reads and validates the next.

    The database works (in its own process) while Python parses: on two cores this overlap is most of
    the import's speed. At most ``depth`` chunks wait, so memory stays bounded whatever the file size.
    The session is used by this thread only until ``close``; the caller touches it again only after.
    """

    _DONE = object()

    def __init__(self, write: Callable[[Any], None], depth: int = 2) -> None:
        self._write = write
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="jiliang-import-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is self._DONE:
                return
            if self._error is None:
                try:
                    self._write(item)
                except BaseException as exc:  # re-raised in the caller's thread
                    self._error = exc

    def submit(self, chunk: Any) -> None:
        self._raise()
        self._queue.put(chunk)

    def close(self) -> None:
        self._queue.put(self._DONE)
        self._thread.join()
        self._raise()

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error

    def __enter__(self) -> WriteBehind:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self._queue.put(self._DONE)
            self._thread.join()


def write_audit(
    session: Session,
    object_type: str,
    *,
    count: int,
    sha256: str,
    first_id: int | None,
    last_id: int | None,
    fmt: str,
    rows_read: int,
    summary: str,
) -> int:
    row = audit.entry(
        "import",
        object_type,
        f"{first_id}-{last_id}" if first_id is not None else "",
        summary=summary,
        after={
            "count": count,
            "sha256": sha256,
            "first_id": first_id,
            "last_id": last_id,
            "format": fmt,
            "rows_read": rows_read,
        },
    )
    return int(session.execute(insert(AuditEntry).values(**row).returning(AuditEntry.id)).scalar_one())


def id_range(session: Session, column: Column[Any], after: int) -> tuple[int | None, int | None]:
    lo, hi = session.execute(select(func.min(column), func.max(column)).where(column > after)).one()
    return lo, hi
