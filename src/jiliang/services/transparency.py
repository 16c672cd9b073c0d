"""The transparency log in storage: queue, sequencing, stored subtrees, proofs and signed tree heads.

A change that must be logged calls ``enqueue`` inside its own transaction, so the leaf exists exactly when
the change does. ``sequence`` later moves queued leaves into the tree in one short transaction under the
``log_state`` row lock, which orders concurrent sequencers: no leaf gets two positions and none is lost.
The tree is kept as the hashes of its complete subtrees: level 0 is the leaf hashes in ``log_leaves``,
levels ≥ 1 are ``log_nodes``; an append adds the leaf and the subtrees it completes (amortised one node
row per leaf), and a proof or a past root is one indexed lookup of O(log n) hashes folded by
``trust.merkle`` — the tree is never rebuilt. See docs/transparency.md.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    BestAvailableEncryption,
    Encoding,
    PrivateFormat,
    load_pem_private_key,
)
from sqlalchemy import Connection, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from jiliang.errors import InvalidInput, NotFound
from jiliang.services import log_publication
from jiliang.services.periodic import Periodic
from jiliang.services.platform import Platform
from jiliang.settings import Settings
from jiliang.store.models import LogCheckpointRow, LogKey, LogLeaf, LogQueueEntry, LogState
from jiliang.trust import leaves, merkle
from jiliang.trust.checkpoint import (
    Checkpoint,
    format_checkpoint,
    public_bytes,
    sign_note,
    verifier_key,
)

log = logging.getLogger(__name__)

LEAF_FORMAT_VERSION = leaves.LEAF_FORMAT_VERSION
LEVEL_SHIFT = 48  # node_id = level << 48 | index: 2^48 leaves per level is far beyond any log here
INDEX_MASK = (1 << LEVEL_SHIFT) - 1
BUCKET_SHIFT = 16  # hash_bucket = leaf_index >> 16: the unit of the leaf-hash index (models.LogLeaf)
MAX_ENTRIES = 1000
DEV_PASSPHRASE = "development-only-log-key-passphrase"
KINDS = frozenset(
    {
        "verification_recorded",
        "certificate_issued",
        "certificate_withdrawn",
        "certificate_superseded",
        "supervision_warning",
        # the warning workflow (services/warnings): each disposal, closing or dismissal
        "supervision_disposal",
        # market supervision (services/market): a plan's seed commitment, its published draw, each result
        "market_seed_committed",
        "market_draw_published",
        "market_result_recorded",
        "market_inspectors_reassigned",
    }
)


# --- leaves -----------------------------------------------------------------------------------------


def leaf_bytes(kind: str, body: Mapping[str, Any]) -> bytes:
    """The canonical bytes of a leaf: UTF-8 JSON of ``body`` plus ``"kind"`` and ``"v": 1``.

    Keys sorted by code point, no whitespace (separators ``,`` and ``:``), non-ASCII written as itself
    (not ``\\u`` escapes); values are strings, integers, booleans, null, lists and objects only — no
    floats, whose text form differs between languages (write decimals as strings, dates as ISO 8601).
    """
    if kind not in KINDS:
        raise InvalidInput(f"日志条目类型 {kind!r} 未知 / unknown log entry kind {kind!r}", field="kind")
    if "kind" in body or "v" in body:
        raise InvalidInput("条目内容不能含 kind 或 v 键 / body must not hold 'kind' or 'v'", field="body")
    _check_json(body, "body")
    return leaves.encode(kind, body)


_SCALARS = (str, int, bool, type(None))


def _check_json(value: Any, where: str) -> None:
    if type(value) in _SCALARS or isinstance(value, str | bool | int):  # exact types first: the hot path
        return
    if isinstance(value, Mapping):
        for k, v in value.items():
            if not isinstance(k, str):
                raise InvalidInput(f"{where} 的键必须是字符串 / keys of {where} must be strings", field=where)
            if type(v) not in _SCALARS:
                _check_json(v, f"{where}.{k}")
        return
    if isinstance(value, list | tuple):
        for i, v in enumerate(value):
            _check_json(v, f"{where}[{i}]")
        return
    raise InvalidInput(
        f"{where} 的值类型 {type(value).__name__} 不可规范化（小数写成字符串）/ {where}: "
        f"{type(value).__name__} has no canonical form (write decimals as strings)",
        field=where,
    )


def verification_body(
    *,
    record_id: int,
    instrument_id: int,
    institution_id: int,
    standard_id: int | None,
    verified_on: date,
    conclusion: str,
    document_no: str,
    due_on: date | None,
    supersedes_id: int | None,
    recorded_at: datetime,
) -> dict[str, Any]:
    """The body of a ``verification_recorded`` leaf: the facts a forger would want to change."""
    return {
        "record_id": record_id,
        "instrument_id": instrument_id,
        "institution_id": institution_id,
        "standard_id": standard_id,
        "verified_on": verified_on.isoformat(),
        "conclusion": conclusion,
        "document_no": document_no,
        "due_on": due_on.isoformat() if due_on else None,
        "supersedes_id": supersedes_id,
        "recorded_at": recorded_at.astimezone(UTC).isoformat(),
    }


def enqueue(session: Session, kind: str, body: Mapping[str, Any]) -> None:
    """Queue one leaf in the caller's transaction: it is logged if and only if the caller commits."""
    enqueue_many(session, kind, [body])


