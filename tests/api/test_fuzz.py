"""Arbitrary request bodies never crash the API: every answer is a success or a named refusal.

A small, derandomised stand-in for schemathesis: bodies are drawn from each write operation's own
OpenAPI schema (its field names, with values of any type), sent as an administrator (who passes every
role check and so reaches the deepest validation), and the answer must be < 500 and, when a refusal,
in the one error shape.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jiliang.api.app import create_app
from jiliang.services.platform import Platform
from tests.api.conftest import Api
from tests.api.resources import RESOURCES

VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-5, max_value=10**12),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.lists(st.text(max_size=6), max_size=3),
    st.sampled_from(["2026-01-01", "2099-12-31", "09.01", "06.01", "339901", "000000", "pass", "fail", "1"]),
)


def _write_operations(platform: Platform) -> list[tuple[str, str, list[str]]]:
    doc = create_app(platform).openapi()
    schemas = doc["components"]["schemas"]
    ops = []
    for path, methods in doc["paths"].items():
        for method, op in methods.items():
            ref = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
            if "$ref" in ref:
                props = list(schemas[ref["$ref"].split("/")[-1]]["properties"])
                ops.append((method.upper(), _concrete(path), props))
    return ops


def _concrete(path: str) -> str:
    """Path parameters become 1: a row that may or may not exist in the world."""
    return "/".join("1" if part.startswith("{") else part for part in path.split("/"))


def _valid_bodies(api: Api) -> dict[tuple[str, str], dict[str, Any]]:
    """A valid body per operation, so that mutating one or two fields reaches the services' rules."""
    bases = {}
    for res in RESOURCES:
        if res.body is not None:
            bases[(res.method, res.path)] = res.body(api.world, res.setup(api.world))
    bases[("PATCH", "/api/v1/instruments/1")] = {"location": "x", "use": "medical", "row_version": 2}
    bases[("PATCH", "/api/v1/organisations/1")] = {"name": "x", "kind": "hospital"}
    bases[("POST", "/api/v1/catalogue/versions/1/activate")] = {"active_from": "2026-07-01"}
    bases[("POST", "/api/v1/supervision/follow-ups")] = {"instrument_ids": [1], "note": "x", "remind": True}
    bases[("POST", "/api/v1/instruments/1/status")] = {"status": "suspended", "on": "2026-06-01"}
    bases[("POST", "/api/v1/auth/login")] = {"username": "city", "password": "x"}
    bases[("POST", "/api/v1/comparisons/analyse")] = {
        "results": [
            {"laboratory": "A", "value": 1.0, "uncertainty": 0.1},
            {"laboratory": "B", "value": 1.1, "uncertainty": 0.1},
            {"laboratory": "C", "value": 0.9, "uncertainty": 0.2},
            {"laboratory": "D", "value": 1.3, "uncertainty": 0.1},
        ],
        "method": "consensus",
    }
    bases[("POST", "/api/v1/uncertainty/evaluate")] = {
        "model": "y = a*b",
        "inputs": {"a": {"estimate": 1.0, "u": 0.1}, "b": {"estimate": 2.0, "u": 0.2, "dof": 9}},
    }
    bases[("POST", "/api/v1/traceability/calibrations")] = {
        "standard_id": 1,
        "anchor_name": "国家计量基准",
        "certificate_no": "FUZZ-1",
        "calibrated_on": "2026-01-01",
        "valid_until": "2027-01-01",
        "expanded_uncertainty": 0.01,
    }
    bases[("POST", "/api/v1/traceability/standards/1/impact")] = {"on": "2026-06-01"}
    bases[("POST", "/api/v1/certificates")] = {"record_id": 1, "number": "FUZZ-1"}
    bases[("POST", "/api/v1/certificates/1/withdraw")] = {"reason": "fuzz"}
    bases[("POST", "/api/v1/supervision/follow-ups/1/close")] = {"reason": "fuzz"}
    bases[("POST", "/api/v1/supervision/follow-ups/1/reopen")] = {"reason": "fuzz"}
    bases.update(_market_bodies())
    bases.update(_energy_bodies())
    measured = {
        "instrument_id": 1,
        "verified_on": "2026-06-01",
        "document_no": "FUZZ-MV",
        "scale_interval": "0.01",
        "points": [{"nominal": "1", "unit": "kg", "indications": "1.001", "uncertainty": "0.001"}],
    }
    bases[("POST", "/api/v1/measured-verifications/evaluate")] = measured
    bases[("POST", "/api/v1/measured-verifications")] = measured
    bases[("POST", "/api/v1/measured-verifications/1/check")] = {"accept": True, "reason": ""}
    bases[("POST", "/api/v1/measured-verifications/1/approve")] = {"accept": True, "reason": ""}
    bases[("POST", "/api/v1/measured-verifications/signatories")] = {
        "username": "institution",
        "qualification_no": "Q-1",
    }
    bases[("POST", "/api/v1/telemetry/devices")] = {
        "instrument_id": 1,
        "device_id": "FUZZ-1",
        "instrument_type": "fuel_dispenser",
    }
    return bases


