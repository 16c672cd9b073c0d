"""Maximum permissible errors (最大允许误差) of the commonest catalogue items, from a table with its provenance.

``data/mpe/mpe-rules.csv`` holds one row per (rule, accuracy class, stages, zone, load band); each row is
marked confirmed (its value was read in the source it names) or provisional (from knowledge, to be checked
against the regulation's text), as the catalogue's rows are. Three bases:

- ``e``: the MPE in verification scale intervals for a load band also in e (OIML R 76-1 Table 6), so the
  MPE at a load m is found from m/e and then multiplied by e;
- ``percent``: relative to the conventional true value at the point (fuel dispensers, water and
  electricity meters, taximeters), converted here to the point's unit;
- ``absolute``: in the unit the row names (sphygmomanometers in kPa or mmHg).

Limits may be asymmetric (a taximeter's −4 % … +1 %). Items without a rule use the generic rule: the MPE is
given per test point by whoever records the verification. Everything is ``Decimal``: 0.5 e at e = 0.1 g is
exactly 0.05 g, as the regulation writes it.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from functools import lru_cache
from importlib import resources

from jiliang.errors import InvalidInput

GENERIC = "generic"


class Stage(StrEnum):
    """Which verification: the regulations give different limits for each (JJF 1001 9.x)."""

    INITIAL = "initial"  # 首次检定
    SUBSEQUENT = "subsequent"  # 后续检定
    IN_SERVICE = "in_service"  # 使用中检查


STAGE_LABELS = {
    Stage.INITIAL: ("首次检定", "initial verification"),
    Stage.SUBSEQUENT: ("后续检定", "subsequent verification"),
    Stage.IN_SERVICE: ("使用中检查", "in-service inspection"),
}

RULE_LABELS = {
    "nawi": ("非自动衡器", "non-automatic weighing instruments"),
    "fuel_dispenser": ("燃油加油机", "fuel dispensers"),
    "water_meter": ("水表", "water meters"),
    "electricity_meter": ("电能表", "electricity meters"),
    "sphygmomanometer": ("血压计和血压表", "sphygmomanometers"),
    "nibp_monitor": ("无创自动测量血压计", "automated non-invasive sphygmomanometers"),
    "taximeter": ("出租汽车计价器", "taximeters"),
    GENERIC: ("其他（逐点给定）", "other (MPE given per test point)"),
}

ZONE_LABELS = {
    "": ("—", "—"),
    "upper": ("高区", "upper zone"),
    "upper_hot": ("高区（水温＞30 ℃）", "upper zone, water above 30 °C"),
    "lower": ("低区", "lower zone"),
    "minimum": ("最小被测量", "minimum measured quantity"),
    "installed": ("装车后", "installed in the vehicle"),
}


@dataclass(frozen=True)
class MpeRow:
    rule: str
    item_codes: tuple[str, ...]
    accuracy_class: str  # "*" = any class
    stages: frozenset[Stage]
    zone: str
    basis: str  # e | percent | absolute
    band_min: Decimal | None  # exclusive, in e (basis e only)
    band_max: Decimal | None  # inclusive
    lower: Decimal
    upper: Decimal
    unit: str  # absolute basis: the unit of the limits
    regulation: str
    evidence: str  # confirmed | provisional
    source: str
    notes: str


@dataclass(frozen=True)
class Mpe:
    """The MPE at one test point in the point's unit, with the row it came from."""

    lower: Decimal  # negative or zero
    upper: Decimal  # positive
    row: MpeRow | None  # None: given per point (generic rule)
    basis: str  # how it was obtained, for the record ("±0.5 e, m = 500 e")

    @property
    def magnitude(self) -> Decimal:
        """The smaller of |lower| and upper: what a U/MPE ratio is measured against."""
        return min(-self.lower, self.upper)


def _dec(text: str) -> Decimal | None:
    return Decimal(text) if text.strip() else None


