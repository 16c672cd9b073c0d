"""The supervisor's console pages, signed in through /login: every page renders, numbers link to their
lists, the 督办 export carries its columns, and an id of another city's object is a 404 on every page."""

from __future__ import annotations

import csv
import io
import re

import pytest

from jiliang.domain.access import SYSTEM
from jiliang.services import certificates, standards
from jiliang.services.supervision import search
from tests.console_support import Console, console, form_token  # noqa: F401 (fixtures)
from tests.factories import World
from tests.test_supervision import city  # noqa: F401 (fixture)

BASE = "/console/supervision"


@pytest.fixture
def ids(city: World) -> dict[str, int]:  # noqa: F811
    """The ids of one object of each kind in 演示市 (city 339900)."""
    p, sup = city.platform, city.as_("city")
    inst = search.search_instruments(p, sup, {"q": "SN-D004"}).items[0]
    record = search.search_records(p, sup, {"q": "JD-2026-0004"}).items[0]
    cert = certificates.issue(p, city.as_("institution"), record.id)
    std = standards.add_standard(
        p,
        SYSTEM,
        {
            "name": "燃油加油机检定装置",
            "kind": "social_public",
            "holder_id": city.institution_id,
            "region_code": "339900",
            "quantity": "体积",
            "certificate_no": "[2024]浙量标演证字第001号",
            "certificate_valid_from": "2024-01-01",
            "certificate_valid_until": "2026-08-01",
            "item_codes": ["09.01"],
        },
    )
    return {
        "standards": std.id,
        "instruments": inst.id,
        "organisations": inst.owner_id,
        "verifications": record.id,
        "certificates": cert.id,
    }


def test_every_page_renders_with_one_h1_and_no_ids(console: Console, ids: dict[str, int]) -> None:  # noqa: F811
    client = console.client_for("city")
    pages = [
        BASE,
        f"{BASE}?on=2026-03-01",
        f"{BASE}?year=2025",
        f"{BASE}/alerts",
        f"{BASE}/instruments",
        f"{BASE}/instruments?state=overdue",
        f"{BASE}/organisations",
        f"{BASE}/standards",
        f"{BASE}/verifications",
        f"{BASE}/certificates",
        f"{BASE}/followups",
        *[f"{BASE}/{kind}/{i}" for kind, i in ids.items()],
    ]
    for path in pages:
        page = client.get(path)
        assert page.status_code == 200, (path, page.text[:500])
        assert page.text.count("<h1") == 1, path
        assert "trade_settlement" not in page.text and ">pass<" not in page.text, path
        assert 'style="' not in page.text and "<script>" not in page.text, path
    english = client.get(f"{BASE}/instruments?lang=en")
    assert "Serial number" in english.text


def test_overdue_card_links_to_the_overdue_list_and_its_export(console: Console, city: World) -> None:  # noqa: F811
    client = console.client_for("city")
    board = client.get(BASE).text
    card = re.search(r'id="card-overdue">.*?<a class="card-value" href="([^"]+)">(\d+)', board, re.S)
    assert card is not None
    href, count = card.group(1).replace("&amp;", "&"), int(card.group(2))
    listing = client.get(href)
    assert "state=overdue" in href and f"共 {count} 条" in listing.text
    assert "SN-A001" in listing.text and "SN-B002" in listing.text
    export = re.search(r'<a class="export" href="([^"]+format=csv[^"]*)"', listing.text)
    assert export is not None
    response = client.get(export.group(1).replace("&amp;", "&"))
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][-3:] == ["上次检定结论", "到期日期", "超期天数"] and len(rows) == count + 1
    assert "联系人及电话" in rows[0] and "使用地点" in rows[0]


