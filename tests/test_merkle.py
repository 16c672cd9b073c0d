"""RFC 9162 §2.1 Merkle tree: hashes, proofs and their verification, against the RFC's own definitions.

The reference below transcribes the recursive definitions of §2.1.1 (MTH), §2.1.3.1 (PATH) and §2.1.4.1
(PROOF/SUBPROOF) literally; the engine computes proofs from ranges and verifies them with the iterative
algorithms of §2.1.3.2 and §2.1.4.2, so agreement for every size and index is a real cross-check.
"""

from __future__ import annotations

import hashlib

import pytest

from jiliang.errors import InvalidInput, ProofError
from jiliang.trust import merkle


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(d: list[bytes]) -> bytes:
    if not d:
        return hashlib.sha256(b"").digest()
    if len(d) == 1:
        return hashlib.sha256(b"\x00" + d[0]).digest()
    k = _k(len(d))
    return hashlib.sha256(b"\x01" + mth(d[:k]) + mth(d[k:])).digest()


def path(m: int, d: list[bytes]) -> list[bytes]:
    if len(d) == 1:
        return []
    k = _k(len(d))
    if m < k:
        return [*path(m, d[:k]), mth(d[k:])]
    return [*path(m - k, d[k:]), mth(d[:k])]


def subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [mth(d)]
    k = _k(n)
    if m <= k:
        return [*subproof(m, d[:k], b), mth(d[k:])]
    return [*subproof(m - k, d[k:], False), mth(d[:k])]


def data(n: int) -> list[bytes]:
    return [f"leaf {i}".encode() for i in range(n)]


# transparency-dev/merkle testonly/constants.go (commit 582a6ad1): LeafInputs() and RootHashes(), the
# RFC 6962 roots of the trees of the first 0..8 of these leaves.
TD_LEAVES = [
    bytes.fromhex(h)
    for h in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]
TD_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
# NodeHashes()[1] of the same file: the level-1 complete subtrees.
TD_LEVEL1 = [
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
    "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
]


@pytest.mark.parametrize("size", range(9))
def test_transparency_dev_reference_roots(size: int) -> None:
    hashes = [merkle.leaf_hash(x) for x in TD_LEAVES[:size]]
    assert merkle.root(hashes).hex() == TD_ROOTS[size]


def test_transparency_dev_level1_nodes() -> None:
    hashes = [merkle.leaf_hash(x) for x in TD_LEAVES]
    got = [merkle.node_hash(hashes[2 * i], hashes[2 * i + 1]).hex() for i in range(4)]
    assert got == TD_LEVEL1


def test_hash_prefixes_are_the_rfcs() -> None:
    assert merkle.leaf_hash(b"x") == hashlib.sha256(b"\x00x").digest()
    assert merkle.node_hash(b"a" * 32, b"b" * 32) == hashlib.sha256(b"\x01" + b"a" * 32 + b"b" * 32).digest()
    assert merkle.root([]) == hashlib.sha256(b"").digest()


def test_roots_match_the_recursive_definition_up_to_300() -> None:
    d = data(300)
    hashes = [merkle.leaf_hash(x) for x in d]
    for n in range(301):
        assert merkle.root(hashes[:n]) == mth(d[:n]), n


def test_inclusion_all_sizes_and_indices_up_to_300() -> None:
    d = data(300)
    hashes = [merkle.leaf_hash(x) for x in d]
    for n in range(1, 301):
        r = mth(d[:n])
        for m in range(n):
            proof = merkle.inclusion_proof(hashes[:n], m)
            assert proof == path(m, d[:n]), (m, n)
            merkle.verify_inclusion(hashes[m], m, n, proof, r)


def test_consistency_all_size_pairs_up_to_100() -> None:
    d = data(100)
    hashes = [merkle.leaf_hash(x) for x in d]
    roots = [mth(d[:n]) for n in range(101)]
    for n in range(1, 101):
        for m in range(1, n + 1):
            proof = merkle.consistency_proof(hashes[:n], m)
            assert proof == subproof(m, d[:n], True), (m, n)
            merkle.verify_consistency(m, n, proof, roots[m], roots[n])


def test_store_assembly_equals_reference() -> None:
    hashes = [merkle.leaf_hash(x) for x in data(77)]
    stored = {}
    for level in range(7):
        for index in range(77 >> level):
            lo = index << level
            stored[(level, index)] = merkle.root(hashes[lo : lo + (1 << level)])
    for m in range(77):
        assert merkle.proof_from_store(merkle.inclusion_ranges(m, 77), stored) == merkle.inclusion_proof(
            hashes, m
        )
    for m in range(1, 78):
        assert merkle.proof_from_store(merkle.consistency_ranges(m, 77), stored) == merkle.consistency_proof(
            hashes, m
        )


# --- attacks -------------------------------------------------------------------------------------------

