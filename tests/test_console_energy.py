"""The energy pages through the real app, signed in through /login: the supervisor's regional view, a unit's
page, a review run from the page and its report (HTML and PDF); the enterprise's self-check and upload;
an id of another jurisdiction answered as not found."""

from __future__ import annotations

import io
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
    page = ent.get(f"/console/enterprise/energy/periods/{period}").text
    assert "主导来源" in page and "来源：用能单位上传的文件" in page
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


def test_carbon_review_with_grade_cems_and_intensity_html_and_pdf(console: Console, plant: int) -> None:
    from jiliang.services.energy import carbon_review

    world = console.world
    reviews.run_review(world.platform, world.as_("city"), plant)
    p = readings.upload_readings(
        world.platform, world.as_("enterprise"), plant, io.BytesIO(readings_csv(date(2026, 10, 1), 30).encode()),
        "csv", date(2026, 10, 1), date(2026, 10, 30), product="clinker", output=50.0,
    )
    # the CEMS measures 2 % more than the calculation, with 2.5 % standard uncertainty: consistent
    done = carbon_review.report_cems(world.platform, world.as_("enterprise"), p["id"], p["carbon"]["total"] * 1.02, 2.5, "CEMS-1")
    m = done["carbon"]["cems"]
    assert m["difference"] == pytest.approx(0.02 * p["carbon"]["total"]) and m["consistent"]
    city = console.client_for("city")
    page = city.get(f"/console/supervision/energy/units/{plant}/carbon-review")
    assert page.status_code == 200 and page.text.count("<h1>") == 1
    data = carbon_review.carbon_review(world.platform, world.as_("city"), plant)
    assert f">{data['grade']['grade']}<" in page.text and "CEMS-1" in page.text and "可比熟料综合能耗" in page.text
    pdf = city.get(f"/console/supervision/energy/units/{plant}/carbon-review.pdf")
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    ent = console.client_for("enterprise")
    assert ent.get("/console/enterprise/energy/carbon-review").status_code == 200
    other = console.client_for("other_city")
    assert other.get(f"/console/supervision/energy/units/{plant}/carbon-review").status_code == 404
    assert other.get(f"/console/supervision/energy/units/{plant}/carbon-review.pdf").status_code == 404


def test_the_metering_tree_is_uploaded_from_the_unit_page(console: Console, plant: int) -> None:
    from jiliang.services.energy import units
    from tests.test_energy_services import tree_csv

    unit = units.get_unit(console.world.platform, console.world.as_("city"), plant)
    ids = {p["serial_number"]: p["instrument_id"] for p in unit["points"]}
    ent = console.client_for("enterprise")
    token = form_token(ent, "/console/enterprise/energy")
    bad = tree_csv(ids) + "\n计量点,P-X,,,ws1,电力,,,999999,kWh\n"
    refused = ent.post(
        "/console/enterprise/energy/topology",
        data={"csrf_token": token},
        files={"file": ("tree.csv", bad.encode(), "text/csv")},
    )
    assert refused.status_code == 422 and ">instrument_id<" in refused.text
    done = ent.post(
        "/console/enterprise/energy/topology",
        data={"csrf_token": token},
        files={"file": ("tree.csv", tree_csv(ids).encode(), "text/csv")},
        follow_redirects=False,
    )
    assert done.status_code == 303 and "?tree=" in done.headers["location"]
    assert "计量网络已保存为新版本" in ent.get(done.headers["location"]).text
    city = console.client_for("city")
    ctoken = form_token(city, f"/console/supervision/energy/units/{plant}")
    stored = city.post(
        f"/console/supervision/energy/units/{plant}/topology",
        data={"csrf_token": ctoken},
        files={"file": ("tree.csv", tree_csv(ids).encode(), "text/csv")},
        follow_redirects=False,
    )
    assert stored.status_code == 303
    other = console.client_for("other_city")
    otoken = form_token(other, "/console/supervision/energy")
    answer = other.post(
        f"/console/supervision/energy/units/{plant}/topology",
        data={"csrf_token": otoken},
        files={"file": ("tree.csv", tree_csv(ids).encode(), "text/csv")},
    )
    assert answer.status_code == 404
    assert ent.post("/console/enterprise/energy/topology", files={"file": ("t.csv", b"x")}).status_code == 403
