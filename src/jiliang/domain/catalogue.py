"""The catalogue of measuring instruments under compulsory management and its verification rules.

实施强制管理的计量器具目录 (SAMR announcement 2020 No. 42). The catalogue is versioned data: a newer
version is loaded beside the old one, and every verification record keeps the version and the rule that
set its due date, so loading a new catalogue never rewrites history.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
from importlib import resources

from jiliang.errors import InvalidInput

DEFAULT_VERSION = "SAMR-2020-42"


class RegulatoryMode(StrEnum):
    """P: pattern approval (型式批准); V: compulsory verification (强制检定)."""

    P = "P"
    V = "V"
    PV = "P+V"

    @property
    def verified(self) -> bool:
        return self is not RegulatoryMode.P


class VerificationForm(StrEnum):
    PERIODIC = "periodic"  # 周期检定
    UNTIL_FAILURE = "until_failure"  # 首次强制检定，失准报废
    ROTATION = "rotation"  # 首次强制检定，限期使用，到期轮换


class Use(StrEnum):
    """Uses that, with a listed catalogue item, put an instrument under compulsory verification (计量法 §9)."""

    TRADE_SETTLEMENT = "trade_settlement"  # 贸易结算
    SAFETY_PROTECTION = "safety_protection"  # 安全防护
    MEDICAL = "medical"  # 医疗卫生
    ENVIRONMENTAL_MONITORING = "environmental_monitoring"  # 环境监测
    OTHER = "other"  # 其他（非强检用途）


COMPULSORY_USES = frozenset(
    {Use.TRADE_SETTLEMENT, Use.SAFETY_PROTECTION, Use.MEDICAL, Use.ENVIRONMENTAL_MONITORING}
)


@dataclass(frozen=True, slots=True)
class VerificationRule:
    item_code: str
    form: VerificationForm | None  # None: pattern approval only, never verified
    period_months: int | None = None
    service_life_months: int | None = None
    regulation: str = ""
    size_parameter: str = ""
    size_min_exclusive: float = -math.inf
    size_max_inclusive: float = math.inf
    evidence: str = "provisional"
    source: str = ""
    notes: str = ""
    rule_id: int | None = None

    def applies_to(self, size: float | None) -> bool:
        if not self.size_parameter:
            return True
        if size is None:
            return False
        return self.size_min_exclusive < size <= self.size_max_inclusive


@dataclass(frozen=True, slots=True)
class CatalogueItem:
    version: str
    item_code: str
    level1_no: int
    level1_zh: str
    level1_en: str
    level2_zh: str
    level2_en: str
    mode: RegulatoryMode
    effective_from: date
    evidence: str = "provisional"
    source: str = ""
    notes: str = ""
    rules: tuple[VerificationRule, ...] = field(default=())

    @property
    def size_parameter(self) -> str:
        return next((r.size_parameter for r in self.rules if r.size_parameter), "")

    def rule_for(self, size: float | None) -> VerificationRule:
        for rule in self.rules:
            if rule.applies_to(size):
                return rule
        raise InvalidInput(
            f"目录项 {self.item_code}（{self.level2_zh}）需要规格参数 {self.size_parameter} 才能确定检定规则"
            f" / catalogue item {self.item_code} needs nominal_size ({self.size_parameter}) to choose its rule",
            field="nominal_size",
        )


def is_compulsory(item: CatalogueItem | None, use: Use, on: date) -> bool:
    """计量法 §9: listed for verification AND used for one of the four purposes, on that date."""
    return item is not None and item.mode.verified and use in COMPULSORY_USES and on >= item.effective_from


def add_months(d: date, months: int) -> date:
    """Calendar months; the day is clamped to the month's end (a 29 Feb start ends on 28 Feb)."""
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    for day in (d.day, 30, 29, 28):
        try:
            return date(year, month, day)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def due_date(rule: VerificationRule, verified_on: date, first_used_on: date | None = None) -> date | None:
    """The date by which the next verification (or the rotation) is due; None when valid until failure.

    A rotated instrument's service life runs from its first use (or, when unknown, the verification that
    admitted it), not from each later check: it is replaced, not re-verified (JJG 162-2019 §7.4).
    """
    if rule.form is VerificationForm.PERIODIC and rule.period_months:
        return add_months(verified_on, rule.period_months)
    if rule.form is VerificationForm.ROTATION and rule.service_life_months:
        return add_months(first_used_on or verified_on, rule.service_life_months)
    return None


# ---------------------------------------------------------------------------------------------------
# Loading the shipped data


def _f(text: str, default: float) -> float:
    return float(text) if text.strip() else default


