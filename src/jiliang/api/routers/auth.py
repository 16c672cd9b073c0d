"""Logging in and out, the caller, and accounts (created by an administrator)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from jiliang.api.deps import PlatformDep, PrincipalDep, TokenDep
from jiliang.api.schemas.auth import LoginIn, PrincipalOut, TokenOut, UserIn, UserOut
from jiliang.api.schemas.common import ERRORS
from jiliang.services import users

router = APIRouter(prefix="/api/v1", tags=["auth 认证"], responses=ERRORS)


@router.post("/auth/login", summary="登录，取得令牌 / Log in and get a bearer token")
def login(body: LoginIn, platform: PlatformDep) -> TokenOut:
    token, principal = users.login(platform, body.username, body.password)
    return TokenOut(
        access_token=token, **PrincipalOut.model_validate(principal).model_dump(), token_type="bearer"
    )


@router.post("/auth/logout", status_code=204, summary="退出，吊销本令牌 / Log out, revoking this token")
def logout(platform: PlatformDep, principal: PrincipalDep, token: TokenDep) -> Response:
    users.revoke(platform, token)
    return Response(status_code=204)


@router.get("/auth/me", summary="当前用户 / The caller's account, role and jurisdiction")
def me(principal: PrincipalDep) -> PrincipalOut:
    return PrincipalOut.model_validate(principal)


@router.post("/users", status_code=201, summary="创建账户（管理员）/ Create an account (administrator)")
def create_user(body: UserIn, platform: PlatformDep, principal: PrincipalDep) -> UserOut:
    user = users.create_user(platform, principal, **body.model_dump())
    return UserOut.model_validate(user)
