"""Typed dependency aliases: the platform, the caller, and paging."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from jiliang.domain.access import Principal, Role
from jiliang.domain.catalogue import Use
from jiliang.domain.instruments import InstrumentStatus
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


def instrument_filters(
    region_code: Annotated[str | None, Query(description="区划（含下级）/ region with its subtree")] = None,
    item_code: Annotated[str | None, Query(description="目录项代码 / catalogue item")] = None,
    owner_id: Annotated[int | None, Query(description="使用单位 / owner")] = None,
    status: Annotated[InstrumentStatus | None, Query(description="状态 / status")] = None,
    use: Annotated[Use | None, Query(description="用途 / use")] = None,
    serial_number: Annotated[str | None, Query(description="出厂编号 / serial number")] = None,
    manufacturer: Annotated[str | None, Query(description="制造单位 / manufacturer")] = None,
    compulsory: Annotated[bool | None, Query(description="是否强检 / under compulsory verification")] = None,
    due_before: Annotated[date | None, Query(description="到期日早于 / due before this date")] = None,
    overdue_on: Annotated[
        date | None, Query(description="在此日超期未检 / in service and overdue on this date")
    ] = None,
    q: Annotated[str | None, Query(description="名称包含 / name contains")] = None,
) -> dict[str, Any]:
    """The instrument filters of services.instruments.FILTERS, shared by the list and the export."""
    filters = {
        "region_code": region_code,
        "item_code": item_code,
        "owner_id": owner_id,
        "status": status.value if status else None,
        "use": use.value if use else None,
        "serial_number": serial_number,
        "manufacturer": manufacturer,
        "compulsory": compulsory,
        "due_before": due_before,
        "overdue_on": overdue_on,
        "q": q,
    }
    return {k: v for k, v in filters.items() if v is not None}


InstrumentFiltersDep = Annotated[dict[str, Any], Depends(instrument_filters)]
