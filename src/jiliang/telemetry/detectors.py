"""Detectors: pure functions over a batch of readings plus per-instrument state.

``detect(readings, state, profile)`` is the one entry point, called by the live ingester for each
committed batch and by the batch path over a whole history: it sorts the batch by device time, runs every
detector on each reading in turn, and returns the new state and the *transitions* of conditions
(``raised`` / ``cleared``). Each detector is an online rule (one pass, bounded state), so running it over
a history in one call or in many consecutive batches gives the same findings (tests/test_telemetry.py
checks it). A condition that persists raises once; it is cleared when the rule no longer holds — the
de-duplication lives in the state (``State.active``), not in a notification layer.

The detectors (parameters in ``Params``; prose and scores in docs/telemetry.md):

- ``consistency`` — the dispenser's totaliser advances by the transaction's volume; amount = quantity x
  unit price (to the fen); encoder pulses agree with the volume within ``pulse_gross`` MPEs.
- ``drift`` — the error series (pulses vs volume for dispensers, no-load indication for scales, register
  vs a reference for meters) in units of the MPE: a two-sided CUSUM (Page 1954; ``cusum_k``, ``cusum_h``)
  raises ``drift`` on a persistent shift; an EWMA (Roberts 1959; ``ewma_lambda``) beyond 1 MPE raises
  ``out_of_tolerance``.
- ``values`` — ``stuck`` (register unchanged while use is evident, or the same transaction repeated),
  ``zero`` (paid for nothing), ``reverse`` (a register runs backwards), ``impossible`` (the register
  advances faster than the instrument's maximum rate). Negative and physically impossible raw values
  never reach a detector: ``payloads.validate`` refuses them and ingestion quarantines them, counted.
- ``liveness`` — ``gap`` (the device skipped ``gap_factor`` reporting intervals), ``clock_jump`` (the
  device clock moved ahead of the receiver's by more than ``clock_tolerance_s`` between readings; delivery
  latency only ever moves it the other way), ``offline`` (see ``offline``), ``clock_set`` events.
- ``tamper`` — seal / case / cover opened until closed or locked, magnetic interference, encoder
  mismatch, reverse energy; remote unlock and board or encoder replacement are recorded (info) and arm
  the next rule.
- ``cheating`` — ``size_dependent``: the error differs between transaction sizes (dispensers) or between
  night and day (meters) — one bin out of tolerance while another is within it; ``change_after_event``:
  the error moved by more than ``change_limit`` MPEs within ``watch_n`` readings after a remote unlock or
  a board or encoder replacement.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from jiliang.telemetry.payloads import Reading
from jiliang.telemetry.profiles import Profile, weighing_mpe

DETECTORS = ("consistency", "drift", "values", "liveness", "tamper", "cheating")
REGISTER_OF = {
    "electricity_meter": "energy_kwh",
    "water_meter": "volume_m3",
    "gas_meter": "volume_m3",
    "heat_meter": "energy_kwh",
    "fuel_dispenser": "totaliser_l",
    "ev_charger": "register_kwh",
}
# Register meters: the register is checked against a reference register (and for use while stuck).
REFERENCE_OF = {
    "electricity_meter": "reference_energy_kwh",
    "water_meter": "reference_volume_m3",
    "gas_meter": "reference_volume_m3",
    "heat_meter": "reference_energy_kwh",
}
USE_OF = {
    "electricity_meter": ("current_a", 0.5),
    "water_meter": ("flow_m3_per_h", 0.01),
    "gas_meter": ("flow_m3_per_h", 0.016),
    "heat_meter": ("flow_m3_per_h", 0.01),
}
# Transaction instruments: amount = quantity x (price + per-unit service fee, where the type has one).
QUANTITY_OF = {
    "fuel_dispenser": ("volume_l", "unit_price_yuan_per_l"),
    "price_computing_scale": ("mass_kg", "unit_price_yuan_per_kg"),
    "ev_charger": ("energy_kwh", "unit_price_yuan_per_kwh"),
}
# Session or transaction instruments whose register must advance by the transaction's quantity.
TOTALISED = {"fuel_dispenser": "volume_l", "ev_charger": "energy_kwh"}
OPENINGS = {
    "seal_opened": "seal_closed",
    "case_opened": "case_locked",
    "cover_opened": "cover_closed",
    "tamper": "tamper_cleared",
    "junction_box_opened": "junction_box_closed",
}
WHILE_PRESENT = {
    "magnetic_interference": "critical",
    "encoder_mismatch": "critical",
    "reverse_energy": "warning",
    "low_battery": "warning",
    "sensor_fault": "warning",
}
ARMING = ("remote_unlock", "main_board_replaced", "encoder_replaced", "calibration_changed")
INFO_EVENTS = (*ARMING, "clock_set", "leak", "valve_closed")


@dataclass(frozen=True)
class Params:
    cusum_k: float = 0.5  # allowance, in MPEs: half the smallest shift worth finding (1 MPE)
    cusum_h: float = 8.0  # decision interval, in MPEs
    z_clip: float = 10.0  # one reading moves the CUSUM by at most this many MPEs (robust to outliers)
    ewma_lambda: float = 0.1
    oot_limit: float = 1.0  # EWMA of the error beyond 1 MPE: out of tolerance
    oot_clear: float = 0.8
    stuck_n: int = 4
    gap_factor: float = 3.0
    offline_factor: float = 4.0
    clock_tolerance_s: float = 120.0
    amount_tolerance_yuan: float = 0.011  # rounding to the fen, plus float noise
    totaliser_tolerance: float = 0.02  # L: two digits of the totaliser
    pulse_gross: float = 5.0  # pulses vs volume beyond 5 MPEs is a gross inconsistency, not drift
    bin_lambda: float = 0.2
    cheat_min_n: int = 10
    cheat_persist: int = 20  # error points the split must hold: a drift ramp lags in rare bins, briefly
    cheat_high: float = 1.2
    cheat_low: float = 0.4
    change_limit: float = 1.0
    change_min_n: int = 8
    watch_n: int = 60


@dataclass
class State:
    """Everything a detector remembers about one instrument between batches (JSON-serialisable)."""

    last_ts: float | None = None
    last_skew: float | None = None
    last_register: float | None = None
    last_reference: float | None = None
    last_tx: list[float] | None = None
    repeats: int = 0
    acc_register: float = 0.0
    acc_reference: float = 0.0
    cusum_pos: float = 0.0
    cusum_neg: float = 0.0
    ewma: float = 0.0
    n_errors: int = 0
    bins: dict[str, list[float]] = field(default_factory=dict)  # bin -> [ewma, count]
    split_run: int = 0
    watch_event: str | None = None
    watch_pre: float = 0.0
    watch_ewma: float | None = None
    watch_n: int = 0
    active: dict[str, str] = field(default_factory=dict)  # "detector:condition" -> severity
    late: int = 0
    readings: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> State:
        return cls(**data) if data else cls()


@dataclass(frozen=True)
class Finding:
    """A condition of one instrument was raised or cleared at one reading, with the evidence."""

    device_id: str
    detector: str
    condition: str
    transition: str  # "raised" | "cleared"
    severity: str  # "info" | "warning" | "critical"
    device_time: datetime
    message_id: str
    evidence: dict[str, Any]

    @property
    def key(self) -> str:
        return f"{self.detector}:{self.condition}"


class _Run:
    """The findings of one batch, and the helper that turns a rule's verdict into transitions."""

    def __init__(self, state: State) -> None:
        self.state = state
        self.out: list[Finding] = []

    def set(
        self, r: Reading, detector: str, condition: str, active: bool, severity: str, evidence: dict[str, Any]
    ) -> None:
        key = f"{detector}:{condition}"
        was = key in self.state.active
        if active and not was:
            self.state.active[key] = severity
            self.out.append(
                Finding(
                    r.device_id,
                    detector,
                    condition,
                    "raised",
                    severity,
                    r.device_time,
                    r.message_id,
                    _evidence(r, evidence),
                )
            )
        elif was and not active:
            sev = self.state.active.pop(key)
            self.out.append(
                Finding(
                    r.device_id,
                    detector,
                    condition,
                    "cleared",
                    sev,
                    r.device_time,
                    r.message_id,
                    _evidence(r, evidence),
                )
            )

    def once(
        self, r: Reading, detector: str, condition: str, severity: str, evidence: dict[str, Any]
    ) -> None:
        """An episode that is over when it is seen (a gap, an unlock): raised and cleared together."""
        self.set(r, detector, condition, True, severity, evidence)
        self.set(r, detector, condition, False, severity, evidence)


