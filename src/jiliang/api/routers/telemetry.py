"""Remote supervision (远程监管): devices, the gateways' HTTP batch endpoint, warnings, quarantine.

Thin: each route parses, calls one service function, returns its answer. ``POST /readings`` is
authenticated by the *device's* credential (HTTP Basic: device id and secret), not by a user token."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, File, Query, UploadFile
from fastapi.security import HTTPBasic, HTTPBasicCredentials

from jiliang.api.deps import PlatformDep, PrincipalDep
from jiliang.api.schemas.common import ERRORS
from jiliang.api.schemas.telemetry import DeviceIn, ProvisionIn
from jiliang.errors import AuthenticationFailed, NotFound
from jiliang.services.telemetry import devices, ingest, provisioning, queries
from jiliang.telemetry.payloads import SCHEMAS, json_schema

router = APIRouter(prefix="/api/v1/telemetry", tags=["telemetry 远程监管"], responses=ERRORS)
_basic = HTTPBasic(auto_error=False)
Json = dict[str, Any]


def get_device(
    platform: PlatformDep, credentials: Annotated[HTTPBasicCredentials | None, Depends(_basic)]
) -> devices.DeviceIdentity:
    if credentials is None:
        raise AuthenticationFailed("需要设备凭据 / device credentials required", field="authorization")
    return devices.authenticate_device(platform, credentials.username, credentials.password)


DeviceDep = Annotated[devices.DeviceIdentity, Depends(get_device)]


@router.post("/devices", status_code=201, summary="登记远程监管设备（返回一次性密钥）/ Register a device")
def register_device(body: DeviceIn, platform: PlatformDep, principal: PrincipalDep) -> Json:
    return devices.register_device(platform, principal, **body.model_dump())


@router.post(
    "/devices/bulk",
    status_code=201,
    summary="批量登记设备（全部或全不；返回一次性密钥）/ Provision many devices, all or none",
)
def provision_devices(body: ProvisionIn, platform: PlatformDep, principal: PrincipalDep) -> Json:
    return provisioning.provision(
        platform, principal, body.rows, broker_dir=platform.settings.telemetry_broker_dir
    )


@router.post(
    "/devices/bulk.csv",
    status_code=201,
    summary="从 CSV 批量登记设备 / Provision many devices from a CSV file, all or none",
)
def provision_devices_csv(
    platform: PlatformDep,
    principal: PrincipalDep,
    file: Annotated[UploadFile, File(description="CSV（UTF-8 或 GB18030），列见 docs/telemetry.md")],
) -> Json:
    rows = provisioning.read_csv(file.file.read(provisioning.MAX_BYTES + 1))
    return provisioning.provision(
        platform, principal, rows, first_row=2, broker_dir=platform.settings.telemetry_broker_dir
    )


@router.get("/devices", summary="远程监管设备 / Devices in my jurisdiction")
def list_devices(platform: PlatformDep, principal: PrincipalDep) -> list[Json]:
    return devices.list_devices(platform, principal)


@router.post("/readings", summary="网关/设备批量上报 / Batch of readings from a device or gateway")
def post_readings(
    platform: PlatformDep,
    device: DeviceDep,
    body: Annotated[Any, Body(description='一条读数或 {"readings": [...]} / one reading or a batch')],
) -> Json:
    message = ingest.Message(body, platform.now(), "http", may_submit_for=device.may_submit_for)
    return ingest.ingest(platform, [message]).as_dict()


@router.get("/warnings", summary="预警 / Warnings with their evidence")
def list_warnings(
    platform: PlatformDep,
    principal: PrincipalDep,
    status: Annotated[
        str | None, Query(pattern="^(active|cleared)$", description="状态 / status: active | cleared")
    ] = None,
    device_id: Annotated[str | None, Query(description="设备标识 / device id")] = None,
) -> list[Json]:
    return queries.list_warnings(platform, principal, status=status, device_id=device_id)


@router.get(
    "/devices/{device_id}/readings", summary="设备读数（按设备时间）/ A device's readings by device time"
)
def device_readings(device_id: str, platform: PlatformDep, principal: PrincipalDep) -> list[Json]:
    return queries.device_readings(platform, principal, device_id)


@router.get("/quarantine", summary="隔离的载荷计数 / Quarantined payloads counted by reason")
def quarantine(platform: PlatformDep, principal: PrincipalDep) -> list[Json]:
    return queries.quarantine_counts(platform, principal)


@router.get("/schemas/{instrument_type}/{version}", summary="载荷 JSON Schema / A payload's JSON Schema")
def payload_schema(instrument_type: str, version: int) -> Json:
    name = f"{instrument_type}/{version}"
    if name not in SCHEMAS:
        raise NotFound(f"载荷模式 {name} 不存在 / no schema {name}", field="schema")
    return json_schema(name)
