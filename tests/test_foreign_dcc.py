"""Issue 14: certificates from elsewhere — a genuine foreign signed DCC with its intermediate, a
manipulated copy, chains carried in xades:CertificateValues, and DOCTYPE refused before any parse.

tests/data/foreign_dcc/README.md says where the genuine DCC and its CA certificates come from.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from lxml import etree
from typer.testing import CliRunner

from jiliang.cli import app as cli
from jiliang.errors import InvalidInput
from jiliang.services import certificates
from jiliang.services.platform import Platform
from jiliang.trust import dcc, xades
from tests.factories import World
from tests.xades_support import dcc_320

runner = CliRunner()
DATA = Path(__file__).parent / "data" / "foreign_dcc"
GENUINE = (DATA / "siemens_gp_temperature_typical_v12_v3.2.0_signed.xml").read_bytes()
ROOT = x509.load_pem_x509_certificate((DATA / "calibration_community_root_ca_01.pem").read_bytes())
SUB = x509.load_pem_x509_certificate((DATA / "calibration_community_sub_ca_01.pem").read_bytes())
# One digit of one measured value: 306.32 K becomes 306.33 K.
MANIPULATED = GENUINE.replace(b"306.32 373.21", b"306.33 373.21")


def test_genuine_foreign_dcc_verifies_against_its_root_with_the_intermediate() -> None:
    assert dcc.validate(GENUINE) == "3.2.0"
    report = xades.verify(GENUINE, [ROOT], intermediates=[SUB])
    assert report.valid, report.message
    assert report.signer_subject == "CN=Calibration Lab A1,O=Calibration A GmbH,C=DE"
    assert report.signing_time == datetime(2023, 3, 27, 15, 14, 30, tzinfo=UTC)
    assert [c.subject for c in report.chain] == [report.chain[0].subject, SUB.subject, ROOT.subject]
    # The signature carries only the signer's certificate: without the intermediate there is no path.
    assert xades.verify(GENUINE, [ROOT]).reason == "untrusted_chain"


def test_an_intermediate_handed_over_as_trusted_is_not_an_anchor() -> None:
    anchors, others = xades.split_anchors([SUB, ROOT])
    assert anchors == [ROOT] and others == [SUB]
    assert xades.verify(GENUINE, xades.split_anchors([SUB])[0]).reason == "untrusted_chain"


def test_manipulated_foreign_dcc_is_named() -> None:
    assert MANIPULATED != GENUINE
    report = xades.verify(MANIPULATED, [ROOT], intermediates=[SUB])
    assert report.reason == "digest_mismatch"


def test_dcc_show_content_keeps_hybrids_metadata_and_influence_conditions() -> None:
    content = dcc.content(dcc.parse(GENUINE))
    measured = next(r for r in content["results"] if r["quantity"].startswith("Angezeigter"))
    assert [v["value"] for v in measured["values"]] == ["306.32", "373.21", "448.36", "523.31", "593.07"]
    assert [(v["value"], v["unit"]) for v in measured["alternatives"][0]][:2] == [
        ("33.17", "\\degreecelsius"),
        ("100.06", "\\degreecelsius"),
    ]
    error = next(r for r in content["results"] if r["quantity"].startswith("Messabweichung"))
    limits = {m["ref_type"]: [v["value"] for v in m["values"]] for m in error["meta"]}
    assert limits["basic_acceptanceLimitLower"] == ["-0.23", "-0.23", "-0.23", "-0.30", "-0.30"]
    assert limits["basic_acceptanceLimitUpper"] == ["0.23", "0.23", "0.23", "0.30", "0.30"]
    reference = next(r for r in content["results"] if r["quantity"].startswith("Bezugswert"))
    assert reference["meta"][0]["quantity"] == "Kalibrierpunkt / Calibration value"
    conditions = {c["ref_type"]: c for c in content["influence_conditions"]}
    assert set(conditions) == {"gp_immersionDepth", "basic_temperature", "basic_humidityRelative"}
    ambient = [
        (q["ref_type"], q["values"][0]["value"]) for q in conditions["basic_temperature"]["quantities"]
    ]
    assert ambient == [("basic_temperatureMin", "293"), ("basic_temperatureMax", "299")]


def test_dcc_show_command_prints_them(tmp_path: Path) -> None:
    path = tmp_path / "foreign.xml"
    path.write_bytes(GENUINE)
    r = runner.invoke(cli, ["dcc", "show", str(path)], env={"COLUMNS": "250"})
    assert r.exit_code == 0, r.output
    assert "Lower acceptance limit" in r.output and "Ambient condition temperature" in r.output
    assert "33.17" in r.output  # the degree Celsius alternative of the hybrid


# --- through the platform: verify and import -------------------------------------------------------------


@pytest.fixture
def foreign_roots(platform: Platform, tmp_path: Path) -> Path:
    """Only the foreign root is configured; the intermediate comes on the command line."""
    folder = tmp_path / "roots"
    folder.mkdir()
    (folder / "root.pem").write_bytes(ROOT.public_bytes(Encoding.PEM))
    platform.settings = platform.settings.model_copy(update={"trusted_roots_dir": folder})
    return folder


def _cli_env(platform: Platform, roots: Path) -> dict[str, str]:
    return {
        "JILIANG_DATABASE_URL": platform.settings.database_url,
        "JILIANG_ENVIRONMENT": "test",
        "JILIANG_TRUSTED_ROOTS_DIR": str(roots),
        "COLUMNS": "250",
    }


def test_verify_command_on_a_genuine_foreign_dcc_says_who_signed_and_that_it_is_not_registered(
    world: World, foreign_roots: Path, tmp_path: Path
) -> None:
    doc, sub = tmp_path / "foreign.xml", tmp_path / "sub.pem"
    doc.write_bytes(GENUINE)
    sub.write_bytes(SUB.public_bytes(Encoding.PEM))
    env = _cli_env(world.platform, foreign_roots)
    r = runner.invoke(cli, ["certificate", "verify", str(doc), "--intermediates", str(sub)], env=env)
    assert r.exit_code == 5, r.output
    assert "Calibration Lab A1" in r.output and "not registered" in r.output
    r = runner.invoke(
        cli, ["certificate", "verify", str(doc), "--intermediates", str(sub), "--json"], env=env
    )
    out = json.loads(r.stdout)
    assert out["signer"] == "CN=Calibration Lab A1,O=Calibration A GmbH,C=DE"
    assert [s["code"] for s in out["steps"]] == ["ok", "ok", "not_registered"]
    # Without the intermediate the chain cannot be built: a failed check, not "foreign".
    assert runner.invoke(cli, ["certificate", "verify", str(doc)], env=env).exit_code == 3
    # The intermediate may also be configured beside the root (not self-signed: never an anchor).
    (foreign_roots / "sub.pem").write_bytes(SUB.public_bytes(Encoding.PEM))
    assert runner.invoke(cli, ["certificate", "verify", str(doc)], env=env).exit_code == 5
    bad = tmp_path / "manipulated.xml"
    bad.write_bytes(MANIPULATED)
    r = runner.invoke(cli, ["certificate", "verify", str(bad), "--json"], env=env)
    assert r.exit_code == 3 and "digest_mismatch" in r.stdout


def test_import_of_a_foreign_dcc(world: World, foreign_roots: Path, tmp_path: Path) -> None:
    p, inst = world.platform, world.as_("institution")
    with pytest.raises(InvalidInput) as refused:
        certificates.import_dcc(p, inst, MANIPULATED, [SUB])
    assert "digest_mismatch" in refused.value.message and refused.value.field == "signature"
    with pytest.raises(InvalidInput, match="untrusted_chain"):
        certificates.import_dcc(p, inst, GENUINE)  # no intermediate: the signer cannot be established
    cert = certificates.import_dcc(p, inst, GENUINE, [SUB])
    assert cert.source == "imported" and cert.number == "GP_DCC_temperature_typical_1.2"
    assert cert.status_reason == "" and cert.signing_time is not None
    bad, sub = tmp_path / "bad.xml", tmp_path / "sub.pem"
    bad.write_bytes(MANIPULATED.replace(b"GP_DCC_temperature_typical_1.2", b"GP_DCC_temperature_typical_1.3"))
    sub.write_bytes(SUB.public_bytes(Encoding.PEM))
    env = _cli_env(p, foreign_roots)
    r = runner.invoke(
        cli,
        ["certificate", "import", str(bad), "--user", "institution", "--intermediates", str(sub)],
        env=env,
    )
    assert r.exit_code == 2 and "digest_mismatch" in r.output


# --- xades:CertificateValues, with a three-level chain made here -----------------------------------------


def _ca(
    name: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: tuple[x509.Name, ec.EllipticCurvePrivateKey] | None,
    now: datetime,
    path_length: int | None,
) -> x509.Certificate:
    subject = x509.Name(
        [x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"), x509.NameAttribute(NameOID.COMMON_NAME, name)]
    )
    issuer_name, issuer_key = issuer or (subject, key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=30))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False
        )
    return builder.sign(issuer_key, hashes.SHA256())


def _three_levels() -> tuple[
    x509.Certificate, x509.Certificate, ec.EllipticCurvePrivateKey, x509.Certificate
]:
    now = datetime.now(UTC)
    root_key, mid_key, lab_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    root = _ca("Foreign NMI Root", root_key, None, now, None)
    mid = _ca("Foreign NMI Issuing CA", mid_key, (root.subject, root_key), now, 0)
    lab = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Laboratoire Exemple")]))
        .issuer_name(mid.subject)
        .public_key(lab_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=365))
        .add_extension(
            x509.KeyUsage(True, True, False, False, False, False, False, False, False), critical=True
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(mid_key.public_key()), critical=False
        )
        .sign(mid_key, hashes.SHA256())
    )
    return root, mid, lab_key, lab


def _with_certificate_values(signed: bytes, certs: list[x509.Certificate]) -> bytes:
    """Add xades:UnsignedProperties/…/CertificateValues, as a long-term (B-LT) signature carries it."""
    root = etree.fromstring(signed)
    ns = {"ds": xades.DS, "xades": xades.XADES}
    qp = root.find("ds:Signature/ds:Object/xades:QualifyingProperties", ns)
    unsigned = etree.SubElement(qp, xades.xades_tag("UnsignedProperties"))
    props = etree.SubElement(unsigned, xades.xades_tag("UnsignedSignatureProperties"))
    values = etree.SubElement(props, xades.xades_tag("CertificateValues"))
    for c in certs:
        el = etree.SubElement(values, xades.xades_tag("EncapsulatedX509Certificate"))
        el.text = base64.b64encode(c.public_bytes(Encoding.DER)).decode()
    out: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return out


def test_chain_carried_in_certificate_values_verifies_against_the_root_alone() -> None:
    root, mid, lab_key, lab = _three_levels()
    signed = xades.sign(dcc_320(), lab_key, [lab], datetime.now(UTC) - timedelta(minutes=1))
    assert xades.verify(signed, [root]).reason == "untrusted_chain"
    long_term = _with_certificate_values(signed, [mid, root])
    report = xades.verify(long_term, [root])
    assert report.valid, report.message
    assert [c.subject for c in report.chain] == [lab.subject, mid.subject, root.subject]
    # A root carried in the signature is no anchor: with another trusted root nothing chains.
    other = _three_levels()[0]
    assert xades.verify(long_term, [other]).reason == "untrusted_chain"
    # The unsigned properties are outside the signature, the document is not.
    assert (
        xades.verify(long_term.replace(b"<si:value>", b"<si:value>9", 1), [root]).reason == "digest_mismatch"
    )


# --- DOCTYPE: refused before anything parses ------------------------------------------------------------

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<dcc:digitalCalibrationCertificate xmlns:dcc="https://ptb.de/dcc">&lol3;</dcc:digitalCalibrationCertificate>"""