def _evidence(r: Reading, extra: dict[str, Any]) -> dict[str, Any]:
    return {
        "message_id": r.message_id,
        "device_time": r.device_time.isoformat(),
        "values": dict(r.values),
        "events": list(r.events),
        **extra,
    }


def error_point(r: Reading, st: State, p: Profile, d_reg: float | None, d_ref: float | None) -> float | None:
    """One point of the error series in MPEs (positive: the instrument shows more than was delivered),
    or None when this reading gives none. Register meters accumulate until ``min_reference_step``."""
    v = r.values
    t = r.instrument_type
    if t == "fuel_dispenser":
        pulses = v.get("pulses", 0.0)
        if pulses <= 0 or v["volume_l"] <= 0:
            return None
        return (v["volume_l"] / (pulses / p.k_factor) - 1.0) / p.mpe
    if t == "price_computing_scale":
        return v["zero_kg"] / p.mpe_abs if "zero_kg" in v and p.mpe_abs > 0 else None
    if t == "weighbridge" and p.e_kg > 0:
        # a check load when this weighing is one, else the no-load indication before it
        if "check_load_kg" in v and v["check_load_kg"] > 0:
            return (v["mass_kg"] - v["check_load_kg"]) / weighing_mpe(v["check_load_kg"], p.e_kg)
        return v["zero_kg"] / weighing_mpe(0.0, p.e_kg) if "zero_kg" in v else None
    if t == "ev_charger":
        # only a traceable reference forms the error series; the vehicle's figure is a plausibility check
        ref = v.get("reference_energy_kwh")
        if ref is None or ref < p.min_reference_step or p.mpe <= 0:
            return None
        return (v["energy_kwh"] / ref - 1.0) / p.mpe
    if t in REFERENCE_OF and d_reg is not None and d_ref is not None and d_ref >= 0:
        st.acc_register += d_reg
        st.acc_reference += d_ref
        if st.acc_reference < p.min_reference_step:
            return None
        e = st.acc_register / st.acc_reference - 1.0
        st.acc_register = st.acc_reference = 0.0
        return e / p.mpe
    return None


