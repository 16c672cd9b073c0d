"""Signed tree heads as C2SP checkpoints inside C2SP signed notes, with Ed25519 signatures.

A checkpoint (c2sp.org/tlog-checkpoint) is the note text::

    <origin>\\n<tree size in decimal>\\n<base64 of the 32-byte root hash>\\n

A signed note (c2sp.org/signed-note) is that text, a blank line, then one line per signature::

    — <key name> <base64(4-byte key ID ‖ 64-byte Ed25519 signature over the text)>\\n

where the key ID is the first 4 bytes of SHA-256(key name ‖ 0x0A ‖ 0x01 ‖ 32-byte public key) (0x01 names
the Ed25519 algorithm) and the verifier key a reader pins is ``<name>+<key ID in hex>+<base64(0x01 ‖ public
key)>``. These are the formats the Go sumdb/note package, Trillian Tessera and the witness network read.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from jiliang.errors import ProofError
from jiliang.trust.merkle import HASH_SIZE, verify_consistency

ALG_ED25519 = 0x01
SIG_PREFIX = "\u2014 "  # em dash and a space start every signature line
MAX_NOTE_BYTES = 1 << 20


@dataclass(frozen=True)
class Checkpoint:
    """A tree head: the log's name, how many leaves, their root, and ``text``, the signed note itself."""

    origin: str
    size: int
    root_hash: bytes
    text: str


def _bad(message: str, field: str = "note") -> ProofError:
    return ProofError(message, field=field)


def _check_name(name: str) -> None:
    if not name or any(c.isspace() for c in name) or "+" in name:
        raise _bad(
            f"密钥名 {name!r} 不能为空、含空白或“+” / key name must be non-empty without spaces or '+'",
            "name",
        )


def format_checkpoint(origin: str, size: int, root_hash: bytes) -> str:
    """The checkpoint body (note text), ending with its newline."""
    _check_name(origin)
    if size < 0:
        raise _bad("树大小不能为负 / tree size must not be negative", "size")
    if len(root_hash) != HASH_SIZE:
        raise _bad("根哈希必须是 32 字节 / the root hash must be 32 bytes", "root_hash")
    return f"{origin}\n{size}\n{base64.b64encode(root_hash).decode()}\n"


def key_id(name: str, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([ALG_ED25519]) + public_key).digest()[:4]


