"""XAdES B-B signatures on DCCs (ETSI EN 319 132-1): sign, verify, and every way a signature fails.

The reference check: signxml's own XAdESVerifier (an implementation we did not write) agrees with our
verdicts on our output, and our verifier accepts a DCC signed by signxml's stock signer under a foreign CA
built here with cryptography alone.
"""

from __future__ import annotations

import base64
import tempfile
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from signxml.exceptions import InvalidDigest, InvalidSignature
from signxml.xades.xades import XAdESSignatureConfiguration, XAdESSigner, XAdESVerifier

from jiliang.domain.credit_code import make_credit_code
from jiliang.errors import InvalidInput
from jiliang.trust import keys, xades
from tests.xades_support import DAY, T0, Lab, dcc_320, make_lab, make_root, schema_errors

CODE_A = make_credit_code("12330100MB0000001")
CODE_B = make_credit_code("12330200MB0000002")
SIGNED_AT = T0 + 10 * DAY
NS = xades.NS


@pytest.fixture(scope="module")
def root() -> keys.RootCA:
    return make_root()


@pytest.fixture(scope="module")
def lab(root: keys.RootCA) -> Lab:
    return make_lab(root, CODE_A)


@pytest.fixture(scope="module")
def signed(lab: Lab) -> bytes:
    return xades.sign(dcc_320(), lab.key, lab.chain, SIGNED_AT)


def test_signed_dcc_verifies_and_names_its_signer(signed: bytes, lab: Lab, root: keys.RootCA) -> None:
    report = xades.verify(signed, [root.certificate])
    assert report.valid and report.reason == "ok", report.message
    assert report.signing_time == SIGNED_AT
    assert report.signer_credit_code == CODE_A
    assert report.signer_subject is not None and "演示市计量检定测试院" in report.signer_subject
    assert report.chain == [lab.certificate, root.certificate]
    assert xades.signer_matches(report, CODE_A)


def test_signed_dcc_still_validates_against_the_320_schema_with_the_signature_last(signed: bytes) -> None:
    assert schema_errors(dcc_320()) == []
    assert schema_errors(signed) == []
    root = etree.fromstring(signed)
    assert root[-1].tag == f"{{{xades.DS}}}Signature"


def test_signature_structure_is_xades_baseline_b(signed: bytes, lab: Lab) -> None:
    sig = etree.fromstring(signed).find("ds:Signature", NS)
    info = sig.find("ds:SignedInfo", NS)
    assert (
        info.find("ds:CanonicalizationMethod", NS).get("Algorithm")
        == "http://www.w3.org/2001/10/xml-exc-c14n#"
    )
    assert info.find("ds:SignatureMethod", NS).get("Algorithm").endswith("ecdsa-sha256")
    refs = info.findall("ds:Reference", NS)
    assert {r.find("ds:DigestMethod", NS).get("Algorithm") for r in refs} == {
        "http://www.w3.org/2001/04/xmlenc#sha256"
    }
    props = sig.find("ds:Object/xades:QualifyingProperties/xades:SignedProperties", NS)
    typed = [r for r in refs if r.get("Type") == "http://uri.etsi.org/01903#SignedProperties"]
    assert [r.get("URI") for r in typed] == [f"#{props.get('Id')}"]
    ssp = props.find("xades:SignedSignatureProperties", NS)
    assert ssp.findtext("xades:SigningTime", namespaces=NS) == "2020-01-11T00:00:00Z"
    cert = ssp.find("xades:SigningCertificateV2/xades:Cert", NS)
    digest = base64.b64decode(cert.findtext("xades:CertDigest/ds:DigestValue", namespaces=NS))
    assert digest == lab.certificate.fingerprint(hashes.SHA256())
    issuer_serial = base64.b64decode(cert.findtext("xades:IssuerSerialV2", namespaces=NS))
    # RFC 5035 IssuerSerial: SEQUENCE { SEQUENCE { [4] Name }, INTEGER }
    assert issuer_serial[0] == 0x30 and lab.certificate.issuer.public_bytes() in issuer_serial
    assert issuer_serial.endswith(lab.certificate.serial_number.to_bytes(20, "big").lstrip(b"\0"))
    chain = [el.text for el in sig.findall("ds:KeyInfo/ds:X509Data/ds:X509Certificate", NS)]
    assert len(chain) == 2


