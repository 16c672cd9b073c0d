"""Bad input and headers (issue 16): integers beyond 64 bits, file names in Chinese and with CR/LF, a forged
Host header, missing security headers, and refusals that told a caller what exists outside its jurisdiction."""

from __future__ import annotations

import importlib
import re
import urllib.parse
from typing import Any

import pytest
from fastapi.routing import APIRoute

from jiliang.api import app as app_module
from jiliang.api.bounds import is_int
from jiliang.api.downloads import attachment
from jiliang.services import certificates, instruments, organisations
from tests.api.conftest import Api
from tests.factories import COUNTY_B, OTHER_CITY, authorise_all, credit_code, instrument_raw

HUGE = str(2**64)
FUEL = "09.01"


def _int_params(api: Api) -> list[tuple[APIRoute, str, str]]:
    """Every (route, where, name) whose parameter is an integer, dependencies included."""
    found = []

    def walk(route: APIRoute, dependant: Any) -> None:
        for f in dependant.path_params:
            if is_int(f.field_info.annotation):
                found.append((route, "path", f.alias))
        for f in dependant.query_params:
            if is_int(f.field_info.annotation):
                found.append((route, "query", f.alias))
        for sub in dependant.dependencies:
            walk(route, sub)

    for name in app_module.ROUTERS:  # the app keeps included routers lazily: walk each router's own routes
        for route in importlib.import_module(f"jiliang.api.routers.{name}").router.routes:
            if isinstance(route, APIRoute):
                walk(route, route.dependant)
    return found


def test_every_integer_parameter_beyond_64_bits_is_a_422_naming_it(api: Api) -> None:
    """Before: 22 routes answered 500 (OverflowError) to an id or offset of 2**64."""
    params = _int_params(api)
    assert len(params) > 20
    for route, where, name in params:
        path = re.sub(
            r"\{(\w+)(:\w+)?\}", lambda m, name=name: HUGE if m.group(1) == name else "1", route.path
        )
        query = {name: HUGE} if where == "query" else {}
        method = sorted(route.methods)[0]
        r = api.request(method, path, "admin", params=query)
        assert r.status_code == 422, (method, route.path, name, r.status_code, r.text[:200])
        assert r.json()["error"]["field"] == name, (route.path, r.json())


def test_an_integer_beyond_64_bits_in_a_body_is_a_422_naming_it(api: Api) -> None:
    body = {"instrument_id": 2**64, "verified_on": "2026-01-05", "conclusion": "pass", "document_no": "J-1"}
    r = api.post("/api/v1/verifications", "institution", json=body)
    assert r.status_code == 422 and r.json()["error"]["field"] == "instrument_id", r.text
    r = api.post(
        "/api/v1/instruments",
        "enterprise",
        json={**instrument_raw("X", item_code=FUEL), "owner_id": -(2**70)},
    )
    assert r.status_code == 422 and r.json()["error"]["field"] == "owner_id", r.text


def test_content_disposition_carries_chinese_names_and_never_a_line_break() -> None:
    header = attachment("浙计检字第2026-001号.xml")
    header.encode("latin-1")  # what the server must be able to send
    assert header.startswith('attachment; filename="') and "filename*=UTF-8''" in header
    name = urllib.parse.unquote(header.split("filename*=UTF-8''")[1])
    assert name == "浙计检字第2026-001号.xml"
    assert "\r" not in attachment("a\r\nSet-Cookie: x=1.xml") and "\n" not in attachment("a\r\nb")
    assert '"' not in attachment('a".xml').split("filename=")[1].strip('"').split('";')[0]


def _issued(api: Api, number: str) -> str:
    world = api.world
    authorise_all(world, [FUEL])
    inst = instruments.file_instrument(
        world.platform, world.as_("enterprise"), instrument_raw("CN-1", item_code=FUEL)
    )
    from tests.signed_support import signed_record

    record = signed_record(world, inst.id, "2026-05-01", doc="JD-CN-1")
    return certificates.issue(world.platform, world.as_("institution"), record.id, number=number).number


def test_a_certificate_numbered_in_chinese_downloads_as_xml_and_pdf(api: Api) -> None:
    """Before: the XML/PDF download of 浙计检字第…号 answered 500 (the header was encoded as latin-1)."""
    number = _issued(api, "浙计检字第2026-001号")
    for fmt in ("xml", "pdf"):
        r = api.get(
            f"/api/v1/certificates/{urllib.parse.quote(number)}/document",
            "institution",
            params={"format": fmt},
        )
        assert r.status_code == 200, (fmt, r.text[:200])
        assert urllib.parse.quote(f"{number}.{fmt}") in r.headers["content-disposition"]


