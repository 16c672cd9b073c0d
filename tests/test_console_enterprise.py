"""The enterprise's console pages, signed in through /login: filing (one, and many with the row report),
my instruments, due next month, certificates, places and bookings; another enterprise's ids reach nothing."""

from __future__ import annotations

import re

from jiliang.services import instruments, places
from tests.console_support import Console, form_token
from tests.factories import COUNTY_A, COUNTY_B, World, authorise_all, instrument_raw

FUEL = "09.01"
HEADER = "器具名称,目录项代码,型号规格,出厂编号,制造单位,行政区划代码,用途\n"


def test_the_filing_form_offers_chinese_choices_and_files_through_the_domain(console: Console) -> None:
    client = console.client_for("enterprise")
    page = client.get("/console/enterprise/instruments/new")
    assert page.status_code == 200
    html = page.text
    assert html.count("<h1>") == 1
    assert '<option value="trade_settlement">贸易结算</option>' in html
    assert '<option value="09.01">09.01 燃油加油机</option>' in html
    assert '<label for="serial_number">' in html
    token = form_token(client, "/console/enterprise/instruments/new")
    data = {
        "csrf_token": token,
        "name": "1 号加油机",
        "item_code": FUEL,
        "use": "trade_settlement",
        "model": "M-1",
        "serial_number": "F-001",
        "manufacturer": "示例制造",
        "region_code": COUNTY_A,
        "filed_on": "2026-06-01",
    }
    made = client.post("/console/enterprise/instruments/new", data=data)
    assert made.status_code == 201 and "已备案：1 号加油机" in made.text
    again = client.post("/console/enterprise/instruments/new", data=data)  # the same serial number
    assert again.status_code == 422 and 'id="serial_number"' in again.text
    assert re.search(r'id="serial_number"[^>]*aria-invalid="true"', again.text)
    missing = client.post(
        "/console/enterprise/instruments/new", data={**data, "use": "", "serial_number": "F-2"}
    )
    assert missing.status_code == 422 and "用途" in missing.text
    mine = client.get("/console/enterprise/instruments").text
    assert "1 号加油机" in mine and "✘ 未检定" in mine
    overdue = client.get("/console/enterprise/instruments?overdue=true").text  # never verified: overdue
    assert (
        "1 号加油机" in overdue
        and 'href="/console/enterprise/instruments?overdue=true"' in client.get("/console/enterprise").text
    )


def test_a_bulk_upload_with_a_bad_row_stores_nothing_then_a_good_one_files_all(console: Console) -> None:
    client = console.client_for("enterprise")
    token = form_token(client, "/console/enterprise/upload")
    bad = HEADER + f"甲,{FUEL},M,U-1,厂,{COUNTY_A},贸易结算\n乙,99.99,M,U-2,厂,{COUNTY_A},贸易结算\n"
    r = client.post(
        "/console/enterprise/upload",
        data={"csrf_token": token},
        files={"file": ("a.csv", bad.encode(), "text/csv")},
    )
    assert r.status_code == 422 and 'id="problems"' in r.text
    assert '<td data-label="行">3</td><td data-label="字段">item_code</td>' in r.text
    assert "甲" not in client.get("/console/enterprise/instruments").text
    good = HEADER + f"甲,{FUEL},M,U-1,厂,{COUNTY_A},贸易结算\n乙,{FUEL},M,U-2,厂,{COUNTY_A},贸易结算\n"
    ok = client.post(
        "/console/enterprise/upload",
        data={"csrf_token": token},
        files={"file": ("a.csv", good.encode(), "text/csv")},
    )
    assert ok.status_code == 200 and "已备案 2 台器具" in ok.text
    template = client.get("/console/enterprise/upload/template.csv")
    assert template.content.decode("utf-8-sig").startswith("器具名称,目录项代码")


def test_a_form_without_its_csrf_token_is_refused(console: Console) -> None:
    client = console.client_for("enterprise")
    r = client.post("/console/enterprise/instruments/new", data={"name": "x"})
    assert r.status_code == 403


def _theirs(world: World) -> int:
    return instruments.file_instrument(
        world.platform, world.as_("other_enterprise"), instrument_raw("T-1", item_code=FUEL, region=COUNTY_B)
    ).id


def test_another_enterprises_instrument_id_in_the_url_is_not_found(console: Console) -> None:
    theirs = _theirs(console.world)
    client = console.client_for("enterprise")
    assert client.get(f"/console/enterprise/instruments/{theirs}").status_code == 404
    assert client.get(f"/console/enterprise/bookings?instrument_id={theirs}").status_code == 404
    token = form_token(client, "/console/enterprise")
    r = client.post(
        "/console/enterprise/bookings",
        data={
            "csrf_token": token,
            "instrument_id": str(theirs),
            "institution_id": "1",
            "preferred_on": "2026-07-01",
        },
    )
    assert r.status_code == 404
    r = client.post(
        f"/console/enterprise/instruments/{theirs}/place", data={"csrf_token": token, "place_code": ""}
    )
    assert r.status_code == 404
    # and their owner sees it
    assert (
        console.client_for("other_enterprise").get(f"/console/enterprise/instruments/{theirs}").status_code
        == 200
    )


