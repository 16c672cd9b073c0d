"""The MQTT ingester: an MQTT 5 shared subscription, batches, and acknowledgement only after the commit.

Why paho-mqtt 2 and not gmqtt (faster on these machines draining a backlog: 77–81 k msg/s against
21–32 k, issue 11): exactly-once effect needs the PUBACK to be sent *after* the batch is committed, and
paho 2 has that as an API (``manual_ack=True``, ``Client.ack(mid, qos)``), thread-safe, with the network
loop on its own thread; gmqtt acknowledges when its ``on_message`` coroutine returns, which would hold one
coroutine open per message of a batch. Throughput here is bounded by the database commit per batch, not
by the client's parsing; re-measure before switching.

The protocol:

1. connect with ``clean_start=False`` and a session expiry, under a stable client id, so that the broker
   keeps this ingester's session (its subscription and its unacknowledged messages) while it is down;
2. subscribe ``$share/<group>/<root>/+/+/+/readings`` at QoS 1: several ingesters with the same group
   share the load, each message going to one of them;
   and ``…/status`` (birth and death: ``ingest.presence``);
3. collect messages up to ``batch_size`` or ``max_wait_s``; the device identity of each is the topic's
   (which the broker's ACL lets only that device write: ``broker.py``);
4. ``ingest.ingest`` the batch in one transaction; after it commits, ``ack`` every message of the batch.
   If the commit fails (database down) the batch is retried from memory with back-off, still unacked;
   if the process dies, the broker redelivers the unacked messages when the session reconnects, and the
   (device, message id) key makes the ones already committed count once.

``receive_maximum`` bounds how many unacknowledged messages the broker sends (the batch can be no larger);
Mosquitto caps it at its ``max_inflight_messages`` (default 20; set it higher for throughput, see
docs/telemetry.md) and queues at most ``max_queued_messages`` (default 1000) per offline session.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from jiliang.services.platform import Platform
from jiliang.services.telemetry import broker, ingest

log = logging.getLogger(__name__)


@dataclass
class Stats:
    messages: int = 0
    batches: int = 0
    accepted: int = 0
    duplicates: int = 0
    quarantined: int = 0
    retries: int = 0
    started: float = field(default_factory=time.monotonic)


def device_of(topic: str, root: str, kind: str = "readings") -> str:
    """The device id in ``<root>/<region>/<type>/<device>/<kind>``; "" when the topic is not one."""
    if not topic.startswith(root + "/"):
        return ""
    parts = topic[len(root) + 1 :].split("/")
    return parts[2] if len(parts) == 4 and parts[3] == kind else ""


class MqttIngester:
    def __init__(
        self,
        platform: Platform,
        *,
        host: str = "127.0.0.1",
        port: int = 1883,
        client_id: str = "jiliang-ingester-1",
        group: str = "jiliang",
        root: str = broker.ROOT,
        username: str | None = None,
        password: str | None = None,
        batch_size: int = 500,
        max_wait_s: float = 0.2,
        receive_maximum: int = 1000,
        session_expiry_s: int = 24 * 3600,
        tls: bool = False,
        tls_ca: str | None = None,
    ) -> None:
        self.platform = platform
        self.host, self.port, self.root, self.group = host, port, root, group
        self.batch_size, self.max_wait_s = batch_size, max_wait_s
        self.stats = Stats()
        self.subscribed = threading.Event()
        # A deque, not a queue.Queue: append and popleft are atomic, and the network thread pays no
        # lock and condition per message (measured: the Queue's notify was a large share of the drain).
        self._inbox: collections.deque[mqtt.MQTTMessage] = collections.deque()
        self._receive_maximum, self._session_expiry = receive_maximum, session_expiry_s
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5, manual_ack=True
        )
        if username is not None:
            self.client.username_pw_set(username, password)
        if tls or tls_ca:
            self.client.tls_set(ca_certs=tls_ca)  # None: the system's CA store
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = self._on_message

    # --- network thread ---------------------------------------------------------------------------
    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            log.error("MQTT connect refused: %s", reason)
            return
        client.subscribe(
            [
                (broker.subscription(self.group, self.root), 1),
                (broker.subscription(self.group, self.root, "status"), 1),
            ]
        )

    def _on_subscribe(self, _c: mqtt.Client, _u: Any, _mid: int, reasons: Any, _p: Any) -> None:
        if all(not r.is_failure for r in reasons):
            self.subscribed.set()
        else:
            log.error("MQTT subscription refused: %s", reasons)

    def _on_message(self, _c: mqtt.Client, _u: Any, message: mqtt.MQTTMessage) -> None:
        self._inbox.append(message)

    # --- the ingesting thread ---------------------------------------------------------------------
    def connect(self) -> None:
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = self._session_expiry
        props.ReceiveMaximum = self._receive_maximum
        self.client.connect(self.host, self.port, keepalive=30, clean_start=False, properties=props)
        self.client.loop_start()

    def _collect(self, stop: threading.Event) -> list[mqtt.MQTTMessage]:
        """Up to ``batch_size`` messages: whatever has arrived, waiting at most ``max_wait_s`` after the
        first one for more (polling the deque every 5 ms while it is empty)."""
        batch: list[mqtt.MQTTMessage] = []
        inbox = self._inbox
        deadline = None
        while len(batch) < self.batch_size and not stop.is_set():
            while inbox and len(batch) < self.batch_size:
                batch.append(inbox.popleft())
            if len(batch) >= self.batch_size:
                break
            if batch:
                if deadline is None:
                    deadline = time.monotonic() + self.max_wait_s
                elif time.monotonic() >= deadline:
                    break
            time.sleep(0.005)
        return batch

    def process(self, batch: list[mqtt.MQTTMessage], stop: threading.Event) -> bool:
        """Ingest one batch, retrying from memory while the database is away; ack after the commit.
        Returns False when stopped before the batch could be committed (left unacked: redelivered)."""
        now = datetime.now(UTC)
        statuses = [m for m in batch if m.topic.endswith("/status")]
        messages = [
            ingest.Message(m.payload, now, "mqtt", device_id=device_of(m.topic, self.root))
            for m in batch
            if not m.topic.endswith("/status")
        ]
        updates = [(device_of(m.topic, self.root, "status"), bytes(m.payload), now) for m in statuses]
        delay = 0.5
        while True:
            try:
                result = ingest.ingest(self.platform, messages)
                if updates:
                    ingest.presence(self.platform, updates)
                break
            except Exception:  # a database outage: keep the batch, do not ack, try again
                log.exception("ingest failed; retrying the batch of %d in %.1f s", len(batch), delay)
                self.stats.retries += 1
                if stop.wait(delay):
                    return False
                delay = min(delay * 2, 30.0)
        for m in batch:
            if m.qos > 0:
                self.client.ack(m.mid, m.qos)
        s = self.stats
        s.messages += len(batch)
        s.batches += 1
        s.accepted += result.accepted
        s.duplicates += result.duplicates
        s.quarantined += result.quarantined
        return True

    def run(self, stop: threading.Event) -> Stats:
        self.connect()
        try:
            while not stop.is_set():
                batch = self._collect(stop)
                if batch and not self.process(batch, stop):
                    break
        finally:
            self.client.disconnect()
            self.client.loop_stop()
        return self.stats
