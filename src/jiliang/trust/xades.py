"""Enveloped XML-DSig signatures with the XAdES baseline B-B profile (ETSI EN 319 132-1 §6.3), for DCCs.

Signing uses signxml's XAdESSigner and fills the gaps it has (signxml 5.2): the signing time is
the caller's (a certificate is dated by its issue, not by the clock of the signing process);
SigningCertificateV2 names only the signing certificate, with its IssuerSerialV2 (EN 319 132-1
§5.2.2.2, RFC 5035 §4) — signxml leaves that element out and digests every certificate of the chain;
and the references to SignedProperties and KeyInfo name their c14n transform (see ``_Signer``).

Core validation (signature value, reference digests) of our own profile runs over the one parsed tree
(``_core_check``); any other construct goes to signxml's XMLVerifier (``_signxml_check``).

Verification never raises for a bad document: it answers a ``SignatureReport`` with one reason code.
The order of the checks decides which code a document with several faults gets:
``malformed`` (structure) → the signing certificate's validity at the signing time → signature value
(``signature_invalid``) → reference digests (``digest_mismatch``) → the signed certificate digest
(``signing_certificate_mismatch``) → the chain to a trusted root at the signing time (``untrusted_chain``).

Baseline B-B has no time stamp: the signing time is the signer's claim, protected by the signature but
not attested by a third party. The chain is judged at that claimed time (a certificate that has expired
since does not invalidate an old signature), and a claim in the future of ``at`` is refused.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import verification
from lxml import etree
from signxml import exceptions as sx
from signxml.algorithms import CanonicalizationMethod, DigestAlgorithm, SignatureMethod
from signxml.util import SigningSettings
from signxml.verifier import SignatureConfiguration, XMLVerifier
from signxml.xades.xades import XAdESDataObjectFormat, XAdESSigner

from jiliang.errors import InvalidInput
from jiliang.trust.keys import PrivateKey, credit_code_of

DS = "http://www.w3.org/2000/09/xmldsig#"
XADES = "http://uri.etsi.org/01903/v1.3.2#"
NS = {"ds": DS, "xades": XADES}
SIGNED_PROPERTIES_TYPE = "http://uri.etsi.org/01903#SignedProperties"
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
# A signer's clock may run a little ahead of ours; beyond this a signing time "in the future" is refused.
CLOCK_SKEW = timedelta(minutes=5)
MAX_CHAIN_DEPTH = 8


def ds_tag(name: str) -> str:
    return f"{{{DS}}}{name}"


def xades_tag(name: str) -> str:
    return f"{{{XADES}}}{name}"


_DIGESTS: dict[str, Any] = {
    DigestAlgorithm.SHA256.value: hashlib.sha256,
    DigestAlgorithm.SHA384.value: hashlib.sha384,
    DigestAlgorithm.SHA512.value: hashlib.sha512,
}

MESSAGES = {
    "ok": "签名有效 / signature is valid",
    "no_signature": "文档未签名 / the document carries no signature",
    "digest_mismatch": "签名后内容被修改（摘要不符）/ content changed after signing (digest mismatch)",
    "signature_invalid": "签名值无效 / the signature value does not verify",
    "untrusted_chain": "签名证书不能链接到受信任的根证书 / the signing certificate does not chain to a trusted root",
    "expired_at_signing_time": "签名时证书已过期 / a certificate had expired at the signing time",
    "not_yet_valid": "签名时证书尚未生效 / a certificate was not yet valid at the signing time",
    "signing_certificate_mismatch": (
        "签名属性中的证书与签名证书不符 / the certificate named in the signed properties is not the signing certificate"
    ),
    "malformed": "签名结构不完整或无法解析 / the signature is incomplete or does not parse",
}


@dataclass(frozen=True)
class SignatureReport:
    """What a verifier says about one document; ``reason`` is one of MESSAGES' keys."""

    valid: bool
    reason: str
    message: str
    signing_time: datetime | None = None
    signer_subject: str | None = None
    signer_credit_code: str | None = None
    chain: list[x509.Certificate] = field(default_factory=list)


