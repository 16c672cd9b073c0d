"""The transparency log in storage, on SQLite and PostgreSQL: queue, sequencing, proofs, tree heads, witness."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select

from jiliang.errors import InvalidInput, ProofError
from jiliang.services import transparency, witness
from jiliang.services.platform import Platform
from jiliang.settings import Settings
from jiliang.store.models import LogLeaf, LogNode, LogQueueEntry, VerificationRecord
from jiliang.trust import merkle
from jiliang.trust.checkpoint import Checkpoint, format_checkpoint, sign_note, verify_note
from tests.factories import World


def _queue(platform: Platform, n: int, start: int = 0) -> None:
    with platform.unit_of_work() as s:
        transparency.enqueue_many(
            s, "certificate_issued", ({"certificate_no": f"C-{i}", "n": i} for i in range(start, start + n))
        )


def _leaf_hashes(platform: Platform) -> list[bytes]:
    with platform.reading() as s:
        rows = s.execute(select(LogLeaf.leaf_index, LogLeaf.body).order_by(LogLeaf.leaf_index)).all()
    assert [r[0] for r in rows] == list(range(len(rows)))
    return [merkle.leaf_hash(bytes(r[1])) for r in rows]


def test_lookup_by_hash_spans_every_bucket_and_finds_the_first(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Buckets of 4 leaves instead of 65,536, so that 30 leaves span 8 of them (the last one partial).
    monkeypatch.setattr(transparency, "BUCKET_SHIFT", 2)
    _queue(platform, 25)
    _queue(platform, 5, start=3)  # the bodies of leaves 3..7 again, at 25..29
    while True:
        with platform.unit_of_work() as s:
            if not transparency.sequence(s, 7):
                break
    hashes = _leaf_hashes(platform)
    with platform.reading() as s:
        buckets = [b for (b,) in s.execute(select(LogLeaf.hash_bucket).order_by(LogLeaf.leaf_index))]
        assert buckets == [i >> 2 for i in range(30)]
        for index in range(30):
            first = index - 22 if index >= 25 else index
            assert transparency.find_leaf(s, hashes[index]) == first
        assert transparency.find_leaf(s, merkle.leaf_hash(b"never logged")) is None
        # Level 0 lives in log_leaves only: the node table starts at level 1 (15 pairs, 7 quads, ...).
        stored = s.execute(select(func.count()).select_from(LogNode)).scalar_one()
        assert stored == 15 + 7 + 3 + 1
        assert transparency.root_at(s, 30) == merkle.root(hashes)


def test_leaf_bytes_are_canonical() -> None:
    got = transparency.leaf_bytes("verification_recorded", {"b": "检定", "a": 1, "c": None, "d": [True]})
    assert got == '{"a":1,"b":"检定","c":null,"d":[true],"kind":"verification_recorded","v":1}'.encode()
    for bad in ({"x": 1.5}, {"kind": "x"}, {"v": 2}, {"x": {1: "a"}}):
        with pytest.raises(InvalidInput):
            transparency.leaf_bytes("verification_recorded", bad)
    with pytest.raises(InvalidInput, match="unknown log entry kind"):
        transparency.leaf_bytes("made_up", {})


def test_sequenced_tree_matches_the_reference_at_every_size(platform: Platform) -> None:
    sizes = []
    for n, batch in ((1, 10), (6, 4), (30, 7), (63, 64), (100, 33)):
        _queue(platform, n, start=sum(sizes))
        while True:
            with platform.unit_of_work() as s:
                if not transparency.sequence(s, batch):
                    break
        sizes.append(n)
    hashes = _leaf_hashes(platform)
    assert len(hashes) == sum(sizes) == 200
    with platform.reading() as s:
        assert transparency.tree_size(s) == 200
        assert transparency.pending(s) == 0
        for size in range(0, 201):
            assert transparency.root_at(s, size) == merkle.root(hashes[:size]), size
        for size in (1, 2, 3, 7, 8, 64, 65, 127, 200):
            for index in range(size):
                proof = transparency.inclusion_proof(s, index, size)
                assert proof == merkle.inclusion_proof(hashes[:size], index)
            for first in range(1, size + 1):
                assert transparency.consistency_proof(s, first, size) == merkle.consistency_proof(
                    hashes[:size], first
                )
        assert transparency.find_leaf(s, hashes[57]) == 57
        assert transparency.find_leaf(s, merkle.leaf_hash(b"never logged")) is None
        assert [e.index for e in transparency.entries(s, 190, 5000)] == list(range(190, 200))
        with pytest.raises(InvalidInput, match="beyond the sequenced log"):
            transparency.inclusion_proof(s, 0, 201)
        with pytest.raises(InvalidInput, match="beyond the sequenced log"):
            transparency.consistency_proof(s, 5, 201)
        with pytest.raises(InvalidInput, match="beyond the sequenced log"):
            transparency.root_at(s, 201)


def test_a_rolled_back_change_leaves_no_leaf(platform: Platform) -> None:
    with pytest.raises(RuntimeError), platform.unit_of_work() as s:
        transparency.enqueue(s, "certificate_issued", {"certificate_no": "X"})
        raise RuntimeError("the business change failed")
    with platform.reading() as s:
        assert transparency.pending(s) == 0


def test_concurrent_sequencers_neither_duplicate_nor_lose(platform: Platform) -> None:
    _queue(platform, 1200)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            transparency.sequence_pending(platform, batch=37)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    # Enqueue while they run: these must be sequenced exactly once too.
    _queue(platform, 300, start=1200)
    for t in threads:
        t.join()
    assert not errors, errors
    transparency.sequence_pending(platform)
    with platform.reading() as s:
        bodies = [json.loads(b) for b in s.scalars(select(LogLeaf.body).order_by(LogLeaf.leaf_index))]
        assert s.scalar(select(func.count()).select_from(LogQueueEntry)) == 0
        size = transparency.tree_size(s)
        root = transparency.root_at(s, size)
    assert sorted(b["n"] for b in bodies) == list(range(1500))
    assert size == 1500
    assert root == merkle.root(_leaf_hashes(platform))


def test_checkpoint_is_a_signed_note_that_verifies(platform: Platform) -> None:
    _queue(platform, 10)
    added, head = transparency.sequence_and_publish(platform)
    assert added == 10 and head.size == 10
    with platform.unit_of_work() as s:
        vkey = transparency.log_public_key(s, platform.settings)
        assert transparency.latest_checkpoint(s) == head
    assert vkey.startswith("jiliang.example/log+")
    parsed = verify_note(head.text, vkey)
    assert (parsed.origin, parsed.size, parsed.root_hash) == ("jiliang.example/log", 10, head.root_hash)
    assert head.text.startswith(format_checkpoint("jiliang.example/log", 10, head.root_hash) + "\n\u2014 ")
    # One character changed in the body: the signature no longer verifies.
    forged = head.text.replace("\n10\n", "\n11\n", 1)
    with pytest.raises(ProofError, match="does not verify"):
        verify_note(forged, vkey)
    # A note signed by another key under the same name.
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    other = sign_note(
        format_checkpoint("jiliang.example/log", 10, head.root_hash), Ed25519PrivateKey.generate()
    )
    with pytest.raises(ProofError, match="different key"):
        verify_note(other, vkey)
    wrong_name = vkey.replace("jiliang.example/log", "other.example/log", 1)
    with pytest.raises(ProofError):
        verify_note(head.text, wrong_name)
    # Publishing again with nothing new signs nothing new.
    assert transparency.sequence_and_publish(platform)[1] == head


def test_the_key_is_stored_encrypted_and_needs_its_passphrase(platform: Platform) -> None:
    from jiliang.store.models import LogKey

    settings = platform.settings.model_copy(update={"log_key_passphrase": "a proper passphrase"})
    with platform.unit_of_work() as s:
        transparency.publish_checkpoint(s, settings)
    with platform.reading() as s:
        pem = bytes(s.get(LogKey, 1).private_key_pkcs8)  # type: ignore[union-attr]
    assert pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    _queue(platform, 1)
    transparency.sequence_pending(platform)
    wrong = settings.model_copy(update={"log_key_passphrase": "another passphrase"})
    with pytest.raises(InvalidInput, match="passphrase"), platform.unit_of_work() as s:
        transparency.publish_checkpoint(s, wrong)


def test_production_refuses_the_development_passphrase(platform: Platform) -> None:
    prod = Settings(
        environment="production", secret_key="s" * 32, database_url=platform.settings.database_url
    )
    with pytest.raises(InvalidInput, match="JILIANG_LOG_KEY_PASSPHRASE"), platform.unit_of_work() as s:
        transparency.publish_checkpoint(s, prod)


def test_every_verification_record_becomes_a_leaf(world: World) -> None:
    from tests.factories import authorise_all
    from tests.test_registry import FUEL, file, verify

    authorise_all(world, [FUEL])
    inst = file(world, "LOG-1")
    first = verify(world, inst.id, "2026-03-01")
    fix = verify(world, inst.id, "2026-03-01", conclusion="fail", supersedes_id=first.id)
    platform = world.platform
    transparency.sequence_pending(platform)
    with platform.reading() as s:
        leaves = list(s.scalars(select(LogLeaf).order_by(LogLeaf.leaf_index)))
        records = {r.id: r for r in s.scalars(select(VerificationRecord))}
    assert [json.loads(x.body)["record_id"] for x in leaves] == [first.id, fix.id]
    body = json.loads(leaves[1].body)
    assert body == {
        "kind": "verification_recorded",
        "v": 1,
        "record_id": fix.id,
        "instrument_id": inst.id,
        "institution_id": world.institution_id,
        "standard_id": None,
        "verified_on": "2026-03-01",
        "conclusion": "fail",
        "document_no": records[fix.id].document_no,
        "due_on": None,
        "supersedes_id": first.id,
        "recorded_at": "2026-06-15T02:00:00+00:00",
    }
    assert leaves[1].leaf_hash == merkle.leaf_hash(leaves[1].body)


# --- witness ----------------------------------------------------------------------------------------


class Replaying(witness.DatabaseLog):
    """A log that answers with a note it chooses (an attacker's server)."""

    def __init__(self, platform: Platform, note: str) -> None:
        super().__init__(platform)
        self.note = note

    def checkpoint_note(self) -> str:
        return self.note


def test_witness_accepts_growth_and_detects_a_replayed_old_head(platform: Platform, tmp_path: Path) -> None:
    state = tmp_path / "witness.json"
    source = witness.DatabaseLog(platform)
    _queue(platform, 5)
    old = transparency.sequence_and_publish(platform)[1]
    assert witness.observe(source, state).outcome == "first"
    assert witness.observe(source, state).outcome == "unchanged"
    _queue(platform, 20, start=5)
    new = transparency.sequence_and_publish(platform)[1]
    seen = witness.observe(source, state)
    assert seen.outcome == "grown" and seen.current.size == 25
    # The log (or a man in the middle) now serves the genuine, validly signed older head.
    with pytest.raises(ProofError, match="replayed older tree head"):
        witness.observe(Replaying(platform, old.text), state)
    # The state still holds the last accepted head: the evidence is kept.
    assert json.loads(state.read_text())["checkpoint"] == new.text


def test_witness_detects_a_rewritten_history(platform: Platform, tmp_path: Path) -> None:
    """The operator rebuilds the log with one leaf altered and signs it with the log's own key."""
    state = tmp_path / "witness.json"
    _queue(platform, 9)
    transparency.sequence_and_publish(platform)
    witness.observe(witness.DatabaseLog(platform), state)
    with platform.reading() as s:
        bodies = [bytes(b) for b in s.scalars(select(LogLeaf.body).order_by(LogLeaf.leaf_index))]
    bodies[2] = bodies[2].replace(b"C-2", b"C-X")
    bodies += [b"extra %d" % i for i in range(4)]
    forged_root = merkle.root([merkle.leaf_hash(b) for b in bodies])
    from jiliang.services.transparency import _key_row, _private_key

    with platform.unit_of_work() as s:
        key = _private_key(_key_row(s, platform.settings), platform.settings)
    forged = sign_note(format_checkpoint("jiliang.example/log", 13, forged_root), key)

    class Rewritten(Replaying):
        def consistency(self, first: int, second: int) -> list[bytes]:
            return merkle.consistency_proof([merkle.leaf_hash(b) for b in bodies], first)

    with pytest.raises(ProofError, match="history rewritten"):
        witness.observe(Rewritten(platform, forged), state)
    same_size_fork = sign_note(format_checkpoint("jiliang.example/log", 9, forged_root), key)
    with pytest.raises(ProofError, match="fork"):
        witness.observe(Replaying(platform, same_size_fork), state)
    assert isinstance(verify_note(json.loads(state.read_text())["checkpoint"], _vkey(platform)), Checkpoint)


def _vkey(platform: Platform) -> str:
    with platform.unit_of_work() as s:
        return transparency.log_public_key(s, platform.settings)


def test_bulk_import_queues_one_leaf_per_record_in_its_transaction(world: World) -> None:
    from tests.factories import authorise_all
    from tests.test_transfer import _file, _vimport, ver

    authorise_all(world, ["09.01"])
    for i in range(3):
        _file(world, f"V{i}")
    with pytest.raises(InvalidInput):  # a refused file writes neither records nor leaves
        _vimport(world, "institution", [ver("V0"), ver("NO-SUCH-SERIAL")])()
    with world.platform.reading() as s:
        assert transparency.pending(s) == 0
    report = _vimport(world, "institution", [ver("V0"), ver("V1", conclusion="不合格"), ver("V2")])()
    assert report.rows_written == 3
    transparency.sequence_pending(world.platform)
    with world.platform.reading() as s:
        logged = sorted(json.loads(b)["record_id"] for b in s.scalars(select(LogLeaf.body)))
        ids = sorted(s.scalars(select(VerificationRecord.id)))
    assert logged == ids and len(ids) == 3


def test_the_demo_city_is_logged_under_a_signed_tree_head(platform: Platform) -> None:
    from jiliang.demo import DemoConfig, build_demo

    summary = build_demo(
        platform, DemoConfig(instruments=200, seed=6, chunk=80), password="x" * 12, snapshots=False
    )
    # Every record, then every certificate event: each issue, one withdrawal, one supersession; then the
    # market sample: its seed commitment, its draw and each inspection result; then remote supervision:
    # each warning raised and each disposal or closing (demo/warnings.py).
    certs, market, warned = summary.certificates, summary.market, summary.warnings
    assert certs is not None and certs.issued > 0 and market is not None and warned is not None
    assert warned.leaves > warned.warnings > 0
    assert summary.log_size == summary.records + certs.issued + 2 + 2 + market.results + warned.leaves
    with platform.unit_of_work() as s:
        head = transparency.latest_checkpoint(s)
        vkey = transparency.log_public_key(s, platform.settings)
        assert head is not None
        leaf = transparency.entries(s, 7, 8)[0]
        proof = transparency.inclusion_proof(s, 7, head.size)
    checked = verify_note(head.text, vkey)
    merkle.verify_inclusion(merkle.leaf_hash(leaf.body), 7, checked.size, proof, checked.root_hash)
    assert json.loads(leaf.body)["kind"] == "verification_recorded"