def _i(text: str) -> int | None:
    return int(text) if text.strip() else None


def parse_catalogue(
    item_rows: Iterable[dict[str, str]], rule_rows: Iterable[dict[str, str]]
) -> list[CatalogueItem]:
    rules: dict[str, list[VerificationRule]] = {}
    for r in rule_rows:
        form = VerificationForm(r["form"]) if r["form"].strip() else None
        rules.setdefault(r["item_code"], []).append(
            VerificationRule(
                item_code=r["item_code"],
                form=form,
                period_months=_i(r["period_months"]),
                service_life_months=_i(r["service_life_months"]),
                regulation=r["regulation"],
                size_parameter=r["size_parameter"].strip(),
                size_min_exclusive=_f(r["size_min_exclusive"], -math.inf),
                size_max_inclusive=_f(r["size_max_inclusive"], math.inf),
                evidence=r["evidence"],
                source=r["source"],
                notes=r["notes"],
            )
        )
    items = []
    for row in item_rows:
        code = row["item_code"]
        if code not in rules:
            raise InvalidInput(f"catalogue item {code} has no verification rule", field="item_code")
        items.append(
            CatalogueItem(
                version=row["version"],
                item_code=code,
                level1_no=int(row["level1_no"]),
                level1_zh=row["level1_zh"],
                level1_en=row["level1_en"],
                level2_zh=row["level2_zh"],
                level2_en=row["level2_en"],
                mode=RegulatoryMode(row["mode"]),
                effective_from=date.fromisoformat(row["effective_from"]),
                evidence=row["evidence"],
                source=row["source"],
                notes=row["notes"],
                rules=tuple(rules[code]),
            )
        )
    return items


def shipped_catalogue(version: str = DEFAULT_VERSION) -> list[CatalogueItem]:
    """The catalogue shipped in ``jiliang/data/catalogue`` (``<version>-items.csv`` and ``-rules.csv``)."""
    base = resources.files("jiliang") / "data" / "catalogue"
    stem = version.lower()
    with (
        (base / f"{stem}-items.csv").open(encoding="utf-8") as fi,
        (base / f"{stem}-rules.csv").open(encoding="utf-8") as fr,
    ):
        return parse_catalogue(csv.DictReader(fi), csv.DictReader(fr))


# ---------------------------------------------------------------------------------------------------
# A version uploaded by an office (one sheet, one row per rule; docs/catalogue.md "Uploading a version")

MODE_LABELS: dict[RegulatoryMode, str] = {
    RegulatoryMode.P: "型式批准",
    RegulatoryMode.V: "强制检定",
    RegulatoryMode.PV: "型式批准、强制检定",
}
FORM_LABELS: dict[VerificationForm, str] = {
    VerificationForm.PERIODIC: "周期检定",
    VerificationForm.UNTIL_FAILURE: "首次强制检定，失准报废",
    VerificationForm.ROTATION: "首次强制检定，限期使用，到期轮换",
}
EVIDENCE_LABELS: dict[str, str] = {"confirmed": "已核实", "provisional": "待核实"}
_MODES = {m.value.lower(): m for m in RegulatoryMode} | {v: k for k, v in MODE_LABELS.items()}
_MODES.update({"p+v": RegulatoryMode.PV, "pv": RegulatoryMode.PV, "型式批准+强制检定": RegulatoryMode.PV})
_FORMS = {f.value: f for f in VerificationForm} | {v: k for k, v in FORM_LABELS.items()}
_FORMS.update({"失准报废": VerificationForm.UNTIL_FAILURE, "到期轮换": VerificationForm.ROTATION})
_EVIDENCE = {"confirmed": "confirmed", "provisional": "provisional"} | {
    v: k for k, v in EVIDENCE_LABELS.items()
}
MAX_VERSION_LEN = 40


def validate_version_name(value: object) -> str:
    text = str(value or "").strip()
    if not re.fullmatch(rf"[\w.\-]{{1,{MAX_VERSION_LEN}}}", text):
        raise InvalidInput(
            f"版本名须为 1–{MAX_VERSION_LEN} 个字母、数字、“-”“_”或“.”（如 SAMR-2026-01）/ the version name must "
            f"be 1..{MAX_VERSION_LEN} letters, digits, '-', '_' or '.' (e.g. SAMR-2026-01)",
            field="version",
        )
    return text


def parse_mode(value: object) -> RegulatoryMode:
    mode = _MODES.get(str(value or "").strip().lower().replace(" ", ""))
    if mode is None:
        raise InvalidInput(
            f"监管方式 {value!r} 无效，应为 P/V/P+V 或 {'/'.join(MODE_LABELS.values())} / mode must be P, V or P+V",
            field="mode",
        )
    return mode


