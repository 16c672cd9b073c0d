"""Places of use (一站一码) and what the public may read about the instruments there.

A place (a fuel station, a market, a hospital) gets a public code that the platform prints as a QR code
on site; an instrument gets a registry code (器具登记码) built from its region and registry number with a
check character, so that a mistyped code is refused instead of opening another instrument. What the
public sees of an instrument is one verification status, named in words and a symbol (never colour
alone), derived here from the instrument's summary of its effective records.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from enum import StrEnum

from jiliang.domain.verification import NEVER_DUE, covered
from jiliang.errors import InvalidInput, NotFound


class PlaceKind(StrEnum):
    FUEL_STATION = "fuel_station"  # 加油（气）站
    MARKET = "market"  # 集贸市场
    HOSPITAL = "hospital"  # 医疗机构
    SHOP = "shop"  # 商店、超市
    UTILITY = "utility"  # 供水、供气、供热
    OTHER = "other"


PLACE_KIND_LABELS: dict[PlaceKind, tuple[str, str]] = {
    PlaceKind.FUEL_STATION: ("加油（气）站", "fuel station"),
    PlaceKind.MARKET: ("集贸市场", "market"),
    PlaceKind.HOSPITAL: ("医疗机构", "hospital"),
    PlaceKind.SHOP: ("商店、超市", "shop"),
    PlaceKind.UTILITY: ("供水、供气、供热", "utility"),
    PlaceKind.OTHER: ("其他场所", "other place"),
}
_KINDS = {k.value: k for k in PlaceKind} | {v[0]: k for k, v in PLACE_KIND_LABELS.items()}


def parse_place_kind(value: object) -> PlaceKind:
    kind = _KINDS.get(str(value or "").strip())
    if kind is None:
        raise InvalidInput(
            f"场所类型 {value!r} 无效 / kind must be one of {', '.join(k.value for k in PlaceKind)}",
            field="kind",
        )
    return kind


# -- codes --------------------------------------------------------------------------------------------

_PLACE_CODE = re.compile(r"\d{6}-\d{4,6}")
_REGISTRY_CODE = re.compile(r"(\d{6})-?(\d{8,10})-?([0-9X])")


def place_code(region_code: str, sequence: int) -> str:
    """``339901-0001``: the county's code and the place's number in it."""
    return f"{region_code}-{sequence:04d}"


def valid_place_code(text: str) -> str:
    code = text.strip()
    if not _PLACE_CODE.fullmatch(code):
        raise NotFound(f"场所码 {code[:40]} 不存在 / place code not found", field="code")
    return code


def _check_char(digits: str) -> str:
    """ISO 7064 MOD 11-2 (as in the resident identity number, GB 11643): '0'–'9' or 'X'."""
    total = 0
    for ch in digits:
        total = (total + int(ch)) * 2 % 11
    value = (12 - total) % 11
    return "X" if value == 10 else str(value)


def registry_code(region_code: str, instrument_id: int) -> str:
    """``339901-00001234-7``: region, registry number (eight digits or more), check character."""
    number = f"{instrument_id:08d}"
    return f"{region_code}-{number}-{_check_char(region_code + number)}"


def parse_registry_code(text: str) -> tuple[str, int]:
    """The region and registry number of a code; a malformed or mistyped code is simply not found."""
    m = _REGISTRY_CODE.fullmatch(text.strip().upper())
    if m is None or _check_char(m.group(1) + m.group(2)) != m.group(3):
        raise NotFound(f"器具登记码 {text.strip()[:40]} 不存在 / registry code not found", field="code")
    return m.group(1), int(m.group(2))


# -- what the public sees -----------------------------------------------------------------------------


class PublicStatus(StrEnum):
    VALID = "valid"  # 检定合格，在有效期内
    DUE_SOON = "due_soon"  # 合格，30 日内到期
    OVERDUE = "overdue"  # 超期未检
    NEVER = "never_verified"  # 未检定
    FAILED = "failed"  # 检定不合格
    SUSPENDED = "suspended"  # 停用
    SCRAPPED = "scrapped"  # 已报废
    NOT_COMPULSORY = "not_compulsory"  # 非强制检定


STATUS_LABELS: dict[PublicStatus, tuple[str, str, str]] = {
    # symbol, Chinese, English: the symbol and the words carry the meaning, the colour only repeats it
    PublicStatus.VALID: ("✔", "检定合格，在有效期内", "verified, valid"),
    PublicStatus.DUE_SOON: ("⚠", "合格，30 日内到期", "valid, due within 30 days"),
    PublicStatus.OVERDUE: ("✘", "超期未检", "overdue for verification"),
    PublicStatus.NEVER: ("✘", "未检定", "never verified"),
    PublicStatus.FAILED: ("✘", "检定不合格，禁止使用", "failed verification, not to be used"),
    PublicStatus.SUSPENDED: ("–", "停用", "out of service"),
    PublicStatus.SCRAPPED: ("–", "已报废", "scrapped"),
    PublicStatus.NOT_COMPULSORY: ("–", "非强制检定", "not under compulsory verification"),
}
SOON = timedelta(days=30)


def public_status(
    *,
    status: str,
    compulsory: bool,
    last_conclusion: str | None,
    valid_until: date | None,
    due_on: date | None,
    today: date,
    grace_days: int = 0,
) -> PublicStatus:
    """One word for a passer-by, on the same rule as the overdue indicator (``covered``)."""
    if status == "scrapped":
        return PublicStatus.SCRAPPED
    if last_conclusion == "fail":
        return PublicStatus.FAILED
    if status == "suspended":
        return PublicStatus.SUSPENDED
    if not compulsory:
        return PublicStatus.NOT_COMPULSORY
    if last_conclusion is None:
        return PublicStatus.NEVER
    if not covered(valid_until, today, grace_days):
        return PublicStatus.OVERDUE
    if due_on is not None and valid_until != NEVER_DUE and due_on - today <= SOON:
        return PublicStatus.DUE_SOON
    return PublicStatus.VALID
