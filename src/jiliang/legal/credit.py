"""Metrology credit (诚信计量): events → a score → a grade A/B/C/D, with every point explained.

No national formula is published for metrology credit grades, so the policy is this project's, written
down in docs/market.md and held in a ``CreditPolicy`` a region can replace (``CreditPolicy.from_mapping``):

- every entity starts at ``base`` (100);
- each event of a kind adds that kind's points (negative for failures, positive for honest-metrology
  commitments and exemplary status) while it is *valid*: ``0 ≤ as_of − occurred_on < validity_days[kind]``;
- positive points together add at most ``positive_cap``;
- **credit repair**: when an entity has had no negative event for ``repair_days`` (counting back from
  ``as_of``), its negative events stop counting — the record is repaired; one new negative event inside
  the window brings all its valid negative events back;
- the score is clipped to [0, base + positive_cap] and graded by ``thresholds`` (A ≥ 90, B ≥ 75, C ≥ 60,
  else D by default);
- grades drive supervision: ``sampling_weight[grade]`` is the risk weight of the random draw and
  ``inspections_per_year[grade]`` the intended frequency.

``grade`` explains one entity line by line; ``grade_many`` recomputes millions at once with the same rules
(three ``bincount``s over the event arrays), and a test holds the two to the same answers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt

from jiliang.errors import InvalidInput


class EventKind(StrEnum):
    INSPECTION_PASSED = "inspection_passed"  # 抽查合格
    INSPECTION_FAILED = "inspection_failed"  # 抽查不合格
    NET_CONTENT_PASSED = "net_content_passed"  # 净含量检验合格
    NET_CONTENT_FAILED = "net_content_failed"  # 净含量检验不合格
    VERIFICATION_FAILED = "verification_failed"  # 检定不合格
    OVERDUE_INSTRUMENT = "overdue_instrument"  # 强检器具超期未检
    REMOTE_WARNING = "remote_warning"  # 远程监管预警（经核实）
    COMPLAINT_CONFIRMED = "complaint_confirmed"  # 举报经查属实
    CASE_VIOLATION = "case_violation"  # 案件结案认定违法
    PENALTY = "penalty"  # 行政处罚
    SELF_COMMITMENT = "self_commitment"  # 诚信计量自我承诺
    EXEMPLARY_UNIT = "exemplary_unit"  # 诚信计量示范单位


KIND_ZH: dict[EventKind, str] = {
    EventKind.INSPECTION_PASSED: "抽查合格",
    EventKind.INSPECTION_FAILED: "抽查不合格",
    EventKind.NET_CONTENT_PASSED: "净含量检验合格",
    EventKind.NET_CONTENT_FAILED: "净含量检验不合格",
    EventKind.VERIFICATION_FAILED: "检定不合格",
    EventKind.OVERDUE_INSTRUMENT: "强检器具超期未检",
    EventKind.REMOTE_WARNING: "远程监管预警",
    EventKind.COMPLAINT_CONFIRMED: "举报经查属实",
    EventKind.CASE_VIOLATION: "案件认定违法",
    EventKind.PENALTY: "行政处罚",
    EventKind.SELF_COMMITMENT: "诚信计量自我承诺",
    EventKind.EXEMPLARY_UNIT: "诚信计量示范单位",
}

KINDS: tuple[EventKind, ...] = tuple(EventKind)

GRADES = ("A", "B", "C", "D")


def _default_points() -> dict[str, float]:
    return {
        "inspection_passed": 1,
        "inspection_failed": -10,
        "net_content_passed": 1,
        "net_content_failed": -10,
        "verification_failed": -5,
        "overdue_instrument": -2,
        "remote_warning": -3,
        "complaint_confirmed": -8,
        "case_violation": -15,
        "penalty": -20,
        "self_commitment": 5,
        "exemplary_unit": 10,
    }


def _default_validity() -> dict[str, int]:
    out = {k.value: 3 * 365 for k in EventKind}
    out["self_commitment"] = 365  # a commitment is renewed every year
    return out


@dataclass(frozen=True)
class CreditPolicy:
    """The scoring policy; every number here is a choice a region may change (see docs/market.md)."""

    name: str = "jiliang-default-2026"
    base: float = 100.0
    points: Mapping[str, float] = field(default_factory=_default_points)
    validity_days: Mapping[str, int] = field(default_factory=_default_validity)
    repair_days: int = 365
    positive_cap: float = 10.0
    thresholds: tuple[tuple[str, float], ...] = (("A", 90.0), ("B", 75.0), ("C", 60.0))
    sampling_weight: Mapping[str, float] = field(
        default_factory=lambda: {"A": 0.5, "B": 1.0, "C": 2.0, "D": 4.0}
    )
    inspections_per_year: Mapping[str, float] = field(
        default_factory=lambda: {"A": 0.2, "B": 0.5, "C": 1.0, "D": 2.0}
    )

    def __post_init__(self) -> None:
        missing = {k.value for k in EventKind} - set(self.points)
        if missing:
            raise InvalidInput(
                f"信用策略缺少事件分值：{sorted(missing)} / the policy has no points for {sorted(missing)}",
                field="points",
            )
        if any(int(v) < 1 for v in self.validity_days.values()) or self.repair_days < 1:
            raise InvalidInput(
                "有效期与修复期须至少 1 天 / validity and repair periods must be at least 1 day",
                field="validity_days",
            )
        limits = [t for _, t in self.thresholds]
        if limits != sorted(limits, reverse=True) or [g for g, _ in self.thresholds] != list(
            GRADES[: len(limits)]
        ):
            raise InvalidInput(
                "等级阈值须按 A、B、C 递减 / thresholds must fall from A to C", field="thresholds"
            )

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> CreditPolicy:
        known = {
            "name",
            "base",
            "points",
            "validity_days",
            "repair_days",
            "positive_cap",
            "thresholds",
            "sampling_weight",
            "inspections_per_year",
        }
        unknown = set(data) - known
        if unknown:
            raise InvalidInput(
                f"未知的策略项：{sorted(unknown)} / unknown policy keys {sorted(unknown)}", field="policy"
            )
        kwargs: dict[str, Any] = dict(data)
        if "points" in kwargs:
            kwargs["points"] = {**_default_points(), **kwargs["points"]}
        if "validity_days" in kwargs:
            kwargs["validity_days"] = {**_default_validity(), **kwargs["validity_days"]}
        if "thresholds" in kwargs:
            th = kwargs["thresholds"]
            kwargs["thresholds"] = tuple(
                (str(g), float(v)) for g, v in (th.items() if isinstance(th, Mapping) else th)
            )
        return cls(**kwargs)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "base": self.base,
            "points": dict(self.points),
            "validity_days": dict(self.validity_days),
            "repair_days": self.repair_days,
            "positive_cap": self.positive_cap,
            "thresholds": {g: v for g, v in self.thresholds},
            "sampling_weight": dict(self.sampling_weight),
            "inspections_per_year": dict(self.inspections_per_year),
        }

    def grade_of(self, score: float) -> str:
        for g, limit in self.thresholds:
            if score >= limit:
                return g
        return GRADES[len(self.thresholds)]


@dataclass(frozen=True, slots=True)
class CreditEvent:
    kind: EventKind
    occurred_on: date
    ref: str = ""


@dataclass(frozen=True, slots=True)
class PointLine:
    """One event's part in the score: its points and whether (and why not) they count."""

    kind: EventKind
    occurred_on: date
    ref: str
    points: float
    counted: float
    reason_zh: str
    reason_en: str


