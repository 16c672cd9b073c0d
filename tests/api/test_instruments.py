"""Instruments over HTTP: every filter, optimistic concurrency with ETag / If-Match, status changes."""

from __future__ import annotations

from typing import Any

import pytest

from jiliang.domain.access import SYSTEM
from jiliang.services import instruments, verifications
from tests.api.conftest import Api
from tests.factories import COUNTY_B, authorise_all, instrument_raw

PATH = "/api/v1/instruments"


@pytest.fixture
def fleet(api: Api) -> dict[str, int]:
    """F-1 verified (due 2026-12-01), W-1 a non-compulsory water meter, F-2 never verified in the other
    county and owner, F-3 suspended. The fixed clock's today is 2026-06-15."""
    w, p = api.world, api.world.platform

    def file(serial: str, **kw: Any) -> int:
        kw.setdefault("item_code", "09.01")
        kw.setdefault("owner_id", w.enterprise_id)
        return instruments.file_instrument(p, SYSTEM, instrument_raw(serial, **kw)).id

    ids = {
        "F-1": file("F-1"),
        "W-1": file("W-1", item_code="06.01", nominal_size=20, use="other", manufacturer="水表厂"),
        "F-2": file("F-2", region=COUNTY_B, owner_id=w.other_enterprise_id),
        "F-3": file("F-3"),
    }
    authorise_all(w, ["09.01"])
    verifications.record_verification(
        p,
        w.as_("institution"),
        {
            "instrument_id": ids["F-1"],
            "verified_on": "2026-06-01",
            "conclusion": "pass",
            "document_no": "D-1",
        },
    )
    instruments.change_status(p, SYSTEM, ids["F-3"], "suspended")
    return ids


FILTER_CASES: dict[str, tuple[Any, set[str]]] = {
    "region_code": (COUNTY_B, {"F-2"}),
    "item_code": ("06.01", {"W-1"}),
    "owner_id": ("other", {"F-2"}),  # "other" stands for the other enterprise's id
    "status": ("suspended", {"F-3"}),
    "use": ("other", {"W-1"}),
    "serial_number": ("F-2", {"F-2"}),
    "manufacturer": ("水表厂", {"W-1"}),
    "compulsory": ("false", {"W-1"}),
    "due_before": ("2027-01-01", {"F-1"}),
    "overdue_on": ("2026-06-15", {"F-2"}),
    "q": ("F-3", {"F-3"}),
}


def test_every_filter_has_a_case() -> None:
    assert set(FILTER_CASES) == set(instruments.FILTERS)


def _serials(api: Api, who: str, **params: Any) -> set[str]:
    r = api.get(PATH, who, params={"limit": 1000, **params})
    assert r.status_code == 200, r.text
    return {row["serial_number"] for row in r.json()["items"]}


@pytest.mark.parametrize("name", sorted(FILTER_CASES))
def test_each_filter_narrows_the_list(api: Api, fleet: dict[str, int], name: str) -> None:
    value, expected = FILTER_CASES[name]
    if name == "owner_id":
        value = api.world.other_enterprise_id
    assert _serials(api, "city") == set(fleet)
    assert _serials(api, "city", **{name: value}) == expected


def test_an_enterprise_lists_only_its_own(api: Api, fleet: dict[str, int]) -> None:
    assert _serials(api, "enterprise") == {"F-1", "W-1", "F-3"}
    assert _serials(api, "other_enterprise") == {"F-2"}
    assert api.get(f"{PATH}/{fleet['F-2']}", "enterprise").status_code == 404


def test_pages_are_consistent(api: Api, fleet: dict[str, int]) -> None:
    first = api.get(PATH, "city", params={"limit": 3}).json()
    second = api.get(PATH, "city", params={"limit": 3, "offset": 3}).json()
    assert first["total"] == second["total"] == 4
    ids = [r["id"] for r in first["items"] + second["items"]]
    assert sorted(ids) == sorted(fleet.values()) and len(set(ids)) == 4