def enqueue_many(session: Session | Connection, kind: str, bodies: Iterable[Mapping[str, Any]]) -> int:
    """Queue many leaves of one kind with one executemany, in the caller's transaction (or connection's,
    for the bulk loaders that write through Core)."""
    conn = session.connection() if isinstance(session, Session) else session
    now = _db_time(conn, datetime.now(UTC))
    rows = [(kind, leaf_bytes(kind, b), now) for b in bodies]
    _insert_many(conn, "log_queue", ("kind", "body", "created_at"), rows)
    return len(rows)


def enqueue_verifications(
    conn: Connection,
    records: Iterable[tuple[int, int, int, int | None, date, str, date | None, str]],
    recorded_at: datetime,
    write: Any = None,
) -> int:
    """Queue the ``verification_recorded`` leaves of many new records (a bulk import) in the caller's
    transaction: the same bytes as ``enqueue_many`` with ``verification_body``, encoded by
    ``trust.leaves.encode_verifications``. Each record: (record_id, instrument_id, institution_id,
    standard_id, verified_on, conclusion, due_on, document_no). ``write(table, columns, rows)`` writes
    the queue rows (the importer's COPY on PostgreSQL); by default an executemany."""
    rows_in = [
        (rid, iid, inst, std, on.isoformat(), conclusion, due.isoformat() if due else None, doc)
        for rid, iid, inst, std, on, conclusion, due, doc in records
    ]
    encoded = leaves.encode_verifications(rows_in, recorded_at.astimezone(UTC).isoformat())
    now = _db_time(conn, datetime.now(UTC))
    rows = [("verification_recorded", body, now) for body in encoded]
    (write or (lambda t, c, r: _insert_many(conn, t, c, r)))("log_queue", ("kind", "body", "created_at"), rows)
    return len(rows)


def _db_time(conn: Connection, value: datetime) -> Any:
    # Rows written past SQLAlchemy must use its SQLite form for datetimes (ISO text), as transfer/ does.
    return value.isoformat() if conn.dialect.name == "sqlite" else value


def _insert_many(
    conn: Connection, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    """A plain DB-API executemany: SQLAlchemy's per-row parameter processing was 80 % of an append."""
    if not rows:
        return
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    conn.exec_driver_sql(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))})",
        list(rows),
    )


def verification_body_of(row: Mapping[str, Any]) -> dict[str, Any]:
    """``verification_body`` from a mapping of a verification record's columns (its id as ``id``)."""
    return verification_body(
        record_id=row["id"],
        instrument_id=row["instrument_id"],
        institution_id=row["institution_id"],
        standard_id=row["standard_id"],
        verified_on=row["verified_on"],
        conclusion=row["conclusion"],
        document_no=row["document_no"],
        due_on=row["due_on"],
        supersedes_id=row["supersedes_id"],
        recorded_at=row["recorded_at"],
    )


