"""Net content of prepackaged goods (定量包装商品净含量): JJF 1070 and the EU/UK average system.

Table-driven: the tolerable deficiency T (允许短缺量) and the sampling plans live in
``data/net_content/*.csv``, one row each, marked confirmed or provisional with their source, as versioned
rule sets (``JJF1070-2005``, ``JJF1070-2023``, ``EU-76/211/EEC``). Units go through pint: a sample in kg
against a nominal in g is converted, a sample mixing units or a volume against a mass is refused.

The Chinese rules (JJF 1070, and the 2005 Measures' 附表3/附表4 they carry):
- each unit's shortfall ``Qn − qᵢ`` is compared with T and 2T; the number of units short by more than T
  may not exceed the plan's allowance, and no unit may be short by more than 2T;
- the sample mean must satisfy ``q̄ ≥ Qn − λ·s`` with ``λ = t₀.₉₉₅(n − 1)/√n`` (printed in the plan
  table) and s the sample standard deviation; lots of 1–10 units are inspected whole, without the mean test.

The EU/UK rule set (Council Directive 76/211/EEC, the "three packers' rules") checks the mean with
λ = 0.503 (n = 30), 0.379 (n = 50) or 0.640 (destructive, n = 20), the count of units short by more than
the tolerable negative error by a double sampling plan, and that no unit is short by more than twice it.

Comparisons allow a relative slack of 1e-9 of Qn so that binary floating point never fails a unit that is
exactly at a limit (500 − 485 is 15 in decimal, as an inspector writes it).
"""

from __future__ import annotations

import csv
import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from importlib import resources
from typing import Any

import numpy as np
import numpy.typing as npt
import pint

from jiliang.errors import InvalidInput

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_DATA = resources.files("jiliang") / "data" / "net_content"
_SLACK = 1e-9  # relative to Qn; see the module docstring


class QuantityKind(StrEnum):
    MASS = "mass"
    VOLUME = "volume"
    LENGTH = "length"
    AREA = "area"
    COUNT = "count"


# The unit each table is written in; a quantity is converted to it before the table is read.
TABLE_UNIT: dict[QuantityKind, str] = {
    QuantityKind.MASS: "g",
    QuantityKind.VOLUME: "mL",
    QuantityKind.LENGTH: "m",
    QuantityKind.AREA: "m**2",
    QuantityKind.COUNT: "dimensionless",
}
_TABLE_GROUP: dict[QuantityKind, str] = {
    QuantityKind.MASS: "mass_volume",
    QuantityKind.VOLUME: "mass_volume",
    QuantityKind.LENGTH: "length",
    QuantityKind.AREA: "area",
    QuantityKind.COUNT: "count",
}


class Method(StrEnum):
    NON_DESTRUCTIVE = "non_destructive"
    DESTRUCTIVE = "destructive"


class Verdict(StrEnum):
    PASS = "pass"  # 合格
    FAIL = "fail"  # 不合格
    SECOND_SAMPLE = "second_sample"  # EU double plan: draw the second sample


@functools.cache
def _ureg() -> pint.UnitRegistry:  # type: ignore[type-arg]
    return pint.UnitRegistry()


# --- the tables ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeficiencyRow:
    """One row of the tolerable-deficiency table: ``lo < Qn ≤ hi`` (``hi`` None: no upper bound)."""

    group: str
    lo: float
    hi: float | None
    percent: float | None
    absolute: float | None
    round_step: float | None
    evidence: str
    source: str

    def value(self, qn: float) -> float:
        if self.absolute is not None:
            return self.absolute
        assert self.percent is not None
        raw = qn * self.percent / 100.0
        return round_up(raw, self.round_step) if self.round_step else raw


@dataclass(frozen=True, slots=True)
class PlanRow:
    """One sampling plan: lot sizes ``lot_min..lot_max``; first sample n1 with acceptance/rejection numbers
    for units short by more than T; an optional second sample (EU double plan); the mean test's n and λ.

    ``n1 == 0`` means "every unit of the lot" (JJF 1070, lots of 1–10), ``mean_n == 0`` no mean test."""

    method: str
    lot_min: int
    lot_max: int | None
    n1: int
    accept1: int
    reject1: int
    n2: int | None
    accept2: int | None
    reject2: int | None
    mean_n: int
    lam: float | None
    evidence: str
    source: str
    notes: str = ""

    def sample_size(self, lot_size: int) -> int:
        return lot_size if self.n1 == 0 else self.n1


