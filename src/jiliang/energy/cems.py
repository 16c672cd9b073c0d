"""The measurement method beside the calculation method (CEMS 与核算法比对).

Where a continuous emission monitoring system (CEMS) measures a unit's CO₂ over a period, its figure
stands beside the calculation method's (``carbon.py``): the difference d = E_meas − E_calc and its
standard uncertainty u(d) = √(u_meas² + u_calc²) (the two methods share no input, so no correlation),
and whether |d| ≤ 2·u(d) — the two agree within what their uncertainties explain. A larger difference
points at a meter, a factor or the CEMS itself and is worth a look; it decides nothing by itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from jiliang.errors import InvalidInput


@dataclass(frozen=True)
class Comparison:
    calculated: float  # t CO2
    u_calculated: float
    measured: float
    u_measured: float
    difference: float  # measured − calculated
    relative: float  # difference ÷ calculated
    u_difference: float
    consistent: bool  # |d| ≤ 2 u(d)


def compare(calculated: float, u_calculated: float, measured: float, u_measured_percent: float) -> Comparison:
    if not (math.isfinite(measured) and measured >= 0):
        raise InvalidInput("实测排放量须为非负数（t CO₂）/ the measured emissions must be ≥ 0 t CO₂", field="measured_t")
    if not (math.isfinite(u_measured_percent) and 0 < u_measured_percent < 100):
        raise InvalidInput(
            "实测的相对标准不确定度须在 0 与 100 % 之间 / the measurement's relative standard uncertainty must be in (0, 100) %",
            field="u_percent",
        )
    if not (math.isfinite(calculated) and calculated > 0 and math.isfinite(u_calculated) and u_calculated >= 0):
        raise InvalidInput("核算法排放量不可用 / the calculated emissions are not available", field="period")
    u_m = u_measured_percent / 100 * measured
    d = measured - calculated
    u_d = math.hypot(u_m, u_calculated)
    return Comparison(calculated, u_calculated, measured, u_m, d, d / calculated, u_d, abs(d) <= 2 * u_d)
