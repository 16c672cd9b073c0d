"""Writing generated rows in bulk with SQLAlchemy Core, for cities of millions of instruments.

Rows arrive with their final ids (allocated after the largest id present), so that instruments and their
records go in with one ``executemany`` each and no round trip per row. The ORM audit listener does not
see Core inserts; each bulk stage is recorded as one audit entry instead, as the importers do.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, Index, Table, func, insert, select, text

from jiliang.services.platform import Platform
from jiliang.store import audit
from jiliang.store.models import AuditEntry, Instrument, Organisation, VerificationRecord


def next_id(platform: Platform, table: Table) -> int:
    with platform.engine.connect() as conn:
        return int(conn.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()) + 1


def advance_sequence(conn: Connection, table: Table) -> None:
    """PostgreSQL's identity sequence does not move for explicit ids; move it past them."""
    if conn.dialect.name == "postgresql":
        conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                f"(SELECT COALESCE(MAX(id), 1) FROM {table.name}))"
            )
        )


def record_audit(conn: Connection, object_type: str, summary: str, after: dict[str, Any]) -> None:
    conn.execute(
        insert(AuditEntry), [audit.entry("bulk_create", object_type, "*", summary=summary, after=after)]
    )


def insert_organisations(platform: Platform, rows: list[dict[str, Any]]) -> list[int]:
    table: Table = Organisation.__table__  # type: ignore[assignment]
    first = next_id(platform, table)
    now = platform.now()
    ids = list(range(first, first + len(rows)))
    with platform.engine.begin() as conn:
        conn.execute(
            insert(table), [{**r, "id": i, "created_at": now} for r, i in zip(rows, ids, strict=True)]
        )
        advance_sequence(conn, table)
        record_audit(
            conn,
            "organisations",
            f"演示数据 {len(rows)} 个单位 / demo: {len(rows)} organisations",
            {"count": len(rows)},
        )
    return ids


@contextlib.contextmanager
def indexes_deferred(platform: Platform, enabled: bool) -> Iterator[None]:
    """Drop the secondary indexes of the two big tables while loading, and build them once at the end.

    Building an index over sorted data once is several times faster than maintaining it row by row.
    Unique constraints stay in place, so the load is still checked.
    """
    tables: list[Table] = [Instrument.__table__, VerificationRecord.__table__]  # type: ignore[list-item]
    dropped: list[Index] = []
    if enabled:
        with platform.engine.begin() as conn:
            for table in tables:
                for index in sorted(table.indexes, key=lambda i: str(i.name)):
                    if not index.unique:
                        index.drop(conn, checkfirst=True)
                        dropped.append(index)
    try:
        yield
    finally:
        if dropped:
            with platform.engine.begin() as conn:
                for index in dropped:
                    index.create(conn, checkfirst=True)


def insert_chunk(conn: Connection, instruments: list[dict[str, Any]], records: list[dict[str, Any]]) -> None:
    if conn.dialect.name == "sqlite" and instruments:
        # the generator hands out fresh ascending ids: the chunk is the id range, added to the tallies
        # (migration 0017) in one grouped step rather than by a row trigger per instrument
        from jiliang.services.tallies import sqlite_insert_instruments

        ids = [int(r["id"]) for r in instruments]

        def run() -> range:
            conn.execute(insert(Instrument), instruments)
            return range(min(ids), max(ids) + 1)

        sqlite_insert_instruments(conn, run)
    else:
        conn.execute(insert(Instrument), instruments)
    if records:
        conn.execute(insert(VerificationRecord), records)


def finish(platform: Platform, instruments: int, records: int) -> None:
    with platform.engine.begin() as conn:
        advance_sequence(conn, Instrument.__table__)  # type: ignore[arg-type]
        advance_sequence(conn, VerificationRecord.__table__)  # type: ignore[arg-type]
        record_audit(
            conn,
            "instruments",
            f"演示数据 {instruments} 台器具、{records} 条检定记录 / demo: {instruments} instruments, {records} records",
            {"instruments": instruments, "verification_records": records},
        )
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("ANALYZE")
        else:
            conn.exec_driver_sql("ANALYZE instruments")
            conn.exec_driver_sql("ANALYZE verification_records")
