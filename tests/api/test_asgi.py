"""The multi-process entry point builds its platform from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from jiliang.api.asgi import app_from_environment
from jiliang.services import catalogue as catalogue_service
from jiliang.services.platform import Platform
from jiliang.settings import Settings


def test_app_from_environment_serves_the_configured_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'env.db'}"
    platform = Platform.open(Settings(database_url=url))
    catalogue_service.ensure_shipped(platform)
    platform.close()
    monkeypatch.setenv("JILIANG_DATABASE_URL", url)
    client = TestClient(app_from_environment())
    assert client.get("/healthz").json()["status"] == "ok"
    assert client.get("/api/v1/catalogue/items", params={"limit": 1}).json()["total"] == 62