# --- sequencing -------------------------------------------------------------------------------------


def _key(level: int, index: int) -> int:
    return level << LEVEL_SHIFT | index


def _lock_state(session: Session) -> int:
    """Take the log's write lock (the ``log_state`` row) and return the sequenced size.

    The upsert is the first write of the transaction, so on SQLite it takes the database write lock
    before anything is read (no stale snapshot), and on PostgreSQL ``FOR UPDATE`` queues sequencers.
    """
    postgres = session.get_bind().dialect.name == "postgresql"
    dialect_insert = postgresql.insert if postgres else sqlite.insert
    session.execute(dialect_insert(LogState).values(id=1, size=0).on_conflict_do_nothing())
    stmt = select(LogState.size).where(LogState.id == 1)
    if postgres:
        stmt = stmt.with_for_update()
    return int(session.execute(stmt).scalar_one())


def tree_size(session: Session) -> int:
    """How many leaves are sequenced (0 before the first ``sequence``)."""
    # Plain SQL: this runs before every proof, where the ORM's statement overhead would be a third of it.
    size = session.connection().exec_driver_sql("SELECT size FROM log_state WHERE id = 1").scalar()
    return int(size or 0)


def sequence(session: Session, batch: int = 50_000) -> int:
    """Move up to ``batch`` queued leaves into the tree, in queue order; return how many.

    Runs in the caller's transaction and holds the log lock until it commits; concurrent callers wait
    and then see the queue without the rows already taken.
    """
    if batch < 1:
        raise InvalidInput("批量必须为正 / batch must be positive", field="batch")
    size = _lock_state(session)
    conn = session.connection()
    # Raw DB-API rows: the created_at values go back out exactly as they came in, with no conversion, and
    # SQLAlchemy's result layer (a tenth of a batch) is skipped.
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(f"SELECT id, kind, body, created_at FROM log_queue ORDER BY id LIMIT {int(batch)}")
        queued = cursor.fetchall()
    finally:
        cursor.close()
    if not queued:
        return 0
    # The right edge of the tree: the complete subtrees of the first `size` leaves that new leaves join.
    known = _fetch(session, merkle.complete_subtrees(0, size))
    leaves: list[tuple[Any, ...]] = []
    nodes: list[tuple[int, bytes]] = []
    sha = hashlib.sha256
    for index, (_, kind, body, created_at) in enumerate(queued, size):
        h = sha(b"\x00" + body).digest()
        leaves.append((index, index >> BUCKET_SHIFT, h, kind, body, created_at))
        level, j = 0, index
        while j & 1:  # a right child completes its parent
            h = sha(b"\x01" + known.pop((level, j - 1)) + h).digest()
            level += 1
            j >>= 1
            nodes.append((level << LEVEL_SHIFT | j, h))
        known[(level, j)] = h
    columns = ("leaf_index", "hash_bucket", "leaf_hash", "kind", "body", "created_at")
    _insert_many(conn, "log_leaves", columns, leaves)
    _insert_many(conn, "log_nodes", ("node_id", "hash"), nodes)
    ids = [row[0] for row in queued]
    if ids[-1] - ids[0] + 1 == len(ids):  # the usual case: one contiguous run of ids
        conn.execute(delete(LogQueueEntry).where(LogQueueEntry.id.between(ids[0], ids[-1])))
    else:
        for start in range(0, len(ids), 5000):
            conn.execute(delete(LogQueueEntry).where(LogQueueEntry.id.in_(ids[start : start + 5000])))
    conn.execute(update(LogState).where(LogState.id == 1).values(size=size + len(queued)))
    return len(queued)


# --- reading the tree -------------------------------------------------------------------------------


