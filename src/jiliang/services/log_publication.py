"""Signed tree heads published outside the database, as they are made.

Every checkpoint the log signs is appended, one JSON line each, to ``checkpoints.jsonl`` in the folder
``settings.log_publish_dir`` (default ``<data_dir>/log-published``), and ``checkpoint.txt`` there holds the
latest note. The file is only ever appended to (opened in append mode, flushed and fsync'd per head); an
operator ships the folder elsewhere (rsync to another host, object storage with a retention lock). Whoever
can edit or roll back the database cannot rewrite what was shipped: ``services.reconciliation`` compares
the two and names a head the database no longer has, or a tree that no longer reaches a published size.

Publishing catches up: each round appends every database checkpoint newer than the file's last line, so
a crash between the database commit and the append loses nothing.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from jiliang.errors import InvalidInput
from jiliang.services.platform import Platform
from jiliang.settings import Settings
from jiliang.store.models import LogCheckpointRow

HISTORY = "checkpoints.jsonl"
LATEST = "checkpoint.txt"


@dataclass(frozen=True)
class Published:
    size: int
    root_hash: bytes
    note: str
    published_at: str
    line: int  # 1-based line of checkpoints.jsonl


def folder(settings: Settings) -> Path:
    return settings.log_publish_dir or settings.data_dir / "log-published"


def read_published(directory: Path) -> list[Published]:
    """Every head in the folder's history, in the order written; a line that does not parse is refused."""
    path = directory / HISTORY
    if not path.exists():
        return []
    out: list[Published] = []
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                d = json.loads(line)
                out.append(
                    Published(
                        int(d["size"]),
                        base64.b64decode(d["root_hash"]),
                        str(d["note"]),
                        str(d["published_at"]),
                        n,
                    )
                )
            except (ValueError, KeyError, TypeError):
                raise InvalidInput(
                    f"已发布树头文件第 {n} 行无法读取 / line {n} of {path} does not parse",
                    field="log_publish_dir",
                ) from None
    return out


def _append(directory: Path, heads: list[tuple[int, bytes, str]]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    with (directory / HISTORY).open("a", encoding="utf-8") as f:
        for size, root, note in heads:
            record = {"size": size, "root_hash": base64.b64encode(root).decode(), "note": note}
            f.write(json.dumps({**record, "published_at": now}, ensure_ascii=False) + "\n")
        f.flush()
        os.fsync(f.fileno())
    tmp = directory / (LATEST + ".tmp")
    tmp.write_text(heads[-1][2], encoding="utf-8")
    os.replace(tmp, directory / LATEST)


def publish_new(platform: Platform) -> int:
    """Append every database checkpoint newer than the last one published; return how many."""
    directory = folder(platform.settings)
    done = read_published(directory)
    last = done[-1].size if done else -1
    with platform.reading() as s:
        rows = s.execute(
            select(LogCheckpointRow.size, LogCheckpointRow.root_hash, LogCheckpointRow.note)
            .where(LogCheckpointRow.size > last)
            .order_by(LogCheckpointRow.id)
        ).all()
    heads = [(int(size), bytes(root), str(note)) for size, root, note in rows]
    if heads:
        _append(directory, heads)
    return len(heads)


def published_history(platform: Platform, since: int = 0, limit: int = 1000) -> list[Published]:
    """The published heads of size ≥ ``since`` (the public endpoint reads the file, not the database)."""
    return [p for p in read_published(folder(platform.settings)) if p.size >= since][:limit]
