"""Online energy-consumption monitoring: meters' readings posted through the real HTTP batch endpoint of
remote supervision (device Basic auth), folded into a Beijing day (services/energy/live.py) and stored
through the period path of uploads. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import io
import math
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from jiliang.api.app import create_app
from jiliang.cli import app as cli_app
from jiliang.energy import daily
from jiliang.services.energy import live, readings, regional, topology, units
from jiliang.services.telemetry import devices
from jiliang.store.models import EnergyPeriod, EnergyReading
from tests.conftest import FIXED_NOW
from tests.console_support import Console
from tests.factories import World
from tests.test_energy_services import HEADER, file_meters

DAY = date(2026, 6, 14)  # FIXED_NOW is 2026-06-15 10:00 in Beijing
START = datetime(2026, 6, 13, 16, 0, tzinfo=UTC)  # 2026-06-14 00:00 +08:00
STEP = {"EM-1": 10.0, "EM-2": 6.0, "EM-4": 3.95}  # kWh per 15 minutes
BASE = {"EM-1": 1000.0, "EM-2": 500.0, "EM-4": 200.0}
MPE = {"EM-1": 0.5, "EM-2": 1.0, "EM-4": 1.0}  # the classes file_meters gives them


def basic(device_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{device_id}:{secret}".encode()).decode()}


def reading(dev: str, mid: str, at: datetime, kwh: float, schema: str = "electricity_meter/1") -> dict[str, Any]:
    key = "energy_kwh" if schema.startswith("electricity") else "volume_m3"
    return {
        "schema": schema,
        "device_id": dev,
        "message_id": mid,
        "device_time": at.isoformat(),
        "values": {key: round(kwh, 6)},
    }


def day_of(serial: str, skip: int | None = None, days_back: int = 0) -> list[dict[str, Any]]:
    """97 register snapshots, 00:00 to 24:00 every 15 minutes (slot ``skip`` left out)."""
    start = START - timedelta(days=days_back)
    return [
        reading(serial, f"{serial}-{days_back}-{k}", start + timedelta(minutes=15 * k), BASE[serial] + STEP[serial] * k)
        for k in range(97)
        if k != skip
    ]


@pytest.fixture
def online(world: World) -> tuple[World, int, dict[str, str]]:
    """A small unit: boundary (EM-1) and two workshops (EM-2, EM-4), each meter a telemetry device."""
    ids = file_meters(world)
    unit_id = int(
        units.register_unit(
            world.platform,
            world.as_("city"),
            {"organisation_id": world.enterprise_id, "energy_types": ["electricity"], "annual_tce": 12_000},
        )["id"]
    )
    tree = HEADER + "\n".join(
        [
            "节点,plant,某化工厂,进出用能单位,,电力,5000,,,",
            "节点,ws1,一车间,主要次级用能单位,plant,电力,800,,,",
            "节点,ws2,二车间,主要次级用能单位,plant,电力,300,,,",
            f"计量点,P-EM1,,,plant,电力,,,{ids['EM-1']},kWh",
            f"计量点,P-EM2,,,ws1,电力,,,{ids['EM-2']},kWh",
            f"计量点,P-EM4,,,ws2,电力,,,{ids['EM-4']},kWh",
        ]
    )
    topology.upload_file(world.platform, world.as_("enterprise"), unit_id, io.BytesIO(tree.encode()), "csv")
    secrets = {
        serial: devices.register_device(
            world.platform,
            world.as_("city"),
            instrument_id=ids[serial],
            device_id=serial,
            instrument_type="electricity_meter",
        )["secret"]
        for serial in STEP
    }
    return world, unit_id, secrets


def post(client: TestClient, serial: str, secret: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    r = client.post("/api/v1/telemetry/readings", json={"readings": rows}, headers=basic(serial, secret))
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


def test_a_day_of_live_readings_is_folded_into_a_period(
    online: tuple[World, int, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    world, unit_id, secrets = online
    with TestClient(create_app(world.platform)) as client:
        a = post(client, "EM-1", secrets["EM-1"], day_of("EM-1"))
        assert (a["accepted"], a["quarantined"]) == (97, 0)
        again = post(client, "EM-1", secrets["EM-1"], day_of("EM-1")[:20])  # a redelivery
        assert (again["accepted"], again["duplicates"]) == (0, 20)
        # EM-2: at 12:00 its clock jumps back an hour (message 2-jump), then it goes on; the jumped reading
        # lands in a slot already filled: a duplicate, not counted, and the jump is flagged
        em2 = day_of("EM-2")
        jump = reading("EM-2", "EM-2-jump", START + timedelta(hours=11), BASE["EM-2"] + STEP["EM-2"] * 48.5)
        post(client, "EM-2", secrets["EM-2"], [*em2[:49], jump, *em2[49:]])
        # EM-4 misses the 08:00 reading; and sends the 12:00 register twice under two message ids
        em4 = day_of("EM-4", skip=32)
        twice = reading("EM-4", "EM-4-again", START + timedelta(hours=12), 999.0)
        post(client, "EM-4", secrets["EM-4"], [*em4[:48], twice, *em4[48:]])  # right after the first
        # a reading in the wrong unit is refused by ingestion with the field; nothing of it stored
        bad = reading("EM-4", "EM-4-wh", START + timedelta(hours=13), 0)
        bad["values"] = {"energy_wh": 4_000_000}
        refused = post(client, "EM-4", secrets["EM-4"], [bad])
        assert refused["accepted"] == 0 and refused["quarantined"] == 1
        assert refused["refusals"][0]["field"] == "readings[0].values.energy_wh"
        # a water-meter payload from an electricity point's device is stored by ingestion, left out here
        water = reading("EM-4", "EM-4-water", START + timedelta(hours=14), 12.0, "water_meter/1")
        assert post(client, "EM-4", secrets["EM-4"], [water])["accepted"] == 1

    city = world.as_("city")
    assert regional.regional_view(world.platform, city)["coverage"]["reporting"] == 0
    result = live.fold_day(world.platform, DAY)
    [u] = result.units
    assert (u.unit_id, u.status, u.points) == (unit_id, "stored", 3)
    assert (u.duplicates, u.clock_jumps, u.wrong_schema) == (2, 1, 1)
    p = readings.get_period(world.platform, city, u.period_id or 0)
    assert p["source"] == "live" and (p["period_start"], p["period_end"]) == ("2026-06-14", "2026-06-14")

    day = {s: 96 * STEP[s] for s in STEP}  # 960, 576, 379.2 kWh: the register's end minus its start
    q = {row["point"]: row for row in p["quality"]}
    assert q["P-EM1"]["flags"] == [] and q["P-EM1"]["slots"] == 96
    assert q["P-EM2"]["flags"] == ["clock_jump", "duplicates"] and q["P-EM2"]["clock_back"] == 1
    assert q["P-EM4"]["flags"] == ["duplicates", "hour_gaps", "wrong_schema"]
    assert q["P-EM4"]["slot_gaps"] == 2 and q["P-EM4"]["exact"] is True  # 07:45–08:00 and 08:00–08:15
    cons = {(c["node"], c["energy_type"]): c["value"] for c in p["consumption"]}
    assert cons[("plant", "electricity")] == pytest.approx(day["EM-1"])
    assert cons[("ws1", "electricity")] == pytest.approx(day["EM-2"])
    assert cons[("ws2", "electricity")] == pytest.approx(day["EM-4"])

    # the balance by hand: d = 960 − (576 + 379.2) = 4.8; u = MPE·x/√3 per meter; tolerance 2·u(d)
    [b] = p["balance"]
    u2 = sum((MPE[s] / 100 * day[s] / math.sqrt(3)) ** 2 for s in STEP)
    assert b["status"] == "balanced"
    assert b["difference"] == pytest.approx(4.8) and b["tolerance"] == pytest.approx(2 * math.sqrt(u2))
    assert p["coal"]["tce_calorific"] == pytest.approx(960 * 0.1229 / 1000)
    assert p["carbon"]["total"] > 0

    hours = p["hourly"]
    assert hours["points"]["P-EM1"] == [pytest.approx(40.0)] * 24
    assert hours["points"]["P-EM4"][7] is None and hours["points"]["P-EM4"][8] is None  # never filled
    assert hours["points"]["P-EM4"][9] == pytest.approx(4 * 3.95)
    ws2 = next(n for n in hours["nodes"] if n["node"] == "ws2")
    assert ws2["hours"][7] is None and ws2["unit"] == "kWh"

    # all boundary meters report online: the unit counts in the coverage indicator
    view = regional.regional_view(world.platform, city, on=date(2026, 6, 15))
    assert (view["coverage"]["reporting"], view["coverage"]["units"]) == (1, 1)
    assert regional.regional_view(world.platform, city, on=date(2026, 6, 20))["coverage"]["reporting"] == 0

    # idempotent: a second fold stores nothing; a reading that arrives after the fold is reported as late
    assert live.fold_day(world.platform, DAY).units[0].status == "already_folded"
    later = FIXED_NOW + timedelta(hours=1)
    monkeypatch.setattr(world.platform, "now", lambda: later)
    with TestClient(create_app(world.platform)) as client:
        late = reading("EM-1", "EM-1-late", START + timedelta(hours=23, minutes=50), 1955.0)
        assert post(client, "EM-1", secrets["EM-1"], [late])["accepted"] == 1
    second = live.fold_day(world.platform, DAY).units[0]
    assert (second.status, second.late, second.period_id) == ("already_folded", 1, u.period_id)
    kept = readings.get_period(world.platform, city, u.period_id or 0)
    assert kept["hourly"]["late"] == 1 and kept["consumption"] == p["consumption"]  # reported, not applied
    with world.platform.reading() as s:
        assert s.scalar(select(func.count()).select_from(EnergyPeriod)) == 1
        assert s.scalar(select(func.count()).select_from(EnergyReading)) == 3


def test_a_day_already_uploaded_is_refused_and_uploads_are_not_online_monitoring(
    online: tuple[World, int, dict[str, str]], console: Console
) -> None:
    world, unit_id, secrets = online
    sheet = "计量点编号,能源种类,日期,消耗量,单位\n" + "\n".join(
        f"{p},电力,2026-06-14,{v},kWh" for p, v in (("P-EM1", 960), ("P-EM2", 576), ("P-EM4", 379.2))
    )
    readings.upload_readings(
        world.platform, world.as_("enterprise"), unit_id, io.BytesIO(sheet.encode()), "csv", DAY, DAY
    )
    city = world.as_("city")
    # the upload is complete, yet the unit is not monitored online
    assert regional.regional_view(world.platform, city, on=date(2026, 6, 15))["coverage"]["reporting"] == 0
    with TestClient(create_app(world.platform)) as client:
        post(client, "EM-1", secrets["EM-1"], day_of("EM-1"))
    [u] = live.fold_day(world.platform, DAY).units
    assert u.status == "overlap" and "2026-06-14" in u.message
    with pytest.raises(Exception, match="not ended"):
        live.fold_day(world.platform, date(2026, 6, 15))
    with world.platform.reading() as s:
        assert s.scalar(select(func.count()).select_from(EnergyPeriod)) == 1
    [up] = readings.list_periods(world.platform, city, unit_id)
    page = console.client_for("city").get(f"/console/supervision/energy/periods/{up['id']}").text
    assert "来源：用能单位上传的文件" in page
    # the day before holds only the reading that closes it (06-14 00:00): nothing measured, nothing stored
    assert live.fold_day(world.platform, date(2026, 6, 13)).units[0].status == "no_readings"
    with TestClient(create_app(world.platform)) as client:
        post(client, "EM-1", secrets["EM-1"], day_of("EM-1", days_back=1)[:-1])
    [u] = live.fold_day(world.platform, date(2026, 6, 13)).units  # now it is measured: folded online
    assert u.status == "stored"
    page = console.client_for("city").get(f"/console/supervision/energy/periods/{u.period_id}?lang=en").text
    assert "Source: online monitoring" in page


def test_the_cli_folds_a_day_and_the_timer_knows_which_days_are_due(
    online: tuple[World, int, dict[str, str]], backend: str
) -> None:
    world, _unit_id, secrets = online
    assert [d.isoformat() for d in live.due_days(world.platform, back=2)] == ["2026-06-13", "2026-06-14"]
    assert live.day_window(DAY) == (START, START + timedelta(days=1))
    with TestClient(create_app(world.platform)) as client:
        post(client, "EM-1", secrets["EM-1"], day_of("EM-1", skip=96))  # no 24:00 reading: a gap
    if backend != "sqlite":  # the command line opens its own platform; one backend is enough for its wiring
        timer = live.LiveFoldTimer(world.platform)  # what `jiliang serve` runs: the due days, then again
        timer.run_once()
        timer.run_once()
        with world.platform.reading() as s:
            assert s.scalars(select(EnergyPeriod.period_start)).all() == [DAY]
        return
    r = CliRunner().invoke(
        cli_app,
        ["--database-url", world.platform.settings.database_url, "energy", "fold-live", "--day", "2026-06-14"],
        env={"COLUMNS": "200"},
    )
    assert r.exit_code == 0, r.output
    assert "stored" in r.output and "readings 96" in r.output
    with world.platform.reading() as s:
        period = s.scalars(select(EnergyPeriod)).one()
    assert period.source == "live" and period.uploaded_by == "energy-live"
    q = {row["point"]: row for row in period.quality}
    assert q["P-EM1"]["flags"] == ["gaps"] and q["P-EM1"]["exact"] is False
    assert "no_data" in q["P-EM2"]["flags"]


def test_register_day_takes_the_register_not_a_fill() -> None:
    import numpy as np

    regs = np.array([[0.0, 1.0, np.nan, 3.0, 4.0], [5.0, 6.0, 7.0, 2.0, 3.0], [np.nan, 1.0, 2.0, 3.0, 4.0]])
    r = daily.register_day(regs)
    assert r.total.tolist() == [4.0, 3.0, 3.0]  # exact; fell once (2 of 3 known intervals); no start
    assert r.exact.tolist() == [True, False, False] and r.backwards.tolist() == [0, 1, 0]
    assert np.isnan(r.intervals[0, 1]) and np.isnan(r.intervals[0, 2])
