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

from datetime import date, timedelta

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
    """``compact`` once a day inside `jiliang serve`."""

    def __init__(self, platform: Platform, every_s: float = 24 * 3600) -> None:
        self.platform = platform
        super().__init__(
            every_s,
            self.run_once,
            "tally-compactor",
            "folding the instrument tallies failed / 统计表压缩失败",
        )

    def run_once(self) -> None:
        compact(self.platform)
