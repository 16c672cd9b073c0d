"""Fixtures: a migrated database per test, on SQLite always and on PostgreSQL when one is configured.

PostgreSQL tests run when JILIANG_TEST_POSTGRES_URL is set (``.ci/run`` sets it); otherwise they are
skipped with that reason, so the README's test command passes on a laptop without a server.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, make_url, text

from jiliang.api import app as app_module
from jiliang.domain.access import SYSTEM
from jiliang.services import catalogue as catalogue_service
from jiliang.services import organisations
from jiliang.services.platform import Platform
from jiliang.settings import Settings
from jiliang.store.db import make_engine, session_factory
from jiliang.store.migrate import upgrade
from jiliang.store.models import Base

# pytest-xdist's workers export COLUMNS=80, and a rich Console created while it is set keeps that width for
# good; the CLI tests choose the width per invocation (COLUMNS in the runner's env), so the workers drop it
# before any test module imports the commands.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.pop("COLUMNS", None)

FIXED_NOW = datetime(2026, 6, 15, 2, 0, tzinfo=UTC)
_BASE_POSTGRES_URL = os.environ.get("JILIANG_TEST_POSTGRES_URL")


def _worker_url(url: str | None) -> str | None:
    """Under pytest-xdist each worker gets its own database (``<name>_gw0``, ...), created on first use,
    so workers never truncate each other's tables."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return url
    parsed = make_url(url)
    return parsed.set(database=f"{parsed.database}_{worker}").render_as_string(hide_password=False)


POSTGRES_URL = _worker_url(_BASE_POSTGRES_URL)
# Still Argon2id, at a cost that keeps a test world's ten logins quick.
CHEAP_HASH = {"argon2_memory_kib": 1024, "argon2_time_cost": 1}


def fixed_now() -> datetime:
    return FIXED_NOW


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_engine() -> Iterator[Engine]:
    if not POSTGRES_URL:
        pytest.skip(
            "PostgreSQL tests need JILIANG_TEST_POSTGRES_URL (e.g. postgresql://postgres@127.0.0.1/test)"
        )
    if POSTGRES_URL != _BASE_POSTGRES_URL:
        assert _BASE_POSTGRES_URL
        name = make_url(POSTGRES_URL).database
        base = make_url(_BASE_POSTGRES_URL).set(drivername="postgresql+psycopg")
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            if conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first() is None:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    engine = make_engine(POSTGRES_URL)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    upgrade(engine)
    yield engine
    engine.dispose()


def _truncate_postgres(engine: Engine) -> None:
    names = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def platform(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Platform]:
    if backend == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        db = tmp_path / "jiliang.db"
        shutil.copy(template, db)
        settings = Settings(
            environment="test", database_url=f"sqlite:///{db}", data_dir=tmp_path, **CHEAP_HASH
        )
        engine = make_engine(settings.database_url)
    else:
        engine = request.getfixturevalue("postgres_engine")
        _truncate_postgres(engine)
        assert POSTGRES_URL
        settings = Settings(environment="test", database_url=POSTGRES_URL, data_dir=tmp_path, **CHEAP_HASH)
    p = Platform(settings=settings, engine=engine, sessions=session_factory(engine), now=fixed_now)
    catalogue_service._CACHE.clear()
    organisations.ensure_national(p)
    catalogue_service.ensure_shipped(p)
    yield p
    catalogue_service._CACHE.clear()
    if backend == "sqlite":
        engine.dispose()


@pytest.fixture
def world(platform: Platform):  # type: ignore[no-untyped-def]
    from tests.factories import build_world

    return build_world(platform)


__all__ = ["SYSTEM"]


@pytest.fixture
def web_client(platform: Platform, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """The real app over the test platform, for the server-rendered pages."""
    # Routers written on other branches join when they exist; the pages need none of them.
    present = [r for r in app_module.ROUTERS if importlib.util.find_spec(f"jiliang.api.routers.{r}")]
    monkeypatch.setattr(app_module, "ROUTERS", present)
    with TestClient(app_module.create_app(platform)) as c:
        yield c

# The console's fixtures (a signed-in client per role), for every page test: tests/console_support.py.
from tests.console_support import console, signed_in_client  # noqa: E402, F401
