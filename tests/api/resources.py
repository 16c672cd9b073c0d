"""Each API resource declared once: where it lives, who may write it, a valid and an invalid body.

The generic suite (test_resources.py) turns every declaration into list, get, create, update, 404, 422,
permission, jurisdiction and audit tests, after NetBox's utilities/testing/api.py: a new resource costs a
declaration here and cannot silently skip a check.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from jiliang.domain.access import SYSTEM
from jiliang.services import instruments
from tests.factories import CITY, COUNTY_A, World, authorise_all, credit_code, instrument_raw

Ctx = dict[str, Any]
Body = Callable[[World, Ctx], dict[str, Any]]


@dataclass(frozen=True)
class Resource:
    name: str
    path: str
    table: str  # audit_log.object_type
    writer: str | None  # None: read-only resource
    body: Body | None = None
    bad: tuple[Body, str] | None = None  # an invalid body and the field the refusal must name
    non_writers: tuple[str, ...] = ()  # accounts that may not create (answered 403 or 404)
    outsider: str | None = None  # an account outside the jurisdiction: 404 on get, absent from list
    key: str = "id"
    method: str = "POST"
    created: int = 201
    readable: bool = True  # GET {path}/{key}
    listable: bool = True  # GET {path}
    public_read: bool = False  # readable without a token
    update: dict[str, Any] | None = None  # a PATCH body
    fixed_key: str | None = None  # for read-only resources: a key that exists in every world
    missing_key: str = "999999"
    setup: Callable[[World], Ctx] = lambda world: {}
    hidden: frozenset[str] = field(default_factory=frozenset)  # never in the audit trail


def _verification_setup(world: World) -> Ctx:
    authorise_all(world, ["09.01"])
    inst = instruments.file_instrument(
        world.platform, SYSTEM, instrument_raw("VR-1", item_code="09.01", owner_id=world.enterprise_id)
    )
    return {"instrument_id": inst.id}


def _standard(world: World, ctx: Ctx, **override: Any) -> dict[str, Any]:
    return {
        "name": "燃油加油机检定装置",
        "kind": "social_public",
        "region_code": CITY,
        "quantity": "体积 / volume",
        "measuring_range": "5–100 L",
        "uncertainty": "U = 0.05 %, k = 2",
        "certificate_no": "[2024]浙量标证字第001号",
        "certificate_valid_from": "2024-01-01",
        "certificate_valid_until": "2028-12-31",
        "item_codes": ["09.01"],
        **override,
    }


def _wrong_check_character(world: World, ctx: Ctx) -> dict[str, Any]:
    good = credit_code(11)
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    return {"credit_code": bad, "name": "错码公司", "kind": "enterprise", "region_code": COUNTY_A}


RESOURCES: list[Resource] = [
    Resource(
        name="regions",
        path="/api/v1/regions",
        table="regions",
        key="code",
        writer="admin",
        body=lambda w, c: {"code": "339903", "name_zh": "南城区", "name_en": "Nancheng"},
        bad=(lambda w, c: {"code": "33990", "name_zh": "坏码"}, "code"),
        non_writers=("city", "enterprise", "public"),
        outsider="other_city",
        public_read=True,
    ),
    Resource(
        name="catalogue",
        path="/api/v1/catalogue/items",
        table="catalogue_items",
        key="item_code",
        writer=None,
        fixed_key="09.01",
        missing_key="99.99",
        public_read=True,
    ),
    Resource(
        name="organisations",
        path="/api/v1/organisations",
        table="organisations",
        writer="city",
        body=lambda w, c: {
            "credit_code": credit_code(10),
            "name": "东城农贸市场",
            "kind": "market_operator",
            "region_code": COUNTY_A,
            "address": "东城路 1 号",
        },
        bad=(_wrong_check_character, "credit_code"),
        non_writers=("enterprise", "institution", "public"),
        outsider="other_city",
        update={"contact": "王工 0571-00000000"},
    ),
    Resource(
        name="standards",
        path="/api/v1/standards",
        table="measurement_standards",
        writer="institution",
        body=_standard,
        bad=(lambda w, c: _standard(w, c, item_codes=["99.99"]), "item_codes"),
        non_writers=("enterprise", "public"),
        outsider="other_city",
    ),
    Resource(
        name="authorisations",
        path="/api/v1/authorisations",
        table="authorisations",
        writer="city",
        body=lambda w, c: {
            "institution_id": w.institution_id,
            "item_code": "09.01",
            "region_code": COUNTY_A,
            "valid_from": "2025-01-01",
            "valid_until": "2029-12-31",
        },
        bad=(
            lambda w, c: {
                "institution_id": w.institution_id,
                "item_code": "99.99",
                "region_code": COUNTY_A,
                "valid_from": "2025-01-01",
                "valid_until": "2029-12-31",
            },
            "item_code",
        ),
        non_writers=("institution", "enterprise", "public"),
        outsider="other_city",
        readable=False,
    ),
    Resource(
        name="instruments",
        path="/api/v1/instruments",
        table="instruments",
        writer="enterprise",
        body=lambda w, c: instrument_raw("API-1", item_code="09.01"),
        bad=(lambda w, c: instrument_raw("API-2", item_code="99.99"), "item_code"),
        non_writers=("institution", "public"),
        outsider="other_city",
        update={"location": "东城加油站 3 号枪"},
    ),
    Resource(
        name="verifications",
        path="/api/v1/verifications",
        table="verification_records",
        writer="institution",
        setup=_verification_setup,
        body=lambda w, c: {
            "instrument_id": c["instrument_id"],
            "verified_on": "2026-06-01",
            "conclusion": "pass",
            "document_no": "JD-2026-0001",
        },
        bad=(
            lambda w, c: {
                "instrument_id": c["instrument_id"],
                "verified_on": "2026-07-01",  # after the fixed clock's today, 2026-06-15
                "conclusion": "pass",
                "document_no": "JD-2026-0002",
            },
            "verified_on",
        ),
        non_writers=("city", "enterprise", "public"),
        outsider="other_city",
    ),
    Resource(
        name="users",
        path="/api/v1/users",
        table="users",
        writer="admin",
        body=lambda w, c: {
            "username": "county_a",
            "password": "a long enough password",
            "role": "supervisor",
            "jurisdiction": COUNTY_A,
        },
        bad=(lambda w, c: {"username": "shorty", "password": "short", "role": "supervisor"}, "password"),
        non_writers=("province", "institution", "public"),
        readable=False,
        listable=False,
        hidden=frozenset({"password_hash"}),
    ),
    Resource(
        name="webhooks",
        path="/api/v1/webhooks",
        table="webhooks",
        writer="enterprise",
        body=lambda w, c: {"url": "https://receiver.example/jiliang"},
        bad=(lambda w, c: {"url": "ftp://receiver.example/jiliang"}, "url"),
        non_writers=("institution", "public"),
        readable=False,
        listable=False,
        hidden=frozenset({"secret"}),
    ),
    Resource(
        name="targets",
        path="/api/v1/targets",
        table="indicator_targets",
        writer="city",
        method="PUT",
        created=200,
        body=lambda w, c: {
            "region_code": CITY,
            "year": 2026,
            "indicator": "verification_coverage",
            "target": 0.92,
            "source": "演示市计量发展规划",
        },
        bad=(
            lambda w, c: {
                "region_code": CITY,
                "year": 2026,
                "indicator": "verification_coverage",
                "target": 92,
            },
            "target",
        ),
        non_writers=("enterprise", "institution", "public"),
        readable=False,
        listable=False,
    ),
]

BY_NAME = {r.name: r for r in RESOURCES}


def with_(predicate: Callable[[Resource], bool]) -> list[Any]:
    import pytest

    return [pytest.param(r, id=r.name) for r in RESOURCES if predicate(r)]