def _raw_public(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def public_bytes(key: Ed25519PrivateKey) -> bytes:
    """The raw 32-byte Ed25519 public key (RFC 8032 encoding)."""
    return _raw_public(key)


def verifier_key(name: str, pub: bytes) -> str:
    """The string a reader pins to verify this log: ``name+keyid+base64(0x01 ‖ public key)``."""
    _check_name(name)
    if len(pub) != 32:
        raise _bad("Ed25519 公钥必须是 32 字节 / an Ed25519 public key is 32 bytes", "public_key")
    return f"{name}+{key_id(name, pub).hex()}+{base64.b64encode(bytes([ALG_ED25519]) + pub).decode()}"


def sign_note(text: str, key: Ed25519PrivateKey, name: str | None = None) -> str:
    """The signed note: ``text`` (which must end in a newline), a blank line, and one signature line.

    The key name defaults to the first line of the text, the checkpoint's origin, as logs conventionally
    name their key.
    """
    name = text.split("\n", 1)[0] if name is None else name
    _check_name(name)
    if not text.endswith("\n"):
        raise _bad("注释正文必须以换行结束 / note text must end with a newline", "text")
    sig = key.sign(text.encode())
    blob = base64.b64encode(key_id(name, _raw_public(key)) + sig).decode()
    return f"{text}\n{SIG_PREFIX}{name} {blob}\n"


def parse_verifier_key(vkey: str) -> tuple[str, bytes, Ed25519PublicKey]:
    parts = vkey.strip().split("+", 2)  # base64 may itself contain "+"
    if len(parts) != 3:
        raise _bad("验证密钥格式应为 name+id+key / verifier key must be name+keyid+base64key", "verifier_key")
    name, hex_id, b64 = parts
    _check_name(name)
    try:
        kid = bytes.fromhex(hex_id)
        raw = base64.b64decode(b64, validate=True)
    except (ValueError, binascii.Error):
        raise _bad("验证密钥无法解码 / verifier key does not decode", "verifier_key") from None
    if len(kid) != 4 or len(raw) != 33 or raw[0] != ALG_ED25519:
        raise _bad("验证密钥不是 Ed25519 注释密钥 / verifier key is not an Ed25519 note key", "verifier_key")
    if key_id(name, raw[1:]) != kid:
        raise _bad("验证密钥的 ID 与公钥不符 / verifier key ID does not match its key", "verifier_key")
    return name, kid, Ed25519PublicKey.from_public_bytes(raw[1:])


def verify_note(note_text: str, verifier_key: str) -> Checkpoint:
    """Verify a signed checkpoint note against a pinned verifier key and parse the checkpoint.

    Raises ``ProofError`` if the note is malformed, carries no signature by that key name and ID, or the
    signature does not verify; only then is the text trusted and parsed.
    """
    name, kid, pub = parse_verifier_key(verifier_key)
    if len(note_text.encode()) > MAX_NOTE_BYTES:
        raise _bad("注释过大 / note too large")
    sep = note_text.rfind("\n\n")
    if sep < 0 or not note_text.endswith("\n"):
        raise _bad("不是签名注释：缺少签名段 / not a signed note: no signature block")
    text, sig_block = note_text[: sep + 1], note_text[sep + 2 :]
    found_name = False
    for line in sig_block.splitlines():
        if not line.startswith(SIG_PREFIX):
            raise _bad(f"签名行格式错误 / malformed signature line: {line[:80]!r}")
        try:
            sig_name, b64 = line[len(SIG_PREFIX) :].split(" ")
            blob = base64.b64decode(b64, validate=True)
        except (ValueError, binascii.Error):
            raise _bad(f"签名行格式错误 / malformed signature line: {line[:80]!r}") from None
        if sig_name != name:
            continue
        found_name = True
        if blob[:4] != kid:
            continue
        try:
            pub.verify(blob[4:], text.encode())
        except InvalidSignature:
            raise _bad(
                f"树头签名无效：内容被改动或签名伪造 / signature by {name} does not verify: the tree head "
                "was altered or the signature forged",
                "signature",
            ) from None
        head = parse_checkpoint(text)
        return Checkpoint(origin=head.origin, size=head.size, root_hash=head.root_hash, text=note_text)
    if found_name:
        raise _bad(f"签名来自另一把同名密钥 / signed by a different key named {name}", "signature")
    raise _bad(f"没有 {name} 的签名 / no signature by key {name}", "signature")


def parse_checkpoint(text: str) -> Checkpoint:
    """Parse (unverified) checkpoint text: origin, decimal size, base64 root, optional extension lines."""
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "":
        raise _bad("检查点至少三行 / a checkpoint has at least three lines", "checkpoint")
    origin, size_s, root_s = lines[0], lines[1], lines[2]
    if not size_s.isascii() or not size_s.isdigit() or (len(size_s) > 1 and size_s[0] == "0"):
        raise _bad(f"树大小 {size_s!r} 不是十进制数 / tree size is not a decimal number", "size")
    try:
        root_hash = base64.b64decode(root_s, validate=True)
    except (ValueError, binascii.Error):
        raise _bad("根哈希不是 base64 / root hash is not base64", "root_hash") from None
    if len(root_hash) != HASH_SIZE:
        raise _bad("根哈希必须是 32 字节 / the root hash must be 32 bytes", "root_hash")
    return Checkpoint(origin=origin, size=int(size_s), root_hash=root_hash, text=text)


def check_progress(previous: Checkpoint | None, current: Checkpoint, proof: list[bytes]) -> None:
    """A witness's rule: a verified tree head may only extend the last one it accepted.

    Raises ``ProofError`` for another log's head, a replayed smaller (older) head, a different root at
    the same size (a fork), or a larger head the consistency proof does not tie to the previous one (a
    rewritten history).
    """
    if previous is None:
        return
    if current.origin != previous.origin:
        raise _bad(
            f"树头来自另一个日志 {current.origin!r}（先前 {previous.origin!r}）/ tree head of another log",
            "origin",
        )
    if current.size < previous.size:
        raise _bad(
            f"重放的旧树头：大小 {current.size} 小于已见的 {previous.size} / replayed older tree head: size "
            f"{current.size} is below the {previous.size} already seen",
            "size",
        )
    if current.size == previous.size:
        if current.root_hash != previous.root_hash:
            raise _bad(
                f"分叉：大小 {current.size} 的树头有两个不同的根 / fork: two different roots for size "
                f"{current.size}",
                "root_hash",
            )
        return
    if previous.size == 0:
        return  # every tree extends the empty tree; RFC 9162 has no proof for it (merkle.verify_consistency)
    try:
        verify_consistency(previous.size, current.size, proof, previous.root_hash, current.root_hash)
    except ProofError as exc:
        raise _bad(
            f"历史被改写：大小 {previous.size} 到 {current.size} 不一致 / history rewritten: the tree of size "
            f"{current.size} does not extend the one of size {previous.size} ({exc.message})",
            "consistency",
        ) from None
