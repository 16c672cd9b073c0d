"""The public log API (no login), checked by verifying what it serves, and the audit command over HTTP."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from jiliang.cli import app as cli_app
from jiliang.commands.log import run_audit
from jiliang.services import transparency, witness
from jiliang.trust import merkle
from jiliang.trust.checkpoint import verify_note
from tests.api.conftest import Api, bilingual


def _fill(api: Api, n: int, start: int = 0) -> list[bytes]:
    platform = api.world.platform
    with platform.unit_of_work() as s:
        transparency.enqueue_many(
            s, "certificate_issued", ({"certificate_no": f"C-{i}"} for i in range(start, start + n))
        )
    transparency.sequence_and_publish(platform)
    with platform.reading() as s:
        return [e.leaf_hash for e in transparency.entries(s, 0, 1000)]


def _b(values: list[str]) -> list[bytes]:
    return [base64.b64decode(v) for v in values]


def test_no_checkpoint_yet_is_a_404(api: Api) -> None:
    r = api.get("/api/v1/log/checkpoint", None)
    assert r.status_code == 404 and bilingual(r.json()["error"]["message"])


def test_served_checkpoint_and_proofs_verify(api: Api) -> None:
    hashes = _fill(api, 21)
    key = api.get("/api/v1/log/public-key", None).json()["verifier_key"]
    head = api.get("/api/v1/log/checkpoint", None).json()
    note = api.get("/api/v1/log/checkpoint.txt", None)
    assert note.headers["content-type"].startswith("text/plain")
    assert note.text == head["checkpoint"]
    cp = verify_note(note.text, key)
    assert cp.size == head["tree_size"] == 21
    assert base64.b64encode(cp.root_hash).decode() == head["root_hash"]
    assert cp.root_hash == merkle.root(hashes)

    r = api.get("/api/v1/log/proof/inclusion", None, params={"index": 13, "size": 21}).json()
    merkle.verify_inclusion(hashes[13], 13, 21, _b(r["proof"]), cp.root_hash)
    r = api.get("/api/v1/log/proof/inclusion", None, params={"leaf_hash": hashes[5].hex(), "size": 21}).json()
    assert r["leaf_index"] == 5
    merkle.verify_inclusion(hashes[5], 5, 21, _b(r["proof"]), cp.root_hash)

    old_root = merkle.root(hashes[:8])
    r = api.get("/api/v1/log/proof/consistency", None, params={"first": 8, "second": 21}).json()
    merkle.verify_consistency(8, 21, _b(r["proof"]), old_root, cp.root_hash)

    entries = api.get("/api/v1/log/entries", None, params={"start": 19, "end": 40}).json()["items"]
    assert [e["index"] for e in entries] == [19, 20]
    assert merkle.leaf_hash(base64.b64decode(entries[0]["leaf"])) == hashes[19]


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/v1/log/proof/inclusion", {"index": 3, "size": 3}),
        ("/api/v1/log/proof/inclusion", {"index": 0, "size": 99}),
        ("/api/v1/log/proof/inclusion", {"size": 3}),
        ("/api/v1/log/proof/inclusion", {"leaf_hash": "zz", "size": 3}),
        ("/api/v1/log/proof/inclusion", {"leaf_hash": "ab" * 31, "size": 3}),
        ("/api/v1/log/proof/consistency", {"first": 4, "second": 3}),
        ("/api/v1/log/proof/consistency", {"first": 1, "second": 99}),
        ("/api/v1/log/entries", {"start": 5, "end": 2}),
    ],
)
def test_bad_requests_are_refused_precisely(api: Api, path: str, params: dict[str, object]) -> None:
    _fill(api, 3)
    r = api.get(path, None, params=params)
    assert r.status_code == 422, r.text
    assert bilingual(r.json()["error"]["message"])


def test_unknown_leaf_hash_is_404(api: Api) -> None:
    _fill(api, 3)
    r = api.get("/api/v1/log/proof/inclusion", None, params={"leaf_hash": "00" * 32, "size": 3})
    assert r.status_code == 404


def test_audit_over_http_passes_then_exits_3_on_a_replayed_head(api: Api, tmp_path: Path) -> None:
    state = tmp_path / "w.json"
    _fill(api, 4)
    source = witness.HttpLog(api.client)
    run_audit(source, state, None)
    old_note = api.get("/api/v1/log/checkpoint.txt", None).text
    _fill(api, 9, start=4)
    run_audit(source, state, None)  # consistent growth: passes

    class Replay(witness.HttpLog):
        def checkpoint_note(self) -> str:
            return old_note

    with pytest.raises(typer.Exit) as caught:
        run_audit(Replay(api.client), state, None)
    assert caught.value.exit_code == 3


def test_cli_sequence_checkpoint_and_database_audit(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()
    base = ["--database-url", url, "log"]
    r = runner.invoke(cli_app, [*base, "checkpoint"])
    assert r.exit_code == 0, r.output
    assert "jiliang.example/log\n0\n" in r.output
    r = runner.invoke(cli_app, [*base, "audit", "--database", "--state", str(tmp_path / "w.json")])
    assert r.exit_code == 0, r.output
    r = runner.invoke(cli_app, [*base, "sequence"])
    assert r.exit_code == 0 and "0" in r.output
    r = runner.invoke(cli_app, [*base, "audit"])
    assert r.exit_code == 2


def test_published_heads_endpoint_serves_the_file_not_the_database(api: Api) -> None:
    """Issue 14: the public history of tree heads survives an insider deleting them from the database."""
    from sqlalchemy import text

    _fill(api, 3)
    _fill(api, 2, start=3)
    key = api.get("/api/v1/log/public-key", None).json()["verifier_key"]
    items = api.get("/api/v1/log/checkpoints", None).json()["items"]
    assert [i["tree_size"] for i in items] == [3, 5]
    assert all(verify_note(i["checkpoint"], key).size == i["tree_size"] for i in items)
    with api.world.platform.engine.begin() as conn:
        conn.execute(text("DELETE FROM log_checkpoints"))
    again = api.get("/api/v1/log/checkpoints", None).json()["items"]
    assert again == items
    assert [i["tree_size"] for i in api.get("/api/v1/log/checkpoints?since=4", None).json()["items"]] == [5]
