"""The Merkle tree of RFC 9162 (Certificate Transparency 2.0) §2.1, over raw bytes.

Hashing (§2.1.1): a leaf hashes as SHA-256(0x00 ‖ leaf), an interior node as SHA-256(0x01 ‖ left ‖ right),
the tree of n > 1 leaves splits at k, the largest power of two smaller than n, and the empty tree's hash is
SHA-256 of the empty string. Proofs (§2.1.3, §2.1.4) are lists of 32-byte hashes in the RFC's order, so
that any RFC 6962/9162 verifier agrees with these byte for byte.

Two layers:

* ``inclusion_ranges`` / ``consistency_ranges`` name, as half-open leaf ranges ``[start, end)``, the
  subtrees whose hashes make up a proof; ``complete_subtrees`` splits any such range into the aligned
  complete subtrees (``(level, index)``, covering leaves ``[index·2^level, (index+1)·2^level)``) whose
  stored hashes fold into its hash. A store that keeps every complete subtree's hash can therefore
  answer any proof with one lookup of O(log n) keys and never rebuild the tree.
* ``root`` / ``inclusion_proof`` / ``consistency_proof`` compute over an in-memory list of leaf hashes
  (the reference the store is tested against), and ``verify_inclusion`` / ``verify_consistency`` are the
  RFC's verification algorithms (§2.1.3.2, §2.1.4.2), raising ``ProofError`` with the precise reason.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence

from jiliang.errors import ProofError

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

_sha256 = hashlib.sha256


def leaf_hash(data: bytes) -> bytes:
    """RFC 9162 §2.1.1: MTH({d0}) = SHA-256(0x00 ‖ d0)."""
    return _sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 §2.1.1: SHA-256(0x01 ‖ MTH(left) ‖ MTH(right))."""
    return _sha256(b"\x01" + left + right).digest()


def split_point(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (n ≥ 2): where §2.1.1 splits a tree."""
    return 1 << ((n - 1).bit_length() - 1)


# --- ranges: which subtrees a proof is made of ------------------------------------------------------


def complete_subtrees(start: int, end: int) -> list[tuple[int, int]]:
    """The aligned complete subtrees, left to right, that make up the RFC subtree over ``[start, end)``.

    Every subtree of the RFC's tree starts at a multiple of a power of two at least as large as its
    own size, so the binary digits of ``end - start``, largest first, give aligned complete subtrees.
    """
    out: list[tuple[int, int]] = []
    pos, remaining = start, end - start
    while remaining:
        level = remaining.bit_length() - 1
        out.append((level, pos >> level))
        pos += 1 << level
        remaining -= 1 << level
    return out


def fold(hashes: Sequence[bytes]) -> bytes:
    """The hash of a subtree from its complete subtrees' hashes (left to right): right-to-left fold."""
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = _sha256(b"\x01" + h + acc).digest()
    return acc


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """RFC 9162 §2.1.3.1 PATH(m, D[n]) as leaf ranges, in proof order (nearest the leaf first)."""
    _check_index(index, size)
    out: list[tuple[int, int]] = []
    start, end = 0, size
    while end - start > 1:
        k = split_point(end - start)
        if index < start + k:
            out.append((start + k, end))
            end = start + k
        else:
            out.append((start, start + k))
            start += k
    out.reverse()
    return out


def consistency_ranges(size1: int, size2: int) -> list[tuple[int, int]]:
    """RFC 9162 §2.1.4.1 PROOF(m, D[n]) = SUBPROOF(m, D[n], true) as leaf ranges, in proof order."""
    _check_sizes(size1, size2)
    out: list[tuple[int, int]] = []
    if size1 == 0 or size1 == size2:
        return out
    start, end, m, whole = 0, size2, size1, True
    while True:
        n = end - start
        if m == n:
            if not whole:
                out.append((start, end))
            break
        k = split_point(n)
        if m <= k:
            out.append((start + k, end))
            end = start + k
        else:
            out.append((start, start + k))
            start += k
            m -= k
            whole = False
    out.reverse()
    return out


def _check_index(index: int, size: int) -> None:
    if size < 1:
        raise ProofError(f"树大小 {size} 中没有叶子 / a tree of size {size} has no leaf", field="size")
    if not 0 <= index < size:
        raise ProofError(
            f"叶子序号 {index} 超出树大小 {size} / leaf index {index} is not below tree size {size}",
            field="index",
        )


def _check_sizes(size1: int, size2: int) -> None:
    if not 0 <= size1 <= size2:
        raise ProofError(
            f"一致性证明要求 0 ≤ 第一棵树 ≤ 第二棵树，得到 {size1}、{size2} / a consistency proof needs "
            f"0 <= first <= second, got {size1} and {size2}",
            field="first",
        )


# --- in-memory reference over a list of leaf hashes -----------------------------------------------


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH over the leaf hashes (each already ``leaf_hash(d)``); the empty tree hashes to SHA-256("")."""
    level = list(leaf_hashes)
    if not level:
        return EMPTY_ROOT
    # Pairing left to right and carrying an odd last node up unchanged is exactly §2.1.1's split at the
    # largest power of two: the carried node is the right-edge subtree.
    while len(level) > 1:
        nxt = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


def _memory_lookup(leaf_hashes: Sequence[bytes]) -> Callable[[int, int], bytes]:
    def subtree(level: int, index: int) -> bytes:
        lo = index << level
        return root(leaf_hashes[lo : lo + (1 << level)])

    return subtree


def range_hash(start: int, end: int, subtree: Callable[[int, int], bytes]) -> bytes:
    """The hash of the RFC subtree over ``[start, end)`` given a lookup of complete subtrees' hashes."""
    return fold([subtree(level, index) for level, index in complete_subtrees(start, end)])


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int) -> list[bytes]:
    """The audit path of leaf ``index`` in the tree of all ``leaf_hashes`` (§2.1.3.1)."""
    lookup = _memory_lookup(leaf_hashes)
    return [range_hash(s, e, lookup) for s, e in inclusion_ranges(index, len(leaf_hashes))]


