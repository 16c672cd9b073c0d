"""``jiliang demo --stream`` (demo/stream.py) against the real Mosquitto: devices provisioned for the
registry's instruments, the seeded scripts published with wall-clock times, every published reading
stored once, injected faults raised as warnings — and a second run continuing the registers instead of
reading as registers running backwards. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy import func, select

from jiliang.demo import stream
from jiliang.services import instruments
from jiliang.store.models import TelemetryDevice, TelemetryReading, TelemetryWarning
from tests.factories import World, instrument_raw
from tests.test_telemetry_mqtt import HOST, PORT, broker_up

pytestmark = pytest.mark.skipif(not broker_up(), reason="needs Mosquitto on 127.0.0.1:1883")


def test_the_demo_stream_stores_every_reading_and_raises_the_injected_faults(world: World) -> None:
    for k in range(4):
        for item in ("09.01", "06.01"):
            size = 15.0 if item == "06.01" else None
            raw = instrument_raw(f"ST-{item}-{k}", item_code=item, nominal_size=size)
            instruments.file_instrument(world.platform, world.as_("enterprise"), raw)
    run = uuid.uuid4().hex[:8]

    def go() -> stream.StreamStats:
        return stream.run(
            world.platform,
            host=HOST,
            port=PORT,
            devices=8,
            period_s=0.02,
            root=f"jiliang-test-{run}/v1",
            group=f"s{run}",
            readings=80,
            stop=threading.Event(),
            say=lambda _line: None,
        )

    first = go()
    assert (first.devices, first.provisioned) == (8, 8) and first.published > 0
    with world.platform.reading() as s:
        stored = s.scalar(select(func.count()).select_from(TelemetryReading))
        kinds = set(s.scalars(select(TelemetryDevice.instrument_type)))
        raised = {
            f"{d}:{c}" for d, c in s.execute(select(TelemetryWarning.detector, TelemetryWarning.condition))
        }
    assert stored == first.published  # nothing lost, nothing twice
    assert kinds == {"fuel_dispenser", "water_meter"}
    assert "values:stuck" in raised  # an injected fault of the scripts (devices 3 of each type)
    second = go()
    assert (second.devices, second.provisioned) == (8, 0)
    with world.platform.reading() as s:
        again = {
            f"{d}:{c}" for d, c in s.execute(select(TelemetryWarning.detector, TelemetryWarning.condition))
        }
        assert (
            s.scalar(select(func.count()).select_from(TelemetryReading)) == first.published + second.published
        )
    assert "values:reverse" not in again and "consistency:totaliser" not in again
