"""Indicators, targets, the overdue list, expiring standards, due lists and webhooks over HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from jiliang.domain.access import SYSTEM
from jiliang.services import instruments, standards, verifications
from tests.api.conftest import Api
from tests.factories import CITY, COUNTY_A, COUNTY_B, authorise_all, instrument_raw


@pytest.fixture
def city(api: Api) -> dict[str, int]:
    """Two fuel dispensers in county A (one verified 2026-06-01, due 2026-12-01), one never verified in
    county B; a city target of 92 %. The fixed clock's today is 2026-06-15."""
    w, p = api.world, api.world.platform
    ids = {
        serial: instruments.file_instrument(
            p, SYSTEM, instrument_raw(serial, item_code="09.01", region=region, owner_id=owner)
        ).id
        for serial, region, owner in (
            ("A-1", COUNTY_A, w.enterprise_id),
            ("A-2", COUNTY_A, w.enterprise_id),
            ("B-1", COUNTY_B, w.other_enterprise_id),
        )
    }
    authorise_all(w, ["09.01"])
    for serial in ("A-1", "A-2"):
        verifications.record_verification(
            p,
            w.as_("institution"),
            {
                "instrument_id": ids[serial],
                "verified_on": "2026-06-01",
                "conclusion": "pass",
                "document_no": serial,
            },
        )
    target = {"region_code": CITY, "year": 2026, "indicator": "verification_coverage", "target": 0.92}
    assert api.put("/api/v1/targets", "city", json=target).status_code == 200
    return ids


def _value(report: dict[str, Any], indicator: str, region: str, item: str = "") -> dict[str, Any]:
    return next(
        v
        for v in report["values"]
        if v["indicator"] == indicator and v["region_code"] == region and v["item_code"] == item
    )


def test_indicators_are_shown_against_their_targets(api: Api, city: dict[str, int]) -> None:
    r = api.get("/api/v1/indicators", "city", params={"region": CITY})
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["as_of"] == "2026-06-15" and report["root"] == CITY
    v = _value(report, "verification_coverage", CITY)
    assert (v["numerator"], v["denominator"]) == (2, 3)
    assert v["rate"] == pytest.approx(2 / 3) and v["target"] == 0.92
    assert v["gap"] == pytest.approx(2 / 3 - 0.92) and v["meets_target"] is False
    county_a = _value(report, "verification_coverage", COUNTY_A, "09.01")
    assert county_a["rate"] == 1.0 and county_a["target"] == 0.92 and county_a["meets_target"] is True
    assert _value(report, "overdue", COUNTY_B)["numerator"] == 1


def test_by_item_false_answers_only_the_totals(api: Api, city: dict[str, int]) -> None:
    report = api.get("/api/v1/indicators", "city", params={"by_item": False}).json()
    assert report["root"] == CITY  # the caller's jurisdiction by default
    assert {v["item_code"] for v in report["values"]} == {""}


def test_as_of_before_the_verifications(api: Api, city: dict[str, int]) -> None:
    report = api.get("/api/v1/indicators", "city", params={"as_of": "2026-05-31"}).json()
    assert _value(report, "verification_coverage", CITY)["numerator"] == 0


def test_indicators_outside_the_jurisdiction_are_not_found(api: Api, city: dict[str, int]) -> None:
    assert api.get("/api/v1/indicators", "county_b", params={"region": COUNTY_A}).status_code == 404
    assert api.get("/api/v1/indicators", "enterprise").status_code == 403
    r = api.put(
        "/api/v1/targets",
        "other_city",
        json={"region_code": CITY, "year": 2026, "indicator": "verification_coverage", "target": 0.9},
    )
    assert r.status_code == 404


def test_a_target_is_refused_for_a_count_indicator(api: Api) -> None:
    r = api.put(
        "/api/v1/targets",
        "city",
        json={"region_code": CITY, "year": 2026, "indicator": "overdue", "target": 0.5},
    )
    assert r.status_code == 422 and r.json()["error"]["field"] == "indicator"


def test_setting_a_target_twice_updates_it(api: Api) -> None:
    body = {"region_code": CITY, "year": 2026, "indicator": "standard_coverage", "target": 0.9}
    first = api.put("/api/v1/targets", "city", json=body).json()
    second = api.put("/api/v1/targets", "city", json={**body, "target": 0.95}).json()
    assert first["id"] == second["id"] and second["target"] == 0.95


