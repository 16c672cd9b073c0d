"""The FastAPI application factory (the composition root of the web process)."""

from __future__ import annotations

import contextlib
import gc
import importlib
from collections.abc import AsyncIterator

import anyio.to_thread
from fastapi import Depends, FastAPI
from starlette.types import ASGIApp

from jiliang import __version__
from jiliang.api import errors
from jiliang.api.bounds import bounded_ints
from jiliang.api.security import Hardening
from jiliang.services.platform import Platform
from jiliang.web import ROUTERS as PAGE_ROUTERS
from jiliang.web import auth as web_auth
from jiliang.web.common import static_files


class _App(FastAPI):
    """FastAPI with ``Hardening`` outside Starlette's ``ServerErrorMiddleware``.

    Starlette always puts ``ServerErrorMiddleware`` outermost, so a middleware added the usual way never
    sees the 500 it answers for an unhandled exception: that response went out without the security
    headers. Wrapping the whole built stack gives every response, the 500 included, the same headers.
    """

    def build_middleware_stack(self) -> ASGIApp:
        return Hardening(super().build_middleware_stack())

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
    "supervision",
    "catalogue_versions",
    "public",
    "energy",
    "measured_verifications",
    "telemetry",
    "warnings",
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

    app = _App(
        lifespan=lifespan,
        # A path or query integer beyond 64 bits is a 422 naming it, never a driver OverflowError (500).
        dependencies=[Depends(bounded_ints)],
        title="jiliang 计量 API",
        version=__version__,
        description="智慧计量监管服务平台 / smart metrology supervision and service platform",
        docs_url=None,  # /docs and /redoc are served by jiliang.web.docs from vendored assets (offline)
        redoc_url=None,
    )
    app.state.platform = platform
    errors.install(app)

    # Security headers and the server-chosen request id, on every response (api/security.py): added by
    # _App around the whole middleware stack, the 500s of ServerErrorMiddleware included.

    for name in ROUTERS:
        module = importlib.import_module(f"jiliang.api.routers.{name}")
        app.include_router(module.router)
    # The console's pages (jiliang.web) share the process; the API routers above serve JSON only.
    app.mount("/static", static_files, name="static")
    for name in PAGE_ROUTERS:
        app.include_router(importlib.import_module(f"jiliang.web.{name}").router)
    web_auth.install(app)  # the console's sign-in redirects, CSRF refusals and HTML error pages

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    return app
