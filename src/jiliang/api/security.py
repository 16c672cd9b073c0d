"""Response hardening in one place (docs/security.md): every HTTP response — pages, API, errors, files —
gets the security headers, and every request a server-chosen request id.

A pure ASGI middleware (not ``BaseHTTPMiddleware``) so that a download's back-pressure reaches the response
that sends it, which can then drop a client that stalls (``api/downloads.py``).

The request id written to the audit trail and echoed in ``X-Request-ID`` is always generated here; an
``X-Request-ID`` sent by the client is kept only as the audit trail's separate ``client_request_id``
(printable ASCII, at most 64 characters), so a client cannot make two changes look like one request.
"""

from __future__ import annotations

import urllib.parse
import uuid

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from jiliang.services.platform import client_request_id_var, request_id_var

REQUEST_ID = "x-request-id"

# No inline script anywhere (the pages pass data in <script type="application/json"> blocks, which are
# not executed, and load their code from /static); inline style attributes are allowed (the SVG charts).
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
# Swagger UI and ReDoc are vendored (web/docs.py, no CDN, no inline script); ReDoc renders in a worker it
# starts from a blob, so the two documentation pages allow blob: workers and nothing else beyond CSP.
DOCS_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; worker-src 'self' blob:; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'"
)
DOCS_PATHS = frozenset({"/docs", "/redoc", "/docs/oauth2-redirect"})

HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=()",
}


def client_request_id(value: str | None) -> str:
    """What may be kept of a client's request id: printable ASCII only, at most 64 characters."""
    if not value:
        return ""
    return "".join(ch for ch in value if 32 < ord(ch) < 127)[:64]


def relative_location(location: str, host: str) -> str:
    """A redirect the framework built from the request's own Host header (e.g. a trailing slash removed)
    becomes relative, so a forged Host never comes back in a Location."""
    parts = urllib.parse.urlsplit(location)
    if parts.scheme in ("http", "https") and parts.netloc == host:
        return urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, parts.fragment))
    return location


class Hardening:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = uuid.uuid4().hex
        claimed, host = "", ""
        for name, value in scope.get("headers", ()):
            if name == b"x-request-id":
                claimed = client_request_id(value.decode("latin-1"))
            elif name == b"host":
                host = value.decode("latin-1")
        scope.setdefault("state", {})["request_id"] = rid
        csp = DOCS_CSP if scope.get("path") in DOCS_PATHS else CSP

        async def send_hardened(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers[name] = value
                headers["content-security-policy"] = csp
                headers[REQUEST_ID] = rid
                if "location" in headers:
                    headers["location"] = relative_location(headers["location"], host)
            await send(message)

        token, client_token = request_id_var.set(rid), client_request_id_var.set(claimed)
        try:
            await self.app(scope, receive, send_hardened)
        finally:
            request_id_var.reset(token)
            client_request_id_var.reset(client_token)
