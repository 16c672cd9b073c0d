"""Uncertainty evaluation of a model file sent as JSON (the format of docs/uncertainty.md)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from jiliang.api.deps import PrincipalDep
from jiliang.api.schemas.common import ERRORS
from jiliang.services import uncertainty

router = APIRouter(prefix="/api/v1/uncertainty", tags=["uncertainty 不确定度"], responses=ERRORS)


class ModelFileIn(BaseModel):
    """The model file as JSON; the engine checks the contents and names any faulty field."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(default=None, description="标题 / title")
    model: str = Field(description="测量模型，每行 y = 表达式 / the model, one 'y = expression' per line")
    inputs: dict[str, Any] = Field(
        description="输入量 / inputs: name -> {estimate, u | U,k | distribution, unit, dof}"
    )
    outputs: dict[str, Any] | None = Field(default=None, description="输出单位 / outputs: name -> {unit}")
    correlations: list[Any] | None = Field(
        default=None, description="相关系数 / correlations: [[a, b, r], …]"
    )
    options: dict[str, Any] | None = Field(
        default=None,
        description="选项 / options (p, k, truncate_dof, …, method gum|monte_carlo|both, trials, adaptive, "
        "ndig, seed, interval)",
    )


@router.post(
    "/evaluate",
    summary="评定测量不确定度（GUM / 蒙特卡洛）/ Evaluate measurement uncertainty (GUM, JCGM 101 Monte Carlo)",
)
def evaluate(body: ModelFileIn, principal: PrincipalDep) -> dict[str, Any]:
    return uncertainty.evaluate_document(body.model_dump(exclude_none=True))
