"""TLS on the MQTT listener (docs/telemetry.md, "TLS"): a second, real Mosquitto with a TLS listener
(a throw-away CA and a broker certificate for 127.0.0.1 made with openssl), the generated password and
ACL files; a device publishes over TLS with its own secret and the ingester (``--tls-ca``) stores the
reading; a client that does not trust the CA cannot connect. Skipped when mosquitto or openssl is absent."""

from __future__ import annotations

import getpass
import json
import shutil
import socket
import ssl
import subprocess
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from jiliang.services import instruments
from jiliang.services.telemetry import broker, credentials, devices, queries
from jiliang.services.telemetry.ingester import MqttIngester
from tests.factories import COUNTY_A, World, instrument_raw
from tests.test_telemetry_broker import free_port

pytestmark = pytest.mark.skipif(
    shutil.which("mosquitto") is None or shutil.which("openssl") is None, reason="needs mosquitto and openssl"
)


def make_certs(d: Path) -> None:
    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True)

    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run(
        "req",
        "-x509",
        *ec,
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-subj",
        "/CN=jiliang test CA",
        "-days",
        "2",
    )
    run("req", *ec, "-keyout", "broker.key", "-out", "broker.csr", "-subj", "/CN=127.0.0.1")
    (d / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n", encoding="utf-8")
    run(
        "x509",
        "-req",
        "-in",
        "broker.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "broker.crt",
        "-days",
        "2",
        "-extfile",
        "san.ext",
    )


def test_devices_and_the_ingester_talk_over_tls(world: World, tmp_path: Path) -> None:
    make_certs(tmp_path)
    inst = instruments.file_instrument(
        world.platform, world.as_("enterprise"), instrument_raw("TLS-1", item_code="09.01")
    )
    secret = devices.register_device(
        world.platform,
        world.as_("city"),
        instrument_id=inst.id,
        device_id="FDT1",
        instrument_type="fuel_dispenser",
    )["secret"]
    files = broker.render(
        world.platform,
        world.as_("admin"),
        ingester_user="ingester",
        ingester_hash=credentials.hash_secret("ing-pw"),
    )
    pw, acl = broker.write(files, tmp_path)
    port = free_port()
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\ncafile {tmp_path / 'ca.crt'}\ncertfile {tmp_path / 'broker.crt'}\n"
        f"keyfile {tmp_path / 'broker.key'}\nallow_anonymous false\npassword_file {pw}\nacl_file {acl}\n"
        f"persistence false\nuser {getpass.getuser()}\n",
        encoding="utf-8",
    )
    proc = subprocess.Popen(
        ["mosquitto", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    stop = threading.Event()
    try:
        for _ in range(50):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        worker = MqttIngester(
            world.platform,
            port=port,
            client_id="tls-ingester",
            group="tls",
            username="ingester",
            password="ing-pw",
            tls_ca=str(tmp_path / "ca.crt"),
            max_wait_s=0.05,
        )
        thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
        thread.start()
        assert worker.subscribed.wait(10)
        dev = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="FDT1", protocol=mqtt.MQTTv5)
        dev.username_pw_set("FDT1", secret)
        dev.tls_set(ca_certs=str(tmp_path / "ca.crt"))
        dev.connect("127.0.0.1", port)
        dev.loop_start()
        body = {
            "schema": "fuel_dispenser/1",
            "device_id": "FDT1",
            "message_id": "1",
            "device_time": (datetime.now(UTC) - timedelta(minutes=5)).isoformat(),
            "values": {
                "volume_l": 20.0,
                "unit_price_yuan_per_l": 8.0,
                "amount_yuan": 160.0,
                "pulses": 2000,
                "totaliser_l": 20.0,
            },
        }
        dev.publish(
            broker.readings_topic(COUNTY_A, "fuel_dispenser", "FDT1"), json.dumps(body), qos=1
        ).wait_for_publish(10)
        deadline = time.monotonic() + 10
        while worker.stats.accepted < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        dev.loop_stop()
        # a client that does not trust the broker's CA gets no connection at all
        stranger = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="stranger", protocol=mqtt.MQTTv5)
        stranger.tls_set()  # the system CA store: the throw-away CA is not in it
        with pytest.raises(ssl.SSLError):
            stranger.connect("127.0.0.1", port)
    finally:
        stop.set()
        proc.terminate()
        proc.wait(timeout=10)
    assert worker.stats.accepted == 1
    got = queries.device_readings(world.platform, world.as_("city"), "FDT1")
    assert [r["message_id"] for r in got] == ["1"]
