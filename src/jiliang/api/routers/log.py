"""The transparency log's public interface (公开，无需登录): tree heads, proofs and entries.

Hashes are standard base64, as in RFC 6962's get-sth and get-proof-by-hash answers; a leaf is looked up
by its leaf hash in hex. Anyone may read: the log exists so that outsiders can check it.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel

from jiliang.api.deps import PlatformDep
from jiliang.api.schemas.common import ERRORS
from jiliang.services import log_publication, transparency

router = APIRouter(prefix="/api/v1/log", tags=["log 透明日志"], responses=ERRORS)

MAX_PROOF_SIZE = 1 << 48


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class CheckpointOut(BaseModel):
    origin: str
    tree_size: int
    root_hash: str  # base64
    checkpoint: str  # the C2SP signed note


class PublicKeyOut(BaseModel):
    verifier_key: str  # name+keyid+base64(0x01 ‖ Ed25519 public key), c2sp.org/signed-note


class InclusionOut(BaseModel):
    leaf_index: int
    tree_size: int
    leaf_hash: str | None  # base64; when looked up by hash
    proof: list[str]  # base64, RFC 9162 §2.1.3.1 order


class ConsistencyOut(BaseModel):
    first: int
    second: int
    proof: list[str]  # base64, RFC 9162 §2.1.4.1 order


class EntryOut(BaseModel):
    index: int
    leaf_hash: str  # base64
    kind: str
    leaf: str  # base64 of the canonical leaf bytes
    created_at: datetime


class EntriesOut(BaseModel):
    start: int
    items: list[EntryOut]


Size = Annotated[int, Query(ge=0, le=MAX_PROOF_SIZE, description="树大小 / tree size")]


@router.get("/checkpoint", summary="最新签名树头 / Latest signed tree head")
def checkpoint(platform: PlatformDep) -> CheckpointOut:
    head = transparency.current_checkpoint(platform)
    return CheckpointOut(
        origin=head.origin, tree_size=head.size, root_hash=b64(head.root_hash), checkpoint=head.text
    )


@router.get(
    "/checkpoint.txt",
    summary="最新签名树头（签名注释原文）/ Latest tree head as a C2SP signed note",
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
def checkpoint_text(platform: PlatformDep) -> PlainTextResponse:
    return PlainTextResponse(
        transparency.current_checkpoint(platform).text, media_type="text/plain; charset=utf-8"
    )


@router.get("/public-key", summary="日志验证公钥 / The log's verifier key")
def public_key(platform: PlatformDep) -> PublicKeyOut:
    return PublicKeyOut(verifier_key=transparency.log_verifier_key(platform))


@router.get("/proof/inclusion", summary="包含证明 / Inclusion proof (by index, or by leaf hash)")
def inclusion(
    platform: PlatformDep,
    size: Size,
    index: Annotated[int | None, Query(ge=0, le=MAX_PROOF_SIZE, description="叶子序号 / leaf index")] = None,
    leaf_hash: Annotated[
        str | None, Query(description="叶子哈希（十六进制）/ leaf hash, hex", max_length=64)
    ] = None,
) -> InclusionOut:
    found, wanted, proof = transparency.prove_inclusion(platform, size, index=index, leaf_hash=leaf_hash)
    return InclusionOut(
        leaf_index=found,
        tree_size=size,
        leaf_hash=b64(wanted) if wanted else None,
        proof=[b64(p) for p in proof],
    )


@router.get("/proof/consistency", summary="一致性证明 / Consistency proof between two tree sizes")
def consistency(
    platform: PlatformDep,
    first: Annotated[int, Query(ge=0, le=MAX_PROOF_SIZE, description="较早的树大小 / earlier tree size")],
    second: Annotated[int, Query(ge=0, le=MAX_PROOF_SIZE, description="较晚的树大小 / later tree size")],
) -> ConsistencyOut:
    proof = transparency.prove_consistency(platform, first, second)
    return ConsistencyOut(first=first, second=second, proof=[b64(p) for p in proof])


@router.get("/entries", summary="日志条目（至多 1000 条）/ Log entries [start, end), at most 1000")
def entries(
    platform: PlatformDep,
    start: Annotated[int, Query(ge=0, le=MAX_PROOF_SIZE, description="起始序号 / first index")],
    end: Annotated[int, Query(ge=0, le=MAX_PROOF_SIZE, description="结束序号（不含）/ end index, exclusive")],
) -> EntriesOut:
    return EntriesOut(
        start=start,
        items=[
            EntryOut(
                index=e.index,
                leaf_hash=b64(e.leaf_hash),
                kind=e.kind,
                leaf=b64(e.body),
                created_at=e.created_at,
            )
            for e in transparency.read_entries(platform, start, end)
        ],
    )


class PublishedHeadOut(BaseModel):
    tree_size: int
    root_hash: str  # base64
    checkpoint: str  # the C2SP signed note, as published
    published_at: str


class PublishedHeadsOut(BaseModel):
    items: list[PublishedHeadOut]


@router.get(
    "/checkpoints",
    summary="库外发布的全部树头 / Every tree head as published outside the database",
)
def published_checkpoints(
    platform: PlatformDep,
    since: Annotated[int, Query(ge=0, le=MAX_PROOF_SIZE, description="最小树大小 / smallest tree size")] = 0,
) -> PublishedHeadsOut:
    """Read from the append-only file (``services.log_publication``), not from the database: a rollback
    of the database does not change this history."""
    return PublishedHeadsOut(
        items=[
            PublishedHeadOut(
                tree_size=p.size, root_hash=b64(p.root_hash), checkpoint=p.note, published_at=p.published_at
            )
            for p in log_publication.published_history(platform, since)
        ]
    )
