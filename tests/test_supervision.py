"""The supervisor's services: search and lists, the 督办 list and export, follow-ups, object history.

Runs on SQLite and (with JILIANG_TEST_POSTGRES_URL) PostgreSQL through the ``platform`` fixture.
"""

from __future__ import annotations

import csv
import io
from datetime import date

import httpx
import pytest
from sqlalchemy import select

from jiliang.domain.access import SYSTEM
from jiliang.errors import Conflict, InvalidInput, NotAuthorised, NotFound
from jiliang.legal.coverage import Indicator
from jiliang.services import certificates, indicators, instruments, organisations, reminders
from jiliang.services.supervision import dashboard, followup, history, search
from jiliang.services.transfer import export
from jiliang.store.models import OutboxMessage
from tests.factories import COUNTY_A, COUNTY_B, World, authorise_all, credit_code
from tests.signed_support import signed_record
from tests.test_registry import FUEL, file, verify


@pytest.fixture
def city(world: World) -> World:
    """Five fuel dispensers: two overdue, one due within 30 days, one covered, one in the other county."""
    authorise_all(world, [FUEL])
    p = world.platform
    organisations.update_organisation(
        p,
        world.as_("city"),
        world.enterprise_id,
        {"contact": "王经理 0571-8888 0001", "address": "东城路 1 号"},
    )
    a = file(world, "SN-A001", location="一号加油岛")
    b = file(world, "SN-B002", location="二号加油岛")
    c = file(world, "SN-C003")
    d = file(world, "SN-D004")
    e = file(world, "SN-E005", who="other_enterprise", region=COUNTY_B)
    verify(world, a.id, "2025-12-01", doc="JD-2025-0001")  # due 2026-06-01: overdue 14 days on 06-15
    verify(world, c.id, "2026-01-01", doc="JD-2026-0003")  # due 2026-07-01: due within 30 days
    signed_record(world, d.id, "2026-06-01", doc="JD-2026-0004")  # due 2026-12-01: covered; with data
    verify(world, e.id, "2026-06-01", doc="JD-2026-0005")
    del b  # never verified: overdue since it was filed (2025-01-10)
    return world


def serials(page: search.Page[search.InstrumentRow]) -> list[str]:
    return [r.serial_number for r in page.items]


def test_search_finds_serial_owner_name_credit_code_and_record_number(city: World) -> None:
    p, sup = city.platform, city.as_("city")
    assert serials(search.search_instruments(p, sup, {"q": "SN-C003"})) == ["SN-C003"]
    assert serials(search.search_instruments(p, sup, {"q": "东城加油"})) == [
        "SN-A001",
        "SN-B002",
        "SN-C003",
        "SN-D004",
    ]
    assert serials(search.search_instruments(p, sup, {"q": credit_code(2, COUNTY_B)})) == ["SN-E005"]
    assert serials(search.search_instruments(p, sup, {"q": "JD-2026-0004"})) == ["SN-D004"]
    assert serials(search.search_instruments(p, sup, {"certificate_no": "JD-2025-0001"})) == ["SN-A001"]
    # % and _ are searched as themselves, not as wildcards
    assert search.search_instruments(p, sup, {"q": "%"}).total == 0
    # another city's supervisor finds none of them
    assert search.search_instruments(p, city.as_("other_city"), {"q": "SN-C003"}).total == 0
    # a county supervisor finds only its county
    assert serials(search.search_instruments(p, city.as_("county_b"), {"q": "SN"})) == ["SN-E005"]


def test_rows_carry_names_not_ids(city: World) -> None:
    row = search.search_instruments(city.platform, city.as_("city"), {"q": "SN-A001"}).items[0]
    assert (row.owner_name, row.region_name, row.item_name) == ("东城加油站", "东城区", "燃油加油机")
    assert row.owner_contact == "王经理 0571-8888 0001" and row.location == "一号加油岛"


