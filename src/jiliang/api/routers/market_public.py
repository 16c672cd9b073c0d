"""Market supervision, public side (一公开, 举报): published plans and their re-run, the net-content
calculator, complaint submission and its status by receipt code. No account needed."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from jiliang.api.deps import PlatformDep
from jiliang.api.schemas.common import ERRORS
from jiliang.api.schemas.market import ComplaintIn, NetContentIn
from jiliang.services.market import calculator, complaints, plans

router = APIRouter(prefix="/api/v1/public/market", tags=["market 民生计量（公开）"], responses=ERRORS)

Json = dict[str, Any]


@router.get("/plans", summary="已公布的抽查计划 / Published plans")
def published_plans(platform: PlatformDep) -> list[Json]:
    return plans.list_published(platform)


@router.get("/plans/{plan_id}", summary="公布的计划、种子、名录与抽查结果 / A published plan and its draw")
def published_plan(plan_id: int, platform: PlatformDep) -> Json:
    return plans.published(platform, plan_id)


@router.get("/plans/{plan_id}/rerun", summary="用公开种子复核抽取结果 / Re-run a published draw")
def rerun_plan(plan_id: int, platform: PlatformDep) -> Json:
    return plans.rerun(platform, plan_id)


@router.post("/net-content/check", summary="净含量计算（不保存）/ Net-content check, nothing stored")
def check_net_content(body: NetContentIn) -> Json:
    return calculator.check(body.model_dump(mode="json"))


@router.post("/complaints", status_code=201, summary="举报（可匿名）/ Report cheating (anonymous or named)")
def submit_complaint(body: ComplaintIn, platform: PlatformDep) -> Json:
    return complaints.submit(platform, body.model_dump())


@router.get("/complaints/{receipt_code}", summary="凭回执码查询办理状态 / Status by receipt code")
def complaint_status(receipt_code: str, platform: PlatformDep) -> Json:
    return complaints.status(platform, receipt_code)
