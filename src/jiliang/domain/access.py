"""Roles and jurisdictions: who may see and change what.

Reads outside a caller's reach are answered as *not found*, never *forbidden*, so that a probe cannot
learn what exists in someone else's region.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from jiliang.domain.regions import NATIONAL, in_jurisdiction, jurisdiction_prefix


class Role(StrEnum):
    ADMINISTRATOR = "administrator"  # 系统管理员
    SUPERVISOR = "supervisor"  # 计量监管人员
    INSTITUTION = "institution"  # 检定机构 / 校准实验室
    ENTERPRISE = "enterprise"  # 使用单位
    PUBLIC = "public"  # 社会公众
    # 举报受理专员: the designated role that may read a complainant's identity (every read audited)
    COMPLAINT_OFFICER = "complaint_officer"


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: int | None
    username: str
    role: Role
    jurisdiction: str = NATIONAL
    organisation_id: int | None = None

    @property
    def prefix(self) -> str:
        return jurisdiction_prefix(self.jurisdiction)

    def sees_region(self, region_code: str) -> bool:
        if self.role is Role.PUBLIC:
            return False
        return in_jurisdiction(region_code, self.jurisdiction)

    def sees_instrument(self, region_code: str, owner_id: int | None) -> bool:
        if self.role is Role.ENTERPRISE:
            return owner_id is not None and owner_id == self.organisation_id
        return self.sees_region(region_code)


SYSTEM = Principal(user_id=None, username="system", role=Role.ADMINISTRATOR)
