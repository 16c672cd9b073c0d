"""Issue 14 (2): checkpoints cosigned by a C2SP witness that keeps its own memory outside the database.

The witness (``services.tlog_witness``) follows c2sp.org/tlog-witness (add-checkpoint: 200 with a
cosignature, 400 malformed, 403 bad signature, 404 unknown log, 409 with ``text/x.tlog.size`` when the
old size is not the one it holds or a same-size root differs, 422 when the consistency proof fails) and
c2sp.org/tlog-cosignature (Ed25519 cosignature/v1, key ID algorithm byte 0x04). The log's database is
attacked with plain SQL; the witness, which never reads it, refuses to cosign the rewritten history.
"""

from __future__ import annotations

import base64
import hashlib
import struct
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from sqlalchemy import text
from typer.testing import CliRunner

from jiliang.api.witness_app import create_witness_app
from jiliang.cli import app as cli
from jiliang.commands.log import run_audit
from jiliang.errors import ProofError
from jiliang.services import tlog_witness, transparency, witness
from jiliang.services.platform import Platform
from jiliang.trust import cosignature
from jiliang.trust.checkpoint import format_checkpoint, sign_note, verifier_key

runner = CliRunner()
NAME = "witness.example.org/w1"


def _grow(platform: Platform, n: int, start: int) -> None:
    with platform.unit_of_work() as s:
        transparency.enqueue_many(
            s, "certificate_issued", ({"number": f"W-{i}"} for i in range(start, start + n))
        )
    transparency.sequence_and_publish(platform)


def _witness(platform: Platform, tmp_path: Path) -> tlog_witness.Witness:
    key = transparency.log_verifier_key(platform)
    return tlog_witness.Witness(tmp_path / "witness", NAME, {platform.settings.log_origin: key})


def _client(w: tlog_witness.Witness) -> TestClient:
    return TestClient(create_witness_app(w))


def test_cosignature_is_c2sp_cosignature_v1() -> None:
    key = Ed25519PrivateKey.generate()
    log_key = Ed25519PrivateKey.generate()
    note = sign_note(format_checkpoint("example.com/log", 5, bytes(32)), log_key)
    line = cosignature.cosign(note, key, NAME, 1679315147)
    blob = base64.b64decode(line.split(" ")[2])
    pub = cosignature.public_bytes(key)
    assert blob[:4] == hashlib.sha256(NAME.encode() + b"\n\x04" + pub).digest()[:4]
    assert struct.unpack(">Q", blob[4:12])[0] == 1679315147 and len(blob) == 76
    body = note[: note.index("\n\n") + 1]
    key.public_key().verify(blob[12:], b"cosignature/v1\ntime 1679315147\n" + body.encode())
    vkey = cosignature.verifier_key(NAME, pub)
    assert cosignature.verify_cosignature(note + line, vkey) == 1679315147
    with pytest.raises(ProofError):
        cosignature.verify_cosignature(note.replace("\n5\n", "\n6\n") + line, vkey)
    with pytest.raises(ProofError, match="no cosignature"):
        cosignature.verify_cosignature(note, vkey)


def test_witness_cosigns_growth_and_follows_409(platform: Platform, tmp_path: Path) -> None:
    w = _witness(platform, tmp_path)
    _grow(platform, 3, 0)
    with _client(w) as c:
        note = tlog_witness.request_cosignature(platform, c, w.verifier_key)
        assert cosignature.verify_cosignature(note, w.verifier_key) > 0
        _grow(platform, 4, 3)
        note = tlog_witness.request_cosignature(platform, c, w.verifier_key)  # 409 "3", then a proof 3 → 7
    assert note.split("\n")[1] == "7"
    assert w.latest(platform.settings.log_origin) is not None
    assert (tmp_path / "witness" / tlog_witness.KEY_FILE).exists()


