"""What every console page shares: the templates, the packaged static files, refusals, the demo city.

Pages are server-rendered (Jinja2); ECharts and the stylesheet are served from the package because
government intranets are often offline (no CDN).
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

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

# People read times in China Standard Time; the database keeps UTC.
SHANGHAI = ZoneInfo("Asia/Shanghai")


def local_time(value: datetime | date | None, seconds: bool = False) -> str:
    """A stored (UTC) instant as people read it: Asia/Shanghai, ``YYYY-MM-DD HH:MM``; dates unchanged."""
    if value is None:
        return ""
    if not isinstance(value, datetime):
        return value.isoformat()
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    return aware.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def significant(value: float | None, digits: int = 2) -> str:
    """An uncertainty to ``digits`` significant digits (JJF 1059.1 §5.3: one or two), without float noise."""
    if value is None or not math.isfinite(value):
        return ""
    if value == 0:
        return "0"
    exponent = math.floor(math.log10(abs(value)))
    decimals = digits - 1 - exponent
    text = f"{round(value, decimals):.{max(decimals, 0)}f}"
    if 1e-4 <= abs(value) < 1e6:
        return text
    return f"{value:.{digits - 1}e}"


def decimals(value: float | None, places: int) -> str:
    """A value to a fixed number of decimals (e.g. to the last digit of its uncertainty)."""
    if value is None or not math.isfinite(value):
        return ""
    return f"{value:.{places}f}"


def percent(value: float | None, places: int = 1) -> str:
    """A ratio (0..1) as a percentage: 0.91234 -> 91.2 %."""
    if value is None or not math.isfinite(value):
        return "—"
    return f"{100 * value:.{places}f} %"


templates.env.filters.update(
    local_time=local_time, significant=significant, decimals=decimals, percent=percent
)


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
