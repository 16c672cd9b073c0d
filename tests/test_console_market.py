"""The market-supervision console pages (/console/market) and the public complaint portal (/public/…).

Signed in through /login (tests/console_support.py) on SQLite, and on PostgreSQL with
JILIANG_TEST_POSTGRES_URL: plans from creation to the drawn list, the field result form, net content
criterion by criterion, credit explained, a case's four steps, the complaint officer's audited read of a
reporter, the public complaint form with its receipt code, CSRF and the rate limit, and URL tampering
(another city's plan, target, case, complaint, inspection or organisation answers 404).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from jiliang.domain.access import SYSTEM
from jiliang.services import audit_log, organisations, users
from jiliang.services.market import complaints, plans
from tests.console_support import Console, form_token
from tests.factories import COUNTY_A, OTHER_CITY, PASSWORD, credit_code

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@dataclass
class Market:
    stalls: list[int]
    other_plan: int
    other_target: int
    other_org: int
    other_complaint: int


def _market(console: Console) -> Market:
    """Six market stalls and three inspectors in the city; a drawn plan and a complaint in the other city;
    the complaint officer ``officer`` of the city."""
    p = console.world.platform
    stalls = [
        organisations.add_organisation(
            p,
            SYSTEM,
            credit_code=credit_code(40 + k),
            name=f"东城农贸市场{k + 1}号摊位",
            kind="market_operator",
            region_code=COUNTY_A,
        ).id
        for k in range(6)
    ]
    for name in ("张执法", "李执法", "王执法"):
        plans.add_inspector(p, SYSTEM, name=name, region_code="339900")
    other = organisations.add_organisation(
        p,
        SYSTEM,
        credit_code=credit_code(60, OTHER_CITY),
        name="邻市菜场",
        kind="market_operator",
        region_code=OTHER_CITY,
    ).id
    for name in ("赵执法", "钱执法"):
        plans.add_inspector(p, SYSTEM, name=name, region_code=OTHER_CITY)
    plan = plans.create_plan(
        p,
        console.world.as_("other_city"),
        {"name": "邻市抽查", "region_code": OTHER_CITY, "org_kinds": ["market_operator"], "ratio": 1.0},
    )
    plans.commit_seed(p, console.world.as_("other_city"), plan["id"])
    plans.draw_plan(p, console.world.as_("other_city"), plan["id"])
    target = plans.plan_targets(p, console.world.as_("other_city"), plan["id"])[0]["id"]
    complaint = complaints.submit(
        p, {"region_code": OTHER_CITY, "subject_name": "邻市菜场", "content": "秤不准", "reporter": None}
    )
    users.create_user(
        p, SYSTEM, username="officer", password=PASSWORD, role="complaint_officer", jurisdiction="339900"
    )
    return Market(stalls, plan["id"], target, other, complaint["id"])


def _id(response_url: str, kind: str) -> int:
    match = re.search(rf"/{kind}/(\d+)", response_url)
    assert match, response_url
    return int(match.group(1))


def _post(client: TestClient, path: str, data: dict[str, object], page: str) -> object:
    return client.post(path, data={**data, "csrf_token": form_token(client, page)}, follow_redirects=False)


def _drawn_plan(client: TestClient) -> int:
    created = client.post(
        "/console/market/plans/new",
        data={
            "csrf_token": form_token(client, "/console/market/plans/new"),
            "name": "2026 年集贸市场计量抽查",
            "region_code": "339900",
            "org_kinds": ["market_operator"],
            "ratio": "50",
            "strata_by": "kind",
            "team_size": "2",
            "lookback_days": "365",
        },
        follow_redirects=False,
    )
    assert created.status_code == 303, created.text[:500]
    pid = _id(created.headers["location"], "plans")
    page = f"/console/market/plans/{pid}"
    assert (
        client.post(
            f"{page}/commit", data={"csrf_token": form_token(client, page)}, follow_redirects=False
        ).status_code
        == 303
    )
    shown = client.get(page)
    assert "种子承诺值" in shown.text and 'id="seed"' not in shown.text
    drawn = client.post(f"{page}/draw", data={"csrf_token": form_token(client, page)}, follow_redirects=False)
    assert drawn.status_code == 303
    return pid


def test_supervisor_publishes_a_seed_draws_and_records_a_result(console: Console) -> None:
    _market(console)
    client = console.client_for("city")
    home = client.get("/console/market")
    assert home.status_code == 200 and "双随机抽查计划" in home.text
    assert 'href="/console/market/complaints"' in home.text  # the supervisor's menu has the market pages
    pid = _drawn_plan(client)
    page = client.get(f"/console/market/plans/{pid}")
    assert 'id="seed"' in page.text and "已抽取" in page.text
    assert "东城农贸市场" in page.text and "执法" in page.text  # names, not ids
    assert re.search(r"/console/market/targets/(\d+)", page.text)
    target = int(re.findall(r"/console/market/targets/(\d+)", page.text)[0])
    # A second draw is refused, on the page.
    again = _post(client, f"/console/market/plans/{pid}/draw", {}, f"/console/market/plans/{pid}")
    assert again.status_code == 422 and "不能重抽" in again.text  # type: ignore[attr-defined]
    # An instrument beyond its MPE cannot be concluded "pass": refused with the field named.
    tpage = f"/console/market/targets/{target}"
    bad = _post(
        client,
        tpage,
        {
            "inspected_on": "2026-06-15",
            "findings": "电子秤偏差",
            "description_0": "电子秤 A1",
            "error_0": "12",
            "mpe_0": "5",
            "unit_0": "g",
            "conclusion": "pass",
        },
        tpage,
    )
    assert bad.status_code == 422 and "最大允许误差" in bad.text  # type: ignore[attr-defined]
    assert 'value="电子秤 A1"' in bad.text  # type: ignore[attr-defined]  # what was typed is kept
    ok = _post(
        client,
        tpage,
        {
            "inspected_on": "2026-06-15",
            "findings": "电子秤偏差超差",
            "description_0": "电子秤 A1",
            "error_0": "12",
            "mpe_0": "5",
            "unit_0": "g",
            "conclusion": "fail",
        },
        tpage,
    )
    assert ok.status_code == 303  # type: ignore[attr-defined]
    shown = client.get(ok.headers["location"])  # type: ignore[attr-defined]
    assert "超出允许误差" in shown.text and "不合格" in shown.text and "已保存" in shown.text
    assert client.get(f"/console/market/plans/{pid}").text.count("✕ 不合格") == 1
    english = client.get(f"{tpage}?lang=en")
    assert "beyond the MPE" in english.text and "fail" in english.text


def test_a_case_goes_from_filing_to_closing_and_changes_the_grade(console: Console) -> None:
    m = _market(console)
    client = console.client_for("city")
    pid = _drawn_plan(client)
    target = int(
        re.findall(r"/console/market/targets/(\d+)", client.get(f"/console/market/plans/{pid}").text)[0]
    )
    tpage = f"/console/market/targets/{target}"
    _post(client, tpage, {"inspected_on": "2026-06-15", "conclusion": "fail", "findings": "短秤"}, tpage)
    org = int(re.findall(r"/console/market/credit/(\d+)", client.get(tpage).text)[0])
    assert org in m.stalls
    before = client.get(f"/console/market/credit/{org}")
    assert "抽查不合格" in before.text and "-10" in before.text
    opened = _post(
        client,
        "/console/market/cases",
        {
            "source_type": "inspection",
            "source_id": re.findall(r'name="source_id" value="(\d+)"', client.get(tpage).text)[0],
            "summary": "短秤",
            "evidence": "现场照片 P-001\n/console/market/targets/1",
        },
        tpage,
    )
    assert opened.status_code == 303, opened.text[:300]  # type: ignore[attr-defined]
    cpage = opened.headers["location"].split("?")[0]  # type: ignore[attr-defined]
    shown = client.get(cpage)
    assert "立案" in shown.text and "现场照片 P-001" in shown.text and "东城农贸市场" in shown.text
    assert "查看来源" in shown.text
    for data in (
        {"status": "investigating"},
        {"status": "decided", "violation": "yes", "decision": "责令改正", "penalty": "罚款 2000 元"},
        {"status": "closed"},
    ):
        step = _post(client, f"{cpage}/step", data, cpage)
        assert step.status_code == 303, step.text[:300]  # type: ignore[attr-defined]
    closed = client.get(cpage)
    assert "结案" in closed.text and "已结案" in closed.text and "罚款 2000 元" in closed.text
    after = client.get(f"/console/market/credit/{org}")
    assert "案件认定违法" in after.text and "行政处罚" in after.text
    listing = client.get("/console/market/cases")
    assert "东城农贸市场" in listing.text and "结案" in listing.text


def test_net_content_report_states_each_criterion_and_the_verdict(console: Console) -> None:
    m = _market(console)
    client = console.client_for("city")
    # JJF 1070: N = 20 → n = 10, Qn = 500 g → T = 15 g (4.5 % band: 500 < Qn ≤ 1000 gives 15 g).
    values = "501 499 502 498 500 503 497 501 500 499"
    saved = _post(
        client,
        "/console/market/net-content",
        {
            "organisation_id": str(m.stalls[0]),
            "product": "大米 500 g",
            "ruleset": "JJF1070-2005",
            "nominal": "500",
            "unit": "g",
            "lot_size": "20",
            "measurements": values,
            "method": "non_destructive",
            "inspected_on": "2026-06-15",
        },
        "/console/market/net-content",
    )
    assert saved.status_code == 303, saved.text[:500]  # type: ignore[attr-defined]
    report = client.get(saved.headers["location"])  # type: ignore[attr-defined]
    assert report.status_code == 200
    assert "✓ 合格" in report.text and 'id="criteria"' in report.text
    assert report.text.count("✓ 符合") >= 3  # every criterion met, each on its own row
    assert "15" in report.text and "东城农贸市场1号摊位" in report.text
    # A sample that is not the plan's size is refused, naming the field.
    short = _post(
        client,
        "/console/market/net-content",
        {
            "organisation_id": str(m.stalls[0]),
            "product": "大米",
            "nominal": "500",
            "unit": "g",
            "lot_size": "20",
            "measurements": "500 500 500",
        },
        "/console/market/net-content",
    )
    assert short.status_code == 422 and 'aria-invalid="true"' in short.text  # type: ignore[attr-defined]


def test_credit_page_counts_units_against_targets_and_lists_who_is_due(console: Console) -> None:
    m = _market(console)
    client = console.client_for("city")
    gpage = f"/console/market/credit/{m.stalls[1]}"
    added = _post(client, f"{gpage}/events", {"kind": "self_commitment", "occurred_on": "2026-06-01"}, gpage)
    assert added.status_code == 303  # type: ignore[attr-defined]
    grade = client.get(gpage)
    assert "诚信计量自我承诺" in grade.text and "+5" in grade.text and 'id="grade">A<' in grade.text
    refused = _post(client, f"{gpage}/events", {"kind": "case_violation", "occurred_on": "2026-06-01"}, gpage)
    assert refused.status_code == 422  # type: ignore[attr-defined]
    page = client.get("/console/market/credit")
    assert page.status_code == 200 and 'id="units"' in page.text and 'id="due"' in page.text
    assert "东城农贸市场" in page.text and "从未检查" in page.text


def test_complaint_from_the_portal_to_the_officer_and_a_case(console: Console) -> None:
    _market(console)
    citizen = console.client()
    portal = citizen.get("/public/market")
    assert portal.status_code == 200 and 'href="/market/draws?lang=zh"' in portal.text
    form = "/public/complaints/new"
    sent = citizen.post(
        form,
        data={
            "csrf_token": form_token(citizen, form),
            "region_code": COUNTY_A,
            "subject_name": "东城农贸市场2号摊位",
            "content": "电子秤每斤少 50 克",
            "how": "named",
            "name": "王小明",
            "phone": "13800000000",
        },
    )
    assert sent.status_code == 201 and sent.headers["cache-control"] == "no-store"
    receipt = re.search(r'id="receipt">([A-Z0-9]{16})<', sent.text)
    assert receipt, sent.text[:500]
    code = receipt.group(1)
    status_page = "/public/complaints/status"
    status = citizen.post(
        status_page, data={"csrf_token": form_token(citizen, status_page), "receipt_code": code}
    )
    assert status.status_code == 200 and "已受理" in status.text
    wrong = citizen.post(
        status_page, data={"csrf_token": form_token(citizen, status_page), "receipt_code": "X" * 16}
    )
    assert wrong.status_code == 404 and "没有找到" in wrong.text

    officer = console.client_for("officer")
    assert (
        officer.get("/console", follow_redirects=False)
        .headers["location"]
        .startswith("/console/market/complaints")
    )
    listing = officer.get("/console/market/complaints")
    assert "东城农贸市场2号摊位" in listing.text and "实名" in listing.text and "王小明" not in listing.text
    cid = int(re.findall(r"/console/market/complaints/(\d+)", listing.text)[0])
    cpage = f"/console/market/complaints/{cid}"
    opened = officer.get(cpage)
    assert "记入审计日志" in opened.text and "王小明" not in opened.text
    shown = _post(officer, f"{cpage}/reporter", {"reason": "核实举报内容"}, cpage)
    assert shown.status_code == 200 and "王小明" in shown.text and "13800000000" in shown.text  # type: ignore[attr-defined]
    entries = audit_log.list_entries(
        console.world.platform, SYSTEM, object_type="Complaint", object_id=str(cid)
    )
    assert any(e.action == "read_identity" and "核实举报内容" in e.summary for e in entries.items)
    # A supervisor handles complaints but never reads the reporter.
    supervisor = console.client_for("city")
    assert "只有举报受理专员" in supervisor.get(cpage).text
    refused = _post(supervisor, f"{cpage}/reporter", {"reason": "好奇"}, cpage)
    assert refused.status_code == 403  # type: ignore[attr-defined]
    # The public form names the business in words: the officer links the registered stall, then confirms.
    stall = re.findall(r'<option value="(\d+)">东城农贸市场2号摊位', officer.get(cpage).text)[0]
    for move, extra in (("investigating", {"organisation_id": stall}), ("confirmed", {})):
        moved = _post(
            officer, cpage, {"status": move, "resolution": "经查属实", "reward": "", **extra}, cpage
        )
        assert moved.status_code == 303, moved.text[:300]  # type: ignore[attr-defined]
    grade = supervisor.get(f"/console/market/credit/{stall}")
    assert "举报经查属实" in grade.text and "-8" in grade.text
    case = _post(
        officer,
        "/console/market/cases",
        {"source_type": "complaint", "source_id": str(cid), "summary": "短秤"},
        cpage,
    )
    assert case.status_code == 303, case.text[:400]  # type: ignore[attr-defined]
    assert "AJ-339901" in officer.get(case.headers["location"]).text  # type: ignore[attr-defined]
    status = citizen.post(
        status_page, data={"csrf_token": form_token(citizen, status_page), "receipt_code": code}
    )
    assert "经查属实" in status.text and "已依法立案查处" in status.text
    # The officer may not open a case from an inspection (supervisors only), nor see plans.
    assert officer.get("/console/market").status_code == 403


def test_public_forms_need_their_csrf_token_and_are_rate_limited(console: Console) -> None:
    _market(console)
    citizen = console.client()
    form = "/public/complaints/new"
    data = {"region_code": COUNTY_A, "subject_name": "某摊位", "content": "缺斤少两", "how": "anonymous"}
    assert citizen.post(form, data=data).status_code == 403
    assert citizen.post(form, data={**data, "csrf_token": "0" * 64}).status_code == 403
    limit = console.world.platform.settings.complaint_rate_per_hour
    for _ in range(limit):
        assert citizen.post(form, data={**data, "csrf_token": form_token(citizen, form)}).status_code == 201
    over = citizen.post(form, data={**data, "csrf_token": form_token(citizen, form)})
    assert over.status_code == 429 and "过于频繁" in over.text and int(over.headers["retry-after"]) > 0
    # Console forms alike: a signed-in POST without the token is refused.
    client = console.client_for("city")
    assert client.post("/console/market/plans/new", data={"name": "x"}).status_code == 403


def test_another_citys_plan_target_case_complaint_or_organisation_is_not_found(console: Console) -> None:
    m = _market(console)
    p = console.world.platform
    other = console.world.as_("other_city")
    from jiliang.services.market import cases, results

    result = results.record_result(
        p, other, m.other_target, {"inspected_on": "2026-06-15", "conclusion": "fail"}
    )
    case = cases.open_case(p, other, {"source_type": "inspection", "source_id": str(result["id"])})
    inspection = results.record_net_content(
        p,
        other,
        {
            "organisation_id": m.other_org,
            "product": "米",
            "nominal": 500,
            "unit": "g",
            "lot_size": 5,
            "measurements": [500, 500, 500, 500, 500],
            "inspected_on": "2026-06-15",
        },
    )
    client = console.client_for("city")
    for path in (
        f"/console/market/plans/{m.other_plan}",
        f"/console/market/targets/{m.other_target}",
        f"/console/market/cases/{case['id']}",
        f"/console/market/complaints/{m.other_complaint}",
        f"/console/market/credit/{m.other_org}",
        f"/console/market/net-content/{inspection['id']}",
        f"/console/market/net-content?target_id={m.other_target}",
        "/console/market/plans/999999",
    ):
        answer = client.get(path)
        assert answer.status_code == 404, path
        assert "邻市" not in answer.text, path
    token = form_token(client, "/console/market")
    for path, data in (
        (f"/console/market/plans/{m.other_plan}/draw", {}),
        (f"/console/market/targets/{m.other_target}", {"inspected_on": "2026-06-15", "conclusion": "pass"}),
        (f"/console/market/cases/{case['id']}/step", {"status": "investigating"}),
        (f"/console/market/complaints/{m.other_complaint}", {"status": "investigating"}),
        (
            f"/console/market/credit/{m.other_org}/events",
            {"kind": "self_commitment", "occurred_on": "2026-06-01"},
        ),
        ("/console/market/cases", {"source_type": "complaint", "source_id": str(m.other_complaint)}),
    ):
        answer = client.post(path, data={**data, "csrf_token": token})
        assert answer.status_code == 404, path
    officer = console.client_for("officer")
    assert officer.get(f"/console/market/complaints/{m.other_complaint}").status_code == 404


def test_signed_out_browsers_go_to_sign_in_and_other_roles_are_refused(console: Console) -> None:
    anonymous = console.client()
    answer = anonymous.get("/console/market/cases", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login?next=")
    enterprise = console.client_for("enterprise")
    assert enterprise.get("/console/market").status_code == 403
    assert enterprise.get("/console/market/complaints").status_code == 403


def test_quotas_are_written_as_people_read_the_strata(console: Console) -> None:
    _market(console)
    client = console.client_for("city")
    page = "/console/market/plans/new"
    created = _post(
        client,
        page,
        {
            "name": "按层定量",
            "region_code": "339900",
            "org_kinds": ["market_operator", "fuel_station"],
            "ratio": "10",
            "quotas": "东城区/集贸市场经营者=2\n加油站/东城区 = 1",
            "strata_by": "kind_region",
            "team_size": "1",
            "lookback_days": "0",
        },
        page,
    )
    assert created.status_code == 303, created.text[:500]  # type: ignore[attr-defined]
    plan = created.headers["location"].split("?")[0]  # type: ignore[attr-defined]
    for step in ("commit", "draw"):
        assert _post(client, f"{plan}/{step}", {}, plan).status_code == 303  # type: ignore[attr-defined]
    shown = client.get(plan).text
    assert "东城区/集贸市场经营者 = 2" in shown and "东城区/加油站 = 1" in shown
    assert len(set(re.findall(r"/console/market/targets/(\d+)", shown))) == 3 and "339901/" not in shown
    unknown = _post(
        client,
        page,
        {
            "name": "x",
            "region_code": "339900",
            "org_kinds": ["fuel_station"],
            "quotas": "加油站 两个",
            "strata_by": "kind",
        },
        page,
    )
    assert unknown.status_code == 422 and 'aria-invalid="true"' in unknown.text  # type: ignore[attr-defined]
