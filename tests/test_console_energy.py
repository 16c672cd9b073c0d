"""The energy pages through the real app, signed in through /login: the supervisor's regional view, a unit's
page, a review run from the page and its report (HTML and PDF); the enterprise's self-check and upload;
an id of another jurisdiction answered as not found."""

from __future__ import annotations

import re
from datetime import date

import pytest

from jiliang.services.energy import readings, reviews
from tests.console_support import Console, form_token
from tests.test_energy_services import TODAY, build_plant, readings_csv


@pytest.fixture
def plant(console: Console, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(type(console.world.platform), "today", lambda self: TODAY)
    monkeypatch.setattr(type(console.world.platform), "local_today", lambda self: TODAY)
    unit_id, _ids = build_plant(console.world)
    return unit_id


def test_supervisor_runs_a_review_and_opens_its_report(console: Console, plant: int) -> None:
    city = console.client_for("city")
    page = city.get("/console/supervision/energy")
    assert page.status_code == 200 and "东城加油站" in page.text and "东城区" in page.text
    unit = city.get(f"/console/supervision/energy/units/{plant}")
    assert unit.status_code == 200 and "P-EM3" in unit.text
    token = form_token(city, f"/console/supervision/energy/units/{plant}")
    answer = city.post(
        f"/console/supervision/energy/units/{plant}/review",
        data={"csrf_token": token},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    report = city.get(answer.headers["location"])
    assert report.status_code == 200
    assert "GB 17167-2006 表4" in report.text and "GB 17167-2006 5.2" in report.text
    assert report.text.count("<h1>") == 1
    pdf = city.get(answer.headers["location"] + "/report.pdf")
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    # without the form token, nothing runs
    refused = city.post(f"/console/supervision/energy/units/{plant}/review", follow_redirects=False)
    assert refused.status_code == 403


def test_another_jurisdiction_reaches_nothing_by_changing_the_id(console: Console, plant: int) -> None:
    r = reviews.run_review(console.world.platform, console.world.as_("city"), plant)
    other = console.client_for("other_city")
    for path in (
        f"/console/supervision/energy/units/{plant}",
        f"/console/supervision/energy/reviews/{r['id']}",
        f"/console/supervision/energy/reviews/{r['id']}/report.pdf",
    ):
        assert other.get(path).status_code == 404, path
    assert "东城加油站" not in other.get("/console/supervision/energy").text
    stranger = console.client_for("other_enterprise")
    assert stranger.get(f"/console/enterprise/energy/reviews/{r['id']}").status_code == 404
    assert "东城加油站" not in stranger.get("/console/enterprise/energy").text


def test_enterprise_self_check_and_upload(console: Console, plant: int) -> None:
    ent = console.client_for("enterprise")
    page = ent.get("/console/enterprise/energy")
    assert page.status_code == 200 and "P-EM1" in page.text
    token = form_token(ent, "/console/enterprise/energy")
    done = ent.post(
        "/console/enterprise/energy/self-check", data={"csrf_token": token}, follow_redirects=False
    )
    assert done.status_code == 303 and "能源计量自查" in ent.get(done.headers["location"]).text
    bad = "计量点编号,能源种类,日期,消耗量,单位\nP-EM1,电力,2026-10-01,-5,kWh\n"
    refused = ent.post(
        "/console/enterprise/energy/readings",
        data={"csrf_token": token, "period_start": "2026-10-01", "period_end": "2026-10-30"},
        files={"file": ("bad.csv", bad.encode(), "text/csv")},
    )
    assert refused.status_code == 422 and re.search(r">2<.*>value<", refused.text, re.S)
    good = readings_csv(date(2026, 10, 1), 30)
    stored = ent.post(
        "/console/enterprise/energy/readings",
        data={"csrf_token": token, "period_start": "2026-10-01", "period_end": "2026-10-30"},
        files={"file": ("oct.csv", good.encode(), "text/csv")},
        follow_redirects=False,
    )
    assert stored.status_code == 303
    page = ent.get(stored.headers["location"]).text
    assert "不平衡（预警）" in page and "主导来源" in page and "<svg" in page
    period = readings.list_periods(console.world.platform, console.world.as_("enterprise"), plant)[0]["id"]
    assert "主导来源" in ent.get(f"/console/enterprise/energy/periods/{period}").text
    city = console.client_for("city")
    assert city.get(f"/console/supervision/energy/periods/{period}").status_code == 200
    pdf = city.get(f"/console/supervision/energy/periods/{period}/carbon.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert (
        console.client_for("other_city")
        .get(f"/console/supervision/energy/periods/{period}/carbon.pdf")
        .status_code
        == 404
    )
    assert (
        console.client_for("other_city").get(f"/console/supervision/energy/periods/{period}").status_code
        == 404
    )
    assert (
        console.client_for("other_enterprise").get(f"/console/enterprise/energy/periods/{period}").status_code
        == 404
    )
