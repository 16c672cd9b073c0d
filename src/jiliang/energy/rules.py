"""Rule data of energy metering: GB 17167 thresholds, equipping rates and accuracy; GB/T 2589 coefficients.

Each table is shipped as CSV under ``jiliang/data/energy/`` with every row marked ``confirmed`` or
``provisional`` and its source, as the catalogue does; a rule set is read once and kept as frozen values.
Versions sit side by side (``rule_set``): a review names the rule set it applied.
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources

from jiliang.errors import InvalidInput


class EnergyType(StrEnum):
    """Energy and energy-carrying media metered under GB 17167 (4.1)."""

    ELECTRICITY = "electricity"  # 电力
    COAL = "coal"  # 煤炭
    COKE = "coke"  # 焦炭
    CRUDE_OIL = "crude_oil"  # 原油
    REFINED_OIL = "refined_oil"  # 成品油
    HEAVY_OIL = "heavy_oil"  # 重油、渣油
    NATURAL_GAS = "natural_gas"  # 天然气
    LPG = "lpg"  # 液化石油气
    COAL_GAS = "coal_gas"  # 煤气
    STEAM = "steam"  # 蒸汽、热水
    WATER = "water"  # 水
    WASTE_ENERGY = "waste_energy"  # 可回收利用的余能


class Level(StrEnum):
    """The three levels of GB 17167: the unit's boundary, main secondary units, main equipment."""

    BOUNDARY = "boundary"  # 进出用能单位
    SECONDARY = "secondary"  # 进出主要次级用能单位
    EQUIPMENT = "equipment"  # 主要用能设备


ENERGY_LABELS: dict[EnergyType, tuple[str, str]] = {
    EnergyType.ELECTRICITY: ("电力", "electricity"),
    EnergyType.COAL: ("煤炭", "coal"),
    EnergyType.COKE: ("焦炭", "coke"),
    EnergyType.CRUDE_OIL: ("原油", "crude oil"),
    EnergyType.REFINED_OIL: ("成品油", "refined oil"),
    EnergyType.HEAVY_OIL: ("重油、渣油", "heavy and residual oil"),
    EnergyType.NATURAL_GAS: ("天然气", "natural gas"),
    EnergyType.LPG: ("液化石油气", "liquefied petroleum gas"),
    EnergyType.COAL_GAS: ("煤气", "coal gas"),
    EnergyType.STEAM: ("蒸汽、热水", "steam and hot water"),
    EnergyType.WATER: ("水", "water"),
    EnergyType.WASTE_ENERGY: ("余能", "recoverable waste energy"),
}
LEVEL_LABELS: dict[Level, tuple[str, str]] = {
    Level.BOUNDARY: ("进出用能单位", "unit boundary"),
    Level.SECONDARY: ("进出主要次级用能单位", "main secondary units"),
    Level.EQUIPMENT: ("主要用能设备", "main energy-using equipment"),
}


def energy_type(value: object, field: str = "energy_type") -> EnergyType:
    try:
        return EnergyType(str(value))
    except ValueError:
        raise InvalidInput(
            f"能源种类无效 / energy type must be one of {', '.join(e.value for e in EnergyType)}", field=field
        ) from None


def level(value: object, field: str = "level") -> Level:
    try:
        return Level(str(value))
    except ValueError:
        raise InvalidInput(
            f"层级无效 / level must be one of {', '.join(x.value for x in Level)}", field=field
        ) from None


@dataclass(frozen=True)
class Provenance:
    evidence: str  # "confirmed" or "provisional"
    source: str
    notes: str


@dataclass(frozen=True)
class Threshold:
    """The consumption (or power) from which a secondary unit or a piece of equipment is "main" (表1, 表2)."""

    energy_type: EnergyType
    level: Level
    limit: float
    unit: str  # "kW", "t/a", "m3/h", …
    basis: str  # "power" (installed power) or "consumption"
    provenance: Provenance


@dataclass(frozen=True)
class RequiredRate:
    """The equipping rate the standard requires per energy type and level, in percent (表3)."""

    energy_type: EnergyType
    level: Level
    percent: float
    provenance: Provenance


@dataclass(frozen=True)
class AccuracyRule:
    """The loosest maximum permissible error (percent) allowed for a kind of meter on an energy (表4)."""

    meter_kind: str
    energy_type: EnergyType
    application: str
    max_mpe_percent: float
    class_label: str
    provenance: Provenance


