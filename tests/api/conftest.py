"""An HTTP client over the `world` fixture, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from jiliang.api.app import create_app
from tests.factories import World


@dataclass
class Api:
    """Requests made as one of the world's accounts (``as_=None``: anonymous)."""

    client: TestClient
    world: World

    def request(
        self, method: str, path: str, as_: str | None, headers: dict[str, str] | None = None, **kw: Any
    ) -> Any:
        h = dict(headers or {})
        if as_ is not None:
            h["Authorization"] = f"Bearer {self.world.tokens[as_]}"
        return self.client.request(method, path, headers=h, **kw)

    def get(self, path: str, as_: str | None, **kw: Any) -> Any:
        return self.request("GET", path, as_, **kw)

    def post(self, path: str, as_: str | None, **kw: Any) -> Any:
        return self.request("POST", path, as_, **kw)

    def patch(self, path: str, as_: str | None, **kw: Any) -> Any:
        return self.request("PATCH", path, as_, **kw)

    def put(self, path: str, as_: str | None, **kw: Any) -> Any:
        return self.request("PUT", path, as_, **kw)

    def audit(self, **params: Any) -> list[dict[str, Any]]:
        r = self.get("/api/v1/audit", "admin", params={"limit": 1000, **params})
        assert r.status_code == 200, r.text
        return list(r.json()["items"])


@pytest.fixture
def api(world: World) -> Iterator[Api]:
    with TestClient(create_app(world.platform)) as client:
        yield Api(client, world)


def rows(body: Any) -> list[dict[str, Any]]:
    """The rows of a list answer, paged ({items, total, ...}) or plain."""
    return list(body["items"]) if isinstance(body, dict) else list(body)


_BILINGUAL = re.compile(r"[\u4e00-\u9fff].*/.*[A-Za-z]")


def bilingual(text: str) -> bool:
    """Chinese first, then English after a slash: the house form of every user-facing message."""
    return bool(_BILINGUAL.search(text))