def _fetch(
    session: Session, keys: Iterable[tuple[int, int]], field: str = "size"
) -> dict[tuple[int, int], bytes]:
    """The stored hashes of these complete subtrees, in one query over both primary keys (level 0 from
    ``log_leaves``, the rest from ``log_nodes``).

    A missing node means the keys reach past the sequenced log: callers include the subtree that ends at
    the size they ask about, so this one query also checks the size.
    """
    ids = {level << LEVEL_SHIFT | index for level, index in keys}
    if not ids:
        return {}
    leaf_ids = [i for i in ids if i <= INDEX_MASK]  # level 0: the key is the leaf index itself
    node_ids = [i for i in ids if i > INDEX_MASK]
    parts = []
    if node_ids:
        parts.append(f"SELECT node_id, hash FROM log_nodes WHERE node_id IN ({','.join(map(str, node_ids))})")
    if leaf_ids:
        parts.append(
            f"SELECT leaf_index, leaf_hash FROM log_leaves WHERE leaf_index IN ({','.join(map(str, leaf_ids))})"
        )
    # The DB-API cursor itself, with the integer keys inlined (integers only, so this is safe): on the hot
    # path of every proof SQLAlchemy's binding and result layers cost more than the lookup itself.
    cursor = session.connection().connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(" UNION ALL ".join(parts))
        rows = cursor.fetchall()
    finally:
        cursor.close()
    if len(rows) != len(ids):
        raise InvalidInput(
            f"所求的树大小超过已排序的日志 / the requested tree size is beyond the sequenced log ({field})",
            field=field,
        )
    return {(nid >> LEVEL_SHIFT, nid & INDEX_MASK): bytes(h) for nid, h in rows}


def _check_size(size: int, field: str) -> None:
    if size < 0:
        raise InvalidInput(f"{field} 不能为负 / {field} must not be negative", field=field)


def root_at(session: Session, size: int) -> bytes:
    """The root hash of the first ``size`` leaves (RFC 9162 MTH), from O(log size) stored subtrees."""
    _check_size(size, "size")
    if size == 0:
        return merkle.EMPTY_ROOT
    keys = merkle.complete_subtrees(0, size)  # the last one ends at `size`: checks it is sequenced
    stored = _fetch(session, keys)
    return merkle.fold([stored[k] for k in keys])


def _proof(session: Session, ranges: Sequence[tuple[int, int]], size: int, field: str) -> list[bytes]:
    parts = [merkle.complete_subtrees(s, e) for s, e in ranges]
    # The last leaf of the tree is fetched too: it exists exactly when `size` is within the log.
    stored = _fetch(session, [(0, size - 1), *(k for keys in parts for k in keys)], field)
    return [merkle.fold([stored[k] for k in keys]) for keys in parts]


def inclusion_proof(session: Session, index: int, size: int) -> list[bytes]:
    """The RFC 9162 inclusion proof of leaf ``index`` in the tree of ``size`` leaves."""
    return _proof(session, merkle.inclusion_ranges(index, size), size, "size")


def consistency_proof(session: Session, size1: int, size2: int) -> list[bytes]:
    """The RFC 9162 consistency proof from the tree of ``size1`` leaves to that of ``size2``."""
    ranges = merkle.consistency_ranges(size1, size2)
    if size2 == 0:
        return []
    return _proof(session, ranges, size2, "second")


def find_leaf(session: Session, leaf_hash: bytes) -> int | None:
    """The first index at which a leaf with this RFC 9162 leaf hash was sequenced, if any.

    One index probe per bucket of 2^16 leaves (models.LogLeaf says why the index is bucketed): about
    1 ms for the 153 buckets of 10 million leaves, through the DB-API cursor with the bucket numbers
    inlined (integers only) since SQLAlchemy's expanding ``IN`` doubled that.
    """
    buckets = (tree_size(session) + (1 << BUCKET_SHIFT) - 1) >> BUCKET_SHIFT
    if not buckets:
        return None
    conn = session.connection()
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(
            f"SELECT min(leaf_index) FROM log_leaves WHERE hash_bucket IN ({','.join(map(str, range(buckets)))})"
            f" AND leaf_hash = {mark}",
            (leaf_hash,),
        )
        row = cursor.fetchone()
    finally:
        cursor.close()
    return None if row is None or row[0] is None else int(row[0])


def is_queued(session: Session, leaf: bytes) -> bool:
    """Whether exactly these leaf bytes wait in the queue (a scan of the queue, which holds at most the
    leaves of one checkpoint interval)."""
    found = session.execute(select(LogQueueEntry.id).where(LogQueueEntry.body == leaf).limit(1)).first()
    return found is not None


