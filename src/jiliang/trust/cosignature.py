"""Witness cosignatures (c2sp.org/tlog-cosignature, Ed25519 ``cosignature/v1``) and the request body of
the C2SP witness protocol (c2sp.org/tlog-witness ``add-checkpoint``), as pure functions.

A cosignature is a signed-note signature line ``— <witness name> base64(key ID ‖ timestamp ‖ signature)``
where the key ID is ``SHA-256(name ‖ "\\n" ‖ 0x04 ‖ public key)[:4]``, the timestamp a big-endian u64 of
POSIX seconds, and the Ed25519 signature covers::

    cosignature/v1
    time <timestamp>
    <the checkpoint's note body, every line, with its final newline>

It says: as of that time, this is the largest tree head of that log the witness has verified as
consistent with everything it saw before.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from jiliang.errors import ProofError
from jiliang.trust.checkpoint import SIG_PREFIX
from jiliang.trust.merkle import HASH_SIZE

ALG_COSIGNATURE_V1 = 0x04
MAX_PROOF_LINES = 63


def key_id(name: str, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([ALG_COSIGNATURE_V1]) + public_key).digest()[:4]


def public_bytes(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def verifier_key(name: str, public_key: bytes) -> str:
    """The witness's vkey: ``name+keyid+base64(0x04 ‖ public key)`` (c2sp.org/signed-note)."""
    return (
        f"{name}+{key_id(name, public_key).hex()}+"
        f"{base64.b64encode(bytes([ALG_COSIGNATURE_V1]) + public_key).decode()}"
    )


def signed_message(body: str, timestamp: int) -> bytes:
    if not body.endswith("\n"):
        raise ProofError("检查点正文须以换行结束 / the checkpoint body must end in a newline", field="note")
    return f"cosignature/v1\ntime {timestamp}\n{body}".encode()


def note_body(note: str) -> str:
    """The note text without its signature block (everything up to and including the blank line's first
    newline)."""
    sep = note.rfind("\n\n")
    if sep < 0:
        raise ProofError("不是签名注释 / not a signed note", field="note")
    return note[: sep + 1]


def cosign(note: str, key: Ed25519PrivateKey, name: str, timestamp: int) -> str:
    """One cosignature line (ending in a newline) over the checkpoint in ``note``."""
    if not 0 <= timestamp < 1 << 63:
        raise ProofError("时间戳超出范围 / timestamp out of range", field="timestamp")
    sig = key.sign(signed_message(note_body(note), timestamp))
    blob = key_id(name, public_bytes(key)) + struct.pack(">Q", timestamp) + sig
    return f"{SIG_PREFIX}{name} {base64.b64encode(blob).decode()}\n"


def verify_cosignature(note: str, vkey: str) -> int:
    """The timestamp of the valid cosignature by ``vkey`` on ``note`` (cosignature lines appended to it);
    raises ``ProofError`` when there is none or it does not verify."""
    parts = vkey.strip().split("+", 2)
    if len(parts) != 3:
        raise ProofError("见证密钥格式应为 name+id+key / witness key must be name+keyid+base64", field="vkey")
    name, hex_id, b64 = parts
    try:
        kid, raw = bytes.fromhex(hex_id), base64.b64decode(b64, validate=True)
    except (ValueError, binascii.Error):
        raise ProofError("见证密钥无法解码 / witness key does not decode", field="vkey") from None
    if len(raw) != 33 or raw[0] != ALG_COSIGNATURE_V1 or key_id(name, raw[1:]) != kid:
        raise ProofError("不是 cosignature/v1 密钥 / not a cosignature/v1 key", field="vkey")
    pub = Ed25519PublicKey.from_public_bytes(raw[1:])
    body = note_body(note)
    for line in note[len(body) + 1 :].splitlines():
        if not line.startswith(SIG_PREFIX):
            continue
        try:
            sig_name, blob_b64 = line[len(SIG_PREFIX) :].split(" ")
            blob = base64.b64decode(blob_b64, validate=True)
        except (ValueError, binascii.Error):
            continue
        if sig_name != name or blob[:4] != kid or len(blob) != 4 + 8 + 64:
            continue
        (timestamp,) = struct.unpack(">Q", blob[4:12])
        try:
            pub.verify(blob[12:], signed_message(body, timestamp))
        except InvalidSignature:
            raise ProofError(
                f"{name} 的副署签名无效 / cosignature by {name} does not verify", field="note"
            ) from None
        return int(timestamp)
    raise ProofError(f"没有 {name} 的副署 / no cosignature by {name}", field="note")


def add_checkpoint_body(old_size: int, proof: list[bytes], note: str) -> bytes:
    """The request body of ``POST <prefix>/add-checkpoint`` (c2sp.org/tlog-witness)."""
    lines = [f"old {old_size}", *(base64.b64encode(h).decode() for h in proof)]
    return ("\n".join(lines) + "\n\n" + note).encode()


def parse_add_checkpoint(body: bytes) -> tuple[int, list[bytes], str]:
    """(old size, consistency proof, checkpoint note) of an add-checkpoint request; ``ProofError`` (the
    witness answers 400) when malformed."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise ProofError("请求不是 UTF-8 / request is not UTF-8", field="body") from None
    head, sep, note = text.partition("\n\n")
    if not sep:
        raise ProofError("请求缺少空行 / request lacks the empty line before the checkpoint", field="body")
    lines = head.split("\n")
    first = lines[0]
    digits = first[4:]
    if (
        not first.startswith("old ")
        or not digits.isascii()
        or not digits.isdigit()
        or (len(digits) > 1 and digits[0] == "0")
    ):
        raise ProofError("第一行应为 old <大小> / the first line must be 'old <size>'", field="old")
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise ProofError("一致性证明超过 63 行 / more than 63 proof lines", field="proof")
    proof = []
    for line in lines[1:]:
        try:
            h = base64.b64decode(line, validate=True)
        except (ValueError, binascii.Error):
            raise ProofError("证明行不是 base64 / a proof line is not base64", field="proof") from None
        if len(h) != HASH_SIZE:
            raise ProofError("证明行不是 32 字节哈希 / a proof line is not a 32-byte hash", field="proof")
        proof.append(h)
    return int(digits), proof, note