HASHES = [merkle.leaf_hash(x) for x in data(37)]
ROOT = merkle.root(HASHES)


def _inclusion_fails(leaf: bytes, index: int, size: int, proof: list[bytes], r: bytes, reason: str) -> None:
    with pytest.raises(ProofError, match=reason):
        merkle.verify_inclusion(leaf, index, size, proof, r)


def test_forged_inclusion_proof_every_byte_position_detected() -> None:
    proof = merkle.inclusion_proof(HASHES, 13)
    for i in range(len(proof)):
        forged = list(proof)
        forged[i] = bytes([forged[i][0] ^ 1]) + forged[i][1:]
        _inclusion_fails(HASHES[13], 13, 37, forged, ROOT, "does not lead to the root")


def test_inclusion_wrong_leaf_wrong_index_wrong_root() -> None:
    proof = merkle.inclusion_proof(HASHES, 13)
    _inclusion_fails(HASHES[14], 13, 37, proof, ROOT, "does not lead to the root")
    _inclusion_fails(HASHES[13], 12, 37, proof, ROOT, "does not lead to the root")
    _inclusion_fails(HASHES[13], 13, 37, proof, merkle.root(HASHES[:36]), "does not lead to the root")


def test_truncated_extended_and_swapped_inclusion_proofs() -> None:
    proof = merkle.inclusion_proof(HASHES, 13)
    _inclusion_fails(HASHES[13], 13, 37, proof[:-1], ROOT, "too short")
    _inclusion_fails(HASHES[13], 13, 37, [*proof, ROOT], ROOT, "too long")
    swapped = [proof[1], proof[0], *proof[2:]]
    _inclusion_fails(HASHES[13], 13, 37, swapped, ROOT, "does not lead to the root")
    _inclusion_fails(HASHES[13], 13, 37, [*proof[:-1], proof[-1][:31]], ROOT, "not a 32-byte hash")


def test_index_not_below_size_refused() -> None:
    _inclusion_fails(HASHES[0], 37, 37, [], ROOT, "not below tree size")
    _inclusion_fails(HASHES[0], -1, 37, [], ROOT, "not below tree size")
    with pytest.raises(ProofError):
        merkle.inclusion_ranges(5, 5)


def test_a_leaf_cannot_pose_as_a_node() -> None:
    """The 0x00/0x01 prefixes stop a second-preimage: an interior node is not a valid leaf of size 1."""
    inner = merkle.node_hash(HASHES[0], HASHES[1])
    _inclusion_fails(merkle.leaf_hash(HASHES[0] + HASHES[1]), 0, 1, [], inner, "does not lead")


def _consistency_fails(m: int, n: int, proof: list[bytes], r1: bytes, r2: bytes, reason: str) -> None:
    with pytest.raises(ProofError, match=reason):
        merkle.verify_consistency(m, n, proof, r1, r2)


def test_consistency_attacks() -> None:
    r20 = merkle.root(HASHES[:20])
    proof = merkle.consistency_proof(HASHES, 20)
    merkle.verify_consistency(20, 37, proof, r20, ROOT)
    forged = [bytes(32), *proof[1:]]
    _consistency_fails(20, 37, forged, r20, ROOT, "does not reproduce")
    _consistency_fails(20, 37, proof[:-1], r20, ROOT, "too short")
    _consistency_fails(20, 37, [*proof, ROOT], r20, ROOT, "too long")
    _consistency_fails(20, 37, [proof[1], proof[0], *proof[2:]], r20, ROOT, "does not reproduce")
    # A rewritten history: the old head's root is not the prefix of the new tree.
    rewritten = list(HASHES)
    rewritten[3] = merkle.leaf_hash(b"altered")
    _consistency_fails(20, 37, merkle.consistency_proof(rewritten, 20), r20, ROOT, "does not reproduce")
    _consistency_fails(20, 37, [], r20, ROOT, "empty")
    _consistency_fails(37, 37, [], ROOT, r20, "rewritten")
    _consistency_fails(37, 37, [ROOT], ROOT, ROOT, "too long")
    _consistency_fails(37, 20, proof, ROOT, r20, "first <= second")
    merkle.verify_consistency(37, 37, [], ROOT, ROOT)
    merkle.verify_consistency(0, 0, [], merkle.EMPTY_ROOT, merkle.EMPTY_ROOT)
    # RFC 9162 §2.1.4 has no proof from the empty tree: nothing ties the second root to anything.
    _consistency_fails(0, 37, [], merkle.EMPTY_ROOT, ROOT, "empty tree")
    _consistency_fails(0, 37, [], merkle.EMPTY_ROOT, bytes(32), "empty tree")


def test_proof_error_is_invalid_input() -> None:
    assert issubclass(ProofError, InvalidInput)
    assert issubclass(ProofError, ValueError)
