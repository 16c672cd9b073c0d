"""Versioned payloads per instrument type (the JSON-schema contract of docs/telemetry.md) and their
validation into typed readings.

A payload is one JSON object::

    {"schema": "fuel_dispenser/1", "device_id": "D-0001", "message_id": "42",
     "device_time": "2026-06-15T08:00:00+08:00", "values": {...}, "events": ["seal_opened"]}

Each type lists its values (unit, bounds, whether required) and the events it may report. The bounds
are physical plausibility (what no working instrument of that type can show), not the MPE: a value
outside them is refused, not detected. ``json_schema`` renders the same table as JSON Schema 2020-12,
so the documented schema and the validator cannot drift apart. Every refusal names the field.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from jiliang.errors import InvalidInput


@dataclass(frozen=True)
class ValueSpec:
    name: str
    unit: str
    minimum: float
    maximum: float
    required: bool = False
    integer: bool = False
    description: str = ""


@dataclass(frozen=True)
class PayloadSchema:
    instrument_type: str
    version: int
    title: str
    values: tuple[ValueSpec, ...]
    events: tuple[str, ...]

    @property
    def name(self) -> str:
        return f"{self.instrument_type}/{self.version}"

    def spec(self, name: str) -> ValueSpec | None:
        return _SPECS[self.name].get(name)


# Tamper and lock events, by type; "…_closed"/"…_locked" end the condition the opening started.
SCHEMAS: dict[str, PayloadSchema] = {
    s.name: s
    for s in (
        PayloadSchema(
            "fuel_dispenser",
            1,
            "燃油加油机 / Fuel dispenser (one transaction per reading)",
            (
                ValueSpec("volume_l", "L", 0, 2000, True, description="transaction volume shown"),
                ValueSpec("unit_price_yuan_per_l", "CNY/L", 0, 100, True),
                ValueSpec("amount_yuan", "CNY", 0, 200000, True),
                ValueSpec("pulses", "1", 0, 1e8, True, True, "encoder pulses counted for the transaction"),
                ValueSpec("totaliser_l", "L", 0, 1e10, True, description="electronic totaliser after it"),
            ),
            (
                "main_board_replaced",
                "encoder_replaced",
                "encoder_mismatch",
                "remote_unlock",
                "seal_opened",
                "seal_closed",
            ),
        ),
        PayloadSchema(
            "price_computing_scale",
            1,
            "电子计价秤 / Price-computing scale (JJG 1204-2025; one transaction per reading)",
            (
                ValueSpec("mass_kg", "kg", 0, 300, True, description="net mass of the transaction"),
                ValueSpec("unit_price_yuan_per_kg", "CNY/kg", 0, 10000, True),
                ValueSpec("amount_yuan", "CNY", 0, 1e6, True),
                ValueSpec("zero_kg", "kg", -1, 1, description="indication with the load receptor empty"),
                ValueSpec("tare_kg", "kg", 0, 300),
            ),
            ("case_opened", "case_locked", "zero_set", "tare_set"),
        ),
        PayloadSchema(
            "electricity_meter",
            1,
            "电能表 / Electricity meter (one register snapshot per reading)",
            (
                ValueSpec("energy_kwh", "kWh", 0, 1e9, True, description="active energy register, import"),
                ValueSpec("voltage_v", "V", 0, 1000),
                ValueSpec("current_a", "A", 0, 2000),
                ValueSpec(
                    "reference_energy_kwh",
                    "kWh",
                    0,
                    1e9,
                    description="the same point's energy from a check meter (e.g. the concentrator's)",
                ),
            ),
            ("cover_opened", "cover_closed", "magnetic_interference", "reverse_energy", "clock_set"),
        ),
        PayloadSchema(
            "water_meter",
            1,
            "水表 / Water meter (one register snapshot per reading)",
            (
                ValueSpec("volume_m3", "m3", 0, 1e8, True, description="cumulative volume register"),
                ValueSpec("flow_m3_per_h", "m3/h", 0, 5000),
                ValueSpec("battery_v", "V", 0, 10),
                ValueSpec(
                    "reference_volume_m3",
                    "m3",
                    0,
                    1e8,
                    description="the same point's volume from a reference (e.g. a district meter share)",
                ),
            ),
            ("tamper", "tamper_cleared", "leak", "magnetic_interference"),
        ),
        PayloadSchema(
            "gas_meter",
            1,
            "燃气表 / Gas meter (one register snapshot per reading)",
            (
                ValueSpec("volume_m3", "m3", 0, 1e8, True, description="cumulative volume register"),
                ValueSpec("flow_m3_per_h", "m3/h", 0, 1000),
                ValueSpec("battery_v", "V", 0, 10),
                ValueSpec(
                    "temperature_c", "degC", -40, 70, description="gas temperature (converting meters)"
                ),
                ValueSpec(
                    "reference_volume_m3",
                    "m3",
                    0,
                    1e8,
                    description="the same point's volume from a reference (e.g. a district regulator's meter share)",
                ),
            ),
            ("tamper", "tamper_cleared", "leak", "magnetic_interference", "low_battery", "valve_closed"),
        ),
        PayloadSchema(
            "heat_meter",
            1,
            "热量表 / Heat meter (one register snapshot per reading)",
            (
                ValueSpec("energy_kwh", "kWh", 0, 1e10, True, description="cumulative heat energy register"),
                ValueSpec(
                    "volume_m3", "m3", 0, 1e8, description="cumulative volume of heat-conveying liquid"
                ),
                ValueSpec("flow_m3_per_h", "m3/h", 0, 1000),
                ValueSpec("supply_temp_c", "degC", 0, 180),
                ValueSpec("return_temp_c", "degC", 0, 180),
                ValueSpec("battery_v", "V", 0, 10),
                ValueSpec(
                    "reference_energy_kwh",
                    "kWh",
                    0,
                    1e10,
                    description="the same point's heat from a reference (e.g. a building's master meter share)",
                ),
            ),
            ("tamper", "tamper_cleared", "leak", "magnetic_interference", "low_battery", "sensor_fault"),
        ),
        PayloadSchema(
            "ev_charger",
            1,
            "电动汽车充电桩 / EV charger (JJG 1148 / JJG 1149; one charging session per reading)",
            (
                ValueSpec(
                    "energy_kwh", "kWh", 0, 1000, True, description="session energy by the charger's meter"
                ),
                ValueSpec("unit_price_yuan_per_kwh", "CNY/kWh", 0, 20, True, description="electricity price"),
                ValueSpec(
                    "service_fee_yuan_per_kwh",
                    "CNY/kWh",
                    0,
                    20,
                    description="service fee, charged per kWh too",
                ),
                ValueSpec("amount_yuan", "CNY", 0, 100000, True, description="charged for the session"),
                ValueSpec(
                    "vehicle_energy_kwh",
                    "kWh",
                    0,
                    1000,
                    description="the same session's energy as the vehicle (BMS) reports it: plausibility only",
                ),
                ValueSpec(
                    "reference_energy_kwh",
                    "kWh",
                    0,
                    1000,
                    description="the same session's energy from a reference meter (a check meter, an on-site check)",
                ),
                ValueSpec("duration_s", "s", 0, 172800),
                ValueSpec(
                    "register_kwh", "kWh", 0, 1e9, description="the charger's energy register after it"
                ),
            ),
            ("cover_opened", "cover_closed", "main_board_replaced", "remote_unlock", "clock_set"),
        ),
        PayloadSchema(
            "weighbridge",
            1,
            "汽车衡 / Weighbridge (JJG 539 / OIML R 76 class III; one weighing per reading)",
            (
                ValueSpec("mass_kg", "kg", 0, 300000, True, description="indicated mass of the weighing"),
                ValueSpec(
                    "zero_kg", "kg", -2000, 2000, description="indication with the platform empty before it"
                ),
                ValueSpec("tare_kg", "kg", 0, 300000),
                ValueSpec(
                    "check_load_kg",
                    "kg",
                    0,
                    300000,
                    description="conventional true mass of a check load (standard weights or a reference vehicle)"
                    " when this weighing is a check",
                ),
                ValueSpec("axles", "1", 1, 20, integer=True),
            ),
            (
                "junction_box_opened",
                "junction_box_closed",
                "zero_set",
                "calibration_changed",
                "remote_unlock",
            ),
        ),
    )
}

INSTRUMENT_TYPES = tuple(sorted({s.instrument_type for s in SCHEMAS.values()}))
# value name -> spec per schema, and each schema's required names (validate runs per reading)
_SPECS: dict[str, dict[str, ValueSpec]] = {n: {v.name: v for v in s.values} for n, s in SCHEMAS.items()}
_REQUIRED: dict[str, tuple[str, ...]] = {
    n: tuple(v.name for v in s.values if v.required) for n, s in SCHEMAS.items()
}
_ENVELOPE = frozenset({"schema", "device_id", "message_id", "device_time", "values", "events"})


@dataclass(frozen=True)
class Reading:
    """One validated reading: who sent it, its id and time on the device, its values and events."""

    device_id: str
    message_id: str
    device_time: datetime
    schema: str
    values: Mapping[str, float]
    events: tuple[str, ...] = ()

    instrument_type: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # read by every detector for every reading: computed once, not split on each access
        object.__setattr__(self, "instrument_type", self.schema.split("/", 1)[0])


@dataclass(frozen=True)
class Limits:
    """How far a device clock may be from the receiver's before the reading is refused."""

    max_future: timedelta = timedelta(minutes=5)
    max_past: timedelta = timedelta(days=30)
    max_events: int = 16


