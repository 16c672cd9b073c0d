"""Comparisons and proficiency testing: analyse a round given as JSON or as the participants' CSV."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from jiliang.api.deps import PrincipalDep
from jiliang.api.routers.transfer import _REFUSALS, _UPLOAD_BODY, receive_upload
from jiliang.api.schemas.common import ERRORS
from jiliang.api.schemas.comparisons import ComparisonIn, ComparisonOut
from jiliang.metrology.comparison import (
    MAX_MEDIAN_TRIALS,
    MIN_MEDIAN_TRIALS,
    Exclusion,
    LabResult,
    MeanUncertainty,
    Method,
    Score,
)
from jiliang.services import comparisons

router = APIRouter(prefix="/api/v1/comparisons", tags=["comparisons 计量比对"], responses=ERRORS)


@router.post("/analyse", summary="分析比对结果 / Analyse a comparison or proficiency-testing round")
def analyse(body: ComparisonIn, principal: PrincipalDep) -> ComparisonOut:
    results = [
        LabResult(r.laboratory, r.value, r.uncertainty, r.k, row=i, contributes=r.contributes)
        for i, r in enumerate(body.results, 1)
    ]
    report = comparisons.analyse(
        results,
        method=body.method,
        reference=body.reference,
        reference_u=body.reference_u,
        sigma_pt=body.sigma_pt,
        score=body.score,
        alpha=body.alpha,
        exclusion=body.exclusion,
        trials=body.trials,
        seed=body.seed,
        mean_u=body.mean_u,
    )
    return ComparisonOut.model_validate(report.as_dict())


@router.post(
    "/analyse/upload",
    responses=_REFUSALS,
    openapi_extra=_UPLOAD_BODY,
    summary="上传 CSV 分析比对结果 / Analyse a round from the participants' CSV",
)
async def analyse_upload(
    request: Request,
    principal: PrincipalDep,
    method: Annotated[
        Method, Query(description="定值方法 / consensus, reference, weighted-mean, median")
    ] = Method.CONSENSUS,
    reference: Annotated[float | None, Query(description="参考值 / reference value")] = None,
    reference_u: Annotated[
        float | None, Query(description="参考值标准不确定度 / its standard uncertainty")
    ] = None,
    sigma_pt: Annotated[float | None, Query(description="能力评定标准差 / sigma_pt")] = None,
    score: Annotated[Score | None, Query(description="评分统计量 / statistic for the verdict")] = None,
    alpha: Annotated[
        float, Query(gt=0, lt=1, description="卡方检验显著性水平 / chi-squared test level")
    ] = 0.05,
    exclusion: Annotated[
        Exclusion, Query(description="加权平均的剔除方式 / weighted mean: lcs, largest-en, none")
    ] = Exclusion.LARGEST_CONSISTENT_SUBSET,
    trials: Annotated[
        int | None,
        Query(
            ge=MIN_MEDIAN_TRIALS, le=MAX_MEDIAN_TRIALS, description="中位数法蒙特卡洛次数 / median: trials"
        ),
    ] = None,
    seed: Annotated[
        int | None, Query(ge=0, le=2**63 - 1, description="中位数法随机种子 / median: seed")
    ] = None,
    mean_u: Annotated[
        MeanUncertainty, Query(description="算术平均的不确定度 / mean: stated or spread")
    ] = MeanUncertainty.STATED,
) -> ComparisonOut:
    upload = await receive_upload(request, comparisons.MAX_FILE_BYTES)  # a round's CSV, not a bulk import
    try:
        data = upload.file.read(comparisons.MAX_FILE_BYTES + 1)
    finally:
        upload.file.close()

    def run() -> ComparisonOut:
        report = comparisons.analyse(
            comparisons.read_results(data),
            method=method,
            reference=reference,
            reference_u=reference_u,
            sigma_pt=sigma_pt,
            score=score,
            alpha=alpha,
            exclusion=exclusion,
            trials=trials,
            seed=seed,
            mean_u=mean_u,
        )
        return ComparisonOut.model_validate(report.as_dict())

    return await run_in_threadpool(run)