@dataclass(frozen=True, slots=True)
class CreditGrade:
    score: float
    grade: str
    repaired: bool
    last_negative_on: date | None
    lines: tuple[PointLine, ...]
    policy: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "grade": self.grade,
            "repaired": self.repaired,
            "last_negative_on": self.last_negative_on.isoformat() if self.last_negative_on else None,
            "policy": self.policy,
            "lines": [
                {
                    "kind": ln.kind.value,
                    "kind_zh": KIND_ZH[ln.kind],
                    "occurred_on": ln.occurred_on.isoformat(),
                    "ref": ln.ref,
                    "points": ln.points,
                    "counted": ln.counted,
                    "reason_zh": ln.reason_zh,
                    "reason_en": ln.reason_en,
                }
                for ln in self.lines
            ],
        }


def grade(events: Sequence[CreditEvent], as_of: date, policy: CreditPolicy | None = None) -> CreditGrade:
    """One entity's grade with a line per event saying what it counted and why."""
    pol = policy or CreditPolicy()
    valid: list[bool] = []
    for e in events:
        age = (as_of - e.occurred_on).days
        valid.append(0 <= age < int(pol.validity_days[e.kind.value]))
    recent_negative = any(
        pol.points[e.kind.value] < 0 and 0 <= (as_of - e.occurred_on).days < pol.repair_days for e in events
    )
    negatives = [e.occurred_on for e in events if pol.points[e.kind.value] < 0 and e.occurred_on <= as_of]
    last_neg = max(negatives) if negatives else None
    repaired = last_neg is not None and not recent_negative
    lines: list[PointLine] = []
    neg_total = 0.0
    pos_total = 0.0
    for e, ok in sorted(zip(events, valid, strict=True), key=lambda p: (p[0].occurred_on, p[0].kind.value)):
        pts = float(pol.points[e.kind.value])
        if e.occurred_on > as_of:
            lines.append(
                PointLine(
                    e.kind,
                    e.occurred_on,
                    e.ref,
                    pts,
                    0.0,
                    "晚于评定日，不计",
                    "after the grading date: not counted",
                )
            )
            continue
        if not ok:
            lines.append(
                PointLine(
                    e.kind,
                    e.occurred_on,
                    e.ref,
                    pts,
                    0.0,
                    f"超过 {pol.validity_days[e.kind.value]} 天有效期，不计",
                    f"older than its {pol.validity_days[e.kind.value]}-day validity: not counted",
                )
            )
            continue
        if pts < 0 and repaired:
            lines.append(
                PointLine(
                    e.kind,
                    e.occurred_on,
                    e.ref,
                    pts,
                    0.0,
                    f"已连续 {pol.repair_days} 天无失信事件，信用已修复，不计",
                    f"no negative event for {pol.repair_days} days: repaired, not counted",
                )
            )
            continue
        if pts < 0:
            neg_total += pts
            lines.append(
                PointLine(
                    e.kind,
                    e.occurred_on,
                    e.ref,
                    pts,
                    pts,
                    f"{KIND_ZH[e.kind]} {pts:+g} 分",
                    f"{e.kind.value} {pts:+g} points",
                )
            )
        else:
            room = max(0.0, pol.positive_cap - pos_total)
            got = min(pts, room)
            pos_total += got
            lines.append(
                PointLine(
                    e.kind,
                    e.occurred_on,
                    e.ref,
                    pts,
                    got,
                    f"{KIND_ZH[e.kind]} {got:+g} 分" + ("（加分上限）" if got < pts else ""),
                    f"{e.kind.value} {got:+g} points"
                    + (f" (positive points capped at {pol.positive_cap:g})" if got < pts else ""),
                )
            )
    score = min(max(pol.base + neg_total + pos_total, 0.0), pol.base + pol.positive_cap)
    return CreditGrade(score, pol.grade_of(score), repaired, last_neg, tuple(lines), pol.name)