def parse_form(value: object) -> VerificationForm | None:
    text = str(value or "").strip()
    if not text:
        return None
    form = _FORMS.get(text.lower()) or _FORMS.get(text)
    if form is None:
        raise InvalidInput(
            f"检定形式 {value!r} 无效，应为 {'、'.join(FORM_LABELS.values())} / form must be periodic, "
            "until_failure or rotation",
            field="form",
        )
    return form


def _months(value: object, field: str) -> int | None:
    text = str(value or "").strip()
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        number = 0.5
    if not number.is_integer() or not 1 <= number <= 600:
        raise InvalidInput(f"{field} 须为 1–600 的整月数 / {field} must be whole months, 1..600", field=field)
    return int(number)


def _bound(value: object, field: str, default: float) -> float:
    text = str(value or "").strip()
    if not text:
        return default
    try:
        number = float(text)
    except ValueError:
        raise InvalidInput(f"{field} 不是数字 / {field} is not a number: {value!r}", field=field) from None
    if not math.isfinite(number):
        raise InvalidInput(f"{field} 须为有限数，无界请留空 / leave {field} empty for no bound", field=field)
    return number


def _text(raw: Mapping[str, object], key: str, max_len: int, required: bool = False) -> str:
    text = str(raw.get(key) or "").strip()
    if required and not text:
        raise InvalidInput(f"{key} 不能为空 / {key} is required", field=key)
    if len(text) > max_len:
        raise InvalidInput(f"{key} 超过 {max_len} 字符 / {key} longer than {max_len}", field=key)
    return text


def _evidence(raw: Mapping[str, object], key: str = "evidence") -> str:
    text = str(raw.get(key) or "").strip()
    if not text:
        return "provisional"
    found = _EVIDENCE.get(text.lower()) or _EVIDENCE.get(text)
    if found is None:
        raise InvalidInput(
            f"依据 {text!r} 无效，应为 confirmed/已核实 或 provisional/待核实 / evidence must be confirmed or "
            "provisional",
            field=key,
        )
    return found


def parse_catalogue_row(raw: Mapping[str, object], version: str) -> tuple[CatalogueItem, VerificationRule]:
    """One row of an uploaded catalogue: the item it belongs to (without rules) and one of its rules.

    A row is ``confirmed`` only with the address of what was read (``source``): a table must never claim
    more than its sources say.
    """
    item_code = _text(raw, "item_code", 10, required=True)
    try:
        level1_no = int(str(raw.get("level1_no") or "").strip())
    except ValueError:
        raise InvalidInput(
            "一级序号须为正整数 / level1_no must be a positive integer", field="level1_no"
        ) from None
    if not 1 <= level1_no <= 999:
        raise InvalidInput("一级序号须为 1–999 / level1_no must be 1..999", field="level1_no")
    mode = parse_mode(raw.get("mode"))
    effective = str(raw.get("effective_from") or "").strip()
    try:
        effective_from = date.fromisoformat(effective[:10])
    except ValueError:
        raise InvalidInput(
            f"实施日期 {effective!r} 不是有效日期 (YYYY-MM-DD) / effective_from is not a date",
            field="effective_from",
        ) from None
    source = _text(raw, "source", 1000)
    evidence = _evidence(raw)
    if evidence == "confirmed" and not source:
        raise InvalidInput(
            "标为已核实的行须填写来源 / a confirmed row needs the source it was read from", field="source"
        )
    item = CatalogueItem(
        version=version,
        item_code=item_code,
        level1_no=level1_no,
        level1_zh=_text(raw, "level1_zh", 100, required=True),
        level1_en=_text(raw, "level1_en", 200),
        level2_zh=_text(raw, "level2_zh", 100, required=True),
        level2_en=_text(raw, "level2_en", 200),
        mode=mode,
        effective_from=effective_from,
        evidence=evidence,
        source=source,
        notes=_text(raw, "notes", 2000),
    )
    form = parse_form(raw.get("form"))
    if form is None and mode.verified:
        raise InvalidInput(
            f"监管方式为 {MODE_LABELS[mode]} 的目录项须填写检定形式 / an item under verification needs its form",
            field="form",
        )
    if form is not None and not mode.verified:
        raise InvalidInput(
            "仅型式批准的目录项不填检定形式 / a pattern-approval-only item has no verification form",
            field="form",
        )
    period = _months(raw.get("period_months"), "period_months")
    life = _months(raw.get("service_life_months"), "service_life_months")
    if form is VerificationForm.PERIODIC and period is None:
        raise InvalidInput(
            "周期检定须填写检定周期（月）/ a periodic rule needs period_months", field="period_months"
        )
    if form is VerificationForm.ROTATION and life is None:
        raise InvalidInput(
            "到期轮换须填写使用期限（月）/ a rotation rule needs service_life_months",
            field="service_life_months",
        )
    if period is not None and form is not VerificationForm.PERIODIC:
        raise InvalidInput(
            "只有周期检定有检定周期 / only a periodic rule has a period", field="period_months"
        )
    if life is not None and form is not VerificationForm.ROTATION:
        raise InvalidInput(
            "只有到期轮换有使用期限 / only a rotation rule has a service life", field="service_life_months"
        )
    size_parameter = _text(raw, "size_parameter", 10)
    lo = _bound(raw.get("size_min_exclusive"), "size_min_exclusive", -math.inf)
    hi = _bound(raw.get("size_max_inclusive"), "size_max_inclusive", math.inf)
    if not size_parameter and (math.isfinite(lo) or math.isfinite(hi)):
        raise InvalidInput(
            "填写了规格范围却没有规格参数 / a size range needs its size_parameter", field="size_parameter"
        )
    if lo >= hi:
        raise InvalidInput(
            "规格下限须小于上限 / size_min_exclusive must be below size_max_inclusive",
            field="size_min_exclusive",
        )
    rule_source = _text(raw, "rule_source", 1000) or source
    rule_evidence = _evidence(raw, "rule_evidence") if raw.get("rule_evidence") else evidence
    if rule_evidence == "confirmed" and not rule_source:
        raise InvalidInput(
            "标为已核实的规则须填写来源 / a confirmed rule needs its source", field="rule_source"
        )
    rule = VerificationRule(
        item_code=item_code,
        form=form,
        period_months=period,
        service_life_months=life,
        regulation=_text(raw, "regulation", 100),
        size_parameter=size_parameter,
        size_min_exclusive=lo,
        size_max_inclusive=hi,
        evidence=rule_evidence,
        source=rule_source,
        notes=_text(raw, "rule_notes", 2000),
    )
    return item, rule