def test_every_list_exports_its_rows(console: Console, ids: dict[str, int]) -> None:  # noqa: F811
    client = console.client_for("city")
    for kind, expected in (
        ("organisations", "东城加油站"),
        ("standards", "燃油加油机检定装置"),
        ("verifications", "JD-2026-0004"),
        ("certificates", "东城加油站"),
    ):
        listing = client.get(f"{BASE}/{kind}").text
        assert expected in listing and f"{BASE}/{kind}/export" in listing, kind
        response = client.get(f"{BASE}/{kind}/export")
        text = response.content.decode("utf-8-sig")
        assert response.status_code == 200 and expected in text, kind
        cells = {c for line in text.splitlines() for c in line.split(",")}
        assert "339900" not in cells and "pass" not in cells, kind  # names and labels, not codes
    other = console.client_for("other_city").get(f"{BASE}/verifications/export")
    assert "JD-2026-0004" not in other.content.decode("utf-8-sig")


def test_search_box_finds_serial_owner_and_credit_code(console: Console, city: World) -> None:  # noqa: F811
    client = console.client_for("city")
    assert "SN-C003" in client.get(f"{BASE}/instruments", params={"q": "SN-C003"}).text
    by_owner = client.get(f"{BASE}/instruments", params={"q": "西城医院"}).text
    assert "SN-E005" in by_owner and "SN-A001" not in by_owner


def test_mark_for_follow_up_from_the_overdue_list(console: Console, city: World) -> None:  # noqa: F811
    client = console.client_for("city")
    listing = client.get(f"{BASE}/instruments?state=overdue").text
    chosen = re.findall(r'name="instrument_ids" value="(\d+)"', listing)
    assert len(chosen) == 2
    token = form_token(client, f"{BASE}/instruments?state=overdue")
    answer = client.post(
        f"{BASE}/followups",
        data={"csrf_token": token, "instrument_ids": chosen, "note": "月底前送检", "remind": "1"},
        follow_redirects=True,
    )
    assert answer.status_code == 200 and "已督办 2 台" in answer.text
    assert "东城加油站" in answer.text  # no webhook: named, to be called
    follow = client.get(f"{BASE}/followups?state=open").text
    assert "SN-A001" in follow and "尚未检定" in follow
    # without the form token the post is refused
    assert client.post(f"{BASE}/followups", data={"instrument_ids": chosen}).status_code == 403


def test_close_and_reopen_a_follow_up_in_the_console(console: Console, city: World) -> None:  # noqa: F811
    from jiliang.services.supervision import followup

    p, sup = city.platform, city.as_("city")
    overdue = [r.id for r in search.search_instruments(p, sup, {"state": "overdue"}).items]
    followup.mark(p, sup, overdue, remind=False)
    fid = followup.list_follow_ups(p, sup).items[0].id
    client = console.client_for("city")
    listing = client.get(f"{BASE}/followups").text
    assert f'href="{BASE}/followups/{fid}"' in listing and "未办结" in listing
    page = f"{BASE}/followups/{fid}"
    token = form_token(client, page)
    refused = client.post(f"{page}/close", data={"csrf_token": token, "reason": ""})
    assert refused.status_code == 422 and "须说明原因" in refused.text
    done = client.post(
        f"{page}/close", data={"csrf_token": token, "reason": "已迁出本辖区"}, follow_redirects=True
    )
    assert done.status_code == 200 and "已办结。" in done.text and "已迁出本辖区" in done.text
    assert done.text.count("<h1") == 1 and "重新督办" in done.text
    closed = client.get(f"{BASE}/followups?state=closed").text
    assert "已手工办结：已迁出本辖区" in closed
    again = client.post(
        f"{page}/reopen", data={"csrf_token": token, "reason": "复查"}, follow_redirects=True
    )
    assert "已重新督办。" in again.text
    assert client.post(f"{page}/close", data={"reason": "x"}).status_code == 403  # no form token
    other = console.client_for("other_city")
    assert other.get(page).status_code == 404
    other_token = form_token(other, f"{BASE}/followups")
    assert other.post(f"{page}/close", data={"csrf_token": other_token, "reason": "x"}).status_code == 404


