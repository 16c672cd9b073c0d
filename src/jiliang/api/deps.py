"""Typed dependency aliases: the platform, the caller, and paging."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from jiliang.domain.access import Principal, Role
from jiliang.errors import AuthenticationFailed
from jiliang.services import users
from jiliang.services.platform import Platform

_bearer = HTTPBearer(auto_error=False)

PUBLIC = Principal(user_id=None, username="public", role=Role.PUBLIC)


def get_platform(request: Request) -> Platform:
    platform: Platform = request.app.state.platform
    return platform


PlatformDep = Annotated[Platform, Depends(get_platform)]


def get_principal(
    platform: PlatformDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    if credentials is None:
        raise AuthenticationFailed("需要登录 / authentication required", field="authorization")
    return users.authenticate(platform, credentials.credentials)


def get_optional_principal(
    platform: PlatformDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    if credentials is None:
        return PUBLIC
    return users.authenticate(platform, credentials.credentials)


def get_token(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> str:
    """The raw bearer token, for logging out (revoking exactly the token that made the request)."""
    if credentials is None:
        raise AuthenticationFailed("需要登录 / authentication required", field="authorization")
    return credentials.credentials


PrincipalDep = Annotated[Principal, Depends(get_principal)]
TokenDep = Annotated[str, Depends(get_token)]
OptionalPrincipalDep = Annotated[Principal, Depends(get_optional_principal)]
Offset = Annotated[int, Query(ge=0, description="跳过的条数 / rows to skip")]
Limit = Annotated[int, Query(ge=1, le=1000, description="每页条数 / page size")]
