"""Energy balance (能源平衡): a parent meter against the sum of the meters under it, per period.

The tolerance follows from the meters' accuracy, not a fixed percentage: each meter's maximum permissible
error (MPE, percent of its reading) is taken as the half-width of a rectangular distribution (JCGM 100
4.3.7), u(x) = MPE·x/√3; the difference d = P − Σ cᵢ is uncorrelated in its terms, so
u(d)² = u(P)² + Σ u(cᵢ)² and the tolerance is k·u(d) with k = 2 (about 95 %). A difference beyond it is
an imbalance: more than the meters' own errors can explain (a leak, an unmetered consumer, a faulty meter).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from jiliang.errors import InvalidInput


@dataclass(frozen=True)
class Reading:
    meter: str
    value: float  # the consumption in the period, one unit for all meters of the balance
    mpe_percent: float


@dataclass(frozen=True)
class Balance:
    parent: float
    children: float
    difference: float  # parent − Σ children
    u: float  # standard uncertainty of the difference
    tolerance: float  # k·u
    k: float

    @property
    def relative(self) -> float:
        return self.difference / self.parent if self.parent else math.nan

    @property
    def within(self) -> bool:
        return abs(self.difference) <= self.tolerance


def _u(reading: Reading, field: str) -> float:
    if not (math.isfinite(reading.value) and reading.value >= 0):
        raise InvalidInput(
            f"读数须为非负有限数 / reading of {reading.meter!r} must be a finite number ≥ 0", field=field
        )
    if not (math.isfinite(reading.mpe_percent) and reading.mpe_percent > 0):
        raise InvalidInput(f"最大允许误差须为正数 / MPE of {reading.meter!r} must be > 0", field=field)
    return reading.mpe_percent / 100 * reading.value / math.sqrt(3)


def check(parent: Reading, children: Sequence[Reading], k: float = 2.0) -> Balance:
    """The balance of ``parent`` against ``children`` with the tolerance their accuracy allows."""
    if not children:
        raise InvalidInput(
            "平衡检查需要下级计量器具 / a balance needs at least one child meter", field="children"
        )
    u2 = _u(parent, "parent") ** 2 + sum(_u(c, f"children[{i}]") ** 2 for i, c in enumerate(children))
    total = math.fsum(c.value for c in children)
    u = math.sqrt(u2)
    return Balance(parent.value, total, parent.value - total, u, k * u, k)
