"""Bulk device provisioning: many registry instruments made remote devices in one step, whole or nothing.

Input is a list of rows (the API's JSON list, or a CSV read by ``read_csv``) with columns:

- ``device_id`` (required): the identity the device publishes as (letters, digits, ``_ . -``);
- ``instrument_type`` (required): one of ``payloads.INSTRUMENT_TYPES``;
- the registry instrument: ``instrument_id``, its ``registry_code`` (器具登记码, ``339901-00001234-7``),
  or its ``serial_number`` (出厂编号) — with
  ``manufacturer`` and/or ``model`` when the serial alone names more than one instrument;
- optional ``gateway_device_id`` (an existing device, or a row earlier in the same file) and the
  profile overrides ``mpe``, ``mpe_abs``, ``k_factor``, ``interval_s``, ``max_rate_per_h``,
  ``min_reference_step``.

Every row is checked first (field, instrument within the caller's jurisdiction — outside it reads as not
found — duplicates in the file and in the register); one bad row refuses the whole file with a report of
every problem by row number (``ImportRefused``) and nothing is stored. Otherwise all devices are created
in one transaction (audited, one audit row per device), the answer carries each device's secret once —
also as a CSV to hand to the installer — and, when a broker directory is configured, the Mosquitto
password and ACL files are regenerated from the register (``broker.regenerate``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from jiliang.domain.access import Principal, Role
from jiliang.domain.places import parse_registry_code
from jiliang.errors import FieldProblem, ImportRefused, InvalidInput, NotFound
from jiliang.services import scope
from jiliang.services.common import require_role
from jiliang.services.platform import Platform
from jiliang.services.telemetry import broker
from jiliang.services.telemetry.credentials import hash_secret, new_secret
from jiliang.services.telemetry.devices import DEVICE_ID, PROFILE_KEYS, as_dict
from jiliang.services.transfer.reading import sniff_encoding
from jiliang.store.models import Instrument, TelemetryDevice
from jiliang.telemetry.payloads import INSTRUMENT_TYPES

MAX_ROWS = 20_000
MAX_BYTES = 8 * 1024 * 1024
COLUMNS = (
    "device_id",
    "instrument_type",
    "instrument_id",
    "registry_code",
    "serial_number",
    "manufacturer",
    "model",
    "gateway_device_id",
    *PROFILE_KEYS,
)
MAX_REPORTED = 1000


@dataclass(frozen=True)
class _Row:
    number: int
    device_id: str
    instrument_type: str
    instrument_id: int | None
    serial_number: str
    manufacturer: str
    model: str
    gateway_device_id: str | None
    profile: dict[str, float]
    registry_region: str | None = None


def read_csv(data: bytes) -> list[dict[str, str]]:
    """A CSV file (UTF-8 with or without BOM, or GB18030 as Chinese Excel writes it) to rows of text.
    The header names the columns (``COLUMNS``); an unknown column is refused by name."""
    if len(data) > MAX_BYTES:
        raise InvalidInput(f"文件超过 {MAX_BYTES // 1024 // 1024} MiB / file too large", field="file")
    text = data.decode(sniff_encoding(data[:65536]), errors="replace")
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    if not header:
        raise InvalidInput("文件为空或缺少表头 / empty file or no header row", field="file")
    unknown = [h for h in header if h not in COLUMNS]
    if unknown:
        raise InvalidInput(
            f"未知列 {unknown[0]!r}；可用列：{', '.join(COLUMNS)} / unknown column",
            field=f"header.{unknown[0]}",
        )
    reader.fieldnames = header
    rows = []
    for raw in reader:
        if None in raw:  # more cells than header columns
            raise InvalidInput(
                f"第 {reader.line_num} 行的列数多于表头 / more cells than header columns",
                field=f"row {reader.line_num}",
            )
        row = {k: (v or "").strip() for k, v in raw.items()}
        if any(row.values()):
            rows.append(row)
    return rows


def _text(raw: Mapping[str, Any], key: str) -> str:
    value = raw.get(key)
    return "" if value is None else str(value).strip()


def _check(raw: Mapping[str, Any], number: int, problems: list[FieldProblem]) -> _Row | None:
    bad = len(problems)

    def refuse(field: str, reason: str, value: object = None) -> None:
        problems.append(FieldProblem(number, field, reason, None if value is None else str(value)[:100]))

    if not isinstance(raw, Mapping):
        refuse("row", "每行须为对象 / each row must be an object")
        return None
    for key in raw:
        if key not in COLUMNS:
            refuse(str(key), "未知字段 / unknown field")
    device_id = _text(raw, "device_id")
    if not DEVICE_ID.match(device_id):
        refuse("device_id", "只能含字母、数字、_ . -（1–64 字符）/ letters, digits, _ . - (1–64)", device_id)
    kind = _text(raw, "instrument_type")
    if kind not in INSTRUMENT_TYPES:
        refuse("instrument_type", f"须为 {', '.join(INSTRUMENT_TYPES)} 之一 / unknown instrument type", kind)
    instrument_id: int | None = None
    raw_id = _text(raw, "instrument_id")
    serial = _text(raw, "serial_number")
    code = _text(raw, "registry_code")
    region: str | None = None
    if code:
        try:
            region, instrument_id = parse_registry_code(code)
        except NotFound:
            refuse("registry_code", "器具登记码无效 / not a valid registry code", code)
    elif raw_id:
        try:
            instrument_id = int(raw_id)
        except ValueError:
            refuse("instrument_id", "须为整数 / must be an integer", raw_id)
    elif not serial:
        refuse(
            "instrument_id",
            "须给出 instrument_id、registry_code 或 serial_number / instrument_id, registry_code or serial_number",
        )
    profile: dict[str, float] = {}
    for key in PROFILE_KEYS:
        text = _text(raw, key)
        if not text:
            continue
        try:
            value = float(text)
        except ValueError:
            value = float("nan")
        if not value > 0 or value == float("inf"):
            refuse(key, "须为正数 / must be a positive number", text)
        else:
            profile[key] = value
    if len(problems) > bad:
        return None
    return _Row(
        number,
        device_id,
        kind,
        instrument_id,
        serial,
        _text(raw, "manufacturer"),
        _text(raw, "model"),
        _text(raw, "gateway_device_id") or None,
        profile,
        region,
    )


def provision(
    platform: Platform,
    principal: Principal,
    rows: Sequence[Mapping[str, Any]],
    *,
    first_row: int = 1,
    broker_dir: Path | None = None,
) -> dict[str, Any]:
    """Register every row's device or none. ``first_row`` is the number of the first row in the
    report (2 for a CSV with a header line). Returns the created devices with their secrets (shown
    this once), ``credentials_csv`` and, when ``broker_dir`` is given, the regenerated files' paths."""
    require_role(principal, Role.SUPERVISOR)
    if not rows:
        raise InvalidInput("没有要登记的设备 / no rows", field="rows")
    if len(rows) > MAX_ROWS:
        raise InvalidInput(f"一次最多 {MAX_ROWS} 行 / at most {MAX_ROWS} rows", field="rows")
    problems: list[FieldProblem] = []
    checked = [_check(raw, first_row + i, problems) for i, raw in enumerate(rows)]
    good = [r for r in checked if r is not None]
    # Secrets are hashed before the transaction (PBKDF2 releases the GIL: two threads use both cores).
    secrets_ = [new_secret() for _ in good]
    with ThreadPoolExecutor(max_workers=2) as pool:
        hashes = list(pool.map(hash_secret, secrets_))
    created: list[dict[str, Any]] = []
    with platform.unit_of_work(principal) as s:
        # Duplicates inside the file.
        first_seen: dict[str, int] = {}
        for r in good:
            if r.device_id in first_seen:
                problems.append(
                    FieldProblem(
                        r.number,
                        "device_id",
                        f"与第 {first_seen[r.device_id]} 行重复 / repeats a row",
                        r.device_id,
                    )
                )
            else:
                first_seen[r.device_id] = r.number
        # Device ids already registered.
        ids = list(first_seen)
        taken: set[str] = set()
        for i in range(0, len(ids), 500):
            taken |= set(
                s.scalars(
                    select(TelemetryDevice.device_id).where(TelemetryDevice.device_id.in_(ids[i : i + 500]))
                )
            )
        # Instruments: by id or by serial number, each within the caller's jurisdiction.
        by_id: dict[int, Instrument] = {}
        wanted_ids = sorted({r.instrument_id for r in good if r.instrument_id is not None})
        for i in range(0, len(wanted_ids), 500):
            stmt = select(Instrument).where(Instrument.id.in_(wanted_ids[i : i + 500]))
            by_id.update({x.id: x for x in s.scalars(scope.instruments(stmt, principal))})
        by_serial: dict[str, list[Instrument]] = {}
        serials = sorted({r.serial_number for r in good if r.instrument_id is None})
        for i in range(0, len(serials), 500):
            stmt = select(Instrument).where(Instrument.serial_number.in_(serials[i : i + 500]))
            for x in s.scalars(scope.instruments(stmt, principal)):
                by_serial.setdefault(x.serial_number, []).append(x)
        resolved: dict[int, Instrument] = {}
        for r in good:
            inst = _resolve(r, by_id, by_serial, problems)
            if inst is not None:
                resolved[r.number] = inst
        # Instruments that already have a device, or that two rows name.
        inst_ids = sorted({x.id for x in resolved.values()})
        has_device: set[int] = set()
        for i in range(0, len(inst_ids), 500):
            has_device |= set(
                s.scalars(
                    select(TelemetryDevice.instrument_id).where(
                        TelemetryDevice.instrument_id.in_(inst_ids[i : i + 500])
                    )
                )
            )
        instrument_row: dict[int, int] = {}
        for r in good:
            if r.device_id in taken:
                problems.append(
                    FieldProblem(r.number, "device_id", "设备标识已存在 / already registered", r.device_id)
                )
            inst = resolved.get(r.number)
            if inst is None:
                continue
            if inst.id in has_device:
                problems.append(
                    FieldProblem(
                        r.number, "instrument_id", "该器具已登记设备 / already has a device", str(inst.id)
                    )
                )
            elif inst.id in instrument_row:
                problems.append(
                    FieldProblem(
                        r.number,
                        "instrument_id",
                        f"与第 {instrument_row[inst.id]} 行为同一器具 / same instrument as another row",
                        str(inst.id),
                    )
                )
            else:
                instrument_row[inst.id] = r.number
        # Gateways: registered already, or a row earlier in this file.
        gateway_names = sorted({r.gateway_device_id for r in good if r.gateway_device_id})
        existing_gateways: dict[str, int] = {}
        if gateway_names:
            gw_stmt: Any = (
                select(TelemetryDevice.device_id, TelemetryDevice.id)
                .join(Instrument, Instrument.id == TelemetryDevice.instrument_id)
                .where(TelemetryDevice.device_id.in_(gateway_names))
            )
            found = s.execute(scope.instruments(gw_stmt, principal)).all()
            existing_gateways = {str(row[0]): int(row[1]) for row in found}
        for r in good:
            g = r.gateway_device_id
            if g and g not in existing_gateways and not (g in first_seen and first_seen[g] < r.number):
                problems.append(
                    FieldProblem(
                        r.number,
                        "gateway_device_id",
                        "网关未登记（须已存在或在本文件更早的行）/ gateway not found (registered, or an earlier row)",
                        g,
                    )
                )
        if problems:
            problems.sort(key=lambda p: p.row)
            raise ImportRefused(
                problems=problems[:MAX_REPORTED], problem_count=len(problems), rows_read=len(rows)
            )
        now = platform.now()
        pks = dict(existing_gateways)
        for r, secret, hashed in zip(good, secrets_, hashes, strict=True):
            inst = resolved[r.number]
            device = TelemetryDevice(
                device_id=r.device_id,
                instrument_id=inst.id,
                instrument_type=r.instrument_type,
                region_code=inst.region_code,
                gateway_id=pks[r.gateway_device_id] if r.gateway_device_id else None,
                secret_hash=hashed,
                active=True,
                profile=r.profile,
                detector_state=None,
                readings_count=0,
                created_at=now,
            )
            s.add(device)
            s.flush()
            pks[r.device_id] = device.id
            created.append(
                {
                    "row": r.number,
                    **as_dict(device),
                    "secret": secret,
                    "readings_topic": broker.readings_topic(inst.region_code, r.instrument_type, r.device_id),
                    "status_topic": broker.status_topic(inst.region_code, r.instrument_type, r.device_id),
                }
            )
    out: dict[str, Any] = {
        "provisioned": len(created),
        "devices": created,
        "credentials_csv": credentials_csv(created),
        "broker_files": None,
    }
    if broker_dir is not None:
        pw, acl = broker.regenerate(platform, principal, broker_dir)
        out["broker_files"] = {"password_file": str(pw), "acl_file": str(acl)}
    return out


