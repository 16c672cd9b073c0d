"""What both importers share: the report, bulk writes per backend, the write-behind thread, the audit entry.

Rows go into the database through SQLAlchemy Core on the unit of work's own connection (PostgreSQL:
COPY through psycopg; SQLite: executemany), so the whole import is one transaction that a refusal rolls
back entirely. Core bypasses the ORM audit listener, hence the one explicit audit entry per import.
"""

from __future__ import annotations

import contextlib
import gc
import queue
import threading
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import date
from types import TracebackType
from typing import Any, BinaryIO, Protocol

from sqlalchemy import BigInteger, Date, DateTime, Integer, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from jiliang.domain.access import Principal
from jiliang.services.platform import Platform
from jiliang.services.transfer import columnwise, worker
from jiliang.services.transfer.reading import Format, Problems, Sheet, open_sheet
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
    """Many rows into one table on the session's connection, the fastest way each database offers.

    Ids are known for every row written (PostgreSQL: drawn from the table's sequence beforehand; SQLite:
    the contiguous rowids of one ``executemany`` under the transaction's write lock), so that a later
    clash can be traced back to the row of the file that wrote it.
    """

    def __init__(self, session: Session) -> None:
        self.connection = session.connection()
        self.postgres = self.connection.dialect.name == "postgresql"
        self._oids: dict[tuple[str, str], list[int]] = {}
        self._sequences: dict[str, str] = {}

    def _draw_ids(self, table: Any, n: int) -> Sequence[int]:
        """``n`` ids from the table's sequence, in ascending order.

        Drawn one by one as any insert would draw them (so concurrent filings stay safe), but sent back
        as a range when they are contiguous, the usual case: fetching 20,000 ids as rows cost the
        writer thread 2.6 µs per row, time in which PostgreSQL had nothing to do.
        """
        sequence = self._sequences.get(table.name)
        if sequence is None:
            # Looked up once: inside the query below it would be evaluated per row (2 µs each).
            sequence = self._sequences[table.name] = self.connection.exec_driver_sql(
                f"SELECT pg_get_serial_sequence('{table.name}', 'id')"
            ).scalar_one()
        first, last, listed = self.connection.exec_driver_sql(
            f"WITH drawn AS (SELECT nextval('{sequence}'::regclass) AS v FROM generate_series(1, {n})) "
            f"SELECT min(v), max(v), CASE WHEN max(v) - min(v) + 1 = {n} THEN NULL "
            "ELSE array_agg(v ORDER BY v) END FROM drawn"
        ).one()
        return range(first, last + 1) if listed is None else [int(v) for v in listed]

    def insert(
        self, table: Any, columns: Sequence[str], rows: Sequence[tuple[Any, ...]], *, guarded: bool = False
    ) -> Sequence[int]:
        """Write ``rows`` (without their id) and return the ids they were given, in order.

        ``guarded``: inside a savepoint, so that a unique-key clash undoes just these rows and raises
        ``UniqueClash`` (the caller then finds the clashing rows) instead of aborting the transaction.
        """
        if not rows:
            return ()
        if guarded:
            self.connection.exec_driver_sql("SAVEPOINT jiliang_import_chunk")
        try:
            ids = self._insert(table, columns, rows)
        except Exception as exc:
            if guarded and _unique_violation(exc):
                self.connection.exec_driver_sql("ROLLBACK TO SAVEPOINT jiliang_import_chunk")
                raise UniqueClash from exc
            raise
        if guarded:
            self.connection.exec_driver_sql("RELEASE SAVEPOINT jiliang_import_chunk")
        return ids

    def _insert(self, table: Any, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> Sequence[int]:
        if self.postgres:
            ids = self._draw_ids(table, len(rows))
            names = ", ".join(["id", *columns])
            self._copy(table.name, names, ((id_, *row) for id_, row in zip(ids, rows, strict=True)))
            return ids
        names = ", ".join(columns)
        marks = ", ".join("?" * len(columns))

        def insert() -> range:
            self.connection.exec_driver_sql(
                f"INSERT INTO {table.name} ({names}) VALUES ({marks})",
                _sqlite_rows(table, columns, rows),
            )
            last = int(self.connection.exec_driver_sql("SELECT last_insert_rowid()").scalar_one())
            return range(last - len(rows) + 1, last + 1)

        if table.name == "instruments":  # the tallies of migration 0017, in one grouped step
            from jiliang.services.tallies import sqlite_insert_instruments

            return sqlite_insert_instruments(self.connection, insert)
        return insert()

    def append(self, table_name: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
        """Rows whose ids nobody needs back (the log queue): COPY on PostgreSQL, executemany on SQLite."""
        if not rows:
            return
        names = ", ".join(columns)
        if self.postgres:
            self._copy(table_name, names, rows)
        else:
            marks = ", ".join("?" * len(columns))
            self.connection.exec_driver_sql(
                f"INSERT INTO {table_name} ({names}) VALUES ({marks})", list(rows)
            )

    def _copy(self, table_name: str, names: str, rows: Iterable[tuple[Any, ...]]) -> None:
        """Binary COPY: PostgreSQL then parses no dates or numbers from text, a fifth of its work here."""
        driver: Any = self.connection.connection.driver_connection
        with driver.cursor() as cur:
            oids = self._oids.get((table_name, names))
            if oids is None:
                cur.execute(f"SELECT {names} FROM {table_name} LIMIT 0")
                # the columns' own types, as the server has them
                oids = self._oids[table_name, names] = [d.type_code for d in cur.description]
            with cur.copy(f"COPY {table_name} ({names}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(oids)
                write_row = copy.write_row
                for row in rows:
                    write_row(row)

    def existing(
        self, table: Any, columns: Sequence[str], keys: Sequence[tuple[Any, ...]]
    ) -> dict[tuple[Any, ...], int]:
        """The id of each key (a unique combination of ``columns``) already in ``table``."""
        found = self.lookup(table, columns, keys, ("id",))
        return {k: int(v[0]) for k, v in found.items()}

    def lookup(
        self,
        table: Any,
        columns: Sequence[str],
        keys: Sequence[tuple[Any, ...]],
        values: Sequence[str],
    ) -> dict[tuple[Any, ...], tuple[Any, ...]]:
        """``values`` of the row of ``table`` for each key (a unique combination of ``columns``), in one join.

        PostgreSQL joins the keys passed as arrays (``unnest``); SQLite joins a temporary key table.
        Either way the table's unique index answers each key, whatever the size of the registry.
        """
        if not keys:
            return {}
        n = len(columns)
        on = " AND ".join(f"t.{c} = k.c{i}" for i, c in enumerate(columns))
        picked = ", ".join([*(f"t.{c}" for c in columns), *(f"t.{v}" for v in values)])
        names = ", ".join(f"c{i}" for i in range(n))
        if self.postgres:
            kinds = [_pg_array_type(table.c[c]) for c in columns]
            arrays = ", ".join(f"%(c{i})s::{kinds[i]}" for i in range(n))
            params = {f"c{i}": [k[i] for k in keys] for i in range(n)}
            sql = f"SELECT {picked} FROM unnest({arrays}) AS k({names}) JOIN {table.name} t ON {on}"
            rows = self.connection.exec_driver_sql(sql, params).fetchall()  # not a fetch per row
        else:
            table_name = f"import_keys_{n}"
            self.connection.exec_driver_sql(f"CREATE TEMP TABLE IF NOT EXISTS {table_name} ({names})")
            self.connection.exec_driver_sql(f"DELETE FROM {table_name}")
            marks = ", ".join("?" * n)
            self.connection.exec_driver_sql(f"INSERT INTO {table_name} VALUES ({marks})", list(keys))
            rows = self.connection.exec_driver_sql(
                f"SELECT {picked} FROM {table_name} k JOIN {table.name} t ON {on}"
            ).fetchall()
            # Raw SQLite rows hold dates as ISO text: convert them as SQLAlchemy would have.
            dates = [i for i, v in enumerate(values) if isinstance(table.c[v].type, Date)]
            if dates:
                return {tuple(r[:n]): _with_dates(tuple(r[n:]), dates) for r in rows}
        return {tuple(r[:n]): tuple(r[n:]) for r in rows}

    def update(self, table: Any, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
        """Set ``columns`` of the rows whose id is each tuple's first value (PostgreSQL: binary COPY into a
        staging table, then one UPDATE … FROM; SQLite: executemany)."""
        if not rows:
            return
        sets = ", ".join(f"{c} = u.{c}" for c in columns)
        if self.postgres:
            cols = ", ".join(["id", *columns])
            staging = f"import_updates_{table.name}"
            self.connection.exec_driver_sql(
                f"CREATE TEMP TABLE IF NOT EXISTS {staging} "
                f"ON COMMIT DROP AS SELECT {cols} FROM {table.name} WITH NO DATA"
            )
            self._copy(staging, cols, rows)
            # One primary-key probe per staged row: left to itself the planner hashes the whole table
            # (a million instruments, freshly loaded) on every chunk to update a few thousand of them.
            self.connection.exec_driver_sql("SET LOCAL enable_hashjoin = off")
            self.connection.exec_driver_sql("SET LOCAL enable_mergejoin = off")
            self.connection.exec_driver_sql(
                f"UPDATE {table.name} SET {sets} FROM {staging} u WHERE {table.name}.id = u.id"
            )
            self.connection.exec_driver_sql("RESET enable_hashjoin")
            self.connection.exec_driver_sql("RESET enable_mergejoin")
            self.connection.exec_driver_sql(f"TRUNCATE {staging}")
            return
        assignments = ", ".join(f"{c} = ?" for c in columns)

        def update() -> None:
            self.connection.exec_driver_sql(
                f"UPDATE {table.name} SET {assignments} WHERE id = ?",
                _sqlite_rows(table, (*columns, "id"), [(*row[1:], row[0]) for row in rows]),
            )

        if table.name == "instruments" and "filed_on" not in columns:  # the tallies, grouped
            from jiliang.services.tallies import sqlite_update_instruments

            sqlite_update_instruments(self.connection, [row[0] for row in rows], update)
        else:
            update()

    def max_id(self, column: Any) -> int:
        return int(self.connection.execute(select(func.coalesce(func.max(column), 0))).scalar_one())


class UniqueClash(Exception):
    """A chunk clashed with a unique key and was undone; which rows clashed is for the caller to find."""


def _unique_violation(exc: BaseException) -> bool:
    if isinstance(exc, IntegrityError):
        return "UNIQUE" in str(exc.orig) or getattr(exc.orig, "sqlstate", None) == "23505"
    return getattr(exc, "sqlstate", None) == "23505"  # psycopg's UniqueViolation, raised by COPY


def _with_dates(values: tuple[Any, ...], positions: list[int]) -> tuple[Any, ...]:
    out = list(values)
    for i in positions:
        if isinstance(out[i], str):
            out[i] = date.fromisoformat(out[i])
    return tuple(out)


def _pg_array_type(column: Any) -> str:
    return "bigint[]" if isinstance(column.type, Integer | BigInteger) else "text[]"


def _sqlite_rows(
    table: Any, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> list[tuple[Any, ...]]:
    """SQLAlchemy keeps dates in SQLite as ISO text; rows written past it must use the same form.

    Converted column by column (only the date and time columns, per value in a comprehension, then
    zipped back into rows at C speed): per value and row in Python it cost the writer 25 µs a row.
    """
    dated = [i for i, c in enumerate(columns) if isinstance(table.c[c].type, Date | DateTime)]
    if not dated or not rows:
        return list(rows)
    by_column: list[Any] = list(zip(*rows, strict=True))
    for i in dated:
        by_column[i] = [v.isoformat() if isinstance(v, date) else v for v in by_column[i]]
    return list(zip(*by_column, strict=True))


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


class RowsOfIds:
    """Which row of the file wrote which id (ids only grow), to name the first of two duplicate rows."""

    def __init__(self) -> None:
        self.ids = array("q")
        self.rows = array("q")

    def add(self, ids: Sequence[int], rows: Sequence[int]) -> None:
        self.ids.extend(ids)
        self.rows.extend(rows)

    def row_of(self, id_: int) -> int | None:
        i = bisect_left(self.ids, id_)
        return self.rows[i] if i < len(self.ids) and self.ids[i] == id_ else None

    @property
    def first_id(self) -> int | None:
        return min(self.ids) if self.ids else None

    @property
    def last_id(self) -> int | None:
        return max(self.ids) if self.ids else None

    def __len__(self) -> int:
        return len(self.ids)


class ImportJob(Protocol):
    """What one kind of import supplies to ``run_import``: a row check, a chunk writer, the ids written.

    ``checks`` holds the per-row check (``validate`` is its method): pure and picklable, with a
    ``problems`` attribute, so that a worker process can run it on a large file (``worker.py``).
    """

    written: RowsOfIds
    checks: Any

    def validate(self, row_no: int, raw: dict[str, str]) -> tuple[Any, ...] | None: ...

    def write(self, chunk: list[tuple[Any, ...]]) -> None: ...


_gc_lock = threading.Lock()
_gc_paused_by = 0
_gc_was_enabled = True


@contextlib.contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while an import runs (reference counting still frees
    everything that is not in a cycle; the collector runs again, and catches up, when the last import
    ends). An import keeps a chunk's rows alive (tens of thousands of dicts and tuples), so the collector's
    passes kept re-scanning them — and, in gen 2, the whole heap: measured at load 9–10 with 30,000 rows
    into SQLite, instruments 7,566 rows/s with it and 17,412 without, records 5,304 and 9,101."""
    global _gc_paused_by, _gc_was_enabled
    with _gc_lock:
        if _gc_paused_by == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_paused_by += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_paused_by -= 1
            if _gc_paused_by == 0 and _gc_was_enabled:
                gc.enable()


def run_import(
    platform: Platform,
    principal: Principal,
    source: BinaryIO,
    *,
    fmt: Format,
    columns: Any,
    object_type: str,
    make_job: Callable[[Session, Problems], ImportJob],
    summary: Callable[[int], str],
    progress: Callable[[int], None] | None,
) -> ImportReport:
    """Stream, validate and write a file in one transaction, or refuse it whole with the per-row report."""
    with cyclic_gc_paused():
        return _run_import(
            platform,
            principal,
            source,
            fmt=fmt,
            columns=columns,
            object_type=object_type,
            make_job=make_job,
            summary=summary,
            progress=progress,
        )


def _run_import(
    platform: Platform,
    principal: Principal,
    source: BinaryIO,
    *,
    fmt: Format,
    columns: Any,
    object_type: str,
    make_job: Callable[[Session, Problems], ImportJob],
    summary: Callable[[int], str],
    progress: Callable[[int], None] | None,
) -> ImportReport:
    settings = platform.settings
    problems = Problems(settings.import_max_reported_problems)
    spooled = (
        worker.Spooled(source, settings.max_upload_bytes)
        if worker.wanted(source, settings.import_worker_min_bytes)
        else None
    )
    try:
        if spooled is None:
            sheet = open_sheet(source, fmt, columns, problems, settings.max_upload_bytes)
        else:
            with spooled.open() as head:  # the header only: its problems refuse the file before any work
                open_sheet(head, fmt, columns, problems, settings.max_upload_bytes)
        if problems:
            raise problems.refuse(0)
        with platform.unit_of_work(principal) as session:
            job = make_job(session, problems)
            if spooled is None:
                rows_read = _check_here(sheet, job, settings.import_chunk_rows, progress)
                sha256 = sheet.sha256
            else:
                rows_read = _check_in_worker(spooled, fmt, columns, job, problems, settings, progress)
                sha256 = spooled.sha256
            if progress:
                progress(rows_read)
            if problems:
                raise problems.refuse(rows_read)
            written = len(job.written)
            audit_id = write_audit(
                session,
                object_type,
                count=written,
                sha256=sha256,
                first_id=job.written.first_id,
                last_id=job.written.last_id,
                fmt=fmt,
                rows_read=rows_read,
                summary=summary(written),
            )
    finally:
        if spooled is not None:
            spooled.close()
    return ImportReport(object_type, rows_read, written, sha256, audit_id)


def _check_here(sheet: Sheet, job: ImportJob, chunk_rows: int, progress: Callable[[int], None] | None) -> int:
    """Read and check rows in this thread while the previous chunk is written behind it."""
    rows_read = 0
    pending: list[tuple[int, dict[str, str]]] = []
    checks = job.checks
    with WriteBehind(job.write) as writer:
        for row_no, raw in sheet.rows:
            rows_read += 1
            if raw is not None:
                pending.append((row_no, raw))
            if rows_read % chunk_rows == 0:
                writer.submit(columnwise.stage(checks, pending))
                pending = []
                if progress:
                    progress(rows_read)
        writer.submit(columnwise.stage(checks, pending))
    return rows_read


def _check_in_worker(
    spooled: worker.Spooled,
    fmt: Format,
    columns: Any,
    job: ImportJob,
    problems: Problems,
    settings: Any,
    progress: Callable[[int], None] | None,
) -> int:
    """Rows read and checked by a worker process, each chunk written here behind a thread."""
    chunk_rows = settings.import_chunk_rows
    checking = worker.Checking(spooled, fmt, columns, job.checks, chunk_rows)
    try:
        with WriteBehind(job.write) as writer:
            for rows_read, chunk, found in checking:
                for problem in found:  # before the chunk is written, as when checked in this thread
                    problems.add(*problem)
                writer.submit(chunk)
                if progress and rows_read % chunk_rows == 0:
                    progress(rows_read)
    finally:
        checking.close()
    return checking.rows_read
