"""Signing in to the console from tests: a helper, and one signed-in client per role of the test world.

The fixtures ``console`` and ``signed_in_client`` are registered in tests/conftest.py. In a page test::

    from tests.console_support import Console, form_token

    def test_my_page(console: Console) -> None:
        client = console.client_for("city")        # the city's supervisor, signed in through /login
        page = client.get("/console/supervision")
        token = form_token(client, "/console")      # the CSRF token to post a form with

The test world (tests/factories.py) has one account per role, all with the password ``PASSWORD``:
``admin`` (administrator, national), ``province`` / ``city`` / ``county_b`` / ``other_city``
(supervisors), ``institution`` / ``other_institution``, ``enterprise`` / ``other_enterprise``, ``public``.
"""

from __future__ import annotations

import contextlib
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from jiliang.services.platform import Platform
from tests.factories import PASSWORD, World

# One account of each role in the test world.
ROLE_USERS = {
    "administrator": "admin",
    "supervisor": "city",
    "institution": "institution",
    "enterprise": "enterprise",
    "public": "public",
}
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def form_token(client: TestClient, path: str = "/login") -> str:
    """The CSRF token of this client's browser session, read from a page's form (``/login`` or any
    console page when signed in)."""
    page = client.get(path)
    match = _CSRF.search(page.text)
    assert match, f"no csrf_token on {path} ({page.status_code})"
    return match.group(1)


def sign_in(client: TestClient, username: str, password: str = PASSWORD, next_: str = "/console") -> None:
    """Sign in through the real ``/login`` form (CSRF token included); the client keeps the cookie."""
    token = form_token(client, "/login")
    answer = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token, "next": next_},
        follow_redirects=False,
    )
    assert answer.status_code == 303, (
        f"sign-in of {username} answered {answer.status_code}: {answer.text[:300]}"
    )


@dataclass
class Console:
    """The app over the test world, handing out one signed-in client per account."""

    app: FastAPI
    world: World
    clients: list[TestClient] = field(default_factory=list)

    def client(self) -> TestClient:
        c = TestClient(self.app)
        self.clients.append(c)
        return c

    def client_for(self, username: str, password: str = PASSWORD) -> TestClient:
        c = self.client()
        sign_in(c, username, password)
        return c

    def client_as(self, role: str) -> TestClient:
        """A client signed in as the test world's account of ``role`` (see ``ROLE_USERS``)."""
        return self.client_for(ROLE_USERS[role])


@pytest.fixture
def console(web_client: TestClient, world: World) -> Iterator[Console]:
    c = Console(web_client.app, world)  # type: ignore[arg-type]
    yield c
    for client in c.clients:
        client.close()


@pytest.fixture(params=sorted(ROLE_USERS))
def signed_in_client(request: pytest.FixtureRequest, console: Console) -> tuple[str, TestClient]:
    """(role, a client signed in with that role): one test run per role."""
    role = str(request.param)
    return role, console.client_as(role)


# ---------------------------------------------------------------------------------------------------------
# Browser tests (Playwright + Debian's Chromium): a live server over a platform, and screenshots.

SCREENSHOTS = Path(__file__).parents[1] / "docs" / "screenshots"
DESKTOP = {"width": 1400, "height": 1000}
PHONE = {"width": 390, "height": 844}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@contextlib.contextmanager
def serving(platform: Platform) -> Iterator[str]:
    """The real app over ``platform`` on a free local port (uvicorn in a thread); yields its base URL."""
    import uvicorn

    from jiliang.api.app import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(platform), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def world_platform(directory: Path) -> Platform:
    """A platform over a fresh SQLite file holding the test world (tests/factories.py), for a live server."""
    from jiliang.services import catalogue as catalogue_service
    from jiliang.services import organisations
    from jiliang.settings import Settings
    from tests.conftest import CHEAP_HASH, fixed_now
    from tests.factories import build_world

    platform = Platform.open(
        now=fixed_now,  # the same clock as the other tests, so screenshots do not change from run to run
        settings=Settings(
            environment="test",
            database_url=f"sqlite:///{directory / 'console.db'}",
            data_dir=directory,
            **CHEAP_HASH,
        ),
    )
    organisations.ensure_national(platform)
    catalogue_service.ensure_shipped(platform)
    build_world(platform)
    return platform


def browser_sign_in(page: Any, base: str, username: str, password: str = PASSWORD) -> None:
    """Sign in through the form as a person would (Playwright page)."""
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def screenshots(page: Any, name: str) -> None:
    """Save ``docs/screenshots/<name>.png`` (1400 px) and ``<name>-phone.png`` (390 px), whole pages."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size(DESKTOP)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(SCREENSHOTS / f"{name}-phone.png"), full_page=True)
    page.set_viewport_size(DESKTOP)
