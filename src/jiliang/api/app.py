"""The FastAPI application factory (the composition root of the web process)."""

from __future__ import annotations

import contextlib
import gc
import importlib
from collections.abc import AsyncIterator

import anyio.to_thread
from fastapi import Depends, FastAPI

from jiliang import __version__
from jiliang.api import errors
from jiliang.api.bounds import bounded_ints
from jiliang.api.security import Hardening
from jiliang.services.platform import Platform

# Each module in jiliang.api.routers exposes `router`; listed explicitly so that the order is stable.
ROUTERS = [
    "auth",
    "registry",
    "transfer",  # before "instruments": /instruments/export must not be read as /instruments/{id}
    "instruments",
    "verifications",
    "indicators",
    "reminders",
    "audit",
    "comparisons",
    "log",
    "certificates",
    "verify_page",
    "uncertainty_page",
    "comparison_page",
    "traceability_page",
    "web",
    "uncertainty",
    "trust",
    "dcc",
    "traceability",
]


def create_app(platform: Platform) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = platform.settings.api_threads
        # Objects alive at start-up (modules, the app, caches) stay alive: keep them out of the cyclic
        # collector's generations so that its full passes do not stall requests.
        gc.collect()
        gc.freeze()
        yield

    app = FastAPI(
        lifespan=lifespan,
        # A path or query integer beyond 64 bits is a 422 naming it, never a driver OverflowError (500).
        dependencies=[Depends(bounded_ints)],
        title="jiliang 计量 API",
        version=__version__,
        description="智慧计量监管服务平台 / smart metrology supervision and service platform",
    )
    app.state.platform = platform
    errors.install(app)

    # Security headers and the server-chosen request id, on every response (api/security.py).
    app.add_middleware(Hardening)

    for name in ROUTERS:
        module = importlib.import_module(f"jiliang.api.routers.{name}")
        app.include_router(module.router)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    return app