def test_a_bad_filter_value_names_the_parameter(api: Api) -> None:
    r = api.get(PATH, "city", params={"status": "lost"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "status"
    r = api.get(PATH, "city", params={"region_code": "12"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "region_code"


def test_etag_and_if_match_guard_against_lost_updates(api: Api, fleet: dict[str, int]) -> None:
    url = f"{PATH}/{fleet['F-3']}"
    etag = api.get(url, "enterprise").headers["etag"]
    r = api.patch(url, "enterprise", json={"location": "1 号枪"}, headers={"If-Match": etag})
    assert r.status_code == 200 and r.headers["etag"] != etag
    stale = api.patch(url, "enterprise", json={"location": "2 号枪"}, headers={"If-Match": etag})
    assert stale.status_code == 409 and stale.json()["error"]["field"] == "row_version"
    assert api.get(url, "enterprise").json()["location"] == "1 号枪"


def test_row_version_in_the_body_works_like_if_match(api: Api, fleet: dict[str, int]) -> None:
    url = f"{PATH}/{fleet['F-3']}"
    version = api.get(url, "enterprise").json()["row_version"]
    assert api.patch(url, "enterprise", json={"row_version": version - 1, "location": "x"}).status_code == 409
    r = api.patch(url, "enterprise", json={"row_version": version, "location": "y"})
    assert r.status_code == 200 and r.json()["row_version"] == version + 1


def test_a_malformed_if_match_is_refused_by_name(api: Api, fleet: dict[str, int]) -> None:
    r = api.patch(f"{PATH}/{fleet['F-3']}", "enterprise", json={"location": "x"}, headers={"If-Match": "*?"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "if-match"


def test_identity_fields_cannot_be_patched(api: Api, fleet: dict[str, int]) -> None:
    r = api.patch(f"{PATH}/{fleet['F-1']}", "enterprise", json={"serial_number": "X"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "serial_number"


def test_duplicate_serial_is_a_conflict_on_serial_number(api: Api, fleet: dict[str, int]) -> None:
    r = api.post(PATH, "enterprise", json=instrument_raw("F-1", item_code="09.01"))
    assert r.status_code == 409 and r.json()["error"]["field"] == "serial_number"


def test_a_water_meter_without_its_size_names_nominal_size(api: Api) -> None:
    r = api.post(PATH, "enterprise", json=instrument_raw("W-9", item_code="06.01"))
    assert r.status_code == 422 and r.json()["error"]["field"] == "nominal_size"


def test_filing_in_the_future_names_filed_on(api: Api) -> None:
    r = api.post(PATH, "enterprise", json=instrument_raw("F-9", item_code="09.01", filed_on="2026-07-01"))
    assert r.status_code == 422 and r.json()["error"]["field"] == "filed_on"


def test_a_supervisor_files_for_an_owner_only_inside_its_jurisdiction(api: Api) -> None:
    body = instrument_raw("F-8", item_code="09.01", owner_id=api.world.enterprise_id)
    assert api.post(PATH, "other_city", json=body).status_code == 404
    r = api.post(PATH, "city", json=body)
    assert r.status_code == 201 and r.headers["location"] == f"{PATH}/{r.json()['id']}"


def test_status_changes_and_scrapping_is_final(api: Api, fleet: dict[str, int]) -> None:
    url = f"{PATH}/{fleet['F-1']}/status"
    r = api.post(url, "enterprise", json={"status": "suspended", "on": "2026-06-10"})
    assert (
        r.status_code == 200
        and r.json()["status"] == "suspended"
        and r.json()["status_since"] == "2026-06-10"
    )
    assert api.post(url, "enterprise", json={"status": "scrapped"}).json()["status"] == "scrapped"
    back = api.post(url, "enterprise", json={"status": "in_service"})
    assert back.status_code == 409 and back.json()["error"]["field"] == "status"
    assert api.post(url, "enterprise", json={"status": "lost"}).json()["error"]["field"] == "status"
    assert api.post(url, "institution", json={"status": "suspended"}).status_code == 403
    assert (
        api.post(f"{PATH}/{fleet['F-2']}/status", "enterprise", json={"status": "suspended"}).status_code
        == 404
    )
