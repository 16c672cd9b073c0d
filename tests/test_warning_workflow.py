"""The warning workflow (预警 → 处置) end to end on SQLite and PostgreSQL: a detector's warning is
assigned, inspected, disposed and closed, and the registry, the credit record, the transparency log and
the outbox change with it; bad steps are refused naming why; another region's warning is not found; an
energy imbalance enters the same workflow; the risk list and its CSV."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from jiliang.errors import InvalidInput, NotAuthorised, NotFound
from jiliang.services import reminders
from jiliang.services.energy import readings
from jiliang.services.platform import Platform
from jiliang.services.telemetry import ingest
from jiliang.services.warnings import queries, workflow
from jiliang.store.models import (
    CreditEventRow,
    EnforcementCase,
    Instrument,
    LogQueueEntry,
    OutboxMessage,
    TelemetryWarning,
    WarningAction,
)
from jiliang.telemetry.workflow import WorkflowRefused
from tests.factories import COUNTY_A, World, authorise_all
from tests.test_energy_services import _csv, plant, readings_csv
from tests.test_registry import verify
from tests.test_telemetry_ingest import mqtt, new_device, tx

__all__ = ["plant"]  # the energy plant fixture


def _seal_warning(world: World, serial: str, device_id: str) -> int:
    """A dispenser whose seal is opened and stays open: one critical warning, still active."""
    new_device(world, serial, device_id)
    total, msgs = 0.0, []
    for i in range(1, 6):
        total += 10 + i
        events = ["seal_opened"] if i == 2 else []
        msgs.append(mqtt(tx(device_id, i, i, volume=10 + i, total=total, events=events), device_id))
    ingest.ingest(world.platform, msgs)
    with world.platform.reading() as s:
        return int(
            s.scalars(
                select(TelemetryWarning.id)
                .where(TelemetryWarning.condition == "seal_opened")
                .order_by(TelemetryWarning.id.desc())
            ).first()
            or 0
        )


def _count(world: World, model: type, *where: Any) -> int:
    with world.platform.reading() as s:
        return int(s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def _leaves(world: World, kind: str) -> int:
    return _count(world, LogQueueEntry, LogQueueEntry.kind == kind)


def test_a_warning_is_worked_to_closure_and_changes_registry_credit_log_and_outbox(world: World) -> None:
    p, city = world.platform, world.as_("city")
    reminders.add_webhook(p, world.as_("enterprise"), url="https://owner.example/hook")
    wid = _seal_warning(world, "FD-WF1", "FDWF1")
    w = queries.get_warning(p, city, wid)
    assert (w["state"], w["severity"], w["status"], w["source"]) == ("new", "critical", "active", "telemetry")
    raised = datetime.fromisoformat(w["raised_at"])
    assert datetime.fromisoformat(w["due_at"]) == raised + timedelta(hours=72)  # the critical deadline
    assert w["owner_id"] == world.enterprise_id and w["region_code"] == COUNTY_A
    assert (
        w["series"]["kind"] == "readings" and [pt["trigger"] for pt in w["series"]["points"]].count(True) == 1
    )
    assert _leaves(world, "supervision_warning") == 1
    assert _count(world, OutboxMessage, OutboxMessage.topic == "warning.raised") == 1
    assert w["allowed"] == ["assign", "dismiss"]
    inspector = world.as_("city").user_id
    assert any(a["id"] == inspector for a in w["assignees"])

    with pytest.raises(WorkflowRefused) as err:  # skipping the inspection
        workflow.act(p, city, wid, "dispose", {"disposal": "sealed"})
    assert err.value.field == "action" and "不能" in err.value.message
    with pytest.raises(WorkflowRefused) as err:  # the seal is still open: it cannot be dismissed unseen
        workflow.act(p, city, wid, "dismiss", {"note": "误报"})
    assert "持续" in err.value.message
    with pytest.raises(InvalidInput) as err:  # an inspector outside the region
        workflow.act(p, city, wid, "assign", {"assignee_id": world.as_("other_city").user_id})
    assert err.value.field == "assignee_id"

    w = workflow.act(p, city, wid, "assign", {"assignee_id": inspector, "due_at": "2099-01-01"})
    assert w["state"] == "assigned" and w["assignee"] == "city"
    mine = queries.list_warnings(p, city, assigned_to_me=True)
    assert [i["id"] for i in mine["items"]] == [wid]
    assert queries.list_warnings(p, world.as_("province"), assigned_to_me=True)["items"] == []

    with pytest.raises(WorkflowRefused) as err:
        workflow.act(p, city, wid, "inspect", {"confirmed": "true"})
    assert err.value.field == "findings"
    with pytest.raises(InvalidInput) as err:
        workflow.act(
            p, city, wid, "inspect", {"findings": "铅封被破坏", "confirmed": "true", "measured_error": "x"}
        )
    assert err.value.field == "measured_error"
    assert _count(world, CreditEventRow) == 0  # nothing half-stored by the refused steps
    w = workflow.act(
        p,
        city,
        wid,
        "inspect",
        {"findings": "铅封被破坏，编码器接线改动", "confirmed": "true", "measured_error": "-0.8"},
    )
    assert w["state"] == "inspected" and w["confirmed"] is True and w["measured_error"] == -0.8
    with p.reading() as s:
        ev = s.scalars(select(CreditEventRow)).all()
    assert [(e.kind, e.source_type, e.source_id, e.organisation_id) for e in ev] == [
        ("remote_warning", "warning", str(wid), world.enterprise_id)
    ]
    with pytest.raises(WorkflowRefused) as err:  # confirmed: dispose before closing
        workflow.act(p, city, wid, "close", {})
    assert "先处置" in err.value.message
    with pytest.raises(WorkflowRefused) as err:
        workflow.act(p, city, wid, "dispose", {"disposal": "burnt"})
    assert err.value.field == "disposal"

    w = workflow.act(p, city, wid, "dispose", {"disposal": "sealed", "note": "现场封存"})
    assert w["state"] == "disposed" and w["instrument_status"] == "suspended"
    with p.reading() as s:
        inst = s.get(Instrument, w["instrument_id"])
        assert inst is not None and inst.status == "suspended"
    assert _leaves(world, "supervision_disposal") == 1
    w = workflow.act(p, city, wid, "close", {"note": "已封存，待修理后检定"})
    assert w["state"] == "closed" and not w["overdue"] and w["allowed"] == []
    assert _leaves(world, "supervision_disposal") == 2
    assert [s["action"] for s in w["steps"]] == ["assign", "inspect", "dispose", "close"]
    topics = {m for (m,) in _rows(world, select(OutboxMessage.topic))}
    assert {
        "warning.raised",
        "warning.assign",
        "warning.inspect",
        "warning.dispose",
        "warning.close",
    } <= topics
    with pytest.raises(WorkflowRefused):  # closed is final
        workflow.act(p, city, wid, "assign", {"assignee_id": inspector})


def _rows(world: World, stmt: Any) -> list[Any]:
    with world.platform.reading() as s:
        return list(s.execute(stmt).all())


def test_another_regions_warning_is_not_found_and_roles_are_checked(world: World) -> None:
    p = world.platform
    wid = _seal_warning(world, "FD-WF2", "FDWF2")
    for who in ("other_city", "county_b"):
        with pytest.raises(NotFound):
            queries.get_warning(p, world.as_(who), wid)
        with pytest.raises(NotFound):
            workflow.act(p, world.as_(who), wid, "assign", {"assignee_id": world.as_(who).user_id})
        assert queries.list_warnings(p, world.as_(who))["total"] == 0
    with pytest.raises(NotAuthorised):
        workflow.act(p, world.as_("enterprise"), wid, "dismiss", {"note": "x"})
    assert queries.get_warning(p, world.as_("enterprise"), wid)["id"] == wid  # the owner reads its own
    with pytest.raises(NotFound):
        queries.get_warning(p, world.as_("other_enterprise"), wid)
    with pytest.raises(NotFound):
        workflow.act(p, world.as_("city"), 999_999, "assign", {})
    assert _count(world, WarningAction) == 0


def test_a_penalised_disposal_opens_a_case_and_repair_needs_a_new_verification(world: World) -> None:
    p, city = world.platform, world.as_("city")
    uid = city.user_id
    w1 = _seal_warning(world, "FD-WF3", "FDWF3")
    for step, data in (
        ("assign", {"assignee_id": uid}),
        ("inspect", {"findings": "作弊芯片", "confirmed": "yes"}),
        ("dispose", {"disposal": "penalised", "note": "移送立案"}),
    ):
        w = workflow.act(p, city, w1, step, data)
    assert w["case_id"] is not None
    with p.reading() as s:
        case = s.get(EnforcementCase, w["case_id"])
        assert case is not None and (case.source_type, case.source_id) == ("warning", str(w1))
        assert case.organisation_id == world.enterprise_id
    w2 = _seal_warning(world, "FD-WF4", "FDWF4")
    for step, data in (
        ("assign", {"assignee_id": uid}),
        ("inspect", {"findings": "示值偏差", "confirmed": "true", "measured_error": "0.6"}),
        ("dispose", {"disposal": "repaired"}),
    ):
        w = workflow.act(p, city, w2, step, data)
    # repaired: out of service until a passing verification returns it (re-verification due)
    assert w["instrument_status"] == "suspended"
    authorise_all(world, ["09.01"])
    verify(world, w["instrument_id"], p.today().isoformat())
    assert queries.get_warning(p, city, w2)["instrument_status"] == "in_service"


def test_an_unconfirmed_warning_is_closed_without_disposal_and_overdue_is_flagged(world: World) -> None:
    p, city = world.platform, world.as_("city")
    wid = _seal_warning(world, "FD-WF5", "FDWF5")
    with p.unit_of_work() as s:  # its deadline has passed
        row = s.get(TelemetryWarning, wid)
        assert row is not None
        row.due_at = p.now() - timedelta(hours=1)
    over = queries.list_warnings(p, city, overdue=True)
    assert [i["id"] for i in over["items"]] == [wid] and over["items"][0]["overdue"]
    workflow.act(p, city, wid, "assign", {"assignee_id": city.user_id})
    w = workflow.act(p, city, wid, "inspect", {"findings": "铅封完好，设备上报错误", "confirmed": "false"})
    with pytest.raises(WorkflowRefused) as err:
        workflow.act(p, city, wid, "dispose", {"disposal": "adjusted"})
    assert "无需处置" in err.value.message
    w = workflow.act(p, city, wid, "close", {"note": "误报"})
    assert w["state"] == "closed" and _count(world, CreditEventRow) == 0
    assert queries.list_warnings(p, city, overdue=True)["total"] == 0


def test_the_risk_list_counts_by_region_and_type_and_exports_csv(world: World) -> None:
    p, city = world.platform, world.as_("city")
    _seal_warning(world, "FD-WF6", "FDWF6")
    rows = queries.risk_list(p, city)
    assert len(rows) == 1
    r = rows[0]
    assert (r["region_code"], r["item_code"], r["open"], r["critical_open"], r["level"]) == (
        COUNTY_A,
        "09.01",
        1,
        1,
        "high",
    )
    sink = io.BytesIO()
    assert queries.export_risk_list(p, city, "", sink) == 1
    text = sink.getvalue().decode("utf-8-sig").splitlines()
    assert (
        text[0].startswith("区划代码,区划,器具类别代码")
        and text[1].startswith(f"{COUNTY_A},")
        and text[1].endswith(",高")
    )
    assert queries.risk_list(p, world.as_("other_city")) == []
    with pytest.raises(NotAuthorised):
        queries.risk_list(p, world.as_("enterprise"))


def test_an_energy_imbalance_enters_the_same_workflow_once_while_it_persists(
    plant: tuple[World, int, dict[str, int]],
) -> None:
    world, unit_id, _ids = plant
    p, ent, city = world.platform, world.as_("enterprise"), world.as_("city")
    start = date(2026, 10, 1)
    readings.upload_readings(
        p, ent, unit_id, _csv(readings_csv(start, 30)), "csv", start, start + timedelta(days=29)
    )
    found = queries.list_warnings(p, city, source="energy")["items"]
    assert [(i["detector"], i["condition"], i["state"], i["severity"]) for i in found] == [
        ("energy_balance", "imbalance:plant:electricity", "new", "warning")
    ]
    w = queries.get_warning(p, city, found[0]["id"])
    assert w["series"]["kind"] == "balance" and w["series"]["points"][0]["role"] == "parent"
    assert w["owner_id"] == world.enterprise_id and w["instrument_id"] is not None
    # the next period is imbalanced too: the same warning persists, none is raised again
    nxt = start + timedelta(days=30)
    readings.upload_readings(
        p, ent, unit_id, _csv(readings_csv(nxt, 30)), "csv", nxt, nxt + timedelta(days=29)
    )
    assert queries.list_warnings(p, city, source="energy")["total"] == 1
    workflow.act(p, city, found[0]["id"], "assign", {"assignee_id": city.user_id})
    assert queries.get_warning(p, city, found[0]["id"])["state"] == "assigned"


def test_the_demo_leaves_warnings_in_every_state(platform: Platform) -> None:
    """Issue 11's demo: devices fed from the seeded synthetic set raise warnings; the city supervisor's
    steps leave one in every state, overdue ones, and the energy imbalance in the same list."""
    from jiliang.demo import build_demo
    from jiliang.services import users
    from tests.test_demo import PASSWORD, SMALL

    summary = build_demo(platform, SMALL, password=PASSWORD, snapshots=False)
    assert summary.warnings is not None and summary.warnings.devices >= 8
    assert set(summary.warnings.states) >= {"new", "assigned", "inspected", "disposed", "closed"}
    _, city = users.login(platform, "city", PASSWORD)
    assert queries.list_warnings(p := platform, city, overdue=True)["total"] >= 1
    assert queries.list_warnings(p, city, source="energy")["total"] == 1
    assert any(r["level"] == "high" for r in queries.risk_list(p, city))


def test_the_json_api_takes_steps_and_hides_other_regions(world: World) -> None:
    from fastapi.testclient import TestClient

    from jiliang.api.app import create_app

    wid = _seal_warning(world, "FD-WF7", "FDWF7")
    city = {"Authorization": f"Bearer {world.tokens['city']}"}
    other = {"Authorization": f"Bearer {world.tokens['other_city']}"}
    with TestClient(create_app(world.platform)) as client:
        listed = client.get("/api/v1/warnings?severity=critical&state=new", headers=city).json()
        assert [i["id"] for i in listed["items"]] == [wid]
        assert client.get(f"/api/v1/warnings/{wid}", headers=other).status_code == 404
        bad = client.post(f"/api/v1/warnings/{wid}/steps", headers=city, json={"action": "close"})
        assert bad.status_code == 422 and bad.json()["error"]["field"] == "action"
        step = {"action": "assign", "assignee_id": world.as_("city").user_id}
        assert client.post(f"/api/v1/warnings/{wid}/steps", headers=other, json=step).status_code == 404
        done = client.post(f"/api/v1/warnings/{wid}/steps", headers=city, json=step)
        assert done.status_code == 200 and done.json()["state"] == "assigned"
        risk = client.get("/api/v1/warnings/risk-list/export", headers=city)
        assert risk.status_code == 200 and risk.content.decode("utf-8-sig").startswith("区划代码")
