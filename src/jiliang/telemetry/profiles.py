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
    # Non-automatic weighing instruments (weighbridge): the verification scale interval e, in kg; the MPE
    # at a load follows from it (``weighing_mpe``).
    e_kg: float = 0.0
    # EV chargers: how far the vehicle's (BMS) energy may differ before the session is flagged; the BMS is
    # not a traceable reference, so this is a plausibility bound, not an MPE.
    vehicle_tolerance: float = 0.0
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
    "gas_meter": Profile(
        "gas_meter",
        mpe=0.015,
        interval_s=3600,
        max_rate_per_h=6.0,  # qmax of a G4 diaphragm meter
        min_reference_step=0.5,
        source="JJG 577 膜式燃气表 / GB/T 6968 class 1.5: ±1.5 % from qt to qmax (±3 % below qt); "
        "G4 assumed; provisional",
    ),
    "heat_meter": Profile(
        "heat_meter",
        mpe=0.036,
        interval_s=3600,
        max_rate_per_h=60 * 2.5 * 1.163,  # qs 2.5 m3/h x ΔΘ 60 K x 1.163 kWh/(m3·K)
        min_reference_step=20.0,
        source="JJG 225 热能表 / EN 1434 class 2: Ef + Et + Ec = (2 + 0.02 qp/q) + (0.5 + 3 ΔΘmin/ΔΘ) "
        "+ (0.5 + ΔΘmin/ΔΘ) % = 3.6 % at q = qp, ΔΘ = 20 K, ΔΘmin = 3 K; provisional",
    ),
    "ev_charger": Profile(
        "ev_charger",
        mpe=0.01,
        min_reference_step=5.0,
        vehicle_tolerance=0.05,
        source="JJG 1149 电动汽车非车载充电机 class 1 (±1.0 %); JJG 1148 AC chargers class 2 would be "
        "±2.0 %; the 5 % vehicle bound is a plausibility allowance for BMS error and cable loss; provisional",
    ),
    "weighbridge": Profile(
        "weighbridge",
        mpe=0.0,
        e_kg=20.0,
        source="JJG 539 数字指示秤 / OIML R 76 class III, Max 60 t, e = 20 kg assumed; in-service MPE twice "
        "the verification MPE (±0.5 e to 500 e, ±1 e to 2000 e, ±1.5 e above); provisional",
    ),
}


def weighing_mpe(mass_kg: float, e_kg: float, in_service: bool = True) -> float:
    """MPE of a class III non-automatic weighing instrument at a load (OIML R 76-1 table 6): ±0.5 e up to
    500 e, ±1 e up to 2000 e, ±1.5 e above; doubled in service (R 76-1 3.5.2)."""
    m = abs(mass_kg) / e_kg
    base = 0.5 if m <= 500 else 1.0 if m <= 2000 else 1.5
    return base * e_kg * (2 if in_service else 1)


def profile_for(instrument_type: str, **overrides: float) -> Profile:
    base = DEFAULTS.get(instrument_type)
    if base is None:
        raise InvalidInput("未知的器具类型 / unknown instrument type", field="instrument_type")
    return replace(base, **overrides) if overrides else base  # type: ignore[arg-type]
