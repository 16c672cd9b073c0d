"""Uncertainty evaluation of a model file sent as JSON (the format of docs/uncertainty.md)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from jiliang.api.deps import PrincipalDep
from jiliang.api.schemas.common import ERRORS
from jiliang.errors import PayloadTooLarge
from jiliang.services import uncertainty

router = APIRouter(prefix="/api/v1/uncertainty", tags=["uncertainty 不确定度"], responses=ERRORS)


class ModelFileIn(BaseModel):
    """The model file as JSON; the engine checks the contents and names any faulty field."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(default=None, description="标题 / title")
    model: str = Field(description="测量模型，每行 y = 表达式 / the model, one 'y = expression' per line")
    inputs: dict[str, Any] = Field(
        description="输入量 / inputs: name -> {estimate, u | U,k | distribution | observations | anova | fit, "
        "unit, dof}"
    )
    outputs: dict[str, Any] | None = Field(default=None, description="输出单位 / outputs: name -> {unit}")
    tables: dict[str, Any] | None = Field(
        default=None, description="数据表 / data tables: name -> {column: [numbers]}"
    )
    correlations: list[Any] | None = Field(
        default=None, description="相关系数 / correlations: [[a, b, r], …] or {table: name} (estimated)"
    )
    options: dict[str, Any] | None = Field(
        default=None,
        description="选项 / options (p, k, truncate_dof, …, method gum|monte_carlo|both, trials, adaptive, "
        "ndig, seed, interval, nonfinite)",
    )


async def _bounded_body(request: Request, limit: int) -> bytes:
    """The body, counted as it arrives: an oversized model file is refused at the limit, not read whole."""
    declared = request.headers.get("content-length", "")
    too_large = PayloadTooLarge(f"模型文件过大 / model file larger than {limit:,} bytes", field="file")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


@router.post(
    "/evaluate",
    summary="评定测量不确定度（GUM / 蒙特卡洛）/ Evaluate measurement uncertainty (GUM, JCGM 101 Monte Carlo)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": ModelFileIn.model_json_schema()}},
        }
    },
)
async def evaluate(request: Request, principal: PrincipalDep) -> dict[str, Any]:
    raw = await _bounded_body(request, uncertainty.MAX_FILE_BYTES)
    try:
        body = ModelFileIn.model_validate_json(raw)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False)) from None
    return await run_in_threadpool(uncertainty.evaluate_document, body.model_dump(exclude_none=True))
