"""Logging in and out, the caller, and accounts (created by an administrator)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from jiliang.api.deps import PlatformDep, PrincipalDep, TokenDep
from jiliang.api.schemas.auth import LoginIn, PrincipalOut, TokenOut, UserIn, UserOut
from jiliang.api.schemas.common import ERRORS
from jiliang.services import users

router = APIRouter(prefix="/api/v1", tags=["auth 认证"], responses=ERRORS)


@router.post(
    "/auth/login",
    summary="登录，取得令牌 / Log in and get a bearer token",
    description="失败过多时暂时锁定（429，Retry-After）/ throttled: too many failures answer 429 with Retry-After",
)
async def login(body: LoginIn, platform: PlatformDep, request: Request) -> TokenOut:
    # async: the password check awaits the Argon2 pool without holding one of the request threads
    address = request.client.host if request.client else ""
    token, principal = await users.login_async(platform, body.username, body.password, address)
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