@dataclass(frozen=True)
class Entry:
    index: int
    leaf_hash: bytes
    kind: str
    body: bytes
    created_at: datetime


def entries(session: Session, start: int, end: int) -> list[Entry]:
    """Sequenced leaves ``[start, end)``, at most ``MAX_ENTRIES`` of them."""
    if start < 0 or end < start:
        raise InvalidInput("需要 0 ≤ start ≤ end / need 0 <= start <= end", field="start")
    end = min(end, start + MAX_ENTRIES)
    rows = session.execute(
        select(LogLeaf.leaf_index, LogLeaf.leaf_hash, LogLeaf.kind, LogLeaf.body, LogLeaf.created_at)
        .where(LogLeaf.leaf_index >= start, LogLeaf.leaf_index < end)
        .order_by(LogLeaf.leaf_index)
    ).all()
    return [Entry(int(i), bytes(h), k, bytes(b), c) for i, h, k, b, c in rows]


def pending(session: Session) -> int:
    """Leaves queued but not yet sequenced."""
    return int(session.scalar(select(func.count()).select_from(LogQueueEntry)) or 0)


# --- signed tree heads ------------------------------------------------------------------------------


def _passphrase(settings: Settings) -> bytes:
    if settings.log_key_passphrase:
        return settings.log_key_passphrase.encode()
    if settings.environment == "production":
        raise InvalidInput(
            "生产环境必须设置日志签名密钥口令 JILIANG_LOG_KEY_PASSPHRASE / the log's signing key needs "
            "JILIANG_LOG_KEY_PASSPHRASE in production",
            field="log_key_passphrase",
        )
    log.warning(
        "日志签名密钥使用开发口令 / the log signing key uses the development passphrase; "
        "set JILIANG_LOG_KEY_PASSPHRASE"
    )
    return DEV_PASSPHRASE.encode()


def _key_row(session: Session, settings: Settings) -> LogKey:
    """The log's key, generated on first use (under the log lock, so only once)."""
    row = session.get(LogKey, 1)
    if row is not None:
        return row
    _lock_state(session)
    row = session.get(LogKey, 1)
    if row is not None:
        return row
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, BestAvailableEncryption(_passphrase(settings)))
    row = LogKey(
        id=1,
        name=settings.log_origin,
        public_key=public_bytes(key),
        private_key_pkcs8=pem,
        created_at=datetime.now(UTC),
    )
    session.add(row)
    session.flush()
    return row