@pytest.mark.parametrize("payload", [BILLION_LAUGHS, BILLION_LAUGHS.decode().encode("utf-16")])
def test_doctype_is_refused_before_any_parser_runs(payload: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_parsing(*args: object, **kwargs: object) -> None:
        raise AssertionError("the parser ran on a document with a DOCTYPE")

    monkeypatch.setattr(etree, "fromstring", no_parsing)
    monkeypatch.setattr(etree, "parse", no_parsing)
    monkeypatch.setattr(etree, "XML", no_parsing)
    report = xades.verify(payload, [ROOT])
    assert report.reason == "malformed" and "DOCTYPE" in report.message
    with pytest.raises(InvalidInput, match="DOCTYPE"):
        xades.parse_document(payload)
    with pytest.raises(InvalidInput, match="DOCTYPE"):
        dcc.validate(payload)


def test_doctype_refused_on_the_public_signature_endpoint(platform: Platform) -> None:
    from fastapi.testclient import TestClient

    from jiliang.api.app import create_app

    with TestClient(create_app(platform)) as c:
        r = c.post("/api/v1/trust/verify-signature", content=BILLION_LAUGHS)
        assert "DOCTYPE" in json.dumps(r.json(), ensure_ascii=False)
        r = c.post("/api/v1/certificates/verify", content=BILLION_LAUGHS)
        assert r.status_code in (200, 422) and "DOCTYPE" in json.dumps(r.json(), ensure_ascii=False)
