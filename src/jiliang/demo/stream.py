"""``jiliang demo --stream``: the demo city's instruments report over MQTT, live, with injected faults.

What it does (docs/telemetry.md, "The demo's live stream"):

1. provisions up to ``devices`` telemetry devices (``services.telemetry.provisioning``, as the system
   account, audited) for the demo city's fuel dispensers (09.01), price-computing scales (02.01), water
   meters (06.01) and electricity meters (20.01), a quarter of each where the city has them; devices
   already provisioned by an earlier run are reused;
2. starts the MQTT ingester (``services.telemetry.ingester``: shared subscription, ack after commit)
   on the broker;
3. publishes, from one paho client, each device's readings of the seeded labelled data set
   (``telemetry.synthetic``: half the devices clean, the others with drift, stuck registers, tampering,
   size-dependent cheating, a remote unlock followed by an error, a short totaliser or a gap), one
   reading per device every ``period_s`` seconds, stamped with the wall-clock time.

Time is compressed: a reading that the synthetic model spaces 15 minutes (or, for a transaction, its
2–20 minutes) from the previous one is published ``period_s`` later, so the devices' profiles are
provisioned with the reporting interval divided and the maximum register rate multiplied by the same
factor — the detectors see a consistent, faster world, and the device clock stays with the receiver's
(no false clock jumps). Faults start between the 30th and 60th reading (``readings`` = 120), so with
the default four seconds the first warnings appear within two to four minutes (2,000 devices: 500
readings/s, within what one ingester stores on a loaded two-core machine); drift ramps over 200
readings, so slow drifts show later or not in one run.

The local demo broker is expected to accept the demo's publisher without a password (Mosquitto's
``allow_anonymous true`` on 127.0.0.1); in production each device has its own credential and ACL
(``jiliang telemetry broker-files``), which this shortcut does not exercise.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from jiliang.domain.access import SYSTEM
from jiliang.services.platform import Platform
from jiliang.services.telemetry import broker, provisioning
from jiliang.services.telemetry.ingester import MqttIngester
from jiliang.store.models import Instrument, TelemetryDevice
from jiliang.telemetry import detectors, synthetic
from jiliang.telemetry.profiles import DEFAULTS

# demo item code -> instrument type (the catalogue's codes as the demo city uses them)
TYPE_OF_ITEM = {
    "09.01": "fuel_dispenser",
    "02.01": "price_computing_scale",
    "06.01": "water_meter",
    "20.01": "electricity_meter",
}
PREFIX = "DEMO-"
READINGS = 120
# the synthetic model's mean spacing of transactions (dispensers 2–20 min, scales 1–10 min)
MEAN_SPACING_S = {"fuel_dispenser": 660.0, "price_computing_scale": 330.0}


@dataclass
class StreamStats:
    devices: int = 0
    provisioned: int = 0
    published: int = 0
    started: float = field(default_factory=time.monotonic)


def _spacing(instrument_type: str) -> float:
    return DEFAULTS[instrument_type].interval_s or MEAN_SPACING_S[instrument_type]


def ensure_devices(platform: Platform, devices: int, period_s: float) -> tuple[list[TelemetryDevice], int]:
    """The demo's stream devices: those of an earlier run, topped up to ``devices`` by provisioning."""
    with platform.reading() as s:
        existing = list(
            s.scalars(select(TelemetryDevice).where(TelemetryDevice.device_id.like(f"{PREFIX}%")))
        )
        taken = {d.instrument_id for d in s.scalars(select(TelemetryDevice))}
        want = max(0, devices - len(existing))
        queues: list[list[dict[str, Any]]] = []
        for item, kind in TYPE_OF_ITEM.items():
            ids = s.scalars(
                select(Instrument.id)
                .where(Instrument.item_code == item, Instrument.status == "in_service")
                .order_by(Instrument.id)
                .limit(want + len(taken))
            ).all()
            factor = _spacing(kind) / period_s
            p = DEFAULTS[kind]
            profile: dict[str, Any] = {}
            if p.interval_s:
                profile["interval_s"] = p.interval_s / factor
            if p.max_rate_per_h:
                profile["max_rate_per_h"] = p.max_rate_per_h * factor
            queues.append(
                [
                    {
                        "device_id": f"{PREFIX}{kind[:2].upper()}{i}",
                        "instrument_type": kind,
                        "instrument_id": i,
                        **profile,
                    }
                    for i in ids
                    if i not in taken
                ]
            )
        # the types in turn, so that each gets an equal share where the registry has enough of it
        rows: list[dict[str, Any]] = []
        k = 0
        while len(rows) < want and any(k < len(q) for q in queues):
            rows += [q[k] for q in queues if k < len(q)]
            k += 1
        rows = rows[:want]
    provisioned = 0
    if rows:
        provisioning.provision(platform, SYSTEM, rows)
        provisioned = len(rows)
    with platform.reading() as s:
        all_devices = list(
            s.scalars(
                select(TelemetryDevice)
                .where(TelemetryDevice.device_id.like(f"{PREFIX}%"))
                .order_by(TelemetryDevice.id)
                .limit(devices)
            )
        )
        for d in all_devices:
            s.expunge(d)
    return all_devices, provisioned


