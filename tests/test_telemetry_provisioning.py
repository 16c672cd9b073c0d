"""Bulk device provisioning (services/telemetry/provisioning.py): whole or nothing with a per-row report,
secrets once, jurisdiction, audit, the broker's files regenerated, the API (JSON and CSV) and the CLI.
Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from jiliang.api.app import create_app
from jiliang.domain.places import registry_code
from jiliang.errors import ImportRefused, NotAuthorised
from jiliang.services import instruments
from jiliang.services.telemetry import broker, credentials, devices, provisioning
from jiliang.store.models import AuditEntry, TelemetryDevice
from tests.factories import COUNTY_A, COUNTY_B, OTHER_CITY, World, instrument_raw

FUEL = "09.01"


def file_instruments(world: World, *serials: str, region: str | None = None) -> list[int]:
    out = []
    for serial in serials:
        raw = instrument_raw(serial, item_code=FUEL)
        who = "enterprise"
        if region is not None:
            raw = instrument_raw(serial, item_code=FUEL, region=region, owner_id=world.other_enterprise_id)
            who = "admin"
        out.append(instruments.file_instrument(world.platform, world.as_(who), raw).id)
    return out


def device_count(world: World) -> int:
    with world.platform.reading() as s:
        return int(s.scalar(select(func.count()).select_from(TelemetryDevice)) or 0)


def test_a_file_of_devices_is_provisioned_with_secrets_once_and_audited(world: World, tmp_path: Path) -> None:
    ids = file_instruments(world, "P-1", "P-2", "P-3")
    code = registry_code(COUNTY_A, ids[2])
    (tmp_path / "passwords").write_text("jiliang-ingester:$7$101$c2FsdA==$a2V5\n", encoding="utf-8")
    rows = [
        {"device_id": "GW1", "instrument_type": "electricity_meter", "instrument_id": ids[0]},
        {"device_id": "FD1", "instrument_type": "fuel_dispenser", "serial_number": "P-2", "k_factor": "200"},
        {
            "device_id": "FD2",
            "instrument_type": "fuel_dispenser",
            "registry_code": code.lower(),  # 器具登记码, as typed
            "gateway_device_id": "GW1",
        },
    ]
    out = provisioning.provision(world.platform, world.as_("city"), rows, broker_dir=tmp_path)
    assert out["provisioned"] == 3 and [d["device_id"] for d in out["devices"]] == ["GW1", "FD1", "FD2"]
    fd1 = out["devices"][1]
    assert fd1["instrument_id"] == ids[1] and fd1["profile"] == {"k_factor": 200.0}
    assert out["devices"][2]["instrument_id"] == ids[2]
    assert fd1["readings_topic"] == broker.readings_topic(fd1["region_code"], "fuel_dispenser", "FD1")
    sheet = list(csv.DictReader(io.StringIO(out["credentials_csv"])))
    assert [r["device_id"] for r in sheet] == ["GW1", "FD1", "FD2"]
    assert all(r["secret"][0].isalnum() for r in sheet)  # never a spreadsheet formula
    for r in sheet:
        assert (
            devices.authenticate_device(world.platform, r["device_id"], r["secret"]).device_id
            == r["device_id"]
        )
    assert devices.authenticate_device(world.platform, "GW1", sheet[0]["secret"]).may_submit_for == {
        "GW1",
        "FD2",
    }
    with world.platform.reading() as s:
        hashes = s.scalars(select(TelemetryDevice.secret_hash)).all()
        audit = s.scalars(select(AuditEntry).where(AuditEntry.object_type == "telemetry_devices")).all()
    assert not any(r["secret"] in h for r in sheet for h in hashes)
    assert [(e.action, e.actor_name) for e in audit] == [("create", "city")] * 3
    assert all("secret_hash" not in (e.after or {}) for e in audit)
    # The broker's files now carry the new devices and still the ingester account.
    pw = (tmp_path / "passwords").read_text(encoding="utf-8")
    acl = (tmp_path / "acl").read_text(encoding="utf-8")
    assert pw.startswith("jiliang-ingester:$7$101$") and "\nFD2:$7$" in pw
    assert f"topic write {fd1['readings_topic']}" in acl and "user jiliang-ingester" in acl


def test_one_bad_row_refuses_the_whole_file_with_a_report_of_every_row(world: World) -> None:
    ids = file_instruments(world, "Q-1", "Q-2")
    good = registry_code(COUNTY_A, ids[0])
    mistyped = good[:-1] + ("Y" if good[-1] != "Y" else "Z")
    outside = file_instruments(world, "Q-X", region=OTHER_CITY)
    devices.register_device(
        world.platform,
        world.as_("city"),
        instrument_id=ids[1],
        device_id="OLD1",
        instrument_type="water_meter",
    )
    rows = [
        {"device_id": "N1", "instrument_type": "fuel_dispenser", "instrument_id": ids[0]},  # fine alone
        {"device_id": "N1", "instrument_type": "fuel_dispenser", "serial_number": "nope"},
        {"device_id": "bad/id", "instrument_type": "teapot", "mpe": "-1"},
        {"device_id": "OLD1", "instrument_type": "water_meter", "instrument_id": ids[1]},
        {"device_id": "N4", "instrument_type": "fuel_dispenser", "instrument_id": outside[0]},
        {
            "device_id": "N5",
            "instrument_type": "fuel_dispenser",
            "instrument_id": ids[0],
            "gateway_device_id": "N9",
        },
        {"device_id": "N6", "instrument_type": "fuel_dispenser", "instrument_id": ids[0], "colour": "red"},
        {"device_id": "N7", "instrument_type": "fuel_dispenser", "registry_code": mistyped},
        {
            "device_id": "N8",
            "instrument_type": "fuel_dispenser",
            "registry_code": registry_code(COUNTY_B, ids[0]),
        },
    ]
    with pytest.raises(ImportRefused) as exc:
        provisioning.provision(world.platform, world.as_("city"), rows, first_row=2)
    got = {(p.row, p.field) for p in exc.value.problems}
    assert {
        (3, "device_id"),  # repeats row 2
        (3, "serial_number"),  # not found
        (4, "device_id"),
        (4, "instrument_type"),
        (4, "mpe"),
        (4, "instrument_id"),  # neither id nor serial
        (5, "device_id"),  # already registered
        (5, "instrument_id"),  # already has a device
        (6, "instrument_id"),  # outside the jurisdiction reads as not found
        (7, "instrument_id"),  # same instrument as row 2
        (7, "gateway_device_id"),
        (8, "colour"),
        (9, "registry_code"),  # the check character does not match
        (10, "instrument_id"),  # a valid code whose region is not the instrument's
    } <= got
    assert exc.value.rows_read == 9
    assert device_count(world) == 1  # nothing stored
    with pytest.raises(NotAuthorised):
        provisioning.provision(world.platform, world.as_("enterprise"), rows[:1])


def test_a_serial_number_that_names_two_instruments_needs_the_manufacturer_or_model(world: World) -> None:
    a = instrument_raw("DUP-1", item_code=FUEL)
    b = {**instrument_raw("DUP-1", item_code=FUEL), "model": "M-2"}
    instruments.file_instrument(world.platform, world.as_("enterprise"), a)
    second = instruments.file_instrument(world.platform, world.as_("enterprise"), b)
    row = {"device_id": "D1", "instrument_type": "fuel_dispenser", "serial_number": "DUP-1"}
    with pytest.raises(ImportRefused) as exc:
        provisioning.provision(world.platform, world.as_("city"), [row])
    assert exc.value.problems[0].field == "serial_number" and "several" in exc.value.problems[0].reason
    out = provisioning.provision(world.platform, world.as_("city"), [{**row, "model": "M-2"}])
    assert out["devices"][0]["instrument_id"] == second.id


def test_the_api_takes_json_rows_and_a_csv_upload(world: World) -> None:
    ids = file_instruments(world, "A-1", "A-2", "A-3")
    token = {"Authorization": f"Bearer {world.tokens['city']}"}
    with TestClient(create_app(world.platform)) as client:
        r = client.post(
            "/api/v1/telemetry/devices/bulk",
            json={"rows": [{"device_id": "J1", "instrument_type": "ev_charger", "instrument_id": ids[0]}]},
            headers=token,
        )
        assert r.status_code == 201, r.text
        assert r.json()["devices"][0]["secret"]
        text = "device_id,instrument_type,serial_number\r\nC1,gas_meter,A-2\r\nC2,weighbridge,A-404\r\n"
        r = client.post(
            "/api/v1/telemetry/devices/bulk.csv",
            files={"file": ("d.csv", text.encode("gb18030"), "text/csv")},
            headers=token,
        )
        assert r.status_code == 422
        problems = r.json()["error"]["problems"]
        assert [(p["row"], p["field"]) for p in problems] == [(3, "serial_number")]
        assert device_count(world) == 1
        r = client.post(
            "/api/v1/telemetry/devices/bulk.csv",
            files={
                "file": (
                    "d.csv",
                    "\ufeffdevice_id,instrument_type,serial_number\nC1,gas_meter,A-2\n".encode(),
                    "text/csv",
                )
            },
            headers=token,
        )
        assert r.status_code == 201 and r.json()["provisioned"] == 1
        r = client.post(
            "/api/v1/telemetry/devices/bulk.csv",
            files={"file": ("d.csv", b"device_id,colour\nX,red\n", "text/csv")},
            headers=token,
        )
        assert r.status_code == 422 and r.json()["error"]["field"] == "header.colour"


def test_the_cli_writes_the_credentials_sheet(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jiliang.cli import app

    file_instruments(world, "CLI-1")
    src = tmp_path / "devices.csv"
    src.write_text("device_id,instrument_type,serial_number\nCLI1,heat_meter,CLI-1\n", encoding="utf-8")
    monkeypatch.setenv(
        "JILIANG_DATABASE_URL", str(world.platform.engine.url.render_as_string(hide_password=False))
    )
    result = CliRunner().invoke(app, ["telemetry", "provision", str(src), "--user", "city"])
    assert result.exit_code == 0, result.output
    sheet = (tmp_path / "devices.csv.credentials.csv").read_text(encoding="utf-8").splitlines()
    assert sheet[0].startswith("device_id,secret") and sheet[1].startswith("CLI1,")
    assert (tmp_path / "devices.csv.credentials.csv").stat().st_mode & 0o077 == 0
    secret = sheet[1].split(",")[1]
    assert credentials.verify_secret(secret, _hash_of(world, "CLI1"))
    again = CliRunner().invoke(app, ["telemetry", "provision", str(src), "--user", "city"])
    assert again.exit_code == 2  # the sheet exists: not overwritten, nothing done


def _hash_of(world: World, device_id: str) -> str:
    with world.platform.reading() as s:
        return s.scalars(
            select(TelemetryDevice.secret_hash).where(TelemetryDevice.device_id == device_id)
        ).one()
