"""Unit energy consumption (单位产品能耗) against a national limit standard (能耗限额标准).

A unit that reports its output of a product gets value = E ÷ P: E the standard coal (kgce) of the node
that makes the product over the period — by the calorific-value method (当量值) for electricity, which is
how GB 21256-2013 states its mandatory 限定值 and 准入值 —, P the output in tonnes. The value is compared
with the standard's rows for the product: 限定值 (``limit``, what an existing plant must not exceed),
准入值 (``entry``, new plants) and 先进值 (``advanced``). Rows ship in
``data/energy/unit-consumption-limits.csv`` with their provenance (all provisional, docs/energy.md).

A process figure is only meaningful for the node that is that process: the caller picks the node (the
boundary of a plant that only makes the product, or the secondary unit that is the process).
"""

from __future__ import annotations

import csv
import functools
import math
from dataclasses import dataclass
from importlib import resources

from jiliang.energy.rules import Provenance
from jiliang.errors import InvalidInput

GRADES = ("limit", "entry", "advanced")
GRADE_LABELS = {"limit": ("限定值", "limit value"), "entry": ("准入值", "entry value"), "advanced": ("先进值", "advanced value")}


@dataclass(frozen=True)
class LimitRow:
    standard: str
    product: str
    product_zh: str
    indicator_zh: str
    scope: str
    grade: str
    kgce_per_t: float
    provenance: Provenance


@dataclass(frozen=True)
class Assessment:
    product: str
    standard: str
    indicator_zh: str
    output_t: float
    kgce: float
    value: float  # kgce per t
    rows: tuple[tuple[LimitRow, bool], ...]  # each grade's row and whether the value meets it (≤)
    compliant: bool | None  # meets the 限定值; None when the standard has no 限定值 row for the product

    @property
    def provisional(self) -> bool:
        return any(r.provenance.evidence != "confirmed" for r, _ in self.rows)


@functools.cache
def limits() -> dict[str, tuple[LimitRow, ...]]:
    out: dict[str, list[LimitRow]] = {}
    with (resources.files("jiliang") / "data" / "energy" / "unit-consumption-limits.csv").open(encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            if r["grade"] not in GRADES or r["evidence"] not in ("confirmed", "provisional"):
                raise ValueError(f"bad limit row: {r}")
            out.setdefault(r["product"], []).append(
                LimitRow(
                    r["standard"], r["product"], r["product_zh"], r["indicator_zh"], r["scope"], r["grade"],
                    float(r["limit_kgce_per_t"]), Provenance(r["evidence"], r["source"], r["notes"]),
                )
            )
    return {k: tuple(v) for k, v in out.items()}


def assess(product: str, output_t: float, kgce: float) -> Assessment:
    """The unit energy consumption of ``output_t`` tonnes of ``product`` made with ``kgce``."""
    rows = limits().get(product)
    if rows is None:
        raise InvalidInput(
            f"没有这种产品的能耗限额 / no limit standard for product {product!r}; known: {', '.join(limits())}",
            field="product",
        )
    if not (isinstance(output_t, int | float) and math.isfinite(output_t) and output_t > 0):
        raise InvalidInput("产量须为正数 / the output must be a positive number of tonnes", field="output")
    if not math.isfinite(kgce):
        raise InvalidInput("能耗须为有限数 / the energy must be finite", field="kgce")
    value = kgce / output_t
    graded = tuple((r, value <= r.kgce_per_t) for r in rows)
    limit = [ok for r, ok in graded if r.grade == "limit"]
    return Assessment(product, rows[0].standard, rows[0].indicator_zh, output_t, kgce, value, graded,
                      limit[0] if limit else None)