@lru_cache(maxsize=1)
def rows() -> tuple[MpeRow, ...]:
    path = resources.files("jiliang") / "data" / "mpe" / "mpe-rules.csv"
    out = []
    with path.open(encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            lower, upper = _dec(r["mpe_lower"]), _dec(r["mpe_upper"])
            assert lower is not None and upper is not None, r
            out.append(
                MpeRow(
                    rule=r["rule"],
                    item_codes=tuple(r["item_codes"].split()),
                    accuracy_class=r["accuracy_class"],
                    stages=frozenset(Stage(s) for s in r["stages"].split()),
                    zone=r["zone"],
                    basis=r["basis"],
                    band_min=_dec(r["band_min_exclusive"]),
                    band_max=_dec(r["band_max_inclusive"]),
                    lower=lower,
                    upper=upper,
                    unit=r["unit"],
                    regulation=r["regulation"],
                    evidence=r["evidence"],
                    source=r["source"],
                    notes=r["notes"],
                )
            )
    return tuple(out)


def rule_for_item(item_code: str) -> str:
    """The rule of a catalogue item; items without one use the generic rule."""
    return next((r.rule for r in rows() if item_code in r.item_codes), GENERIC)


def classes_for(rule: str) -> list[str]:
    return list(dict.fromkeys(r.accuracy_class for r in rows() if r.rule == rule and r.accuracy_class != "*"))


def zones_for(rule: str) -> list[str]:
    return list(dict.fromkeys(r.zone for r in rows() if r.rule == rule))


def uses_scale_interval(rule: str) -> bool:
    return any(r.basis == "e" for r in rows() if r.rule == rule)


_ROMAN = {"Ⅰ": "I", "Ⅱ": "II", "Ⅲ": "III", "Ⅳ": "IIII", "ⅢⅠ": "IIII", "IV": "IIII", "1": "I", "2": "II"}


def normalise_class(rule: str, text: str) -> str:
    """The accuracy class as the table writes it: "Ⅲ" and "III级" are III; "1.0级" is 1; "0.5s" is 0.5S."""
    raw = (text or "").strip().replace("级", "").replace("等", "").replace("class", "").replace("Class", "")
    raw = raw.strip().upper()
    known = classes_for(rule)
    if not known:
        return raw  # the rule has one limit for every class
    if rule == "nawi":
        raw = _ROMAN.get(raw, raw)
    else:
        try:  # "1.0" → "1", "2.0" → "2"
            number = Decimal(raw.rstrip("S"))
            if number == number.to_integral_value() and not raw.endswith("S"):
                raw = str(int(number))
        except InvalidOperation:
            pass
    if raw not in known:
        raise InvalidInput(
            f"准确度等级 {text!r} 不在规则表中，应为 {', '.join(known)} / accuracy class not in the rule table",
            field="accuracy_class",
        )
    return raw


def mpe_at(
    item_code: str,
    accuracy_class: str,
    stage: Stage,
    nominal: Decimal,
    unit: str = "",
    *,
    zone: str = "",
    scale_interval: Decimal | None = None,
) -> Mpe:
    """The MPE at a test point whose conventional true value is ``nominal`` (in ``unit``)."""
    rule = rule_for_item(item_code)
    if rule == GENERIC:
        raise InvalidInput(
            f"目录项 {item_code} 无最大允许误差规则，请逐点给定 / no MPE rule for {item_code}: give it per point",
            field="mpe",
        )
    klass = normalise_class(rule, accuracy_class)
    candidates = [
        r
        for r in rows()
        if r.rule == rule
        and r.accuracy_class in (klass, "*")
        and stage in r.stages
        and r.zone == zone
        and (r.basis != "absolute" or r.unit == unit)
    ]
    if not candidates:
        raise InvalidInput(
            f"规则表无 {RULE_LABELS[rule][0]} {klass} {STAGE_LABELS[stage][0]} 区段 {zone or '—'} 单位 {unit or '—'}"
            " 的最大允许误差 / no MPE row for this class, stage, zone and unit",
            field="zone" if zone else "accuracy_class",
        )
    first = candidates[0]
    if first.basis == "e":
        if scale_interval is None or scale_interval <= 0:
            raise InvalidInput(
                "非自动衡器须给出检定分度值 e / a weighing instrument needs its verification scale interval e",
                field="scale_interval",
            )
        load = abs(nominal) / scale_interval
        for r in candidates:
            if (r.band_min is None or load > r.band_min) and (r.band_max is None or load <= r.band_max):
                return Mpe(
                    r.lower * scale_interval,
                    r.upper * scale_interval,
                    r,
                    f"±{r.upper} e（m = {_plain(load)} e，e = {_plain(scale_interval)} {unit}）".strip(),
                )
        raise InvalidInput(
            f"载荷 {_plain(load)} e 超出 {klass} 级的称量范围 / the load is beyond the class's range",
            field="nominal",
        )
    if first.basis == "percent":
        scale = abs(nominal) / 100
        return Mpe(first.lower * scale, first.upper * scale, first, _limits(first, "%"))
    return Mpe(first.lower, first.upper, first, _limits(first, first.unit))


def given(lower: Decimal, upper: Decimal) -> Mpe:
    """An MPE given per test point (the generic rule)."""
    if lower > 0 or upper < 0 or lower == upper:
        raise InvalidInput(
            "最大允许误差须下限≤0≤上限且不相等 / the MPE needs lower ≤ 0 ≤ upper, not equal", field="mpe"
        )
    return Mpe(lower, upper, None, "逐点给定 / given per point")


def _limits(row: MpeRow, unit: str) -> str:
    if -row.lower == row.upper:
        return f"±{row.upper} {unit}".strip()
    return f"{row.lower} {unit} … +{row.upper} {unit}".strip()


def _plain(value: Decimal) -> str:
    """A Decimal without exponent or trailing zeros: 500, 0.05."""
    text = format(value.normalize(), "f")
    return text
