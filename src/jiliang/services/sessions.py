"""Console sessions: server-side rows behind a random cookie token (docs/console.md).

The browser holds a 256-bit random token; the database keeps only its SHA-256, so a copy of the database
cannot be replayed as a cookie. A session ends on sign-out, after ``session_idle_minutes`` without a
request, ``session_absolute_hours`` after sign-in, when its user is disabled, and when the password
changes (every session and API token of that user). Signing in always opens a new session and ends the
one the browser had (rotation: a planted token never becomes a signed-in one). The CSRF token of a form
is an HMAC of the session token under the platform secret, so it is per session and stored nowhere.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import anyio.to_thread
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from jiliang.domain.access import Principal
from jiliang.errors import AuthenticationFailed, InvalidInput
from jiliang.services import passwords, signin
from jiliang.services.platform import Platform
from jiliang.store import audit
from jiliang.store.models import ApiToken, AuditEntry, ConsoleSession, Organisation, Region, User

# last_seen_at is written at most this often, so that reading pages does not write on every request
TOUCH_EVERY = timedelta(seconds=60)
MIN_PASSWORD = 10


@dataclass(frozen=True, slots=True)
class SignedIn:
    """The caller of a console request: who, and under which name people see them."""

    principal: Principal
    display_name: str
    session_id: int
    jurisdiction_name: str = ""  # the region's Chinese name (English where stored)
    jurisdiction_name_en: str = ""
    organisation_name: str = ""


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_token(platform: Platform, key: str) -> str:
    """The form token bound to ``key`` (a session token, or a signed-out browser's pre-session token)."""
    secret = platform.settings.secret_key.encode()
    return hmac.new(secret, b"csrf\0" + key.encode(), hashlib.sha256).hexdigest()


def csrf_matches(platform: Platform, key: str, submitted: str) -> bool:
    return bool(key) and hmac.compare_digest(csrf_token(platform, key), submitted or "")


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _log(s: Session, action: str, principal: Principal, summary: str) -> None:
    s.execute(
        insert(AuditEntry).values(**audit.entry(action, "users", str(principal.user_id), summary=summary))
    )


def open_session(
    platform: Platform, principal: Principal, *, address: str = "", user_agent: str = "", previous: str = ""
) -> str:
    """A new session for ``principal`` (ending ``previous``, the browser's old token, if any)."""
    token = secrets.token_urlsafe(32)
    now = platform.now()
    with platform.unit_of_work(principal) as s:
        if previous:
            s.execute(
                update(ConsoleSession)
                .where(ConsoleSession.token_hash == digest(previous), ConsoleSession.ended_at.is_(None))
                .values(ended_at=now)
            )
        s.add(
            ConsoleSession(
                token_hash=digest(token),
                user_id=principal.user_id,
                created_at=now,
                last_seen_at=now,
                expires_at=now + timedelta(hours=platform.settings.session_absolute_hours),
                client_address=address[:64],
                user_agent=user_agent[:200],
            )
        )
        _log(s, "sign_in", principal, f"登录控制台 / signed in to the console from {address[:64]}")
    return token


def sign_in(
    platform: Platform,
    username: str,
    password: str,
    *,
    address: str = "",
    user_agent: str = "",
    previous: str = "",
) -> tuple[str, Principal]:
    account = signin.check_password(platform, username, password, address)
    token = open_session(
        platform, account.principal, address=address, user_agent=user_agent, previous=previous
    )
    return token, account.principal


async def sign_in_async(
    platform: Platform,
    username: str,
    password: str,
    *,
    address: str = "",
    user_agent: str = "",
    previous: str = "",
) -> tuple[str, Principal]:
    """``sign_in`` for the console's async route (Argon2 on its own pool, no request thread held)."""
    account = await signin.check_password_async(platform, username, password, address)

    def _open() -> str:
        return open_session(
            platform, account.principal, address=address, user_agent=user_agent, previous=previous
        )

    return await anyio.to_thread.run_sync(_open), account.principal


def resolve(platform: Platform, token: str) -> SignedIn | None:
    """The signed-in caller of ``token``, or None when it is unknown, ended, idle too long or expired."""
    if not token:
        return None
    now = platform.now()
    with platform.reading() as s:
        row = s.execute(
            select(ConsoleSession, User)
            .join(User, User.id == ConsoleSession.user_id)
            .where(ConsoleSession.token_hash == digest(token))
        ).first()
        if row is None:
            return None
        sess, user = row
        idle = timedelta(minutes=platform.settings.session_idle_minutes)
        last_seen = _aware(sess.last_seen_at)
        if (
            sess.ended_at is not None
            or not user.active
            or _aware(sess.expires_at) <= now
            or now - last_seen >= idle
        ):
            return None
        region = s.get(Region, user.jurisdiction)
        org = s.get(Organisation, user.organisation_id) if user.organisation_id is not None else None
        signed_in = SignedIn(
            signin.principal_of_user(user),
            user.display_name or user.username,
            sess.id,
            region.name_zh if region else user.jurisdiction,
            (region.name_en or region.name_zh) if region else user.jurisdiction,
            org.name if org else "",
        )
    if now - last_seen >= TOUCH_EVERY:
        with platform.unit_of_work(signed_in.principal) as s:
            s.execute(update(ConsoleSession).where(ConsoleSession.id == sess.id).values(last_seen_at=now))
    return signed_in


def end(platform: Platform, token: str) -> None:
    """Sign out: the session ends now (an unknown or ended token is no error)."""
    if not token:
        return
    with platform.unit_of_work() as s:
        row = s.execute(
            select(ConsoleSession, User)
            .join(User, User.id == ConsoleSession.user_id)
            .where(ConsoleSession.token_hash == digest(token), ConsoleSession.ended_at.is_(None))
        ).first()
        if row is None:
            return
        sess, user = row
        sess.ended_at = platform.now()
        _log(s, "sign_out", signin.principal_of_user(user), "退出控制台 / signed out of the console")


def end_all(platform: Platform, principal: Principal, user_id: int) -> None:
    """End every console session and revoke every API token of a user (disabled, password reset)."""
    now = platform.now()
    with platform.unit_of_work(principal) as s:
        s.execute(
            update(ConsoleSession)
            .where(ConsoleSession.user_id == user_id, ConsoleSession.ended_at.is_(None))
            .values(ended_at=now)
        )
        s.execute(update(ApiToken).where(ApiToken.user_id == user_id).values(revoked=True))


def check_new_password(password: str, confirm: str, username: str = "") -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput("密码至少 10 位 / password must have at least 10 characters", field="new_password")
    if len(password) > 1000:
        raise InvalidInput("密码过长 / password too long", field="new_password")
    if password != confirm:
        raise InvalidInput("两次输入的新密码不一致 / the two new passwords differ", field="confirm_password")
    if username and password.casefold() == username.casefold():
        raise InvalidInput(
            "密码不能与用户名相同 / password must differ from the user name", field="new_password"
        )


def change_password(
    platform: Platform,
    principal: Principal,
    current: str,
    new: str,
    confirm: str,
    *,
    address: str = "",
    user_agent: str = "",
) -> str:
    """Change the caller's own password: every session and token ends; a new session is returned."""
    check_new_password(new, confirm, principal.username)
    try:
        signin.check_password(platform, principal.username, current, address)
    except AuthenticationFailed as exc:
        exc.field = "current_password"
        raise
    new_hash = passwords.hash_password(platform, new)
    with platform.unit_of_work(principal) as s:
        user = s.get(User, principal.user_id)
        if user is None or not user.active:
            raise AuthenticationFailed("账户已停用 / account disabled", field="current_password")
        user.password_hash = new_hash
        _log(s, "password", principal, "修改了自己的密码 / changed own password")
    end_all(platform, principal, principal.user_id or 0)
    return open_session(platform, principal, address=address, user_agent=user_agent)
