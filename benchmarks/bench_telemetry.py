"""Remote supervision: detector throughput, exactly-once ingestion into SQLite, and MQTT end to end.

    PYTHONPATH=src python benchmarks/bench_telemetry.py [--devices 40] [--readings 400] [--ingest 20000]
                                                        [--mqtt 5000]

1. ``detect`` over the seeded synthetic data set (the batch path), against a baseline loop that only
   reads every value of every reading (the floor of any per-reading Python rule), same data, same run;
2. ``ingest`` of single-reading messages in batches of 500 (validation, insert-once, detectors, state,
   warnings, one transaction per batch) into a fresh SQLite file, then the same batches redelivered (all
   duplicates), against a bare ``executemany`` of the same rows into the same table;
3. with ``--mqtt N``: a private Mosquitto started on a free port with ``max_inflight_messages 5000`` and
   ``max_queued_messages 0`` (unbounded; with the default of 1000 a broker drops QoS 1 messages queued
   for a subscriber that falls behind), N readings published at QoS 1 by one ``mosquitto_pub -l``
   process per device (C, so the publisher is not the bound), ``--per-message K`` readings per MQTT
   message (1: device messages; e.g. 100: gateway batches), drained by the in-process ingester (ack
   after commit) and counted end to end in the database; with ``--drain-only`` first the same through
   the same ingester acknowledging without storing (the MQTT client's own ceiling). Each run prints the
   CPU seconds per reading of the ingester process, the broker and the publishers, which depend far
   less on the machine's load than the wall-clock rates do.

Prints the machine load next to the figures (the machines are shared).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from sqlalchemy import func, insert, select  # noqa: E402

from jiliang.domain.access import SYSTEM  # noqa: E402
from jiliang.services import instruments, organisations  # noqa: E402
from jiliang.services.platform import Platform  # noqa: E402
from jiliang.services.telemetry import broker, devices, ingest  # noqa: E402
from jiliang.settings import Settings  # noqa: E402
from jiliang.store.models import TelemetryReading  # noqa: E402
from jiliang.telemetry import detectors, synthetic  # noqa: E402
from jiliang.telemetry.profiles import DEFAULTS  # noqa: E402


def load() -> str:
    return Path("/proc/loadavg").read_text().split()[0] if Path("/proc/loadavg").exists() else "?"


def bench_detect(n_devices: int, n_readings: int) -> None:
    data = synthetic.generate(devices_per_type=n_devices, readings_per_device=n_readings)
    total = sum(len(d.readings) for d in data)
    t0 = time.perf_counter()
    acc = 0.0
    for d in data:
        for r in d.readings:
            for v in r.values.values():
                acc += v
    base = time.perf_counter() - t0
    t0 = time.perf_counter()
    for d in data:
        detectors.detect(d.readings, None, DEFAULTS[d.instrument_type], received=d.received)
    took = time.perf_counter() - t0
    print(
        f"detect: {total:,} readings in {took:.2f} s = {total / took:,.0f} readings/s on one core; "
        f"baseline (read every value) {total / base:,.0f}/s, ratio {took / base:.0f}x  [load {load()}]"
    )


def world(platform: Platform, n: int) -> list[str]:
    organisations.ensure_national(platform)
    organisations.add_region(platform, SYSTEM, "330000", "浙江省")
    organisations.add_region(platform, SYSTEM, "339900", "演示市")
    organisations.add_region(platform, SYSTEM, "339901", "东城区")
    from jiliang.domain.credit_code import make_credit_code
    from jiliang.services import catalogue

    catalogue.ensure_shipped(platform)
    org = organisations.add_organisation(
        platform,
        SYSTEM,
        credit_code=make_credit_code("91339901000000001"),
        name="加油站",
        kind="fuel_station",
        region_code="339901",
    )
    ids = []
    for k in range(n):
        inst = instruments.file_instrument(
            platform,
            SYSTEM,
            {
                "name": f"加油机 {k}",
                "item_code": "09.01",
                "model": "M",
                "serial_number": f"S{k}",
                "manufacturer": "示例",
                "region_code": "339901",
                "use": "trade_settlement",
                "filed_on": "2025-01-10",
                "owner_id": org.id,
            },
        )
        devices.register_device(
            platform, SYSTEM, instrument_id=inst.id, device_id=f"FD{k:05d}", instrument_type="fuel_dispenser"
        )
        ids.append(f"FD{k:05d}")
    return ids


def payload(device_id: str, i: int, start: datetime, offset: int = 0) -> bytes:
    volume = 10 + (i % 37) + (i % 1000) / 1000
    return json.dumps(
        {
            "schema": "fuel_dispenser/1",
            "device_id": device_id,
            "message_id": str(offset + i),
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


def bench_ingest(platform: Platform, ids: list[str], n: int) -> None:
    now = datetime.now(UTC)
    start = now - timedelta(days=1)
    msgs = [
        ingest.Message(payload(ids[i % len(ids)], i, start), now, "mqtt", device_id=ids[i % len(ids)])
        for i in range(n)
    ]
    batches = [msgs[i : i + 500] for i in range(0, n, 500)]
    t0 = time.perf_counter()
    accepted = sum(ingest.ingest(platform, b).accepted for b in batches)
    took = time.perf_counter() - t0
    t0 = time.perf_counter()
    dup = sum(ingest.ingest(platform, b).duplicates for b in batches)
    took_dup = time.perf_counter() - t0
    rows = [
        {
            "device_pk": 1,
            "message_id": f"b{i}",
            "device_time": now,
            "received_at": now,
            "schema": "fuel_dispenser/1",
            "values": {"volume_l": 1.0},
            "events": [],
        }
        for i in range(n)
    ]
    t0 = time.perf_counter()
    for i in range(0, n, 500):
        with platform.unit_of_work(SYSTEM) as s:
            s.execute(insert(TelemetryReading), rows[i : i + 500])
    base = time.perf_counter() - t0
    assert accepted == n and dup == n
    print(
        f"ingest (SQLite, batches of 500): {n / took:,.0f} readings/s new, {n / took_dup:,.0f}/s all "
        f"duplicates; bare executemany {n / base:,.0f}/s, ratio {took / base:.1f}x  [load {load()}]"
    )


def bench_mqtt(platform: Platform, ids: list[str], n: int, batch: int, drain_only: bool) -> None:
    import shutil
    import socket
    import subprocess

    if shutil.which("mosquitto") is None or shutil.which("mosquitto_pub") is None:
        print("MQTT: skipped, no mosquitto / mosquitto_pub binary")
        return
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    conf = Path(tempfile.mkdtemp()) / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
        "max_inflight_messages 5000\nmax_queued_messages 0\n",
        encoding="utf-8",
    )
    proc = subprocess.Popen(
        ["mosquitto", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    time.sleep(0.5)
    try:
        if drain_only:
            _mqtt_run(platform, ids, n, port, batch, True, proc.pid)
        _mqtt_run(platform, ids, n, port, batch, False, proc.pid)
    finally:
        proc.terminate()
        proc.wait(10)


class _DrainOnly:
    """The client library's ceiling: the same ingester, acknowledging each batch without storing it."""

    def __init__(self, worker: Any) -> None:
        self.worker = worker
        self.count = 0

    def process(self, batch: list[Any], stop: threading.Event) -> bool:
        for m in batch:
            self.worker.client.ack(m.mid, m.qos)
        self.count += sum(m.payload.count(b'"message_id"') for m in batch)
        self.worker.stats.messages += len(batch)
        self.worker.stats.batches += 1
        return True


