"""A C2SP witness (c2sp.org/tlog-witness): cosigns a log's checkpoints, remembering the last one itself.

The witness is meant to run elsewhere than the log — another institution, another host — and touches no
database: its Ed25519 key and, per log origin, the latest checkpoint it cosigned are files in its own
folder. A log that was rolled back, forked or rewritten cannot get a cosignature for the new history,
because the witness checks every submission against what *it* remembers (a 409 names the size it has,
a 422 a consistency proof that does not verify). The state is updated under an exclusive file lock, so
two submissions cannot roll each other back (the race the protocol warns about).

``LogSide`` is the other half: the log submits its newest head with a consistency proof from the size
the witness holds, and keeps the cosigned note in its published folder (``cosigned.jsonl``).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)

from jiliang.errors import InvalidInput, ProofError
from jiliang.services import log_publication, transparency
from jiliang.services.platform import Platform
from jiliang.trust import cosignature
from jiliang.trust.checkpoint import parse_verifier_key, verify_note
from jiliang.trust.merkle import verify_consistency

KEY_FILE = "witness-key.pem"
SIZE_TYPE = "text/x.tlog.size"


@dataclass(frozen=True)
class Answer:
    status: int
    body: str
    content_type: str = "text/plain; charset=utf-8"


class Witness:
    """One witness: a name, a key file and a state folder, and the logs (origin → verifier key) it follows."""

    def __init__(self, directory: Path, name: str, logs: Mapping[str, str]) -> None:
        self.directory, self.name = directory, name
        self.logs = dict(logs)
        for origin, vkey in self.logs.items():
            if parse_verifier_key(vkey)[0] != origin:
                raise InvalidInput(
                    f"日志 {origin} 的验证密钥名称不符 / the key for log {origin} names another log",
                    field="log",
                )
        directory.mkdir(parents=True, exist_ok=True)
        self.key = self._load_or_create_key()

    def _load_or_create_key(self) -> Ed25519PrivateKey:
        path = self.directory / KEY_FILE
        if not path.exists():
            key = Ed25519PrivateKey.generate()
            pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(pem)
        loaded = load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(loaded, Ed25519PrivateKey):
            raise InvalidInput("见证密钥不是 Ed25519 / the witness key is not Ed25519", field="key")
        return loaded

    @property
    def verifier_key(self) -> str:
        return cosignature.verifier_key(self.name, cosignature.public_bytes(self.key))

    def _state_path(self, origin: str) -> Path:
        return self.directory / "logs" / (hashlib.sha256(origin.encode()).hexdigest() + ".json")

    @contextmanager
    def _locked(self) -> Iterator[None]:
        with (self.directory / "lock").open("a") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    def latest(self, origin: str) -> tuple[int, bytes] | None:
        path = self._state_path(origin)
        if not path.exists():
            return None
        state = json.loads(path.read_text("utf-8"))
        head = verify_note(state["checkpoint"], self.logs[origin])
        return head.size, head.root_hash

    def add_checkpoint(self, body: bytes, now: int | None = None) -> Answer:
        """The add-checkpoint call: the status code and body the protocol prescribes."""
        try:
            old, proof, note = cosignature.parse_add_checkpoint(body)
        except ProofError as exc:
            return Answer(400, exc.message + "\n")
        origin = note.split("\n", 1)[0]
        if origin not in self.logs:
            return Answer(404, f"未知日志 / unknown log {origin}\n")
        try:
            head = verify_note(note, self.logs[origin])
        except ProofError as exc:
            return Answer(403, exc.message + "\n")
        if old > head.size:
            return Answer(400, "old 大于检查点大小 / old size above the checkpoint size\n")
        with self._locked():
            latest = self.latest(origin)
            size, root = latest if latest else (0, b"")
            if old != size:
                return Answer(409, f"{size}\n", SIZE_TYPE)
            if old == 0:
                if proof:
                    return Answer(422, "从 0 开始的证明须为空 / the proof from size 0 must be empty\n")
            elif old == head.size:
                if head.root_hash != root:
                    return Answer(409, f"{size}\n", SIZE_TYPE)  # same size, another root: a fork
            else:
                try:
                    verify_consistency(old, head.size, proof, root, head.root_hash)
                except ProofError as exc:
                    return Answer(422, exc.message + "\n")
            path = self._state_path(origin)
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps({"checkpoint": note}), "utf-8")
            os.replace(tmp, path)  # persisted before answering, as the protocol requires
        line = cosignature.cosign(note, self.key, self.name, int(time.time()) if now is None else now)
        return Answer(200, line)


# --- the log's side ---------------------------------------------------------------------------------


COSIGNED = "cosigned.jsonl"


def request_cosignature(platform: Platform, client: httpx.Client, witness_key: str) -> str:
    """Submit the latest head to the witness at ``client``'s base URL; return the cosigned note.

    Starts from old size 0 and follows the witness's 409 (which names the size it holds), as the
    protocol suggests for a log that keeps no record of it. The cosigned note is appended to
    ``cosigned.jsonl`` in the published folder. Raises ``ProofError`` when the witness refuses.
    """
    with platform.reading() as s:
        head = transparency.require_checkpoint(s)
    old = 0
    for _ in range(2):
        proof = transparency.prove_consistency(platform, old, head.size) if 0 < old < head.size else []
        r = client.post("/add-checkpoint", content=cosignature.add_checkpoint_body(old, proof, head.text))
        if r.status_code == 409 and r.headers.get("content-type", "").startswith(SIZE_TYPE):
            held = int(r.text.strip())
            if held == old:  # it holds this very size with another root
                raise ProofError(
                    f"分叉：见证在大小 {held} 处持有另一个根（日志被回滚后重写？）/ fork: the witness holds another root "
                    f"at size {held} (log rolled back and rewritten?)",
                    field="witness",
                )
            if held > head.size:
                raise ProofError(
                    f"见证已见过更大的树 {held}（日志被回滚？）/ the witness holds a larger tree, {held} (log rolled "
                    "back?)",
                    field="witness",
                )
            old = held
            continue
        if r.status_code != 200:
            raise ProofError(
                f"见证拒绝副署 HTTP {r.status_code} / the witness refused: {r.text.strip()[:200]}",
                field="witness",
            )
        cosigned = head.text + r.text
        cosignature.verify_cosignature(cosigned, witness_key)
        folder = log_publication.folder(platform.settings)
        folder.mkdir(parents=True, exist_ok=True)
        with (folder / COSIGNED).open("a", encoding="utf-8") as f:
            f.write(json.dumps({"size": head.size, "note": cosigned}, ensure_ascii=False) + "\n")
            f.flush()
            os.fsync(f.fileno())
        return cosigned
    raise ProofError(
        "见证的大小在两次请求之间改变 / the witness's size changed between requests", field="witness"
    )
