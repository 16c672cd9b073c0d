"""The trust API: root and institution certificates, issuing keys (administrators), verifying signatures."""

from __future__ import annotations

from datetime import UTC, datetime

from cryptography import x509

from jiliang.services import signing_keys
from jiliang.store.models import Organisation
from jiliang.trust import dcc
from tests.api.conftest import Api, bilingual
from tests.xades_support import dcc_320


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _credit(api: Api, org_id: int) -> str:
    with api.world.platform.reading() as s:
        org = s.get(Organisation, org_id)
        assert org is not None
        return org.credit_code


def test_api_issue_is_for_administrators_and_audited(api: Api) -> None:
    inst = api.world.institution_id
    path = f"/api/v1/institutions/{inst}/signing-key"
    for who in ("city", "institution", None):
        r = api.post(path, who)
        assert r.status_code in (401, 403), (who, r.text)
    assert api.get(f"/api/v1/institutions/{inst}/signing-certificate", None).status_code == 404
    r = api.post(path, "admin")
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["institution_id"] == inst and body["active"] and "private_key_pem" not in body
    assert "chain_pem" not in body
    entries = api.audit(object_type="signing_keys")
    assert any(e["action"] == "create" and e["actor_name"] == "admin" for e in entries)
    assert all("private_key_pem" not in (e["after"] or {}) for e in entries)
    r = api.post(path, "admin", params={"algorithm": "dsa"})
    assert r.status_code == 422 and bilingual(r.json()["error"]["message"])
    assert api.post("/api/v1/institutions/999999/signing-key", "admin").status_code == 404

    chain = api.get(f"/api/v1/institutions/{inst}/signing-certificate", None)
    assert chain.status_code == 200 and chain.headers["content-type"].startswith("application/x-pem-file")
    certs = x509.load_pem_x509_certificates(chain.content)
    roots = x509.load_pem_x509_certificates(api.get("/api/v1/trust/roots", None).content)
    assert len(certs) == 2 and certs[1] in roots and certs[0].issuer == certs[1].subject


def test_api_verify_signature(api: Api) -> None:
    p = api.world.platform
    with p.unit_of_work() as s:
        doc = signing_keys.sign_document(s, p.settings, api.world.institution_id, dcc_320(), _now())
    r = api.post(
        "/api/v1/trust/verify-signature", None, content=doc, headers={"Content-Type": "application/xml"}
    )
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["valid"] and report["reason"] == "ok"
    assert report["signer_credit_code"] == _credit(api, api.world.institution_id)
    assert len(report["chain"]) == 2 and report["chain"][0].startswith("-----BEGIN CERTIFICATE-----")
    bad = api.post(
        "/api/v1/trust/verify-signature", None, content=doc.replace(b"<si:value>", b"<si:value>1", 1)
    )
    assert bad.status_code == 200 and bad.json()["reason"] == "digest_mismatch" and not bad.json()["valid"]
    assert bilingual(bad.json()["message"])
    garbage = api.post("/api/v1/trust/verify-signature", None, content=b"<<<")
    assert garbage.status_code == 200 and garbage.json()["reason"] == "malformed"
    assert api.post("/api/v1/trust/verify-signature", None, content=b"").status_code == 422
    # the same limit as every other DCC upload, not the bulk-import one
    big = b"<" + b"x" * dcc.MAX_BYTES
    assert api.post("/api/v1/trust/verify-signature", None, content=big).status_code == 413
