"""Exports that cannot hold the database while a client is slow (issue 16).

An export is written whole into a spooled temporary file (in memory up to ``settings.export_spool_bytes``,
then on disk) inside one short read transaction; the connection goes back to the pool before the first
byte is sent, so a client that reads slowly, stalls or hangs up holds only its file. How many exports run
at once is bounded per user (``exports_per_user``: ``TooManyRequests``, 429) and in all
(``exports_total``: ``Busy``, 503); a slot is held from the start of the export until its download ends.
"""

from __future__ import annotations

import tempfile
import threading
import weakref
from collections.abc import Callable
from typing import IO, Any, BinaryIO, cast

from sqlalchemy import Engine

from jiliang.domain.access import Principal
from jiliang.errors import Busy, TooManyRequests
from jiliang.services.platform import Platform


class ExportSlots:
    """Counters of running exports, per user and in all; ``take`` returns the (idempotent) release."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: dict[str, int] = {}
        self._all = 0

    def take(self, who: str, per_user: int, total: int) -> Callable[[], None]:
        with self._lock:
            if self._running.get(who, 0) >= per_user:
                raise TooManyRequests(
                    f"您已有 {per_user} 个导出正在进行，请等其完成后再试 / you already have "
                    f"{per_user} export(s) running: try again when one has finished",
                    retry_after=5,
                )
            if self._all >= total:
                raise Busy(
                    "导出任务已满，请稍后重试 / too many exports are running: try again shortly",
                    retry_after=5,
                )
            self._running[who] = self._running.get(who, 0) + 1
            self._all += 1
        released = threading.Event()

        def release() -> None:
            with self._lock:
                if released.is_set():
                    return
                released.set()
                self._all -= 1
                left = self._running[who] - 1
                if left:
                    self._running[who] = left
                else:
                    del self._running[who]

        return release

    def running(self) -> int:
        with self._lock:
            return self._all


_SLOTS: weakref.WeakKeyDictionary[Engine, ExportSlots] = weakref.WeakKeyDictionary()
_SLOTS_LOCK = threading.Lock()


def slots(platform: Platform) -> ExportSlots:
    """The export slots of this platform (one set per database engine, i.e. per server process)."""
    with _SLOTS_LOCK:
        found = _SLOTS.get(platform.engine)
        if found is None:
            found = _SLOTS[platform.engine] = ExportSlots()
        return found


def take_slot(platform: Platform, principal: Principal) -> Callable[[], None]:
    who = str(principal.user_id) if principal.user_id is not None else f"name:{principal.username}"
    settings = platform.settings
    return slots(platform).take(who, settings.exports_per_user, settings.exports_total)


def spooled(platform: Platform, export: Callable[[BinaryIO], int]) -> tuple[IO[bytes], int]:
    """Run ``export`` into a spooled temporary file; return it rewound, with its size in bytes.

    ``export`` opens and closes its own read transaction: when this returns, no connection is held.
    """
    spool: Any = tempfile.SpooledTemporaryFile(max_size=platform.settings.export_spool_bytes)  # noqa: SIM115 (returned open)
    try:
        export(cast(BinaryIO, spool))
        size = spool.tell()
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    return spool, size