ITEM_FIELDS = (
    "level1_no",
    "level1_zh",
    "level1_en",
    "level2_zh",
    "level2_en",
    "mode",
    "effective_from",
    "evidence",
    "source",
    "notes",
)


@dataclass(frozen=True, slots=True)
class RowProblem:
    row: int
    field: str
    reason: str
    value: str | None = None


def assemble_version(
    rows: Iterable[tuple[int, CatalogueItem, VerificationRule]],
) -> tuple[list[CatalogueItem], list[RowProblem]]:
    """Rows (row number, item, rule) grouped into items, with what makes the whole inconsistent.

    The rows of one item must agree on the item's columns; its rules must all use one size parameter,
    and their ranges (lo, hi] must not overlap and must together cover every size, so that every
    instrument of the item finds exactly one rule (``CatalogueItem.rule_for``).
    """
    first: dict[str, tuple[int, CatalogueItem]] = {}
    rules: dict[str, list[tuple[int, VerificationRule]]] = {}
    problems: list[RowProblem] = []
    for row_no, item, rule in rows:
        seen = first.get(item.item_code)
        if seen is None:
            first[item.item_code] = (row_no, item)
        else:
            for name in ITEM_FIELDS:
                if getattr(item, name) != getattr(seen[1], name):
                    problems.append(
                        RowProblem(
                            row_no,
                            name,
                            f"与第 {seen[0]} 行（同一目录项 {item.item_code}）不一致 / differs from row {seen[0]} "
                            f"of the same item {item.item_code}",
                            str(getattr(item, name)),
                        )
                    )
                    break
        rules.setdefault(item.item_code, []).append((row_no, rule))
    items = []
    for code, (_row_no, item) in first.items():
        mine = rules[code]
        params = {r.size_parameter for _, r in mine}
        if len(params) > 1:
            problems.append(
                RowProblem(
                    mine[1][0],
                    "size_parameter",
                    f"目录项 {code} 的规则须使用同一规格参数 / the rules of item {code} must use one size parameter",
                    ", ".join(sorted(params)),
                )
            )
        elif not item.mode.verified and len(mine) > 1:
            problems.append(
                RowProblem(
                    mine[1][0],
                    "item_code",
                    f"仅型式批准的目录项 {code} 只能有一行 / a P-only item has one row",
                )
            )
        else:
            problems.extend(_coverage(code, mine))
        items.append(
            replace(item, rules=tuple(r for _, r in sorted(mine, key=lambda x: x[1].size_min_exclusive)))
        )
    return sorted(items, key=lambda i: i.item_code), problems


