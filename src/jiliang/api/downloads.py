"""File downloads: the Content-Disposition header (RFC 6266 with RFC 5987/8187 for non-ASCII names) and the
response that sends a spooled export without letting a stalled client hold the server (docs/security.md)."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import IO
from urllib.parse import quote

import anyio
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

log = logging.getLogger(__name__)

CHUNK = 64 * 1024
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def attachment(filename: str, disposition: str = "attachment") -> str:
    """``attachment; filename="…"; filename*=UTF-8''…``: an ASCII fallback for old clients, and the exact
    name (Chinese certificate numbers included) percent-encoded as RFC 8187 says. Control characters,
    quotes, slashes and backslashes never reach the header."""
    cleaned = "".join(ch for ch in filename if ch.isprintable() and ch not in '/\\"') or "download"
    fallback = _UNSAFE.sub("_", cleaned)
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{quote(cleaned, safe='')}"


class SpooledDownload(Response):
    """Sends an export already written to a (spooled) file. Each chunk must be taken by the client within
    ``stall_s`` or the download is dropped (the connection closes short of its Content-Length, so the
    client sees an error, not a silently truncated file); ``release`` and the file's close run whatever
    happens, exactly once."""

    def __init__(
        self,
        file: IO[bytes],
        size: int,
        release: Callable[[], None],
        *,
        stall_s: float,
        media_type: str,
        filename: str,
    ) -> None:
        super().__init__(media_type=media_type, headers={"content-disposition": attachment(filename)})
        self.headers["content-length"] = str(size)
        self._file, self._release, self._stall_s = file, release, stall_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await send(
                {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
            )
            while chunk := self._file.read(CHUNK):
                with anyio.fail_after(self._stall_s):
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
            with anyio.fail_after(self._stall_s):
                await send({"type": "http.response.body", "body": b"", "more_body": False})
        except TimeoutError:
            log.warning("download dropped: the client took nothing for %.0f s", self._stall_s)
        except OSError:  # the client hung up
            pass
        finally:
            self._file.close()
            self._release()
