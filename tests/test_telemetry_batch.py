"""The vectorised batch path gives the same findings and states as the live ``detect``."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest

from jiliang.telemetry import batch, synthetic
from jiliang.telemetry.detectors import Finding, State, detect
from jiliang.telemetry.payloads import SCHEMAS, Reading
from jiliang.telemetry.profiles import DEFAULTS


def by_device(findings: list[Finding]) -> dict[str, list[Finding]]:
    out: dict[str, list[Finding]] = {}
    for f in findings:
        out.setdefault(f.device_id, []).append(f)
    return out


def test_the_labelled_evaluation_set_gives_the_same_findings_and_states() -> None:
    devices = synthetic.generate()  # the set docs/telemetry.md scores: 160 devices, 64,000 readings
    total = 0
    for kind in batch.TYPES:
        profile = DEFAULTS[kind]
        group = [d for d in devices if d.instrument_type == kind]
        result = batch.detect_readings([(d.readings, d.received) for d in group], profile)
        found = by_device(result.findings)
        for d in group:
            state, live = detect(d.readings, None, profile, received=d.received)
            assert found.get(d.device_id, []) == live, d.device_id
            assert result.states[d.device_id] == state, d.device_id
            total += len(live)
    assert total > 150  # every fault of the set is in it: drift, stuck, tamper, cheating, gaps


def messy(kind: str, rng: random.Random, n_devices: int = 4, n: int = 120) -> list[tuple[Reading, datetime | None]]:
    """Readings with every event of the type sprinkled, ties in device time, missing optional values,
    unknown receive times, faults, in a shuffled arrival order (so some arrive late)."""
    schema = SCHEMAS[f"{kind}/1"]
    base = synthetic.generate(seed=rng.randint(0, 10**6), devices_per_type=2 * n_devices, readings_per_device=n)
    out: list[tuple[Reading, datetime | None]] = []
    for d in (d for d in base if d.instrument_type == kind):
        for i, (r, rec) in enumerate(zip(d.readings, d.received, strict=True)):
            events = tuple(rng.sample(schema.events, 1)) if rng.random() < 0.06 else r.events
            values = dict(r.values)
            optional = [v.name for v in schema.values if not v.required and v.name in values]
            if optional and rng.random() < 0.1:
                values.pop(rng.choice(optional))
            when = r.device_time
            if i and rng.random() < 0.05:
                when = d.readings[i - 1].device_time  # the same device time as the reading before
            if rng.random() < 0.02:
                rec = rec + timedelta(minutes=10)  # a clock jump
            r2 = Reading(r.device_id, r.message_id, when, r.schema, values, events)
            out.append((r2, None if rng.random() < 0.1 else rec))
    # arrival order: mostly in order, with some readings delayed by a few places
    keyed = [(i + (rng.randint(0, 12) if rng.random() < 0.08 else 0), i, x) for i, x in enumerate(out)]
    return [x for _, _, x in sorted(keyed)]


@pytest.mark.parametrize("kind", batch.TYPES)
def test_consecutive_batches_with_late_readings_give_the_same_findings_and_states(kind: str) -> None:
    rng = random.Random(11)
    profile = DEFAULTS[kind]
    arrivals = messy(kind, rng)
    live_states: dict[str, State] = {}
    live: dict[str, list[Finding]] = {}
    states: dict[str, State] = {}
    got: list[Finding] = []
    late = 0
    for start in range(0, len(arrivals), 97):
        chunk = arrivals[start : start + 97]
        for dev in dict.fromkeys(r.device_id for r, _ in chunk):
            mine = [(r, rec) for r, rec in chunk if r.device_id == dev]
            rec_list = [rec for _, rec in mine]
            if any(x is None for x in rec_list):  # detect takes all receive times or none
                rec_list = [x or r.device_time for (r, _), x in zip(mine, rec_list, strict=True)]
            st, out = detect([r for r, _ in mine], live_states.get(dev), profile, received=rec_list)
            live_states[dev] = st
            live.setdefault(dev, []).extend(out)
        readings = [r for r, _ in chunk]
        received = [rec or r.device_time for r, rec in chunk]
        result = batch.detect_columns(batch.columns_from_readings(readings, received), profile, states)
        states.update(result.states)
        got += result.findings
        late += result.late
    assert by_device(got) == {d: f for d, f in live.items() if f}
    assert states == live_states
    assert late == sum(s.late for s in live_states.values()) > 0