def test_overdue_list_is_the_indicator_behind_the_card(city: World) -> None:
    p, sup = city.platform, city.as_("city")
    overdue = search.search_instruments(p, sup, {"state": "overdue"})
    assert serials(overdue) == ["SN-B002", "SN-A001"]  # oldest due first; never verified has no due date
    by_serial = {r.serial_number: r for r in overdue.items}
    assert by_serial["SN-A001"].due_on == date(2026, 6, 1) and by_serial["SN-A001"].days_overdue == 14
    assert (
        by_serial["SN-B002"].due_on is None
        and by_serial["SN-B002"].days_overdue == (date(2026, 6, 15) - date(2025, 1, 10)).days
    )
    report = indicators.report(p, sup, by_item=False)
    card = report.get(Indicator.OVERDUE, "339900")
    assert card is not None and card.numerator == overdue.total == 2
    assert serials(search.search_instruments(p, sup, {"state": "due", "within_days": 30})) == ["SN-C003"]
    board = dashboard.dashboard(p, sup)
    assert (board.overdue, board.due_soon) == (2, 1)
    county = next(n for n in board.tree.children if n.code == COUNTY_A)
    assert county.overdue == 2 and county.coverage is not None and county.coverage.denominator == 4


def test_overdue_on_a_past_date_reads_the_record_in_force(city: World) -> None:
    p, sup = city.platform, city.as_("city")
    on = date(2026, 3, 1)  # before SN-D004's and SN-E005's records: neither was verified then
    past = search.search_instruments(p, sup, {"state": "overdue", "on": on.isoformat()})
    card = indicators.report(p, sup, on=on, by_item=False).get(Indicator.OVERDUE, "339900")
    assert card is not None and past.total == card.numerator
    assert set(serials(past)) == {"SN-B002", "SN-D004", "SN-E005"}
    assert dashboard.dashboard(p, sup, on=on).overdue == card.numerator


def test_lists_are_paged_sorted_and_bounded(city: World) -> None:
    p, sup = city.platform, city.as_("city")
    page = search.search_instruments(p, sup, {}, sort="-serial_number", offset=1, limit=2)
    assert page.total == 5 and serials(page) == ["SN-D004", "SN-C003"]
    with pytest.raises(InvalidInput) as err:
        search.search_instruments(p, sup, {}, limit=p.settings.page_size_max + 1)
    assert err.value.field == "limit"
    with pytest.raises(InvalidInput) as err:
        search.search_instruments(p, sup, {}, sort="password")
    assert err.value.field == "sort"
    with pytest.raises(InvalidInput) as err:
        search.search_instruments(p, sup, {"owner_password": "x"})
    assert err.value.field == "owner_password"


def test_other_lists_search_and_scope(city: World) -> None:
    p, sup = city.platform, city.as_("city")
    orgs = search.search_organisations(p, sup, {"q": "加油"})
    assert [(o.name, o.instruments) for o in orgs.items] == [("东城加油站", 4)]
    assert search.search_organisations(p, city.as_("other_city"), {"q": "加油"}).total == 0
    records = search.search_records(p, sup, {"q": "SN-A001"})
    assert [(r.document_no, r.institution_name, r.owner_name) for r in records.items] == [
        ("JD-2025-0001", "演示市计量检定测试院", "东城加油站")
    ]
    assert search.search_records(p, city.as_("county_b"), {}).total == 1
    with pytest.raises(NotFound):
        search.instrument_row(p, city.as_("other_city"), records.items[0].instrument_id)
    with pytest.raises(NotFound):
        search.record_row(p, city.as_("other_city"), records.items[0].id)


def test_follow_up_export_has_the_columns_a_follow_up_list_needs(city: World) -> None:
    p, sup = city.platform, city.as_("city")
    sink = io.BytesIO()
    n = export.export_follow_up_list(p, sup, {"state": "overdue"}, sink, fmt="csv")
    rows = list(csv.reader(io.StringIO(sink.getvalue().decode("utf-8-sig"))))
    assert n == 2 and rows[0] == [
        "器具名称",
        "出厂编号",
        "目录项",
        "型号规格",
        "使用单位",
        "统一社会信用代码",
        "联系人及电话",
        "单位地址",
        "使用地点",
        "行政区划",
        "上次检定日期",
        "上次检定结论",
        "到期日期",
        "超期天数",
    ]
    a = next(r for r in rows if r[1] == "SN-A001")
    assert a[2] == "燃油加油机" and a[4] == "东城加油站" and a[6] == "王经理 0571-8888 0001"
    assert a[8:] == ["一号加油岛", "东城区", "2025-12-01", "合格", "2026-06-01", "14"]
    xlsx = io.BytesIO()
    assert export.export_follow_up_list(p, sup, {"state": "overdue"}, xlsx, fmt="xlsx") == 2
    from openpyxl import load_workbook  # type: ignore[import-untyped]

    sheet = load_workbook(io.BytesIO(xlsx.getvalue())).active
    assert [c.value for c in next(sheet.iter_rows(max_row=1))][-2:] == ["到期日期", "超期天数"]


