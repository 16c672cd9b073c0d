"""The plan's indicators, rolled up the region tree and set against their targets.

No official formula is published for 强检计量器具检定覆盖率 or 强检项目建标覆盖率; the definitions used
here are written down in docs/indicators.md and their options live in ``CoverageDefinition``. The
database delivers counts per (leaf region, catalogue item); everything from there on is here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from jiliang.domain.regions import ancestors, in_jurisdiction


class Indicator(StrEnum):
    VERIFICATION_COVERAGE = "verification_coverage"  # 强检计量器具检定覆盖率
    STANDARD_COVERAGE = "standard_coverage"  # 强检项目建标覆盖率
    OVERDUE = "overdue"  # 超期未检数量
    # 重点用能单位能耗在线监测覆盖率: key energy-using units with every boundary meter reporting (services/energy)
    ENERGY_MONITORING_COVERAGE = "energy_monitoring_coverage"


ALL_ITEMS = ""


@dataclass(frozen=True, slots=True)
class Count:
    region_code: str
    item_code: str
    numerator: int
    denominator: int


@dataclass(frozen=True, slots=True)
class IndicatorValue:
    indicator: Indicator
    region_code: str
    item_code: str
    numerator: int
    denominator: int
    target: float | None = None

    @property
    def rate(self) -> float | None:
        return None if self.denominator == 0 else self.numerator / self.denominator

    @property
    def meets_target(self) -> bool | None:
        rate = self.rate
        if self.target is None or rate is None:
            return None
        return rate >= self.target

    @property
    def gap(self) -> float | None:
        """Rate minus target (negative: short of it)."""
        rate = self.rate
        return None if self.target is None or rate is None else rate - self.target


def roll_up(counts: Iterable[Count], root: str) -> dict[tuple[str, str], tuple[int, int]]:
    """Sum leaf counts into every region between the leaf and ``root``, per item and over all items."""
    totals: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for c in counts:
        if not in_jurisdiction(c.region_code, root):
            continue
        for region in ancestors(c.region_code):
            for item in (c.item_code, ALL_ITEMS):
                t = totals[(region, item)]
                t[0] += c.numerator
                t[1] += c.denominator
            if region == root:
                break
    return {k: (v[0], v[1]) for k, v in totals.items()}


def standard_coverage(
    items_in_use: Mapping[str, set[str]],
    items_with_standard: Mapping[str, set[str]],
    root: str,
    *,
    standards_from_ancestors: bool = False,
) -> dict[str, tuple[int, int]]:
    """Per region: (items in use there that a standard of the region can verify, items in use there).

    ``items_in_use`` and ``items_with_standard`` are keyed by the region code the instrument or standard
    is registered at. A standard serves its own region's subtree; with ``standards_from_ancestors`` a
    city's standard also counts for its counties.
    """
    use: dict[str, set[str]] = defaultdict(set)
    for region, items in items_in_use.items():
        if not in_jurisdiction(region, root):
            continue
        for r in ancestors(region):
            use[r] |= items
            if r == root:
                break
    std: dict[str, set[str]] = defaultdict(set)
    for region, items in items_with_standard.items():
        for r in ancestors(region):
            std[r] |= items
    out = {}
    for region, used in use.items():
        available = set(std.get(region, set()))
        if standards_from_ancestors:
            for r in ancestors(region)[1:]:
                available |= std.get(r, set())
        out[region] = (len(used & available), len(used))
    return out


def with_targets(
    values: Iterable[IndicatorValue], targets: Mapping[tuple[str, str], float]
) -> list[IndicatorValue]:
    """Attach each region's target for the indicator, inheriting the nearest ancestor's when it has none."""
    out = []
    for v in values:
        target = None
        for region in ancestors(v.region_code):
            target = targets.get((region, v.indicator.value))
            if target is not None:
                break
        out.append(
            IndicatorValue(v.indicator, v.region_code, v.item_code, v.numerator, v.denominator, target)
        )
    return out
