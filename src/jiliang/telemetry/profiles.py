"""What the detectors need to know about one instrument: its type, MPE and how it reports.

The MPE defaults below are provisional (the usual class of each type; an instrument's own accuracy class
should override them) and say where they come from, as the catalogue's rule tables do.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from jiliang.errors import InvalidInput


@dataclass(frozen=True)
class Profile:
    instrument_type: str
    # Maximum permissible error: relative (0.003 = 0.3 %) on the error series of the type, or, for the
    # price-computing scale, absolute in kg on the indication at no load (``mpe_abs``).
    mpe: float
    mpe_abs: float = 0.0
    # Fuel dispensers: encoder pulses per litre set at verification (the K factor).
    k_factor: float = 100.0
    # Register meters: expected seconds between readings (0 = transaction driven, no schedule).
    interval_s: float = 0.0
    # Register meters: the most the register can advance per hour (Q4 for water, Imax x Un for energy).
    max_rate_per_h: float = 0.0
    # Register meters: reference increment accumulated before one point of the error series is formed,
    # so that the register's resolution does not dominate the error.
    min_reference_step: float = 0.0
    evidence: str = "provisional"
    source: str = ""


DEFAULTS: dict[str, Profile] = {
    "fuel_dispenser": Profile(
        "fuel_dispenser",
        mpe=0.003,
        k_factor=100.0,
        source="JJG 443 燃油加油机: MPE ±0.30 % of volume (provisional: clause not checked here)",
    ),
    "price_computing_scale": Profile(
        "price_computing_scale",
        mpe=0.0,
        mpe_abs=0.005,
        source="JJG 1204-2025 / OIML R 76: zero indication off by one verification interval e "
        "(e = 5 g for a 15 kg scale assumed; provisional)",
    ),
    "electricity_meter": Profile(
        "electricity_meter",
        mpe=0.02,
        interval_s=900,
        max_rate_per_h=60 * 0.22 * 1.0,  # 60 A x 220 V, single phase, kWh per hour
        min_reference_step=5.0,
        source="GB/T 17215.321 class 2 (±2.0 %) single-phase 220 V 5(60) A; provisional",
    ),
    "water_meter": Profile(
        "water_meter",
        mpe=0.02,
        interval_s=3600,
        max_rate_per_h=3.125,  # Q4 of a DN15 meter with Q3 = 2.5 m3/h
        min_reference_step=0.5,
        source="JJG 162 / GB/T 778 class 2, upper flow zone ±2 %, DN15 Q3 = 2.5; provisional",
    ),
}


def profile_for(instrument_type: str, **overrides: float) -> Profile:
    base = DEFAULTS.get(instrument_type)
    if base is None:
        raise InvalidInput("未知的器具类型 / unknown instrument type", field="instrument_type")
    return replace(base, **overrides) if overrides else base  # type: ignore[arg-type]