def _coverage(code: str, rules: list[tuple[int, VerificationRule]]) -> list[RowProblem]:
    ordered = sorted(rules, key=lambda x: x[1].size_min_exclusive)
    problems = []
    expected = -math.inf
    for row_no, rule in ordered:
        if rule.size_min_exclusive != expected:
            gap = rule.size_min_exclusive > expected
            problems.append(
                RowProblem(
                    row_no,
                    "size_min_exclusive",
                    (
                        f"目录项 {code} 的规格范围有空缺（{_num(expected)} 至 {_num(rule.size_min_exclusive)}）/ the size "
                        f"ranges of item {code} leave a gap"
                    )
                    if gap
                    else (f"目录项 {code} 的规格范围重叠 / the size ranges of item {code} overlap"),
                    _num(rule.size_min_exclusive),
                )
            )
        expected = max(expected, rule.size_max_inclusive)
    if expected != math.inf:
        problems.append(
            RowProblem(
                ordered[-1][0],
                "size_max_inclusive",
                f"目录项 {code} 的规格范围未覆盖 {_num(expected)} 以上 / the size ranges of item {code} stop at "
                f"{_num(expected)}",
                _num(expected),
            )
        )
    return problems


def _num(value: float) -> str:
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    return f"{value:g}"


def range_label(rule: VerificationRule) -> str:
    """``DN ≤ 25``, ``25 < DN ≤ 50``, ``DN > 50`` or "" for a rule of every size."""
    p, lo, hi = rule.size_parameter, rule.size_min_exclusive, rule.size_max_inclusive
    if not p:
        return ""
    if math.isinf(lo) and math.isinf(hi):
        return p
    if math.isinf(lo):
        return f"{p} ≤ {_num(hi)}"
    if math.isinf(hi):
        return f"{p} > {_num(lo)}"
    return f"{_num(lo)} < {p} ≤ {_num(hi)}"


# ---------------------------------------------------------------------------------------------------
# Differences between two versions, row by row

RULE_FIELDS = ("form", "period_months", "service_life_months", "regulation", "evidence")


@dataclass(frozen=True, slots=True)
class FieldChange:
    field: str
    old: str
    new: str
    scope: str = ""  # the size range of the rule changed ("" for the item's own columns)


@dataclass(frozen=True, slots=True)
class ItemDiff:
    item_code: str
    change: str  # added | removed | changed
    name_zh: str
    changes: tuple[FieldChange, ...] = ()


def _show(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, StrEnum):
        return str(value.value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def diff_versions(old: Mapping[str, CatalogueItem], new: Mapping[str, CatalogueItem]) -> list[ItemDiff]:
    """Every item added, removed or changed from ``old`` to ``new``, in item-code order.

    Item columns are compared one by one; rules are matched by their size range (``range_label``), so a
    changed period of ``DN ≤ 25`` shows as that, and a re-cut range as one rule removed and one added.
    """
    out = []
    for code in sorted(set(old) | set(new)):
        a, b = old.get(code), new.get(code)
        if a is None and b is not None:
            out.append(ItemDiff(code, "added", b.level2_zh))
            continue
        if b is None and a is not None:
            out.append(ItemDiff(code, "removed", a.level2_zh))
            continue
        assert a is not None and b is not None
        changes = [
            FieldChange(name, _show(getattr(a, name)), _show(getattr(b, name)))
            for name in ITEM_FIELDS
            if name not in ("source", "notes") and getattr(a, name) != getattr(b, name)
        ]
        ra = {range_label(r): r for r in a.rules}
        rb = {range_label(r): r for r in b.rules}
        for key in sorted(set(ra) | set(rb)):
            x, y = ra.get(key), rb.get(key)
            if x is None:
                changes.append(FieldChange("rule", "", "added", key))
            elif y is None:
                changes.append(FieldChange("rule", "removed", "", key))
            else:
                changes.extend(
                    FieldChange(name, _show(getattr(x, name)), _show(getattr(y, name)), key)
                    for name in RULE_FIELDS
                    if getattr(x, name) != getattr(y, name)
                )
        if changes:
            out.append(ItemDiff(code, "changed", b.level2_zh, tuple(changes)))
    return out


def in_force(versions: Iterable[tuple[str, date | None, datetime]], on: date) -> str | None:
    """The version in force on ``on``: the latest ``active_from`` not after it (ties: the later loaded)."""
    best: tuple[date, datetime, str] | None = None
    for version, active_from, loaded_at in versions:
        if active_from is not None and active_from <= on:
            key = (active_from, loaded_at, version)
            if best is None or key > best:
                best = key
    return None if best is None else best[2]