@dataclass(frozen=True, slots=True)
class RuleSet:
    id: str
    title_zh: str
    title_en: str
    system: str  # "cn" (JJF 1070) or "eu" (three packers' rules)
    effective_from: date
    effective_until: date | None
    evidence: str
    source: str
    deficiency: tuple[DeficiencyRow, ...] = field(repr=False)
    plans: tuple[PlanRow, ...] = field(repr=False)

    def deficiency_row(self, qn: float, kind: QuantityKind) -> DeficiencyRow:
        if not qn > 0 or not math.isfinite(qn):
            raise InvalidInput(
                f"标注净含量必须为正数：{qn} / the nominal quantity must be positive: {qn}", field="nominal"
            )
        group = _TABLE_GROUP[kind]
        for row in self.deficiency:
            if row.group == group and qn > row.lo and (row.hi is None or qn <= row.hi):
                return row
        raise InvalidInput(
            f"标注净含量 {qn:g} {TABLE_UNIT[kind]} 超出 {self.id} 的允许短缺量表 / the nominal quantity "
            f"{qn:g} {TABLE_UNIT[kind]} is outside the tolerable-deficiency table of {self.id}",
            field="nominal",
        )

    def tolerable_deficiency(self, qn: float, kind: QuantityKind) -> float:
        """T in the table unit of ``kind`` for a nominal ``qn`` already in that unit."""
        return self.deficiency_row(qn, kind).value(qn)

    def plan(self, lot_size: int, method: Method = Method.NON_DESTRUCTIVE) -> PlanRow:
        if isinstance(lot_size, bool) or not isinstance(lot_size, int | np.integer) or lot_size < 1:
            raise InvalidInput(
                f"检验批量必须为正整数：{lot_size} / the lot size must be a positive integer: {lot_size}",
                field="lot_size",
            )
        for row in self.plans:
            if (
                row.method in ("any", method.value)
                and lot_size >= row.lot_min
                and (row.lot_max is None or lot_size <= row.lot_max)
            ):
                return row
        raise InvalidInput(
            f"{self.id} 没有批量 {lot_size} 的抽样方案 / {self.id} has no sampling plan for a lot of {lot_size}"
            f" ({method.value})",
            field="lot_size",
        )


def round_up(value: float, step: float | None) -> float:
    """Round ``value`` up to a multiple of ``step`` (0.1 or 1), immune to binary noise (400 × 3 % is 12.0)."""
    if not step:
        return value
    units = math.ceil(round(value / step, 9))
    decimals = max(0, -math.floor(math.log10(step)))
    return round(units * step, decimals)


def _opt_float(text: str) -> float | None:
    return float(text) if text.strip() else None


def _opt_int(text: str) -> int | None:
    return int(text) if text.strip() else None