def test_trend_has_one_point_per_month_end_ending_today(api: Api, city: dict[str, int]) -> None:
    r = api.get("/api/v1/indicators/trend", "city", params={"months": 3})
    assert r.status_code == 200, r.text
    points = r.json()
    assert [p["on"] for p in points] == ["2026-04-30", "2026-05-31", "2026-06-15"]
    assert points[-1]["value"]["numerator"] == 2 and points[-1]["value"]["target"] == 0.92
    assert points[0]["value"]["numerator"] == 0
    assert (
        api.get("/api/v1/indicators/trend", "city", params={"months": 0}).json()["error"]["field"] == "months"
    )


def test_the_overdue_list_is_paged_and_scoped(api: Api, city: dict[str, int]) -> None:
    r = api.get("/api/v1/indicators/overdue", "city")
    assert r.status_code == 200
    assert [i["serial_number"] for i in r.json()["items"]] == ["B-1"]
    assert api.get("/api/v1/indicators/overdue", "city", params={"on": "2026-12-01"}).json()["total"] == 3
    assert api.get("/api/v1/indicators/overdue", "enterprise").json()["total"] == 0
    assert api.get("/api/v1/indicators/overdue", "city", params={"region": COUNTY_A}).json()["total"] == 0


def test_expiring_standards(api: Api) -> None:
    for no, until in (("S-SOON", "2026-07-01"), ("S-LATER", "2029-01-01")):
        standards.add_standard(
            api.world.platform,
            api.world.as_("institution"),
            {
                "name": f"装置 {no}",
                "kind": "social_public",
                "region_code": CITY,
                "quantity": "体积",
                "certificate_no": no,
                "certificate_valid_from": "2024-01-01",
                "certificate_valid_until": until,
                "item_codes": ["09.01"],
            },
        )
    r = api.get("/api/v1/standards/expiring", "city")
    assert r.status_code == 200, r.text
    assert [s["certificate_no"] for s in r.json()] == ["S-SOON"]
    assert len(api.get("/api/v1/standards/expiring", "city", params={"within_days": 3650}).json()) == 2
    assert api.get("/api/v1/standards/expiring", "other_city", params={"region": CITY}).status_code == 404
    listed = api.get("/api/v1/standards", "city", params={"expiring_before": "2027-01-01"}).json()
    assert [s["certificate_no"] for s in listed["items"]] == ["S-SOON"]


def test_the_due_list_per_owner(api: Api, city: dict[str, int]) -> None:
    within = api.get("/api/v1/due", "enterprise", params={"on": "2026-11-25", "within_days": 10}).json()
    assert {i["serial_number"] for i in within["items"]} == {"A-1", "A-2"}
    assert (
        api.get("/api/v1/due", "enterprise", params={"on": "2026-11-25", "within_days": 3}).json()["total"]
        == 0
    )
    assert (
        api.get("/api/v1/due", "other_enterprise", params={"on": "2026-11-25", "within_days": 10}).json()[
            "total"
        ]
        == 0
    )
    by_owner = api.get(
        "/api/v1/due",
        "city",
        params={"on": "2026-11-25", "within_days": 10, "owner_id": api.world.enterprise_id},
    ).json()
    assert by_owner["total"] == 2
    assert (
        api.get("/api/v1/due", "city", params={"within_days": 999}).json()["error"]["field"] == "within_days"
    )


def test_a_webhook_secret_is_returned_once(api: Api) -> None:
    r = api.post("/api/v1/webhooks", "enterprise", json={"url": "https://hooks.example/due"})
    assert r.status_code == 201
    hook = r.json()
    assert hook["organisation_id"] == api.world.enterprise_id and len(hook["secret"]) == 32
    audit = api.audit(object_type="webhooks", object_id=str(hook["id"]))
    assert hook["secret"] not in str(audit)
    other = api.post(
        "/api/v1/webhooks",
        "enterprise",
        json={"url": "https://x.example", "organisation_id": api.world.other_enterprise_id},
    )
    assert other.status_code == 403 and other.json()["error"]["field"] == "organisation_id"
