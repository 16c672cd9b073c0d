"""A witness (monitor) of the transparency log: remembers the last tree head it accepted and checks that
every later one extends it.

Each observation fetches the log's current signed checkpoint, verifies its signature against the pinned
verifier key, asks the log for a consistency proof from the remembered head and verifies it
(``trust.checkpoint.check_progress``). Only a head that passes replaces the remembered one, so the state
file keeps the evidence when the log is caught rewriting history or replaying an older head.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

import httpx

from jiliang.errors import InvalidInput
from jiliang.services import transparency
from jiliang.services.platform import Platform
from jiliang.trust.checkpoint import Checkpoint, check_progress, verify_note


class LogSource(Protocol):
    def checkpoint_note(self) -> str: ...

    def public_key(self) -> str: ...

    def consistency(self, first: int, second: int) -> list[bytes]: ...


class HttpLog:
    """The log as any outsider sees it: its public API (``/api/v1/log/...``) over HTTP."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def _get(self, path: str, **params: int) -> httpx.Response:
        r = self.client.get(path, params=params)
        if r.status_code != 200:
            raise InvalidInput(
                f"日志返回 HTTP {r.status_code} / the log answered HTTP {r.status_code} for {path}: "
                f"{r.text[:200]}",
                field="url",
            )
        return r

    def checkpoint_note(self) -> str:
        return self._get("/api/v1/log/checkpoint.txt").text

    def public_key(self) -> str:
        return str(self._get("/api/v1/log/public-key").json()["verifier_key"])

    def consistency(self, first: int, second: int) -> list[bytes]:
        body = self._get("/api/v1/log/proof/consistency", first=first, second=second).json()
        return [base64.b64decode(h) for h in body["proof"]]


class DatabaseLog:
    """The log read straight from its database (an operator's self-check)."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    def checkpoint_note(self) -> str:
        with self.platform.reading() as s:
            return transparency.require_checkpoint(s).text

    def public_key(self) -> str:
        with self.platform.unit_of_work() as s:
            return transparency.log_public_key(s, self.platform.settings)

    def consistency(self, first: int, second: int) -> list[bytes]:
        with self.platform.reading() as s:
            return transparency.consistency_proof(s, first, second)


@dataclass(frozen=True)
class Observation:
    previous: Checkpoint | None
    current: Checkpoint
    outcome: Literal["first", "unchanged", "grown"]


def _load(path: Path) -> dict[str, str] | None:
    if not path.exists():
        return None
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
        return {"verifier_key": str(state["verifier_key"]), "checkpoint": str(state["checkpoint"])}
    except (ValueError, KeyError, TypeError):
        raise InvalidInput(
            f"见证状态文件 {path} 无法读取 / witness state file {path} does not parse", field="state"
        ) from None


def _save(path: Path, verifier_key: str, note: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps({"verifier_key": verifier_key, "checkpoint": note}, indent=1), encoding="utf-8")
    os.replace(tmp, path)  # atomic: a crash never leaves half a state


def observe(source: LogSource, state_path: Path, verifier_key: str | None = None) -> Observation:
    """Fetch, verify and check one tree head against the remembered one; remember it if it passes.

    The key is ``verifier_key`` when given, else the one remembered, else (first run) the one the log
    publishes — trust on first use, which the operator should confirm out of band. Raises ``ProofError``
    on a bad signature, a replayed or forked head, or a rewritten history, leaving the state untouched.
    """
    state = _load(state_path)
    key = verifier_key or (state["verifier_key"] if state else source.public_key())
    previous = verify_note(state["checkpoint"], key) if state else None
    note = source.checkpoint_note()
    current = verify_note(note, key)
    proof: list[bytes] = []
    if previous is not None and current.size > previous.size and previous.size > 0:
        proof = source.consistency(previous.size, current.size)
    check_progress(previous, current, proof)
    _save(state_path, key, note)
    if previous is None:
        return Observation(None, current, "first")
    return Observation(previous, current, "unchanged" if current.size == previous.size else "grown")
