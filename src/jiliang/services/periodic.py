"""Jobs that a serving process runs at a fixed interval (publishing tree heads, reconciling the log).

One daemon thread per job: a failed round is logged and retried at the next tick, never kills the server
(Home Assistant's update coordinator keeps the same rule). Several servers may each run the same job;
the jobs themselves are safe to run concurrently.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class Periodic:
    def __init__(self, every_s: float, job: Callable[[], None], name: str, failure: str) -> None:
        self.every_s, self._job, self._failure = every_s, job, failure
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> Periodic:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self.every_s + 5)

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            try:
                self._job()
            except Exception:
                log.exception(self._failure)
