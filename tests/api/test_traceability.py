"""Traceability over HTTP: chains, broken chains, recording calibrations (audited), impact with CSV."""

from __future__ import annotations

import math

import pytest

from tests.api.conftest import Api, bilingual
from tests.test_traceability import Trace, build_trace


@pytest.fixture
def trace(api: Api) -> Trace:
    return build_trace(api.world)


def test_chain_of_an_instrument_and_of_a_standard(api: Api, trace: Trace) -> None:
    r = api.get(f"/api/v1/traceability/instruments/{trace.instrument}/chain", "city")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "ok" and body["depth"] == 4 and body["tur_warning"] is True
    assert body["uncertainty"] == pytest.approx(math.sqrt(2.601e-9), rel=1e-9)
    assert [link["kind"] for link in body["links"]] == [
        "verification",
        "calibration",
        "calibration",
        "anchor",
    ]
    assert (
        api.get(f"/api/v1/traceability/instruments/{trace.instrument}/chain", "other_city").status_code == 404
    )
    assert api.get(f"/api/v1/traceability/instruments/{trace.instrument}/chain", None).status_code == 401
    r = api.get(
        f"/api/v1/traceability/standards/{trace.working}/chain", "institution", params={"on": "2026-02-01"}
    )
    assert r.status_code == 200 and r.json()["status"] == "calibration_expired"
    r = api.get(f"/api/v1/traceability/standards/{trace.working}/calibrations", "city")
    assert [c["certificate_no"] for c in r.json()] == ["ZJ2025-9"]


def test_recording_a_calibration_is_audited_and_refusals_name_the_field(api: Api, trace: Trace) -> None:
    body = {
        "standard_id": trace.working,
        "reference_standard_id": trace.provincial,
        "certificate_no": "ZJ2026-10",
        "calibrated_on": "2026-01-25",
        "valid_until": "2027-01-24",
        "expanded_uncertainty": 0.01,
        "unit": "%",
        "tolerance": 0.05,
    }
    assert api.post("/api/v1/traceability/calibrations", "enterprise", json=body).status_code == 403
    r = api.post("/api/v1/traceability/calibrations", "institution", json=body)
    assert r.status_code == 201, r.text
    entries = api.audit(object_type="standard_calibrations", object_id=str(r.json()["id"]))
    assert [e["action"] for e in entries] == ["create"] and entries[0]["actor_name"] == "institution"
    bad = api.post(
        "/api/v1/traceability/calibrations", "institution", json={**body, "certificate_no": "X", "unit": "??"}
    )
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "unit"
    loop = api.post(
        "/api/v1/traceability/calibrations",
        "admin",
        json={
            **body,
            "standard_id": trace.primary,
            "reference_standard_id": trace.working,
            "certificate_no": "L",
        },
    )
    assert loop.status_code == 422 and bilingual(loop.json()["error"]["message"])
    assert "水流量国家计量基准" in loop.json()["error"]["message"]


def test_broken_chains_and_impact_with_csv(api: Api, trace: Trace) -> None:
    r = api.get("/api/v1/traceability/broken", "city")
    assert r.status_code == 200 and r.json()["checked"] == 1 and r.json()["tur_warnings"] == 1
    assert api.get("/api/v1/traceability/broken", "enterprise").status_code == 403
    path = f"/api/v1/traceability/standards/{trace.provincial}/impact"
    r = api.post(path, "province", json={"on": "2025-12-01", "reason": "out_of_tolerance"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["since"] == "2025-01-10" and body["standards"] == [trace.working]
    assert [x["record_id"] for x in body["records"]] == [trace.record]
    csv = api.post(path, "province", params={"format": "csv"}, json={"on": "2025-12-01"})
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert "JJ2025-TR-1" in csv.text
    assert api.post(path, "other_city", json={"on": "2025-12-01"}).status_code == 404
    bad = api.post(path, "province", json={"on": "2025-12-01", "reason": "bored"})
    assert bad.status_code == 422