def consistency_proof(leaf_hashes: Sequence[bytes], size1: int) -> list[bytes]:
    """The proof that the first ``size1`` leaves are a prefix of all ``leaf_hashes`` (§2.1.4.1)."""
    lookup = _memory_lookup(leaf_hashes)
    return [range_hash(s, e, lookup) for s, e in consistency_ranges(size1, len(leaf_hashes))]


def proof_from_store(
    ranges: Sequence[tuple[int, int]], stored: Mapping[tuple[int, int], bytes]
) -> list[bytes]:
    """Assemble a proof from stored complete-subtree hashes keyed by ``(level, index)``."""
    return [fold([stored[key] for key in complete_subtrees(s, e)]) for s, e in ranges]


# --- verification (RFC 9162 §2.1.3.2 and §2.1.4.2) ------------------------------------------------


def _check_hashes(proof: Sequence[bytes], what: str) -> None:
    if set(map(len, proof)) <= {HASH_SIZE} and set(map(type, proof)) <= {bytes}:  # at C speed
        return
    for i, p in enumerate(proof):
        if not isinstance(p, bytes | bytearray) or len(p) != HASH_SIZE:
            raise ProofError(
                f"{what}第 {i} 项不是 32 字节的哈希 / {what} element {i} is not a 32-byte hash",
                field="proof",
            )