def _consistency(
    run: _Run, r: Reading, p: Profile, par: Params, d_reg: float | None, z: float | None
) -> None:
    v, st, t = r.values, run.state, r.instrument_type
    if t in TOTALISED and d_reg is not None:
        diff = d_reg - v[TOTALISED[t]]
        unit = TOTALISED[t].rsplit("_", 1)[1]
        run.set(
            r,
            "consistency",
            "totaliser",
            abs(diff) > par.totaliser_tolerance,
            "critical",
            {
                "totaliser_step": round(d_reg, 4),
                f"difference_{unit}": round(diff, 4),
                f"previous_totaliser_{unit}": st.last_register,
            },
        )
    if t == "ev_charger":
        _charger_energy(run, r, p, z)
    if t == "weighbridge" and v.get("check_load_kg", 0.0) > 0 and p.e_kg > 0:
        mpe = weighing_mpe(v["check_load_kg"], p.e_kg)
        error = v["mass_kg"] - v["check_load_kg"]
        run.set(
            r,
            "consistency",
            "check_load",
            abs(error) > mpe,
            "critical",
            {"check_load_kg": v["check_load_kg"], "error_kg": round(error, 3), "mpe_kg": mpe},
        )
    if t in QUANTITY_OF:
        q, price = QUANTITY_OF[t]
        expected = v[q] * (v[price] + v.get("service_fee_yuan_per_kwh", 0.0))
        run.set(
            r,
            "consistency",
            "amount",
            abs(v["amount_yuan"] - expected) > par.amount_tolerance_yuan,
            "critical",
            {"expected_amount_yuan": round(expected, 4)},
        )
    if t == "fuel_dispenser" and z is not None:
        run.set(
            r,
            "consistency",
            "pulses",
            abs(z) > par.pulse_gross,
            "critical",
            {"error_mpe": round(z, 3), "k_factor": p.k_factor},
        )


