"""The FastAPI application factory (the composition root of the web process)."""

from __future__ import annotations

import contextlib
import gc
import importlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import anyio.to_thread
from fastapi import FastAPI, Request, Response

from jiliang import __version__
from jiliang.api import errors
from jiliang.services.platform import Platform, request_id_var
from jiliang.web import ROUTERS as PAGE_ROUTERS
from jiliang.web.common import static_files

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
    "uncertainty",
    "trust",
    "dcc",
    "traceability",
    "market",
    "market_public",
    "telemetry",
]

REQUEST_ID = "x-request-id"


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
        title="jiliang 计量 API",
        version=__version__,
        description="智慧计量监管服务平台 / smart metrology supervision and service platform",
    )
    app.state.platform = platform
    errors.install(app)

    @app.middleware("http")
    async def request_id(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        rid = request.headers.get(REQUEST_ID) or uuid.uuid4().hex
        request.state.request_id = rid[:64]
        token = request_id_var.set(request.state.request_id)
        try:
            response = await call_next(request)
        finally:
            request_id_var.reset(token)
        response.headers[REQUEST_ID] = request.state.request_id
        return response

    for name in ROUTERS:
        module = importlib.import_module(f"jiliang.api.routers.{name}")
        app.include_router(module.router)
    # The console's pages (jiliang.web) share the process; the API routers above serve JSON only.
    app.mount("/static", static_files, name="static")
    for name in PAGE_ROUTERS:
        app.include_router(importlib.import_module(f"jiliang.web.{name}").router)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    return app