def _private_key(row: LogKey, settings: Settings) -> Ed25519PrivateKey:
    try:
        key = load_pem_private_key(bytes(row.private_key_pkcs8), password=_passphrase(settings))
    except (ValueError, TypeError):
        raise InvalidInput(
            "日志签名密钥口令错误 / the log key passphrase does not open the stored key",
            field="log_key_passphrase",
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise InvalidInput("存储的日志密钥不是 Ed25519 / the stored log key is not Ed25519", field="log_key")
    return key


def log_public_key(session: Session, settings: Settings) -> str:
    """The verifier key (``name+keyid+base64``) that witnesses and clients pin."""
    row = _key_row(session, settings)
    return verifier_key(row.name, bytes(row.public_key))


def publish_checkpoint(session: Session, settings: Settings) -> Checkpoint:
    """Sign and store a tree head for everything sequenced so far (in the caller's transaction)."""
    size = _lock_state(session)
    row = _key_row(session, settings)
    latest = latest_checkpoint(session)
    if latest is not None and latest.size == size:
        return latest
    root_hash = root_at(session, size)
    note = sign_note(format_checkpoint(row.name, size, root_hash), _private_key(row, settings), row.name)
    session.add(LogCheckpointRow(size=size, root_hash=root_hash, note=note, created_at=datetime.now(UTC)))
    session.flush()
    return Checkpoint(origin=row.name, size=size, root_hash=root_hash, text=note)


def latest_checkpoint(session: Session) -> Checkpoint | None:
    """The most recently published signed tree head, if any."""
    found = session.execute(
        select(LogCheckpointRow.size, LogCheckpointRow.root_hash, LogCheckpointRow.note)
        .order_by(LogCheckpointRow.id.desc())
        .limit(1)
    ).first()
    if found is None:
        return None
    size, root_hash, note = found
    return Checkpoint(origin=note.split("\n", 1)[0], size=int(size), root_hash=bytes(root_hash), text=note)


def require_checkpoint(session: Session) -> Checkpoint:
    found = latest_checkpoint(session)
    if found is None:
        raise NotFound("日志尚未发布树头 / the log has published no tree head yet", field="checkpoint")
    return found


# --- whole operations, each in its own transactions ---------------------------------------------------


def sequence_pending(platform: Platform, batch: int = 50_000) -> int:
    """Sequence everything queued, one batch per transaction; return how many leaves were added."""
    total = 0
    while True:
        with platform.unit_of_work() as s:
            n = sequence(s, batch)
        total += n
        if n < batch:
            return total


def current_checkpoint(platform: Platform) -> Checkpoint:
    with platform.reading() as s:
        return require_checkpoint(s)


def current_size(platform: Platform) -> int:
    with platform.reading() as s:
        return tree_size(s)


def log_verifier_key(platform: Platform) -> str:
    """The log's verifier key; a unit of work because the first call generates and stores the key."""
    with platform.unit_of_work() as s:
        return log_public_key(s, platform.settings)


def prove_inclusion(
    platform: Platform, size: int, *, index: int | None = None, leaf_hash: str | None = None
) -> tuple[int, bytes | None, list[bytes]]:
    """(leaf index, leaf hash or None, proof) for a leaf given by its index or by its hash in hex."""
    if (index is None) == (leaf_hash is None):
        raise InvalidInput(
            "需要 index 或 leaf_hash 之一 / give exactly one of index or leaf_hash", field="index"
        )
    wanted: bytes | None = None
    if leaf_hash is not None:
        try:
            wanted = bytes.fromhex(leaf_hash)
        except ValueError:
            raise InvalidInput("leaf_hash 不是十六进制 / leaf_hash is not hex", field="leaf_hash") from None
        if len(wanted) != 32:
            raise InvalidInput("leaf_hash 须为 32 字节 / leaf_hash must be 32 bytes", field="leaf_hash")
    with platform.reading() as s:
        if wanted is not None:
            index = find_leaf(s, wanted)
            if index is None or index >= size:
                raise NotFound("该叶子不在这棵树中 / no such leaf in a tree of that size", field="leaf_hash")
        assert index is not None
        return index, wanted, inclusion_proof(s, index, size)


def prove_consistency(platform: Platform, first: int, second: int) -> list[bytes]:
    with platform.reading() as s:
        return consistency_proof(s, first, second)


def read_entries(platform: Platform, start: int, end: int) -> list[Entry]:
    with platform.reading() as s:
        return entries(s, start, end)


def sequence_and_publish(platform: Platform, batch: int = 50_000) -> tuple[int, Checkpoint]:
    """What the log's timer does: sequence the queue, then sign and publish a tree head."""
    added = sequence_pending(platform, batch)
    with platform.unit_of_work() as s:
        head = publish_checkpoint(s, platform.settings)
    # After the commit: the file never holds a head the database rolled back on its own.
    log_publication.publish_new(platform)
    return added, head


class CheckpointTimer(Periodic):
    """The log's fixed interval inside a serving process: sequence the queue, publish a tree head.

    So `jiliang serve` alone keeps certificates from waiting in the queue; several timers (several
    servers) are safe, since sequencing locks the tree state and publishing the same size twice returns
    the head already published.
    """

    def __init__(self, platform: Platform, every_s: float) -> None:
        self.platform = platform
        super().__init__(
            every_s,
            self._round,
            "jiliang-log-checkpoint",
            "日志定时发布失败 / the log's checkpoint round failed",
        )

    def _round(self) -> None:
        added, head = sequence_and_publish(self.platform)
        if added:
            log.info("log: %d leaves sequenced, tree head %d", added, head.size)