def _resolve(
    r: _Row,
    by_id: dict[int, Instrument],
    by_serial: dict[str, list[Instrument]],
    problems: list[FieldProblem],
) -> Instrument | None:
    if r.instrument_id is not None:
        inst = by_id.get(r.instrument_id)
        if inst is not None and r.registry_region is not None and inst.region_code != r.registry_region:
            inst = None  # the code's region is part of the identity
        if inst is None:
            problems.append(
                FieldProblem(
                    r.number, "instrument_id", "计量器具不存在 / instrument not found", str(r.instrument_id)
                )
            )
        return inst
    matches = [
        x
        for x in by_serial.get(r.serial_number, [])
        if (not r.manufacturer or x.manufacturer == r.manufacturer) and (not r.model or x.model == r.model)
    ]
    if not matches:
        problems.append(
            FieldProblem(r.number, "serial_number", "计量器具不存在 / instrument not found", r.serial_number)
        )
        return None
    if len(matches) > 1:
        problems.append(
            FieldProblem(
                r.number,
                "serial_number",
                f"出厂编号对应 {len(matches)} 台器具，请加 manufacturer/model 或用 instrument_id / "
                "serial number names several instruments: add manufacturer/model or use instrument_id",
                r.serial_number,
            )
        )
        return None
    return matches[0]


def credentials_csv(created: Sequence[Mapping[str, Any]]) -> str:
    """The installer's sheet: one line per device with its secret and topics (handle as a secret)."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["device_id", "secret", "instrument_id", "instrument_type", "readings_topic", "status_topic"])
    for d in created:
        w.writerow(
            [
                d["device_id"],
                d["secret"],
                d["instrument_id"],
                d["instrument_type"],
                d["readings_topic"],
                d["status_topic"],
            ]
        )
    return out.getvalue()
