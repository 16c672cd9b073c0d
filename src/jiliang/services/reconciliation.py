"""The reconciliation audit: does the stored registry still say what the transparency log says?

The witness (``services.witness``) checks that the log only grows; it cannot see an insider who edits a
verification record, deletes a leaf together with the nodes above it, or sets a certificate's status in
the database only. This audit can. It re-derives every leaf from what is stored — each verification
record, each certificate issued here and its withdrawal or supersession — and compares them with the
leaves in the log (sequenced and queued); it recomputes the whole tree from the leaf bytes, checks every
stored subtree hash and every signed tree head against it, and compares the heads with the ones
published outside the database (``services.log_publication``).

Each disagreement is a ``Finding`` with a code (docs/transparency.md "Reconciliation audit" lists them):

* log integrity (exit status 3): ``leaf_hash_mismatch``, ``leaf_unreadable``, ``index_gap``,
  ``size_mismatch``, ``node_mismatch``, ``checkpoint_signature_invalid``, ``checkpoint_beyond_log``,
  ``checkpoint_root_mismatch``, ``published_checkpoint_missing``, ``rollback``, ``checkpoint_not_published``;
* registry against log (exit status 4): ``leaf_missing``, ``leaf_differs``, ``leaf_duplicated``,
  ``leaf_without_record``, ``status_mismatch``.

Memory grows with the register: the expected leaf bytes of every record and certificate event are held
while the log is read (a few hundred bytes each); time is one pass over the leaves, nodes and records.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, defer

from jiliang.errors import InvalidInput, ProofError
from jiliang.services import certificates, log_publication, transparency
from jiliang.services.periodic import Periodic
from jiliang.services.platform import Platform
from jiliang.store.models import Certificate, LogCheckpointRow, LogKey, VerificationRecord
from jiliang.trust import checkpoint as notes
from jiliang.trust import leaves, merkle
from jiliang.trust.certificate_check import ISSUED, SUPERSEDED, WITHDRAWN

LOG_CODES = frozenset(
    {
        "leaf_hash_mismatch",
        "leaf_unreadable",
        "index_gap",
        "size_mismatch",
        "node_mismatch",
        "checkpoint_signature_invalid",
        "checkpoint_beyond_log",
        "checkpoint_root_mismatch",
        "published_checkpoint_missing",
        "rollback",
        "checkpoint_not_published",
    }
)
REGISTRY_CODES = frozenset(
    {"leaf_missing", "leaf_differs", "leaf_duplicated", "leaf_without_record", "status_mismatch"}
)
EXIT_OK, EXIT_LOG, EXIT_REGISTRY = 0, 3, 4
CHUNK = 20_000
VERIFICATION = "verification_recorded"
STATUS_KINDS = (WITHDRAWN, SUPERSEDED)

log = logging.getLogger(__name__)
Identity = tuple[str, str]  # (kind, record id or certificate number)


@dataclass(frozen=True)
class Finding:
    code: str
    subject: str  # what it is about: "verification record 12", "certificate JD-1", "leaf 7", "tree head 5"
    message: str  # Chinese first, then English


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    leaves: int = 0
    queued: int = 0
    records: int = 0
    certificates: int = 0
    checkpoints: int = 0
    published: int = 0
    unreconciled: int = 0  # leaves of kinds with no registry source (supervision warnings)

    @property
    def exit_code(self) -> int:
        codes = {f.code for f in self.findings}
        if codes & LOG_CODES:
            return EXIT_LOG
        return EXIT_REGISTRY if codes else EXIT_OK

    def add(self, code: str, subject: str, message: str) -> None:
        assert code in LOG_CODES | REGISTRY_CODES, code
        self.findings.append(Finding(code, subject, message))


def _utc(value: datetime) -> datetime:
    # SQLite hands back naive datetimes; every time the platform stores is UTC.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _subject(identity: Identity) -> str:
    kind, key = identity
    return f"verification record {key}" if kind == VERIFICATION else f"certificate {key} ({kind})"


# --- what the registry says the log must hold -------------------------------------------------------


def _expected(s: Session, report: Report) -> dict[Identity, bytes]:
    """Identity → the leaf bytes the stored rows derive to."""
    out: dict[Identity, bytes] = {}
    cols = (
        VerificationRecord.id,
        VerificationRecord.instrument_id,
        VerificationRecord.institution_id,
        VerificationRecord.standard_id,
        VerificationRecord.verified_on,
        VerificationRecord.conclusion,
        VerificationRecord.document_no,
        VerificationRecord.due_on,
        VerificationRecord.supersedes_id,
        VerificationRecord.recorded_at,
    )
    for row in s.execute(select(*cols).execution_options(yield_per=CHUNK)).mappings():
        body = transparency.verification_body_of({**row, "recorded_at": _utc(row["recorded_at"])})
        out[(VERIFICATION, str(row["id"]))] = leaves.encode(VERIFICATION, body)
        report.records += 1
    numbers = dict(s.execute(select(Certificate.id, Certificate.number)).all())
    successor = {
        sup: numbers[cid]
        for cid, sup in s.execute(
            select(Certificate.id, Certificate.supersedes_id).where(Certificate.supersedes_id.is_not(None))
        )
    }
    for cert in s.scalars(
        select(Certificate).options(defer(Certificate.document)).where(Certificate.source == "issued")
    ):
        report.certificates += 1
        issued = certificates.issued_leaf(cert)
        out[(ISSUED, cert.number)] = leaves.encode(ISSUED, issued["body"])
        if cert.status != certificates.VALID:
            leaf = certificates.status_leaf(cert, successor.get(cert.id))
            kind = WITHDRAWN if cert.status == certificates.WITHDRAWN_STATUS else SUPERSEDED
            # No time of change: no leaf can be derived, so none can match (an edit of the status alone).
            out[(kind, cert.number)] = b"" if leaf is None else leaves.encode(leaf["kind"], leaf["body"])
    return out


def _identity(body: dict[str, Any]) -> Identity | None:
    kind = body.get("kind")
    if kind == VERIFICATION and "record_id" in body:
        return (VERIFICATION, str(body["record_id"]))
    if kind in (ISSUED, *STATUS_KINDS) and "number" in body:
        return (str(kind), str(body["number"]))
    return None


# --- the log as stored ------------------------------------------------------------------------------


def _rows(s: Session, sql: str, start: int) -> Iterator[tuple[Any, ...]]:
    cursor = s.connection().connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql.format(start=int(start), limit=CHUNK))
        return iter(cursor.fetchall())
    finally:
        cursor.close()


def _leaves(s: Session) -> Iterator[tuple[int, bytes, str, bytes]]:
    last = -1
    while True:
        chunk = list(
            _rows(
                s,
                "SELECT leaf_index, leaf_hash, kind, body FROM log_leaves WHERE leaf_index > {start} "
                "ORDER BY leaf_index LIMIT {limit}",
                last,
            )
        )
        if not chunk:
            return
        for index, h, kind, body in chunk:
            yield int(index), bytes(h), str(kind), bytes(body)
        last = int(chunk[-1][0])


def _queued(s: Session) -> Iterator[tuple[int, str, bytes]]:
    last = -1
    while True:
        chunk = list(
            _rows(
                s, "SELECT id, kind, body FROM log_queue WHERE id > {start} ORDER BY id LIMIT {limit}", last
            )
        )
        if not chunk:
            return
        for qid, kind, body in chunk:
            yield int(qid), str(kind), bytes(body)
        last = int(chunk[-1][0])


class _Matcher:
    """Matches leaves (sequenced, then queued) against the expected ones, by identity."""

    def __init__(self, expected: dict[Identity, bytes], report: Report) -> None:
        self.expected, self.report = expected, report
        self.seen: dict[Identity, str] = {}  # identity → where it was matched
        self.registered_certs: set[str] = {k for kind, k in expected if kind == ISSUED}

    def leaf(self, where: str, body: bytes) -> None:
        try:
            parsed = json.loads(body)
            identity = _identity(parsed) if isinstance(parsed, dict) else None
        except ValueError:
            self.report.add("leaf_unreadable", where, f"条目不是 JSON / {where} is not JSON")
            return
        if identity is None:
            self.report.unreconciled += 1
            return
        if identity in self.seen:
            self.report.add(
                "leaf_duplicated",
                _subject(identity),
                f"同一事件在日志中出现两次（{self.seen[identity]} 与 {where}）/ the same event is logged twice "
                f"({self.seen[identity]} and {where})",
            )
            return
        self.seen[identity] = where
        want = self.expected.pop(identity, None)
        if want is None:
            kind, key = identity
            if kind in STATUS_KINDS and key in self.registered_certs:
                self.report.add(
                    "status_mismatch",
                    _subject(identity),
                    f"日志记录证书 {key} 已{'撤销' if kind == WITHDRAWN else '被替代'}，登记库却不是 / the log "
                    f"({where}) records {kind} for {key}, the register does not",
                )
            else:
                self.report.add(
                    "leaf_without_record",
                    _subject(identity),
                    f"{where} 没有对应的登记记录（记录被删除？）/ {where} has no record in the register "
                    "(deleted?)",
                )
            return
        if want != body:
            self.report.add("leaf_differs", _subject(identity), _difference(identity, want, body, where))

    def leftovers(self) -> None:
        for identity in self.expected:
            kind, key = identity
            if kind in STATUS_KINDS:
                self.report.add(
                    "status_mismatch",
                    _subject(identity),
                    f"登记库中证书 {key} 为{'已撤销' if kind == WITHDRAWN else '已被替代'}，日志中没有这一事件 / the "
                    f"register says {key} is {'withdrawn' if kind == WITHDRAWN else 'superseded'}, the log has no "
                    "such entry",
                )
            else:
                self.report.add(
                    "leaf_missing",
                    _subject(identity),
                    f"{_subject(identity)} 在日志中没有条目（已排序和排队的都没有）/ {_subject(identity)} has no "
                    "leaf in the log, sequenced or queued",
                )


def _difference(identity: Identity, want: bytes, got: bytes, where: str) -> str:
    try:
        a, b = json.loads(want), json.loads(got)
        fields = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
        detail = "; ".join(f"{k}: 登记库 / register {a.get(k)!r} ≠ 日志 / log {b.get(k)!r}" for k in fields)
    except ValueError:
        detail = "?"
    return f"{_subject(identity)} 与 {where} 不一致 / differs from {where}: {detail}"


# --- the tree -------------------------------------------------------------------------------------


class _Tree:
    """Rebuilds the tree leaf by leaf (compact range), checking stored subtrees as they complete."""

    def __init__(self, s: Session, report: Report) -> None:
        self.s, self.report = s, report
        self.known: dict[tuple[int, int], bytes] = {}
        self.size = 0
        self.pending_nodes: list[tuple[int, bytes]] = []
        self.nodes = 0

    def add(self, leaf_hash: bytes) -> None:
        index, h, level, j = self.size, leaf_hash, 0, self.size
        while j & 1:
            h = hashlib.sha256(b"\x01" + self.known.pop((level, j - 1)) + h).digest()
            level += 1
            j >>= 1
            self.pending_nodes.append((level << transparency.LEVEL_SHIFT | j, h))
        self.known[(level, j)] = h
        self.size = index + 1
        if len(self.pending_nodes) >= CHUNK:
            self.flush()

    def root(self) -> bytes:
        if self.size == 0:
            return merkle.EMPTY_ROOT
        return merkle.fold([self.known[k] for k in merkle.complete_subtrees(0, self.size)])

    def flush(self) -> None:
        if not self.pending_nodes:
            return
        computed = dict(self.pending_nodes)
        self.nodes += len(computed)
        self.pending_nodes = []
        ids = ",".join(map(str, computed))
        cursor = self.s.connection().connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(f"SELECT node_id, hash FROM log_nodes WHERE node_id IN ({ids})")
            stored = {int(n): bytes(h) for n, h in cursor.fetchall()}
        finally:
            cursor.close()
        for node_id, h in computed.items():
            if stored.get(node_id) != h:
                level, index = node_id >> transparency.LEVEL_SHIFT, node_id & transparency.INDEX_MASK
                first, last = index << level, ((index + 1) << level) - 1
                self.report.add(
                    "node_mismatch",
                    f"subtree level {level} index {index}",
                    f"存储的子树哈希（叶子 {first}–{last}）与叶子重算的不符或缺失 / the stored hash of leaves "
                    f"{first}–{last} is missing or differs from the one the leaves give",
                )


# --- the whole audit --------------------------------------------------------------------------------


def reconcile(
    platform: Platform, *, verifier_key: str | None = None, publish_dir: Path | None = None
) -> Report:
    """Run every check; never raises for what it finds (each is a ``Finding``), only for bad input.

    ``verifier_key`` is the log's key as pinned by the operator (else the key stored in the database,
    which an insider could have replaced); ``publish_dir`` is the published heads' folder (else the
    configured one).
    """
    report = Report()
    directory = publish_dir or log_publication.folder(platform.settings)
    published = log_publication.read_published(directory)
    report.published = len(published)
    with platform.reading() as s:
        key = verifier_key or _stored_key(s)
        heads = _checkpoints(s, report, key)
        expected = _expected(s, report)
        matcher = _Matcher(expected, report)
        tree = _Tree(s, report)
        roots: dict[int, bytes] = {0: merkle.EMPTY_ROOT}
        wanted_sizes = {size for size, _ in heads} | {p.size for p in published}
        for index, stored_hash, kind, body in _leaves(s):
            if index != tree.size:
                report.add(
                    "index_gap",
                    f"leaf {tree.size}",
                    f"日志缺少叶子 {tree.size}–{index - 1} / leaves {tree.size}–{index - 1} are missing from the log",
                )
                break  # the tree cannot be rebuilt past a hole; the checkpoints after it are reported below
            h = merkle.leaf_hash(body)
            if h != stored_hash:
                report.add(
                    "leaf_hash_mismatch",
                    f"leaf {index}",
                    f"叶子 {index} 存储的哈希与其内容不符 / the stored hash of leaf {index} is not the hash of its bytes",
                )
            if _canonical_kind(body) != kind:
                report.add(
                    "leaf_unreadable",
                    f"leaf {index}",
                    f"叶子 {index} 的类型列与内容不符或内容不规范 / leaf {index}: kind column and bytes disagree, or "
                    "the bytes are not canonical",
                )
            tree.add(h)
            if tree.size in wanted_sizes:
                roots[tree.size] = tree.root()
            matcher.leaf(f"leaf {index}", body)
        tree.flush()
        report.leaves = tree.size
        for qid, _kind, body in _queued(s):
            report.queued += 1
            matcher.leaf(f"queued entry {qid}", body)
        matcher.leftovers()
        state = transparency.tree_size(s)
        if state != tree.size:
            report.add(
                "size_mismatch",
                "log_state",
                f"日志状态记录的大小 {state} 与连续叶子数 {tree.size} 不符 / the log state says {state} leaves, "
                f"{tree.size} are there in sequence",
            )
        stored_nodes = int(s.connection().exec_driver_sql("SELECT count(*) FROM log_nodes").scalar() or 0)
        if stored_nodes != tree.nodes:
            report.add(
                "node_mismatch",
                "log_nodes",
                f"存储了 {stored_nodes} 个子树哈希，叶子给出 {tree.nodes} 个 / {stored_nodes} subtree hashes stored, "
                f"the leaves give {tree.nodes}",
            )
    _check_heads(report, heads, roots, tree.size, "tree head")
    _check_published(report, published, heads, roots, tree.size, key)
    return report


def _stored_key(s: Session) -> str | None:
    row = s.get(LogKey, 1)
    return None if row is None else notes.verifier_key(row.name, bytes(row.public_key))


def _canonical_kind(body: bytes) -> str | None:
    try:
        parsed = json.loads(body)
        kind = parsed.pop("kind")
        parsed.pop("v")
        return str(kind) if leaves.encode(kind, parsed) == body else None
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def _checkpoints(s: Session, report: Report, key: str | None) -> list[tuple[int, bytes]]:
    """(size, root) of every stored head whose signature verifies; a bad one is a finding."""
    out = []
    for hid, size, root, note in s.execute(
        select(
            LogCheckpointRow.id, LogCheckpointRow.size, LogCheckpointRow.root_hash, LogCheckpointRow.note
        ).order_by(LogCheckpointRow.id)
    ):
        report.checkpoints += 1
        try:
            if key is None:
                raise ProofError("no log key", field="verifier_key")
            head = notes.verify_note(str(note), key)
            if head.size != int(size) or head.root_hash != bytes(root):
                raise ProofError("columns differ from the signed note", field="note")
        except InvalidInput as exc:
            report.add(
                "checkpoint_signature_invalid",
                f"tree head #{hid} (size {size})",
                f"数据库中的树头 #{hid} 签名无效或与其列不符 / stored tree head #{hid} does not verify: {exc.message}",
            )
            continue
        out.append((head.size, head.root_hash))
    return out


def _check_heads(
    report: Report, heads: list[tuple[int, bytes]], roots: dict[int, bytes], size: int, what: str
) -> None:
    for n, root in heads:
        if n > size:
            report.add(
                "checkpoint_beyond_log",
                f"{what} size {n}",
                f"已签名的树头大小 {n}，日志只剩 {size} 个连续叶子（叶子被删除）/ a signed tree head of size {n}, "
                f"the log has only {size} leaves in sequence (leaves deleted)",
            )
        elif roots.get(n) != root:
            report.add(
                "checkpoint_root_mismatch",
                f"{what} size {n}",
                f"由叶子重算的大小 {n} 的根与签名树头不符：历史被改写 / the root recomputed from the leaves at size "
                f"{n} is not the signed one: history rewritten",
            )


def _check_published(
    report: Report,
    published: list[log_publication.Published],
    heads: list[tuple[int, bytes]],
    roots: dict[int, bytes],
    size: int,
    key: str | None,
) -> None:
    in_db = set(heads)
    seen: set[tuple[int, bytes]] = set()
    largest = 0
    for p in published:
        where = f"published head line {p.line} (size {p.size})"
        try:
            if key is None:
                raise ProofError("no log key", field="verifier_key")
            head = notes.verify_note(p.note, key)
        except InvalidInput as exc:
            report.add(
                "checkpoint_signature_invalid",
                where,
                f"已发布树头签名无效 / published head does not verify: {exc.message}",
            )
            continue
        ident = (head.size, head.root_hash)
        seen.add(ident)
        largest = max(largest, head.size)
        if head.size > size:
            report.add(
                "rollback",
                where,
                f"已发布大小 {head.size} 的树头，数据库的日志只有 {size} 个叶子：数据库被回滚或叶子被删 / a head of size "
                f"{head.size} was published, the database's log has {size} leaves: rolled back or deleted",
            )
        elif roots.get(head.size) != head.root_hash:
            report.add(
                "checkpoint_root_mismatch",
                where,
                f"由叶子重算的大小 {head.size} 的根与已发布的树头不符：历史被改写 / the root recomputed at size "
                f"{head.size} is not the published one: history rewritten",
            )
        if ident not in in_db:
            report.add(
                "published_checkpoint_missing",
                where,
                "已发布的树头不在数据库中（被删除或回滚）/ a published head is no longer in the database (deleted or "
                "rolled back)",
            )
    for ident in in_db - seen:
        report.add(
            "checkpoint_not_published",
            f"tree head size {ident[0]}",
            "数据库中的树头未发布到库外（下一轮发布会补上；持续出现则发布失败或树头是伪造的）/ a head in the "
            "database was not published outside it (the next round catches up; if it persists, publishing "
            "fails or the head was inserted)",
        )


def reconcile_job(platform: Platform) -> int:
    """What a scheduler calls: run the audit, log each finding, return the exit status."""
    report = reconcile(platform)
    for f in report.findings:
        log.error("对账发现 / reconciliation finding %s %s: %s", f.code, f.subject, f.message)
    return report.exit_code


class ReconcileTimer(Periodic):
    """The reconciliation audit on a schedule inside `jiliang serve` (``reconcile_every_minutes``): each
    finding is logged at ERROR level for the operator's log monitoring; cron with `jiliang log reconcile`
    and its exit codes is the alternative outside the server."""

    def __init__(self, platform: Platform, every_s: float) -> None:
        super().__init__(
            every_s,
            lambda: log.info("对账完成 / reconciliation done, exit status %d", reconcile_job(platform)),
            "jiliang-log-reconcile",
            "对账失败 / the reconciliation round failed",
        )
