"""What every console page shares: the templates, the packaged static files, refusals, the demo city.

Pages are server-rendered (Jinja2); ECharts and the stylesheet are served from the package because
government intranets are often offline (no CDN).
"""

from __future__ import annotations

from importlib import resources
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from jiliang.domain.access import Principal, Role
from jiliang.errors import JiliangError, NotFound
from jiliang.services import organisations
from jiliang.services.platform import Platform

DEMO_CITY = "339900"  # jiliang.demo.city.DEMO_CITY; GB/T 2260 uses city code 99 nowhere
# The public pages read as a supervisor of the demo city and call only read services.
PAGE_READER = Principal(
    user_id=None, username="public-demo-page", role=Role.SUPERVISOR, jurisdiction=DEMO_CITY
)

_WEB = resources.files("jiliang") / "web"
templates = Jinja2Templates(directory=str(_WEB / "templates"))
static_files = StaticFiles(directory=str(_WEB / "static"))


def refused(
    request: Request, name: str, context: dict[str, Any], exc: JiliangError, status_code: int = 422
) -> HTMLResponse:
    """A page shown again with the refusal: the message, the field it names, and any listed rows."""
    context.update(error=exc.message, field=exc.field, problems=getattr(exc, "problems", None))
    return templates.TemplateResponse(request, name, context, status_code=status_code)


def has_demo(platform: Platform) -> bool:
    try:
        organisations.get_region(platform, PAGE_READER, DEMO_CITY)
    except NotFound:
        return False
    return True
