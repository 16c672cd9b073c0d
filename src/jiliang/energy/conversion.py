"""Conversion to standard coal equivalent (折标准煤, GB/T 2589).

1 kgce is 29 307.6 kJ (7 000 kcal). Electricity is converted by one of two methods, both stated in every
figure: the calorific-value (当量值) method, 0.1229 kgce/kWh (3 600 kJ/kWh), and the equal-value (等价值)
method, the year's coal consumption of thermal power supply, which the report gives (it changes every year).
Amounts are converted to the coefficient's unit through pint, so "12 t" of coal and "12000 kg" agree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import pint

from jiliang.energy.rules import Coefficient, EnergyType
from jiliang.errors import InvalidInput
from jiliang.metrology.expression import unit_registry

ElectricityMethod = Literal["calorific", "equal_value"]


@dataclass(frozen=True)
class Converted:
    energy_type: EnergyType
    amount: float
    unit: str
    kgce: float
    coefficient: float  # kgce per coefficient unit
    coefficient_unit: str
    method: str  # "GB/T 2589-2020 reference coefficient", "当量值 calorific value", "等价值 equal value"


# Spellings of the data files and of energy reports that pint reads otherwise (or not at all).
_SPELLINGS = {"m3": "m**3", "Nm3": "m**3", "tce": "t"}


def _in_unit(amount: float, unit: str, target: str, field: str) -> float:
    ureg = unit_registry()
    try:
        return float(
            ureg.Quantity(amount, _SPELLINGS.get(unit, unit)).to(_SPELLINGS.get(target, target)).magnitude
        )
    except (
        pint.errors.DimensionalityError,
        pint.errors.UndefinedUnitError,
        AttributeError,
        ValueError,
        TypeError,
    ):
        raise InvalidInput(
            f"单位不符 / {unit!r} cannot be converted to {target!r} for this energy", field=field
        ) from None


def to_standard_coal(
    amount: float,
    unit: str,
    coefficient: Coefficient,
    *,
    electricity: ElectricityMethod = "calorific",
    equal_value_kgce_per_kwh: float | None = None,
) -> Converted:
    if not (math.isfinite(amount) and amount >= 0):
        raise InvalidInput("消耗量须为非负有限数 / consumption must be a finite number ≥ 0", field="amount")
    factor, method = coefficient.kgce_per_unit, "GB/T 2589-2020 reference coefficient"
    if coefficient.energy_type is EnergyType.ELECTRICITY:
        if electricity == "equal_value":
            if equal_value_kgce_per_kwh is None or not (0 < equal_value_kgce_per_kwh < 1):
                raise InvalidInput(
                    "等价值法须给出当年供电标准煤耗（kgce/kWh）/ the equal-value method needs the year's "
                    "coal consumption of power supply in kgce/kWh",
                    field="equal_value_kgce_per_kwh",
                )
            factor, method = equal_value_kgce_per_kwh, "等价值 equal value"
        else:
            method = "当量值 calorific value"
    value = _in_unit(amount, unit, coefficient.unit, "unit")
    return Converted(coefficient.energy_type, amount, unit, value * factor, factor, coefficient.unit, method)


def convert(amount: float, unit: str, target: str, field: str = "unit") -> float:
    """``amount`` in ``unit`` expressed in ``target``; refused (naming ``field``) when the two do not measure
    the same kind of quantity (a gas volume given for electricity)."""
    return _in_unit(amount, unit, target, field)


def canonical_unit(et: EnergyType, coefficients: dict[EnergyType, Coefficient]) -> str | None:
    """The unit the coefficient table states an energy in (kWh, m3, kg, MJ, t), which readings convert to."""
    c = coefficients.get(et)
    return c.unit if c else None