def _one_byte_changes(signed: bytes) -> list[bytes]:
    """For every text node and attribute outside the signature: the document with one ASCII byte changed."""
    tree = etree.fromstring(signed)
    out = []
    targets: list[tuple[etree._Element, str | None]] = []
    for el in tree.iter():
        if not isinstance(el.tag, str) or el.tag.startswith(f"{{{xades.DS}}}"):
            continue
        if any(a.tag == f"{{{xades.DS}}}Signature" for a in el.iterancestors()):
            continue
        if el.text and el.text.strip():
            targets.append((el, None))
        targets.extend((el, name) for name in el.attrib)
    for el, attr in targets:
        value = el.text if attr is None else el.get(attr)
        pos = next((i for i, c in enumerate(value) if c.isascii() and c.isalnum()), None)
        if pos is None:
            continue
        swapped = value[:pos] + ("X" if value[pos] != "X" else "Y") + value[pos + 1 :]
        if attr is None:
            old, el.text = el.text, swapped
        else:
            old = el.get(attr)
            el.set(attr, swapped)
        out.append(etree.tostring(tree, xml_declaration=True, encoding="UTF-8"))
        if attr is None:
            el.text = old
        else:
            el.set(attr, old)
    return out


def test_one_byte_changed_anywhere_in_the_content_is_a_digest_mismatch(
    signed: bytes, root: keys.RootCA
) -> None:
    variants = _one_byte_changes(signed)
    assert len(variants) > 100  # every value, unit, name and attribute of the example DCC
    for doc in variants:
        assert len(doc) == len(signed) and sum(a != b for a, b in zip(doc, signed, strict=True)) == 1
        report = xades.verify(doc, [root.certificate])
        assert report.reason == "digest_mismatch", report.message
        assert not report.valid and not xades.signer_matches(report, CODE_A)


def _both_paths(doc: bytes, leaf: x509.Certificate) -> tuple[object, object]:
    root = xades.parse_document(doc)
    sig = root.find("ds:Signature", NS)
    refs = len(sig.findall("ds:SignedInfo/ds:Reference", NS))
    fast = xades._core_check(root, sig, leaf)
    general = xades._signxml_check(root, leaf, refs, SIGNED_AT)
    return (fast and fast[0]), (general and general[0])


def test_fast_core_validation_agrees_with_signxml_on_every_variant(signed: bytes, lab: Lab) -> None:
    """Our signatures take the one-parse path; signxml's XMLVerifier gives the same verdict on each."""
    assert _both_paths(signed, lab.certificate) == (None, None)
    for doc in [*_one_byte_changes(signed)[::7], _alter_signature_value(signed)]:
        fast, general = _both_paths(doc, lab.certificate)
        assert fast == general and fast in ("digest_mismatch", "signature_invalid")
    other = make_lab(lab.root, CODE_B)
    assert _both_paths(signed, other.certificate) == ("signature_invalid", "signature_invalid")


def test_whitespace_and_signed_properties_are_signed_too(signed: bytes, root: keys.RootCA) -> None:
    tab = signed.index(b"\t<dcc:administrativeData")
    retabbed = signed[:tab] + b" " + signed[tab + 1 :]
    assert xades.verify(retabbed, [root.certificate]).reason == "digest_mismatch"
    later = signed.replace(b"2020-01-11T00:00:00Z", b"2020-01-12T00:00:00Z")
    assert later != signed
    assert xades.verify(later, [root.certificate]).reason == "digest_mismatch"


def _alter_signature_value(signed: bytes) -> bytes:
    tree = etree.fromstring(signed)
    value = tree.find("ds:Signature/ds:SignatureValue", NS)
    raw = bytearray(base64.b64decode(value.text))
    raw[5] ^= 0x01
    value.text = base64.b64encode(bytes(raw)).decode()
    return etree.tostring(tree, xml_declaration=True, encoding="UTF-8")


def test_altered_signature_value_is_signature_invalid(signed: bytes, root: keys.RootCA) -> None:
    report = xades.verify(_alter_signature_value(signed), [root.certificate])
    assert report.reason == "signature_invalid" and not report.valid


def test_signature_of_another_institution_does_not_match(root: keys.RootCA, lab: Lab) -> None:
    other = make_lab(root, CODE_B, name="邻市计量所")
    report = xades.verify(xades.sign(dcc_320(), other.key, other.chain, SIGNED_AT), [root.certificate])
    assert report.valid  # a good signature ...
    assert not xades.signer_matches(report, CODE_A)  # ... but not by the institution the DCC names
    assert xades.signer_matches(report, CODE_B.lower())


def test_untrusted_root(signed: bytes) -> None:
    stranger = make_root(name="some other root")
    assert xades.verify(signed, [stranger.certificate]).reason == "untrusted_chain"
    assert xades.verify(signed, []).reason == "untrusted_chain"