def _charger_energy(run: _Run, r: Reading, p: Profile, z: float | None) -> None:
    """EV charger: a session with a reference meter whose energy differs by more than the MPE fails,
    as a check would (``reference_energy``); the vehicle's own figure beyond ``vehicle_tolerance`` is a
    warning (``vehicle_energy``): the BMS is no reference, but a charger that sells more than every car
    receives is the complaint drivers make. Sessions below ``min_reference_step`` kWh are skipped (the
    registers' 0.01 kWh resolution would dominate)."""
    v = r.values
    if z is not None:
        run.set(
            r,
            "consistency",
            "reference_energy",
            abs(z) > 1.0,
            "critical",
            {"reference_energy_kwh": v["reference_energy_kwh"], "error_mpe": round(z, 3), "mpe": p.mpe},
        )
    car = v.get("vehicle_energy_kwh")
    if car is not None and car >= p.min_reference_step and p.vehicle_tolerance > 0:
        rel = v["energy_kwh"] / car - 1.0
        run.set(
            r,
            "consistency",
            "vehicle_energy",
            abs(rel) > p.vehicle_tolerance,
            "warning",
            {
                "vehicle_energy_kwh": car,
                "relative_difference": round(rel, 4),
                "tolerance": p.vehicle_tolerance,
            },
        )


def _drift(run: _Run, r: Reading, par: Params, z: float | None) -> None:
    st = run.state
    if z is None:
        return
    st.n_errors += 1
    zc = max(-par.z_clip, min(par.z_clip, z))
    cap = 2 * par.cusum_h  # capped so that a fault that ends is cleared promptly
    st.cusum_pos = min(cap, max(0.0, st.cusum_pos + zc - par.cusum_k))
    st.cusum_neg = min(cap, max(0.0, st.cusum_neg - zc - par.cusum_k))
    st.ewma += par.ewma_lambda * (zc - st.ewma)
    ev = {
        "error_mpe": round(z, 3),
        "cusum_pos": round(st.cusum_pos, 3),
        "cusum_neg": round(st.cusum_neg, 3),
        "ewma_mpe": round(st.ewma, 3),
    }
    drifting = max(st.cusum_pos, st.cusum_neg) > (
        par.cusum_h / 2 if "drift:drift" in st.active else par.cusum_h
    )
    run.set(r, "drift", "drift", drifting, "warning", ev)
    limit = par.oot_clear if "drift:out_of_tolerance" in st.active else par.oot_limit
    run.set(r, "drift", "out_of_tolerance", abs(st.ewma) > limit, "critical", ev)