def _cpu_of(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children_cpu() -> float:
    import resource

    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _mqtt_run(
    platform: Platform,
    ids: list[str],
    n: int,
    port: int,
    per_message: int,
    drain_only: bool,
    broker_pid: int,
) -> None:
    """``n`` readings from ``len(ids)`` devices, ``per_message`` readings per MQTT message (1: one
    device message each; more: a gateway batch), published by one ``mosquitto_pub -l`` process per
    device (C, QoS 1, up to 1000 in flight) so that the publisher is not the bound."""
    import subprocess

    from jiliang.services.telemetry.ingester import MqttIngester

    run = uuid.uuid4().hex[:8]
    root = f"jiliang-bench-{run}/v1"
    with platform.reading() as s:
        before = int(s.scalar(select(func.count()).select_from(TelemetryReading)) or 0)
    worker = MqttIngester(
        platform,
        port=port,
        client_id=f"bench-{run}",
        group=f"b{run}",
        root=root,
        batch_size=max(1, 5000 // per_message),
        receive_maximum=5000,
    )
    drain = _DrainOnly(worker) if drain_only else None
    if drain is not None:
        worker.process = drain.process  # type: ignore[method-assign]
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    thread.start()
    worker.subscribed.wait(10)
    start = datetime.now(UTC) - timedelta(seconds=n + 600)  # device times in the past, not refused
    tmp = Path(tempfile.mkdtemp())
    files = []
    offset = 20_000_000 + (0 if drain_only else 10_000_000)
    per_device = n // len(ids)
    for k, dev in enumerate(ids):
        lines = []
        for j in range(0, per_device, per_message):
            chunk = [
                json.loads(payload(dev, k * per_device + i, start, offset))
                for i in range(j, min(per_device, j + per_message))
            ]
            body = chunk[0] if per_message == 1 else {"readings": chunk}
            lines.append(json.dumps(body, separators=(",", ":")))
        f = tmp / f"{dev}.txt"
        f.write_text("\n".join(lines) + "\n", encoding="utf-8")
        files.append((dev, f, len(lines)))
    total = per_device * len(ids)
    messages = sum(c for _, _, c in files)
    t0 = time.perf_counter()
    cpu0, broker0, children0 = time.process_time(), _cpu_of(broker_pid), _children_cpu()
    pubs = [
        subprocess.Popen(
            [
                "mosquitto_pub",
                "-p",
                str(port),
                "-q",
                "1",
                "-M",
                "1000",
                "-V",
                "mqttv311",
                "-l",
                "-t",
                broker.readings_topic("339901", "fuel_dispenser", dev, root),
            ],
            stdin=f.open("rb"),
            stdout=subprocess.DEVNULL,
        )
        for dev, f, _ in files
    ]
    for p in pubs:
        p.wait(600)
    published = time.perf_counter() - t0
    got = 0
    while got < total and time.perf_counter() - t0 < 600:
        time.sleep(0.05)
        if drain is not None:
            got = drain.count
        else:
            with platform.reading() as s:
                got = int(s.scalar(select(func.count()).select_from(TelemetryReading)) or 0) - before
    took = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    broker_cpu = _cpu_of(broker_pid) - broker0
    pub_cpu = _children_cpu() - children0
    stop.set()
    thread.join(30)
    what = "drain only (ack, nothing stored)" if drain_only else "into SQLite"
    print(
        f"MQTT {what}, {per_message} reading(s)/message: {got:,} of {total:,} readings in {took:.1f} s = "
        f"{got / took:,.0f} readings/s, {messages * got / max(1, total) / took:,.0f} msg/s "
        f"(publishers done after {published:.1f} s = {messages / published:,.0f} msg/s offered; "
        f"batches {worker.stats.batches}, mean {worker.stats.messages / max(1, worker.stats.batches):.0f} "
        f"msgs)  [load {load()}]",
        flush=True,
    )
    us = 1e6 / max(1, got)
    print(
        f"  CPU per reading: ingester {cpu * us:.1f} µs, broker {broker_cpu * us:.1f} µs, publishers "
        f"{pub_cpu * us:.1f} µs → the ingester's own CPU bounds it at "
        f"{got / max(cpu, 1e-9):,.0f} readings/s per core it has to itself"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--devices", type=int, default=40, help="synthetic devices per type")
    ap.add_argument("--readings", type=int, default=400, help="readings per synthetic device")
    ap.add_argument("--ingest", type=int, default=20_000, help="readings ingested into SQLite")
    ap.add_argument("--mqtt", type=int, default=0, help="readings through Mosquitto (0: skip)")
    ap.add_argument("--per-message", type=int, default=1, help="readings per MQTT message (gateway batch)")
    ap.add_argument("--devices-mqtt", type=int, default=16, help="publishing devices (one process each)")
    ap.add_argument("--drain-only", action="store_true", help="also measure the client without storage")
    a = ap.parse_args()
    bench_detect(a.devices, a.readings)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            environment="test", database_url=f"sqlite:///{os.path.join(tmp, 'b.db')}", data_dir=Path(tmp)
        )
        platform = Platform.open(settings)
        ids = world(platform, 50)
        bench_ingest(platform, ids, a.ingest)
        if a.mqtt:
            bench_mqtt(platform, ids[: a.devices_mqtt], a.mqtt, a.per_message, a.drain_only)
        platform.close()


if __name__ == "__main__":
    main()