def _check_hash(value: bytes, field: str) -> None:
    if not isinstance(value, bytes | bytearray) or len(value) != HASH_SIZE:
        raise ProofError(f"{field} 不是 32 字节的哈希 / {field} is not a 32-byte hash", field=field)


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root_hash: bytes) -> None:
    """Check that ``leaf`` (a leaf *hash*) is at ``index`` in the tree of ``size`` with ``root_hash``.

    Follows §2.1.3.2 step by step; raises ``ProofError`` saying whether the proof is too long, too
    short, malformed, or simply does not lead to the root.
    """
    if index < 0 or index >= size:
        raise ProofError(
            f"叶子序号 {index} 不小于树大小 {size} / leaf index {index} is not below tree size {size}",
            field="index",
        )
    # A hash of another length can never be an RFC 9162 node: two equal short strings must not "verify".
    _check_hash(leaf, "leaf_hash")
    _check_hash(root_hash, "root")
    _check_hashes(proof, "包含证明 / inclusion proof ")
    fn, sn = index, size - 1
    r = leaf
    sha = _sha256
    for i, p in enumerate(proof):
        if sn == 0:
            raise ProofError(
                f"包含证明过长：第 {i} 项起多余 / inclusion proof too long: {len(proof)} hashes, "
                f"only {i} fit a leaf at {index} of {size}",
                field="proof",
            )
        if fn & 1 or fn == sn:
            r = sha(b"\x01" + p + r).digest()
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            r = sha(b"\x01" + r + p).digest()
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError(
            f"包含证明过短或被截断 / inclusion proof too short (truncated): {len(proof)} hashes for a leaf "
            f"at {index} of {size}",
            field="proof",
        )
    if r != root_hash:
        raise ProofError(
            "包含证明算出的根与树头不符 / inclusion proof does not lead to the root hash", field="proof"
        )


def verify_consistency(size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes) -> None:
    """Check that the tree ``(size1, root1)`` is a prefix of ``(size2, root2)`` (§2.1.4.2).

    Equal sizes need an empty proof and equal roots. A proof from the empty tree to a non-empty one is
    refused: RFC 9162 §2.1.4 defines PROOF(m, D[n]) only for 0 < m, so no proof can say anything about
    the second root (transparency-dev/merkle: "consistency proof from empty tree is meaningless"). A
    witness that has seen only the empty tree accepts any next head without calling this
    (``trust.checkpoint.check_progress``).
    """
    _check_sizes(size1, size2)
    _check_hash(root1, "root1")
    _check_hash(root2, "root2")
    _check_hashes(proof, "一致性证明 / consistency proof ")
    if size1 == size2:
        if proof:
            raise ProofError(
                f"一致性证明过长：大小 {size1} 与 {size2} 之间应为空 / consistency proof too long: it must be "
                f"empty between sizes {size1} and {size2}",
                field="proof",
            )
        if root1 != root2:
            raise ProofError(
                f"同一大小 {size1} 的两个树头根不同：历史被改写 / two tree heads of size {size1} with different "
                "roots: the history was rewritten (fork)",
                field="root",
            )
        return
    if size1 == 0:
        raise ProofError(
            f"不存在从空树到大小 {size2} 的一致性证明（RFC 9162 §2.1.4）/ there is no consistency proof from the "
            f"empty tree to size {size2} (RFC 9162 §2.1.4)",
            field="first",
        )
    if not proof:
        raise ProofError(
            f"一致性证明为空 / consistency proof is empty between sizes {size1} and {size2}", field="proof"
        )
    path = list(proof)
    # Step 2: when size1 is a power of two its root is itself a node of the second tree.
    if size1 & (size1 - 1) == 0:
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError(
                f"一致性证明过长 / consistency proof too long: {len(proof)} hashes, more than sizes "
                f"{size1} and {size2} need",
                field="proof",
            )
        if fn & 1 or fn == sn:
            fr = _sha256(b"\x01" + c + fr).digest()
            sr = _sha256(b"\x01" + c + sr).digest()
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = _sha256(b"\x01" + sr + c).digest()
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError(
            f"一致性证明过短或被截断 / consistency proof too short (truncated): {len(proof)} hashes for sizes "
            f"{size1} and {size2}",
            field="proof",
        )
    if fr != root1:
        raise ProofError(
            f"一致性证明算出的旧根与大小 {size1} 的树头不符 / consistency proof does not reproduce the root "
            f"of size {size1}",
            field="root1",
        )
    if sr != root2:
        raise ProofError(
            f"一致性证明算出的新根与大小 {size2} 的树头不符 / consistency proof does not reproduce the root "
            f"of size {size2}",
            field="root2",
        )
