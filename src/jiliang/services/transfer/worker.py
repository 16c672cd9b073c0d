"""Checking a large file in a second process while this one writes it (issue 16: use both cores).

In one process the reading and checking of rows (Python) and the writing of chunks share one
interpreter lock, so an import used about one core whatever the machine had. For a file of at least
``settings.import_worker_min_bytes`` the upload is first copied, metered and hashed, into a temporary
file; a worker process then reads it (``reading.open_sheet``, the same code) and checks every row with
the job's own per-row checks (its ``checks`` object, pure and so picklable), and sends the staged rows
back chunk by chunk with the problems it found in them. This process keeps the transaction: it adds the
worker's problems to the import's report in row order, as the single-process path would, and writes each
chunk behind a thread. Any error in the worker, or here, ends the worker and rolls the import back.

What is checked, in what order, and the report are the same on both paths (tests/test_transfer_worker.py
runs the same files through both). Off unless ``import_worker_min_bytes`` is set: the worker's start
(about 0.9 s of CPU) and pickling the staged rows cost more than they saved on a busy 2-core machine,
where SQLite's own work and PostgreSQL's server bound the import (docs/benchmarks.md).
"""

from __future__ import annotations

import contextlib
import copy
import os
import pickle
import subprocess
import sys
import tempfile
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import jiliang
from jiliang.errors import ImportRefused
from jiliang.services.transfer.columns import Column
from jiliang.services.transfer.columnwise import stage
from jiliang.services.transfer.reading import Metered, Problems, open_sheet

COPY_BLOCK = 1 << 20


@dataclass
class ProblemLog(Problems):
    """Stands for ``Problems`` in the worker: keeps every problem, in order, until the next chunk goes."""

    found: list[tuple[int, str, str, str | None]] = field(default_factory=list)

    def _add(self, row: int, field_: str, reason: str, value: object) -> None:
        self.count += 1
        self.found.append((row, field_, reason, None if value is None else str(value)[:200]))

    def take(self) -> list[tuple[int, str, str, str | None]]:
        found, self.found = self.found, []
        return found


def wanted(source: BinaryIO, min_bytes: int | None) -> bool:
    """Whether a file is large enough for a worker (a seekable one; a small file is not worth a process)."""
    if min_bytes is None or (os.cpu_count() or 1) < 2:
        return False
    try:
        if not source.seekable():
            return False
        here = source.tell()
        size = source.seek(0, os.SEEK_END) - here
        source.seek(here)
    except (AttributeError, OSError, ValueError):
        return False
    return size >= min_bytes


class Spooled:
    """The upload copied into a named temporary file the worker can open, metered and hashed on the way."""

    def __init__(self, source: BinaryIO, max_bytes: int) -> None:
        self.metered = Metered(source, max_bytes)
        handle, self.path = tempfile.mkstemp(prefix="jiliang-import-")
        try:
            with os.fdopen(handle, "wb") as out:
                while block := self.metered.read(COPY_BLOCK):
                    out.write(block)
        except BaseException:
            os.unlink(self.path)
            raise

    @property
    def sha256(self) -> str:
        return self.metered.sha256.hexdigest()

    def open(self) -> BinaryIO:
        return open(self.path, "rb")

    def close(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)


class Checking:
    """The worker process; iterate it for ``(rows_read, staged chunk, problems found in it)``.

    A fresh interpreter (``python -c "…worker import main; main()"``) rather than multiprocessing:
    a spawned child would re-run the caller's main module, and forking a server with threads and open
    connections is unsafe. Arguments go in on its stdin and messages come back on its stdout, pickled;
    the pipe's buffer holds the worker back when this process writes more slowly than it checks.
    """

    def __init__(self, spooled: Spooled, fmt: str, columns: tuple[Column, ...], checks: Any, chunk_rows: int):
        shipped = copy.copy(checks)
        shipped.problems = None  # replaced by a ProblemLog there; the caller's holds a lock
        env = dict(os.environ)
        package_root = str(Path(jiliang.__file__).resolve().parents[1])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
        self._process = subprocess.Popen(
            [sys.executable, "-c", "from jiliang.services.transfer.worker import main; main()"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )
        assert self._process.stdin is not None and self._process.stdout is not None
        self._out = self._process.stdout
        try:
            pickle.dump((spooled.path, fmt, columns, shipped, chunk_rows), self._process.stdin, protocol=5)
            self._process.stdin.close()
        except BaseException:
            self.close()
            raise
        self.rows_read = 0

    def __iter__(self) -> Iterator[tuple[int, list[tuple[Any, ...]], list[tuple[int, str, str, str | None]]]]:
        while True:
            try:
                message = pickle.load(self._out)
            except EOFError:
                raise RuntimeError(
                    "导入检查进程意外退出 / the import's checking process ended unexpectedly"
                ) from None
            kind = message[0]
            if kind == "refused":
                _, problems, count, rows_read = message
                raise ImportRefused(problems=problems, problem_count=count, rows_read=rows_read)
            if kind == "failed":
                raise RuntimeError(f"导入检查进程出错 / the import's checking process failed:\n{message[1]}")
            _, self.rows_read, chunk, found = message
            yield self.rows_read, chunk, found
            if kind == "done":
                return

    def close(self) -> None:
        if self._process.poll() is None:
            self._process.kill()  # done already, or this side failed: nothing it holds is needed
        self._process.wait()
        self._out.close()


def _work(
    out: BinaryIO, path: str, fmt: str, columns: tuple[Column, ...], checks: Any, chunk_rows: int
) -> None:
    """The worker: read and check the whole file, send chunks (``rows``), then ``done``."""

    def send(message: tuple[Any, ...]) -> None:
        pickle.dump(message, out, protocol=5)
        out.flush()

    log = ProblemLog(limit=1)
    checks.problems = log
    try:
        with open(path, "rb") as f:
            # The caller has read the header already and found it sound: no problem is added here.
            sheet = open_sheet(f, fmt, columns, log, sys.maxsize)
            rows_read = 0
            pending: list[tuple[int, dict[str, str]]] = []
            for row_no, raw in sheet.rows:
                rows_read += 1
                if raw is not None:
                    pending.append((row_no, raw))
                if rows_read % chunk_rows == 0:
                    send(("rows", rows_read, stage(checks, pending), log.take()))
                    pending = []
            send(("done", rows_read, stage(checks, pending), log.take()))
    except ImportRefused as exc:
        send(("refused", exc.problems, exc.problem_count, exc.rows_read))
    except BrokenPipeError:
        pass  # the importing process has given up
    except BaseException:
        send(("failed", traceback.format_exc()))


def main() -> None:
    """The worker process's entry: its arguments pickled on stdin, messages pickled on stdout."""
    messages = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything else printed goes to stderr, not into the messages
    sys.stdout = sys.stderr
    _work(messages, *pickle.load(sys.stdin.buffer))
    messages.close()
