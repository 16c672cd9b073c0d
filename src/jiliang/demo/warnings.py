"""Remote supervision in the demo city, through the services: a few in-service instruments of the four
payload types become devices, readings from the seeded synthetic data set (``telemetry.synthetic``, with
its injected faults) are ingested as if they had just arrived, the detectors raise warnings, and the city
supervisor works some of them so that the console shows a warning in every workflow state — new,
assigned, inspected, disposed (sealed), closed (replaced) — and, where the data give more warnings, one
closed as not confirmed, one penalised into a case and one adjusted; a device whose faults began a week
earlier leaves overdue ones. The energy demo's imbalance
(demo/energy.py) is a warning of the same list."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from jiliang.domain.access import SYSTEM
from jiliang.services import users
from jiliang.services.platform import Platform
from jiliang.services.telemetry import devices, ingest
from jiliang.services.warnings import queries, workflow
from jiliang.store.models import Instrument, TelemetryDevice
from jiliang.telemetry import synthetic

ITEMS = {  # payload type → the catalogue item of the demo's instruments of that type
    "fuel_dispenser": "09.01",
    "price_computing_scale": "02.01",
    "electricity_meter": "20.01",
    "water_meter": "06.01",
}
SEED = 2026
PER_TYPE = 6  # devices per type: every second one with an injected fault
READINGS = 160
SUPERVISOR = "city"  # the demo city's supervisor account (demo/generate.py)


@dataclass
class WarningsDemo:
    devices: int = 0
    readings: int = 0
    warnings: int = 0  # in the city's list, the energy imbalance included
    states: dict[str, int] = field(default_factory=dict)
    # transparency-log leaves: one per warning raised, one per disposal, closing or dismissal
    leaves: int = 0


def _instruments(platform: Platform, item: str, n: int) -> list[tuple[int, str]]:
    with platform.reading() as s:
        rows = s.execute(
            select(Instrument.id, Instrument.region_code)
            .where(Instrument.item_code == item, Instrument.status == "in_service")
            .order_by(Instrument.id)
            .limit(n)
        ).all()
    return [(int(i), str(r)) for i, r in rows]


def build_warnings(platform: Platform) -> WarningsDemo:
    out = WarningsDemo()
    now = platform.now()
    data = synthetic.generate(SEED, devices_per_type=PER_TYPE, readings_per_device=READINGS)
    with platform.reading() as s:
        taken = set(s.scalars(select(TelemetryDevice.instrument_id)))
    for kind, item in ITEMS.items():
        free = [i for i in _instruments(platform, item, PER_TYPE + len(taken)) if i[0] not in taken]
        for n, (dev, (instrument_id, _region)) in enumerate(
            zip([d for d in data if d.instrument_type == kind], free, strict=False)
        ):
            device_id = f"DEMO-{dev.device_id}"
            devices.register_device(
                platform, SYSTEM, instrument_id=instrument_id, device_id=device_id, instrument_type=kind
            )
            out.devices += 1
            # the series ends an hour ago; the "stuck" device of each type ends a week earlier, so
            # its warnings have passed their deadlines
            end = now - (timedelta(days=7) if n == 3 else timedelta(hours=1))
            shift = end - dev.received[-1]
            messages = []
            for r, received in zip(dev.readings, dev.received, strict=True):
                payload = {
                    "schema": r.schema,
                    "device_id": device_id,
                    "message_id": r.message_id,
                    "device_time": (r.device_time + shift).isoformat(),
                    "values": dict(r.values),
                    "events": list(r.events),
                }
                messages.append(
                    ingest.Message(
                        json.dumps(payload).encode(), received + shift, "demo", device_id=device_id
                    )
                )
            for start in range(0, len(messages), 500):
                out.readings += ingest.ingest(platform, messages[start : start + 500]).accepted
    _work(platform, out)
    return out


def _work(platform: Platform, out: WarningsDemo) -> None:
    """Take the supervisor's steps on the newest-first list of telemetry warnings (critical first)."""
    boss = users.principal_by_username(platform, SUPERVISOR)
    found = queries.list_warnings(platform, boss, source="telemetry", limit=queries.MAX_LIST)["items"]
    work = [w for w in found if w["severity"] != "info" and not w["overdue"]]
    work.sort(key=lambda w: (w["severity"] != "critical", w["id"]))
    uid = boss.user_id
    plans: list[list[tuple[str, dict[str, Any]]]] = [
        [],  # stays new
        [("assign", {"assignee_id": uid})],
        [
            ("assign", {"assignee_id": uid}),
            (
                "inspect",
                {"findings": "现场核查：封印破损，示值偏大", "confirmed": True, "measured_error": "0.62"},
            ),
        ],
        [
            ("assign", {"assignee_id": uid}),
            (
                "inspect",
                {"findings": "现场核查：编码器信号线被改接", "confirmed": True, "measured_error": "1.8"},
            ),
            ("dispose", {"disposal": "sealed", "note": "现场封存，待修理后检定"}),
        ],
        [
            ("assign", {"assignee_id": uid}),
            (
                "inspect",
                {"findings": "现场核查：主板被更换为非原厂件", "confirmed": True, "measured_error": "2.4"},
            ),
            ("dispose", {"disposal": "replaced", "note": "责令更换"}),
            ("close", {"note": "已更换，旧表停用"}),
        ],
        [
            ("assign", {"assignee_id": uid}),
            ("inspect", {"findings": "现场核查：设备正常，系通信重传造成", "confirmed": False}),
            ("close", {"note": "误报，已办结"}),
        ],
        [
            ("assign", {"assignee_id": uid}),
            ("inspect", {"findings": "现场核查：加装作弊芯片", "confirmed": True, "measured_error": "3.1"}),
            ("dispose", {"disposal": "penalised", "note": "移送立案"}),
        ],
        [
            ("assign", {"assignee_id": uid}),
            ("inspect", {"findings": "现场核查：零点漂移", "confirmed": True, "measured_error": "0.9"}),
            ("dispose", {"disposal": "adjusted", "note": "现场调整，须重新检定"}),
            ("close", {"note": "已调整，检定已到期"}),
        ],
    ]
    for w, steps in zip(work, plans, strict=False):
        for action, step_data in steps:
            workflow.act(platform, boss, w["id"], action, step_data)
            out.leaves += action in ("dispose", "close", "dismiss")
    final = queries.list_warnings(platform, boss, limit=queries.MAX_LIST)
    out.warnings = final["total"]
    out.leaves += final["total"]
    for w in final["items"]:
        out.states[w["state"]] = out.states.get(w["state"], 0) + 1
