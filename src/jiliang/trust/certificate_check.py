"""Checking one certificate file with nothing but public material: the verifier's side of issue 3.

Given the DCC file, its proof bundle (from the platform's API or ``jiliang certificate bundle``), the
log's public key, a tree head and the trusted roots, every claim is checked here without the platform's
database: the schema, the XAdES signature judged at its signing time, that the signer is the issuing
institution, that the file is byte for byte the one registered in the log, that the tree head is signed
by the log, that the leaf is included under it, and whether a withdrawal or supersession is logged too.

Each step answers with a code a program can branch on and a message in Chinese and English.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509

from jiliang.errors import InvalidInput, ProofError
from jiliang.trust import checkpoint as notes
from jiliang.trust import dcc, merkle, xades
from jiliang.trust.leaves import encode as leaf_bytes

BUNDLE_FORMAT = "jiliang-certificate-bundle/1"
ISSUED = "certificate_issued"
WITHDRAWN = "certificate_withdrawn"
SUPERSEDED = "certificate_superseded"


@dataclass(frozen=True)
class Step:
    name: str  # schema | signature | issuer | digest | tree_head | inclusion | status
    ok: bool
    code: str
    message: str


@dataclass
class CheckReport:
    steps: list[Step] = field(default_factory=list)
    number: str | None = None
    status: str | None = None  # valid | withdrawn | superseded (as logged)
    index: int | None = None
    tree_size: int | None = None
    root_hash: str | None = None
    signer: str | None = None  # the signing certificate's subject, when the signature verified
    signed_at: str | None = None  # its claimed signing time (ISO 8601, UTC)

    @property
    def genuine(self) -> bool:
        """Authentic, unaltered and logged; a withdrawn certificate is genuine but no longer valid."""
        return bool(self.steps) and all(s.ok for s in self.steps if s.name != "status")

    @property
    def valid(self) -> bool:
        return self.genuine and self.status == "valid"

    def add(self, name: str, ok: bool, code: str, message: str) -> bool:
        self.steps.append(Step(name, ok, code, message))
        return ok


def note_signature(report: CheckReport, sig: xades.SignatureReport) -> None:
    """The ``signature`` step, and who signed when it verified."""
    report.add("signature", sig.valid, sig.reason, sig.message)
    if sig.valid:
        report.signer = sig.signer_subject
        report.signed_at = sig.signing_time.isoformat() if sig.signing_time else None


def parse_bundle(raw: bytes | str) -> dict[str, Any]:
    try:
        bundle = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"证明包不是 JSON / the proof bundle is not JSON: {exc}", field="bundle") from None
    if not isinstance(bundle, dict) or bundle.get("format") != BUNDLE_FORMAT:
        raise InvalidInput(
            f"证明包格式应为 {BUNDLE_FORMAT} / the bundle's format must be {BUNDLE_FORMAT}", field="bundle"
        )
    for key in ("number", "leaf", "index", "tree_size", "proof", "checkpoint"):
        if key not in bundle:
            raise InvalidInput(f"证明包缺少 {key} / the bundle lacks {key}", field=key)
    return bundle


def _leaf_hash(leaf: Mapping[str, Any]) -> bytes:
    return merkle.leaf_hash(leaf_bytes(str(leaf["kind"]), dict(leaf["body"])))


def _proof(raw: Sequence[str]) -> list[bytes]:
    try:
        return [bytes.fromhex(h) for h in raw]
    except (TypeError, ValueError):
        raise ProofError(
            "证明中的哈希不是十六进制 / a proof hash is not hexadecimal", field="proof"
        ) from None


def check_included(
    leaf: Mapping[str, Any], index: int, size: int, proof: Sequence[str], head: notes.Checkpoint
) -> None:
    """Raise ProofError unless ``leaf`` is at ``index`` of the tree ``head`` describes."""
    if size != head.size:
        raise ProofError(
            f"证明针对树大小 {size}，树头为 {head.size}：请取该树头的证明包 / the proof is for tree size {size} but "
            f"the tree head has size {head.size}; fetch a bundle for that tree head",
            field="tree_size",
        )
    merkle.verify_inclusion(_leaf_hash(leaf), int(index), int(size), _proof(proof), head.root_hash)


def check_certificate(
    document: bytes,
    bundle: Mapping[str, Any],
    *,
    log_key: str,
    trusted_roots: Sequence[x509.Certificate],
    tree_head: str | None = None,
    intermediates: Sequence[x509.Certificate] = (),
) -> CheckReport:
    """Every check, each recorded; later checks still run after an earlier one fails, to say all."""
    report = CheckReport(number=str(bundle.get("number")))
    try:
        version = dcc.validate(document)
        report.add("schema", True, "ok", f"符合 DCC {version} 模式 / valid against the DCC {version} schema")
    except InvalidInput as exc:
        report.add("schema", False, "schema_invalid", exc.message)

    leaf = bundle["leaf"]
    body = dict(leaf.get("body", {}))
    sig = xades.verify(document, trusted_roots, intermediates=intermediates)
    note_signature(report, sig)
    issuer = str(body.get("issuer", ""))
    matches = sig.valid and xades.signer_matches(sig, issuer)
    report.add(
        "issuer",
        matches,
        "ok" if matches else "signer_mismatch",
        f"签名者为出具机构 {issuer} / signed by the issuing institution"
        if matches
        else f"签名者不是出具机构 {issuer} / the signer is not the issuing institution "
        f"({sig.signer_credit_code or '?'})",
    )
    digest = hashlib.sha256(document).hexdigest()
    same = leaf.get("kind") == ISSUED and body.get("sha256") == digest and body.get("number") == report.number
    report.add(
        "digest",
        same,
        "ok" if same else "document_altered",
        "文件与登记的证书逐字节一致 / the file is byte for byte the registered certificate"
        if same
        else "文件与登记的证书不一致（被改动或不是该证书）/ the file differs from the registered certificate "
        "(altered, or another document)",
    )

    try:
        head = notes.verify_note(tree_head or str(bundle["checkpoint"]), log_key)
        report.tree_size, report.root_hash = head.size, head.root_hash.hex()
        report.add(
            "tree_head",
            True,
            "ok",
            f"树头签名有效（大小 {head.size}）/ tree head signed by the log (size {head.size})",
        )
    except InvalidInput as exc:
        report.add("tree_head", False, "tree_head_invalid", exc.message)
        head = None
    if head is not None:
        try:
            check_included(leaf, int(bundle["index"]), int(bundle["tree_size"]), bundle["proof"], head)
            report.index = int(bundle["index"])
            report.add(
                "inclusion",
                True,
                "ok",
                f"已记入日志，索引 {report.index}，树头 {head.root_hash.hex()[:16]}… / included at index "
                f"{report.index} under tree head {head.root_hash.hex()[:16]}…",
            )
        except InvalidInput as exc:
            report.add("inclusion", False, "inclusion_invalid", exc.message)

    status = bundle.get("status")
    if not status:
        report.status = "valid"
        report.add("status", True, "valid", "未记录撤销或替代 / no withdrawal or supersession logged")
    else:
        kind = status["leaf"].get("kind")
        report.status = {WITHDRAWN: "withdrawn", SUPERSEDED: "superseded"}.get(kind)
        proven = head is not None and report.status is not None
        if proven:
            assert head is not None
            try:
                check_included(
                    status["leaf"], int(status["index"]), int(status["tree_size"]), status["proof"], head
                )
            except InvalidInput:
                proven = False
        sbody = status["leaf"].get("body", {})
        word = {"withdrawn": "已撤销 / withdrawn", "superseded": "已被替代 / superseded"}.get(
            report.status or "", "?"
        )
        detail = sbody.get("reason") or sbody.get("superseded_by") or ""
        report.add(
            "status",
            False,
            report.status or "status_unknown",
            f"证书{word}：{detail}"
            + ("" if proven else "（该记录的日志证明无效 / its log proof does not verify）"),
        )
    return report
