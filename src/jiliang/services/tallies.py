"""Keeping the instrument tallies (migration 0017) small: expiries long past folded into one row.

Triggers on ``instruments`` keep ``instrument_totals`` and ``instrument_tallies`` in the same transaction
as every write; ``services.indicators`` reads them for today's coverage, overdue and due-soon counts.
The tallies hold one row per (region, item, status, expiry date), so every day that passes leaves more
rows behind the cutoff that today's counts sum as "expired". ``compact`` folds every expiry before
today's cutoff into the row of 0001-01-01 (the date an instrument never verified carries): the sum of
the rows at or before any later cutoff is unchanged, so the numbers are too. The day folded up to is
remembered, and a cutoff before it (a larger ``grace_days``) falls back to scanning the registry.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from sqlalchemy import delete, func, select, text

from jiliang.services.periodic import Periodic
from jiliang.services.platform import Platform
from jiliang.store.models import InstrumentTally, InstrumentTallyState

NEVER = date(1, 1, 1)


def compact(platform: Platform, on: date | None = None) -> int:
    """Fold the tally rows that expired before ``on``'s cutoff (default today's); returns rows removed."""
    floor = (on or platform.today()) - timedelta(days=platform.settings.coverage.grace_days)
    t = InstrumentTally
    old = (t.valid_until < floor, t.valid_until > NEVER)
    with platform.unit_of_work() as s:
        if platform.engine.dialect.name == "postgresql":  # no trigger may add to a row while it moves
            s.execute(text("LOCK TABLE instrument_tallies IN SHARE ROW EXCLUSIVE MODE"))
        state = s.get(InstrumentTallyState, 1)
        if state is not None and state.folded_before is not None and state.folded_before >= floor:
            return 0
        moved = list(
            s.execute(
                select(t.region_code, t.item_code, t.status, func.sum(t.n), func.count())
                .where(*old)
                .group_by(t.region_code, t.item_code, t.status)
            )
        )
        for region_code, item_code, status, n, _ in moved:
            row = s.get(InstrumentTally, (region_code, item_code, status, NEVER))
            if row is None:
                s.add(
                    InstrumentTally(
                        region_code=region_code, item_code=item_code, status=status, valid_until=NEVER, n=n
                    )
                )
            else:
                row.n += n
        s.execute(delete(t).where(*old))
        if state is None:
            s.add(InstrumentTallyState(id=1, folded_before=floor))
        else:
            state.folded_before = floor
    return sum(int(c) for *_, c in moved)


class TallyCompactor(Periodic):
    """``compact`` once a day inside `jiliang serve` (after applying a catalogue version that came into
    force)."""

    def __init__(self, platform: Platform, every_s: float = 24 * 3600) -> None:
        self.platform = platform
        super().__init__(
            every_s,
            self.run_once,
            "tally-compactor",
            "folding the instrument tallies failed / 统计表压缩失败",
        )

    def run_once(self) -> None:
        # a catalogue version scheduled for today comes into force for the instruments' flags first
        # (services.catalogue.apply_compulsory: once per version), then the tallies fold
        from jiliang.services import catalogue

        catalogue.apply_compulsory(self.platform)
        compact(self.platform)


_KEY = "region_code, item_code, status"
_SQLITE_DELTA = (
    f"INSERT INTO instrument_totals ({_KEY}, n) SELECT {_KEY}, COUNT(*) FROM instruments "
    f"WHERE id BETWEEN ? AND ? AND compulsory GROUP BY {_KEY} "
    f"ON CONFLICT ({_KEY}) DO UPDATE SET n = instrument_totals.n + excluded.n",
    f"INSERT INTO instrument_tallies ({_KEY}, valid_until, n) SELECT {_KEY}, "
    "COALESCE(valid_until, '0001-01-01'), COUNT(*) FROM instruments WHERE id BETWEEN ? AND ? AND compulsory "
    f"GROUP BY {_KEY}, COALESCE(valid_until, '0001-01-01') "
    f"ON CONFLICT ({_KEY}, valid_until) DO UPDATE SET n = instrument_tallies.n + excluded.n",
    "INSERT INTO instrument_tally_state (id, latest_filed_on) SELECT 1, MAX(filed_on) FROM instruments "
    "WHERE id BETWEEN ? AND ? GROUP BY 1 ON CONFLICT (id) DO UPDATE SET latest_filed_on = "
    "excluded.latest_filed_on WHERE instrument_tally_state.latest_filed_on IS NULL "
    "OR instrument_tally_state.latest_filed_on < excluded.latest_filed_on",
)


_SQLITE_NAMES_DELTA = (
    "INSERT INTO instrument_names (rowid, name) SELECT id, name FROM instruments WHERE id BETWEEN ? AND ?"
)


def sqlite_insert_instruments(connection: Any, insert: Callable[[], range]) -> range:
    """Run a bulk ``insert`` of instrument rows on SQLite with the tally triggers set aside, then add the
    inserted id range to the tallies in three grouped statements. SQLite has no statement-level
    triggers, and its row triggers cut the bulk import from about 30,000 to 5,000 rows/s; its DDL is
    transactional, so no other connection ever sees the triggers missing, and a rollback (of the
    transaction or the caller's savepoint) restores them with the rows. The trigram index of names
    (migration 0024, ``instrument_names_insert``) is set aside the same way and filled in one statement."""
    triggers = list(
        connection.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'instruments' "
            "AND ((name LIKE 'instruments_tally_%' AND name NOT LIKE 'instruments_tally_%update%' "
            "AND name NOT LIKE 'instruments_tally_delete') OR name = 'instrument_names_insert')"
        )
    )
    for name, _ in triggers:
        connection.exec_driver_sql(f"DROP TRIGGER {name}")
    try:
        ids = insert()
        names = {name for name, _ in triggers}
        if len(ids) and names - {"instrument_names_insert"}:
            for statement in _SQLITE_DELTA:
                connection.exec_driver_sql(statement, (ids[0], ids[-1]))
        if len(ids) and "instrument_names_insert" in names:
            # the trigram index of names (migration 0024), in one statement for the chunk too
            connection.exec_driver_sql(_SQLITE_NAMES_DELTA, (ids[0], ids[-1]))
    finally:
        for _, sql in triggers:
            connection.exec_driver_sql(sql)
    return ids


_REFRESHED = "SELECT id FROM temp.import_refreshed"
_SQLITE_MOVE = (
    f"INSERT INTO instrument_totals ({_KEY}, n) SELECT {_KEY}, ? * COUNT(*) FROM instruments "
    f"WHERE id IN ({_REFRESHED}) AND compulsory GROUP BY {_KEY} "
    f"ON CONFLICT ({_KEY}) DO UPDATE SET n = instrument_totals.n + excluded.n",
    f"INSERT INTO instrument_tallies ({_KEY}, valid_until, n) SELECT {_KEY}, "
    f"COALESCE(valid_until, '0001-01-01'), ? * COUNT(*) FROM instruments WHERE id IN ({_REFRESHED}) "
    f"AND compulsory GROUP BY {_KEY}, COALESCE(valid_until, '0001-01-01') "
    f"ON CONFLICT ({_KEY}, valid_until) DO UPDATE SET n = instrument_tallies.n + excluded.n",
)


def sqlite_update_instruments(connection: Any, ids: list[int], update: Callable[[], None]) -> None:
    """Run a bulk ``update`` of the instruments ``ids`` (not of filed_on) on SQLite with the tally update
    triggers set aside: the rows' tallies are taken out before it and put back after it, in grouped
    statements. The triggers would take out and put back each changed row; an unchanged row is taken out
    and put back into the same tally, so the tallies end the same. Per row the two triggers cost a
    verification-record import more than half its time. Transactional, as ``sqlite_insert_instruments``."""
    triggers = list(
        connection.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'instruments' "
            "AND name IN ('instruments_tally_update_old', 'instruments_tally_update_new')"
        )
    )
    if not triggers:
        update()
        return
    connection.exec_driver_sql("CREATE TEMP TABLE IF NOT EXISTS import_refreshed (id INTEGER PRIMARY KEY)")
    connection.exec_driver_sql("DELETE FROM temp.import_refreshed")
    connection.exec_driver_sql("INSERT INTO temp.import_refreshed (id) VALUES (?)", [(i,) for i in ids])
    for name, _ in triggers:
        connection.exec_driver_sql(f"DROP TRIGGER {name}")
    try:
        for statement in _SQLITE_MOVE:
            connection.exec_driver_sql(statement, (-1,))
        update()
        for statement in _SQLITE_MOVE:
            connection.exec_driver_sql(statement, (1,))
    finally:
        for _, sql in triggers:
            connection.exec_driver_sql(sql)
