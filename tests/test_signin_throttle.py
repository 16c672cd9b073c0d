"""Sign-in throttling and lockout (issue 16, "Sign-in"): the attack of 40 wrong passwords at 7 per second,
which used to be answered 401 forty times with the right password still working afterwards.

The same mechanism guards the API's token endpoint and the console's sign-in form (services/signin.py).
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from jiliang.domain import signin as rules
from jiliang.services import passwords
from jiliang.services.platform import Platform
from jiliang.store.models import AuditEntry
from tests.conftest import FIXED_NOW
from tests.console_support import Console, form_token
from tests.factories import PASSWORD, World

T0 = datetime(2026, 6, 15, 2, 0, tzinfo=UTC)
POLICY = rules.ThrottlePolicy(backoff_after=3, backoff_max_s=60, lockout_failures=10)


def _fail(n: int, start: datetime = T0, step: timedelta = timedelta(0)) -> rules.ThrottleState | None:
    state = None
    for i in range(n):
        state = rules.after_failure(state, POLICY, start + i * step)
    return state


def test_backoff_doubles_after_three_failures_and_is_capped() -> None:
    assert [rules.backoff(n, POLICY).total_seconds() for n in range(1, 11)] == [
        0,
        0,
        1,
        2,
        4,
        8,
        16,
        32,
        60,
        60,
    ]


def test_tries_are_refused_during_backoff_and_lockout_and_allowed_after() -> None:
    assert rules.refusal(_fail(2), POLICY, T0) is None
    three = _fail(3)
    refused = rules.refusal(three, POLICY, T0)
    assert refused == rules.Refusal(T0 + timedelta(seconds=1), locked=False)
    assert rules.refusal(three, POLICY, T0 + timedelta(seconds=1)) is None
    ten = _fail(10)
    assert ten is not None and ten.locked_until == T0 + timedelta(minutes=15)
    assert rules.refusal(ten, POLICY, T0 + timedelta(minutes=14)) == rules.Refusal(
        ten.locked_until, locked=True
    )
    assert rules.refusal(ten, POLICY, T0 + timedelta(minutes=15)) is None
    # After the lock ends the count starts afresh.
    assert rules.after_failure(ten, POLICY, T0 + timedelta(minutes=15)).failures == 1


def test_failures_older_than_the_window_are_forgotten() -> None:
    slow = _fail(9, step=timedelta(minutes=2))  # 9 failures over 16 minutes: never 10 within 15
    assert slow is not None and slow.locked_until is None


def _api_login(client: TestClient, username: str, password: str) -> tuple[int, str, str | None]:
    r = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    message = r.json().get("error", {}).get("message", "") if r.status_code != 200 else ""
    return r.status_code, message, r.headers.get("retry-after")


def _set_now(platform: Platform, when: datetime) -> None:
    platform.now = lambda: when


def test_forty_wrong_passwords_lock_the_account_then_it_works_again(
    web_client: TestClient, world: World, platform: Platform
) -> None:
    answers = [_api_login(web_client, "city", f"guess number {i}") for i in range(40)]
    assert [a[0] for a in answers[:3]] == [401, 401, 401]
    assert all(a[0] == 429 for a in answers[3:])
    assert "请 1 秒后再试" in answers[3][1] and answers[3][2] == "1"
    _, message, retry = answers[-1]
    assert "暂时锁定" in message and "10:15（北京时间）" in message and "locked until 10:15" in message
    assert retry == str(15 * 60)
    # The right password is refused while locked, without being checked.
    assert _api_login(web_client, "city", PASSWORD)[0] == 429
    _set_now(platform, FIXED_NOW + timedelta(minutes=14, seconds=59))
    assert _api_login(web_client, "city", PASSWORD)[0] == 429
    _set_now(platform, FIXED_NOW + timedelta(minutes=15))
    assert _api_login(web_client, "city", PASSWORD)[0] == 200
    with platform.reading() as s:
        locks = s.scalars(select(AuditEntry).where(AuditEntry.action == "lockout")).all()
    assert [(e.object_type, e.object_id) for e in locks] == [("sign_in", "account:city")]
    assert "暂时锁定" in locks[0].summary


def test_unknown_names_are_answered_exactly_like_known_ones(web_client: TestClient, world: World) -> None:
    elsewhere = TestClient(web_client.app, client=("192.0.2.8", 40000))
    known = [_api_login(web_client, "city", f"guess {i}") for i in range(12)]
    unknown = [_api_login(elsewhere, "no-such-user", f"guess {i}") for i in range(12)]
    assert known == unknown


def test_a_success_clears_the_name_s_failures(web_client: TestClient, world: World) -> None:
    assert [_api_login(web_client, "city", "wrong one")[0] for _ in range(2)] == [401, 401]
    assert _api_login(web_client, "city", PASSWORD)[0] == 200
    assert [_api_login(web_client, "city", "wrong one")[0] for _ in range(3)] == [401, 401, 401]


def test_one_address_guessing_many_names_is_locked_out(
    web_client: TestClient, world: World, platform: Platform
) -> None:
    limit = platform.settings.signin_address_failures
    for i in range(limit):
        assert _api_login(web_client, f"name-{i}", "guess")[0] == 401
    status, message, _ = _api_login(web_client, "province", PASSWORD)
    assert status == 429 and "暂时锁定" in message
    elsewhere = TestClient(web_client.app, client=("192.0.2.7", 40000))
    assert _api_login(elsewhere, "province", PASSWORD)[0] == 200
    with platform.reading() as s:
        ids = s.scalars(select(AuditEntry.object_id).where(AuditEntry.action == "lockout")).all()
    assert ids == ["address:testclient"]


def test_console_sign_in_uses_the_same_throttle(console: Console, platform: Platform) -> None:
    client = console.client()
    token = form_token(client)

    def attempt(password: str) -> tuple[int, str]:
        r = client.post(
            "/login",
            data={"username": "enterprise", "password": password, "csrf_token": token},
            follow_redirects=False,
        )
        return r.status_code, r.text

    answers = [attempt(f"guess {i}") for i in range(40)]
    assert [a[0] for a in answers[:3]] == [401, 401, 401] and all(a[0] == 429 for a in answers[3:])
    assert "登录失败次数过多，已暂时锁定" in answers[-1][1] and 'role="alert"' in answers[-1][1]
    assert attempt(PASSWORD)[0] == 429
    _set_now(platform, FIXED_NOW + timedelta(minutes=15))
    assert attempt(PASSWORD)[0] == 303


def test_password_change_checks_the_current_password_through_the_throttle(
    console: Console, platform: Platform
) -> None:
    client = console.client_for("city")
    token = form_token(client, "/account/password")
    statuses = [
        client.post(
            "/account/password",
            data={
                "current_password": f"guess {i}",
                "new_password": "a new passphrase",
                "confirm_password": "a new passphrase",
                "csrf_token": token,
            },
        ).status_code
        for i in range(12)
    ]
    assert statuses[:3] == [422, 422, 422] and statuses[-1] == 429


def test_argon2_runs_on_its_own_bounded_pool(platform: Platform, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []
    original = passwords._check

    def spy(hasher: object, stored: str, password: str) -> bool:
        seen.append(threading.current_thread().name)
        return original(hasher, stored, password)  # type: ignore[arg-type]

    monkeypatch.setattr(passwords, "_check", spy)
    stored = passwords.hash_password(platform, "a long enough secret")
    assert passwords.verify(platform, stored, "a long enough secret")
    assert not passwords.verify(platform, None, "a long enough secret")  # the dummy hash, still False
    assert len(seen) == 2 and all(name.startswith("argon2") for name in seen)
    assert passwords.pool(platform)._max_workers == platform.settings.argon2_threads


@pytest.mark.parametrize("username", ["city", "no-such-user"])
def test_a_refused_try_is_not_checked(
    web_client: TestClient, world: World, platform: Platform, username: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for _ in range(3):
        _api_login(web_client, username, "wrong")
    checked: list[str] = []
    original = passwords._check
    monkeypatch.setattr(
        passwords, "_check", lambda h, stored, pw: checked.append(pw) or original(h, stored, pw)
    )
    assert _api_login(web_client, username, PASSWORD)[0] == 429
    assert checked == []


def test_simultaneous_sign_ins_and_guesses_never_fail_with_a_database_error(
    world: World, platform: Platform
) -> None:
    """Issue 16: 8 users signing in at once on SQLite got 30 × 500 (the token insert could not wait for the
    write lock). Every sign-in step now starts its transaction with a write, so it waits instead."""
    from concurrent.futures import ThreadPoolExecutor

    from jiliang.errors import AuthenticationFailed
    from jiliang.services import users

    def right(name: str) -> str:
        return users.login(platform, name, PASSWORD, address=f"10.0.0.{len(name)}")[1].username

    def wrong(i: int) -> str:
        try:
            users.login(platform, f"nobody-{i}", "guess", address="10.0.1.1")
        except AuthenticationFailed as exc:  # TooManyAttempts included
            return exc.code
        return "signed in"

    names = ["admin", "province", "city", "county_b", "other_city", "enterprise", "institution", "public"]
    with ThreadPoolExecutor(16) as pool:
        signed = pool.map(right, names)
        refused = pool.map(wrong, range(16))
        assert sorted(signed) == sorted(names)
        assert set(refused) <= {"unauthenticated", "too_many_attempts"}
