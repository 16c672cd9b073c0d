"""Energy metering over HTTP: register a unit, upload its tree as a file, review it, read the report as PDF,
upload a period; a refused file answers 422 with each row's field; another city's supervisor gets 404."""

from __future__ import annotations

from datetime import date

import pytest

from tests.api.conftest import Api, bilingual
from tests.test_energy_services import TODAY, file_meters, readings_csv, tree_csv


def test_unit_tree_review_pdf_and_period_over_http(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(type(api.world.platform), "today", lambda self: TODAY)
    monkeypatch.setattr(type(api.world.platform), "local_today", lambda self: TODAY)
    ids = file_meters(api.world)
    r = api.post(
        "/api/v1/energy/units",
        "city",
        json={
            "organisation_id": api.world.enterprise_id,
            "energy_types": ["electricity", "natural_gas"],
            "annual_tce": 12000,
        },
    )
    assert r.status_code == 201, r.text
    unit = r.json()["id"]
    bad = tree_csv(ids) + "\n计量点,P-X,,,ws1,电力,,,999999,kWh\n"
    r = api.post(
        f"/api/v1/energy/units/{unit}/topology", "enterprise", files={"file": ("tree.csv", bad.encode())}
    )
    assert r.status_code == 422 and r.json()["error"]["problems"][0]["field"] == "instrument_id"
    assert bilingual(r.json()["error"]["problems"][0]["reason"])
    r = api.post(
        f"/api/v1/energy/units/{unit}/topology",
        "enterprise",
        files={"file": ("tree.csv", tree_csv(ids).encode())},
    )
    assert r.status_code == 201 and r.json()["points"] == 5
    assert (
        api.post(f"/api/v1/energy/units/{unit}/reviews", "enterprise", json={"kind": "review"}).status_code
        == 403
    )
    r = api.post(f"/api/v1/energy/units/{unit}/reviews", "city", json={})
    assert r.status_code == 201 and not r.json()["compliant"]
    review = r.json()["id"]
    pdf = api.get(f"/api/v1/energy/reviews/{review}/report.pdf", "city")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    for path in (f"/api/v1/energy/units/{unit}", f"/api/v1/energy/reviews/{review}"):
        assert api.get(path, "other_city").status_code == 404
    csv = readings_csv(date(2026, 10, 1), 30).encode()
    form = {"period_start": "2026-10-01", "period_end": "2026-10-30"}
    r = api.post(
        f"/api/v1/energy/units/{unit}/periods", "enterprise", data=form, files={"file": ("oct.csv", csv)}
    )
    assert r.status_code == 201, r.text
    assert {b["status"] for b in r.json()["balance"]} == {"imbalance", "balanced", "not_checked"}
    r = api.post(
        f"/api/v1/energy/units/{unit}/periods", "enterprise", data=form, files={"file": ("oct.csv", csv)}
    )
    assert r.status_code == 409 and r.json()["error"]["field"] == "period_start"
    period = api.get(f"/api/v1/energy/units/{unit}/periods", "city").json()[0]["id"]
    r = api.post(f"/api/v1/energy/periods/{period}/cems", "enterprise", json={"measured_t": 10, "u_percent": 0})
    assert r.status_code == 422 and r.json()["error"]["field"] == "u_percent"
    assert api.post(f"/api/v1/energy/periods/{period}/cems", "other_city", json={"measured_t": 10, "u_percent": 3}).status_code == 404
    r = api.post(f"/api/v1/energy/periods/{period}/cems", "enterprise", json={"measured_t": 10, "u_percent": 3})
    assert r.status_code == 200 and r.json()["carbon"]["cems"]["measured"] == 10
    review_json = api.get(f"/api/v1/energy/units/{unit}/carbon-review", "city").json()
    assert review_json["grade"]["grade"] in "ABCD" and review_json["period"]["carbon"]["cems"]["consistent"] is False
    assert api.get(f"/api/v1/energy/units/{unit}/carbon-review.pdf", "city").content.startswith(b"%PDF")
    assert api.get(f"/api/v1/energy/units/{unit}/carbon-review", "other_city").status_code == 404
    assert api.get("/api/v1/energy/regional", "city").json()["coverage"]["units"] == 1