def _values(
    run: _Run,
    r: Reading,
    p: Profile,
    par: Params,
    d_reg: float | None,
    d_ref: float | None,
    d_t: float | None,
) -> None:
    v, st, t = r.values, run.state, r.instrument_type
    if t in REGISTER_OF and d_reg is not None:
        run.set(r, "values", "reverse", d_reg < -1e-9, "critical", {"register_step": round(d_reg, 6)})
    if t in REFERENCE_OF and d_reg is not None:
        use_key, use_min = USE_OF[t]
        in_use = (d_ref is not None and d_ref > 0) or v.get(use_key, 0.0) > use_min
        if d_reg > 0:
            st.repeats = 0
        elif in_use and d_reg == 0:
            st.repeats += 1
        run.set(
            r, "values", "stuck", st.repeats >= par.stuck_n, "critical", {"unchanged_readings": st.repeats}
        )
        if d_t and d_t > 0 and p.max_rate_per_h > 0:
            rate = d_reg / (d_t / 3600)
            run.set(
                r,
                "values",
                "impossible",
                rate > 1.1 * p.max_rate_per_h,
                "critical",
                {"rate_per_h": round(rate, 4), "max_rate_per_h": p.max_rate_per_h},
            )
    if t in QUANTITY_OF:
        q, _ = QUANTITY_OF[t]
        tx = [v[q], v["amount_yuan"], v.get("pulses", 0.0)]
        st.repeats = st.repeats + 1 if st.last_tx == tx and v[q] > 0 else 0
        st.last_tx = tx
        run.set(
            r,
            "values",
            "stuck",
            st.repeats + 1 >= par.stuck_n,
            "critical",
            {"identical_transactions": st.repeats + 1},
        )
        zero = (v[q] == 0 and v["amount_yuan"] > 0) or (v[q] == 0 and v.get("pulses", 0.0) > 0)
        run.set(r, "values", "zero", zero, "critical", {})


def _liveness(run: _Run, r: Reading, p: Profile, par: Params, d_t: float | None, skew: float | None) -> None:
    st = run.state
    run.set(r, "liveness", "offline", False, "warning", {})
    if d_t is not None and p.interval_s > 0 and d_t > par.gap_factor * p.interval_s:
        run.once(r, "liveness", "gap", "warning", {"gap_s": d_t, "interval_s": p.interval_s})
    if skew is not None:
        jumped = st.last_skew is not None and skew - st.last_skew > par.clock_tolerance_s
        run.set(
            r,
            "liveness",
            "clock_jump",
            jumped,
            "warning",
            {"skew_s": round(skew, 3), "previous_skew_s": st.last_skew},
        )
        st.last_skew = skew
    if "clock_set" in r.events:
        run.once(r, "liveness", "clock_set", "info", {})


def _tamper(run: _Run, r: Reading) -> None:
    for opening, closing in OPENINGS.items():
        if opening in r.events:
            run.set(r, "tamper", opening, True, "critical", {})
        if closing in r.events:
            run.set(r, "tamper", opening, False, "critical", {})
    for event, severity in WHILE_PRESENT.items():
        run.set(r, "tamper", event, event in r.events, severity, {})
    for event in INFO_EVENTS:
        if event in r.events:
            run.once(r, "tamper", event, "info", {})


def _bin(r: Reading) -> str:
    if r.instrument_type == "fuel_dispenser":
        vol = r.values["volume_l"]
        return "lt10L" if vol < 10 else "10-30L" if vol < 30 else "ge30L"
    if r.instrument_type == "ev_charger":  # a session-size pattern, as for dispensers
        e = r.values["energy_kwh"]
        return "lt20kWh" if e < 20 else "ge20kWh"
    return "night" if r.device_time.hour < 6 else "day"


