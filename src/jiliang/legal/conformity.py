"""The conclusion of a verification from its data: each test point's error against its MPE, under a decision rule.

Per test point: the error is the mean indication minus the conventional true (nominal) value; the point
passes when the error lies within the MPE under the decision rule; the verification passes when every point
and every inspection item passes. Two decision rules (docs/verification-data.md):

- ``simple`` — simple acceptance (ILAC G8:09/2019 4.2.1): accept when the error lies within
  the MPE; the uncertainty is not subtracted, which is sound when U is small against the MPE. A warning is
  raised at each point where U > MPE/3 (the one-third criterion of JJF 1094-2002 for verification).
- ``guarded`` — guarded acceptance with guard band w = U (ILAC G8:09/2019 4.2.2, w = U; JJF 1059.1 as the uncertainty to use): accept only when the
  error lies within [lower + U, upper − U]; a point whose U is missing cannot be accepted under this rule.

Staff judgement is recorded only for inspection items the regulation checks by eye or by hand (外观、铭牌、
封印 …): pass/fail as judged. A measured point's outcome is never a judgement: it follows from the numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, localcontext
from enum import StrEnum

from jiliang.errors import InvalidInput
from jiliang.legal.mpe import Mpe

ONE_THIRD = Decimal(1) / Decimal(3)


class DecisionRule(StrEnum):
    SIMPLE = "simple"  # 简单接受
    GUARDED = "guarded"  # 防护带接受，w = U


RULE_LABELS = {
    DecisionRule.SIMPLE: ("简单接受（|误差| ≤ MPE）", "simple acceptance (|error| ≤ MPE)"),
    DecisionRule.GUARDED: (
        "防护带接受，w = U（ILAC G8:2019）",
        "guarded acceptance, w = U (ILAC G8:2019)",
    ),
}


def parse_rule(value: object) -> DecisionRule:
    text = str(value or "simple").strip().lower()
    try:
        return DecisionRule(text)
    except ValueError:
        raise InvalidInput(
            "判定规则须为 simple 或 guarded / decision rule must be simple or guarded", field="decision_rule"
        ) from None


@dataclass(frozen=True)
class PointData:
    """One measured test point as recorded."""

    nominal: Decimal  # conventional true value (标准值)
    indications: tuple[Decimal, ...]  # the instrument's readings at the point (示值)
    mpe: Mpe
    uncertainty: Decimal | None = None  # expanded uncertainty U of the error (k as recorded)


@dataclass(frozen=True)
class PointOutcome:
    error: Decimal
    passed: bool
    accept_lower: Decimal  # the acceptance zone under the rule
    accept_upper: Decimal
    ratio: Decimal | None  # U / |MPE| (the smaller limit), None without U
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class Judgement:
    passed: bool
    points: tuple[PointOutcome, ...]
    warnings: tuple[str, ...]


def error_of(nominal: Decimal, indications: Sequence[Decimal]) -> Decimal:
    """Indication minus conventional true value, the indications averaged (示值误差, JJF 1001-2011)."""
    if not indications:
        raise InvalidInput(
            "每个检定点至少一个示值 / each test point needs an indication", field="indications"
        )
    with localcontext() as ctx:
        ctx.prec = 15  # a mean of three readings is 0.00166…: fifteen significant digits are plenty
        mean = sum(indications, Decimal(0)) / len(indications)
        return mean - nominal


def judge_point(point: PointData, rule: DecisionRule) -> PointOutcome:
    error = error_of(point.nominal, point.indications)
    u = point.uncertainty
    if u is not None and u < 0:
        raise InvalidInput("扩展不确定度不能为负 / U cannot be negative", field="uncertainty")
    warnings: list[str] = []
    ratio = None
    magnitude = point.mpe.magnitude
    if u is not None and magnitude > 0:
        ratio = u / magnitude
        if ratio > ONE_THIRD:
            warnings.append(
                f"U/MPE = {ratio:.2f} > 1/3：不确定度相对最大允许误差偏大 / U/MPE above 1/3: the uncertainty is "
                "large against the MPE"
            )
    lower, upper = point.mpe.lower, point.mpe.upper
    if rule is DecisionRule.GUARDED:
        if u is None:
            warnings.append("防护带判定须给出 U / guarded acceptance needs U")
            return PointOutcome(error, False, lower, upper, ratio, tuple(warnings))
        lower, upper = lower + u, upper - u
        if lower > upper:
            warnings.append("U 超过最大允许误差，接受区为空 / U exceeds the MPE: no acceptance zone")
    passed = lower <= error <= upper
    return PointOutcome(error, passed, lower, upper, ratio, tuple(warnings))


def judge(points: Sequence[PointData], inspections: Sequence[bool], rule: DecisionRule) -> Judgement:
    """The verification's conclusion: pass iff every measured point and every inspection item passes."""
    if not points:
        raise InvalidInput(
            "检定须有测量数据（至少一个检定点）/ a verification needs measured data (at least one test point)",
            field="points",
        )
    outcomes = tuple(judge_point(p, rule) for p in points)
    warnings = tuple(
        f"第 {i} 点 / point {i}: {w}" for i, o in enumerate(outcomes, start=1) for w in o.warnings
    )
    passed = all(o.passed for o in outcomes) and all(inspections)
    return Judgement(passed, outcomes, warnings)
