"""The payloads added for EV chargers, gas and heat meters and weighbridges, and the consistency checks
that apply to them (charger energy vs the reference and the vehicle; weighbridge check loads vs the MPE
of OIML R 76 class III). Pure: no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from jiliang.errors import InvalidInput
from jiliang.telemetry import detectors
from jiliang.telemetry.payloads import SCHEMAS, json_schema, validate
from jiliang.telemetry.profiles import DEFAULTS, profile_for, weighing_mpe

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


def reading(schema: str, i: int, values: dict[str, Any], events: list[str] | None = None) -> Any:
    payload = {
        "schema": schema,
        "device_id": "D1",
        "message_id": str(i),
        "device_time": (NOW - timedelta(days=5) + timedelta(hours=i)).isoformat(),
        "values": values,
        "events": events or [],
    }
    return validate(payload, received_at=NOW, device_id="D1")


def conditions(findings: list[detectors.Finding]) -> list[tuple[str, str, str]]:
    return [(f.key, f.transition, f.message_id) for f in findings]


def test_every_type_has_a_schema_a_profile_and_a_json_schema() -> None:
    for name, s in SCHEMAS.items():
        assert s.instrument_type in DEFAULTS, name
        js = json_schema(name)
        assert js["properties"]["schema"] == {"const": name}
        assert set(js["properties"]["values"]["required"]) == {v.name for v in s.values if v.required}
    assert {"ev_charger/1", "gas_meter/1", "heat_meter/1", "weighbridge/1"} <= set(SCHEMAS)


def test_new_payloads_refuse_by_field() -> None:
    with pytest.raises(InvalidInput) as e:
        reading("ev_charger/1", 1, {"energy_kwh": 30, "amount_yuan": 30})
    assert e.value.field == "values.unit_price_yuan_per_kwh"
    with pytest.raises(InvalidInput) as e:
        reading("weighbridge/1", 1, {"mass_kg": 12000, "axles": 2.5})
    assert e.value.field == "values.axles"
    with pytest.raises(InvalidInput) as e:
        reading("heat_meter/1", 1, {"energy_kwh": 10, "supply_temp_c": 250})
    assert e.value.field == "values.supply_temp_c"
    with pytest.raises(InvalidInput) as e:
        reading("gas_meter/1", 1, {"volume_m3": 10}, ["cover_opened"])
    assert e.value.field == "events[0]"


def charger(i: int, energy: float, **extra: float) -> dict[str, float]:
    return {
        "energy_kwh": energy,
        "unit_price_yuan_per_kwh": 0.8,
        "service_fee_yuan_per_kwh": 0.4,
        "amount_yuan": round(energy * 1.2, 2),
        **extra,
    }


def test_charger_energy_against_the_reference_and_the_vehicle() -> None:
    p = DEFAULTS["ev_charger"]
    rs = [
        reading("ev_charger/1", 1, charger(1, 30.0, reference_energy_kwh=29.85, vehicle_energy_kwh=29.0)),
        # 1.5 % more than the reference: beyond the ±1 % MPE, a failed check
        reading("ev_charger/1", 2, charger(2, 30.45, reference_energy_kwh=30.0)),
        reading("ev_charger/1", 3, charger(3, 30.0, reference_energy_kwh=30.1)),  # back within: cleared
        # the vehicle got 8 % less than it was sold: a warning, not an MPE verdict
        reading("ev_charger/1", 4, charger(4, 40.0, vehicle_energy_kwh=36.8)),
        reading("ev_charger/1", 5, charger(5, 3.0, vehicle_energy_kwh=2.0)),  # too small to judge
        reading("ev_charger/1", 6, charger(6, 20.0, vehicle_energy_kwh=19.5)),
    ]
    _, out = detectors.detect(rs, None, p)
    got = conditions(out)
    assert ("consistency:reference_energy", "raised", "2") in got
    assert ("consistency:reference_energy", "cleared", "3") in got
    assert ("consistency:vehicle_energy", "raised", "4") in got
    assert ("consistency:vehicle_energy", "cleared", "6") in got
    assert not any(k == "consistency:amount" for k, _, _ in got)  # price + service fee per kWh
    raised = next(f for f in out if f.key == "consistency:reference_energy")
    assert raised.severity == "critical" and raised.evidence["error_mpe"] == pytest.approx(1.5)
    # amount not matching energy x (price + fee), and the register not advancing by the session
    bad = [
        reading("ev_charger/1", 1, {**charger(1, 10.0), "register_kwh": 100.0}),
        reading("ev_charger/1", 2, {**charger(2, 10.0), "amount_yuan": 15.0, "register_kwh": 109.0}),
    ]
    keys = {k for k, t, _ in conditions(detectors.detect(bad, None, p)[1]) if t == "raised"}
    assert keys == {"consistency:amount", "consistency:totaliser"}


def test_weighbridge_check_loads_against_the_class_iii_mpe() -> None:
    e = 20.0
    # OIML R 76 class III, in service (twice the verification MPE): 0.5 e to 500 e, 1 e to 2000 e, 1.5 e above
    assert [weighing_mpe(m, e) for m in (0, 10_000, 10_020, 40_000, 40_020, 60_000)] == [
        20,
        20,
        40,
        40,
        60,
        60,
    ]
    assert weighing_mpe(10_000, e, in_service=False) == 10
    p = DEFAULTS["weighbridge"]
    rs = [
        reading("weighbridge/1", 1, {"mass_kg": 30_020, "check_load_kg": 30_000}),  # 20 kg of ±40
        reading("weighbridge/1", 2, {"mass_kg": 35_000, "zero_kg": 0}),  # a weighing, no check
        reading("weighbridge/1", 3, {"mass_kg": 29_940, "check_load_kg": 30_000}),  # -60 kg of ±40
        reading("weighbridge/1", 4, {"mass_kg": 9_980, "check_load_kg": 10_000}),  # -20 kg of ±20
    ]
    _, out = detectors.detect(rs, None, p)
    assert conditions(out) == [
        ("consistency:check_load", "raised", "3"),
        ("consistency:check_load", "cleared", "4"),
    ]
    assert out[0].evidence["error_kg"] == -60 and out[0].evidence["mpe_kg"] == 40
    # a junction box opened stays critical until it is closed; a calibration change arms the watch
    tampered = [
        reading("weighbridge/1", 5, {"mass_kg": 1000}, ["junction_box_opened"]),
        reading("weighbridge/1", 6, {"mass_kg": 1000}, ["junction_box_closed", "calibration_changed"]),
    ]
    got = conditions(detectors.detect(tampered, None, p)[1])
    assert ("tamper:junction_box_opened", "raised", "5") in got
    assert ("tamper:junction_box_opened", "cleared", "6") in got
    assert ("tamper:calibration_changed", "raised", "6") in got


@pytest.mark.parametrize(
    ("schema", "register", "reference", "use"),
    [
        ("gas_meter/1", "volume_m3", "reference_volume_m3", "flow_m3_per_h"),
        ("heat_meter/1", "energy_kwh", "reference_energy_kwh", "flow_m3_per_h"),
    ],
)
def test_gas_and_heat_meters_run_the_register_rules(
    schema: str, register: str, reference: str, use: str
) -> None:
    kind = schema.split("/")[0]
    p = profile_for(kind)
    step = p.min_reference_step
    rs = []
    reg = ref = 0.0
    for i in range(1, 40):
        ref += step
        reg += step * (1.1 if i > 5 else 1.0)  # 10 % fast from the 6th reading: several MPEs
        events = ["low_battery"] if i == 3 else ["leak"] if i == 4 else []
        rs.append(reading(schema, i, {register: round(reg, 3), reference: round(ref, 3), use: 1.0}, events))
    stuck = [
        reading(schema, 40 + k, {register: round(reg, 3), reference: round(ref + step * k, 3), use: 1.0})
        for k in range(1, 6)
    ]
    _, out = detectors.detect([*rs, *stuck], None, p)
    keys = {f.key for f in out if f.transition == "raised"}
    assert {
        "drift:drift",
        "drift:out_of_tolerance",
        "tamper:low_battery",
        "tamper:leak",
        "values:stuck",
    } <= keys
    assert ("tamper:low_battery", "cleared", "4") in conditions(out)