def _cheating(run: _Run, r: Reading, par: Params, z: float | None) -> None:
    st = run.state
    armed = next((e for e in ARMING if e in r.events), None)
    if armed is not None:
        st.watch_event, st.watch_pre, st.watch_ewma, st.watch_n = armed, st.ewma, None, 0
    if z is None:
        return
    zc = max(-par.z_clip, min(par.z_clip, z))
    if r.instrument_type not in ("price_computing_scale", "weighbridge"):  # no size or hour pattern
        b = st.bins.setdefault(_bin(r), [0.0, 0.0])
        b[0] += par.bin_lambda * (zc - b[0])
        b[1] += 1
        ready = {k: ew for k, (ew, n) in st.bins.items() if n >= par.cheat_min_n}
        split = (
            len(ready) >= 2
            and max(abs(x) for x in ready.values()) > par.cheat_high
            and min(abs(x) for x in ready.values()) < par.cheat_low
        )
        st.split_run = st.split_run + 1 if split else 0
        run.set(
            r,
            "cheating",
            "size_dependent",
            st.split_run >= par.cheat_persist,
            "critical",
            {"bins_ewma_mpe": {k: round(x, 3) for k, x in sorted(ready.items())}},
        )
    if st.watch_event is None:
        return
    st.watch_ewma = zc if st.watch_ewma is None else st.watch_ewma + 0.2 * (zc - st.watch_ewma)
    st.watch_n += 1
    moved = st.watch_n >= par.change_min_n and abs(st.watch_ewma - st.watch_pre) > par.change_limit
    run.set(
        r,
        "cheating",
        "change_after_event",
        moved,
        "critical",
        {
            "event": st.watch_event,
            "error_before_mpe": round(st.watch_pre, 3),
            "error_after_mpe": round(st.watch_ewma, 3),
        },
    )
    if st.watch_n >= par.watch_n and "cheating:change_after_event" not in st.active:
        st.watch_event, st.watch_ewma = None, None


def detect(
    readings: Iterable[Reading],
    state: State | None,
    profile: Profile,
    params: Params = Params(),
    received: Sequence[datetime] | None = None,
) -> tuple[State, list[Finding]]:
    """Run every detector over one instrument's batch; return the new state and the transitions.

    ``received`` (same order as ``readings``), when known, is when each reading reached the platform;
    it feeds the clock-jump rule. Readings older than the last one processed are counted as ``late``
    and skipped by the sequential rules (storage still places them by device time)."""
    st = copy.deepcopy(state) if state is not None else State()
    run = _Run(st)
    batch = list(readings)
    rec = list(received) if received is not None else [None] * len(batch)
    order = sorted(range(len(batch)), key=lambda i: (batch[i].device_time, batch[i].message_id))
    for i in order:
        r = batch[i]
        ts = r.device_time.timestamp()
        if st.last_ts is not None and ts < st.last_ts:
            st.late += 1
            continue
        st.readings += 1
        d_t = ts - st.last_ts if st.last_ts is not None else None
        reg_key = REGISTER_OF.get(r.instrument_type)
        reg = r.values.get(reg_key) if reg_key else None
        ref_key = REFERENCE_OF.get(r.instrument_type)
        ref = r.values.get(ref_key) if ref_key else None
        d_reg = reg - st.last_register if reg is not None and st.last_register is not None else None
        d_ref = ref - st.last_reference if ref is not None and st.last_reference is not None else None
        received_at = rec[i]
        skew = (ts - received_at.timestamp()) if received_at is not None else None
        z = error_point(r, st, profile, d_reg, d_ref)
        _consistency(run, r, profile, params, d_reg, z)
        _drift(run, r, params, z)
        _values(run, r, profile, params, d_reg, d_ref, d_t)
        _liveness(run, r, profile, params, d_t, skew)
        _tamper(run, r)
        _cheating(run, r, params, z)
        st.last_ts = ts
        if reg is not None:
            st.last_register = reg
        if ref is not None:
            st.last_reference = ref
    return st, run.out


def offline(
    device_id: str, state: State, profile: Profile, now: datetime, params: Params = Params()
) -> tuple[State, list[Finding]]:
    """``offline``: a scheduled device silent for ``offline_factor`` intervals (run by a timer, not per
    reading); cleared by its next reading in ``detect``."""
    st = copy.deepcopy(state)
    if profile.interval_s <= 0 or st.last_ts is None or "liveness:offline" in st.active:
        return st, []
    silent = now.timestamp() - st.last_ts
    if silent <= params.offline_factor * profile.interval_s:
        return st, []
    st.active["liveness:offline"] = "warning"
    return st, [
        Finding(
            device_id,
            "liveness",
            "offline",
            "raised",
            "warning",
            now,
            "",
            {"silent_s": round(silent, 1), "interval_s": profile.interval_s},
        )
    ]
