"""Signing in with a password, for the API's tokens and the console's sessions alike.

Three short steps so that no transaction is open while Argon2 runs: (1) read the throttle state of the
account name and the client address (``domain/signin.py``), refusing a try that comes too soon or while
locked (and counting it); (2) check the password on the hashing pool (``services/passwords.py``); (3)
record the outcome: a success clears the name's failures, a failure counts on both keys and, when it
locks one, writes an entry to the audit trail. Unknown names take the same path (dummy hash, same
counters, same answers), so no answer tells whether an account exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import anyio.to_thread
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from jiliang.domain import signin as rules
from jiliang.domain.access import Principal, Role
from jiliang.errors import AuthenticationFailed, TooManyAttempts
from jiliang.services import passwords
from jiliang.services.platform import Platform
from jiliang.store import audit
from jiliang.store.models import AuditEntry, SignInThrottle, User

WRONG = "用户名或密码错误 / wrong username or password"
SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True, slots=True)
class Account:
    """What sign-in needs of a user row, read before the password check."""

    user_id: int
    username: str
    display_name: str
    password_hash: str
    principal: Principal


def policy(platform: Platform, *, address: bool = False) -> rules.ThrottlePolicy:
    """The account names' policy, or (``address``) the client addresses': no backoff, a higher limit,
    because many people may sign in from behind one address (an office's NAT)."""
    s = platform.settings
    limit = s.signin_address_failures if address else s.signin_lockout_failures
    return rules.ThrottlePolicy(
        backoff_after=limit if address else s.signin_backoff_after,
        backoff_max_s=s.signin_backoff_max_s,
        lockout_failures=limit,
        window=timedelta(minutes=s.signin_window_minutes),
        lockout=timedelta(minutes=s.signin_lockout_minutes),
    )


def account_key(username: str) -> str:
    return "account:" + username.strip().casefold()[:180]


def address_key(address: str) -> str:
    return "address:" + (address or "unknown")[:100]


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _state(row: SignInThrottle | None) -> rules.ThrottleState | None:
    if row is None:
        return None
    locked = _aware(row.locked_until) if row.locked_until else None
    return rules.ThrottleState(
        row.failures, _aware(row.first_failure_at), _aware(row.last_failure_at), locked
    )


def _message(refusal: rules.Refusal, now: datetime) -> TooManyAttempts:
    wait = max(1, int((refusal.until - now).total_seconds() + 0.999))
    if refusal.locked:
        at = refusal.until.astimezone(SHANGHAI).strftime("%H:%M")
        return TooManyAttempts(
            f"登录失败次数过多，已暂时锁定，请于 {at}（北京时间）后再试 / too many failed sign-ins: "
            f"temporarily locked until {at} China Standard Time, try again after that",
            retry_after_s=wait,
        )
    return TooManyAttempts(
        f"尝试过于频繁，请 {wait} 秒后再试 / too many tries: wait {wait} s before the next one",
        retry_after_s=wait,
    )


def principal_of_user(user: User) -> Principal:
    return Principal(
        user_id=user.id,
        username=user.username,
        role=Role(user.role),
        jurisdiction=user.jurisdiction,
        organisation_id=user.organisation_id,
    )


def _prepare(
    platform: Platform, username: str, address: str
) -> tuple[Account | None, TooManyAttempts | None]:
    """Step 1: the account (None if unknown or disabled) and, if the throttle refuses, why."""
    now = platform.now()
    with platform.reading() as s:
        rows = {
            r.key: r
            for r in s.scalars(
                select(SignInThrottle).where(
                    SignInThrottle.key.in_([account_key(username), address_key(address)])
                )
            )
        }
        user = s.scalar(select(User).where(User.username == username.strip(), User.active))
        account = (
            Account(user.id, user.username, user.display_name, user.password_hash, principal_of_user(user))
            if user is not None
            else None
        )
    for key, pol in (
        (account_key(username), policy(platform)),
        (address_key(address), policy(platform, address=True)),
    ):
        refusal = rules.refusal(_state(rows.get(key)), pol, now)
        if refusal is not None:
            if not refusal.locked:  # a try during the backoff counts towards the lockout; during the
                _record_failure(platform, username, address)  # lockout it changes nothing: no write
            return account, _message(refusal, now)
    return account, None


def _bump(session: Session, platform: Platform, key: str, pol: rules.ThrottlePolicy) -> bool:
    """One more failure on ``key``; True when this one locked it."""
    now = platform.now()
    row = session.get(SignInThrottle, key)
    before = rules.current(_state(row), pol, now)
    after = rules.after_failure(_state(row), pol, now)
    if row is None:
        session.execute(
            insert(SignInThrottle).values(
                key=key,
                failures=after.failures,
                first_failure_at=after.first_failure_at,
                last_failure_at=after.last_failure_at,
                locked_until=after.locked_until,
            )
        )
    else:
        row.failures = after.failures
        row.first_failure_at = after.first_failure_at
        row.last_failure_at = after.last_failure_at
        row.locked_until = after.locked_until
    return after.locked_until is not None and (before is None or before.locked_until is None)


def _record_failure(platform: Platform, username: str, address: str) -> None:
    s_ = platform.settings
    for attempt in range(2):  # a concurrent first failure on the same key may insert it first
        try:
            with platform.unit_of_work() as s:
                # Write first: on SQLite a transaction that reads and then writes cannot wait for the
                # write lock (it fails at once with "database is locked"); one that starts with a write
                # waits up to the busy timeout. On PostgreSQL this locks the rows like SELECT FOR UPDATE.
                s.execute(
                    update(SignInThrottle)
                    .where(SignInThrottle.key.in_([account_key(username), address_key(address)]))
                    .values(failures=SignInThrottle.failures)
                )
                locked = [
                    key
                    for key, pol in (
                        (account_key(username), policy(platform)),
                        (address_key(address), policy(platform, address=True)),
                    )
                    if _bump(s, platform, key, pol)
                ]
                for key in locked:
                    kind, _, value = key.partition(":")
                    what = "账户名" if kind == "account" else "客户端地址"
                    s.execute(
                        insert(AuditEntry).values(
                            **audit.entry(
                                "lockout",
                                "sign_in",
                                key[:64],
                                summary=f"登录失败过多，{what} {value} 暂时锁定 "
                                f"{s_.signin_lockout_minutes} 分钟 / too many failed sign-ins: {kind} "
                                f"{value} locked for {s_.signin_lockout_minutes} min",
                            )
                        )
                    )
            return
        except IntegrityError:
            if attempt:
                raise


def _finish(platform: Platform, username: str, address: str, account: Account | None, ok: bool) -> Account:
    """Step 3: clear the name's failures on success; count a failure and refuse otherwise."""
    if account is None or not ok:
        _record_failure(platform, username, address)
        raise AuthenticationFailed(WRONG, field="password")
    with platform.unit_of_work() as s:
        s.execute(delete(SignInThrottle).where(SignInThrottle.key == account_key(username)))
    return account


def rehash_if_needed(platform: Platform, account: Account, password: str) -> None:
    """Argon2 parameters raised since the hash was made: store a new hash (computed on the pool)."""
    if not passwords.needs_rehash(platform, account.password_hash):
        return
    new_hash = passwords.hash_password(platform, password)
    with platform.unit_of_work(account.principal) as s:
        user = s.get(User, account.user_id)
        if user is not None:
            user.password_hash = new_hash


def check_password(platform: Platform, username: str, password: str, address: str = "") -> Account:
    """The account whose password this is, or ``AuthenticationFailed`` / ``TooManyAttempts``."""
    account, refused = _prepare(platform, username, address)
    if refused is not None:
        raise refused
    ok = passwords.verify(platform, account.password_hash if account else None, password)
    account = _finish(platform, username, address, account, ok)
    rehash_if_needed(platform, account, password)
    return account


async def check_password_async(
    platform: Platform, username: str, password: str, address: str = ""
) -> Account:
    """``check_password`` for async routes: database steps on the request threads, Argon2 on its pool."""
    account, refused = await anyio.to_thread.run_sync(_prepare, platform, username, address)
    if refused is not None:
        raise refused
    ok = await passwords.verify_async(platform, account.password_hash if account else None, password)
    account = await anyio.to_thread.run_sync(_finish, platform, username, address, account, ok)
    await anyio.to_thread.run_sync(rehash_if_needed, platform, account, password)
    return account