def test_another_citys_ids_are_not_found_on_every_page(console: Console, ids: dict[str, int]) -> None:  # noqa: F811
    other = console.client_for("other_city")
    for kind, i in ids.items():
        page = other.get(f"{BASE}/{kind}/{i}")
        assert page.status_code == 404, kind
        assert "SN-D004" not in page.text and "东城加油站" not in page.text
    token = form_token(other, f"{BASE}/followups")
    answer = other.post(
        f"{BASE}/followups", data={"csrf_token": token, "instrument_ids": [ids["instruments"]]}
    )
    assert answer.status_code == 404
    assert other.get(f"{BASE}?region=339900").status_code == 404
    # and the lists show none of the city's rows
    assert "共 0 条" in other.get(f"{BASE}/instruments?q=SN-D004").text


def test_signed_out_and_other_roles(console: Console, ids: dict[str, int]) -> None:  # noqa: F811
    anonymous = console.client()
    answer = anonymous.get(BASE, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login?next=")
    enterprise = console.client_for("enterprise")
    assert enterprise.get(BASE).status_code in (403, 404)


def test_a_bounded_count_says_at_least_and_still_pages(
    console: Console,  # noqa: F811
    city: World,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The instrument and record lists count only up to a limit past the page, and say "N+" beyond it."""
    p, sup = city.platform, city.as_("city")
    exact = search.search_instruments(p, sup, {}, limit=2)
    assert exact.total >= 4 and not exact.total_at_least
    bounded = search.search_instruments(p, sup, {}, limit=2, count_limit=1)
    assert (bounded.total, bounded.total_at_least) == (1, True)
    assert [r.id for r in bounded.items] == [r.id for r in exact.items]
    deeper = search.search_instruments(p, sup, {}, offset=2, limit=2, count_limit=1)
    assert (deeper.total, deeper.total_at_least) == (3, True)  # counted up to offset + count_limit
    whole = search.search_instruments(p, sup, {}, limit=2, count_limit=exact.total)
    assert (whole.total, whole.total_at_least) == (exact.total, False)
    records = search.search_records(p, sup, {}, limit=1, count_limit=1)
    assert records.total_at_least == (search.search_records(p, sup, {}, limit=1).total > 1)

    from jiliang.web import supervision as pages

    monkeypatch.setattr(pages, "COUNT_LIMIT", 1)
    page = console.client_for("city").get(f"{BASE}/instruments").text
    assert "共 1+ 条" in page


def test_a_supervisor_reads_the_data_behind_a_record(console: Console, ids: dict[str, int]) -> None:  # noqa: F811
    """Issue 10: the test points, MPE, U, decision rule, conclusion and the three persons, read-only;
    the record list filters by "with data"; another city's supervisor reaches nothing."""
    client = console.client_for("city")
    rid = ids["verifications"]
    detail = client.get(f"{BASE}/verifications/{rid}").text
    assert f'href="{BASE}/verifications/{rid}/data"' in detail
    page = client.get(f"{BASE}/verifications/{rid}/data")
    assert page.status_code == 200 and page.text.count("<h1") == 1
    text = page.text
    for expected in ("20 L", "20.02", "0.004 L", "±0.30", "简单接受", "张检定", "JD-330002", "王批准", "合格"):
        assert expected in text, expected
    assert 'name="csrf_token"' not in text.split("</header>")[-1]  # no sign-off or issue form here
    assert "/console/institution/certificates" not in text
    with_data = client.get(f"{BASE}/verifications", params={"with_data": "1"}).text
    assert "JD-2026-0004" in with_data and "JD-2025-0001" not in with_data
    without = client.get(f"{BASE}/verifications", params={"with_data": "0"}).text
    assert "JD-2025-0001" in without and "JD-2026-0004" not in without
    bare = search.search_records(console.world.platform, console.world.as_("city"), {"q": "JD-2025-0001"})
    bare_id = bare.items[0].id
    assert "无（导入或仅录结论的记录）" in client.get(f"{BASE}/verifications/{bare_id}").text
    assert client.get(f"{BASE}/verifications/{bare_id}/data").status_code == 404
    assert client.get(f"{BASE}/verifications", params={"with_data": "x"}).status_code in (400, 422)
    other = console.client_for("other_city")
    assert other.get(f"{BASE}/verifications/{rid}/data").status_code == 404