def _rows(name: str) -> list[dict[str, str]]:
    with (_DATA / name).open("r", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@functools.cache
def rule_sets() -> dict[str, RuleSet]:
    """Every rule set shipped in ``data/net_content``, by id."""
    deficiency: dict[str, list[DeficiencyRow]] = {}
    for r in _rows("tolerable_deficiency.csv"):
        deficiency.setdefault(r["ruleset"], []).append(
            DeficiencyRow(
                group=r["quantity"],
                lo=float(r["qn_min_exclusive"]),
                hi=_opt_float(r["qn_max_inclusive"]),
                percent=_opt_float(r["percent"]),
                absolute=_opt_float(r["absolute"]),
                round_step=_opt_float(r["round_step"]),
                evidence=r["evidence"],
                source=r["source"],
            )
        )
    plans: dict[str, list[PlanRow]] = {}
    for r in _rows("sampling_plans.csv"):
        plans.setdefault(r["ruleset"], []).append(
            PlanRow(
                method=r["method"],
                lot_min=int(r["lot_min"]),
                lot_max=_opt_int(r["lot_max"]),
                n1=int(r["n1"]),
                accept1=int(r["accept1"]),
                reject1=int(r["reject1"]),
                n2=_opt_int(r["n2"]),
                accept2=_opt_int(r["accept2"]),
                reject2=_opt_int(r["reject2"]),
                mean_n=int(r["mean_n"]),
                lam=_opt_float(r["lambda"]),
                evidence=r["evidence"],
                source=r["source"],
                notes=r["notes"],
            )
        )
    out: dict[str, RuleSet] = {}
    for r in _rows("rulesets.csv"):
        out[r["ruleset"]] = RuleSet(
            id=r["ruleset"],
            title_zh=r["title_zh"],
            title_en=r["title_en"],
            system=r["system"],
            effective_from=date.fromisoformat(r["effective_from"]),
            effective_until=date.fromisoformat(r["effective_until"]) if r["effective_until"] else None,
            evidence=r["evidence"],
            source=r["source"],
            deficiency=tuple(deficiency.get(r["ruleset"], [])),
            plans=tuple(plans.get(r["ruleset"], [])),
        )
    return out


def rule_set(ruleset_id: str) -> RuleSet:
    try:
        return rule_sets()[ruleset_id]
    except KeyError:
        known = ", ".join(rule_sets())
        raise InvalidInput(
            f"未知的检验规则：{ruleset_id}（可选 {known}）/ unknown rule set {ruleset_id} (one of {known})",
            field="ruleset",
        ) from None


def rule_set_in_force(on: date) -> RuleSet:
    """The Chinese rule set in force on a date (JJF 1070-2023 from 2024-10-12)."""
    for rs in rule_sets().values():
        if (
            rs.system == "cn"
            and rs.effective_from <= on
            and (rs.effective_until is None or on <= rs.effective_until)
        ):
            return rs
    raise InvalidInput(f"{on} 无适用的检验规则 / no rule set in force on {on}", field="inspected_on")


# --- units --------------------------------------------------------------------------------------------


def kind_of_unit(unit: str) -> QuantityKind:
    """The quantity kind a unit measures (g → mass, mL → volume, m → length, m² → area, 个/pcs → count)."""
    if unit.strip() in ("", "1", "个", "件", "pcs", "pc", "count", "片", "张", "粒"):
        return QuantityKind.COUNT
    try:
        dim = _ureg().Unit(unit).dimensionality
    except Exception as exc:  # pint raises many unrelated classes on bad unit text
        raise InvalidInput(f"无法识别的单位：{unit} / unknown unit: {unit}", field="unit") from exc
    for kind in (QuantityKind.MASS, QuantityKind.VOLUME, QuantityKind.LENGTH, QuantityKind.AREA):
        if dim == _ureg().Unit(TABLE_UNIT[kind]).dimensionality:
            return kind
    raise InvalidInput(
        f"单位 {unit} 不是质量、体积、长度、面积或计数单位 / unit {unit} is not one of mass, volume, length,"
        " area or count",
        field="unit",
    )


def to_table_unit(values: FloatArray, unit: str, kind: QuantityKind, *, field_name: str) -> FloatArray:
    """Convert magnitudes in ``unit`` to the table unit of ``kind``, refusing another dimension."""
    actual = kind_of_unit(unit)
    if actual is not kind:
        raise InvalidInput(
            f"单位不一致：{unit} 是{_KIND_ZH[actual]}，标注净含量是{_KIND_ZH[kind]} / mixed units: {unit} measures"
            f" {actual.value} but the nominal quantity is a {kind.value}",
            field=field_name,
        )
    if kind is QuantityKind.COUNT:
        return np.asarray(values, dtype=np.float64)
    factor = float(_ureg().Quantity(1.0, unit).to(TABLE_UNIT[kind]).magnitude)
    return np.asarray(values, dtype=np.float64) * factor


_KIND_ZH = {
    QuantityKind.MASS: "质量",
    QuantityKind.VOLUME: "体积",
    QuantityKind.LENGTH: "长度",
    QuantityKind.AREA: "面积",
    QuantityKind.COUNT: "计数",
}


def _unit(text: str, field_name: str) -> Any:
    """A unit from text, or a refusal naming the field (pint raises several unrelated classes on bad text)."""
    try:
        return _ureg().Unit(text)
    except Exception as exc:
        raise InvalidInput(f"单位无法识别：{text!r} / unknown unit {text!r}", field=field_name) from exc


def parse_values(
    values: Sequence[float | str], unit: str | None, *, field_name: str, default_unit: str | None = None
) -> tuple[FloatArray, str]:
    """Magnitudes and their one unit. Items are numbers (in ``unit``, else ``default_unit``) or strings such
    as ``"498.2 g"``; items carrying different units, numbers mixed with quantities, or quantities that
    disagree with a declared ``unit`` are refused."""
    if len(values) == 0:
        raise InvalidInput(f"没有测量值 / no values given ({field_name})", field=field_name)
    units: set[str] = set()
    out = np.empty(len(values), dtype=np.float64)
    for i, item in enumerate(values):
        if isinstance(item, str):
            try:
                q: Any = _ureg().Quantity(item.strip())
            except Exception as exc:  # pint raises several unrelated classes on bad text
                raise InvalidInput(
                    f"第 {i + 1} 个值无法读取：{item!r} / value {i + 1} cannot be read: {item!r}",
                    field=field_name,
                ) from exc
            mag = q.magnitude if isinstance(q, pint.Quantity) else q
            units.add(str(q.units) if isinstance(q, pint.Quantity) and not q.dimensionless else "")
            try:
                out[i] = float(mag)
            except (TypeError, ValueError):
                raise InvalidInput(
                    f"第 {i + 1} 个值不是数：{item!r} / value {i + 1} is not a number", field=field_name
                ) from None
        elif isinstance(item, bool) or not isinstance(item, int | float | np.floating | np.integer):
            raise InvalidInput(
                f"第 {i + 1} 个值不是数：{item!r} / value {i + 1} is not a number", field=field_name
            )
        else:
            out[i] = float(item)
    if units:
        if len(units) > 1 or len(values) != sum(isinstance(v, str) for v in values):
            raise InvalidInput(
                f"{field_name} 混用了单位（{', '.join(sorted(u or '1' for u in units))}）/ {field_name} mixes units",
                field=field_name,
            )
        (only,) = units
        if unit is not None and only and _unit(unit, field_name) != _unit(only, field_name):
            raise InvalidInput(
                f"{field_name} 的单位 {only} 与声明的 {unit} 不同 / {field_name} is in {only}, not the declared {unit}",
                field=field_name,
            )
        unit = only or (unit or default_unit or "")
    unit = unit if unit is not None else default_unit
    if unit is None:
        raise InvalidInput(f"{field_name} 缺少单位 / {field_name} has no unit", field=field_name)
    if not np.all(np.isfinite(out)):
        raise InvalidInput(
            f"{field_name} 含有非有限值 / {field_name} holds a non-finite value", field=field_name
        )
    bad = np.flatnonzero(out < 0)
    if bad.size:
        i = int(bad[0])
        raise InvalidInput(
            f"第 {i + 1} 个值为负：{out[i]:g} / value {i + 1} is negative: {out[i]:g}",
            field=field_name,
            index=i,
        )
    return out, unit


def _refuse_impossible(values: FloatArray, qn: float, field_name: str) -> None:
    """A unit holding more than ten times its nominal quantity is a data-entry error (a kg read as g),
    not a package: refused with its index rather than judged."""
    bad = np.flatnonzero(~np.isfinite(values) | (values > IMPOSSIBLE_FACTOR * qn))
    if bad.size:
        i = int(bad[0])
        raise InvalidInput(
            f"第 {i + 1} 个值 {values[i]:g} 超过标注净含量的 {IMPOSSIBLE_FACTOR} 倍，不可能 / value {i + 1} ({values[i]:g})"
            f" is more than {IMPOSSIBLE_FACTOR} times the nominal quantity: impossible",
            field="measurements",
            index=i,
        )


IMPOSSIBLE_FACTOR = 10

# --- tare -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TareDecision:
    """How the tare was taken off. ``method`` "individual" (each unit's own tare) or "average"."""

    method: str
    count: int
    mean: float
    sd: float | None
    reason_zh: str
    reason_en: str


# Average-tare rule (provisional; JJF 1070-2005 5.4.5 as recalled, after OIML R 87 Annex C; not checked
# against the 2023 text): a tare sample of at least min(10, n) packages; the average tare may be used when
# it is at most 10 % of Qn, or when the tare's standard deviation is at most a quarter of the sample's.
TARE_SAMPLE_MIN = 10
TARE_SHARE_OF_QN = 0.10
TARE_SD_RATIO = 0.25


def decide_tare(tares: FloatArray, gross: FloatArray, qn: float) -> TareDecision:
    """Choose individual or average tare for gross measurements ``gross`` (table unit) against ``qn``."""
    n = gross.size
    if tares.size == n and n > 0:
        return TareDecision(
            "individual", n, float(tares.mean()), None, "逐件测定皮重", "each unit's own tare was weighed"
        )
    need = min(TARE_SAMPLE_MIN, n)
    if tares.size < need:
        raise InvalidInput(
            f"皮重样本至少需要 {need} 件（给出 {tares.size} 件），或逐件给出皮重 / the tare sample needs at least "
            f"{need} packages (got {tares.size}), or one tare per unit",
            field="tares",
        )
    mean = float(tares.mean())
    sd = float(tares.std(ddof=1)) if tares.size > 1 else 0.0
    gross_sd = float(gross.std(ddof=1)) if n > 1 else 0.0
    if mean <= TARE_SHARE_OF_QN * qn * (1 + _SLACK):
        return TareDecision(
            "average",
            int(tares.size),
            mean,
            sd,
            f"平均皮重 {mean:.4g} ≤ 10% Qn，采用平均皮重",
            f"average tare {mean:.4g} ≤ 10 % of Qn: average tare used",
        )
    if sd <= TARE_SD_RATIO * gross_sd:
        return TareDecision(
            "average",
            int(tares.size),
            mean,
            sd,
            f"皮重标准偏差 {sd:.4g} ≤ 0.25 s，采用平均皮重",
            f"tare standard deviation {sd:.4g} ≤ 0.25 s of the sample: average tare used",
        )
    raise InvalidInput(
        f"平均皮重 {mean:.4g} > 10% Qn 且皮重标准偏差 {sd:.4g} > 0.25 s：须逐件测定皮重 / average tare {mean:.4g} > "
        f"10 % of Qn and tare s {sd:.4g} > 0.25 s of the sample: weigh each unit's tare",
        field="tares",
    )


# --- the inspection ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Criterion:
    code: str
    title_zh: str
    title_en: str
    required: str
    observed: str
    passed: bool | None  # None: not applicable (no mean test for lots of 1–10)


@dataclass(frozen=True, slots=True)
class InspectionReport:
    """What the inspector signs: each criterion with its requirement and observation, and the verdict."""

    ruleset: str
    ruleset_evidence: str
    kind: QuantityKind
    unit: str
    nominal: float
    tolerable_deficiency: float
    tolerable_deficiency_evidence: str
    lot_size: int
    sample_size: int
    method: Method
    lam: float | None
    mean: float
    sd: float
    mean_limit: float | None
    short_beyond_t: int
    short_beyond_2t: int
    criteria: tuple[Criterion, ...]
    verdict: Verdict
    drained: bool
    tare: TareDecision | None
    net: tuple[float, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "ruleset": self.ruleset,
            "ruleset_evidence": self.ruleset_evidence,
            "kind": self.kind.value,
            "unit": self.unit,
            "nominal": self.nominal,
            "tolerable_deficiency": self.tolerable_deficiency,
            "tolerable_deficiency_evidence": self.tolerable_deficiency_evidence,
            "lot_size": self.lot_size,
            "sample_size": self.sample_size,
            "method": self.method.value,
            "lambda": self.lam,
            "mean": self.mean,
            "sd": self.sd,
            "mean_limit": self.mean_limit,
            "short_beyond_t": self.short_beyond_t,
            "short_beyond_2t": self.short_beyond_2t,
            "criteria": [
                {
                    "code": c.code,
                    "title_zh": c.title_zh,
                    "title_en": c.title_en,
                    "required": c.required,
                    "observed": c.observed,
                    "passed": c.passed,
                }
                for c in self.criteria
            ],
            "verdict": self.verdict.value,
            "drained": self.drained,
            "tare": None
            if self.tare is None
            else {
                "method": self.tare.method,
                "count": self.tare.count,
                "mean": self.tare.mean,
                "sd": self.tare.sd,
                "reason_zh": self.tare.reason_zh,
                "reason_en": self.tare.reason_en,
            },
            "net": list(self.net),
        }


def _fmt(x: float) -> str:
    return f"{x:.6g}"


def inspect(
    *,
    ruleset: str | RuleSet,
    nominal: float | str,
    unit: str | None,
    lot_size: int,
    measurements: Sequence[float | str],
    measurement_unit: str | None = None,
    tares: Sequence[float | str] | None = None,
    method: Method | str = Method.NON_DESTRUCTIVE,
    drained: bool = False,
) -> InspectionReport:
    """Inspect one lot. ``measurements`` are net contents, or gross contents when ``tares`` are given (one
    per unit, or a tare sample for the average-tare method). ``drained``: the quantity is the drained net
    weight (沥干物) of a solid in a liquid medium, weighed after draining, against the labelled drained weight.
    Refuses a lot size whose plan asks for another sample size, mixed or mismatched units, negatives."""
    rs = rule_set(ruleset) if isinstance(ruleset, str) else ruleset
    method = Method(method)
    if isinstance(nominal, str):
        (qn_values, nominal_unit) = parse_values([nominal], unit, field_name="nominal")
        qn_raw = float(qn_values[0])
    else:
        if unit is None:
            raise InvalidInput("标注净含量缺少单位 / the nominal quantity has no unit", field="unit")
        qn_raw, nominal_unit = float(nominal), unit
    kind = kind_of_unit(nominal_unit)
    if drained and kind is not QuantityKind.MASS:
        raise InvalidInput("沥干物以质量标注 / a drained weight is stated as a mass", field="unit")
    qn = float(to_table_unit(np.array([qn_raw]), nominal_unit, kind, field_name="nominal")[0])
    row = rs.deficiency_row(qn, kind)
    t = row.value(qn)
    plan = rs.plan(lot_size, method)
    values, m_unit = parse_values(
        measurements, measurement_unit, field_name="measurements", default_unit=nominal_unit
    )
    q = to_table_unit(values, m_unit, kind, field_name="measurements")
    _refuse_impossible(q, qn, "measurements" if tares is None else "measurements (gross)")
    tare: TareDecision | None = None
    if tares is not None:
        t_values, t_unit = parse_values(tares, measurement_unit, field_name="tares", default_unit=m_unit)
        tv = to_table_unit(t_values, t_unit, kind, field_name="tares")
        tare = decide_tare(tv, q, qn)
        q = q - (tv if tare.method == "individual" else tare.mean)
        if np.any(q < 0):
            i = int(np.flatnonzero(q < 0)[0])
            raise InvalidInput(
                f"第 {i + 1} 件净含量为负（毛重小于皮重）/ unit {i + 1} has a negative net content (gross below tare)",
                field="tares",
                index=i,
            )
    n_expected = plan.sample_size(lot_size)
    second = rs.system == "eu" and plan.n2 is not None and q.size == plan.n1 + plan.n2
    if q.size != n_expected and not second:
        expect = f"{n_expected}" if plan.n2 is None else f"{plan.n1} / {plan.n1 + plan.n2}"
        raise InvalidInput(
            f"批量 {lot_size} 的样本量应为 {expect}，给出 {q.size} 件 / a lot of {lot_size} takes a sample of {expect}"
            f" under {rs.id}, but {q.size} units were given",
            field="measurements",
            expected=n_expected,
            given=int(q.size),
        )
    if kind is QuantityKind.COUNT and np.any(q != np.round(q)):
        raise InvalidInput(
            "计数商品的实际含量须为整数 / a count must be a whole number", field="measurements"
        )
    return _judge(
        rs,
        kind,
        nominal_unit if kind is QuantityKind.COUNT else TABLE_UNIT[kind],
        qn,
        t,
        row,
        lot_size,
        plan,
        method,
        q,
        drained,
        tare,
    )


def _judge(
    rs: RuleSet,
    kind: QuantityKind,
    unit: str,
    qn: float,
    t: float,
    row: DeficiencyRow,
    lot_size: int,
    plan: PlanRow,
    method: Method,
    q: FloatArray,
    drained: bool,
    tare: TareDecision | None,
) -> InspectionReport:
    slack = _SLACK * qn
    shortfall = qn - q
    beyond_t = int(np.count_nonzero(shortfall > t + slack))
    beyond_2t = int(np.count_nonzero(shortfall > 2 * t + slack))
    mean_sample = q[: plan.mean_n] if plan.mean_n else q
    mean = float(mean_sample.mean())
    sd = float(mean_sample.std(ddof=1)) if mean_sample.size > 1 else 0.0
    criteria: list[Criterion] = []
    mean_limit: float | None = None
    mean_ok: bool | None = None
    if plan.mean_n and plan.lam is not None:
        mean_limit = qn - plan.lam * sd
        mean_ok = mean >= mean_limit - slack
        criteria.append(
            Criterion(
                "mean",
                "样本平均实际含量" if rs.system == "cn" else "第一条：平均实际含量不少于标注量（参考试验）",
                "sample mean"
                if rs.system == "cn"
                else "rule 1: the average is not less than the nominal quantity",
                f"q̄ ≥ Qn − λ·s = {_fmt(qn)} − {plan.lam}×{_fmt(sd)} = {_fmt(mean_limit)}",
                f"q̄ = {_fmt(mean)} (n = {mean_sample.size})",
                mean_ok,
            )
        )
    else:
        criteria.append(
            Criterion(
                "mean",
                "样本平均实际含量",
                "sample mean",
                "批量 1–10 件不计算平均实际含量 / lots of 1–10: no mean test",
                f"q̄ = {_fmt(mean)}",
                None,
            )
        )
    verdict_count: Verdict
    if rs.system == "eu":
        d = beyond_t
        if q.size == plan.n1:
            if d <= plan.accept1:
                verdict_count = Verdict.PASS
            elif d >= plan.reject1:
                verdict_count = Verdict.FAIL
            else:
                verdict_count = Verdict.SECOND_SAMPLE
            required = f"≤ {plan.accept1} accept, ≥ {plan.reject1} reject (n = {plan.n1})"
        else:
            assert plan.accept2 is not None
            verdict_count = Verdict.PASS if d <= plan.accept2 else Verdict.FAIL
            required = f"≤ {plan.accept2} (cumulative n = {q.size})"
        criteria.append(
            Criterion(
                "beyond_t",
                "第二条：短缺量大于 TNE 的件数",
                "rule 2: packages short by more than the tolerable negative error",
                required,
                f"{d}",
                None if verdict_count is Verdict.SECOND_SAMPLE else verdict_count is Verdict.PASS,
            )
        )
        criteria.append(
            Criterion(
                "beyond_2t",
                "第三条：短缺量大于 2 TNE 的件数",
                "rule 3: packages short by more than twice the TNE",
                "= 0",
                f"{beyond_2t}",
                beyond_2t == 0,
            )
        )
    else:
        count_ok = beyond_t <= plan.accept1
        verdict_count = Verdict.PASS if count_ok else Verdict.FAIL
        criteria.append(
            Criterion(
                "beyond_t",
                "短缺量大于 T 的件数",
                "units short by more than T",
                f"≤ {plan.accept1} (T = {_fmt(t)} {unit})",
                f"{beyond_t}",
                count_ok,
            )
        )
        criteria.append(
            Criterion(
                "beyond_2t",
                "短缺量大于 2T 的件数",
                "units short by more than 2T",
                f"= 0 (2T = {_fmt(2 * t)} {unit})",
                f"{beyond_2t}",
                beyond_2t == 0,
            )
        )
    if beyond_2t or mean_ok is False or verdict_count is Verdict.FAIL:
        verdict = Verdict.FAIL
    elif verdict_count is Verdict.SECOND_SAMPLE:
        verdict = Verdict.SECOND_SAMPLE
    else:
        verdict = Verdict.PASS
    return InspectionReport(
        ruleset=rs.id,
        ruleset_evidence=rs.evidence,
        kind=kind,
        unit=unit,
        nominal=qn,
        tolerable_deficiency=t,
        tolerable_deficiency_evidence=row.evidence,
        lot_size=lot_size,
        sample_size=int(q.size),
        method=method,
        lam=plan.lam if plan.mean_n else None,
        mean=mean,
        sd=sd,
        mean_limit=mean_limit,
        short_beyond_t=beyond_t,
        short_beyond_2t=beyond_2t,
        criteria=tuple(criteria),
        verdict=verdict,
        drained=drained,
        tare=tare,
        net=tuple(float(x) for x in q),
    )


# --- many lots at once ---------------------------------------------------------------------------------


def tolerable_deficiencies(rs: RuleSet, nominal: FloatArray, kind: QuantityKind) -> FloatArray:
    """T for an array of nominal quantities (table unit), by one searchsorted over the table's bounds."""
    rows = sorted((r for r in rs.deficiency if r.group == _TABLE_GROUP[kind]), key=lambda r: r.lo)
    qn = np.asarray(nominal, dtype=np.float64)
    bounds = np.array([r.lo for r in rows])
    idx = np.searchsorted(bounds, qn, side="left") - 1
    top = rows[-1].hi
    if np.any(idx < 0) or np.any(~np.isfinite(qn)) or (top is not None and np.any(qn > top)):
        raise InvalidInput(
            f"标注净含量超出 {rs.id} 的表 / a nominal quantity is outside the table of {rs.id}",
            field="nominal",
        )
    out = np.empty_like(qn)
    for i, r in enumerate(rows):
        sel = idx == i
        if not np.any(sel):
            continue
        if r.absolute is not None:
            out[sel] = r.absolute
        else:
            assert r.percent is not None
            raw = qn[sel] * r.percent / 100.0
            out[sel] = np.ceil(np.round(raw / r.round_step, 9)) * r.round_step if r.round_step else raw
    return out


@dataclass(frozen=True, slots=True)
class LotVerdicts:
    passed: npt.NDArray[np.bool_]
    short_beyond_t: IntArray
    short_beyond_2t: IntArray
    mean: FloatArray
    sd: FloatArray


def verdicts(
    net: FloatArray, nominal: FloatArray, t: FloatArray, lam: FloatArray, allowed: IntArray
) -> LotVerdicts:
    """JJF 1070 verdicts for L lots of the same sample size n at once: ``net`` is (L, n) in the table unit,
    the others length L (``lam`` NaN: no mean test). The same rules as ``inspect``, without the report."""
    net = np.asarray(net, dtype=np.float64)
    qn = np.asarray(nominal, dtype=np.float64)[:, None]
    tt = np.asarray(t, dtype=np.float64)[:, None]
    slack = _SLACK * qn
    short = qn - net
    beyond_t = np.count_nonzero(short > tt + slack, axis=1)
    beyond_2t = np.count_nonzero(short > 2 * tt + slack, axis=1)
    mean = net.mean(axis=1)
    sd = net.std(axis=1, ddof=1) if net.shape[1] > 1 else np.zeros(net.shape[0])
    lam_arr = np.asarray(lam, dtype=np.float64)
    mean_ok = np.where(np.isnan(lam_arr), True, mean >= qn[:, 0] - np.nan_to_num(lam_arr) * sd - slack[:, 0])
    passed = mean_ok & (beyond_2t == 0) & (beyond_t <= np.asarray(allowed))
    return LotVerdicts(passed, beyond_t.astype(np.int64), beyond_2t.astype(np.int64), mean, sd)


def inspect_many(
    rs: RuleSet, kind: QuantityKind, nominal: FloatArray, lot_sizes: IntArray, samples: Sequence[FloatArray]
) -> npt.NDArray[np.bool_]:
    """Pass/fail for many lots of one quantity kind (table unit), each with its own Qn, lot size and sample;
    lots are grouped by sample size and judged by ``verdicts``. Refuses a sample that does not fit its lot."""
    if rs.system != "cn":
        raise InvalidInput("批量判定只支持 JJF 1070 / bulk verdicts support JJF 1070 only", field="ruleset")
    qn = np.asarray(nominal, dtype=np.float64)
    lots = np.asarray(lot_sizes, dtype=np.int64)
    t = tolerable_deficiencies(rs, qn, kind)
    plans = sorted(rs.plans, key=lambda p: p.lot_min)
    starts = np.array([p.lot_min for p in plans])
    pidx = np.searchsorted(starts, lots, side="right") - 1
    if np.any(lots < 1):
        raise InvalidInput("检验批量必须为正整数 / lot sizes must be positive", field="lot_size")
    n1 = np.array([p.n1 for p in plans])[pidx]
    n_expected = np.where(n1 == 0, lots, n1)
    sizes = np.array([len(s) for s in samples])
    bad = np.flatnonzero(sizes != n_expected)
    if bad.size:
        k = int(bad[0])
        raise InvalidInput(
            f"第 {k + 1} 批：批量 {lots[k]} 的样本量应为 {n_expected[k]}，给出 {sizes[k]} / lot {k + 1}: a lot of "
            f"{lots[k]} takes {n_expected[k]} units, {sizes[k]} given",
            field="samples",
            index=k,
        )
    lam = np.array([np.nan if p.lam is None or not p.mean_n else p.lam for p in plans])[pidx]
    allowed = np.array([p.accept1 for p in plans])[pidx]
    out = np.empty(qn.size, dtype=bool)
    for n in np.unique(sizes):
        sel = np.flatnonzero(sizes == n)
        block = np.stack([np.asarray(samples[k], dtype=np.float64) for k in sel.tolist()])
        if np.any(block < 0) or not np.all(np.isfinite(block)):
            raise InvalidInput(
                "样本含有负值或非有限值 / a sample holds a negative or non-finite value", field="samples"
            )
        out[sel] = verdicts(block, qn[sel], t[sel], lam[sel], allowed[sel]).passed
    return out
