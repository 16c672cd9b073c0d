"""The audit listener names the object it records, for creates as much as for updates."""

from __future__ import annotations

from sqlalchemy import select

from jiliang.domain.access import SYSTEM
from jiliang.services import organisations, standards
from jiliang.store.models import AuditEntry
from tests.factories import CITY, World, credit_code


def _entries(world: World, object_type: str) -> list[AuditEntry]:
    with world.platform.reading() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.object_type == object_type)))


def test_a_create_is_recorded_with_the_new_rows_id(world: World) -> None:
    org = organisations.add_organisation(
        world.platform,
        SYSTEM,
        credit_code=credit_code(50),
        name="审计公司",
        kind="enterprise",
        region_code=CITY,
    )
    created = [
        e for e in _entries(world, "organisations") if e.action == "create" and e.summary == "审计公司"
    ]
    assert [e.object_id for e in created] == [str(org.id)]


def test_a_composite_key_is_recorded_joined_by_slashes(world: World) -> None:
    std = standards.add_standard(
        world.platform,
        world.as_("institution"),
        {
            "name": "水表检定装置",
            "kind": "social_public",
            "region_code": CITY,
            "quantity": "体积",
            "certificate_no": "AUD-1",
            "certificate_valid_from": "2024-01-01",
            "certificate_valid_until": "2028-01-01",
            "item_codes": ["09.01"],
        },
    )
    assert [e.object_id for e in _entries(world, "standard_items")] == [f"{std.id}/09.01"]
    assert [e.object_id for e in _entries(world, "regions") if e.summary == CITY] == [CITY]
