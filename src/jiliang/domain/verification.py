"""Verification results (检定结果) and what follows from them."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from jiliang.domain.instruments import InstrumentStatus

NEVER_DUE = date(9999, 12, 31)  # stored "valid until" of an instrument verified until failure


class Conclusion(StrEnum):
    PASS = "pass"  # 合格 → 检定证书
    FAIL = "fail"  # 不合格 → 检定结果通知书


def status_after(conclusion: Conclusion, current: InstrumentStatus) -> InstrumentStatus:
    """A failed verification takes the instrument out of service until it passes again."""
    if current is InstrumentStatus.SCRAPPED:
        return current
    return InstrumentStatus.IN_SERVICE if conclusion is Conclusion.PASS else InstrumentStatus.SUSPENDED


def valid_until(conclusion: Conclusion, due: date | None) -> date | None:
    """The last day the result vouches for the instrument; None for a failure."""
    if conclusion is Conclusion.FAIL:
        return None
    return due or NEVER_DUE


def covered(valid_until_: date | None, on: date, grace_days: int = 0) -> bool:
    if valid_until_ is None:
        return False
    return on.toordinal() < valid_until_.toordinal() + grace_days if valid_until_ != NEVER_DUE else True


def parse_conclusion(value: object) -> Conclusion:
    text = str(value).strip().lower() if value is not None else ""
    aliases = {
        "pass": Conclusion.PASS,
        "合格": Conclusion.PASS,
        "fail": Conclusion.FAIL,
        "不合格": Conclusion.FAIL,
    }
    if text not in aliases:
        from jiliang.errors import InvalidInput

        raise InvalidInput(
            f"检定结论 {value!r} 无效，应为 pass/合格 或 fail/不合格 / conclusion must be pass or fail",
            field="conclusion",
        )
    return aliases[text]


def effective_chain(verified_on: list[date]) -> list[date | None]:
    """``effective_until`` of each effective record, given their dates in order: the next one's date."""
    if not verified_on:
        return []
    return [*verified_on[1:], None]
