"""Market supervision (民生计量): random inspections, results, net content, credit, complaints, cases.

Thin: each route parses, calls one service function, returns its answer. The public routes (一公开 and
举报) are in ``market_public``."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query

from jiliang.api.deps import PlatformDep, PrincipalDep
from jiliang.api.schemas.common import ERRORS
from jiliang.api.schemas.market import (
    CaseIn,
    CaseStepIn,
    CommitIn,
    ComplaintUpdateIn,
    CreditEventIn,
    DrawIn,
    InspectorIn,
    NetContentIn,
    PlanIn,
    ReassignIn,
    RelationIn,
    ResultIn,
    RevealIn,
)
from jiliang.services.market import cases, complaints, credit, plans, results

router = APIRouter(prefix="/api/v1/market", tags=["market 民生计量"], responses=ERRORS)

Json = dict[str, Any]


@router.post("/inspectors", status_code=201, summary="登记执法检查人员 / Add an inspector to the pool")
def add_inspector(body: InspectorIn, platform: PlatformDep, principal: PrincipalDep) -> Json:
    return plans.add_inspector(platform, principal, **body.model_dump())


@router.get("/inspectors", summary="检查人员名录 / The inspector pool")
def list_inspectors(platform: PlatformDep, principal: PrincipalDep) -> list[Json]:
    return plans.list_inspectors(platform, principal)


@router.post(
    "/inspectors/{inspector_id}/relations",
    status_code=201,
    summary="申报利害关系 / Declare a relation (conflict of interest)",
)
def declare_relation(
    inspector_id: int, body: RelationIn, platform: PlatformDep, principal: PrincipalDep
) -> Json:
    return plans.declare_relation(platform, principal, inspector_id, body.organisation_id, body.note)


@router.post("/plans", status_code=201, summary="新建抽查计划 / Create a random-inspection plan")
def create_plan(body: PlanIn, platform: PlatformDep, principal: PrincipalDep) -> Json:
    return plans.create_plan(platform, principal, body.model_dump())


@router.get("/plans", summary="抽查计划 / Plans in my jurisdiction")
def list_plans(platform: PlatformDep, principal: PrincipalDep) -> list[Json]:
    return plans.list_plans(platform, principal)


@router.get("/plans/{plan_id}", summary="抽查计划 / A plan")
def get_plan(plan_id: int, platform: PlatformDep, principal: PrincipalDep) -> Json:
    return plans.get_plan(platform, principal, plan_id)


@router.post(
    "/plans/{plan_id}/commit",
    summary="冻结名录并公布种子承诺值 / Freeze the population, publish the commitment",
)
def commit_seed(plan_id: int, body: CommitIn, platform: PlatformDep, principal: PrincipalDep) -> Json:
    return plans.commit_seed(platform, principal, plan_id, commitment=body.commitment)


@router.post("/plans/{plan_id}/draw", summary="公开种子并抽取 / Reveal the seed and draw (once)")
def draw(plan_id: int, body: DrawIn, platform: PlatformDep, principal: PrincipalDep) -> Json:
    return plans.draw_plan(platform, principal, plan_id, seed=body.seed)


@router.put("/targets/{target_id}/inspectors", summary="调整检查人员（回避检查）/ Reassign inspectors")
def reassign(target_id: int, body: ReassignIn, platform: PlatformDep, principal: PrincipalDep) -> Json:
    return plans.reassign_inspectors(platform, principal, target_id, body.inspector_ids, body.reason)


@router.post("/targets/{target_id}/results", status_code=201, summary="录入检查结果 / Record a result")
def record_result(target_id: int, body: ResultIn, platform: PlatformDep, principal: PrincipalDep) -> Json:
    return results.record_result(platform, principal, target_id, body.model_dump(mode="json"))


@router.post("/net-content", status_code=201, summary="净含量检验 / Record a net-content inspection")
def record_net_content(body: NetContentIn, platform: PlatformDep, principal: PrincipalDep) -> Json:
    return results.record_net_content(platform, principal, body.model_dump(mode="json"))


@router.get("/net-content/{inspection_id}", summary="净含量检验报告 / A net-content report")
def get_net_content(inspection_id: int, platform: PlatformDep, principal: PrincipalDep) -> Json:
    return results.get_net_content(platform, principal, inspection_id)


@router.post("/credit/events", status_code=201, summary="登记信用事件 / Record a credit event")
def add_credit_event(body: CreditEventIn, platform: PlatformDep, principal: PrincipalDep) -> Json:
    return credit.add_event(platform, principal, body.organisation_id, body.kind, body.occurred_on, body.note)


@router.get(
    "/credit/organisations/{organisation_id}", summary="信用等级及逐项说明 / Grade with every point explained"
)
def organisation_grade(
    organisation_id: int,
    platform: PlatformDep,
    principal: PrincipalDep,
    as_of: Annotated[date | None, Query(description="评定日 / as of")] = None,
) -> Json:
    return credit.organisation_grade(platform, principal, organisation_id, as_of)


@router.get("/credit/summary", summary="等级分布与承诺、示范单位数 / Grades and units against targets")
def credit_summary(
    platform: PlatformDep,
    principal: PrincipalDep,
    region_code: Annotated[str | None, Query(description="区划（含下级）/ region with its subtree")] = None,
    year: Annotated[int | None, Query(description="年度 / year")] = None,
) -> Json:
    return credit.region_summary(platform, principal, region_code, year)


@router.get("/credit/due", summary="按信用等级应检查的单位 / Organisations due for inspection by grade")
def due_for_inspection(
    platform: PlatformDep,
    principal: PrincipalDep,
    region_code: Annotated[str | None, Query(description="区划（含下级）/ region with its subtree")] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="条数上限 / at most this many")] = 200,
) -> list[Json]:
    return credit.due_for_inspection(platform, principal, region_code, limit)


@router.get("/complaints", summary="举报 / Complaints in my jurisdiction")
def list_complaints(platform: PlatformDep, principal: PrincipalDep) -> list[Json]:
    return complaints.list_complaints(platform, principal)


@router.patch("/complaints/{complaint_id}", summary="办理举报 / Move a complaint on")
def update_complaint(
    complaint_id: int, body: ComplaintUpdateIn, platform: PlatformDep, principal: PrincipalDep
) -> Json:
    return complaints.update(platform, principal, complaint_id, body.model_dump(exclude_none=True))


@router.post(
    "/complaints/{complaint_id}/reporter", summary="查看举报人（专员，留痕）/ Read the reporter (audited)"
)
def reveal_reporter(
    complaint_id: int, body: RevealIn, platform: PlatformDep, principal: PrincipalDep
) -> Json:
    return complaints.reveal_reporter(platform, principal, complaint_id, body.reason)


@router.post("/cases", status_code=201, summary="立案 / Open a case")
def open_case(body: CaseIn, platform: PlatformDep, principal: PrincipalDep) -> Json:
    return cases.open_case(platform, principal, body.model_dump())


@router.get("/cases", summary="案件 / Cases in my jurisdiction")
def list_cases(
    platform: PlatformDep,
    principal: PrincipalDep,
    status: Annotated[str | None, Query(description="案件状态 / case status")] = None,
) -> list[Json]:
    return cases.list_cases(platform, principal, status)


@router.get("/cases/{case_id}", summary="案件 / A case")
def get_case(case_id: int, platform: PlatformDep, principal: PrincipalDep) -> Json:
    return cases.get_case(platform, principal, case_id)


@router.post("/cases/{case_id}/step", summary="调查、决定、结案 / Next step of a case")
def step_case(case_id: int, body: CaseStepIn, platform: PlatformDep, principal: PrincipalDep) -> Json:
    return cases.advance(platform, principal, case_id, body.model_dump())
