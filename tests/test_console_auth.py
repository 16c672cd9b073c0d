"""Console sign-in, sessions, CSRF, sign-out and password change (issue 10, "Sign-in and sessions")."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from jiliang.services import sessions
from jiliang.services.platform import Platform
from jiliang.store.models import ConsoleSession
from tests.conftest import FIXED_NOW
from tests.console_support import ROLE_USERS, Console, form_token, sign_in
from tests.factories import PASSWORD


def test_login_page_is_chinese_first_and_english_on_request(console: Console) -> None:
    client = console.client()
    zh = client.get("/login")
    assert zh.status_code == 200
    assert "<h1>登录</h1>" in zh.text and 'lang="zh-CN"' in zh.text
    assert 'name="csrf_token"' in zh.text and 'autocomplete="current-password"' in zh.text
    en = client.get("/login?lang=en")
    assert "<h1>Sign in</h1>" in en.text
    # The language is remembered in a cookie for the next page.
    assert "<h1>Sign in</h1>" in client.get("/login").text


def test_a_page_needs_sign_in_and_returns_there_after(console: Console) -> None:
    client = console.client()
    answer = client.get("/account/password", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=%2Faccount%2Fpassword"
    token = form_token(client, answer.headers["location"])
    login = client.post(
        "/login",
        data={"username": "city", "password": PASSWORD, "csrf_token": token, "next": "/account/password"},
        follow_redirects=False,
    )
    assert login.status_code == 303 and login.headers["location"] == "/account/password"
    assert "<h1>修改密码</h1>" in client.get("/account/password").text


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example"])
def test_sign_in_never_redirects_to_another_site(console: Console, target: str) -> None:
    client = console.client()
    token = form_token(client)
    answer = client.post(
        "/login",
        data={"username": "city", "password": PASSWORD, "csrf_token": token, "next": target},
        follow_redirects=False,
    )
    assert answer.headers["location"] == "/console"


def test_session_cookie_is_httponly_lax_and_only_a_hash_is_stored(
    console: Console, platform: Platform
) -> None:
    client = console.client()
    token = form_token(client)
    answer = client.post(
        "/login", data={"username": "city", "password": PASSWORD, "csrf_token": token}, follow_redirects=False
    )
    cookie = next(h for h in answer.headers.get_list("set-cookie") if h.startswith("jl_session="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # the test platform's public URL is http://
    value = cookie.split(";")[0].split("=", 1)[1]
    with platform.reading() as s:
        stored = s.scalars(select(ConsoleSession.token_hash)).all()
    assert value not in stored and sessions.digest(value) in stored


def test_cookies_are_secure_when_the_public_url_is_https(console: Console, platform: Platform) -> None:
    platform.settings.public_url = "https://jiliang.example.gov.cn"
    client = TestClient(console.app, base_url="https://testserver")  # Secure cookies travel over https only
    console.clients.append(client)
    token = form_token(client)
    answer = client.post(
        "/login", data={"username": "city", "password": PASSWORD, "csrf_token": token}, follow_redirects=False
    )
    cookie = next(h for h in answer.headers.get_list("set-cookie") if h.startswith("jl_session="))
    assert "Secure" in cookie


def test_wrong_password_and_unknown_user_get_the_same_answer(console: Console) -> None:
    client = console.client()
    answers = []
    for username in ("city", "nobody-by-this-name"):
        token = form_token(client)
        answer = client.post(
            "/login", data={"username": username, "password": "wrong password!", "csrf_token": token}
        )
        answers.append((answer.status_code, answer.text.replace(username, "NAME")))
    assert answers[0] == answers[1]
    assert answers[0][0] == 401 and "用户名或密码错误" in answers[0][1]


def test_login_without_the_form_token_is_refused(console: Console) -> None:
    client = console.client()
    client.get("/login")
    answer = client.post("/login", data={"username": "city", "password": PASSWORD, "csrf_token": "forged"})
    assert answer.status_code == 403 and "表单已过期" in answer.text
    assert "jl_session" not in client.cookies


def test_every_console_post_checks_the_session_token(console: Console) -> None:
    client = console.client_for("city")
    other = console.client_for("province")
    stolen = form_token(other, "/console")  # another session's token is no good here
    for token in ("", "x", stolen):
        answer = client.post(
            "/account/password",
            data={
                "current_password": PASSWORD,
                "new_password": "n" * 12,
                "confirm_password": "n" * 12,
                "csrf_token": token,
            },
        )
        assert answer.status_code == 403
        answer = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
        assert answer.status_code == 403
    assert client.get("/account/password", follow_redirects=False).status_code == 200


def test_sign_in_rotates_the_session(console: Console, platform: Platform) -> None:
    client = console.client_for("city")
    first = client.cookies["jl_session"]
    sign_in(client, "city")
    second = client.cookies["jl_session"]
    assert first != second
    assert sessions.resolve(platform, first) is None
    assert sessions.resolve(platform, second) is not None


def test_sign_out_ends_the_session_on_the_server(console: Console, platform: Platform) -> None:
    client = console.client_for("city")
    token = client.cookies["jl_session"]
    answer = client.post(
        "/logout", data={"csrf_token": form_token(client, "/console")}, follow_redirects=False
    )
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
    assert sessions.resolve(platform, token) is None
    # Replaying the old cookie reaches nothing.
    replay = console.client()
    replay.cookies.set("jl_session", token)
    assert replay.get("/console", follow_redirects=False).status_code == 303


def test_sessions_end_when_idle_and_at_the_absolute_limit(console: Console, platform: Platform) -> None:
    client = console.client_for("city")
    token = client.cookies["jl_session"]
    idle = timedelta(minutes=platform.settings.session_idle_minutes)
    try:
        platform.now = lambda: FIXED_NOW + idle - timedelta(seconds=1)
        assert sessions.resolve(platform, token) is not None  # and that request touched it
        platform.now = lambda: FIXED_NOW + 2 * idle - timedelta(seconds=2)
        assert sessions.resolve(platform, token) is not None
        platform.now = lambda: FIXED_NOW + 4 * idle
        assert sessions.resolve(platform, token) is None  # idle too long
        fresh = sessions.open_session(platform, console.world.as_("city"))
        absolute = timedelta(hours=platform.settings.session_absolute_hours)
        step = idle / 2
        now = FIXED_NOW + 4 * idle
        while now + step < FIXED_NOW + 4 * idle + absolute:  # kept busy, never idle
            now += step
            platform.now = lambda n=now: n  # type: ignore[misc]
            assert sessions.resolve(platform, fresh) is not None
        platform.now = lambda: FIXED_NOW + 4 * idle + absolute
        assert sessions.resolve(platform, fresh) is None
    finally:
        platform.now = lambda: FIXED_NOW


def test_password_change_ends_every_other_session_and_token(console: Console, platform: Platform) -> None:
    laptop = console.client_for("city")
    phone = console.client_for("city")
    api_token = console.world.tokens["city"]
    token = form_token(laptop, "/account/password")
    wrong = laptop.post(
        "/account/password",
        data={
            "current_password": "not it at all",
            "new_password": "n" * 12,
            "confirm_password": "n" * 12,
            "csrf_token": token,
        },
    )
    assert (
        wrong.status_code == 422
        and 'id="current_password"' in wrong.text
        and 'aria-invalid="true"' in wrong.text
    )
    differ = laptop.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": "n" * 12,
            "confirm_password": "m" * 12,
            "csrf_token": token,
        },
    )
    assert differ.status_code == 422 and "不一致" in differ.text
    done = laptop.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": "a new passphrase",
            "confirm_password": "a new passphrase",
            "csrf_token": token,
        },
    )
    assert done.status_code == 200 and "密码已修改" in done.text
    assert laptop.get("/account/password", follow_redirects=False).status_code == 200  # a new session
    assert phone.get("/account/password", follow_redirects=False).status_code == 303  # ended
    assert laptop.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {api_token}"}).status_code == 401
    again = console.client()
    sign_in(again, "city", "a new passphrase")


def test_each_role_reaches_its_start_page(signed_in_client: tuple[str, TestClient]) -> None:
    role, client = signed_in_client
    page = client.get("/console")
    assert page.status_code == 200
    assert page.text.count("<h1") == 1
    assert ROLE_USERS[role] in page.text
    assert 'action="/logout"' in page.text and 'name="csrf_token"' in page.text
    assert "placeholder" not in page.text.lower() and "TODO" not in page.text


def test_console_answers_404_in_html_for_an_unknown_page(console: Console) -> None:
    client = console.client_for("city")
    answer = client.get("/console/no-such-page")
    assert answer.status_code == 404


def test_signing_out_of_an_ended_session_just_goes_to_sign_in(console: Console, platform: Platform) -> None:
    client = console.client_for("city")
    token = form_token(client, "/console")
    try:
        platform.now = lambda: FIXED_NOW + timedelta(hours=platform.settings.session_absolute_hours)
        answer = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
    finally:
        platform.now = lambda: FIXED_NOW
