"""The warning pages through the real app, signed in through /login: the list with its filters, a
warning's detail with the evidence table, the workflow worked to closure through the CSRF forms, a bad
step shown on the page naming why, the risk list and its CSV; another region's warning id answered 404
on GET and POST."""

from __future__ import annotations

import re

from tests.console_support import Console, form_token
from tests.test_warning_workflow import _seal_warning


def test_a_supervisor_works_a_warning_to_closure_through_the_pages(console: Console) -> None:
    wid = _seal_warning(console.world, "FD-CW1", "FDCW1")
    city = console.client_for("city")
    listing = city.get("/console/warnings?severity=critical&state=new")
    assert listing.status_code == 200 and f"/console/warnings/{wid}" in listing.text
    assert listing.text.count("<h1>") == 1 and "预警处置" in listing.text
    assert f"/console/warnings/{wid}" not in city.get("/console/warnings?state=closed").text
    page = city.get(f"/console/warnings/{wid}")
    assert page.status_code == 200 and 'id="evidence-table"' in page.text and "触发预警的读数" in page.text
    assert "<script>" not in page.text  # CSP: data as JSON, code from a static file
    uid = console.world.as_("city").user_id
    path = f"/console/warnings/{wid}/step"

    def post(**data: str) -> object:
        token = form_token(city, f"/console/warnings/{wid}")
        return city.post(path, data={"csrf_token": token, **data}, follow_redirects=False)

    refused = post(action="dispose", disposal="sealed")
    assert refused.status_code == 422 and "不能" in refused.text  # type: ignore[attr-defined]
    assert city.post(path, data={"action": "assign", "assignee_id": str(uid)}).status_code == 403  # no token
    assert post(action="assign", assignee_id=str(uid)).status_code == 303  # type: ignore[attr-defined]
    mine = city.get("/console/warnings/mine")
    assert f"/console/warnings/{wid}" in mine.text
    missing = post(action="inspect", confirmed="true")
    assert missing.status_code == 422 and 'aria-invalid="true"' in missing.text  # type: ignore[attr-defined]
    assert (
        post(action="inspect", findings="铅封破坏", confirmed="true", measured_error="-0.7").status_code
        == 303
    )  # type: ignore[attr-defined]
    assert post(action="dispose", disposal="replaced", note="更换新表").status_code == 303  # type: ignore[attr-defined]
    assert post(action="close", note="办结").status_code == 303  # type: ignore[attr-defined]
    done = city.get(f"/console/warnings/{wid}?lang=en")
    assert re.search(r'id="warning-state">closed<', done.text) and "out of service" in done.text
    risk = city.get("/console/warnings/risk")
    assert risk.status_code == 200 and 'id="risk"' in risk.text
    csv = city.get("/console/warnings/risk/export?lang=zh")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert csv.content.decode("utf-8-sig").startswith("区划代码,")


def test_another_regions_warning_is_not_found_by_changing_the_id(console: Console) -> None:
    wid = _seal_warning(console.world, "FD-CW2", "FDCW2")
    other = console.client_for("other_city")
    assert other.get(f"/console/warnings/{wid}").status_code == 404
    token = form_token(other, "/console/warnings")
    answer = other.post(
        f"/console/warnings/{wid}/step",
        data={
            "csrf_token": token,
            "action": "assign",
            "assignee_id": str(console.world.as_("other_city").user_id),
        },
        follow_redirects=False,
    )
    assert answer.status_code == 404
    assert f"/console/warnings/{wid}" not in other.get("/console/warnings").text
    assert console.client_for("enterprise").get(f"/console/warnings/{wid}").status_code in (403, 404)
