"""End to end through the real Mosquitto: publish readings with duplicates, kill the ingester process
mid-stream (SIGKILL: no clean shutdown), restart it, and compare counts — zero loss, zero double counting.

Skipped with the reason when no broker listens on 127.0.0.1:1883 (start one with
``mosquitto -d -c /etc/mosquitto/mosquitto.conf``). Each run uses its own topic root, shared-subscription
group and client id, so it does not meet other users of the broker.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from sqlalchemy import func, select

from jiliang.services import instruments
from jiliang.services.telemetry import broker, devices
from jiliang.store.models import TelemetryDevice, TelemetryReading
from tests.factories import COUNTY_A, World, instrument_raw

HOST, PORT = "127.0.0.1", 1883
SRC = Path(__file__).parents[1] / "src"


def broker_up() -> bool:
    try:
        with socket.create_connection((HOST, PORT), timeout=1):
            return True
    except OSError:
        return False


pytestmark = pytest.mark.skipif(
    not broker_up(),
    reason="needs Mosquitto on 127.0.0.1:1883 (mosquitto -d -c /etc/mosquitto/mosquitto.conf)",
)


def payload(device_id: str, i: int, start: datetime) -> bytes:
    volume = 10 + (i % 17) + i / 1000  # no two transactions alike: no "stuck" noise
    return json.dumps(
        {
            "schema": "fuel_dispenser/1",
            "device_id": device_id,
            "message_id": str(i),
            "device_time": (start + timedelta(seconds=i)).isoformat(),
            "values": {
                "volume_l": round(volume, 3),
                "unit_price_yuan_per_l": 8.0,
                "amount_yuan": round(volume * 8, 2),
                "pulses": round(volume * 100),
                "totaliser_l": 1000 + i,
            },
        }
    ).encode()


def session(client_id: str, group: str, root: str) -> None:
    """Create the ingester's persistent session and subscription before anything is published, as a
    deployed ingester would have: from then on the broker queues for it while it is down."""
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    props.SessionExpiryInterval = 600
    c.connect(HOST, PORT, clean_start=False, properties=props)
    c.loop_start()
    c.subscribe(broker.subscription(group, root), qos=1)[1]
    time.sleep(0.5)
    c.disconnect()
    c.loop_stop()


def publish(messages: list[tuple[str, bytes]]) -> None:
    pub = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=f"pub-{uuid.uuid4().hex[:8]}", protocol=mqtt.MQTTv5
    )
    pub.connect(HOST, PORT)
    pub.loop_start()
    for topic, body in messages:
        pub.publish(topic, body, qos=1).wait_for_publish(timeout=10)
    pub.disconnect()
    pub.loop_stop()


def stored(world: World) -> int:
    with world.platform.reading() as s:
        return int(s.scalar(select(func.count()).select_from(TelemetryReading)) or 0)


def wait_for(world: World, at_least: int, timeout: float = 120) -> int:
    deadline = time.monotonic() + timeout
    n = stored(world)
    while n < at_least and time.monotonic() < deadline:
        time.sleep(0.2)
        n = stored(world)
    return n


def start_ingester(url: str, root: str, client_id: str, group: str) -> subprocess.Popen[Any]:
    cmd = [
        sys.executable,
        "-m",
        "jiliang.cli",
        "--database-url",
        url,
        "telemetry",
        "ingest",
        "--root",
        root,
        "--client-id",
        client_id,
        "--group",
        group,
        "--batch-size",
        "10",
    ]
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def test_killing_the_ingester_mid_stream_loses_nothing_and_counts_nothing_twice(world: World) -> None:
    run = uuid.uuid4().hex[:8]
    root, group, client_id = f"jiliang-test-{run}/v1", f"g{run}", f"ingester-{run}"
    ids = [f"FDM{run}{k}" for k in range(3)]
    for k, device_id in enumerate(ids):
        inst = instruments.file_instrument(
            world.platform, world.as_("enterprise"), instrument_raw(f"M-{run}-{k}", item_code="09.01")
        )
        devices.register_device(
            world.platform,
            world.as_("city"),
            instrument_id=inst.id,
            device_id=device_id,
            instrument_type="fuel_dispenser",
        )
    start = datetime.now(UTC) - timedelta(hours=2)
    per_device = 120
    messages = [
        (broker.readings_topic(COUNTY_A, "fuel_dispenser", d, root), payload(d, i, start))
        for i in range(per_device)
        for d in ids
    ]
    duplicates = messages[::7]  # a device that sends again, a redelivery by the broker: same message id
    stream = (
        messages[: len(messages) // 2] + duplicates[:20] + messages[len(messages) // 2 :] + duplicates[20:]
    )
    unique = len(messages)
    session(client_id, group, root)

    publish(stream[:200])
    url = world.platform.settings.database_url
    first = start_ingester(url, root, client_id, group)
    try:
        mid = wait_for(world, 40)
        assert mid >= 40, first.stdout.read().decode() if first.stdout else ""
        first.send_signal(signal.SIGKILL)  # mid-stream, possibly between a commit and its acks
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
    at_kill = stored(world)
    publish(stream[200:])  # published while no ingester runs: the broker queues them for the session

    second = start_ingester(url, root, client_id, group)
    try:
        final = wait_for(world, unique)
        time.sleep(1.0)  # anything beyond ``unique`` would be a double count: give it time to show
        final = stored(world)
    finally:
        second.send_signal(signal.SIGTERM)
        try:
            second.wait(timeout=30)
        except subprocess.TimeoutExpired:
            second.kill()
    print(f"stored at the kill: {at_kill} of {unique}; after the restart: {final}")
    assert 40 <= at_kill < unique
    assert final == unique  # zero loss, zero double counting
    with world.platform.reading() as s:
        counted = dict(s.execute(select(TelemetryDevice.device_id, TelemetryDevice.readings_count)).all())
        per_id = dict(
            s.execute(
                select(TelemetryDevice.device_id, func.count(func.distinct(TelemetryReading.message_id)))
                .join(TelemetryReading, TelemetryReading.device_pk == TelemetryDevice.id)
                .group_by(TelemetryDevice.device_id)
            ).all()
        )
    # The per-device counter advances only for readings that were new: redeliveries did not bump it.
    assert counted == per_id == dict.fromkeys(ids, per_device)


def test_two_ingesters_of_one_shared_subscription_split_the_stream_and_store_it_once(world: World) -> None:
    run = uuid.uuid4().hex[:8]
    root, group = f"jiliang-test-{run}/v1", f"g{run}"
    clients = [f"ingester-{run}-a", f"ingester-{run}-b"]
    ids = [f"FDS{run}{k}" for k in range(2)]
    for k, device_id in enumerate(ids):
        inst = instruments.file_instrument(
            world.platform, world.as_("enterprise"), instrument_raw(f"S-{run}-{k}", item_code="09.01")
        )
        devices.register_device(
            world.platform,
            world.as_("city"),
            instrument_id=inst.id,
            device_id=device_id,
            instrument_type="fuel_dispenser",
        )
    for client_id in clients:
        session(client_id, group, root)
    start = datetime.now(UTC) - timedelta(hours=2)
    messages = [
        (broker.readings_topic(COUNTY_A, "fuel_dispenser", d, root), payload(d, i, start))
        for i in range(100)
        for d in ids
    ]
    publish(messages + messages[::5])  # 200 readings, 40 duplicates
    url = world.platform.settings.database_url
    procs = [start_ingester(url, root, c, group) for c in clients]
    outputs = []
    try:
        final = wait_for(world, 200)
        time.sleep(1.0)
        final = stored(world)
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            out, _ = p.communicate(timeout=30)
            outputs.append(out.decode())
    handled = [int(re.search(r"messages (\d+)", o).group(1)) for o in outputs]  # type: ignore[union-attr]
    assert final == 200
    assert sum(handled) == 240 and min(handled) > 0, outputs  # each message to one of them; both worked


DEVICE = """
import sys, time
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
topic = sys.argv[1]
c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=sys.argv[2], protocol=mqtt.MQTTv5)
c.will_set(topic, b"offline", qos=1, retain=True)
c.connect("127.0.0.1", 1883)
c.loop_start()
c.publish(topic, b"online", qos=1, retain=True).wait_for_publish(10)
print("online", flush=True)
time.sleep(600)
"""


def test_a_device_that_dies_is_offline_at_once_by_its_will_and_online_again_by_its_birth(
    world: World,
) -> None:
    import threading

    from jiliang.services.telemetry import queries
    from jiliang.services.telemetry.ingester import MqttIngester

    run = uuid.uuid4().hex[:8]
    root, device_id = f"jiliang-test-{run}/v1", f"FDW{run}"
    inst = instruments.file_instrument(
        world.platform, world.as_("enterprise"), instrument_raw(f"W-{run}", item_code="09.01")
    )
    devices.register_device(
        world.platform,
        world.as_("city"),
        instrument_id=inst.id,
        device_id=device_id,
        instrument_type="fuel_dispenser",
    )
    worker = MqttIngester(
        world.platform,
        client_id=f"ingester-{run}",
        group=f"g{run}",
        root=root,
        batch_size=10,
        session_expiry_s=60,
    )
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    thread.start()
    topic = broker.status_topic(COUNTY_A, "fuel_dispenser", device_id, root)

    def states() -> list[tuple[str, str]]:
        ws = queries.list_warnings(world.platform, world.as_("city"), device_id=device_id)
        return [(w["condition"], w["status"]) for w in ws]

    def until(expected: list[tuple[str, str]]) -> list[tuple[str, str]]:
        deadline = time.monotonic() + 30
        while states() != expected and time.monotonic() < deadline:
            time.sleep(0.2)
        return states()

    try:
        assert worker.subscribed.wait(10)
        dev = subprocess.Popen([sys.executable, "-c", DEVICE, topic, f"dev-{run}"], stdout=subprocess.PIPE)
        assert dev.stdout is not None and dev.stdout.readline().strip() == b"online"
        dev.send_signal(
            signal.SIGKILL
        )  # the connection drops without a DISCONNECT: the broker sends the will
        dev.wait(10)
        assert until([("offline", "active")]) == [("offline", "active")]
        dev = subprocess.Popen([sys.executable, "-c", DEVICE, topic, f"dev-{run}"], stdout=subprocess.PIPE)
        assert dev.stdout is not None and dev.stdout.readline().strip() == b"online"
        assert until([("offline", "cleared")]) == [("offline", "cleared")]
        dev.kill()
        dev.wait(10)
    finally:
        stop.set()
        thread.join(10)
        cleanup = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"clean-{run}", protocol=mqtt.MQTTv5)
        cleanup.connect(HOST, PORT)
        cleanup.loop_start()
        cleanup.publish(topic, b"", qos=1, retain=True).wait_for_publish(10)  # remove the retained status
        cleanup.disconnect()
        cleanup.loop_stop()
