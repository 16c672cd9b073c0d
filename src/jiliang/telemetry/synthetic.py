"""A seeded, labelled synthetic data set: devices of each type, half of them with one injected fault.

Each device is labelled with its fault and the index of the reading where it starts (``onset``), so the
detectors can be scored (``evaluation``). The same seed gives the same readings on every machine
(``random.Random`` is specified to be reproducible across platforms and Python versions for ``random()``,
which ``uniform`` and ``gauss`` build on). The physical models are deliberately simple and stated here:

- fuel dispenser: one transaction every 2–20 min, true volume uniform 5–60 L, encoder exact at
  ``k_factor`` pulses per litre, the shown volume off by a N(0, 0.05 %) error plus the fault; price 7.85;
- price-computing scale: one transaction every 1–10 min, 0.1–5 kg rounded to e = 5 g, the no-load
  indication N(0, 1 g) plus the fault, rounded to e;
- electricity meter: every 15 min, load 0.5–3 kW with a day/night shape, a check meter with N(0, 0.2 %);
- water meter: every hour, flow 0.02–0.3 m3/h with a day/night shape, a reference with N(0, 0.5 %).

Faults: ``drift`` (the error ramps over 200 readings to an amplitude drawn uniformly in 0.8–3 MPE), ``stuck`` (the register stops, or the
same transaction repeats), ``tamper`` (seal/case/cover opened, closed three readings later),
``cheat_size`` (dispensers: +2 MPE on 10–30 L only), ``cheat_unlock`` (dispensers: a remote unlock, then
+2 MPE), ``totaliser`` (dispensers: the totaliser advances 1 % short), ``gap`` (meters: six intervals
skipped).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from jiliang.telemetry.payloads import Reading
from jiliang.telemetry.profiles import DEFAULTS

SHANGHAI = timezone(timedelta(hours=8))
START = datetime(2026, 6, 1, tzinfo=SHANGHAI)
FAULTS = {
    "fuel_dispenser": ("drift", "stuck", "tamper", "cheat_size", "cheat_unlock", "totaliser"),
    "price_computing_scale": ("drift", "stuck", "tamper"),
    "electricity_meter": ("drift", "stuck", "tamper", "gap"),
    "water_meter": ("drift", "stuck", "tamper", "gap"),
}
OPENING = {
    "fuel_dispenser": ("seal_opened", "seal_closed"),
    "price_computing_scale": ("case_opened", "case_locked"),
    "electricity_meter": ("cover_opened", "cover_closed"),
    "water_meter": ("tamper", "tamper_cleared"),
}


@dataclass(frozen=True)
class Device:
    device_id: str
    instrument_type: str
    fault: str  # "none" or one of FAULTS[type]
    onset: int | None  # index of the first faulty reading
    readings: tuple[Reading, ...]
    received: tuple[datetime, ...]


def generate(seed: int = 2026, devices_per_type: int = 40, readings_per_device: int = 400) -> list[Device]:
    rng = random.Random(seed)
    devices = []
    for t in sorted(FAULTS):
        for k in range(devices_per_type):
            fault = "none" if k % 2 == 0 else FAULTS[t][(k // 2) % len(FAULTS[t])]
            n = readings_per_device
            onset = rng.randint(n // 4, n // 2) if fault != "none" else None
            devices.append(_device(rng, t, f"{t[:2].upper()}{k:04d}", fault, onset, n))
    return devices


def _ramp(i: int, onset: int | None, full: float) -> float:
    return 0.0 if onset is None or i < onset else min(1.0, (i - onset + 1) / 200) * full


def _events(t: str, fault: str, i: int, onset: int | None) -> list[str]:
    if onset is None:
        return []
    if fault == "tamper" and i in (onset, onset + 3):
        return [OPENING[t][0] if i == onset else OPENING[t][1]]
    if fault == "cheat_unlock" and i == onset:
        return ["remote_unlock"]
    return []


def _device(rng: random.Random, t: str, dev: str, fault: str, onset: int | None, n: int) -> Device:
    p = DEFAULTS[t]
    amp = rng.uniform(0.8, 3.0) if fault == "drift" else 0.0
    time = START + timedelta(seconds=rng.uniform(0, 3600))
    out: list[Reading] = []
    received: list[datetime] = []
    tot = reg = ref = 0.0
    last: dict[str, float] | None = None
    for i in range(n):
        on = onset is not None and i >= onset
        values: dict[str, float]
        if t == "fuel_dispenser":
            time += timedelta(seconds=rng.uniform(120, 1200))
            true_v = rng.uniform(5, 60)
            err = rng.gauss(0, 0.0005) + _ramp(i, onset, amp * p.mpe)
            if on and (fault == "cheat_unlock" or (fault == "cheat_size" and 10 <= true_v < 30)):
                err += 2 * p.mpe
            shown = round(true_v * (1 + err), 2)
            values = {
                "volume_l": shown,
                "unit_price_yuan_per_l": 7.85,
                "amount_yuan": round(shown * 7.85, 2),
                "pulses": float(round(true_v * p.k_factor)),
            }
            if fault == "stuck" and on and last is not None:
                values = dict(last)
                shown = values["volume_l"]
            tot = round(tot + (shown * 0.99 if fault == "totaliser" and on else shown), 2)
            values["totaliser_l"] = tot
            last = values
        elif t == "price_computing_scale":
            time += timedelta(seconds=rng.uniform(60, 600))
            mass = round(rng.uniform(0.1, 5) / 0.005) * 0.005
            price = rng.choice((3.5, 6.8, 12.0, 28.0))
            zero = rng.gauss(0, 0.001) + _ramp(i, onset, amp * p.mpe_abs)
            values = {
                "mass_kg": round(mass, 3),
                "unit_price_yuan_per_kg": price,
                "amount_yuan": round(mass * price, 2),
                "zero_kg": round(round(zero / 0.005) * 0.005, 3),
            }
            if fault == "stuck" and on and last is not None:
                values = dict(last)
            last = values
        else:
            gap = 6 if fault == "gap" and i == onset else 0
            step_h = p.interval_s / 3600
            time += timedelta(seconds=p.interval_s * (1 + gap))
            night = time.hour < 6
            if t == "electricity_meter":
                load = rng.uniform(0.5, 3.0) * (0.4 if night else 1.0)
                true_e = load * step_h * (1 + gap)
                ref += true_e * (1 + rng.gauss(0, 0.002))
                err = _ramp(i, onset, amp * p.mpe)
                if not (fault == "stuck" and on):
                    reg += true_e * (1 + err)
                values = {
                    "energy_kwh": round(reg, 2),
                    "reference_energy_kwh": round(ref, 2),
                    "voltage_v": round(rng.gauss(220, 2), 1),
                    "current_a": round(load * 1000 / 220, 2),
                }
            else:
                flow = rng.uniform(0.02, 0.3) * (0.2 if night else 1.0)
                true_q = flow * step_h * (1 + gap)
                ref += true_q * (1 + rng.gauss(0, 0.005))
                err = _ramp(i, onset, amp * p.mpe)
                if not (fault == "stuck" and on):
                    reg += true_q * (1 + err)
                values = {
                    "volume_m3": round(reg, 3),
                    "reference_volume_m3": round(ref, 3),
                    "flow_m3_per_h": round(flow, 4),
                    "battery_v": 3.6,
                }
        out.append(Reading(dev, str(i), time, f"{t}/1", values, tuple(_events(t, fault, i, onset))))
        received.append(time + timedelta(seconds=rng.uniform(0.05, 2.0)))
    return Device(dev, t, fault, onset, tuple(out), tuple(received))
