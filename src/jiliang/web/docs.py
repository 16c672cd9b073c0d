"""The API's documentation pages, ``/docs`` (Swagger UI) and ``/redoc`` (ReDoc), served from the package.

FastAPI's own pages load both from a CDN, so ``/docs`` was blank on an offline intranet. The assets are
vendored under ``web/static/vendor/`` (``swagger-ui-dist`` 5.36.0, Apache-2.0; ``redoc`` 2.5.4, MIT; see
each VERSION file), and the pages carry no inline script: Swagger UI is started by
``static/js/swagger-init.js`` from a JSON data block, so they keep working under a strict CSP.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from jiliang.web.common import templates

router = APIRouter(include_in_schema=False)


@router.get("/docs", response_class=HTMLResponse)
def swagger_ui(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(
        request, "api_docs.html", {"openapi_url": request.app.openapi_url, "title": request.app.title}
    )


@router.get("/redoc", response_class=HTMLResponse)
def redoc(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(
        request, "api_redoc.html", {"openapi_url": request.app.openapi_url, "title": request.app.title}
    )
