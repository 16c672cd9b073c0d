"""The composition root for multi-process serving: each uvicorn worker builds its own platform.

``uvicorn --factory jiliang.api.asgi:app_from_environment --workers N`` (what ``jiliang serve
--workers N`` runs): settings come from the environment (``JILIANG_*``), as in any twelve-factor process.
"""

from __future__ import annotations

from fastapi import FastAPI

from jiliang.api.app import create_app
from jiliang.services.platform import Platform
from jiliang.settings import Settings


def app_from_environment() -> FastAPI:
    return create_app(Platform.open(Settings(), migrate=False))
