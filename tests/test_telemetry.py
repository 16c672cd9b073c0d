"""The pure telemetry engine: payload validation, the detectors, and the reproducible evaluation."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from jiliang.errors import InvalidInput
from jiliang.telemetry import evaluation, synthetic
from jiliang.telemetry.detectors import Finding, Params, State, detect, offline
from jiliang.telemetry.payloads import SCHEMAS, Reading, json_schema, validate
from jiliang.telemetry.profiles import DEFAULTS, profile_for

NOW = datetime(2026, 6, 15, 4, 0, tzinfo=UTC)
DOCS = Path(__file__).parents[1] / "docs" / "telemetry.md"


def payload(**over: Any) -> dict[str, Any]:
    p: dict[str, Any] = {
        "schema": "fuel_dispenser/1",
        "device_id": "FD-1",
        "message_id": "7",
        "device_time": "2026-06-15T12:00:00+08:00",
        "values": {
            "volume_l": 10.0,
            "unit_price_yuan_per_l": 7.85,
            "amount_yuan": 78.5,
            "pulses": 1000,
            "totaliser_l": 1234.5,
        },
        "events": [],
    }
    p.update(over)
    return p


def test_a_valid_payload_becomes_a_typed_reading() -> None:
    r = validate(payload(message_id=7, events=["seal_opened"]), received_at=NOW)
    assert r == Reading(
        "FD-1", "7", datetime(2026, 6, 15, 4, tzinfo=UTC), "fuel_dispenser/1", r.values, ("seal_opened",)
    )
    assert r.values["pulses"] == 1000.0 and r.instrument_type == "fuel_dispenser"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"schema": "fuel_dispenser/9"}, "schema"),
        ({"device_time": "2026-06-15T12:00:00"}, "device_time"),
        ({"device_time": "2026-06-15T12:10:00+08:00"}, "device_time"),  # ten minutes in the future
        ({"device_time": "2026-01-01T00:00:00+08:00"}, "device_time"),
        ({"message_id": ""}, "message_id"),
        ({"events": ["case_opened"]}, "events[0]"),
        ({"extra": 1}, "extra"),
        ({"values": {"volume_l": 10.0}}, "values.unit_price_yuan_per_l"),
        ({"values": {"volume_l": -1.0}}, "values.volume_l"),
        ({"values": {"volume_l": float("nan")}}, "values.volume_l"),
        ({"values": {"volume_l": True}}, "values.volume_l"),
        ({"values": {"energy_kwh": 1.0}}, "values.energy_kwh"),
    ],
)
def test_refusals_name_the_field(change: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as err:
        validate(payload(**change), received_at=NOW, where="readings[3].")
    assert err.value.field == f"readings[3].{field}"
    assert " / " in err.value.message


def test_a_device_publishes_only_as_itself() -> None:
    with pytest.raises(InvalidInput) as err:
        validate(payload(), received_at=NOW, device_id="FD-2")
    assert err.value.field == "device_id"


def test_the_json_schema_is_rendered_from_the_validators_table() -> None:
    for name, s in SCHEMAS.items():
        js = json_schema(name)
        assert js["properties"]["schema"] == {"const": name}
        assert js["properties"]["values"]["required"] == [v.name for v in s.values if v.required]
        assert js["properties"]["events"]["items"]["enum"] == list(s.events)
    assert {s.instrument_type for s in SCHEMAS.values()} >= {
        "fuel_dispenser",
        "price_computing_scale",
        "electricity_meter",
        "water_meter",
    }


def dispenser(i: int, volume: float, pulses: float, total: float, events: tuple[str, ...] = ()) -> Reading:
    values = {
        "volume_l": volume,
        "unit_price_yuan_per_l": 8.0,
        "amount_yuan": round(volume * 8, 2),
        "pulses": pulses,
        "totaliser_l": total,
    }
    return Reading("FD-1", str(i), NOW + timedelta(minutes=10 * i), "fuel_dispenser/1", values, events)


def raised(findings: list[Finding]) -> list[tuple[str, str, str]]:
    return [(f.message_id, f.key, f.transition) for f in findings]


def test_cusum_raises_drift_at_the_sixth_point_of_a_two_mpe_step() -> None:
    # 10.06 L shown for 1000 pulses at K = 100: +0.6 % = +2 MPE. S+ grows by 2 - k = 1.5 per point and
    # passes h = 8 at the sixth point (9.0); the EWMA (lambda 0.1) passes 1 MPE at the seventh
    # (2 x (1 - 0.9^7) = 1.04).
    volumes = [round((10 + i) * 1.006, 3) for i in range(8)]  # different sizes: not a repeated transaction
    readings = [dispenser(i, v, (10 + i) * 100, sum(volumes[: i + 1])) for i, v in enumerate(volumes)]
    _, findings = detect(readings, None, DEFAULTS["fuel_dispenser"])
    assert raised(findings) == [("5", "drift:drift", "raised"), ("6", "drift:out_of_tolerance", "raised")]
    assert findings[0].evidence["cusum_pos"] == 9.0


def test_a_persisting_fault_raises_once_and_clears_when_it_ends() -> None:
    p = DEFAULTS["fuel_dispenser"]
    rs = [dispenser(i, 10 + i, 1000 + 100 * i, sum(range(10, 11 + i))) for i in range(7)]
    rs[0] = dispenser(0, 10, 1000, 10, ("seal_opened",))
    rs[6] = dispenser(6, 16, 1600, sum(range(10, 17)), ("seal_closed",))
    state, findings = detect(rs, None, p)
    assert raised(findings) == [("0", "tamper:seal_opened", "raised"), ("6", "tamper:seal_opened", "cleared")]
    assert state.active == {}


def test_the_same_findings_in_one_batch_or_in_many() -> None:
    found = 0
    for device in synthetic.generate(devices_per_type=6, readings_per_device=300):
        p = DEFAULTS[device.instrument_type]
        whole_state, whole = detect(device.readings, None, p, received=device.received)
        state: State | None = None
        pieces: list[Finding] = []
        for start in range(0, 300, 7):
            stop = start + 7
            state, out = detect(device.readings[start:stop], state, p, received=device.received[start:stop])
            pieces += out
            state = State.from_dict(json.loads(json.dumps(state.to_dict())))  # as stored between batches
        assert pieces == whole
        assert state == whole_state
        assert len(json.dumps(whole_state.to_dict())) <= 1024  # per-instrument state within 1 KiB
        found += len(whole)
    assert found > 10


def meter(i: int, energy: float, ref: float, current: float = 5.0, minutes: int = 15) -> Reading:
    return Reading(
        "EM-1",
        str(i),
        NOW + timedelta(minutes=minutes * i),
        "electricity_meter/1",
        {"energy_kwh": energy, "reference_energy_kwh": ref, "current_a": current},
    )


def test_stuck_reverse_and_impossible_registers() -> None:
    p = DEFAULTS["electricity_meter"]
    rs = [meter(0, 100, 100), meter(1, 101, 101)] + [meter(i, 101, 100 + i) for i in range(2, 7)]
    _, f = detect(rs, None, p)
    assert ("5", "values:stuck", "raised") in raised(f)
    _, f = detect([meter(0, 100, 100), meter(1, 99.5, 101)], None, p)
    assert ("1", "values:reverse", "raised") in raised(f)
    # 20 kWh in 15 min is 80 kW: above 60 A x 220 V
    _, f = detect([meter(0, 100, 100), meter(1, 120, 120)], None, p)
    assert ("1", "values:impossible", "raised") in raised(f)


def test_gaps_offline_and_clock_jumps() -> None:
    p = DEFAULTS["electricity_meter"]
    rs = [meter(0, 100, 100), meter(1, 100.2, 100.2), meter(5, 101, 101)]  # 60 min after 15 min: 4 intervals
    state, f = detect(rs, None, p)
    assert raised(f) == [("5", "liveness:gap", "raised"), ("5", "liveness:gap", "cleared")]
    state, f = offline("EM-1", state, p, NOW + timedelta(minutes=75 + 61))
    assert [x.key for x in f] == ["liveness:offline"]
    state, f2 = offline("EM-1", state, p, NOW + timedelta(minutes=75 + 120))
    assert f2 == []  # still offline: no second notification
    later = meter(12, 101.5, 101.5)
    rec = [later.device_time - timedelta(seconds=1)]
    state, f = detect([later], state, p, received=rec)
    assert raised(f) == [
        ("12", "liveness:offline", "cleared"),
        ("12", "liveness:gap", "raised"),
        ("12", "liveness:gap", "cleared"),
    ]
    jumped = meter(13, 101.6, 101.6)
    state, f = detect([jumped], state, p, received=[jumped.device_time - timedelta(minutes=10)])
    assert raised(f) == [("13", "liveness:clock_jump", "raised")]


def test_cheating_after_a_remote_unlock() -> None:
    p = DEFAULTS["fuel_dispenser"]
    # the same 20 L transactions (pulses varied so that none is a repeat), +0.7 % after the unlock
    rs, total = [], 0.0
    for i in range(40):
        shown = round(20.0 * (1.007 if i >= 20 else 1.0), 3)
        total += shown
        rs.append(dispenser(i, shown, 2000, total, ("remote_unlock",) if i == 20 else ()))
    _, f = detect(rs, None, p)
    keys = raised(f)
    assert ("20", "tamper:remote_unlock", "raised") in keys
    assert ("27", "cheating:change_after_event", "raised") in keys  # the eighth point after the unlock


def test_profiles_refuse_an_unknown_type() -> None:
    with pytest.raises(InvalidInput):
        profile_for("steam_meter")
    assert profile_for("water_meter", mpe=0.05).mpe == 0.05


def test_the_evaluation_in_the_docs_is_reproducible_from_its_seed() -> None:
    documented = re.search(r"<!-- evaluation -->\n(.*?)\n<!-- /evaluation -->", DOCS.read_text("utf-8"), re.S)
    assert documented is not None
    scores = evaluation.evaluate(synthetic.generate(seed=2026), Params())
    assert evaluation.table(scores) == documented.group(1)