def test_chain_is_judged_at_the_signing_time(root: keys.RootCA) -> None:
    lab = make_lab(root, CODE_A, not_before=T0, valid_days=30)
    # Valid when signed, expired long since (T0 is 2020; the certificate ended 30 days later): still valid.
    old = xades.sign(dcc_320(), lab.key, lab.chain, T0 + 10 * DAY)
    report = xades.verify(old, [root.certificate])
    assert report.valid, report.message
    assert xades.verify(old, [root.certificate], at=T0 + 4000 * DAY).valid
    # Signed after the certificate expired.
    late = xades.sign(dcc_320(), lab.key, lab.chain, T0 + 40 * DAY)
    assert xades.verify(late, [root.certificate]).reason == "expired_at_signing_time"
    # Signed before it was valid.
    early = xades.sign(dcc_320(), lab.key, lab.chain, T0 - DAY)
    assert xades.verify(early, [root.certificate]).reason == "not_yet_valid"


def test_signing_time_in_the_future_is_refused(lab: Lab, root: keys.RootCA) -> None:
    doc = xades.sign(dcc_320(), lab.key, lab.chain, T0 + 20 * DAY)
    assert xades.verify(doc, [root.certificate], at=T0 + 10 * DAY).reason == "not_yet_valid"
    assert xades.verify(doc, [root.certificate], at=T0 + 20 * DAY).valid


def test_removed_signature_and_unsigned_documents(signed: bytes, root: keys.RootCA) -> None:
    tree = etree.fromstring(signed)
    tree.remove(tree.find("ds:Signature", NS))
    stripped = etree.tostring(tree, xml_declaration=True, encoding="UTF-8")
    assert xades.verify(stripped, [root.certificate]).reason == "no_signature"
    assert xades.verify(dcc_320(), [root.certificate]).reason == "no_signature"


def test_signing_certificate_must_be_the_one_in_the_signed_properties(lab: Lab, root: keys.RootCA) -> None:
    # Chain given root-first: SigningCertificateV2 names the root, but the key that signed is the lab's.
    doc = xades.sign(dcc_320(), lab.key, [root.certificate, lab.certificate], SIGNED_AT)
    report = xades.verify(doc, [root.certificate])
    assert report.reason == "signing_certificate_mismatch", report.message


@pytest.mark.parametrize(
    "doc",
    [
        b"",
        b"not xml",
        b"<a><b></a>",
        b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>',
        b'<!DOCTYPE a [<!ENTITY l "lol"><!ENTITY l2 "&l;&l;&l;&l;&l;&l;">]><a>&l2;</a>',
    ],
    ids=["empty", "text", "unbalanced", "xxe", "entity-expansion"],
)
def test_hostile_or_broken_xml_is_malformed_not_an_exception(doc: bytes, root: keys.RootCA) -> None:
    report = xades.verify(doc, [root.certificate])
    assert report.reason == "malformed" and not report.valid


def test_truncated_signature_is_malformed(signed: bytes, root: keys.RootCA) -> None:
    tree = etree.fromstring(signed)
    sig = tree.find("ds:Signature", NS)
    sig.remove(sig.find("ds:Object", NS))
    doc = etree.tostring(tree)
    assert xades.verify(doc, [root.certificate]).reason == "malformed"


def test_sign_refuses_a_signed_document_and_a_naive_time(signed: bytes, lab: Lab) -> None:
    with pytest.raises(InvalidInput):
        xades.sign(signed, lab.key, lab.chain, SIGNED_AT)
    with pytest.raises(InvalidInput):
        xades.sign(dcc_320(), lab.key, lab.chain, datetime(2020, 1, 11))


def test_rsa_3072_signatures(root: keys.RootCA) -> None:
    lab = make_lab(root, CODE_A, algorithm="rsa-3072")
    doc = xades.sign(dcc_320(), lab.key, lab.chain, SIGNED_AT)
    assert b"rsa-sha256" in doc
    assert xades.verify(doc, [root.certificate]).valid
    assert xades.verify(_alter_signature_value(doc), [root.certificate]).reason == "signature_invalid"


# ---------------------------------------------------------------------------------------------- reference


def _signxml_verifies(doc: bytes, root: keys.RootCA, at: datetime) -> None:
    with tempfile.NamedTemporaryFile(suffix=".pem") as ca:
        ca.write(keys.certificates_to_pem([root.certificate]))
        ca.flush()
        XAdESVerifier().verify(
            doc, ca_pem_file=ca.name, expect_config=XAdESSignatureConfiguration(verification_time=at)
        )


