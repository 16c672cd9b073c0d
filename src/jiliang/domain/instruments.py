"""Measuring instruments in use (在用计量器具) as the national e-CQS ledger records them."""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum

from jiliang.errors import InvalidInput


class InstrumentStatus(StrEnum):
    IN_SERVICE = "in_service"  # 在用
    SUSPENDED = "suspended"  # 停用（含检定不合格）
    SCRAPPED = "scrapped"  # 报废


class OrganisationKind(StrEnum):
    ENTERPRISE = "enterprise"  # 企业
    LEGAL_VERIFICATION_INSTITUTION = "legal_verification_institution"  # 法定计量检定机构
    AUTHORISED_CALIBRATION_LAB = "authorised_calibration_lab"  # 授权校准实验室
    MARKET_OPERATOR = "market_operator"  # 集贸市场经营者
    FUEL_STATION = "fuel_station"  # 加油站
    HOSPITAL = "hospital"  # 医疗机构
    UTILITY = "utility"  # 供水、供电、供气、供热单位
    GOVERNMENT = "government"  # 行政机关
    OTHER = "other"

    @property
    def verifies(self) -> bool:
        return self in (
            OrganisationKind.LEGAL_VERIFICATION_INSTITUTION,
            OrganisationKind.AUTHORISED_CALIBRATION_LAB,
        )


def not_in_future(value: date, today: date, field: str) -> date:
    if value > today:
        raise InvalidInput(
            f"日期 {value.isoformat()} 晚于今天 {today.isoformat()} / date {value.isoformat()} is in the future",
            field=field,
        )
    return value


def required_text(value: object, field: str, max_len: int = 200) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{field} 不能为空 / {field} is required", field=field)
    text = value.strip()
    if len(text) > max_len:
        raise InvalidInput(f"{field} 超过 {max_len} 字符 / {field} longer than {max_len}", field=field)
    return text


# C0/C1 controls (CR and LF among them), bidirectional overrides and isolates, zero-width characters, line
# and paragraph separators and the BOM: invisible or layout-changing in a number that is printed, put in a
# file name (Content-Disposition) and in URLs.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")


CONTROL_CHARACTERS = _CONTROL  # for checks of a whole column at once (services/transfer/columnwise.py)


def document_number(value: object, field: str, max_len: int = 100) -> str:
    """A document, certificate or serial number: required text without control characters (issue 16)."""
    text = required_text(value, field, max_len)
    if _CONTROL.search(text):
        raise InvalidInput(
            f"{field} 含控制字符或不可见字符 / {field} contains control or invisible characters", field=field
        )
    return text


def optional_text(value: object, field: str, max_len: int = 200) -> str:
    if value is None:
        return ""
    text = str(value).strip()
    if len(text) > max_len:
        raise InvalidInput(f"{field} 超过 {max_len} 字符 / {field} longer than {max_len}", field=field)
    return text


def parse_date(value: object, field: str) -> date:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            return date.fromisoformat(text[:10]) if len(text) >= 10 else date.fromisoformat(text)
        except ValueError:
            pass
    raise InvalidInput(f"{field} 不是有效日期 (YYYY-MM-DD) / {field} is not a date: {value!r}", field=field)


def parse_optional_float(value: object, field: str) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InvalidInput(f"{field} 不是数字 / {field} is not a number: {value!r}", field=field) from None
    if number != number or number in (float("inf"), float("-inf")) or number <= 0:
        raise InvalidInput(f"{field} 必须是正数 / {field} must be a positive number", field=field)
    return number
