"""Remote-supervision warnings reaching the market services (what issue 11's warning workflow calls):
a verified warning becomes one credit event that the grade explains, never counted twice, withdrawn when
the warning proves false; a case opens from a warning id once. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest

from jiliang.domain.access import SYSTEM
from jiliang.errors import Conflict, InvalidInput, NotAuthorised, NotFound
from jiliang.services import organisations
from jiliang.services.market import cases, credit
from tests.factories import COUNTY_A, OTHER_CITY, World, credit_code


def _stall(world: World, k: int = 0, region: str = COUNTY_A) -> int:
    return organisations.add_organisation(
        world.platform,
        SYSTEM,
        credit_code=credit_code(300 + k, region),
        name=f"加油站 {k}",
        kind="fuel_station",
        region_code=region,
    ).id


def test_a_verified_warning_is_one_explained_credit_event(world: World) -> None:
    org = _stall(world)
    city = world.as_("city")
    before = credit.organisation_grade(world.platform, city, org)
    first = credit.add_warning_event(
        world.platform,
        city,
        organisation_id=org,
        warning_id="W-2026-0007",
        warning_kind="tampering",
        occurred_on=date(2026, 6, 1),
    )
    assert first["created"] and first["kind"] == "remote_warning" and first["source_type"] == "warning"
    assert "tampering" in first["note"]
    # The workflow may call again (a retry, a second confirmation): not counted twice.
    again = credit.add_warning_event(
        world.platform,
        city,
        organisation_id=org,
        warning_id="W-2026-0007",
        warning_kind="tampering",
        occurred_on=date(2026, 6, 1),
    )
    assert not again["created"] and again["id"] == first["id"]
    after = credit.organisation_grade(world.platform, city, org)
    # 100 − 3 by the default policy, and the explanation names the warning.
    points = credit.POLICY.points["remote_warning"]  # −3 by the default policy
    assert after["score"] == pytest.approx(before["score"] + points)
    line = next(ln for ln in after["lines"] if ln["ref"] == "warning:W-2026-0007")
    assert line["kind"] == "remote_warning" and line["counted"] == points
    # Found false after all: withdrawn, the grade is back.
    assert credit.withdraw_warning_event(world.platform, city, org, "W-2026-0007") == 1
    assert credit.organisation_grade(world.platform, city, org)["score"] == before["score"]


def test_warning_events_are_refused_precisely(world: World) -> None:
    org = _stall(world)
    other = _stall(world, 1, OTHER_CITY)
    city = world.as_("city")
    args = {"organisation_id": org, "warning_id": "W-1", "warning_kind": "drift", "occurred_on": date(2026, 6, 1)}
    with pytest.raises(InvalidInput) as err:
        credit.add_warning_event(world.platform, city, **{**args, "warning_id": " "})
    assert err.value.field == "warning_id"
    with pytest.raises(InvalidInput) as err:
        credit.add_warning_event(world.platform, city, **{**args, "warning_kind": ""})
    assert err.value.field == "warning_kind"
    with pytest.raises(InvalidInput) as err:
        credit.add_warning_event(world.platform, city, **{**args, "occurred_on": date(2030, 1, 1)})
    assert err.value.field == "occurred_on"
    with pytest.raises(NotFound):  # another city's organisation: not found
        credit.add_warning_event(world.platform, city, **{**args, "organisation_id": other})
    with pytest.raises(NotAuthorised):
        credit.add_warning_event(world.platform, world.as_("enterprise"), **args)


def test_a_case_opens_from_a_warning_once(world: World) -> None:
    from tests.test_warning_workflow import _seal_warning

    warning_id = _seal_warning(world, "FD-MW1", "FDMW1")
    city = world.as_("city")
    case = cases.open_case_from_warning(
        world.platform, city, warning_id=str(warning_id), organisation_id=_stall(world), summary="加油机疑似作弊"
    )
    # the case is about the warning's owner, not whichever organisation the caller names
    assert case["source_type"] == "warning" and case["source_id"] == str(warning_id)
    assert case["organisation_id"] == world.enterprise_id and case["status"] == "filed"
    with pytest.raises(Conflict) as err:
        cases.open_case_from_warning(world.platform, city, warning_id=str(warning_id), organisation_id=0)
    assert err.value.field == "source_id"
    with pytest.raises(NotFound):  # no such warning
        cases.open_case(world.platform, city, {"source_type": "warning", "source_id": "999999"})
    with pytest.raises(NotFound):  # a warning outside the caller's jurisdiction
        cases.open_case_from_warning(
            world.platform, world.as_("other_city"), warning_id=str(warning_id), organisation_id=0
        )
