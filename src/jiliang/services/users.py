"""Accounts, passwords (Argon2id, memory-hard) and bearer tokens."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, timedelta
from typing import Any

import anyio.to_thread
from sqlalchemy import func, insert, select

from jiliang.domain.access import Principal, Role
from jiliang.domain.instruments import required_text
from jiliang.domain.regions import NATIONAL, in_jurisdiction, validate_region_code
from jiliang.errors import AuthenticationFailed, Conflict, InvalidInput, NotFound
from jiliang.services import passwords, scope, sessions, signin
from jiliang.services.common import Page, not_found, require_role
from jiliang.services.platform import Platform
from jiliang.store import audit
from jiliang.store.models import ApiToken, AuditEntry, Organisation, Region, User


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


# --- administration (the console's /console/admin/users) -----------------------------------------------


@dataclass(frozen=True)
class UserRow:
    """An account as an administrator reads it: names, not ids."""

    id: int
    username: str
    display_name: str
    role: Role
    jurisdiction: str
    jurisdiction_name: str
    organisation_id: int | None
    organisation_name: str
    organisation_credit_code: str
    active: bool


def _visible_users(principal: Principal) -> Any:
    """Accounts inside an administrator's jurisdiction (all of them for a national administrator)."""
    stmt: Any = (
        select(User, Region.name_zh, Organisation.name, Organisation.credit_code)
        .join(Region, Region.code == User.jurisdiction)
        .outerjoin(Organisation, Organisation.id == User.organisation_id)
    )
    if principal.prefix:
        stmt = stmt.where(scope.within(User.jurisdiction, principal.jurisdiction))
    return stmt


def _row(user: User, region: str | None, org: str | None, credit: str | None) -> UserRow:
    return UserRow(
        user.id,
        user.username,
        user.display_name,
        Role(user.role),
        user.jurisdiction,
        region or user.jurisdiction,
        user.organisation_id,
        org or "",
        credit or "",
        user.active,
    )


def list_users(
    platform: Platform,
    principal: Principal,
    *,
    q: str | None = None,
    role: str | None = None,
    active: bool | None = None,
    offset: int = 0,
    limit: int = 50,
) -> Page[UserRow]:
    require_role(principal, Role.ADMINISTRATOR)
    stmt = _visible_users(principal).order_by(User.username)
    if q:
        like = f"%{q.strip()}%"
        stmt = stmt.where(
            User.username.ilike(like) | User.display_name.ilike(like) | Organisation.name.ilike(like)
        )
    if role:
        stmt = stmt.where(User.role == _role(role).value)
    if active is not None:
        stmt = stmt.where(User.active.is_(active))
    with platform.reading() as s:
        if offset < 0 or not 1 <= limit <= platform.settings.page_size_max:
            raise InvalidInput("分页参数无效 / bad offset or limit", field="limit")
        total = s.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
        rows = [_row(*r) for r in s.execute(stmt.offset(offset).limit(limit))]
    return Page(items=rows, total=total, offset=offset, limit=limit)


def get_user(platform: Platform, principal: Principal, user_id: int) -> UserRow:
    require_role(principal, Role.ADMINISTRATOR)
    with platform.reading() as s:
        found = s.execute(_visible_users(principal).where(User.id == user_id)).first()
    if found is None:
        raise not_found("user", user_id)
    return _row(*found)


def organisation_by_credit_code(platform: Platform, principal: Principal, credit_code: str) -> int:
    """The id of the organisation with this unified social credit code, inside the caller's reach."""
    code = credit_code.strip().upper()
    with platform.reading() as s:
        stmt = scope.organisations(select(Organisation.id).where(Organisation.credit_code == code), principal)
        org_id = s.scalar(stmt)
    if org_id is None:
        raise InvalidInput(
            f"没有统一社会信用代码为 {code} 的单位 / no organisation with credit code {code}",
            field="organisation_credit_code",
        )
    return int(org_id)


def update_user(
    platform: Platform,
    principal: Principal,
    user_id: int,
    *,
    display_name: str,
    role: str,
    jurisdiction: str,
    organisation_id: int | None,
    active: bool,
) -> UserRow:
    """Change an account's name, role, jurisdiction, organisation or whether it may sign in. Disabling an
    account, or changing what it may reach, ends its sessions and tokens (they were granted for the old)."""
    require_role(principal, Role.ADMINISTRATOR)
    before = get_user(platform, principal, user_id)
    role_ = _role(role)
    validate_region_code(jurisdiction, "jurisdiction")
    if not in_jurisdiction(jurisdiction, principal.jurisdiction):
        raise InvalidInput("管辖区划超出您的范围 / jurisdiction outside yours", field="jurisdiction")
    if role_ in (Role.ENTERPRISE, Role.INSTITUTION) and organisation_id is None:
        raise InvalidInput(
            "企业和机构账户须关联单位 / enterprise and institution accounts need an organisation",
            field="organisation_credit_code",
        )
    if user_id == principal.user_id and (not active or role_ is not Role.ADMINISTRATOR):
        raise InvalidInput(
            "不能停用自己或取消自己的管理员角色 / you cannot disable yourself or drop your own administrator role",
            field="active" if not active else "role",
        )
    with platform.unit_of_work(principal) as s:
        if s.get(Region, jurisdiction) is None:
            raise InvalidInput(
                f"管辖区划 {jurisdiction} 不存在 / jurisdiction not found", field="jurisdiction"
            )
        if organisation_id is not None:
            org = s.get(Organisation, organisation_id)
            if org is None:
                raise InvalidInput("单位不存在 / organisation not found", field="organisation_credit_code")
            if role_ is Role.ENTERPRISE:
                jurisdiction = org.region_code
        user = s.get(User, user_id)
        assert user is not None  # get_user found it
        user.display_name = required_text(display_name or user.username, "display_name", 100)
        user.role = role_.value
        user.jurisdiction = jurisdiction
        user.organisation_id = organisation_id if role_ in (Role.ENTERPRISE, Role.INSTITUTION) else None
        user.active = active
    after = get_user(platform, principal, user_id)
    reach = (before.role, before.jurisdiction, before.organisation_id, before.active)
    if reach != (after.role, after.jurisdiction, after.organisation_id, after.active):
        sessions.end_all(platform, principal, user_id)
    return after


def reset_password(platform: Platform, principal: Principal, user_id: int) -> str:
    """A new random password for an account (shown once to the administrator); its sessions and tokens end."""
    get_user(platform, principal, user_id)
    password = secrets.token_urlsafe(12)
    new_hash = passwords.hash_password(platform, password)
    with platform.unit_of_work(principal) as s:
        user = s.get(User, user_id)
        assert user is not None
        user.password_hash = new_hash
        s.execute(
            insert(AuditEntry).values(
                **audit.entry(
                    "password_reset", "users", str(user_id), summary="管理员重置密码 / password reset"
                )
            )
        )
    sessions.end_all(platform, principal, user_id)
    return password