def signer_matches(report: SignatureReport, credit_code: str) -> bool:
    """True only for a valid signature whose certificate names this 统一社会信用代码."""
    return (
        report.valid
        and report.signer_credit_code is not None
        and report.signer_credit_code == credit_code.strip().upper()
    )


# --------------------------------------------------------------------------------------------- parsing


def _parser() -> etree.XMLParser:
    # No DTD, no entities, no network, no huge trees: hostile XML (XXE, billion laughs) is refused.
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_blank_text=False
    )


# The same rule as trust.dcc.read_untrusted: a DOCTYPE is refused by a byte scan before any parser
# runs, so no entity declaration is ever read (also in UTF-16, which an XML declaration may announce).
DOCTYPE_MARKERS = tuple("<!DOCTYPE".encode(enc) for enc in ("utf-8", "utf-16-le", "utf-16-be"))


def parse_document(xml: bytes) -> etree._Element:
    if any(marker in xml for marker in DOCTYPE_MARKERS):
        raise InvalidInput(
            "不接受文档类型声明（DTD），解析前即拒绝 / a DOCTYPE is not accepted (refused before parsing)",
            field="xml",
        )
    try:
        tree = etree.fromstring(xml, _parser()).getroottree()
    except etree.XMLSyntaxError as exc:
        raise InvalidInput(f"XML 无法解析 / XML does not parse: {exc}", field="xml") from exc
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise InvalidInput("不接受文档类型声明（DTD）/ a DOCTYPE is not accepted", field="xml")
    return tree.getroot()


# --------------------------------------------------------------------------------------------- signing


def _der_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def _tlv(tag: int, content: bytes) -> bytes:
    return bytes([tag]) + _der_length(len(content)) + content