def _market_bodies() -> dict[tuple[str, str], dict[str, Any]]:
    lot = {"organisation_id": 1, "nominal": "500 g", "lot_size": 12, "measurements": [500.0] * 10}
    m = "/api/v1/market"
    return {
        ("POST", f"{m}/inspectors"): {"name": "执法员", "region_code": "339900"},
        ("POST", f"{m}/inspectors/1/relations"): {"organisation_id": 1},
        ("POST", f"{m}/plans"): {
            "name": "p",
            "region_code": "339900",
            "org_kinds": ["fuel_station"],
            "ratio": 0.5,
        },
        ("POST", f"{m}/plans/1/commit"): {},
        ("POST", f"{m}/plans/1/draw"): {},
        ("PUT", f"{m}/targets/1/inspectors"): {"inspector_ids": [1]},
        ("POST", f"{m}/targets/1/results"): {"inspected_on": "2026-06-01", "conclusion": "pass"},
        ("POST", f"{m}/net-content"): lot,
        ("POST", f"{m}/credit/events"): {
            "organisation_id": 1,
            "kind": "penalty",
            "occurred_on": "2026-06-01",
        },
        ("PATCH", f"{m}/complaints/1"): {"status": "investigating"},
        ("POST", f"{m}/complaints/1/reporter"): {"reason": "回访"},
        ("POST", f"{m}/cases"): {"source_type": "warning", "source_id": "W-1", "organisation_id": 1},
        ("POST", f"{m}/cases/1/step"): {"status": "investigating"},
        ("POST", "/api/v1/public/market/net-content/check"): lot,
        ("POST", "/api/v1/public/market/complaints"): {
            "region_code": "339901",
            "subject_name": "x",
            "content": "y",
        },
    }


def _energy_bodies() -> dict[tuple[str, str], dict[str, Any]]:
    e = "/api/v1/energy"
    return {
        ("POST", f"{e}/units"): {"organisation_id": 1, "energy_types": ["electricity"], "annual_tce": 20000},
        ("POST", f"{e}/units/1/topology/rows"): {
            "rows": [{"kind": "节点", "key": "p", "level": "boundary", "energy_type": "电力", "demand": 5}]
        },
        ("POST", f"{e}/units/1/reviews"): {"kind": "review"},
        ("PUT", f"{e}/targets"): {"region_code": "339900", "year": 2026, "target": 0.9},
        ("POST", f"{e}/periods/1/cems"): {"measured_t": 100.0, "u_percent": 2.0, "system": "CEMS-1"},
        ("POST", "/api/v1/telemetry/devices/bulk"): {
            "rows": [{"device_id": "FUZZ-1", "instrument_type": "fuel_dispenser", "instrument_id": 1}]
        },
    }


def test_arbitrary_bodies_never_crash(api: Api) -> None:
    ops = _write_operations(api.world.platform)
    bases = _valid_bodies(api)
    assert len(ops) >= 12 and {(m, p) for m, p, _ in ops} <= set(bases)

    @settings(
        max_examples=300,
        derandomize=True,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        method, path, props = data.draw(st.sampled_from(ops))
        changes = data.draw(st.dictionaries(st.sampled_from(props), VALUES, max_size=2))
        body = {**bases[(method, path)], **changes}
        who = data.draw(st.sampled_from(["admin", "city", "enterprise", "institution"]))
        r = api.request(method, path, who, json=body)
        assert r.status_code < 500, (method, path, who, body, r.text)
        if r.status_code >= 400:
            error = r.json()["error"]
            assert error["message"] and "code" in error, r.text

    check()


@pytest.mark.parametrize("path", ["/api/v1/instruments", "/api/v1/organisations", "/api/v1/verifications"])
def test_arbitrary_query_strings_never_crash(api: Api, path: str) -> None:
    @settings(max_examples=30, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        params=st.dictionaries(
            st.sampled_from(
                [
                    "region_code",
                    "owner_id",
                    "kind",
                    "q",
                    "due_before",
                    "instrument_id",
                    "include_superseded",
                    "limit",
                    "offset",
                ]
            ),
            st.text(max_size=10),
            max_size=4,
        )
    )
    def check(params: dict[str, str]) -> None:
        r = api.get(path, "city", params=params)
        assert r.status_code in (200, 422), (params, r.text)

    check()
