"""Devices: a registry instrument with a device identity and its own credential.

A device publishes only as itself: the broker's ACL (``broker``) lets it write only its own topic, the
HTTP endpoint accepts only its own readings, and the ingester refuses a payload whose ``device_id`` is not
the topic's. A gateway is a device whose children name it (``gateway``); it may submit their readings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from jiliang.domain.access import Principal, Role
from jiliang.errors import AuthenticationFailed, Conflict, InvalidInput
from jiliang.services import scope
from jiliang.services.common import not_found, require_role
from jiliang.services.platform import Platform
from jiliang.services.telemetry.credentials import hash_secret, new_secret, verify_secret
from jiliang.store.models import Instrument, TelemetryDevice
from jiliang.telemetry.payloads import INSTRUMENT_TYPES
from jiliang.telemetry.profiles import Profile, profile_for

# Topic-safe: no "/", "+", "#", and no "%" (Mosquitto ACL patterns substitute %u and %c).
DEVICE_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
PROFILE_KEYS = (
    "mpe",
    "mpe_abs",
    "k_factor",
    "interval_s",
    "max_rate_per_h",
    "min_reference_step",
    "e_kg",
    "vehicle_tolerance",
)
_DUMMY = hash_secret("not a secret", salt=b"\0" * 12)


@dataclass(frozen=True)
class DeviceIdentity:
    pk: int
    device_id: str
    may_submit_for: frozenset[str]  # itself, and its children when it is a gateway


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def profile_of(device: TelemetryDevice) -> Profile:
    return profile_for(device.instrument_type, **(device.profile or {}))


def as_dict(d: TelemetryDevice) -> dict[str, Any]:
    return {
        "device_id": d.device_id,
        "instrument_id": d.instrument_id,
        "instrument_type": d.instrument_type,
        "region_code": d.region_code,
        "active": d.active,
        "profile": d.profile,
        "readings_count": d.readings_count,
        "last_seen_at": _utc(d.last_seen_at).isoformat() if d.last_seen_at else None,
        "active_conditions": sorted((d.detector_state or {}).get("active", {})),
    }


def register_device(
    platform: Platform,
    principal: Principal,
    *,
    instrument_id: int,
    device_id: str,
    instrument_type: str,
    gateway_device_id: str | None = None,
    profile: dict[str, float] | None = None,
) -> dict[str, Any]:
    """Register a device for an instrument in the caller's jurisdiction; the answer carries the secret,
    the only time it is shown."""
    require_role(principal, Role.SUPERVISOR)
    if not DEVICE_ID.match(device_id):
        raise InvalidInput(
            "设备标识只能含字母、数字、_ . -（1–64 字符）/ device_id: letters, digits, _ . - (1–64)",
            field="device_id",
        )
    if instrument_type not in INSTRUMENT_TYPES:
        raise InvalidInput(
            f"器具类型须为 {', '.join(INSTRUMENT_TYPES)} 之一 / unknown instrument type",
            field="instrument_type",
        )
    overrides = dict(profile or {})
    for key, value in overrides.items():
        if key not in PROFILE_KEYS or not isinstance(value, int | float) or value <= 0:
            raise InvalidInput(
                "画像参数须为已知的正数 / profile: known keys, positive numbers", field=f"profile.{key}"
            )
    secret = new_secret()
    with platform.unit_of_work(principal) as s:
        instrument = s.scalars(
            scope.instruments(select(Instrument).where(Instrument.id == instrument_id), principal)
        ).first()
        if instrument is None:
            raise not_found("计量器具 / instrument", instrument_id)
        if s.scalars(select(TelemetryDevice.id).where(TelemetryDevice.device_id == device_id)).first():
            raise Conflict("设备标识已存在 / device_id already registered", field="device_id")
        if s.scalars(
            select(TelemetryDevice.id).where(TelemetryDevice.instrument_id == instrument_id)
        ).first():
            raise Conflict("该器具已登记设备 / this instrument already has a device", field="instrument_id")
        gateway_pk = None
        if gateway_device_id is not None:
            gateway_pk = s.scalars(
                select(TelemetryDevice.id).where(TelemetryDevice.device_id == gateway_device_id)
            ).first()
            if gateway_pk is None:
                raise not_found("网关 / gateway", gateway_device_id)
        device = TelemetryDevice(
            device_id=device_id,
            instrument_id=instrument.id,
            instrument_type=instrument_type,
            region_code=instrument.region_code,
            gateway_id=gateway_pk,
            secret_hash=hash_secret(secret),
            active=True,
            profile=overrides,
            detector_state=None,
            readings_count=0,
            created_at=platform.now(),
        )
        s.add(device)
        s.flush()
        return {**as_dict(device), "secret": secret}


def authenticate_device(platform: Platform, device_id: str, secret: str) -> DeviceIdentity:
    with platform.reading() as s:
        device = s.scalars(select(TelemetryDevice).where(TelemetryDevice.device_id == device_id)).first()
        ok = verify_secret(secret, device.secret_hash if device is not None else _DUMMY)
        if device is None or not ok or not device.active:
            raise AuthenticationFailed("设备认证失败 / device authentication failed", field="authorization")
        children = s.scalars(select(TelemetryDevice.device_id).where(TelemetryDevice.gateway_id == device.id))
        return DeviceIdentity(device.id, device.device_id, frozenset({device.device_id, *children}))


def list_devices(platform: Platform, principal: Principal) -> list[dict[str, Any]]:
    with platform.reading() as s:
        stmt = select(TelemetryDevice).join(Instrument, Instrument.id == TelemetryDevice.instrument_id)
        rows = s.scalars(scope.instruments(stmt, principal).order_by(TelemetryDevice.device_id)).all()
        return [as_dict(d) for d in rows]