def _refuse(zh: str, en: str, field: str) -> InvalidInput:
    return InvalidInput(f"{zh} / {en}", field=field)


def parse_time(raw: object, field: str) -> datetime:
    if not isinstance(raw, str):
        raise _refuse("设备时间须为带时区的 ISO 8601 字符串", "must be an ISO 8601 string with offset", field)
    try:
        t = datetime.fromisoformat(raw)
    except ValueError:
        raise _refuse("设备时间格式错误", "not an ISO 8601 time", field) from None
    if t.tzinfo is None:
        raise _refuse("设备时间缺少时区", "has no UTC offset", field)
    return t


def validate(
    payload: object,
    *,
    received_at: datetime,
    limits: Limits = Limits(),
    device_id: str | None = None,
    where: str = "",
) -> Reading:
    """One payload to a ``Reading``, or ``InvalidInput`` naming the field (prefixed by ``where``).

    ``device_id``, when given, is the identity the transport authenticated: a payload that claims
    another device is refused (a device publishes only as itself)."""
    p = where
    if not isinstance(payload, Mapping):
        raise _refuse("读数须为 JSON 对象", "a reading must be a JSON object", p or "reading")
    unknown = payload.keys() - _ENVELOPE
    if unknown:
        name = sorted(unknown)[0]
        raise _refuse("未知字段", "unknown field", f"{p}{name}")
    schema_name = payload.get("schema")
    if not isinstance(schema_name, str) or schema_name not in SCHEMAS:
        raise _refuse("未知的载荷模式", f"unknown schema; known: {', '.join(sorted(SCHEMAS))}", f"{p}schema")
    schema = SCHEMAS[schema_name]
    dev = payload.get("device_id")
    if not isinstance(dev, str) or not 1 <= len(dev) <= 64:
        raise _refuse("设备标识须为 1–64 字符", "device_id must be 1–64 characters", f"{p}device_id")
    if device_id is not None and dev != device_id:
        raise _refuse("设备只能以自身身份上报", "a device may publish only as itself", f"{p}device_id")
    mid = payload.get("message_id")
    if isinstance(mid, int) and not isinstance(mid, bool):
        mid = str(mid)
    if not isinstance(mid, str) or not 1 <= len(mid) <= 64:
        raise _refuse("消息标识须为 1–64 字符", "message_id must be 1–64 characters", f"{p}message_id")
    t = parse_time(payload.get("device_time"), f"{p}device_time")
    if t - received_at > limits.max_future:
        raise _refuse("设备时间超前", "device_time is in the future", f"{p}device_time")
    if received_at - t > limits.max_past:
        raise _refuse("设备时间过旧", "device_time is too far in the past", f"{p}device_time")
    raw_values = payload.get("values", {})
    if not isinstance(raw_values, Mapping):
        raise _refuse("values 须为对象", "values must be an object", f"{p}values")
    values: dict[str, float] = {}
    specs = _SPECS[schema_name]
    for key, raw in raw_values.items():
        spec = specs.get(key) if isinstance(key, str) else None
        if spec is None:
            raise _refuse("该类型无此量", f"not a value of {schema_name}", f"{p}values.{key}")
        kind = type(raw)
        if kind is not float and kind is not int:  # bool is a subclass of int, not int itself
            raise _refuse("须为有限数值", "must be a finite number", f"{p}values.{key}")
        if kind is float and not math.isfinite(raw):
            raise _refuse("须为有限数值", "must be a finite number", f"{p}values.{key}")
        if spec.integer and float(raw) != int(raw):
            raise _refuse("须为整数", "must be an integer", f"{p}values.{key}")
        if not spec.minimum <= raw <= spec.maximum:
            raise _refuse(
                f"超出可能范围 [{spec.minimum:g}, {spec.maximum:g}] {spec.unit}",
                f"outside the possible range [{spec.minimum:g}, {spec.maximum:g}] {spec.unit}",
                f"{p}values.{key}",
            )
        values[key] = float(raw)
    for name in _REQUIRED[schema_name]:
        if name not in values:
            raise _refuse("缺少必填量", "required value missing", f"{p}values.{name}")
    raw_events = payload.get("events", [])
    if not isinstance(raw_events, list) or len(raw_events) > limits.max_events:
        raise _refuse("events 须为不超过上限的列表", "events must be a short list", f"{p}events")
    for i, e in enumerate(raw_events):
        if e not in schema.events:
            raise _refuse("该类型无此事件", f"not an event of {schema_name}", f"{p}events[{i}]")
    return Reading(dev, mid, t, schema_name, values, tuple(raw_events))


def json_schema(name: str) -> dict[str, Any]:
    """The JSON Schema (2020-12) of one payload version, rendered from the same table the validator
    reads; docs/telemetry.md prints these."""
    s = SCHEMAS[name]
    props = {
        v.name: {
            "type": "integer" if v.integer else "number",
            "minimum": v.minimum,
            "maximum": v.maximum,
            "description": f"{v.description} [{v.unit}]".strip(),
        }
        for v in s.values
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://jiliang.example/telemetry/{s.instrument_type}/{s.version}.json",
        "title": s.title,
        "type": "object",
        "additionalProperties": False,
        "required": ["schema", "device_id", "message_id", "device_time", "values"],
        "properties": {
            "schema": {"const": s.name},
            "device_id": {"type": "string", "minLength": 1, "maxLength": 64},
            "message_id": {"type": ["string", "integer"]},
            "device_time": {"type": "string", "format": "date-time"},
            "values": {
                "type": "object",
                "additionalProperties": False,
                "required": [v.name for v in s.values if v.required],
                "properties": props,
            },
            "events": {"type": "array", "items": {"enum": list(s.events)}, "maxItems": 16},
        },
    }
