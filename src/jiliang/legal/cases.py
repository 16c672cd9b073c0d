"""Enforcement cases (案件) and complaints (举报): their states, the moves between them and deadlines.

A case moves filed (立案) → investigating (调查) → decided (决定) → closed (结案), one step at a time, never
back. Deadlines are counted in calendar days from filing: the investigation should end within
``investigate_days`` and the decision be made within ``decide_days`` (90 by default, after 市场监督管理行政
处罚程序规定 第六十四条 as recalled, not checked against the current text); closing is due within
``close_days`` of the decision. All three are options of ``CaseDeadlines``, not law.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from jiliang.errors import Conflict


class CaseStatus(StrEnum):
    FILED = "filed"  # 立案
    INVESTIGATING = "investigating"  # 调查
    DECIDED = "decided"  # 决定
    CLOSED = "closed"  # 结案


CASE_ORDER = (CaseStatus.FILED, CaseStatus.INVESTIGATING, CaseStatus.DECIDED, CaseStatus.CLOSED)
CASE_ZH = {
    CaseStatus.FILED: "立案",
    CaseStatus.INVESTIGATING: "调查",
    CaseStatus.DECIDED: "决定",
    CaseStatus.CLOSED: "结案",
}


class CaseSource(StrEnum):
    INSPECTION = "inspection"  # 抽查结果
    NET_CONTENT = "net_content"  # 净含量检验
    COMPLAINT = "complaint"  # 举报
    WARNING = "warning"  # 远程监管预警


class ComplaintStatus(StrEnum):
    RECEIVED = "received"  # 已受理
    INVESTIGATING = "investigating"  # 核查中
    CONFIRMED = "confirmed"  # 属实
    UNFOUNDED = "unfounded"  # 不属实
    CLOSED = "closed"  # 已办结


COMPLAINT_MOVES: dict[ComplaintStatus, frozenset[ComplaintStatus]] = {
    ComplaintStatus.RECEIVED: frozenset({ComplaintStatus.INVESTIGATING, ComplaintStatus.UNFOUNDED}),
    ComplaintStatus.INVESTIGATING: frozenset({ComplaintStatus.CONFIRMED, ComplaintStatus.UNFOUNDED}),
    ComplaintStatus.CONFIRMED: frozenset({ComplaintStatus.CLOSED}),
    ComplaintStatus.UNFOUNDED: frozenset({ComplaintStatus.CLOSED}),
    ComplaintStatus.CLOSED: frozenset(),
}


@dataclass(frozen=True, slots=True)
class CaseDeadlines:
    investigate_days: int = 30
    decide_days: int = 90
    close_days: int = 30

    def investigate_by(self, filed_on: date) -> date:
        return filed_on + timedelta(days=self.investigate_days)

    def decide_by(self, filed_on: date) -> date:
        return filed_on + timedelta(days=self.decide_days)

    def close_by(self, decided_on: date) -> date:
        return decided_on + timedelta(days=self.close_days)


def next_case_status(current: CaseStatus, wanted: CaseStatus) -> CaseStatus:
    """The one allowed move: the next state in ``CASE_ORDER``; anything else is refused by name."""
    i = CASE_ORDER.index(current)
    if i + 1 >= len(CASE_ORDER) or CASE_ORDER[i + 1] is not wanted:
        raise Conflict(
            f"案件不能从「{CASE_ZH[current]}」转为「{CASE_ZH[wanted]}」/ a case cannot move from {current.value} to "
            f"{wanted.value}",
            field="status",
        )
    return wanted


def move_complaint(current: ComplaintStatus, wanted: ComplaintStatus) -> ComplaintStatus:
    if wanted not in COMPLAINT_MOVES[current]:
        raise Conflict(
            f"举报不能从 {current.value} 转为 {wanted.value} / a complaint cannot move from {current.value} to "
            f"{wanted.value}",
            field="status",
        )
    return wanted


def overdue_steps(
    status: CaseStatus, today: date, investigate_by: date, decide_by: date, close_by: date | None
) -> list[str]:
    """Which deadlines a case has passed without reaching the state they ask for."""
    out: list[str] = []
    rank = CASE_ORDER.index(status)
    if rank < CASE_ORDER.index(CaseStatus.DECIDED) and today > investigate_by:
        out.append("investigate")
    if rank < CASE_ORDER.index(CaseStatus.DECIDED) and today > decide_by:
        out.append("decide")
    if status is CaseStatus.DECIDED and close_by is not None and today > close_by:
        out.append("close")
    return out