def test_signxml_xades_verifier_agrees(signed: bytes, root: keys.RootCA) -> None:
    _signxml_verifies(signed, root, SIGNED_AT)
    tampered = signed.replace(b"<si:value>", b"<si:value>1", 1)
    assert xades.verify(tampered, [root.certificate]).reason == "digest_mismatch"
    with pytest.raises(InvalidDigest):
        _signxml_verifies(tampered, root, SIGNED_AT)
    with pytest.raises(InvalidSignature):
        _signxml_verifies(_alter_signature_value(signed), root, SIGNED_AT)


def _foreign_pki() -> tuple[x509.Certificate, rsa.RSAPrivateKey, x509.Certificate]:
    """A foreign NMI's root and a calibration lab under it, built with cryptography only (not keys.py)."""
    now = datetime.now(UTC)
    root_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    root_name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "DE"),
            x509.NameAttribute(NameOID.COMMON_NAME, "Foreign NMI CA"),
        ]
    )
    ca = (
        x509.CertificateBuilder()
        .subject_name(root_name)
        .issuer_name(root_name)
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=30))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), critical=False)
        .sign(root_key, hashes.SHA256())
    )
    lab_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    lab = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.COUNTRY_NAME, "DE"),
                    x509.NameAttribute(NameOID.COMMON_NAME, "Kalibrierlabor Beispiel GmbH"),
                ]
            )
        )
        .issuer_name(root_name)
        .public_key(lab_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .add_extension(
            x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), critical=False
        )
        .sign(root_key, hashes.SHA256())
    )
    return ca, lab_key, lab


def test_dcc_signed_elsewhere_verifies_against_its_configured_root(root: keys.RootCA) -> None:
    foreign_root, lab_key, lab_cert = _foreign_pki()
    # signxml's stock signer, its default (inclusive) c14n and SigningTime "now": not our signing code.
    doc = etree.tostring(
        XAdESSigner().sign(etree.fromstring(dcc_320()), key=lab_key, cert=[lab_cert, foreign_root])
    )
    assert schema_errors(doc) == []
    parsed = xades.parse_document(doc)  # inclusive c14n 1.1: signxml's general verifier decides
    with pytest.raises(xades._Unsupported):
        xades._core_check(parsed, parsed.find("ds:Signature", NS), lab_cert)
    assert xades.verify(doc, [root.certificate]).reason == "untrusted_chain"
    report = xades.verify(doc, [root.certificate, foreign_root])
    assert report.valid, report.message
    assert report.signer_credit_code is None and report.signer_subject is not None
    assert "Kalibrierlabor" in report.signer_subject
    tampered = doc.replace(b"<si:value>", b"<si:value>9", 1)
    assert xades.verify(tampered, [foreign_root]).reason == "digest_mismatch"


# ---------------------------------------------------------------------------------------------- keys


def test_institution_certificate_profile(lab: Lab, root: keys.RootCA) -> None:
    cert = lab.certificate
    subject = cert.subject
    assert subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)[0].value == "CN"
    assert subject.get_attributes_for_oid(NameOID.ORGANIZATION_IDENTIFIER)[0].value == f"NTRCN-{CODE_A}"
    assert subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "演示市计量检定测试院"
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature and usage.value.content_commitment
    assert not usage.value.key_cert_sign
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert cert.issuer == root.certificate.subject
    assert keys.credit_code_of(cert) == CODE_A
    assert keys.credit_code_of(root.certificate) is None
    with pytest.raises(InvalidInput):
        make_lab(root, "123")  # not a credit code


def test_private_keys_serialise_only_encrypted(lab: Lab) -> None:
    pem = keys.encrypt_private_key(lab.key, "s3cret")
    assert pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert b"BEGIN PRIVATE KEY" not in pem
    back = keys.decrypt_private_key(pem, "s3cret")
    assert back.private_numbers() == lab.key.private_numbers()
    with pytest.raises(InvalidInput):
        keys.decrypt_private_key(pem, "wrong")
    with pytest.raises(InvalidInput):
        keys.encrypt_private_key(lab.key, "")
    with pytest.raises(InvalidInput):
        keys.generate_key("dsa-1024")


@settings(max_examples=150, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
@given(edits=st.lists(st.tuples(st.integers(min_value=0), st.integers(0, 255)), min_size=1, max_size=3))
def test_random_byte_edits_never_raise_and_never_pass_as_another_signer(
    edits: list[tuple[int, int]], signed: bytes, root: keys.RootCA
) -> None:
    doc = bytearray(signed)
    for pos, value in edits:
        doc[pos % len(doc)] = value
    report = xades.verify(bytes(doc), [root.certificate])
    assert report.reason in xades.MESSAGES and report.message
    # An edit may fall where no signature reaches (a comment, the XML declaration, base64 line breaks);
    # then the signature is still good, and still names the same signer.
    if report.valid:
        assert report.signer_credit_code == CODE_A