def _scripts(devices: list[TelemetryDevice], seed: int) -> dict[str, list[synthetic.Device]]:
    """Enough labelled synthetic devices of each type to give every stream device its own script."""
    need: dict[str, int] = {}
    for d in devices:
        need[d.instrument_type] = need.get(d.instrument_type, 0) + 1
    per_type = max(need.values(), default=0)
    data = synthetic.generate(seed=seed, devices_per_type=per_type, readings_per_device=READINGS)
    out: dict[str, list[synthetic.Device]] = {}
    for dev in data:
        out.setdefault(dev.instrument_type, []).append(dev)
    return out


def _offsets(d: TelemetryDevice) -> dict[str, float]:
    """Registers continue from where an earlier run left them (the synthetic ones start at zero), so a
    second run does not read as a register running backwards."""
    state = d.detector_state or {}
    out = {}
    reg, ref = detectors.REGISTER_OF.get(d.instrument_type), detectors.REFERENCE_OF.get(d.instrument_type)
    if reg and state.get("last_register"):
        out[reg] = float(state["last_register"])
    if ref and state.get("last_reference"):
        out[ref] = float(state["last_reference"])
    return out


def _silent(script: synthetic.Device) -> set[int]:
    """The synthetic ``gap`` fault spaces one reading seven intervals after the previous one: in the
    stream the device is silent for the six rounds before it."""
    out: set[int] = set()
    rs = script.readings
    limit = 3 * _spacing(script.instrument_type)
    for i in range(1, len(rs)):
        if (rs[i].device_time - rs[i - 1].device_time).total_seconds() > limit:
            out |= set(range(max(1, i - 6), i))
    return out


def run(
    platform: Platform,
    *,
    host: str = "127.0.0.1",
    port: int = 1883,
    devices: int = 2000,
    period_s: float = 4.0,
    seed: int = 2026,
    root: str = broker.ROOT,
    group: str = "demo",
    readings: int = READINGS,
    stop: threading.Event,
    say: Callable[[str], None] = print,
) -> StreamStats:
    """Provision, start the ingester, and publish until every script is played or ``stop`` is set."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    stats = StreamStats()
    streamed, stats.provisioned = ensure_devices(platform, devices, period_s)
    stats.devices = len(streamed)
    if not streamed:
        say("演示库中没有可远程监管的器具 / no instruments of the streamed types in the demo")
        return stats
    scripts = _scripts(streamed, seed)
    plan = []
    used: dict[str, int] = {}
    for d in streamed:
        k = used.get(d.instrument_type, 0)
        used[d.instrument_type] = k + 1
        script = scripts[d.instrument_type][k]
        topic = broker.readings_topic(d.region_code, d.instrument_type, d.device_id, root)
        plan.append((d.device_id, topic, script, _offsets(d), _silent(script)))
    faults = sum(1 for p in plan if p[2].fault != "none")
    say(
        f"远程监管演示流 / telemetry stream: {len(plan)} 台设备 devices ({stats.provisioned} newly provisioned), "
        f"{faults} 台注入故障 with injected faults, 每台每 {period_s:g} s 一条 / one reading per device "
        f"every {period_s:g} s, broker {host}:{port}"
    )
    ingester = MqttIngester(
        platform, host=host, port=port, client_id=f"jiliang-{group}-ingester", group=group, root=root
    )
    ing_thread = threading.Thread(target=ingester.run, args=(stop,), daemon=True)
    ing_thread.start()
    if not ingester.subscribed.wait(15):
        say(f"MQTT 代理不可达 / the broker at {host}:{port} did not answer")
        stop.set()
        return stats
    pub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"jiliang-{group}-devices", protocol=mqtt.MQTTv5)
    pub.max_inflight_messages_set(1000)
    pub.connect(host, port)
    pub.loop_start()
    run_id = int(datetime.now(UTC).timestamp())
    try:
        for i in range(min(readings, READINGS)):
            tick = time.monotonic()
            for device_id, topic, script, offsets, silent in plan:
                if i in silent:
                    continue
                r = script.readings[i]
                values = {k: round(v + offsets.get(k, 0.0), 3) for k, v in r.values.items()}
                body = {
                    "schema": r.schema,
                    "device_id": device_id,
                    "message_id": f"{run_id}-{i}",
                    "device_time": datetime.now(UTC).isoformat(),
                    "values": values,
                    "events": list(r.events),
                }
                pub.publish(topic, json.dumps(body, separators=(",", ":")), qos=1)
                stats.published += 1
            if stop.wait(max(0.0, period_s - (time.monotonic() - tick))):
                break
            if i % 15 == 14:
                s = ingester.stats
                say(
                    f"  第 {i + 1} 轮 / round {i + 1}: 已发布 published {stats.published:,}, "
                    f"已入库 stored {s.accepted:,}, 隔离 quarantined {s.quarantined:,}"
                )
    finally:
        # let the ingester drain what was published before stopping it (ack after commit: anything
        # left unacknowledged is redelivered to its session on the next run)
        deadline = time.monotonic() + 30
        while ingester.stats.messages < stats.published and time.monotonic() < deadline:
            time.sleep(0.1)
        stop.set()
        pub.loop_stop()
        pub.disconnect()
        ing_thread.join(30)
    return stats