def kind_codes(kinds: Sequence[str]) -> npt.NDArray[np.int8]:
    """Event kinds as the small integers ``grade_many`` takes (index into ``KINDS``)."""
    index = {k.value: i for i, k in enumerate(KINDS)}
    try:
        return np.array([index[k] for k in kinds], dtype=np.int8)
    except KeyError as exc:
        raise InvalidInput(
            f"未知的信用事件类型：{exc.args[0]} / unknown credit event kind", field="kind"
        ) from None


@dataclass(frozen=True, slots=True)
class Grades:
    score: npt.NDArray[np.float64]
    grade: npt.NDArray[np.int8]  # 0 = A … 3 = D
    repaired: npt.NDArray[np.bool_]


def grade_many(
    entity: npt.NDArray[np.integer[Any]],
    kind: npt.NDArray[np.integer[Any]],
    day: npt.NDArray[np.integer[Any]],
    n_entities: int,
    as_of_day: int,
    policy: CreditPolicy | None = None,
) -> Grades:
    """Grades for ``n_entities`` entities from parallel event arrays: entity index (0..n−1), kind code
    (``kind_codes``) and day number (any epoch, the same as ``as_of_day``). Same rules as ``grade``."""
    pol = policy or CreditPolicy()
    pts_by_kind = np.array([float(pol.points[k.value]) for k in KINDS])
    validity = np.array([int(pol.validity_days[k.value]) for k in KINDS])
    age = as_of_day - day.astype(np.int64)
    kind_i = kind.astype(np.intp)
    pts = pts_by_kind[kind_i]
    valid = (age >= 0) & (age < validity[kind_i])
    negative = pts < 0
    recent = np.bincount(entity[negative & (age >= 0) & (age < pol.repair_days)], minlength=n_entities) > 0
    any_neg = np.bincount(entity[negative & (age >= 0)], minlength=n_entities) > 0
    neg_sum = np.bincount(entity, weights=np.where(valid & negative, pts, 0.0), minlength=n_entities)
    pos_sum = np.bincount(entity, weights=np.where(valid & ~negative, pts, 0.0), minlength=n_entities)
    score = pol.base + np.where(recent, neg_sum, 0.0) + np.minimum(pos_sum, pol.positive_cap)
    score = np.clip(score, 0.0, pol.base + pol.positive_cap)
    grades = np.full(n_entities, len(pol.thresholds), dtype=np.int8)
    for i, (_, limit) in reversed(list(enumerate(pol.thresholds))):
        grades[score >= limit] = i
    return Grades(score, grades, any_neg & ~recent)
