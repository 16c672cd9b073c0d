"""The broker files jiliang generates, loaded by a real, second Mosquitto: a device publishes as itself
and nothing else, a wrong secret is refused. Skipped with the reason when the ``mosquitto`` binary is
absent."""

from __future__ import annotations

import getpass
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from jiliang.services import instruments
from jiliang.services.telemetry import broker, credentials, devices
from tests.factories import COUNTY_A, World, instrument_raw

pytestmark = pytest.mark.skipif(shutil.which("mosquitto") is None, reason="needs the mosquitto binary")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def client(port: int, user: str, secret: str, events: list[Any], client_id: str) -> mqtt.Client:
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    c.username_pw_set(user, secret)
    c.on_connect = lambda _c, _u, _f, reason, _p: events.append(("connect", user, str(reason)))
    c.on_publish = lambda _c, _u, mid, reason, _p: events.append(("puback", mid, str(reason)))
    c.on_message = lambda _c, _u, m: events.append(("message", m.topic, m.payload))
    c.connect("127.0.0.1", port)
    c.loop_start()
    return c


def settle(events: list[Any], n: int) -> None:
    deadline = time.monotonic() + 10
    while len(events) < n and time.monotonic() < deadline:
        time.sleep(0.05)


def test_a_real_mosquitto_loading_the_generated_files_lets_a_device_publish_only_as_itself(
    world: World, tmp_path: Path
) -> None:
    secrets = {}
    for k, device_id in enumerate(("FDA1", "FDA2")):
        inst = instruments.file_instrument(
            world.platform, world.as_("enterprise"), instrument_raw(f"ACL-{k}", item_code="09.01")
        )
        secrets[device_id] = devices.register_device(
            world.platform,
            world.as_("city"),
            instrument_id=inst.id,
            device_id=device_id,
            instrument_type="fuel_dispenser",
        )["secret"]
    files = broker.render(
        world.platform,
        world.as_("admin"),
        ingester_user="ingester",
        ingester_hash=credentials.hash_secret("ingester-secret"),
    )
    pw, acl = broker.write(files, tmp_path)
    port = free_port()
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(
        # "user": Mosquitto started as root drops to the mosquitto account, which cannot read pytest's
        # private temporary directory; a deployment gives that account the files instead.
        f"listener {port} 127.0.0.1\nallow_anonymous false\npassword_file {pw}\nacl_file {acl}\n"
        f"persistence false\nuser {getpass.getuser()}\n",
        encoding="utf-8",
    )
    proc = subprocess.Popen(
        ["mosquitto", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    clients: list[mqtt.Client] = []
    try:
        for _ in range(50):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        got: list[Any] = []
        sub = client(port, "ingester", "ingester-secret", got, "ingester")
        clients.append(sub)
        settle(got, 1)
        sub.subscribe(broker.subscription("g"), qos=1)
        time.sleep(0.3)
        sent: list[Any] = []
        dev = client(port, "FDA1", secrets["FDA1"], sent, "FDA1")
        clients.append(dev)
        settle(sent, 1)
        dev.publish(broker.readings_topic(COUNTY_A, "fuel_dispenser", "FDA1"), b"mine", qos=1)
        dev.publish(broker.readings_topic(COUNTY_A, "fuel_dispenser", "FDA2"), b"as another", qos=1)
        settle(sent, 3)
        settle(got, 2)
        wrong: list[Any] = []
        clients.append(client(port, "FDA2", "not-the-secret", wrong, "FDA2"))
        settle(wrong, 1)
    finally:
        for c in clients:
            c.loop_stop()
        proc.terminate()
        proc.wait(timeout=10)
    assert sent == [("connect", "FDA1", "Success"), ("puback", 1, "Success"), ("puback", 2, "Not authorized")]
    assert got[1:] == [("message", f"jiliang/v1/{COUNTY_A}/fuel_dispenser/FDA1/readings", b"mine")]
    assert wrong[0] == ("connect", "FDA2", "Not authorized")  # (paho retries; every try is refused)
    assert all(e[2] == "Not authorized" for e in wrong)
