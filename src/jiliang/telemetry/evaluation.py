"""Score the detectors on the labelled synthetic data set: precision, recall, detection delay.

Per detector and device, the detector *fires* when it raises any condition of severity warning or
critical (info episodes — an unlock, a clock set — are records, not alarms). A device whose fault is one
of the detector's ``TARGETS`` (a fault, or ``type:fault`` for one type only) is a positive; it is found (true positive) when the detector fires at or
after the onset, with the delay counted in readings from the onset. A firing on a device without a
targeted fault, or before the onset, is a false alarm (false positive). The batch is fed in chunks of
``chunk`` readings, as the live ingester would see it.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from jiliang.telemetry.detectors import DETECTORS, Params, detect
from jiliang.telemetry.profiles import DEFAULTS
from jiliang.telemetry.synthetic import Device

DEFAULT_PARAMS = Params()

# What each detector is for: a firing on these faults is a true positive.
TARGETS: dict[str, frozenset[str]] = {
    "consistency": frozenset({"totaliser"}),
    # every fault that changes the error series: a stuck register is an error of -100 % (a repeated
    # transaction, the stuck fault of dispensers and scales, is not)
    "drift": frozenset(
        {"drift", "cheat_size", "cheat_unlock", "electricity_meter:stuck", "water_meter:stuck"}
    ),
    "values": frozenset({"stuck"}),
    "liveness": frozenset({"gap"}),
    "tamper": frozenset({"tamper"}),
    "cheating": frozenset({"cheat_size", "cheat_unlock"}),
}


@dataclass(frozen=True)
class Score:
    detector: str
    positives: int
    true_positives: int
    false_positives: int
    median_delay: float | None  # readings after the onset
    max_delay: int | None

    @property
    def precision(self) -> float | None:
        fired = self.true_positives + self.false_positives
        return self.true_positives / fired if fired else None

    @property
    def recall(self) -> float | None:
        return self.true_positives / self.positives if self.positives else None


def first_firings(device: Device, params: Params = DEFAULT_PARAMS, chunk: int = 50) -> dict[str, int]:
    """Index of the first reading at which each detector fired on this device."""
    state = None
    first: dict[str, int] = {}
    profile = DEFAULTS[device.instrument_type]
    for start in range(0, len(device.readings), chunk):
        stop = start + chunk
        state, findings = detect(
            device.readings[start:stop], state, profile, params, received=device.received[start:stop]
        )
        for f in findings:
            if f.transition == "raised" and f.severity != "info":
                first.setdefault(f.detector, int(f.message_id))
    return first


def evaluate(devices: list[Device], params: Params = DEFAULT_PARAMS, chunk: int = 50) -> list[Score]:
    """One ``Score`` per detector over the whole data set."""
    firings = [(d, first_firings(d, params, chunk)) for d in devices]
    scores = []
    for det in DETECTORS:
        positives = tp = fp = 0
        delays: list[int] = []
        for d, first in firings:
            target = d.fault in TARGETS[det] or f"{d.instrument_type}:{d.fault}" in TARGETS[det]
            positives += target
            at = first.get(det)
            if at is None:
                continue
            if target and d.onset is not None and at >= d.onset:
                tp += 1
                delays.append(at - d.onset)
            else:
                fp += 1
        scores.append(
            Score(
                det,
                positives,
                tp,
                fp,
                statistics.median(delays) if delays else None,
                max(delays) if delays else None,
            )
        )
    return scores


def table(scores: list[Score]) -> str:
    """The Markdown table docs/telemetry.md prints (and a test compares)."""

    def pct(x: float | None) -> str:
        return "–" if x is None else f"{100 * x:.1f} %"

    lines = [
        "| detector | positives | TP | FP | precision | recall | median delay | max delay |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for s in scores:
        med = "–" if s.median_delay is None else f"{s.median_delay:g}"
        mx = "–" if s.max_delay is None else str(s.max_delay)
        lines.append(
            f"| {s.detector} | {s.positives} | {s.true_positives} | {s.false_positives} | "
            f"{pct(s.precision)} | {pct(s.recall)} | {med} | {mx} |"
        )
    return "\n".join(lines)
