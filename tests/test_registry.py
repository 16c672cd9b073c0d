"""The registry's use cases on a real database: filing, jurisdiction, verification, supersession, audit."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from jiliang.domain.access import SYSTEM
from jiliang.errors import Conflict, InvalidInput, NotAuthorised, NotFound
from jiliang.services import instruments, organisations, standards, verifications
from jiliang.store.models import AuditEntry, Instrument, VerificationRecord
from tests.factories import (
    CITY,
    COUNTY_A,
    COUNTY_B,
    World,
    authorise_all,
    credit_code,
    instrument_raw,
)

FUEL, WATER = "09.01", "06.01"


def count(world: World, model: type) -> int:
    with world.platform.reading() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def file(world: World, serial: str, who: str = "enterprise", **kw: object) -> Instrument:
    kw.setdefault("item_code", FUEL)
    return instruments.file_instrument(world.platform, world.as_(who), instrument_raw(serial, **kw))  # type: ignore[arg-type]


def verify(
    world: World,
    inst_id: int,
    on: str,
    conclusion: str = "pass",
    doc: str | None = None,
    who: str = "institution",
    **kw: object,
) -> VerificationRecord:
    raw = {
        "instrument_id": inst_id,
        "verified_on": on,
        "conclusion": conclusion,
        "document_no": doc or f"JD-{inst_id}-{on}-{conclusion}",
        **kw,
    }
    return verifications.record_verification(world.platform, world.as_(who), raw)


def test_enterprise_files_its_own_instrument_and_the_filing_is_audited(world: World) -> None:
    inst = file(world, "A-1")
    assert inst.owner_id == world.enterprise_id and inst.compulsory and inst.status == "in_service"
    with world.platform.reading() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.object_type == "instruments")).one()
    assert (
        entry.action == "create"
        and entry.actor_name == "enterprise"
        and entry.after["serial_number"] == "A-1"
    )


def test_non_compulsory_use_is_filed_but_not_compulsory(world: World) -> None:
    assert not file(world, "A-2", use="other").compulsory


def test_enterprise_cannot_file_for_another_owner(world: World) -> None:
    with pytest.raises(NotAuthorised) as err:
        file(world, "A-3", owner_id=world.other_enterprise_id)
    assert err.value.field == "owner_id"


@pytest.mark.parametrize(
    "change, field",
    [
        ({"item_code": "99.99"}, "item_code"),
        ({"filed_on": "2026-06-16"}, "filed_on"),
        ({"use": "decoration"}, "use"),
        ({"region_code": "12345"}, "region_code"),
        ({"item_code": WATER}, "nominal_size"),
        ({"serial_number": "  "}, "serial_number"),
    ],
)
def test_bad_filings_name_the_field_and_change_nothing(
    world: World, change: dict[str, object], field: str
) -> None:
    before = count(world, Instrument), count(world, AuditEntry)
    raw = instrument_raw("B-1", item_code=FUEL)
    raw.update(change)
    with pytest.raises(InvalidInput) as err:
        instruments.file_instrument(world.platform, world.as_("enterprise"), raw)
    assert err.value.field == field
    assert (count(world, Instrument), count(world, AuditEntry)) == before


def test_duplicate_serial_for_same_manufacturer_and_model_is_a_conflict(world: World) -> None:
    file(world, "D-1")
    with pytest.raises(Conflict) as err:
        file(world, "D-1")
    assert err.value.field == "serial_number"
    file(world, "D-1", model="M-2")  # another model may reuse the serial


def test_supervisor_sees_only_its_subtree_and_outside_is_not_found(world: World) -> None:
    a = file(world, "J-1")
    b = file(world, "J-2", who="other_enterprise", region=COUNTY_B)
    p = world.platform
    assert {i.id for i in instruments.list_instruments(p, world.as_("city"), {}).items} == {a.id, b.id}
    assert [i.id for i in instruments.list_instruments(p, world.as_("county_b"), {}).items] == [b.id]
    assert [i.id for i in instruments.list_instruments(p, world.as_("enterprise"), {}).items] == [a.id]
    assert instruments.list_instruments(p, world.as_("public"), {}).total == 0
    for who in ("county_b", "other_city", "other_enterprise", "public"):
        with pytest.raises(NotFound):
            instruments.get_instrument(p, world.as_(who), a.id)
    with pytest.raises(NotFound):  # filing into a region outside the supervisor's jurisdiction
        file(world, "J-3", who="other_city", owner_id=world.enterprise_id, region=COUNTY_A)


def test_periodic_verification_sets_due_date_and_coverage_state(world: World) -> None:
    authorise_all(world, [FUEL])
    inst = file(world, "V-1")
    rec = verify(world, inst.id, "2026-03-01")
    assert rec.due_on == date(2026, 9, 1) and rec.regulation.startswith("JJG 443")
    got = instruments.get_instrument(world.platform, SYSTEM, inst.id)
    assert (got.due_on, got.valid_until, got.last_conclusion, got.status) == (
        date(2026, 9, 1),
        date(2026, 9, 1),
        "pass",
        "in_service",
    )


def test_failed_verification_suspends_until_a_pass(world: World) -> None:
    authorise_all(world, [FUEL])
    inst = file(world, "V-2")
    verify(world, inst.id, "2026-03-01", "fail")
    got = instruments.get_instrument(world.platform, SYSTEM, inst.id)
    assert (got.status, got.valid_until, got.status_since) == ("suspended", None, date(2026, 3, 1))
    with pytest.raises(Conflict):
        instruments.change_status(world.platform, world.as_("enterprise"), inst.id, "in_service")
    verify(world, inst.id, "2026-03-10", "pass")
    assert instruments.get_instrument(world.platform, SYSTEM, inst.id).status == "in_service"


def test_rotation_meter_is_due_at_end_of_service_life_from_first_use(world: World) -> None:
    authorise_all(world, [WATER])
    inst = file(
        world,
        "W-1",
        item_code=WATER,
        nominal_size=20,
        first_used_on="2021-05-01",
        owner_id=world.enterprise_id,
    )
    assert verify(world, inst.id, "2021-04-20").due_on == date(2027, 5, 1)
    big = file(world, "W-2", item_code=WATER, nominal_size=100)
    assert verify(world, big.id, "2026-01-10").due_on == date(2028, 1, 10)


def test_correction_supersedes_and_never_edits(world: World) -> None:
    authorise_all(world, [FUEL])
    inst = file(world, "C-1")
    wrong = verify(world, inst.id, "2026-03-01", "fail", doc="N-1")
    fixed = verify(world, inst.id, "2026-03-01", "pass", doc="C-1", supersedes_id=wrong.id)
    p = world.platform
    assert [r.id for r in verifications.list_records(p, SYSTEM, instrument_id=inst.id).items] == [fixed.id]
    history = verifications.list_records(p, SYSTEM, instrument_id=inst.id, include_superseded=True).items
    assert {(r.id, r.superseded, r.conclusion) for r in history} == {
        (wrong.id, True, "fail"),
        (fixed.id, False, "pass"),
    }
    assert instruments.get_instrument(p, SYSTEM, inst.id).status == "in_service"
    with pytest.raises(Conflict) as err:
        verify(world, inst.id, "2026-03-02", doc="C-2", supersedes_id=wrong.id)
    assert err.value.field == "supersedes_id"


def test_effective_chain_is_kept_in_order_even_for_late_entries(world: World) -> None:
    authorise_all(world, [FUEL])
    inst = file(world, "E-1")
    late = verify(world, inst.id, "2026-01-05")
    early = verify(world, inst.id, "2025-07-01")
    with world.platform.reading() as s:
        got = {r.id: r.effective_until for r in s.scalars(select(VerificationRecord))}
    assert got == {early.id: date(2026, 1, 5), late.id: None}
    assert instruments.get_instrument(world.platform, SYSTEM, inst.id).due_on == date(2026, 7, 5)


@pytest.mark.parametrize(
    "who, raw, error, field",
    [
        ("other_institution", {}, NotFound, "id"),  # not authorised and outside its jurisdiction
        ("institution", {"verified_on": "2026-07-01"}, InvalidInput, "verified_on"),
        ("institution", {"conclusion": "maybe"}, InvalidInput, "conclusion"),
        ("institution", {"standard_id": 999}, InvalidInput, "standard_id"),
        ("enterprise", {}, NotAuthorised, "role"),
    ],
)
def test_bad_verifications_are_refused_and_change_nothing(
    world: World, who: str, raw: dict[str, object], error: type[Exception], field: str
) -> None:
    authorise_all(world, [FUEL])
    inst = file(world, "R-1")
    before = count(world, VerificationRecord), count(world, AuditEntry)
    body = {
        "instrument_id": inst.id,
        "verified_on": "2026-03-01",
        "conclusion": "pass",
        "document_no": "X-1",
        **raw,
    }
    with pytest.raises(error) as err:
        verifications.record_verification(world.platform, world.as_(who), body)
    assert err.value.field == field  # type: ignore[attr-defined]
    assert (count(world, VerificationRecord), count(world, AuditEntry)) == before


def test_institution_not_authorised_for_the_item_is_forbidden_inside_its_region(world: World) -> None:
    authorise_all(world, [WATER])
    inst = file(world, "R-2")
    with pytest.raises(NotAuthorised) as err:
        verify(world, inst.id, "2026-03-01")
    assert err.value.field == "institution_id"


def test_standard_must_be_valid_and_cover_the_item(world: World) -> None:
    authorise_all(world, [FUEL])
    p = world.platform
    std = standards.add_standard(
        p,
        world.as_("institution"),
        {
            "name": "燃油加油机检定装置",
            "kind": "social_public",
            "region_code": CITY,
            "quantity": "volume",
            "certificate_no": "[2020]浙量标演证字第001号",
            "certificate_valid_from": "2020-01-01",
            "certificate_valid_until": "2025-12-31",
            "item_codes": [FUEL],
        },
    )
    inst = file(world, "S-1")
    assert verify(world, inst.id, "2025-06-01", standard_id=std.id).standard_id == std.id
    with pytest.raises(InvalidInput) as err:
        verify(world, inst.id, "2026-02-01", standard_id=std.id)  # certificate lapsed
    assert err.value.field == "standard_id"


def test_organisation_credit_code_is_checked(world: World) -> None:
    with pytest.raises(InvalidInput) as err:
        organisations.add_organisation(
            world.platform,
            world.as_("city"),
            credit_code="91339901000000001X",
            name="某公司",
            kind="enterprise",
            region_code=COUNTY_A,
        )
    assert err.value.field == "credit_code"
    org = organisations.add_organisation(
        world.platform,
        world.as_("city"),
        credit_code=credit_code(77),
        name="某公司",
        kind="enterprise",
        region_code=COUNTY_A,
    )
    with pytest.raises(NotFound):
        organisations.get_organisation(world.platform, world.as_("other_city"), org.id)
    with pytest.raises(NotFound):
        organisations.add_organisation(
            world.platform,
            world.as_("other_city"),
            credit_code=credit_code(78),
            name="越权",
            kind="enterprise",
            region_code=COUNTY_A,
        )


def test_update_is_audited_with_before_and_after(world: World) -> None:
    inst = file(world, "U-1")
    instruments.update_instrument(
        world.platform, world.as_("enterprise"), inst.id, {"location": "3 号枪"}, expected_version=1
    )
    with world.platform.reading() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "update")).one()
    assert entry.before == {"location": "", "row_version": 1} and entry.after == {
        "location": "3 号枪",
        "row_version": 2,
    }
    with pytest.raises(Conflict):
        instruments.update_instrument(
            world.platform, world.as_("enterprise"), inst.id, {"location": "x"}, expected_version=1
        )
    with pytest.raises(InvalidInput) as err:
        instruments.update_instrument(
            world.platform, world.as_("enterprise"), inst.id, {"serial_number": "x"}
        )
    assert err.value.field == "serial_number"


def test_provinces_are_seeded_once(platform: object) -> None:
    from jiliang.services.platform import Platform

    assert isinstance(platform, Platform)
    assert organisations.ensure_provinces(platform) == 34
    assert organisations.ensure_provinces(platform) == 0
    names = {r.code: r.name_zh for r in organisations.list_regions(platform, SYSTEM)}
    assert names["330000"] == "浙江省" and names["000000"] == "全国"


def test_a_newer_catalogue_version_does_not_rewrite_history(world: World) -> None:
    from dataclasses import replace

    from jiliang.domain.catalogue import shipped_catalogue
    from jiliang.services import catalogue as catalogue_service

    authorise_all(world, [FUEL])
    inst = file(world, "H-1")
    old = verify(world, inst.id, "2026-01-05")
    newer = []
    for item in shipped_catalogue():
        rules = tuple(replace(r, period_months=12) if item.item_code == FUEL else r for r in item.rules)
        newer.append(replace(item, version="TEST-2027", rules=rules))
    catalogue_service.load_version(world.platform, newer)
    with pytest.raises(Conflict):
        catalogue_service.load_version(world.platform, newer)
    new = verify(world, inst.id, "2026-06-01")
    again = verifications.get_record(world.platform, SYSTEM, old.id)
    assert (again.catalogue_version, again.due_on) == ("SAMR-2020-42", date(2026, 7, 5))
    assert (new.catalogue_version, new.due_on) == ("TEST-2027", date(2027, 6, 1))
