"""Market supervision through the services, on SQLite and PostgreSQL: a published seed, a draw anyone can
re-run, results and net content feeding credit, and a complaint that travels to a closed case and changes
the organisation's grade."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from jiliang.domain.access import SYSTEM
from jiliang.errors import Conflict, InvalidInput, NotAuthorised, NotFound, TooManyAttempts
from jiliang.legal import sampling
from jiliang.services import organisations, transparency, users
from jiliang.services.market import cases, complaints, credit, plans, results
from jiliang.services.platform import Platform
from jiliang.store.models import AuditEntry, Complaint, LogQueueEntry, SignInThrottle
from tests.factories import COUNTY_A, COUNTY_B, PASSWORD, World, credit_code


def _market(world: World, n: int = 12) -> list[int]:
    ids = []
    for k in range(n):
        org = organisations.add_organisation(
            world.platform,
            SYSTEM,
            credit_code=credit_code(100 + k, COUNTY_A if k % 2 else COUNTY_B),
            name=f"演示市场经营户 {k}",
            kind="market_operator" if k % 3 else "fuel_station",
            region_code=COUNTY_A if k % 2 else COUNTY_B,
        )
        ids.append(org.id)
    return ids


def _inspectors(world: World, market: list[int]) -> list[int]:
    city = world.as_("city")
    out = [
        plans.add_inspector(world.platform, city, name=f"执法员 {k}", region_code="339900")["id"]
        for k in range(4)
    ]
    # One inspector works for a market organisation: they must never inspect it.
    out.append(
        plans.add_inspector(
            world.platform, city, name="兼职执法员", region_code="339900", organisation_id=market[0]
        )["id"]
    )
    return out


def _leaf_kinds(platform: Platform) -> list[str]:
    with platform.reading() as s:
        return [k for (k,) in s.execute(select(LogQueueEntry.kind).order_by(LogQueueEntry.id))]


def test_plan_commit_draw_publish_and_rerun(world: World) -> None:
    market = _market(world)
    insp = _inspectors(world, market)
    city = world.as_("city")
    plan = plans.create_plan(
        world.platform,
        city,
        {
            "name": "2026 年民生计量双随机抽查",
            "region_code": "339900",
            "org_kinds": ["market_operator", "fuel_station"],
            "ratio": 0.5,
            "strata_by": "kind",
        },
    )
    committed = plans.commit_seed(world.platform, city, plan["id"])
    assert committed["status"] == "committed" and committed["seed"] is None  # not shown before the draw
    assert committed["population_size"] == 13  # 12 market organisations and the world's fuel station
    public = plans.published(world.platform, plan["id"])
    assert public["population"] is None and public["targets"] == []
    with pytest.raises(Conflict):  # the seed cannot change once the commitment is out
        plans.commit_seed(world.platform, city, plan["id"])
    drawn = plans.draw_plan(world.platform, city, plan["id"])
    assert (
        drawn["plan"]["seed"] and sampling.commitment(drawn["plan"]["seed"]) == committed["seed_commitment"]
    )
    targets = drawn["targets"]
    assert len(targets) == 7  # ceil(0.5 × 5 fuel stations) + ceil(0.5 × 8 market operators) = 3 + 4
    for t in targets:
        assert len(t["inspector_ids"]) == 2
        if t["organisation_id"] == market[0]:
            assert insp[-1] not in t["inspector_ids"]
    with pytest.raises(Conflict):
        plans.draw_plan(world.platform, city, plan["id"])
    # Anyone re-runs it from the published JSON (what the public endpoint and `jiliang market rerun` read).
    published = json.loads(json.dumps(plans.published(world.platform, plan["id"])))
    check = plans.rerun_published(published)
    assert check["matches"] and check["drawn"] == [t["organisation_id"] for t in targets]
    tampered = json.loads(json.dumps(published))
    tampered["population"][0][2] = "9.000000"
    with pytest.raises(Conflict, match="hash"):
        plans.rerun_published(tampered)
    assert _leaf_kinds(world.platform) == ["market_seed_committed", "market_draw_published"]
    with world.platform.reading() as s:
        leaf = s.scalars(select(LogQueueEntry).order_by(LogQueueEntry.id.desc())).first()
        assert leaf is not None and json.loads(leaf.body)["seed"] == drawn["plan"]["seed"]


def test_own_seed_changed_after_publication_is_refused(world: World) -> None:
    _market(world, 4)
    city = world.as_("city")
    for k in range(3):
        plans.add_inspector(world.platform, city, name=f"执法员 {k}", region_code="339900")
    plan = plans.create_plan(
        world.platform,
        city,
        {
            "name": "自带种子",
            "region_code": "339900",
            "org_kinds": ["market_operator", "fuel_station"],
            "ratio": 0.5,
            "team_size": 1,
        },
    )
    seed = "ab" * 32
    plans.commit_seed(world.platform, city, plan["id"], commitment=sampling.commitment(seed))
    with pytest.raises(Conflict, match="commitment") as err:
        plans.draw_plan(world.platform, city, plan["id"], seed="cd" * 32)
    assert err.value.field == "seed"
    with pytest.raises(InvalidInput):
        plans.draw_plan(world.platform, city, plan["id"])
    drawn = plans.draw_plan(world.platform, city, plan["id"], seed=seed)
    assert drawn["plan"]["seed"] == seed


def test_plans_are_scoped_and_for_supervisors(world: World) -> None:
    city = world.as_("city")
    plan = plans.create_plan(
        world.platform,
        city,
        {"name": "p", "region_code": COUNTY_A, "org_kinds": ["fuel_station"], "ratio": 1.0},
    )
    with pytest.raises(NotFound):
        plans.get_plan(world.platform, world.as_("other_city"), plan["id"])
    with pytest.raises(NotAuthorised):
        plans.create_plan(
            world.platform,
            world.as_("enterprise"),
            {"name": "p", "region_code": COUNTY_A, "org_kinds": ["fuel_station"], "ratio": 1.0},
        )
    with pytest.raises(NotFound):  # drafts are not public
        plans.published(world.platform, plan["id"])
    with pytest.raises(InvalidInput) as err:
        plans.create_plan(
            world.platform,
            city,
            {"name": "p", "region_code": COUNTY_A, "org_kinds": ["bakery"], "ratio": 0.1},
        )
    assert err.value.field == "org_kinds"


def test_manual_assignment_to_own_organisation_is_refused(world: World) -> None:
    market = _market(world, 4)
    insp = _inspectors(world, market)
    city = world.as_("city")
    plan = plans.create_plan(
        world.platform,
        city,
        {
            "name": "p",
            "region_code": "339900",
            "org_kinds": ["market_operator", "fuel_station"],
            "ratio": 1.0,
        },
    )
    plans.commit_seed(world.platform, city, plan["id"])
    drawn = plans.draw_plan(world.platform, city, plan["id"])
    target = next(t for t in drawn["targets"] if t["organisation_id"] == market[0])
    tid = _target_id(world.platform, plan["id"], market[0])
    with pytest.raises(InvalidInput, match="own organisation") as err:
        plans.reassign_inspectors(world.platform, city, tid, [insp[-1], insp[0]])
    assert err.value.field == "inspector_id"
    plans.declare_relation(world.platform, city, insp[1], market[0], "配偶在该单位任职")
    with pytest.raises(InvalidInput, match="declared"):
        plans.reassign_inspectors(world.platform, city, tid, [insp[1]])
    assert target["inspector_ids"]


def _target_id(platform: Platform, plan_id: int, org_id: int) -> int:
    from jiliang.store.models import MarketTarget

    with platform.reading() as s:
        tid = s.scalar(
            select(MarketTarget.id).where(
                MarketTarget.plan_id == plan_id, MarketTarget.organisation_id == org_id
            )
        )
        assert tid is not None
        return int(tid)


def test_result_feeds_credit_and_the_log(world: World) -> None:
    market = _market(world, 4)
    _inspectors(world, market)
    city = world.as_("city")
    plan = plans.create_plan(
        world.platform,
        city,
        {
            "name": "p",
            "region_code": "339900",
            "org_kinds": ["market_operator", "fuel_station"],
            "ratio": 1.0,
        },
    )
    plans.commit_seed(world.platform, city, plan["id"])
    plans.draw_plan(world.platform, city, plan["id"])
    tid = _target_id(world.platform, plan["id"], market[1])
    with pytest.raises(InvalidInput, match="MPE") as err:
        results.record_result(
            world.platform,
            city,
            tid,
            {
                "inspected_on": "2026-06-15",
                "conclusion": "pass",
                "instruments": [{"description": "电子计价秤", "measured_error": 12, "mpe": 10, "unit": "g"}],
            },
        )
    assert err.value.field == "conclusion"
    res = results.record_result(
        world.platform,
        city,
        tid,
        {
            "inspected_on": "2026-06-15",
            "conclusion": "fail",
            "findings": "计价秤超差",
            "instruments": [
                {"description": "电子计价秤", "measured_error": 12, "mpe": 10, "unit": "g"},
                {"description": "电子计价秤", "measured_error": -3, "mpe": 10, "unit": "g"},
            ],
        },
    )
    assert [x["passed"] for x in res["instruments"]] == [False, True]
    grade = credit.organisation_grade(world.platform, city, market[1])
    assert grade["score"] == 90 and grade["lines"][0]["kind"] == "inspection_failed"
    with pytest.raises(Conflict):
        results.record_result(world.platform, city, tid, {"inspected_on": "2026-06-15", "conclusion": "pass"})
    assert _leaf_kinds(world.platform)[-1] == "market_result_recorded"
    public = plans.published(world.platform, plan["id"])
    assert next(t for t in public["targets"] if t["organisation_id"] == market[1])["conclusion"] == "fail"


def test_net_content_inspection_is_stored_with_its_report(world: World) -> None:
    city = world.as_("city")
    out = results.record_net_content(
        world.platform,
        city,
        {
            "organisation_id": world.enterprise_id,
            "product": "大米 5 kg",
            "nominal": 5,
            "unit": "kg",
            "lot_size": 40,
            "measurements": [4.99, 5.01, 5.0, 5.02, 4.98, 5.0, 5.01, 4.99, 5.0, 4.95],
            "inspected_on": "2026-06-15",
        },
    )
    assert out["ruleset"] == "JJF1070-2023"  # in force on the date
    assert out["report"]["tolerable_deficiency"] == 75.0  # 1.5 % of 5 000 g
    assert out["verdict"] == "pass"
    with pytest.raises(InvalidInput, match="takes a sample"):
        results.record_net_content(
            world.platform,
            city,
            {
                "organisation_id": world.enterprise_id,
                "nominal": 500,
                "unit": "g",
                "lot_size": 200,
                "measurements": [500] * 10,
            },
        )
    with pytest.raises(NotFound):
        results.record_net_content(
            world.platform,
            world.as_("county_b"),
            {
                "organisation_id": world.enterprise_id,
                "nominal": 500,
                "unit": "g",
                "lot_size": 2,
                "measurements": [500, 501],
            },
        )


def test_complaint_travels_to_a_closed_case_and_changes_the_grade(world: World) -> None:
    p = world.platform
    users.create_user(
        p, SYSTEM, username="officer", password=PASSWORD, role="complaint_officer", jurisdiction="339900"
    )
    _, officer = users.login(p, "officer", PASSWORD)
    city = world.as_("city")
    before = credit.organisation_grade(p, city, world.enterprise_id)
    assert before["grade"] == "A"
    sub = complaints.submit(
        p,
        {
            "region_code": COUNTY_A,
            "organisation_id": world.enterprise_id,
            "subject_name": "东城加油站",
            "content": "加油机少给油",
            "reporter": {"name": "张三", "phone": "13800000000"},
        },
    )
    code = sub["receipt_code"]
    assert complaints.status(p, code)["status"] == "received"
    with pytest.raises(NotFound):
        complaints.status(p, "WRONGCODE0000000")
    with p.reading() as s:
        row = s.get(Complaint, sub["id"])
        assert row is not None and "张三" not in (row.reporter_ciphertext or "")
    with pytest.raises(NotAuthorised):
        complaints.reveal_reporter(p, city, sub["id"], "核实")
    who = complaints.reveal_reporter(p, officer, sub["id"], "回访举报人")
    assert who["reporter"]["name"] == "张三"
    with p.reading() as s:
        reads = s.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "read_identity")
        )
        assert reads == 1
    complaints.update(p, city, sub["id"], {"status": "investigating"})
    complaints.update(
        p, city, sub["id"], {"status": "confirmed", "resolution": "经查属实，已立案", "reward": "奖励 500 元"}
    )
    with pytest.raises(Conflict):
        complaints.update(p, city, sub["id"], {"status": "received"})
    case = cases.open_case(
        p,
        city,
        {
            "source_type": "complaint",
            "source_id": str(sub["id"]),
            "summary": "加油机计量作弊",
            "evidence": ["现场照片 1"],
        },
    )
    assert case["status"] == "filed" and case["decide_by"] == "2026-09-13"
    with pytest.raises(Conflict):
        cases.advance(p, city, case["id"], {"status": "closed"})
    cases.advance(p, city, case["id"], {"status": "investigating", "evidence": ["检定报告"]})
    with pytest.raises(InvalidInput) as err:
        cases.advance(p, city, case["id"], {"status": "decided", "decision": "罚款"})
    assert err.value.field == "violation"
    cases.advance(
        p,
        city,
        case["id"],
        {"status": "decided", "violation": True, "decision": "责令改正并罚款", "penalty": "罚款 20000 元"},
    )
    closed = cases.advance(p, city, case["id"], {"status": "closed"})
    assert closed["status"] == "closed" and closed["evidence"] == ["现场照片 1", "检定报告"]
    after = credit.organisation_grade(p, city, world.enterprise_id)
    # 100 − 8 (complaint confirmed) − 15 (case: violation) − 20 (penalty) = 57 → D
    assert after["score"] == 57 and after["grade"] == "D"
    assert {line["kind"] for line in after["lines"]} == {"complaint_confirmed", "case_violation", "penalty"}
    status = complaints.status(p, code)
    assert status["case_opened"] and status["reward"] == "奖励 500 元"
    summary = credit.region_summary(p, city)
    assert summary["grades"]["D"] == 1


def test_transparency_kinds_are_known() -> None:
    for kind in ("market_seed_committed", "market_draw_published", "market_result_recorded"):
        assert kind in transparency.KINDS


def test_grades_drive_who_is_due_for_inspection(world: World) -> None:
    p, city = world.platform, world.as_("city")
    credit.add_event(p, city, world.enterprise_id, "penalty", p.today(), "罚款")  # 80 → B: every other year
    due = credit.due_for_inspection(p, city)
    assert due[0]["organisation_id"] == world.enterprise_id and due[0]["grade"] == "B"
    assert due[0]["interval_days"] == 730 and due[0]["last_inspected_on"] is None
    assert {d["organisation_id"] for d in credit.due_for_inspection(p, world.as_("county_b"))} <= {
        world.other_enterprise_id
    }


# --- what the console pages added (web/market_console.py, web/market_portal.py) --------------------------


def test_the_complaint_officer_handles_complaints_and_opens_cases_only_from_them(world: World) -> None:
    p = world.platform
    users.create_user(
        p, SYSTEM, username="officer", password=PASSWORD, role="complaint_officer", jurisdiction="339900"
    )
    _, officer = users.login(p, "officer", PASSWORD)
    sub = complaints.submit(
        p, {"region_code": COUNTY_A, "subject_name": "东城加油站", "content": "少给油", "reporter": None}
    )
    assert complaints.get_complaint(p, officer, sub["id"])["subject_name"] == "东城加油站"
    with pytest.raises(InvalidInput):  # a registered organisation, but not in the complaint's region
        complaints.update(p, officer, sub["id"], {"organisation_id": world.other_enterprise_id})
    linked = complaints.update(p, officer, sub["id"], {"organisation_id": world.enterprise_id})
    assert linked["organisation_id"] == world.enterprise_id
    with pytest.raises(Conflict):
        complaints.update(p, officer, sub["id"], {"organisation_id": world.institution_id})
    complaints.update(p, officer, sub["id"], {"status": "investigating"})
    assert complaints.update(p, officer, sub["id"], {"status": "confirmed"})["status"] == "confirmed"
    case = cases.open_case(
        p,
        officer,
        {"source_type": "complaint", "source_id": str(sub["id"]), "organisation_id": world.enterprise_id},
    )
    assert cases.get_case(p, officer, case["id"])["number"] == case["number"]
    with pytest.raises(NotAuthorised):  # an inspection, a warning: supervisors only
        cases.open_case(
            p, officer, {"source_type": "warning", "source_id": "W-1", "organisation_id": world.enterprise_id}
        )
    with pytest.raises(NotAuthorised):
        cases.advance(p, officer, case["id"], {"status": "investigating"})
    with pytest.raises(NotAuthorised):
        plans.list_plans(p, officer)
    with pytest.raises(NotFound):  # another city's complaint officer reaches nothing here
        complaints.get_complaint(p, world.as_("other_city"), sub["id"])
    with pytest.raises(NotAuthorised):
        complaints.get_complaint(p, world.as_("enterprise"), sub["id"])


def test_the_public_form_admits_a_few_complaints_per_address_an_hour(world: World) -> None:
    p = world.platform
    limit = p.settings.complaint_rate_per_hour
    for _ in range(limit):
        complaints.admit_submission(p, "203.0.113.7")
    with pytest.raises(TooManyAttempts) as refused:
        complaints.admit_submission(p, "203.0.113.7")
    assert 0 < refused.value.retry_after_s <= 3600
    complaints.admit_submission(p, "203.0.113.8")  # another address is counted on its own
    with p.reading() as s:  # the address itself is not stored, only an HMAC of it
        keys = [k for (k,) in s.execute(select(SignInThrottle.key))]
    assert keys and all("203.0.113" not in k for k in keys)


def test_drawn_targets_read_with_names_and_stay_inside_the_jurisdiction(world: World) -> None:
    market = _market(world)
    _inspectors(world, market)
    city = world.as_("city")
    plan = plans.create_plan(
        world.platform,
        city,
        {"name": "页面", "region_code": "339900", "org_kinds": ["market_operator"], "ratio": 0.5},
    )
    plans.commit_seed(world.platform, city, plan["id"])
    plans.draw_plan(world.platform, city, plan["id"])
    targets = plans.plan_targets(world.platform, city, plan["id"])
    assert targets and all(t["organisation_name"].startswith("演示市场经营户") for t in targets)
    assert all(name.startswith(("执法员", "兼职")) for t in targets for name in t["inspectors"])
    first = targets[0]
    result = results.record_result(
        world.platform, city, first["id"], {"inspected_on": "2026-06-15", "conclusion": "pass"}
    )
    view = plans.target_view(world.platform, city, first["id"])
    assert view["results"][0]["conclusion"] == "pass" and view["plan_name"] == "页面"
    assert results.target_of_result(world.platform, city, result["id"]) == first["id"]
    other = world.as_("other_city")
    assert results.target_of_result(world.platform, other, result["id"]) is None
    for call in (
        lambda: plans.plan_targets(world.platform, other, plan["id"]),
        lambda: plans.target_view(world.platform, other, first["id"]),
    ):
        with pytest.raises(NotFound):
            call()
