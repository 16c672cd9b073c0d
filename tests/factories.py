"""Deterministic builders for tests: a small province with one city and two counties, its organisations,
accounts and instruments. No randomness: each call names what it builds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from jiliang.domain.access import SYSTEM, Principal
from jiliang.domain.credit_code import make_credit_code
from jiliang.services import organisations, standards, users
from jiliang.services.platform import Platform

PROVINCE, CITY, COUNTY_A, COUNTY_B = "330000", "339900", "339901", "339902"
OTHER_CITY = "339800"
PASSWORD = "correct horse battery"


def credit_code(n: int, region: str = COUNTY_A) -> str:
    return make_credit_code(f"9{1}{region}{n:08d}X"[:17])


@dataclass
class World:
    platform: Platform
    enterprise_id: int
    other_enterprise_id: int
    institution_id: int
    other_institution_id: int
    tokens: dict[str, str]
    principals: dict[str, Principal]

    def as_(self, who: str) -> Principal:
        return self.principals[who]


def build_world(platform: Platform) -> World:
    for code, name in (
        (PROVINCE, "浙江省"),
        (CITY, "演示市"),
        (COUNTY_A, "东城区"),
        (COUNTY_B, "西城县"),
        (OTHER_CITY, "邻市"),
    ):
        organisations.add_region(platform, SYSTEM, code, name)
    ent = organisations.add_organisation(
        platform,
        SYSTEM,
        credit_code=credit_code(1),
        name="东城加油站",
        kind="fuel_station",
        region_code=COUNTY_A,
    )
    other = organisations.add_organisation(
        platform,
        SYSTEM,
        credit_code=credit_code(2, COUNTY_B),
        name="西城医院",
        kind="hospital",
        region_code=COUNTY_B,
    )
    inst = organisations.add_organisation(
        platform,
        SYSTEM,
        credit_code=credit_code(3, CITY),
        name="演示市计量检定测试院",
        kind="legal_verification_institution",
        region_code=CITY,
    )
    inst2 = organisations.add_organisation(
        platform,
        SYSTEM,
        credit_code=credit_code(4, OTHER_CITY),
        name="邻市计量所",
        kind="legal_verification_institution",
        region_code=OTHER_CITY,
    )
    accounts: dict[str, dict[str, Any]] = {
        "admin": {"role": "administrator", "jurisdiction": "000000"},
        "province": {"role": "supervisor", "jurisdiction": PROVINCE},
        "city": {"role": "supervisor", "jurisdiction": CITY},
        "county_b": {"role": "supervisor", "jurisdiction": COUNTY_B},
        "other_city": {"role": "supervisor", "jurisdiction": OTHER_CITY},
        "enterprise": {"role": "enterprise", "jurisdiction": COUNTY_A, "organisation_id": ent.id},
        "other_enterprise": {"role": "enterprise", "jurisdiction": COUNTY_B, "organisation_id": other.id},
        "institution": {"role": "institution", "jurisdiction": CITY, "organisation_id": inst.id},
        "other_institution": {"role": "institution", "jurisdiction": OTHER_CITY, "organisation_id": inst2.id},
        "public": {"role": "public", "jurisdiction": "000000"},
    }
    tokens, principals = {}, {}
    for name, spec in accounts.items():
        users.create_user(platform, SYSTEM, username=name, password=PASSWORD, **spec)
        tokens[name], principals[name] = users.login(platform, name, PASSWORD)
    return World(platform, ent.id, other.id, inst.id, inst2.id, tokens, principals)


FUEL_DISPENSER = "fuel_dispenser"


def instrument_raw(
    serial: str,
    *,
    item_code: str,
    region: str = COUNTY_A,
    owner_id: int | None = None,
    use: str = "trade_settlement",
    nominal_size: float | None = None,
    filed_on: str = "2025-01-10",
    **extra: Any,
) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "name": f"器具 {serial}",
        "item_code": item_code,
        "model": "M-1",
        "serial_number": serial,
        "manufacturer": "示例制造有限公司",
        "region_code": region,
        "use": use,
        "filed_on": filed_on,
        "measuring_range": "0–60 L/min",
        "accuracy_class": "0.3",
        "owner_id": owner_id,
    }
    if nominal_size is not None:
        raw["nominal_size"] = nominal_size
    raw.update(extra)
    return raw


def authorise_all(
    world: World, item_codes: list[str], region: str = CITY, institution_id: int | None = None
) -> None:
    for code in item_codes:
        standards.authorise(
            world.platform,
            SYSTEM,
            {
                "institution_id": institution_id or world.institution_id,
                "item_code": code,
                "region_code": region,
                "valid_from": date(2020, 1, 1).isoformat(),
                "valid_until": date(2030, 12, 31).isoformat(),
            },
        )
