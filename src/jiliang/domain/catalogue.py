"""The catalogue of measuring instruments under compulsory management and its verification rules.

实施强制管理的计量器具目录 (SAMR announcement 2020 No. 42). The catalogue is versioned data: a newer
version is loaded beside the old one, and every verification record keeps the version and the rule that
set its due date, so loading a new catalogue never rewrites history.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
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
