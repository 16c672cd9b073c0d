"""Measurement standards (计量标准) and their approval certificates (计量标准考核证书)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum


class StandardKind(StrEnum):
    NATIONAL_PRIMARY = "national_primary"  # 计量基准
    SOCIAL_PUBLIC = "social_public"  # 社会公用计量标准
    DEPARTMENT = "department"  # 部门最高计量标准
    ENTERPRISE_HIGHEST = "enterprise_highest"  # 企事业单位最高计量标准


def approval_valid(valid_from: date, valid_until: date, on: date) -> bool:
    """A standard may serve verification only while its approval certificate is in force."""
    return valid_from <= on <= valid_until
