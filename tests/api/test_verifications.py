"""Verification records over HTTP: a correction supersedes, never edits; authorisation is enforced."""

from __future__ import annotations

import pytest

from jiliang.domain.access import SYSTEM
from jiliang.services import instruments
from tests.api.conftest import Api
from tests.factories import authorise_all, instrument_raw

PATH = "/api/v1/verifications"


@pytest.fixture
def instrument_id(api: Api) -> int:
    w = api.world
    return instruments.file_instrument(
        w.platform, SYSTEM, instrument_raw("V-1", item_code="09.01", owner_id=w.enterprise_id)
    ).id


def _record(api: Api, instrument_id: int, doc: str, conclusion: str = "pass", **kw: object) -> dict:  # type: ignore[type-arg]
    body = {
        "instrument_id": instrument_id,
        "verified_on": "2026-06-01",
        "conclusion": conclusion,
        "document_no": doc,
    }
    r = api.post(PATH, "institution", json={**body, **kw})
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def test_a_pass_sets_the_due_date_from_the_catalogue_rule(api: Api, instrument_id: int) -> None:
    authorise_all(api.world, ["09.01"])
    rec = _record(api, instrument_id, "D-1")
    # JJG 443-2023 fuel dispensers: periodic, 6 months (shipped catalogue)
    assert rec["due_on"] == "2026-12-01" and rec["regulation"].startswith("JJG 443")
    inst = api.get(f"/api/v1/instruments/{instrument_id}", "enterprise").json()
    assert inst["due_on"] == "2026-12-01" and inst["last_conclusion"] == "pass"


def test_a_correction_supersedes_and_takes_effect(api: Api, instrument_id: int) -> None:
    authorise_all(api.world, ["09.01"])
    first = _record(api, instrument_id, "D-1")
    fix = _record(api, instrument_id, "D-1-FIX", conclusion="fail", supersedes_id=first["id"])
    assert fix["supersedes_id"] == first["id"]
    listed = api.get(PATH, "institution", params={"instrument_id": instrument_id}).json()
    assert [r["id"] for r in listed["items"]] == [fix["id"]]
    every = api.get(PATH, "institution", params={"instrument_id": instrument_id, "include_superseded": True})
    assert {r["id"]: r["superseded"] for r in every.json()["items"]} == {first["id"]: True, fix["id"]: False}
    inst = api.get(f"/api/v1/instruments/{instrument_id}", "enterprise").json()
    assert inst["status"] == "suspended" and inst["valid_until"] is None
    again = api.post(
        PATH,
        "institution",
        json={
            "instrument_id": instrument_id,
            "verified_on": "2026-06-02",
            "conclusion": "pass",
            "document_no": "D-1-FIX2",
            "supersedes_id": first["id"],
        },
    )
    assert again.status_code == 409 and again.json()["error"]["field"] == "supersedes_id"


def test_an_unauthorised_institution_is_refused_by_field(api: Api, instrument_id: int) -> None:
    r = api.post(
        PATH,
        "institution",
        json={
            "instrument_id": instrument_id,
            "verified_on": "2026-06-01",
            "conclusion": "pass",
            "document_no": "X",
        },
    )
    assert r.status_code == 403 and r.json()["error"]["field"] == "institution_id"


def test_an_institution_outside_the_region_gets_not_found(api: Api, instrument_id: int) -> None:
    r = api.post(
        PATH,
        "other_institution",
        json={
            "instrument_id": instrument_id,
            "verified_on": "2026-06-01",
            "conclusion": "pass",
            "document_no": "X",
        },
    )
    assert r.status_code == 404


def test_an_unknown_conclusion_names_the_field(api: Api, instrument_id: int) -> None:
    authorise_all(api.world, ["09.01"])
    r = api.post(
        PATH,
        "institution",
        json={
            "instrument_id": instrument_id,
            "verified_on": "2026-06-01",
            "conclusion": "maybe",
            "document_no": "X",
        },
    )
    assert r.status_code == 422 and r.json()["error"]["field"] == "conclusion"


def test_the_owner_sees_its_instruments_records(api: Api, instrument_id: int) -> None:
    authorise_all(api.world, ["09.01"])
    rec = _record(api, instrument_id, "D-1")
    assert api.get(f"{PATH}/{rec['id']}", "enterprise").status_code == 200
    assert api.get(f"{PATH}/{rec['id']}", "other_enterprise").status_code == 404
    assert api.get(PATH, "other_enterprise").json()["total"] == 0