@pytest.mark.parametrize("bad", ["JD-1\r\nX: y", "JD-\x001", "JD\u202e1", "JD\u20281"])
def test_control_characters_in_document_numbers_are_refused_at_input(api: Api, bad: str) -> None:
    world = api.world
    authorise_all(world, [FUEL])
    inst = instruments.file_instrument(
        world.platform, world.as_("enterprise"), instrument_raw("CC-1", item_code=FUEL)
    )
    body = {"instrument_id": inst.id, "verified_on": "2026-05-01", "conclusion": "pass", "document_no": bad}
    r = api.post("/api/v1/verifications", "institution", json=body)
    assert r.status_code == 422 and r.json()["error"]["field"] == "document_no", r.text
    raw = instrument_raw(bad, item_code=FUEL)
    r = api.post("/api/v1/instruments", "enterprise", json=raw)
    assert r.status_code == 422 and r.json()["error"]["field"] == "serial_number", r.text


def test_a_forged_host_header_never_reaches_a_page(api: Api) -> None:
    """Before: the Host header was echoed into <script src=…> and <link href=…>."""
    for path in ("/", "/uncertainty"):
        r = api.client.get(path, headers={"Host": "evil.example"})
        assert r.status_code == 200, path
        assert "evil.example" not in r.text, path
        assert re.search(r'(src|href)="/static/', r.text), path


def test_a_forged_host_header_never_comes_back_in_a_redirect(api: Api) -> None:
    for path in ("/api/v1/instruments/", "/healthz/"):
        r = api.client.get(path, headers={"Host": "evil.example"}, follow_redirects=False)
        assert r.status_code == 307 and r.headers["location"] == path.rstrip("/"), r.headers


@pytest.mark.parametrize(
    "path", ["/", "/healthz", "/api/v1/auth/me", "/api/v1/nothing-here", "/static/css/site.css"]
)
def test_every_response_carries_the_security_headers(api: Api, path: str) -> None:
    r = api.get(path, None)
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'none'" in csp
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"


def test_the_pages_run_no_inline_script(api: Api) -> None:
    """The CSP forbids inline script: the pages may only carry JSON data blocks and scripts from /static."""
    for path in ("/", "/uncertainty", "/comparison", "/traceability"):
        r = api.client.get(path)
        for attrs, body in re.findall(r"<script([^>]*)>(.*?)</script>", r.text, flags=re.S):
            assert 'src="/static/' in attrs or ('type="application/json"' in attrs and body), (path, attrs)
        assert not re.search(r"\son[a-z]+=", r.text), path


def test_a_serial_number_filed_elsewhere_is_refused_without_saying_so(api: Api) -> None:
    world = api.world
    authorise_all(world, [FUEL])
    # the other county's enterprise files it first
    instruments.file_instrument(
        world.platform,
        world.as_("other_enterprise"),
        instrument_raw("SECRET-1", item_code=FUEL, region=COUNTY_B),
    )
    r = api.post("/api/v1/instruments", "enterprise", json=instrument_raw("SECRET-1", item_code=FUEL))
    assert r.status_code == 409 and r.json()["error"]["field"] == "serial_number"
    message = r.json()["error"]["message"]
    assert "SECRET-1" not in message and "已备案" not in message and "already" not in message
    assert "核查" in message and "review" in message
    # within one's own jurisdiction the refusal may say what it is
    r = api.post(
        "/api/v1/instruments",
        "other_enterprise",
        json=instrument_raw("SECRET-1", item_code=FUEL, region=COUNTY_B),
    )
    assert r.status_code == 409 and "已备案" in r.json()["error"]["message"]


def test_a_credit_code_registered_elsewhere_is_refused_without_saying_so(api: Api) -> None:
    code = credit_code(90, OTHER_CITY)
    organisations.add_organisation(
        api.world.platform,
        api.world.as_("other_city"),
        credit_code=code,
        name="邻市企业",
        kind="enterprise",
        region_code=OTHER_CITY,
    )
    body = {"credit_code": code, "name": "同码", "kind": "enterprise", "region_code": "339901"}
    r = api.post("/api/v1/organisations", "city", json=body)
    assert r.status_code == 409 and r.json()["error"]["field"] == "credit_code"
    message = r.json()["error"]["message"]
    assert code not in message and "已登记" not in message and "review" in message


def test_a_500_from_an_unhandled_exception_carries_the_security_headers(api: Api) -> None:
    """Starlette's ServerErrorMiddleware answers an unhandled exception outside every added middleware:
    the 500 must still carry the headers (the app wraps Hardening around the whole stack)."""
    from fastapi.testclient import TestClient

    app = app_module.create_app(api.client.app.state.platform)  # type: ignore[attr-defined]

    @app.get("/boom-for-test", include_in_schema=False)
    def boom() -> None:
        raise RuntimeError("unhandled on purpose")

    with TestClient(app, raise_server_exceptions=False) as client:
        r = client.get("/boom-for-test", headers={"X-Request-ID": "forged"})
    assert r.status_code == 500
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert r.headers["x-request-id"] not in ("", "forged")
