"""Logging in, the caller, and accounts."""

from __future__ import annotations

from pydantic import Field

from jiliang.api.schemas.common import In, Out
from jiliang.domain.access import Role


class LoginIn(In):
    username: str = Field(description="用户名 / user name", max_length=100)
    password: str = Field(description="密码 / password", max_length=1000)


class PrincipalOut(Out):
    user_id: int | None = Field(description="用户编号 / user id (null for the public)")
    username: str = Field(description="用户名 / user name")
    role: Role = Field(description="角色 / role")
    jurisdiction: str = Field(description="管辖区划代码 / jurisdiction region code (GB/T 2260)")
    organisation_id: int | None = Field(description="所属单位 / the account's organisation")


class TokenOut(PrincipalOut):
    access_token: str = Field(description="持有者令牌 / bearer token for the Authorization header")
    token_type: str = Field(default="bearer", description="令牌类型 / token type")


class UserIn(In):
    username: str = Field(description="用户名 / user name")
    password: str = Field(description="初始密码（至少 10 位）/ initial password, at least 10 characters")
    role: str = Field(description="角色 / role: administrator, supervisor, institution, enterprise, public")
    jurisdiction: str = Field(default="000000", description="管辖区划代码 / jurisdiction region code")
    organisation_id: int | None = Field(
        default=None, description="所属单位（企业、机构账户必填）/ organisation (enterprise, institution)"
    )
    display_name: str = Field(default="", description="显示名称 / display name")


class UserOut(Out):
    id: int = Field(description="用户编号 / user id")
    username: str = Field(description="用户名 / user name")
    display_name: str = Field(description="显示名称 / display name")
    role: Role = Field(description="角色 / role")
    jurisdiction: str = Field(description="管辖区划代码 / jurisdiction region code")
    organisation_id: int | None = Field(description="所属单位 / organisation")
    active: bool = Field(description="是否启用 / whether the account may log in")


# Columns of the users table deliberately absent from UserOut (checked by the contract test).
USER_EXCLUDED = frozenset({"password_hash"})
