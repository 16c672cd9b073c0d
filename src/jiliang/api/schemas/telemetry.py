"""Request bodies of remote supervision (issue 11). Answers are the services' dictionaries; readings are
validated by ``jiliang.telemetry.payloads`` (the versioned schema), not by Pydantic, so that a bad reading
is quarantined with its field instead of refusing the whole batch."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from jiliang.api.schemas.common import In


class DeviceIn(In):
    instrument_id: int = Field(description="登记的计量器具 / the registry instrument")
    device_id: str = Field(description="设备标识（主题中使用）/ device identity, used in the topic")
    instrument_type: str = Field(
        description="one of jiliang.telemetry.payloads.INSTRUMENT_TYPES (fuel_dispenser, ev_charger, …)"
    )
    gateway_device_id: str | None = Field(
        default=None, description="所属网关 / the gateway that submits for it"
    )
    profile: dict[str, float] | None = Field(default=None, description="MPE 等画像参数 / profile overrides")


class ProvisionIn(In):
    rows: list[dict[str, Any]] = Field(
        description="每行一台设备，列同 CSV（device_id, instrument_type, instrument_id 或 serial_number…）"
        " / one device per row, the CSV's columns",
        max_length=20_000,
    )