def test_protocol_errors(platform: Platform, tmp_path: Path) -> None:
    w = _witness(platform, tmp_path)
    _grow(platform, 3, 0)
    head = transparency.current_checkpoint(platform)
    assert w.add_checkpoint(b"old 01\n\n" + head.text.encode()).status == 400
    assert w.add_checkpoint(b"new 0\n\n" + head.text.encode()).status == 400
    assert w.add_checkpoint(cosignature.add_checkpoint_body(4, [], head.text)).status == 400
    other = sign_note(format_checkpoint("other.example/log", 3, head.root_hash), Ed25519PrivateKey.generate())
    assert w.add_checkpoint(cosignature.add_checkpoint_body(0, [], other)).status == 404
    forged = sign_note(
        format_checkpoint(platform.settings.log_origin, 3, head.root_hash), Ed25519PrivateKey.generate()
    )
    assert w.add_checkpoint(cosignature.add_checkpoint_body(0, [], forged)).status == 403
    assert w.add_checkpoint(cosignature.add_checkpoint_body(0, [bytes(32)], head.text)).status == 422
    assert w.add_checkpoint(cosignature.add_checkpoint_body(0, [], head.text), now=1).status == 200
    answer = w.add_checkpoint(cosignature.add_checkpoint_body(0, [], head.text))
    assert (answer.status, answer.body, answer.content_type) == (409, "3\n", tlog_witness.SIZE_TYPE)
    _grow(platform, 2, 3)
    new = transparency.current_checkpoint(platform)
    bad = cosignature.add_checkpoint_body(3, [bytes(32)] * 3, new.text)
    assert w.add_checkpoint(bad).status == 422
    good = cosignature.add_checkpoint_body(3, transparency.prove_consistency(platform, 3, 5), new.text)
    assert w.add_checkpoint(good).status == 200


def test_rolled_back_and_rewritten_log_gets_no_cosignature(platform: Platform, tmp_path: Path) -> None:
    """The insider restores an older backup and the log carries on: same size, another history."""
    w = _witness(platform, tmp_path)
    _grow(platform, 3, 0)
    _grow(platform, 1, 3)
    with _client(w) as c:
        tlog_witness.request_cosignature(platform, c, w.verifier_key)  # the witness holds size 4
        with platform.engine.begin() as conn:  # rollback to size 3
            conn.execute(text("DELETE FROM log_checkpoints WHERE size = 4"))
            conn.execute(text("DELETE FROM log_leaves WHERE leaf_index = 3"))
            conn.execute(
                text(f"DELETE FROM log_nodes WHERE node_id IN ({1 << 48 | 1}, {2 << 48})")
            )  # over leaf 3
            conn.execute(text("UPDATE log_state SET size = 3"))
        with pytest.raises(ProofError, match="larger tree"):
            tlog_witness.request_cosignature(platform, c, w.verifier_key)
        _grow(platform, 1, 100)  # a different leaf 3: a tree of size 4 with another root
        with pytest.raises(ProofError, match="fork"):
            tlog_witness.request_cosignature(platform, c, w.verifier_key)


def test_database_witness_with_its_own_state_file_catches_a_rollback(
    platform: Platform, tmp_path: Path
) -> None:
    """``jiliang log audit --database --state FILE``: the state file is outside the database."""
    import typer

    _grow(platform, 3, 0)
    _grow(platform, 2, 3)
    state = tmp_path / "witness-state" / "witness.json"
    run_audit(witness.DatabaseLog(platform), state, None)
    with platform.engine.begin() as conn:
        conn.execute(text("DELETE FROM log_checkpoints WHERE size = 5"))
        conn.execute(text("DELETE FROM log_leaves WHERE leaf_index >= 3"))
        conn.execute(text("UPDATE log_state SET size = 3"))
    with pytest.raises(typer.Exit) as caught:
        run_audit(witness.DatabaseLog(platform), state, None)
    assert caught.value.exit_code == 3


def test_witness_key_command(tmp_path: Path) -> None:
    r = runner.invoke(cli, ["log", "witness-key", "--dir", str(tmp_path), "--name", NAME])
    assert r.exit_code == 0 and r.stdout.startswith(NAME + "+")
    assert (
        r.stdout == runner.invoke(cli, ["log", "witness-key", "--dir", str(tmp_path), "--name", NAME]).stdout
    )


def test_witness_refuses_a_key_for_another_origin(tmp_path: Path) -> None:
    from jiliang.errors import InvalidInput

    vkey = verifier_key("a.example/log", bytes(range(32)))
    with pytest.raises(InvalidInput):
        tlog_witness.Witness(tmp_path, NAME, {"b.example/log": vkey})