def test_follow_up_reminds_the_owner_and_sees_the_verification_since(city: World) -> None:
    p, sup = city.platform, city.as_("city")
    reminders.add_webhook(p, city.as_("enterprise"), url="https://erp.example/hooks")
    overdue = {r.serial_number: r.id for r in search.search_instruments(p, sup, {"state": "overdue"}).items}
    done = followup.mark(p, sup, list(overdue.values()), note="请于月底前送检")
    assert len(done.opened) == 2 and done.reminders_queued == 2 and done.owners_without_webhook == []
    again = followup.mark(p, sup, [overdue["SN-A001"]])  # the same day: not opened twice
    assert again.opened == [] and again.already_open == [overdue["SN-A001"]]
    with p.reading() as s:
        topics = [m.topic for m in s.scalars(select(OutboxMessage))]
    assert topics == [followup.TOPIC_FOLLOW_UP] * 2
    received: list[httpx.Request] = []
    client = httpx.Client(transport=httpx.MockTransport(lambda r: received.append(r) or httpx.Response(204)))
    assert reminders.deliver_pending(p, client).delivered == 2
    assert "超期未检" in received[0].content.decode()

    verify(city, overdue["SN-A001"], "2026-06-15", doc="JD-2026-0101")
    verified = followup.list_follow_ups(p, sup, state="verified")
    assert [(r.serial_number, r.verified_on, r.reminders_delivered) for r in verified.items] == [
        ("SN-A001", date(2026, 6, 15), 1)
    ]
    assert [r.serial_number for r in followup.list_follow_ups(p, sup, state="open").items] == ["SN-B002"]
    assert followup.counts(p, sup) == {"open": 1, "verified": 1}
    assert followup.list_follow_ups(p, city.as_("other_city")).total == 0


def test_follow_up_refusals(city: World) -> None:
    p, sup = city.platform, city.as_("city")
    covered = search.search_instruments(p, sup, {"q": "SN-D004"}).items[0].id
    with pytest.raises(Conflict):
        followup.mark(p, sup, [covered])
    with pytest.raises(NotFound):
        followup.mark(p, city.as_("other_city"), [covered])
    with pytest.raises(NotAuthorised):
        followup.mark(p, city.as_("enterprise"), [covered])
    with pytest.raises(InvalidInput):
        followup.mark(p, sup, [])


def test_a_follow_up_is_closed_by_hand_with_a_reason_and_reopened(city: World) -> None:
    """Issue 10: a 督办 closed by hand (the owner showed the dispenser scrapped) leaves the open list,
    shows on the closed one with its reason and who closed it; reopening brings it back; all audited."""
    p, sup = city.platform, city.as_("city")
    overdue = {r.serial_number: r.id for r in search.search_instruments(p, sup, {"state": "overdue"}).items}
    done = followup.mark(p, sup, list(overdue.values()), remind=False)
    by_serial = {r.serial_number: r.id for r in followup.list_follow_ups(p, sup).items}
    fid = by_serial["SN-B002"]
    with pytest.raises(InvalidInput) as no_reason:
        followup.close(p, sup, fid, "  ")
    assert no_reason.value.field == "reason"
    with pytest.raises(NotFound):
        followup.close(p, city.as_("other_city"), fid, "越权 / not mine")
    with pytest.raises(NotAuthorised):
        followup.close(p, city.as_("enterprise"), fid, "not a supervisor")
    followup.close(p, sup, fid, "加油机已报废，现场核实 / scrapped, seen on site")
    with pytest.raises(Conflict):
        followup.close(p, sup, fid, "again")
    closed = followup.list_follow_ups(p, sup, state="closed").items
    assert [(r.serial_number, r.close_reason, r.closed_by) for r in closed] == [
        ("SN-B002", "加油机已报废，现场核实 / scrapped, seen on site", "city")
    ]
    assert [r.serial_number for r in followup.list_follow_ups(p, sup, state="open").items] == ["SN-A001"]
    assert followup.counts(p, sup) == {"open": 1, "verified": 0}
    followup.reopen(p, sup, fid, "复查发现仍在使用 / still in use on a second visit")
    again = followup.get(p, sup, fid)
    assert again.closed_at is None and again.close_reason == "" and "仍在使用" in again.note
    assert followup.counts(p, sup) == {"open": 2, "verified": 0}
    with pytest.raises(Conflict):
        followup.reopen(p, sup, fid, "not closed")
    # verified since it was opened: the records closed it, no hand closing
    a = by_serial["SN-A001"]
    verify(city, overdue["SN-A001"], "2026-06-15", doc="JD-2026-0102")
    with pytest.raises(Conflict):
        followup.close(p, sup, a, "verified anyway")
    trail = history.object_history(p, sup, "follow_up", fid)
    changes = {(c.field, c.after) for e in trail.items for c in e.changes}
    assert ("办结原因", "加油机已报废，现场核实 / scrapped, seen on site") in changes
    assert len(trail.items) >= 3  # opened, closed, reopened
    assert len(done.opened) == 2


