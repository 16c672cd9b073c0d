"""Issue 3, end to end: a certificate issued here validates against the official schema, carries a valid
signature, is found in the log with a proof that verifies, and any one-byte change is caught — by the
offline verifier (`jiliang certificate verify`), by the online check and by the public page."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from jiliang.api.app import create_app
from jiliang.cli import app as cli
from jiliang.domain.access import SYSTEM
from jiliang.errors import Conflict, InvalidInput, NotAuthorised, NotFound
from jiliang.services import certificates, dcc_records, signing_keys, transparency
from jiliang.store.models import Certificate, VerificationRecord
from jiliang.trust import certificate_check, dcc
from tests.factories import World, authorise_all
from tests.signed_support import signed_record
from tests.test_registry import FUEL, file, verify

runner = CliRunner()


def _record(world: World, serial: str = "C-1", on: str = "2026-05-20") -> VerificationRecord:
    authorise_all(world, [FUEL])
    inst = file(world, serial)
    return signed_record(world, inst.id, on, doc=f"JD-{serial}")


def _publish(world: World) -> None:
    with world.platform.unit_of_work(SYSTEM) as s:
        transparency.sequence(s)
        transparency.publish_checkpoint(s, world.platform.settings)


@pytest.fixture
def issued(world: World) -> Certificate:
    record = _record(world)
    cert = certificates.issue(world.platform, world.as_("institution"), record.id)
    _publish(world)
    return cert


def _offline_material(world: World, number: str, tmp_path: Path) -> dict[str, Path]:
    p = world.platform
    paths = {"bundle": tmp_path / "b.json", "key": tmp_path / "log.pub", "roots": tmp_path / "roots.pem"}
    paths["bundle"].write_text(json.dumps(certificates.bundle(p, number)), "utf-8")
    with p.reading() as s:
        paths["key"].write_text(transparency.log_public_key(s, p.settings), "utf-8")
        roots = signing_keys.trusted_roots(s, p.settings)
    paths["roots"].write_bytes(b"".join(r.public_bytes(Encoding.PEM) for r in roots))
    return paths


def _cli_verify(doc: Path, m: dict[str, Path], *extra: str) -> int:
    args = [
        "certificate",
        "verify",
        str(doc),
        "--bundle",
        str(m["bundle"]),
        "--log-key",
        str(m["key"]),
        "--roots",
        str(m["roots"]),
        *extra,
    ]
    return runner.invoke(cli, args).exit_code


def test_issued_certificate_validates_is_signed_and_is_in_the_log(world: World, issued: Certificate) -> None:
    assert dcc.validate(issued.document) == "3.2.0"
    assert dcc.parse(issued.document).core.unique_identifier == issued.number == "JD-C-1"
    p = world.platform
    with p.reading() as s:
        sig = signing_keys.verify_document(s, p.settings, issued.document)
    assert sig.valid and sig.signer_credit_code == issued.issuer_credit_code
    result = certificates.verify_upload(p, issued.document)
    assert result.report.valid, result.report.steps
    assert result.report.index is not None and result.report.tree_size and result.report.root_hash
    assert [s.name for s in result.report.steps] == [
        "schema",
        "signature",
        "issuer",
        "digest",
        "tree_head",
        "inclusion",
        "status",
    ]


def test_offline_verify_passes_untouched_and_catches_a_one_byte_change_anywhere(
    world: World, issued: Certificate, tmp_path: Path
) -> None:
    m = _offline_material(world, issued.number, tmp_path)
    doc = tmp_path / "cert.xml"
    doc.write_bytes(issued.document)
    assert _cli_verify(doc, m) == 0
    data = issued.document
    positions = sorted({int(i * (len(data) - 1) / 24) for i in range(25)})
    for pos in positions:
        changed = bytearray(data)
        changed[pos] = ord("7") if changed[pos] != ord("7") else ord("8")
        doc.write_bytes(bytes(changed))
        report = certificate_check.check_certificate(
            bytes(changed),
            json.loads(m["bundle"].read_text("utf-8")),
            log_key=m["key"].read_text("utf-8"),
            trusted_roots=x509.load_pem_x509_certificates(m["roots"].read_bytes()),
        )
        assert not report.genuine, f"a change at byte {pos} went unnoticed"
        assert any(s.code == "document_altered" for s in report.steps)
        assert _cli_verify(doc, m) == 3


def test_online_check_and_public_page_catch_a_changed_character(world: World, issued: Certificate) -> None:
    text = issued.document.decode()
    i = text.index("<dcc:value>") if "<dcc:value>" in text else text.index("<si:value>")
    forged = text[: i + 11] + ("9" if text[i + 11] != "9" else "8") + text[i + 12 :]
    assert forged != text
    report = certificates.verify_upload(world.platform, forged.encode()).report
    assert not report.genuine
    assert {s.code for s in report.steps if not s.ok} >= {"document_altered"}
    with TestClient(create_app(world.platform)) as client:
        good = client.post("/verify", files={"file": ("c.xml", issued.document, "application/xml")})
        bad = client.post("/verify", files={"file": ("c.xml", forged.encode(), "application/xml")})
        api = client.post(
            "/api/v1/certificates/verify",
            content=forged.encode(),
            headers={"content-type": "application/xml"},
        )
    assert good.status_code == 200 and "证书真实有效" in good.text and "演示市计量检定测试院" in good.text
    assert "核验未通过" in bad.text and "document_altered" in bad.text
    assert api.status_code == 200 and api.json()["genuine"] is False


def test_qr_target_shows_issuer_item_status_and_log_position(world: World, issued: Certificate) -> None:
    with TestClient(create_app(world.platform)) as client:
        page = client.get(f"/v/{issued.number}")
        public = client.get(f"/api/v1/certificates/{issued.number}").json()
        missing = client.get("/v/NO-SUCH")
    assert page.status_code == 200
    for text in ("演示市计量检定测试院", "有效", "索引", issued.item_summary.split()[0]):
        assert text in page.text
    assert public["check"]["valid"] and public["check"]["index"] is not None
    assert missing.status_code == 404


def test_withdrawal_is_logged_and_shown(world: World, issued: Certificate, tmp_path: Path) -> None:
    certificates.withdraw(
        world.platform, world.as_("institution"), issued.number, "送检单位信息有误 / wrong customer"
    )
    _publish(world)
    report = certificates.verify_upload(world.platform, issued.document).report
    assert report.genuine and not report.valid and report.status == "withdrawn"
    m = _offline_material(world, issued.number, tmp_path)
    doc = tmp_path / "c.xml"
    doc.write_bytes(issued.document)
    assert _cli_verify(doc, m) == 1
    with pytest.raises(Conflict):
        certificates.withdraw(world.platform, SYSTEM, issued.number, "again")


def test_a_reissue_supersedes_the_certificate(world: World, issued: Certificate) -> None:
    with world.platform.reading() as s:
        record = s.scalars(select(VerificationRecord)).one()
    new = certificates.issue(
        world.platform, world.as_("institution"), record.id, number="JD-C-1-R1", supersedes=issued.number
    )
    _publish(world)
    st = certificates.public_status(world.platform, issued.number)
    assert st.status == "superseded" and st.superseded_by == new.number
    assert certificates.verify_upload(world.platform, issued.document).report.status == "superseded"
    assert certificates.verify_upload(world.platform, new.document).report.valid


def test_no_certificate_without_data_and_three_signatures(world: World, issued: Certificate) -> None:
    """A record entered with a bare conclusion (the plain API, a bulk import, a hand correction) is a
    registry fact: the service refuses to certify it, and the API answers 409 naming why."""
    p = world.platform
    with p.reading() as s:
        record = s.scalars(select(VerificationRecord)).one()
    bare = verify(world, file(world, "C-bare").id, "2026-05-20", doc="JD-BARE-1")
    corrected = verify(world, record.instrument_id, "2026-05-20", doc="JD-C-1-R", supersedes_id=record.id)
    for rid in (bare.id, corrected.id):
        with pytest.raises(Conflict) as refused:
            certificates.issue(p, world.as_("institution"), rid)
        assert refused.value.field == "record_id" and "三级签字" in refused.value.message
    with pytest.raises(Conflict):
        certificates.issue(p, SYSTEM, bare.id)  # not even the platform itself
    client = TestClient(create_app(platform=p))
    r = client.post(
        "/api/v1/certificates",
        json={"record_id": bare.id},
        headers={"Authorization": f"Bearer {world.tokens['institution']}"},
    )
    error = r.json()["error"]
    assert r.status_code == 409 and error["field"] == "record_id", r.text
    assert "三级签字" in error["message"] and "signed off by the verifier" in error["message"]
    # the old certificate stays valid: the bare correction did not reach it
    assert certificates.public_status(p, issued.number).status == "valid"
    with p.reading() as s:
        assert s.scalar(select(func.count()).select_from(Certificate)) == 1


def test_who_may_issue_and_read(world: World) -> None:
    record = _record(world)
    with pytest.raises(NotAuthorised):
        certificates.issue(world.platform, world.as_("other_institution"), record.id)
    with pytest.raises(NotAuthorised):
        certificates.issue(world.platform, world.as_("enterprise"), record.id)
    cert = certificates.issue(world.platform, world.as_("institution"), record.id)
    with pytest.raises(Conflict):
        certificates.issue(world.platform, world.as_("institution"), record.id)
    assert certificates.get(world.platform, world.as_("enterprise"), cert.number).number == cert.number
    for who in ("other_enterprise", "other_institution", "county_b", "public"):
        with pytest.raises(NotFound):
            certificates.get(world.platform, world.as_(who), cert.number)


def test_signature_from_another_institution_is_reported(
    world: World, issued: Certificate, tmp_path: Path
) -> None:
    p = world.platform
    with p.reading() as s:
        model = dcc_records.certificate_for_record(
            s, issued.record_id or 0, issued.number, issued.issued_at.date()
        )
    unsigned = dcc.build(model)
    with p.unit_of_work(SYSTEM) as s:
        foreign = signing_keys.sign_document(
            s, p.settings, world.other_institution_id, unsigned, datetime.now(UTC).replace(microsecond=0)
        )
    m = _offline_material(world, issued.number, tmp_path)
    report = certificate_check.check_certificate(
        foreign,
        json.loads(m["bundle"].read_text("utf-8")),
        log_key=m["key"].read_text("utf-8"),
        trusted_roots=x509.load_pem_x509_certificates(m["roots"].read_bytes()),
    )
    steps = {s.name: s for s in report.steps}
    assert steps["signature"].ok and not steps["issuer"].ok and steps["issuer"].code == "signer_mismatch"


def test_forged_truncated_proofs_and_a_replayed_old_tree_head_are_caught(
    world: World, issued: Certificate, tmp_path: Path
) -> None:
    with world.platform.reading() as s:
        first = transparency.latest_checkpoint(s)
    assert first is not None
    # Grow the log so that the certificate's proof is non-trivial, then publish a newer head.
    for n in range(2, 6):
        certificates.issue(world.platform, SYSTEM, _record_again(world, n).id)
    _publish(world)
    m = _offline_material(world, issued.number, tmp_path)
    bundle = json.loads(m["bundle"].read_text("utf-8"))
    key = m["key"].read_text("utf-8")
    roots = x509.load_pem_x509_certificates(m["roots"].read_bytes())

    def codes(b: dict, head: str | None = None) -> set[str]:
        r = certificate_check.check_certificate(
            issued.document, b, log_key=key, trusted_roots=roots, tree_head=head
        )
        return {s.code for s in r.steps if not s.ok}

    assert codes(bundle) == set()
    forged = {**bundle, "proof": ["00" * 32, *bundle["proof"][1:]]}
    truncated = {**bundle, "proof": bundle["proof"][:-1]}
    assert "inclusion_invalid" in codes(forged)
    assert "inclusion_invalid" in codes(truncated)
    # An old tree head replayed against a newer proof does not verify the leaf.
    assert "inclusion_invalid" in codes(bundle, first.text)
    # A tree head not signed by this log.
    tampered_head = bundle["checkpoint"].replace(str(bundle["tree_size"]), str(bundle["tree_size"] + 1), 1)
    assert "tree_head_invalid" in codes(bundle, tampered_head)


def _record_again(world: World, n: int) -> VerificationRecord:
    inst = file(world, f"C-{n}")
    return signed_record(world, inst.id, "2026-05-21", doc=f"JD-C-{n}")


def test_not_yet_logged_is_pending_not_failed(world: World) -> None:
    cert = certificates.issue(world.platform, world.as_("institution"), _record(world).id)
    st = certificates.public_status(world.platform, cert.number)
    assert st.pending and st.check is None
    report = certificates.verify_upload(world.platform, cert.document).report
    assert [s.code for s in report.steps if not s.ok] == ["pending"]


def test_hostile_or_invalid_uploads_change_nothing(world: World) -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]><l>&b;</l>'
    )
    xxe = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>'
    for doc in (bomb, xxe, b"not xml", b"<dcc:digitalCalibrationCertificate/>"):
        report = certificates.verify_upload(world.platform, doc).report
        assert not report.genuine and report.steps[0].code == "schema_invalid"
        assert "root:" not in report.steps[0].message
    with world.platform.reading() as s:
        assert s.scalar(select(func.count()).select_from(Certificate)) == 0


def test_cli_issue_bundle_and_verify(world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    record = _record(world)
    monkeypatch.setenv("JILIANG_DATABASE_URL", world.platform.settings.database_url)
    monkeypatch.setenv("JILIANG_ENVIRONMENT", "test")
    r = runner.invoke(cli, ["certificate", "issue", "--record", str(record.id), "--user", "institution"])
    assert r.exit_code == 0, r.output
    _publish(world)
    r = runner.invoke(cli, ["certificate", "bundle", "JD-C-1", "--out-dir", str(tmp_path)])
    assert r.exit_code == 0, r.output
    with world.platform.reading() as s:
        document = s.scalar(select(Certificate.document).where(Certificate.number == "JD-C-1"))
    (tmp_path / "c.xml").write_bytes(document or b"")
    m = {
        "bundle": tmp_path / "JD-C-1.bundle.json",
        "key": tmp_path / "log-key.txt",
        "roots": tmp_path / "roots.pem",
    }
    assert _cli_verify(tmp_path / "c.xml", m) == 0
    r = runner.invoke(cli, ["certificate", "verify", str(tmp_path / "c.xml")])
    assert r.exit_code == 0 and "证书真实有效" in r.output


def test_a_dcc_from_elsewhere_is_registered_and_an_invalid_one_refused(world: World) -> None:
    example = (
        Path(dcc.__file__).parent.parent
        / "data"
        / "dcc"
        / "examples"
        / "dcc_gp_temperature_simplified_v12.xml"
    )
    document = example.read_bytes()
    cert = certificates.import_dcc(world.platform, world.as_("institution"), document)
    assert cert.source == "imported" and cert.schema_version == dcc.validate(document)
    assert cert.number == dcc.parse(document).core.unique_identifier and cert.issuer_name
    # unsigned: registered with what its signature check said, and never claimed to be in our log
    assert "签名" in cert.status_reason
    assert certificates.verify_upload(world.platform, document).report.steps[-1].code == "not_registered"
    with pytest.raises(Conflict):
        certificates.import_dcc(world.platform, world.as_("institution"), document)
    broken = document.replace(b"uniqueIdentifier>", b"uniqueIdentifer>")
    with pytest.raises(InvalidInput) as refused:
        certificates.import_dcc(world.platform, world.as_("institution"), broken)
    assert "uniqueIdentifer" in refused.value.message
    with pytest.raises(NotAuthorised):
        certificates.import_dcc(world.platform, world.as_("enterprise"), document)
    with world.platform.reading() as s:
        assert s.scalar(select(func.count()).select_from(Certificate)) == 1


def test_the_serving_process_timer_brings_a_new_certificate_under_a_tree_head(world: World) -> None:
    import time

    cert = certificates.issue(world.platform, world.as_("institution"), _record(world).id)
    assert certificates.public_status(world.platform, cert.number).pending
    timer = transparency.CheckpointTimer(world.platform, 0.05).start()
    try:
        deadline = time.monotonic() + 20
        while certificates.public_status(world.platform, cert.number).pending and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        timer.stop()
    st = certificates.public_status(world.platform, cert.number)
    assert not st.pending and st.check is not None and st.check.valid


def test_documents_and_bundle_over_the_api(world: World, issued: Certificate) -> None:
    def auth(who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {world.tokens[who]}"}

    base = f"/api/v1/certificates/{issued.number}"
    with TestClient(create_app(world.platform)) as client:
        xml = client.get(f"{base}/document", headers=auth("enterprise"))
        pdf = client.get(f"{base}/document", params={"format": "pdf"}, headers=auth("institution"))
        html = client.get(f"{base}/document", params={"format": "html"}, headers=auth("city"))
        hidden = client.get(f"{base}/document", params={"format": "pdf"})
        foreign = client.get(f"{base}/document", headers=auth("other_institution"))
        bundle = client.get(f"{base}/bundle")
        withdraw = client.post(
            f"{base}/withdraw", json={"reason": "测试 / test"}, headers=auth("other_institution")
        )
    assert xml.status_code == 200 and xml.content == issued.document
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert html.status_code == 200 and f"/v/{issued.number}" in html.text and "<svg" in html.text
    assert hidden.status_code == 404 and foreign.status_code == 404
    assert bundle.status_code == 200 and bundle.json()["format"] == certificate_check.BUNDLE_FORMAT
    assert withdraw.status_code == 404
    assert certificates.public_status(world.platform, issued.number).status == "valid"


def test_each_role_lists_only_its_own_certificates(world: World, issued: Certificate) -> None:
    def numbers(who: str) -> list[str]:
        return [c.number for c in certificates.list_for(world.platform, world.as_(who))]

    for who in ("admin", "institution", "enterprise", "city", "province"):
        assert numbers(who) == [issued.number], who
    for who in ("other_institution", "other_enterprise", "county_b", "other_city", "public"):
        assert numbers(who) == [], who


def test_an_oversized_upload_is_refused_before_it_is_read_whole(world: World) -> None:
    big = b"<" + b"x" * certificates.MAX_DOCUMENT_BYTES
    with TestClient(create_app(world.platform)) as client:
        raw = client.post(
            "/api/v1/certificates/verify", content=big, headers={"content-type": "application/xml"}
        )
        form = client.post("/verify", files={"file": ("big.xml", big, "application/xml")})
    assert raw.status_code == 413 and raw.json()["error"]["field"] == "file"
    assert form.status_code == 200 and "无法核验" in form.text
