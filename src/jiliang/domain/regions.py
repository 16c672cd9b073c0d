"""Administrative divisions (行政区划) as GB/T 2260 six-digit codes.

A code is ``PPCCDD``: province, city (prefecture), county. A jurisdiction is a region and everything
under it, which with these codes is a prefix: that makes "inside my jurisdiction" one indexed
``LIKE 'PPCC%'`` in SQL instead of a tree walk.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from jiliang.errors import InvalidInput

# GB/T 2260 province-level codes (incl. Taiwan 71, Hong Kong 81, Macao 82).
PROVINCE_CODES = frozenset(
    {
        "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
        "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64",
        "65", "71", "81", "82",
    }
)  # fmt: skip

NATIONAL = "000000"


class RegionLevel(StrEnum):
    NATIONAL = "national"
    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"


@dataclass(frozen=True, slots=True)
class RegionCode:
    code: str

    def __post_init__(self) -> None:
        validate_region_code(self.code)

    @property
    def level(self) -> RegionLevel:
        return region_level(self.code)

    @property
    def prefix(self) -> str:
        return jurisdiction_prefix(self.code)

    @property
    def parent(self) -> RegionCode | None:
        p = parent_code(self.code)
        return None if p is None else RegionCode(p)

    def contains(self, other: str) -> bool:
        return other.startswith(self.prefix)

    def __str__(self) -> str:
        return self.code


def validate_region_code(code: object, field: str = "region_code") -> str:
    if not isinstance(code, str) or len(code) != 6 or not code.isascii() or not code.isdigit():
        raise InvalidInput(
            f"行政区划代码必须是 6 位数字 / region code must be 6 digits, got {code!r}", field=field
        )
    if code == NATIONAL:
        return code
    if code[:2] not in PROVINCE_CODES:
        raise InvalidInput(
            f"省级代码 {code[:2]} 不在 GB/T 2260 中 / province part {code[:2]!r} is not a GB/T 2260 province",
            field=field,
        )
    if code[2:4] == "00" and code[4:] != "00":
        raise InvalidInput(f"县级代码必须隶属于市级 / county code {code} has no city part", field=field)
    return code


def region_level(code: str) -> RegionLevel:
    if code == NATIONAL:
        return RegionLevel.NATIONAL
    if code[2:] == "0000":
        return RegionLevel.PROVINCE
    if code[4:] == "00":
        return RegionLevel.CITY
    return RegionLevel.COUNTY


def jurisdiction_prefix(code: str) -> str:
    """The prefix shared by every code in the subtree of ``code``."""
    level = region_level(code)
    return {
        RegionLevel.NATIONAL: "",
        RegionLevel.PROVINCE: code[:2],
        RegionLevel.CITY: code[:4],
        RegionLevel.COUNTY: code,
    }[level]


def parent_code(code: str) -> str | None:
    level = region_level(code)
    if level is RegionLevel.NATIONAL:
        return None
    if level is RegionLevel.PROVINCE:
        return NATIONAL
    if level is RegionLevel.CITY:
        return code[:2] + "0000"
    return code[:4] + "00"


def ancestors(code: str) -> list[str]:
    """``code`` and every region above it, nearest first (the county's city, province, the nation)."""
    out = [code]
    parent = parent_code(code)
    while parent is not None:
        out.append(parent)
        parent = parent_code(parent)
    return out


def in_jurisdiction(region: str, jurisdiction: str) -> bool:
    return region.startswith(jurisdiction_prefix(jurisdiction))
