"""Institutions' signing keys in storage, the signing service, its API and its CLI (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from pydantic import SecretStr
from sqlalchemy import select, text
from typer.testing import CliRunner

from jiliang.cli import app as cli_app
from jiliang.domain.access import SYSTEM
from jiliang.errors import InvalidInput, NotFound
from jiliang.services import organisations, signing_keys
from jiliang.services.platform import Platform
from jiliang.settings import Settings
from jiliang.store.models import AuditEntry, Organisation, SigningKeyRow
from jiliang.trust import keys, xades
from tests.factories import CITY, World, credit_code
from tests.xades_support import dcc_320, make_lab, make_root


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _credit(world: World, org_id: int) -> str:
    with world.platform.reading() as s:
        org = s.get(Organisation, org_id)
        assert org is not None
        return org.credit_code


def test_issued_keys_are_encrypted_at_rest(world: World) -> None:
    p = world.platform
    with p.unit_of_work() as s:
        row = signing_keys.issue_institution_key(s, p.settings, world.institution_id)
        row_id = row.id
    with p.engine.connect() as conn:
        stored = conn.execute(
            text("SELECT private_key_pem, certificate_pem, chain_pem FROM signing_keys")
        ).all()
    assert len(stored) == 2  # the platform root, created on first use, and the institution's key
    for private_pem, cert_pem, chain_pem in stored:
        assert private_pem.startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
        assert "BEGIN PRIVATE KEY" not in private_pem + cert_pem + chain_pem
    with p.reading() as s:
        row = s.get(SigningKeyRow, row_id)
        assert row is not None and row.kind == "institution" and row.active and row.algorithm == "ecdsa-p256"
        key = keys.decrypt_private_key(row.private_key_pem.encode(), signing_keys.passphrase(p.settings))
        cert = x509.load_pem_x509_certificate(row.certificate_pem.encode())
        assert key.public_key().public_numbers() == cert.public_key().public_numbers()
        assert keys.credit_code_of(cert) == _credit(world, world.institution_id)
        with pytest.raises(InvalidInput):
            keys.decrypt_private_key(row.private_key_pem.encode(), "not the passphrase")
        audit = s.scalars(select(AuditEntry).where(AuditEntry.object_type == "signing_keys")).all()
    assert audit and all("private_key_pem" not in (e.after or {}) for e in audit)


def test_sign_and_verify_through_the_service(world: World) -> None:
    p = world.platform
    at = _now()
    with p.unit_of_work() as s:
        doc = signing_keys.sign_document(s, p.settings, world.institution_id, dcc_320(), at)
    with p.reading() as s:
        report = signing_keys.verify_document(s, p.settings, doc)
    assert report.valid, report.message
    assert report.signing_time == at
    assert xades.signer_matches(report, _credit(world, world.institution_id))
    assert not xades.signer_matches(report, _credit(world, world.other_institution_id))
    with p.reading() as s:
        tampered = doc.replace(b"<si:value>", b"<si:value>1", 1)
        assert signing_keys.verify_document(s, p.settings, tampered).reason == "digest_mismatch"


def test_ensure_reuses_and_issue_retires_but_old_signatures_stay_valid(world: World) -> None:
    p = world.platform
    at = _now()
    with p.unit_of_work() as s:
        first = signing_keys.ensure_institution_key(s, p.settings, world.institution_id)
        again = signing_keys.ensure_institution_key(s, p.settings, world.institution_id)
        assert again.id == first.id
        old_doc = signing_keys.sign_document(s, p.settings, world.institution_id, dcc_320(), at)
        second = signing_keys.issue_institution_key(s, p.settings, world.institution_id, algorithm="rsa-3072")
        assert second.id != first.id and second.algorithm == "rsa-3072"
        new_doc = signing_keys.sign_document(s, p.settings, world.institution_id, dcc_320(), at)
        first_id = first.id
    with p.reading() as s:
        assert not s.get(SigningKeyRow, first_id).active  # type: ignore[union-attr]
        assert signing_keys.verify_document(s, p.settings, old_doc).valid
        assert signing_keys.verify_document(s, p.settings, new_doc).valid
        assert b"rsa-sha256" in new_doc


def test_refusals(world: World) -> None:
    p = world.platform
    with p.unit_of_work() as s:
        with pytest.raises(NotFound):
            signing_keys.issue_institution_key(s, p.settings, 999_999)
        with pytest.raises(InvalidInput):
            signing_keys.issue_institution_key(s, p.settings, world.institution_id, algorithm="dsa")
        with pytest.raises(InvalidInput):  # before the certificate was issued
            signing_keys.sign_document(
                s, p.settings, world.institution_id, dcc_320(), _now() - timedelta(hours=1)
            )
        with pytest.raises(InvalidInput):
            signing_keys.sign_document(s, p.settings, world.institution_id, dcc_320(), datetime(2026, 1, 1))


def test_passphrase_in_production_and_elsewhere() -> None:
    assert signing_keys.passphrase(Settings(environment="test")) == signing_keys.DEMO_PASSPHRASE
    prod = Settings(environment="production", secret_key="x" * 40)
    with pytest.raises(signing_keys.SigningNotConfigured):
        signing_keys.passphrase(prod)
    configured = prod.model_copy(update={"signing_key_passphrase": SecretStr("long and secret")})
    assert signing_keys.passphrase(configured) == "long and secret"


def test_trusted_roots_dir_admits_a_foreign_root(world: World, tmp_path: Path) -> None:
    p = world.platform
    foreign_root = make_root(_now() - timedelta(days=1), name="foreign NMI")
    lab = make_lab(foreign_root, credit_code(77, CITY), not_before=_now() - timedelta(days=1))
    doc = xades.sign(dcc_320(), lab.key, lab.chain, _now())
    with p.reading() as s:
        assert signing_keys.verify_document(s, p.settings, doc).reason == "untrusted_chain"
    (tmp_path / "roots").mkdir()
    (tmp_path / "roots" / "foreign.pem").write_bytes(keys.certificates_to_pem([foreign_root.certificate]))
    settings = p.settings.model_copy(update={"trusted_roots_dir": tmp_path / "roots"})
    with p.reading() as s:
        assert signing_keys.verify_document(s, settings, doc).valid
    missing = p.settings.model_copy(update={"trusted_roots_dir": tmp_path / "absent"})
    with p.reading() as s, pytest.raises(signing_keys.SigningNotConfigured):
        signing_keys.trusted_roots(s, missing)


# ---------------------------------------------------------------------------------------------- CLI


def test_cli_keys_issue_and_list(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'keys.db'}"
    platform = Platform.open(Settings(database_url=url, environment="test"))
    organisations.ensure_national(platform)
    organisations.add_region(platform, SYSTEM, CITY[:2] + "0000", "浙江省")
    organisations.add_region(platform, SYSTEM, CITY, "演示市")
    org = organisations.add_organisation(
        platform,
        SYSTEM,
        credit_code=credit_code(9, CITY),
        name="演示市计量院",
        kind="legal_verification_institution",
        region_code=CITY,
    )
    platform.close()
    runner = CliRunner()
    env = {"JILIANG_ENVIRONMENT": "test", "COLUMNS": "200"}
    result = runner.invoke(
        cli_app, ["--database-url", url, "keys", "issue", "--institution", str(org.id)], env=env
    )
    assert result.exit_code == 0, result.output
    assert "issued key" in result.stdout
    listed = runner.invoke(cli_app, ["--database-url", url, "keys", "list"], env=env)
    assert listed.exit_code == 0 and "institution" in listed.stdout and "root" in listed.stdout
    refused = runner.invoke(
        cli_app, ["--database-url", url, "keys", "issue", "--institution", "424242"], env=env
    )
    assert refused.exit_code == 2
