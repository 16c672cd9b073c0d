"""Accounts, passwords (Argon2id, memory-hard) and bearer tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, timedelta

import anyio.to_thread
from sqlalchemy import select

from jiliang.domain.access import Principal, Role
from jiliang.domain.instruments import required_text
from jiliang.domain.regions import NATIONAL, in_jurisdiction, validate_region_code
from jiliang.errors import AuthenticationFailed, Conflict, InvalidInput, NotFound
from jiliang.services import passwords, signin
from jiliang.services.common import require_role
from jiliang.services.platform import Platform
from jiliang.store.models import ApiToken, Organisation, Region, User


def _role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise InvalidInput(
            f"角色无效 / role must be one of {', '.join(r.value for r in Role)}", field="role"
        ) from None


def create_user(
    platform: Platform,
    principal: Principal,
    *,
    username: str,
    password: str,
    role: str,
    jurisdiction: str = NATIONAL,
    organisation_id: int | None = None,
    display_name: str = "",
) -> User:
    require_role(principal, Role.ADMINISTRATOR)
    name = required_text(username, "username", 100)
    if len(password) < 10:
        raise InvalidInput("密码至少 10 位 / password must have at least 10 characters", field="password")
    role_ = _role(role)
    validate_region_code(jurisdiction, "jurisdiction")
    if role_ in (Role.ENTERPRISE, Role.INSTITUTION) and organisation_id is None:
        raise InvalidInput(
            "企业和机构账户须关联单位 / enterprise and institution accounts need an organisation",
            field="organisation_id",
        )
    with platform.unit_of_work(principal) as s:
        if s.get(Region, jurisdiction) is None:
            raise InvalidInput(
                f"管辖区划 {jurisdiction} 不存在 / jurisdiction not found", field="jurisdiction"
            )
        if organisation_id is not None:
            org = s.get(Organisation, organisation_id)
            if org is None:
                raise InvalidInput("单位不存在 / organisation not found", field="organisation_id")
            if role_ is Role.INSTITUTION and not in_jurisdiction(org.region_code, jurisdiction):
                jurisdiction = org.region_code
        if s.scalar(select(User.id).where(User.username == name)):
            raise Conflict(f"用户名 {name} 已存在 / username taken", field="username")
        user = User(
            username=name,
            display_name=display_name or name,
            password_hash=passwords.hash_password(platform, password),
            role=role_.value,
            jurisdiction=jurisdiction,
            organisation_id=organisation_id,
            active=True,
        )
        s.add(user)
    return user


def principal_of(user: User) -> Principal:
    return Principal(
        user_id=user.id,
        username=user.username,
        role=Role(user.role),
        jurisdiction=user.jurisdiction,
        organisation_id=user.organisation_id,
    )


def login(platform: Platform, username: str, password: str, address: str = "") -> tuple[str, Principal]:
    """Check the password (throttled, ``services/signin.py``) and issue a bearer token (only its SHA-256 is
    stored)."""
    account = signin.check_password(platform, username, password, address)
    return _issue_token(platform, account.principal), account.principal


async def login_async(
    platform: Platform, username: str, password: str, address: str = ""
) -> tuple[str, Principal]:
    """``login`` for the API's async route: Argon2 runs on its own pool, not on a request thread."""
    account = await signin.check_password_async(platform, username, password, address)
    token = await anyio.to_thread.run_sync(_issue_token, platform, account.principal)
    return token, account.principal


def _issue_token(platform: Platform, principal: Principal) -> str:
    token = secrets.token_urlsafe(32)
    now = platform.now()
    with platform.unit_of_work(principal) as s:
        s.add(
            ApiToken(
                user_id=principal.user_id,
                token_hash=_digest(token),
                created_at=now,
                expires_at=now + timedelta(hours=platform.settings.token_ttl_hours),
                revoked=False,
            )
        )
    return token


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def authenticate(platform: Platform, token: str) -> Principal:
    with platform.reading() as s:
        row = s.execute(
            select(ApiToken, User)
            .join(User, User.id == ApiToken.user_id)
            .where(ApiToken.token_hash == _digest(token))
        ).first()
        if row is None:
            raise AuthenticationFailed("令牌无效 / invalid token", field="authorization")
        tok, user = row
        expires = tok.expires_at if tok.expires_at.tzinfo else tok.expires_at.replace(tzinfo=UTC)
        if tok.revoked or not user.active or expires <= platform.now():
            raise AuthenticationFailed("令牌已失效 / token expired or revoked", field="authorization")
        return principal_of(user)


def revoke(platform: Platform, token: str) -> None:
    with platform.unit_of_work() as s:
        tok = s.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(token)))
        if tok is not None:
            tok.revoked = True


def principal_by_username(platform: Platform, username: str) -> Principal:
    """The principal of an active account, for the CLI: an operator at the console acts as a named user."""
    with platform.reading() as s:
        user = s.scalar(select(User).where(User.username == username, User.active))
    if user is None:
        raise NotFound(f"用户 {username} 不存在或已停用 / no active user {username!r}", field="user")
    return principal_of(user)


def user_exists(platform: Platform, username: str) -> bool:
    with platform.reading() as s:
        return s.scalar(select(User.id).where(User.username == username)) is not None