def issuer_serial_v2(cert: x509.Certificate) -> bytes:
    """DER of RFC 5035 IssuerSerial: SEQUENCE { GeneralNames { [4] directoryName Name }, INTEGER serial }."""
    serial = cert.serial_number
    serial_der = _tlv(0x02, serial.to_bytes(serial.bit_length() // 8 + 1, "big", signed=True))
    general_names = _tlv(0x30, _tlv(0xA4, cert.issuer.public_bytes()))
    return _tlv(0x30, general_names + serial_der)


def _xs_datetime(t: datetime) -> str:
    return t.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class _Signer(XAdESSigner):
    """signxml's XAdES signer with the caller's signing time and a B-B SigningCertificateV2."""

    def __init__(self, signing_time: datetime, **kwargs: Any) -> None:
        super().__init__(
            data_object_format=XAdESDataObjectFormat(
                Description="Digital Calibration Certificate (DCC) 数字校准证书", MimeType="application/xml"
            ),
            **kwargs,
        )
        self._signing_time = signing_time

    def _add_reference_to_signed_info(
        self, sig_root: etree._Element, node_to_reference: etree._Element, **attrs: str
    ) -> None:
        # signxml 5.2 digests SignedProperties and KeyInfo with the configured (here exclusive) c14n but
        # writes no Transform, so a verifier applies the default inclusive C14N 1.0 (XML-DSig §4.4.3.3)
        # and the digests disagree. Name the transform explicitly.
        signed_info = sig_root.find("ds:SignedInfo", NS)
        reference = etree.SubElement(signed_info, ds_tag("Reference"), nsmap=self.namespaces)
        reference.set("URI", f"#{node_to_reference.get('Id')}")
        for name, value in attrs.items():
            reference.set(name, value)
        transforms = etree.SubElement(reference, ds_tag("Transforms"), nsmap=self.namespaces)
        etree.SubElement(
            transforms, ds_tag("Transform"), nsmap=self.namespaces, Algorithm=self.c14n_alg.value
        )
        etree.SubElement(
            reference, ds_tag("DigestMethod"), nsmap=self.namespaces, Algorithm=self.digest_alg.value
        )
        value = etree.SubElement(reference, ds_tag("DigestValue"), nsmap=self.namespaces)
        c14n = self._c14n(node_to_reference, algorithm=self.c14n_alg)
        value.text = base64.b64encode(self._get_digest(c14n, algorithm=self.digest_alg)).decode()

    def add_signing_time(
        self,
        signed_signature_properties: etree._Element,
        sig_root: etree._Element,
        signing_settings: SigningSettings,
    ) -> None:
        el = etree.SubElement(signed_signature_properties, xades_tag("SigningTime"), nsmap=self.namespaces)
        el.text = _xs_datetime(self._signing_time)

    def add_signing_certificate(
        self,
        signed_signature_properties: etree._Element,
        sig_root: etree._Element,
        signing_settings: SigningSettings,
    ) -> None:
        assert signing_settings.cert_chain  # sign() always passes the chain
        leaf: x509.Certificate = signing_settings.cert_chain[0]
        ns = self.namespaces
        v2 = etree.SubElement(signed_signature_properties, xades_tag("SigningCertificateV2"), nsmap=ns)
        cert = etree.SubElement(v2, xades_tag("Cert"), nsmap=ns)
        digest = etree.SubElement(cert, xades_tag("CertDigest"), nsmap=ns)
        etree.SubElement(digest, ds_tag("DigestMethod"), nsmap=ns, Algorithm=DigestAlgorithm.SHA256.value)
        value = etree.SubElement(digest, ds_tag("DigestValue"), nsmap=ns)
        value.text = base64.b64encode(leaf.fingerprint(hashes.SHA256())).decode()
        serial = etree.SubElement(cert, xades_tag("IssuerSerialV2"), nsmap=ns)
        serial.text = base64.b64encode(issuer_serial_v2(leaf)).decode()


def sign(xml: bytes, key: PrivateKey, chain: list[x509.Certificate], signing_time: datetime) -> bytes:
    """Append an enveloped XAdES B-B signature as the last child of the root element.

    ``chain`` starts with the signer's certificate (then intermediates, optionally the root); all of it
    goes into KeyInfo so that a verifier elsewhere needs only its trusted roots.
    """
    if not chain:
        raise InvalidInput("需要签名证书 / the signing certificate is required", field="chain")
    if signing_time.tzinfo is None:
        raise InvalidInput("签名时间须带时区 / signing time must carry a time zone", field="signing_time")
    root = parse_document(xml)
    if root.find("ds:Signature", NS) is not None:
        raise InvalidInput("文档已签名 / the document is already signed", field="xml")
    if isinstance(key, ec.EllipticCurvePrivateKey):
        method = SignatureMethod.ECDSA_SHA256
    elif isinstance(key, rsa.RSAPrivateKey):
        method = SignatureMethod.RSA_SHA256
    else:  # pragma: no cover - PrivateKey admits no other type
        raise InvalidInput("不支持的密钥 / unsupported key type", field="key")
    signer = _Signer(
        signing_time,
        signature_algorithm=method,
        digest_algorithm=DigestAlgorithm.SHA256,
        c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
    )
    signed = signer.sign(root, key=key, cert=list(chain))
    out: bytes = etree.tostring(signed, xml_declaration=True, encoding="UTF-8")
    return out


# --------------------------------------------------------------------------------------------- verifying


def _report(reason: str, detail: str = "", **fields: Any) -> SignatureReport:
    message = MESSAGES[reason] + (f": {detail}" if detail else "")
    return SignatureReport(valid=reason == "ok", reason=reason, message=message, **fields)


def _parse_time(text: str | None) -> datetime:
    if not text:
        raise ValueError("empty")
    t = datetime.fromisoformat(text.strip())
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def _leaf(certs: list[x509.Certificate]) -> x509.Certificate:
    """The certificate that issued none of the others (the first such, as signers list the leaf first)."""
    for c in certs:
        if not any(o is not c and o.issuer == c.subject for o in certs):
            return c
    return certs[0]


def _path(leaf: x509.Certificate, pool: Sequence[x509.Certificate]) -> list[x509.Certificate]:
    """Leaf upwards by issuer name, for naming which certificate was out of its validity."""
    path = [leaf]
    while path[-1].issuer != path[-1].subject and len(path) < MAX_CHAIN_DEPTH:
        nxt = next((c for c in pool if c.subject == path[-1].issuer and c not in path), None)
        if nxt is None:
            break
        path.append(nxt)
    return path


def _validity_problem(certs: Sequence[x509.Certificate], when: datetime) -> tuple[str, str] | None:
    for c in certs:
        if when > c.not_valid_after_utc:
            return (
                "expired_at_signing_time",
                f"{c.subject.rfc4514_string()} not after {c.not_valid_after_utc}",
            )
        if when < c.not_valid_before_utc:
            return "not_yet_valid", f"{c.subject.rfc4514_string()} not before {c.not_valid_before_utc}"
    return None


def _check_signing_certificate(signed_props: etree._Element, leaf: x509.Certificate) -> str | None:
    """None when the first Cert of SigningCertificateV2 (or the legacy v1) is ``leaf``; else why not."""
    holder = signed_props.find("xades:SignedSignatureProperties/xades:SigningCertificateV2", NS)
    if holder is None:
        holder = signed_props.find("xades:SignedSignatureProperties/xades:SigningCertificate", NS)
    if holder is None:
        return "no SigningCertificateV2"
    cert = holder.find("xades:Cert", NS)
    method = None if cert is None else cert.find("xades:CertDigest/ds:DigestMethod", NS)
    value = None if cert is None else cert.find("xades:CertDigest/ds:DigestValue", NS)
    if method is None or value is None or not value.text:
        return "no CertDigest"
    algorithm = _DIGESTS.get(method.get("Algorithm", ""))
    if algorithm is None:
        return f"digest method {method.get('Algorithm')} not accepted"
    if base64.b64decode(value.text) != algorithm(leaf.public_bytes(Encoding.DER)).digest():
        return "certificate digest differs"
    serial = cert.find("xades:IssuerSerialV2", NS) if cert is not None else None
    if serial is not None and serial.text and base64.b64decode(serial.text) != issuer_serial_v2(leaf):
        return "IssuerSerialV2 differs"
    return None


def _chain_to_root(
    leaf: x509.Certificate,
    intermediates: list[x509.Certificate],
    roots: Sequence[x509.Certificate],
    when: datetime,
) -> list[x509.Certificate]:
    """RFC 5280 path validation at ``when`` (cryptography's verifier); raises VerificationError."""
    builder = (
        verification.PolicyBuilder()
        .store(verification.Store(list(roots)))
        .time(when)
        .max_chain_depth(MAX_CHAIN_DEPTH)
        .extension_policies(
            ca_policy=verification.ExtensionPolicy.webpki_defaults_ca(),
            ee_policy=verification.ExtensionPolicy.permit_all(),
        )
    )
    verified = builder.build_client_verifier().verify(leaf, intermediates)
    return list(verified.chain)


class _Unsupported(Exception):
    """A construct outside the profile ``_core_check`` handles: signxml's general verifier decides."""


EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
_SIGNATURE_METHODS: dict[str, tuple[type[Any], hashes.HashAlgorithm]] = {
    SignatureMethod.ECDSA_SHA256.value: (ec.EllipticCurvePublicKey, hashes.SHA256()),
    SignatureMethod.ECDSA_SHA384.value: (ec.EllipticCurvePublicKey, hashes.SHA384()),
    SignatureMethod.ECDSA_SHA512.value: (ec.EllipticCurvePublicKey, hashes.SHA512()),
    SignatureMethod.RSA_SHA256.value: (rsa.RSAPublicKey, hashes.SHA256()),
    SignatureMethod.RSA_SHA384.value: (rsa.RSAPublicKey, hashes.SHA384()),
    SignatureMethod.RSA_SHA512.value: (rsa.RSAPublicKey, hashes.SHA512()),
}
_ID_ATTRIBUTES = ("Id", "ID", "id")


def _exc_c14n(el: etree._Element) -> bytes:
    out: bytes = etree.tostring(el, method="c14n", exclusive=True, with_comments=False)
    return out


def _verify_signature_value(sig: etree._Element, info: etree._Element, leaf: x509.Certificate) -> None:
    """XML-DSig core validation, step 2 (§3.2.2): SignatureValue over the canonical SignedInfo."""
    kind, digest = _SIGNATURE_METHODS[info.find("ds:SignatureMethod", NS).get("Algorithm", "")]
    key = leaf.public_key()
    if not isinstance(key, kind):
        raise InvalidSignature("the signing certificate's key does not fit the signature method")
    raw = base64.b64decode(sig.findtext("ds:SignatureValue", default="", namespaces=NS), validate=False)
    signed_info = _exc_c14n(info)
    if isinstance(key, ec.EllipticCurvePublicKey):
        # RFC 4050 / RFC 6931: the value is r ‖ s, each as long as the curve's order.
        size = (key.curve.key_size + 7) // 8
        if len(raw) != 2 * size:
            raise InvalidSignature(f"ECDSA SignatureValue of {len(raw)} bytes, expected {2 * size}")
        der = encode_dss_signature(int.from_bytes(raw[:size], "big"), int.from_bytes(raw[size:], "big"))
        key.verify(der, signed_info, ec.ECDSA(digest))
    else:
        assert isinstance(key, rsa.RSAPublicKey)
        key.verify(raw, signed_info, padding.PKCS1v15(), digest)


def _dereference(root: etree._Element, uri: str) -> etree._Element:
    if uri == "":
        return root
    if not uri.startswith("#") or uri.startswith("#xpointer("):
        raise _Unsupported(uri)
    found = [
        el
        for name in _ID_ATTRIBUTES
        for el in root.xpath(f"//*[@*[local-name() = '{name}'] = $v]", v=uri[1:])
    ]
    if len({id(el) for el in found}) != 1:
        raise InvalidInput(f"reference {uri} resolves to {len(found)} elements", field="URI")
    return found[0]


def _digest_enveloped(target: etree._Element, sig: etree._Element) -> bytes:
    """Canonical ``target`` without the signature (enveloped-signature transform), tree left as found.

    The signature's tail text stays in the document, as the transform removes the element only.
    """
    parent = sig.getparent()
    prev = sig.getprevious()
    index = parent.index(sig)
    tail, sig.tail = sig.tail, None
    saved = prev.tail if prev is not None else parent.text
    if tail:
        if prev is not None:
            prev.tail = (prev.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(sig)
    try:
        return _exc_c14n(target)
    finally:
        parent.insert(index, sig)
        sig.tail = tail
        if prev is not None:
            prev.tail = saved
        else:
            parent.text = saved


def _core_check(root: etree._Element, sig: etree._Element, leaf: x509.Certificate) -> tuple[str, str] | None:
    """XML-DSig core validation for the profile this module signs: exclusive c14n without comments and
    without an InclusiveNamespaces prefix list, enveloped or same-document references, SHA-2 digests,
    ECDSA or RSA PKCS#1 v1.5. Raises ``_Unsupported`` for anything else.

    The same checks as signxml's XMLVerifier (the tests compare the two verdicts), parsing the document
    once instead of once per reference: the verification rate doubles.
    """
    info = sig.find("ds:SignedInfo", NS)
    if info is None or info.find("ds:CanonicalizationMethod", NS) is None:
        raise _Unsupported("SignedInfo")
    c14n = info.find("ds:CanonicalizationMethod", NS)
    if c14n.get("Algorithm") != EXC_C14N or len(c14n):
        raise _Unsupported("canonicalization")
    method = info.find("ds:SignatureMethod", NS)
    if method is None or method.get("Algorithm") not in _SIGNATURE_METHODS:
        raise _Unsupported("signature method")
    plan = []
    for ref in info.findall("ds:Reference", NS):
        transforms = ref.findall("ds:Transforms/ds:Transform", NS)
        algorithms = [t.get("Algorithm") for t in transforms]
        if any(len(t) for t in transforms) or EXC_C14N not in algorithms:
            raise _Unsupported("transform parameters or default c14n")
        if set(algorithms) - {ENVELOPED, EXC_C14N}:
            raise _Unsupported("transform")
        digest_method = ref.find("ds:DigestMethod", NS)
        digest = None if digest_method is None else _DIGESTS.get(digest_method.get("Algorithm", ""))
        if digest is None:
            raise _Unsupported("digest method")
        plan.append((ref, ENVELOPED in algorithms, digest))
    try:
        _verify_signature_value(sig, info, leaf)
    except InvalidSignature as exc:
        return "signature_invalid", str(exc) or "signature value does not verify"
    for index, (ref, enveloped, digest) in enumerate(plan):
        uri = ref.get("URI")
        if uri is None:
            raise _Unsupported("reference without URI")
        try:
            target = _dereference(root, uri)
        except InvalidInput as exc:
            return "malformed", exc.message
        contains_signature = target is sig or any(a is target for a in sig.iterancestors())
        if enveloped and (target is sig or any(a is sig for a in target.iterancestors())):
            raise _Unsupported("enveloped transform inside the signature")
        data = _digest_enveloped(target, sig) if enveloped and contains_signature else _exc_c14n(target)
        expected = base64.b64decode(ref.findtext("ds:DigestValue", default="", namespaces=NS))
        if digest(data).digest() != expected:
            return "digest_mismatch", f"digest mismatch for reference {index} ({uri})"
    return None


def _signxml_check(
    root: etree._Element, leaf: x509.Certificate, references: int, signing_time: datetime
) -> tuple[str, str] | None:
    """signxml's general verifier: every c14n and transform it knows, at the cost of a parse per reference."""
    config = SignatureConfiguration(
        location="./", expect_references=references, verification_time=signing_time
    )
    try:
        XMLVerifier().verify(root, x509_cert=leaf, expect_config=config)
    except sx.InvalidCertificate as exc:
        return "untrusted_chain", str(exc)
    except sx.InvalidDigest as exc:
        return "digest_mismatch", str(exc)
    except sx.InvalidSignature as exc:
        return "signature_invalid", str(exc)
    except (sx.InvalidInput, sx.SignXMLException, ValueError) as exc:
        return "malformed", str(exc)
    return None


def verify(
    xml: bytes,
    trusted_roots: Sequence[x509.Certificate],
    *,
    at: datetime | None = None,
    intermediates: Sequence[x509.Certificate] = (),
) -> SignatureReport:
    """Check the enveloped XAdES signature of ``xml``; judge the chain at the signed SigningTime.

    The path to a trusted root is built from the certificates the signature carries (``ds:KeyInfo/
    ds:X509Data`` and, in long-term signatures, ``xades:CertificateValues``) and ``intermediates``;
    only ``trusted_roots`` are trust anchors — a root certificate carried in the signature is never
    trusted for being there. ``at`` is "now" for the one check that needs it: a signing time after
    ``at`` is refused.
    """
    try:
        return _verify(xml, trusted_roots, at or datetime.now(UTC), list(intermediates))
    except Exception as exc:  # the input is untrusted: whatever a library trips over, it is malformed
        return _report("malformed", f"{type(exc).__name__}: {exc}")


def _carried(sig: etree._Element, path: str) -> list[x509.Certificate]:
    return [
        x509.load_der_x509_certificate(base64.b64decode("".join((el.text or "").split())))
        for el in sig.findall(path, NS)
    ]


def _verify(
    xml: bytes, trusted_roots: Sequence[x509.Certificate], now: datetime, extra: list[x509.Certificate]
) -> SignatureReport:
    try:
        root = parse_document(xml)
    except InvalidInput as exc:
        return _report("malformed", exc.message)
    signatures = root.findall("ds:Signature", NS)
    if not signatures:
        return _report("no_signature")
    if len(signatures) > 1:
        return _report("malformed", "more than one signature on the root element")
    sig = signatures[0]

    # Structure first: what is signed, by which certificate, when.
    try:
        certs = _carried(sig, "ds:KeyInfo/ds:X509Data/ds:X509Certificate")
        long_term = _carried(
            sig,
            "ds:Object/xades:QualifyingProperties/xades:UnsignedProperties/xades:UnsignedSignatureProperties"
            "/xades:CertificateValues/xades:EncapsulatedX509Certificate",
        )
    except ValueError as exc:
        return _report("malformed", f"X509Certificate does not parse: {exc}")
    if not certs:
        return _report("malformed", "no X509Certificate in KeyInfo")
    signed_props = sig.find("ds:Object/xades:QualifyingProperties/xades:SignedProperties", NS)
    if signed_props is None:
        return _report("malformed", "no XAdES SignedProperties")
    try:
        signing_time = _parse_time(
            signed_props.findtext("xades:SignedSignatureProperties/xades:SigningTime", namespaces=NS)
        )
    except ValueError:
        return _report("malformed", "no valid SigningTime")
    leaf = _leaf(certs)
    known: dict[str, Any] = {
        "signing_time": signing_time,
        "signer_subject": leaf.subject.rfc4514_string(),
        "signer_credit_code": credit_code_of(leaf),
    }
    references = sig.findall("ds:SignedInfo/ds:Reference", NS)
    whole = [
        r
        for r in references
        if r.get("URI") == ""
        and any(t.get("Algorithm") == ENVELOPED for t in r.findall("ds:Transforms/ds:Transform", NS))
    ]
    if not whole:
        return _report("malformed", 'no enveloped reference to the whole document (URI="")', **known)
    sp_id = signed_props.get("Id")
    if not sp_id or not any(
        r.get("Type") == SIGNED_PROPERTIES_TYPE and r.get("URI") == f"#{sp_id}" for r in references
    ):
        return _report("malformed", "SignedProperties are not referenced from SignedInfo", **known)
    if signing_time > now + CLOCK_SKEW:
        return _report(
            "not_yet_valid", f"signing time {signing_time.isoformat()} lies in the future", **known
        )

    # Cryptography: the leaf's validity at the signing time, then the signature, then the digests.
    problem = _validity_problem([leaf], signing_time)
    if problem:
        return _report(problem[0], problem[1], **known)
    try:
        failure = _core_check(root, sig, leaf)
    except _Unsupported:
        failure = _signxml_check(root, leaf, len(references), signing_time)
    if failure:
        return _report(failure[0], failure[1], **known)

    mismatch = _check_signing_certificate(signed_props, leaf)
    if mismatch:
        return _report("signing_certificate_mismatch", mismatch, **known)
    usage = _key_usage(leaf)
    if usage is not None and not (usage.digital_signature or usage.content_commitment):
        return _report(
            "untrusted_chain", "key usage allows neither digitalSignature nor nonRepudiation", **known
        )

    # Untrusted helpers for path building only: whatever the signature carries, and what the caller adds.
    intermediates = [c for c in [*certs, *long_term, *extra] if c is not leaf]
    problem = _validity_problem(_path(leaf, [*trusted_roots, *intermediates])[1:], signing_time)
    if problem:
        return _report(problem[0], problem[1], **known)
    if not trusted_roots:
        return _report("untrusted_chain", "no trusted roots configured", **known)
    try:
        chain = _chain_to_root(leaf, intermediates, trusted_roots, signing_time)
    except verification.VerificationError as exc:
        return _report("untrusted_chain", str(exc), **known)
    return _report("ok", chain=chain, **known)


def split_anchors(
    certs: Sequence[x509.Certificate],
) -> tuple[list[x509.Certificate], list[x509.Certificate]]:
    """(self-signed roots, the rest): only a root may be a trust anchor; an intermediate handed over as
    "trusted" only helps build the path to one."""
    roots: list[x509.Certificate] = []
    others: list[x509.Certificate] = []
    for c in certs:
        self_signed = c.issuer == c.subject
        if self_signed:
            try:
                c.verify_directly_issued_by(c)
            except (ValueError, TypeError, InvalidSignature):
                self_signed = False
        (roots if self_signed else others).append(c)
    return roots, others


def _key_usage(cert: x509.Certificate) -> x509.KeyUsage | None:
    try:
        return cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return None


__all__ = [
    "MESSAGES",
    "SignatureReport",
    "parse_document",
    "sign",
    "signer_matches",
    "split_anchors",
    "verify",
]
