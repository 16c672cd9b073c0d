"""Contracts between the tables, the services and the API: a new column or filter cannot be forgotten."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from pydantic import BaseModel

from jiliang.api.app import ROUTERS, create_app
from jiliang.api.schemas.auth import USER_EXCLUDED, UserOut
from jiliang.api.schemas.indicators import WEBHOOK_EXCLUDED, AuditEntryOut, TargetOut, WebhookOut
from jiliang.api.schemas.instruments import InstrumentOut, VerificationOut
from jiliang.api.schemas.registry import (
    AuthorisationOut,
    CatalogueItemOut,
    OrganisationOut,
    RegionOut,
    RuleOut,
    StandardDetailOut,
)
from jiliang.api.schemas.traceability import CalibrationOut
from jiliang.api.schemas.trust import SIGNING_KEY_EXCLUDED, SigningKeyOut
from jiliang.services import instruments
from jiliang.services.platform import Platform
from jiliang.store import models
from tests.api.conftest import bilingual

# (table, response schema, columns deliberately left out of the response, and why)
CONTRACTS: list[tuple[type[Any], type[BaseModel], frozenset[str]]] = [
    (models.Region, RegionOut, frozenset()),
    (models.Organisation, OrganisationOut, frozenset()),
    # The catalogue is answered from the domain's items (keyed by version and code): the surrogate ids
    # of its rows mean nothing outside the database; a rule's id is answered as rule_id.
    (models.CatalogueItemRow, CatalogueItemOut, frozenset({"id"})),
    (models.CatalogueRuleRow, RuleOut, frozenset({"id", "item_id"})),
    (models.Instrument, InstrumentOut, frozenset()),
    (models.MeasurementStandard, StandardDetailOut, frozenset()),
    (models.Authorisation, AuthorisationOut, frozenset()),
    (models.VerificationRecord, VerificationOut, frozenset()),
    (models.IndicatorTarget, TargetOut, frozenset()),
    (models.User, UserOut, USER_EXCLUDED),
    (models.Webhook, WebhookOut, WEBHOOK_EXCLUDED),
    (models.AuditEntry, AuditEntryOut, frozenset()),
    (models.SigningKeyRow, SigningKeyOut, SIGNING_KEY_EXCLUDED),
    (models.StandardCalibration, CalibrationOut, frozenset()),
]


@pytest.mark.parametrize(
    "model, schema, excluded", [pytest.param(*c, id=c[0].__tablename__) for c in CONTRACTS]
)
def test_every_column_has_a_response_field_or_is_excluded(
    model: type[Any], schema: type[BaseModel], excluded: frozenset[str]
) -> None:
    columns = {c.key for c in model.__table__.columns}
    fields = set(schema.model_fields)
    assert excluded <= columns, "an exclusion names a column that no longer exists"
    assert not excluded & fields, "an excluded column is answered after all"
    missing = columns - fields - excluded
    assert not missing, f"{model.__tablename__}: columns without a field in {schema.__name__}: {missing}"


def test_password_hash_and_webhook_secret_are_never_answered() -> None:
    assert "password_hash" not in UserOut.model_fields
    assert "secret" not in WebhookOut.model_fields


def _openapi(platform: Platform) -> dict[str, Any]:
    app: FastAPI = create_app(platform)
    return app.openapi()


def _query_params(doc: dict[str, Any], path: str, method: str = "get") -> set[str]:
    return {p["name"] for p in doc["paths"][path][method].get("parameters", []) if p["in"] == "query"}


def test_every_instrument_filter_is_a_query_parameter(platform: Platform) -> None:
    params = _query_params(_openapi(platform), "/api/v1/instruments")
    missing = set(instruments.FILTERS) - params
    assert not missing, f"filters of services.instruments without a query parameter: {missing}"
    assert {"offset", "limit"} <= params


def test_every_paged_list_takes_offset_and_limit(platform: Platform) -> None:
    doc = _openapi(platform)
    paged = 0
    for path, ops in doc["paths"].items():
        op = ops.get("get")
        if op is None:
            continue
        schema = op["responses"]["200"]["content"]["application/json"]["schema"]
        if "$ref" in schema and schema["$ref"].split("/")[-1].startswith("Page_"):
            paged += 1
            assert {"offset", "limit"} <= _query_params(doc, path), path
    assert paged >= 8


def test_routers_list_matches_the_router_modules() -> None:
    from pathlib import Path

    import jiliang.api.routers as package

    modules = {p.stem for p in Path(package.__file__).parent.glob("*.py") if p.stem != "__init__"}
    assert set(ROUTERS) == modules, "api/app.py ROUTERS is out of step with api/routers/"


def test_openapi_document_loads_and_every_operation_has_a_bilingual_summary(platform: Platform) -> None:
    from fastapi.testclient import TestClient

    with TestClient(create_app(platform)) as client:
        r = client.get("/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    assert doc["info"]["title"]
    operations = [(p, m, op) for p, ops in doc["paths"].items() for m, op in ops.items()]
    assert len(operations) >= 25
    for path, method, op in operations:
        summary = op.get("summary", "")
        assert bilingual(summary), f"{method.upper()} {path}: {summary!r}"
        for param in op.get("parameters", []):
            if param["in"] == "query":
                assert bilingual(param.get("description", "")), f"{path}?{param['name']}"


def test_every_error_answer_is_documented_with_the_error_shape(platform: Platform) -> None:
    doc = _openapi(platform)
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            ref = op["responses"]["422"]["content"]["application/json"]["schema"]["$ref"]
            name = ref.rsplit("/", 1)[-1]
            assert name in ("ErrorOut", "RefusalOut"), f"{method.upper()} {path}"
            # a richer refusal (the import report) still carries every field of the one error shape
            detail = doc["components"]["schemas"][name]["properties"]["error"]["$ref"].rsplit("/", 1)[-1]
            props = doc["components"]["schemas"][detail]["properties"]
            assert {"code", "field", "message"} <= set(props), f"{method.upper()} {path}"
