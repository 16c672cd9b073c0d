"""The C2SP witness over HTTP (c2sp.org/tlog-witness): one route, ``POST /add-checkpoint``.

A separate application from the platform's API: the witness runs on another host, for another party,
with no database (``services.tlog_witness.Witness`` keeps its key and state in its own folder). Served by
``jiliang log witness-serve``.
"""

from __future__ import annotations

from fastapi import FastAPI, Request, Response
from starlette.concurrency import run_in_threadpool

from jiliang.services.tlog_witness import Witness

MAX_BODY = 1 << 20


def create_witness_app(witness: Witness) -> FastAPI:
    app = FastAPI(title="jiliang witness 见证", docs_url=None, redoc_url=None, openapi_url=None)

    @app.post("/add-checkpoint")
    async def add_checkpoint(request: Request) -> Response:
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY:
                return Response("请求过大 / request too large\n", status_code=413, media_type="text/plain")
        answer = await run_in_threadpool(witness.add_checkpoint, body)
        return Response(answer.body, status_code=answer.status, media_type=answer.content_type)

    return app
