"""The warning workflow (预警 → 处置) as a pure state machine: which step may follow which, what each step
must carry, deadlines per severity and when a warning is overdue. No I/O; ``services.warnings`` stores it.

    new ──assign──▶ assigned ──inspect──▶ inspected ──dispose──▶ disposed ──close──▶ closed
     │  ▲              │  (re-assign)         │  (not confirmed: no fault found) ──close──▶ closed
     └──┴──dismiss (the condition has cleared by itself) ──────────────────────────▶ closed

- ``assign`` names an inspector (a supervisor of the jurisdiction) and a deadline (by default the
  severity's, counted from the assignment); re-assigning an assigned warning is allowed, nothing later.
- ``inspect`` records the on-site inspection: findings (required), the measured error (in % of the value,
  optional) and whether the warning is confirmed (a fault was found) or not.
- ``dispose`` is allowed only for a confirmed warning: adjusted, repaired, replaced, sealed or penalised.
- ``close`` ends a disposed warning, or an inspected one that was not confirmed.
- ``dismiss`` closes a new or assigned warning whose condition has already cleared, with a reason; a
  critical warning is never dismissed unseen: it must be inspected.

Every refusal is a :class:`WorkflowRefused` naming the field and why, in Chinese and English.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from jiliang.errors import InvalidInput


class State(StrEnum):
    NEW = "new"  # 新预警
    ASSIGNED = "assigned"  # 已派发
    INSPECTED = "inspected"  # 已现场核查
    DISPOSED = "disposed"  # 已处置
    CLOSED = "closed"  # 已办结


class Action(StrEnum):
    ASSIGN = "assign"  # 派发
    INSPECT = "inspect"  # 现场核查
    DISPOSE = "dispose"  # 处置
    CLOSE = "close"  # 办结
    DISMISS = "dismiss"  # 无需处置（条件已消除）


class Disposal(StrEnum):
    ADJUSTED = "adjusted"  # 调修（调整）
    REPAIRED = "repaired"  # 修理
    REPLACED = "replaced"  # 更换
    SEALED = "sealed"  # 封存
    PENALISED = "penalised"  # 行政处罚


STATE_ZH: dict[State, tuple[str, str]] = {
    State.NEW: ("新预警", "new"),
    State.ASSIGNED: ("已派发", "assigned"),
    State.INSPECTED: ("已核查", "inspected"),
    State.DISPOSED: ("已处置", "disposed"),
    State.CLOSED: ("已办结", "closed"),
}
ACTION_ZH: dict[Action, tuple[str, str]] = {
    Action.ASSIGN: ("派发", "assign"),
    Action.INSPECT: ("现场核查", "on-site inspection"),
    Action.DISPOSE: ("处置", "dispose"),
    Action.CLOSE: ("办结", "close"),
    Action.DISMISS: ("无需处置", "dismiss"),
}
DISPOSAL_ZH: dict[Disposal, tuple[str, str]] = {
    Disposal.ADJUSTED: ("调整", "adjusted"),
    Disposal.REPAIRED: ("修理", "repaired"),
    Disposal.REPLACED: ("更换", "replaced"),
    Disposal.SEALED: ("封存", "sealed"),
    Disposal.PENALISED: ("行政处罚", "penalised"),
}

# What a disposal does to the registry. Replaced or sealed: the instrument leaves service (停用).
# Adjusted or repaired: it may be used again only after passing a verification (修理后的计量器具须经检定
# 合格方可使用), so it too is suspended, and the next passing verification record returns it to service
# (``domain.verification.status_after``): "re-verification due". Penalised changes nothing in the registry
# by itself; it opens an enforcement case.
OUT_OF_SERVICE = frozenset({Disposal.REPLACED, Disposal.SEALED})
REVERIFY = frozenset({Disposal.ADJUSTED, Disposal.REPAIRED})

OPEN_STATES = frozenset({State.NEW, State.ASSIGNED, State.INSPECTED})  # the deadline runs in these

_NEXT: dict[Action, frozenset[State]] = {
    Action.ASSIGN: frozenset({State.NEW, State.ASSIGNED}),
    Action.INSPECT: frozenset({State.ASSIGNED}),
    Action.DISPOSE: frozenset({State.INSPECTED}),
    Action.CLOSE: frozenset({State.INSPECTED, State.DISPOSED}),
    Action.DISMISS: frozenset({State.NEW, State.ASSIGNED}),
}
_TARGET: dict[Action, State] = {
    Action.ASSIGN: State.ASSIGNED,
    Action.INSPECT: State.INSPECTED,
    Action.DISPOSE: State.DISPOSED,
    Action.CLOSE: State.CLOSED,
    Action.DISMISS: State.CLOSED,
}


class WorkflowRefused(InvalidInput):
    """A step that may not follow the warning's state, or lacks what it must carry."""


