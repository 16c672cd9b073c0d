"""Exports that cannot take the server down (issue 16): 30 clients that read 1 KiB of an export and stalled
filled the connection pool, other requests got 500 and every database request failed for minutes after.
Now an export is spooled in one short read transaction before the first byte is sent, a stalled download is
dropped, and exports at once are bounded per user (429) and in all (503)."""

from __future__ import annotations

import asyncio
import io
import socket
import threading
import time
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from jiliang.api.app import create_app
from jiliang.api.downloads import SpooledDownload
from jiliang.services import transfer
from jiliang.services.transfer import spool
from jiliang.services.transfer.columns import INSTRUMENT_COLUMNS
from tests.factories import COUNTY_A, PASSWORD, World, credit_code

FUEL = "09.01"


def test_a_download_whose_client_takes_nothing_is_dropped_and_frees_its_slot() -> None:
    released: list[bool] = []
    data = io.BytesIO(b"x" * 200_000)
    response = SpooledDownload(
        data, 200_000, lambda: released.append(True), stall_s=0.2, media_type="text/csv", filename="a.csv"
    )
    sent: list[dict[str, Any]] = []

    async def stalled_send(message: dict[str, Any]) -> None:
        sent.append(message)
        if message["type"] == "http.response.body":
            await asyncio.Event().wait()  # the client never takes the bytes

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    asyncio.run(response({"type": "http"}, receive, stalled_send))  # type: ignore[arg-type]
    assert released == [True] and data.closed
    assert sent[0]["type"] == "http.response.start" and len(sent) == 2  # one chunk offered, never taken


def test_a_user_with_two_exports_running_gets_429_and_a_full_server_503(world: World) -> None:
    platform = world.platform
    headers = {"authorization": f"Bearer {world.tokens['city']}"}
    with TestClient(create_app(platform)) as client:
        releases = [
            spool.take_slot(platform, world.as_("city")) for _ in range(platform.settings.exports_per_user)
        ]
        r = client.get("/api/v1/instruments/export", headers=headers)
        assert r.status_code == 429 and r.headers["retry-after"].isdigit(), r.text
        assert r.json()["error"]["code"] == "too_many_requests"
        for release in releases:
            release()
        assert client.get("/api/v1/instruments/export", headers=headers).status_code == 200
        limits = (1, platform.settings.exports_total)
        others = [spool.slots(platform).take(f"someone-{n}", *limits) for n in range(limits[1])]
        r = client.get("/api/v1/instruments/export", headers=headers)
        assert r.status_code == 503 and r.headers["retry-after"].isdigit(), r.text
        for release in others:
            release()
    assert spool.slots(platform).running() == 0


def _big_instrument_file(world: World, rows: int) -> bytes:
    """Enough rows with long names that the export is far larger than the sockets' buffers."""
    out = io.StringIO()
    out.write(",".join(c.field for c in INSTRUMENT_COLUMNS) + "\n")
    pad = "长" * 150
    for n in range(rows):
        out.write(
            f"加油机{pad},{FUEL},M-1,S-{n:06d},示例制造,{COUNTY_A},trade_settlement,2025-01-10,,,,,"
            f"{pad},,{credit_code(1)}\n"
        )
    return out.getvalue().encode()


def _checked_out(engine: Engine) -> int:
    return int(getattr(engine.pool, "checkedout", lambda: 0)())


@pytest.fixture
def server(world: World) -> Any:
    platform = world.platform
    platform.settings.export_stall_s = 1.0
    platform.settings.exports_per_user = 8
    transfer.import_instruments(
        platform, world.as_("city"), io.BytesIO(_big_instrument_file(world, 4000)), fmt="csv"
    )
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(create_app(platform), log_level="warning", access_log=False)
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not srv.started:
        time.sleep(0.05)
    yield platform, sock.getsockname()[1]
    srv.should_exit = True
    thread.join(10)


def _stalled_export(port: int, token: str) -> socket.socket:
    """A client that asks for the export, reads 1 KiB and then reads nothing more."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", port))
    s.sendall(
        f"GET /api/v1/instruments/export HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n".encode()
    )
    assert s.recv(1024).startswith(b"HTTP/1.1 200")
    return s


def test_stalled_export_clients_leave_the_server_healthy(world: World, server: Any) -> None:
    platform, port = server
    import httpx

    stalled = [_stalled_export(port, world.tokens[who]) for who in ("city", "province") * 3]
    try:
        assert _checked_out(platform.engine) == 0  # no connection waits on a slow client
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            assert (
                http.post(
                    "/api/v1/auth/login", json={"username": "county_b", "password": PASSWORD}
                ).status_code
                == 200
            )
            listed = http.get(
                "/api/v1/instruments?limit=1", headers={"authorization": f"Bearer {world.tokens['city']}"}
            )
            assert listed.status_code == 200 and listed.json()["total"] == 4000
        slots = spool.slots(platform)
        deadline = time.monotonic() + 60
        while (
            slots.running() and time.monotonic() < deadline
        ):  # dropped after export_stall_s without progress
            time.sleep(0.1)
        assert slots.running() == 0
    finally:
        for s in stalled:
            s.close()
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
        r = http.get(
            "/api/v1/instruments/export", headers={"authorization": f"Bearer {world.tokens['city']}"}
        )
        assert r.status_code == 200 and r.content.count(b"\n") == 4001
