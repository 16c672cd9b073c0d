"""Remote supervision, stored: devices and credentials, exactly-once ingestion, quarantine, warnings,
the HTTP batch endpoint and the broker's generated files. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from jiliang.api.app import create_app
from jiliang.errors import AuthenticationFailed, Conflict, NotAuthorised, NotFound
from jiliang.services import instruments
from jiliang.services.telemetry import broker, credentials, devices, ingest, queries
from jiliang.services.telemetry.ingest import Message
from jiliang.store.models import AuditEntry, TelemetryDevice, TelemetryReading
from tests.conftest import FIXED_NOW
from tests.factories import COUNTY_A, World, instrument_raw

FUEL = "09.01"


def new_device(world: World, serial: str, device_id: str, who: str = "city", **kw: Any) -> dict[str, Any]:
    inst = instruments.file_instrument(
        world.platform, world.as_("enterprise"), instrument_raw(serial, item_code=FUEL)
    )
    return devices.register_device(
        world.platform,
        world.as_(who),
        instrument_id=inst.id,
        device_id=device_id,
        instrument_type="fuel_dispenser",
        **kw,
    )


def tx(
    device_id: str,
    mid: int,
    minutes: float,
    volume: float = 20.0,
    total: float | None = None,
    events: list[str] | None = None,
) -> dict[str, Any]:
    return {
        "schema": "fuel_dispenser/1",
        "device_id": device_id,
        "message_id": str(mid),
        "device_time": (FIXED_NOW - timedelta(hours=1) + timedelta(minutes=minutes)).isoformat(),
        "values": {
            "volume_l": volume,
            "unit_price_yuan_per_l": 8.0,
            "amount_yuan": round(volume * 8, 2),
            "pulses": round(volume * 100),
            "totaliser_l": total if total is not None else volume * mid,
        },
        "events": events or [],
    }


def mqtt(payload: object, device_id: str) -> Message:
    return Message(json.dumps(payload).encode(), FIXED_NOW, "mqtt", device_id=device_id)


def test_a_device_is_registered_with_a_secret_shown_once(world: World) -> None:
    d = new_device(world, "FD-S1", "FD0001")
    assert d["device_id"] == "FD0001" and d["region_code"] == COUNTY_A and len(d["secret"]) >= 32
    with world.platform.reading() as s:
        stored = s.scalars(select(TelemetryDevice.secret_hash)).one()
    assert stored.startswith("$7$10000$") and d["secret"] not in stored
    assert devices.authenticate_device(world.platform, "FD0001", d["secret"]).device_id == "FD0001"
    with pytest.raises(AuthenticationFailed):
        devices.authenticate_device(world.platform, "FD0001", "wrong")
    with pytest.raises(AuthenticationFailed):
        devices.authenticate_device(world.platform, "nobody", d["secret"])
    with pytest.raises(Conflict):
        new_device(world, "FD-S2", "FD0001")


def test_registration_keeps_to_the_jurisdiction(world: World) -> None:
    with pytest.raises(NotAuthorised):
        new_device(world, "FD-J1", "FDJ1", who="enterprise")
    with pytest.raises(NotFound):
        new_device(world, "FD-J2", "FDJ2", who="other_city")


def test_the_mosquitto_hash_format_verifies() -> None:
    h = credentials.hash_secret("s3cret", salt=b"0123456789ab", iterations=101)
    assert h.split("$")[1:4] == ["7", "101", base64.b64encode(b"0123456789ab").decode()]
    assert credentials.verify_secret("s3cret", h) and not credentials.verify_secret("other", h)
    assert not credentials.verify_secret("s3cret", "$6$garbage")


def stored(world: World) -> int:
    with world.platform.reading() as s:
        return int(s.scalar(select(func.count()).select_from(TelemetryReading)) or 0)


def test_duplicates_and_redeliveries_count_once(world: World) -> None:
    new_device(world, "FD-D1", "FD0002")
    batch = [mqtt(tx("FD0002", i, i), "FD0002") for i in range(1, 6)]
    first = ingest.ingest(world.platform, [*batch, batch[2]])  # a duplicate inside the batch
    assert (first.accepted, first.duplicates, first.quarantined) == (5, 1, 0)
    again = ingest.ingest(world.platform, batch[3:])  # redelivered after a crash before the ack
    assert (again.accepted, again.duplicates) == (0, 2)
    assert stored(world) == 5
    with world.platform.reading() as s:
        assert s.scalars(select(TelemetryDevice.readings_count)).one() == 5


def test_out_of_order_readings_are_placed_by_device_time(world: World) -> None:
    new_device(world, "FD-O1", "FD0003")
    ingest.ingest(world.platform, [mqtt(tx("FD0003", 3, 30), "FD0003")])
    result = ingest.ingest(world.platform, [mqtt(tx("FD0003", i, i * 10), "FD0003") for i in (2, 1)])
    assert result.accepted == 2 and result.late == 2  # stored, and skipped by the sequential detectors
    got = queries.device_readings(world.platform, world.as_("city"), "FD0003")
    assert [r["message_id"] for r in got] == ["1", "2", "3"]


def test_bad_payloads_are_quarantined_with_the_reason_and_counted(world: World) -> None:
    new_device(world, "FD-Q1", "FD0004")
    bad_value = tx("FD0004", 2, 2)
    bad_value["values"]["volume_l"] = -5
    result = ingest.ingest(
        world.platform,
        [
            Message(b"{not json", FIXED_NOW, "mqtt", device_id="FD0004"),
            mqtt(bad_value, "FD0004"),
            mqtt(tx("FD0005", 3, 3), "FD0004"),  # publishing as another device
            mqtt(tx("FD9999", 4, 4), "FD9999"),  # unknown device
            mqtt(tx("FD0004", 1, 1), "FD0004"),  # the good one still goes in
        ],
    )
    assert (result.accepted, result.quarantined) == (1, 4)
    counts = {
        (c["field"], c["reason"][:8].strip(), c["count"])
        for c in queries.quarantine_counts(world.platform, world.as_("city"))
    }
    assert counts == {
        ("payload", "不是 JSON", 1),
        ("values.volume_l", "超出可能范围 [", 1),
        ("device_id", "设备只能以自身身", 1),
        ("device_id", "未登记或已停用的", 1),
    }
    with pytest.raises(NotAuthorised):
        queries.quarantine_counts(world.platform, world.as_("enterprise"))


def test_a_persisting_fault_is_one_warning_cleared_when_it_ends(world: World) -> None:
    new_device(world, "FD-W1", "FD0006")
    total = 0.0
    msgs = []
    for i in range(1, 9):
        total += 10 + i  # different sizes: not a repeated (stuck) transaction
        events = ["seal_opened"] if i == 2 else ["seal_closed"] if i == 7 else []
        msgs.append(mqtt(tx("FD0006", i, i, volume=10 + i, total=total, events=events), "FD0006"))
    ingest.ingest(world.platform, msgs[:4])
    mid = queries.list_warnings(world.platform, world.as_("city"), status="active")
    assert [(w["condition"], w["raised_message_id"]) for w in mid] == [("seal_opened", "2")]
    ingest.ingest(world.platform, msgs[4:])
    ws = queries.list_warnings(world.platform, world.as_("city"), device_id="FD0006")
    assert len(ws) == 1 and ws[0]["status"] == "cleared" and ws[0]["cleared_message_id"] == "7"
    assert ws[0]["evidence"]["events"] == ["seal_opened"]
    assert queries.list_warnings(world.platform, world.as_("other_city")) == []


def basic(device_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{device_id}:{secret}".encode()).decode()}


def test_the_http_batch_endpoint_takes_a_gateways_readings(world: World) -> None:
    gw = new_device(world, "GW-1", "GW0001")
    new_device(world, "FD-H1", "FD0007", gateway_device_id="GW0001")
    new_device(world, "FD-H2", "FD0008")
    with TestClient(create_app(world.platform)) as client:
        body = {"readings": [tx("FD0007", 1, 1), tx("FD0007", 2, 2), tx("FD0007", 2, 2), tx("FD0008", 1, 1)]}
        r = client.post("/api/v1/telemetry/readings", json=body, headers=basic("GW0001", gw["secret"]))
        assert r.status_code == 200, r.text
        got = r.json()
        assert (got["accepted"], got["duplicates"], got["quarantined"]) == (2, 1, 1)
        assert got["refusals"] == [
            {"field": "readings[3].device_id", "reason": "无权代该设备上报 / may not submit for this device"}
        ]
        r = client.post("/api/v1/telemetry/readings", json=body, headers=basic("GW0001", "wrong"))
        assert r.status_code == 401
        r = client.get("/api/v1/telemetry/schemas/water_meter/1")
        assert r.status_code == 200 and r.json()["properties"]["schema"] == {"const": "water_meter/1"}
        token = {"Authorization": f"Bearer {world.tokens['city']}"}
        assert [d["device_id"] for d in client.get("/api/v1/telemetry/devices", headers=token).json()] == [
            "FD0007",
            "FD0008",
            "GW0001",
        ]


def test_the_broker_files_let_a_device_write_only_its_own_topic(world: World) -> None:
    new_device(world, "FD-B1", "FD0009")
    files = broker.render(
        world.platform,
        world.as_("admin"),
        ingester_user="ingester",
        ingester_hash=credentials.hash_secret("x"),
    )
    assert files.acl_file.splitlines()[3:] == [
        "user ingester",
        "topic read jiliang/v1/+/+/+/readings",
        "topic read jiliang/v1/+/+/+/status",
        "",
        "user FD0009",
        f"topic write jiliang/v1/{COUNTY_A}/fuel_dispenser/FD0009/readings",
        f"topic write jiliang/v1/{COUNTY_A}/fuel_dispenser/FD0009/status",
    ]
    lines = files.password_file.splitlines()
    assert [line.split(":")[0] for line in lines] == ["ingester", "FD0009"]
    assert all(line.split(":", 1)[1].startswith("$7$") for line in lines)


def test_a_silent_meter_goes_offline_once_and_its_next_reading_clears_it(world: World) -> None:
    inst = instruments.file_instrument(
        world.platform, world.as_("enterprise"), instrument_raw("EM-OFF", item_code=FUEL)
    )
    devices.register_device(
        world.platform,
        world.as_("city"),
        instrument_id=inst.id,
        device_id="EM0001",
        instrument_type="electricity_meter",
    )

    def reading(i: int, at: Any) -> Message:
        body = {
            "schema": "electricity_meter/1",
            "device_id": "EM0001",
            "message_id": str(i),
            "device_time": at.isoformat(),
            "values": {"energy_kwh": 100.0 + i},
        }
        return Message(json.dumps(body).encode(), FIXED_NOW, "mqtt", device_id="EM0001")

    ingest.ingest(world.platform, [reading(1, FIXED_NOW - timedelta(hours=2))])
    assert ingest.check_offline(world.platform) == 1  # two hours silent: more than 4 x 15 min
    assert ingest.check_offline(world.platform) == 0  # still offline: not raised again
    ingest.ingest(world.platform, [reading(2, FIXED_NOW - timedelta(minutes=1))])
    ws = queries.list_warnings(world.platform, world.as_("city"), device_id="EM0001")
    offline = [w for w in ws if w["condition"] == "offline"]
    assert len(offline) == 1 and offline[0]["status"] == "cleared"


def test_registration_is_audited_without_the_secret_and_ingestion_adds_no_device_audit_noise(
    world: World,
) -> None:
    new_device(world, "FD-A1", "FD0010")
    ingest.ingest(
        world.platform,
        [
            mqtt(tx("FD0010", i, i, volume=10 + i, total=sum(range(11, 11 + i))), "FD0010")
            for i in range(1, 4)
        ],
    )
    with world.platform.reading() as s:
        entries = s.scalars(select(AuditEntry).where(AuditEntry.object_type == "telemetry_devices")).all()
    assert [(e.action, e.actor_name) for e in entries] == [("create", "city")]
    after = entries[0].after or {}
    assert after["device_id"] == "FD0010" and "secret_hash" not in after and "detector_state" not in after


def test_birth_and_death_raise_offline_at_once_and_clear_it(world: World) -> None:
    new_device(world, "FD-P1", "FD0011")
    assert ingest.presence(world.platform, [("FD0011", b"offline", FIXED_NOW)]) == (1, 0)
    assert ingest.presence(world.platform, [("FD0011", b"offline", FIXED_NOW)]) == (0, 0)  # redelivered
    assert ingest.presence(world.platform, [("FD0011", b"online", FIXED_NOW)]) == (0, 1)
    assert ingest.presence(
        world.platform, [("FD0011", b"asleep", FIXED_NOW), ("nobody", b"online", FIXED_NOW)]
    ) == (0, 0)
    ws = queries.list_warnings(world.platform, world.as_("city"), device_id="FD0011")
    assert [(w["condition"], w["status"]) for w in ws] == [("offline", "cleared")]
    counts = queries.quarantine_counts(world.platform, world.as_("city"))
    assert sorted((c["field"], c["count"]) for c in counts) == [("status", 1), ("status", 1)]