def test_other_roles_do_not_get_the_enterprise_pages(console: Console) -> None:
    assert console.client_for("city").get("/console/enterprise").status_code == 403
    anonymous = console.client().get("/console/enterprise", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login?next=")


def test_booking_a_verification_from_the_console(console: Console) -> None:
    world = console.world
    authorise_all(world, [FUEL])
    inst = instruments.file_instrument(
        world.platform, world.as_("enterprise"), instrument_raw("K-1", item_code=FUEL)
    )
    client = console.client_for("enterprise")
    page = client.get(f"/console/enterprise/bookings?instrument_id={inst.id}")
    assert "演示市计量检定测试院" in page.text
    token = form_token(client, "/console/enterprise/bookings")
    r = client.post(
        "/console/enterprise/bookings",
        data={
            "csrf_token": token,
            "instrument_id": str(inst.id),
            "institution_id": str(world.institution_id),
            "preferred_on": "2026-06-20",
            "note": "上午",
        },
        follow_redirects=True,
    )
    assert r.status_code == 200 and "预约已提交" in r.text and "待确认" in r.text
    bad = client.post(
        "/console/enterprise/bookings",
        data={
            "csrf_token": token,
            "instrument_id": str(inst.id),
            "institution_id": str(world.institution_id),
            "preferred_on": "2020-01-01",
        },
    )
    assert bad.status_code == 422 and "form-error" in bad.text


def test_home_due_certificates_and_places_render(console: Console) -> None:
    world = console.world
    client = console.client_for("enterprise")
    home = client.get("/console/enterprise")
    assert home.status_code == 200 and "东城加油站" in home.text
    assert client.get("/console/enterprise/due").status_code == 200
    assert client.get("/console/enterprise/certificates").status_code == 200
    token = form_token(client, "/console/enterprise/places")
    r = client.post(
        "/console/enterprise/places",
        data={"csrf_token": token, "name": "人民路站", "kind": "fuel_station", "region_code": COUNTY_A},
        follow_redirects=True,
    )
    assert r.status_code == 200 and "人民路站" in r.text and "/public/places/339901-0001/qr" in r.text
    assert places.list_places(world.platform, world.as_("enterprise")).total == 1


def test_phone_width_markup_has_labels_on_every_cell(console: Console) -> None:
    client = console.client_for("enterprise")
    instruments.file_instrument(
        console.world.platform, console.world.as_("enterprise"), instrument_raw("P-1", item_code=FUEL)
    )
    html = client.get("/console/enterprise/instruments").text
    cells = re.findall(r"<td( data-label=\"[^\"]+\")?", html)
    assert cells and all(c for c in cells)
    assert "style=" not in html and "<script" not in html


def test_every_enterprise_page_renders_in_english_too(console: Console) -> None:
    inst = instruments.file_instrument(
        console.world.platform, console.world.as_("enterprise"), instrument_raw("E-1", item_code=FUEL)
    )
    client = console.client_for("enterprise")
    for path in (
        "",
        "/instruments",
        f"/instruments/{inst.id}",
        "/instruments/new",
        "/upload",
        "/due",
        "/certificates",
        "/bookings",
        f"/bookings?instrument_id={inst.id}",
        "/places",
    ):
        page = client.get(f"/console/enterprise{path}", params={"lang": "en"})
        assert page.status_code == 200, path
        assert page.text.count("<h1>") == 1 and 'lang="en"' in page.text, path
    assert "trade settlement" in client.get("/console/enterprise/instruments/new?lang=en").text


def test_the_institution_answers_a_booking_from_its_queue(console: Console) -> None:
    world = console.world
    authorise_all(world, [FUEL])
    inst = instruments.file_instrument(
        world.platform, world.as_("enterprise"), instrument_raw("K-2", item_code=FUEL)
    )
    owner = console.client_for("enterprise")
    token = form_token(owner, "/console/enterprise/bookings")
    booked = owner.post(
        "/console/enterprise/bookings",
        data={
            "csrf_token": token,
            "instrument_id": str(inst.id),
            "institution_id": str(world.institution_id),
            "preferred_on": "2026-06-20",
            "note": "上午",
        },
    )
    assert booked.status_code in (200, 303)
    lab = console.client_for("institution")
    queue = lab.get("/console/institution/queue")
    assert (
        queue.status_code == 200
        and "预约检定" in queue.text
        and "K-2" in queue.text
        and "待答复" in queue.text
    )
    booking_id = int(re.search(r"/console/institution/bookings/(\d+)", queue.text).group(1))  # type: ignore[union-attr]
    token = form_token(lab, "/console/institution/queue")
    answered = lab.post(
        f"/console/institution/bookings/{booking_id}",
        data={"csrf_token": token, "decision": "accept", "reply": "6月20日上午"},
        follow_redirects=True,
    )
    assert answered.status_code == 200 and "已接受" in answered.text and "6月20日上午" in answered.text
    again = lab.post(
        f"/console/institution/bookings/{booking_id}", data={"csrf_token": token, "decision": "decline"}
    )
    assert again.status_code == 409 or "已答复" in again.text  # answered once only
    assert (
        lab.post(
            "/console/institution/bookings/999999", data={"csrf_token": token, "decision": "accept"}
        ).status_code
        == 404
    )