def test_history_is_readable_and_scoped(city: World) -> None:
    p, sup = city.platform, city.as_("city")
    inst_id = search.search_instruments(p, sup, {"q": "SN-C003"}).items[0].id
    instruments.update_instrument(p, sup, inst_id, {"location": "三号加油岛", "use": "other"})
    page = history.object_history(p, sup, "instrument", inst_id)
    changed = page.items[0]
    assert changed.action == "修改" and changed.actor == "city"
    assert {(c.field, c.before, c.after) for c in changed.changes} >= {
        ("使用地点", "—", "三号加油岛"),
        ("用途", "贸易结算", "其他"),
    }
    subjects = [e.subject for e in page.items]
    assert any(s.startswith("检定记录 JD-2026-0003") for s in subjects)  # its record's creation
    created = next(e for e in page.items if e.subject.startswith("计量器具") and e.action == "创建")
    assert ("使用单位", "", "东城加油站") in {(c.field, c.before, c.after) for c in created.changes}
    assert all("owner_id" not in c.field for e in page.items for c in e.changes)
    english = history.object_history(p, sup, "instrument", inst_id, lang="en").items[0]
    assert english.action == "changed" and ("use", "trade settlement", "other") in {
        (c.field, c.before, c.after) for c in english.changes
    }
    assert changed.at_local.startswith("2026-") and len(changed.at_local) == 19
    with pytest.raises(NotFound):
        history.object_history(p, city.as_("other_city"), "instrument", inst_id)
    org_page = history.object_history(p, sup, "organisation", city.enterprise_id)
    assert any(c.after == "王经理 0571-8888 0001" for e in org_page.items for c in e.changes)


def test_certificates_list_is_scoped(city: World) -> None:
    p, sup = city.platform, city.as_("city")
    record = search.search_records(p, sup, {"q": "JD-2026-0004"}).items[0]
    cert = certificates.issue(p, city.as_("institution"), record.id)
    rows = search.search_certificates(p, sup, {"q": cert.number})
    assert [(r.number, r.owner_name, r.serial_number) for r in rows.items] == [
        (cert.number, "东城加油站", "SN-D004")
    ]
    assert search.search_certificates(p, city.as_("other_city"), {}).total == 0
    assert search.certificate_row(p, sup, cert.id).number == cert.number
    with pytest.raises(NotFound):
        search.certificate_row(p, city.as_("other_city"), cert.id)
    assert serials(search.search_instruments(p, sup, {"q": cert.number})) == ["SN-D004"]
    assert history.object_history(p, sup, "certificate", cert.id).total >= 1


def test_region_tree_and_standards_expiring(city: World) -> None:
    p, sup = city.platform, city.as_("province")
    tree = dashboard.region_tree(p, sup)
    assert tree.code == "330000" and [c.code for c in tree.children] == ["339800", "339900"]
    assert sorted(n.code for n in dashboard.counties(tree)) == ["339800", COUNTY_A, COUNTY_B]
    with pytest.raises(NotFound):
        dashboard.region_tree(p, city.as_("other_city"), region="339900")
    assert search.search_standards(p, SYSTEM, {"expiring_within": 90}).total == len(
        indicators.expiring_standards(p, SYSTEM, region="000000")
    )