@dataclass(frozen=True)
class Clauses:
    """The clause a shortfall cites: an equipping rate or a missing meter, an accuracy, a meter's state."""

    rate: str
    accuracy: str
    state: str


@dataclass(frozen=True)
class RuleSet:
    name: str
    thresholds: dict[tuple[EnergyType, Level], Threshold]
    rates: dict[tuple[EnergyType, Level], RequiredRate]
    accuracy: dict[tuple[str, EnergyType], AccuracyRule]
    clauses: Clauses = Clauses("GB 17167-2006 表3", "GB 17167-2006 表4", "GB 17167-2006 5.2")

    @functools.cached_property
    def provisional_rows(self) -> int:
        provenances: list[Provenance] = [
            *(r.provenance for r in self.thresholds.values()),
            *(r.provenance for r in self.rates.values()),
            *(r.provenance for r in self.accuracy.values()),
        ]
        return sum(1 for p in provenances if p.evidence != "confirmed")


RULE_SETS = {"GB 17167-2006": "gb17167-2006", "GB 24789-2009": "gb24789-2009"}
# GB 24789's clause numbers could not be read (docs/energy.md): its shortfalls name the requirement, not a number
CLAUSES = {
    "gb17167-2006": Clauses("GB 17167-2006 表3", "GB 17167-2006 表4", "GB 17167-2006 5.2"),
    "gb24789-2009": Clauses("GB 24789-2009 配备率要求", "GB 24789-2009 准确度要求", "GB 24789-2009 检定/校准要求"),
}
COEFFICIENT_SETS = {"GB/T 2589-2020": "gbt2589-2020"}


def _rows(filename: str) -> list[dict[str, str]]:
    data = resources.files("jiliang") / "data" / "energy" / filename
    with data.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _provenance(row: dict[str, str]) -> Provenance:
    if row["evidence"] not in ("confirmed", "provisional"):
        raise ValueError(f"evidence must be confirmed or provisional: {row}")
    return Provenance(row["evidence"], row["source"], row["notes"])


@functools.cache
def rule_set(name: str = "GB 17167-2006") -> RuleSet:
    """The shipped rule set ``name`` (GB 17167-2006 by default)."""
    if name not in RULE_SETS:
        raise InvalidInput(
            f"没有这个规则版本 / no rule set {name!r}; known: {', '.join(RULE_SETS)}", field="rule_set"
        )
    stem = RULE_SETS[name]
    thresholds = {
        (EnergyType(r["energy_type"]), Level(r["level"])): Threshold(
            EnergyType(r["energy_type"]),
            Level(r["level"]),
            float(r["limit"]),
            r["unit"],
            r["basis"],
            _provenance(r),
        )
        for r in _rows(f"{stem}-thresholds.csv")
    }
    rates = {
        (EnergyType(r["energy_type"]), Level(r["level"])): RequiredRate(
            EnergyType(r["energy_type"]), Level(r["level"]), float(r["required_percent"]), _provenance(r)
        )
        for r in _rows(f"{stem}-rates.csv")
    }
    accuracy = {
        (r["meter_kind"], EnergyType(r["energy_type"])): AccuracyRule(
            r["meter_kind"],
            EnergyType(r["energy_type"]),
            r["application"],
            float(r["max_mpe_percent"]),
            r["class_label"],
            _provenance(r),
        )
        for r in _rows(f"{stem}-accuracy.csv")
    }
    return RuleSet(name, thresholds, rates, accuracy, CLAUSES[stem])


@dataclass(frozen=True)
class Coefficient:
    """Standard-coal equivalent of one unit of an energy (kgce per ``unit``), GB/T 2589."""

    energy_type: EnergyType
    unit: str
    kgce_per_unit: float
    provenance: Provenance


@functools.cache
def coefficients(name: str = "GB/T 2589-2020") -> dict[EnergyType, Coefficient]:
    if name not in COEFFICIENT_SETS:
        raise InvalidInput(
            f"没有这个折标系数版本 / no coefficient set {name!r}; known: {', '.join(COEFFICIENT_SETS)}",
            field="coefficients",
        )
    return {
        EnergyType(r["energy_type"]): Coefficient(
            EnergyType(r["energy_type"]), r["unit"], float(r["kgce_per_unit"]), _provenance(r)
        )
        for r in _rows(f"{COEFFICIENT_SETS[name]}-coefficients.csv")
    }