@dataclass(frozen=True)
class Deadlines:
    """Hours from raising (or from assignment) to disposal, per severity (settings: ``warning_deadline_*``)."""

    critical_h: float = 72.0
    warning_h: float = 168.0
    info_h: float = 720.0

    def hours(self, severity: str) -> float:
        return {"critical": self.critical_h, "warning": self.warning_h}.get(severity, self.info_h)

    def due(self, severity: str, start: datetime) -> datetime:
        return start + timedelta(hours=self.hours(severity))


@dataclass(frozen=True)
class Facts:
    """What a step is judged on: the warning as stored and what the step carries."""

    state: State
    severity: str
    condition_active: bool
    confirmed: bool | None = None  # from the inspection
    findings: str = ""
    disposal: str | None = None
    note: str = ""
    assignee: int | None = None
    due_at: datetime | None = None
    now: datetime | None = None


def parse_state(value: str) -> State:
    try:
        return State(value)
    except ValueError:
        raise InvalidInput(f"未知的预警状态 {value!r} / unknown warning state", field="state") from None


def parse_action(value: str) -> Action:
    try:
        return Action(value)
    except ValueError:
        known = ", ".join(a.value for a in Action)
        raise InvalidInput(f"未知的操作 {value!r}（可用：{known}）/ unknown action", field="action") from None


def parse_disposal(value: str | None) -> Disposal:
    try:
        return Disposal(str(value))
    except ValueError:
        known = ", ".join(d.value for d in Disposal)
        raise WorkflowRefused(
            f"处置方式须为 {known} 之一 / disposal must be one of {known}", field="disposal"
        ) from None


def allowed(state: State) -> list[Action]:
    """The steps that may follow ``state`` (what a page offers)."""
    return [a for a in Action if state in _NEXT[a]]


def step(action: Action, facts: Facts) -> State:
    """The state after ``action``, or :class:`WorkflowRefused` naming why it may not be taken."""
    if facts.state not in _NEXT[action]:
        zh, en = STATE_ZH[facts.state]
        azh, aen = ACTION_ZH[action]
        may = "、".join(ACTION_ZH[a][0] for a in allowed(facts.state)) or "无"
        raise WorkflowRefused(
            f"预警处于“{zh}”状态，不能“{azh}”（可：{may}）/ a warning that is {en} cannot be sent to {aen}",
            field="action",
        )
    if action is Action.ASSIGN:
        if facts.assignee is None:
            raise WorkflowRefused("须指定核查人员 / name the inspector", field="assignee_id")
        if facts.due_at is not None and facts.now is not None and facts.due_at <= facts.now:
            raise WorkflowRefused("处置期限须晚于现在 / the deadline must be in the future", field="due_at")
    elif action is Action.INSPECT:
        if not facts.findings.strip():
            raise WorkflowRefused(
                "须填写现场核查情况 / the inspection findings are required", field="findings"
            )
        if facts.confirmed is None:
            raise WorkflowRefused(
                "须说明预警是否属实 / state whether the warning is confirmed", field="confirmed"
            )
    elif action is Action.DISPOSE:
        if not facts.confirmed:
            raise WorkflowRefused(
                "核查未确认问题的预警无需处置，请直接办结 / a warning the inspection did not confirm is closed,"
                " not disposed",
                field="action",
            )
        parse_disposal(facts.disposal)
    elif action is Action.CLOSE:
        if facts.state is State.INSPECTED and facts.confirmed:
            raise WorkflowRefused(
                "核查属实的预警须先处置再办结 / a confirmed warning is disposed before it is closed",
                field="action",
            )
    elif action is Action.DISMISS:
        if facts.condition_active:
            raise WorkflowRefused(
                "预警条件仍在持续，须派员核查 / the condition persists: send an inspector", field="action"
            )
        if facts.severity == "critical":
            raise WorkflowRefused(
                "严重预警须经现场核查 / a critical warning must be inspected on site", field="action"
            )
        if not facts.note.strip():
            raise WorkflowRefused("须说明理由 / give the reason", field="note")
    return _TARGET[action]


def overdue(state: State, due_at: datetime | None, now: datetime) -> bool:
    """Still open (not yet disposed or closed) after its deadline."""
    return state in OPEN_STATES and due_at is not None and now > due_at
