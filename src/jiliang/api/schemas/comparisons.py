"""Request and response shapes of comparisons and proficiency testing (计量比对 / 能力验证)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from jiliang.api.schemas.common import In, Out
from jiliang.metrology.comparison import (
    MAX_MEDIAN_TRIALS,
    MEDIAN_TRIALS,
    MIN_MEDIAN_TRIALS,
    Exclusion,
    MeanUncertainty,
    Method,
    Score,
)


class LabResultIn(In):
    laboratory: str = Field(min_length=1, max_length=200, description="实验室 / laboratory")
    value: float = Field(description="测量值 / measured value")
    uncertainty: float | None = Field(
        default=None, description="扩展不确定度 U（k=1 时为标准不确定度）/ expanded uncertainty U at k"
    )
    k: float = Field(default=2.0, description="包含因子 / coverage factor")
    contributes: bool = Field(
        default=True,
        description="计入参考值 / contributes to the reference value (false: evaluated against it only)",
    )


class ComparisonIn(In):
    results: list[LabResultIn] = Field(max_length=10_000, description="各实验室结果 / participants' results")
    method: Method = Field(
        default=Method.CONSENSUS,
        description="定值方法 / consensus (ISO 13528 Algorithm A), reference, weighted-mean (Cox 2002 A), "
        "median (Cox 2002 B), mean (arithmetic mean)",
    )
    reference: float | None = Field(default=None, description="参考值 / reference value (method reference)")
    reference_u: float | None = Field(
        default=None, description="参考值标准不确定度 / its standard uncertainty"
    )
    sigma_pt: float | None = Field(default=None, description="能力评定标准差 / SD for proficiency assessment")
    score: Score | None = Field(default=None, description="评分统计量 / statistic for the verdict")
    alpha: float = Field(default=0.05, description="卡方检验显著性水平 / chi-squared test level")
    exclusion: Exclusion = Field(
        default=Exclusion.LARGEST_CONSISTENT_SUBSET,
        description="加权平均不一致时的剔除方式 / weighted mean: what leaves the reference when the χ² check "
        "fails: lcs (largest consistent subset, Cox 2007), largest-en, none",
    )
    trials: int | None = Field(
        default=None,
        ge=MIN_MEDIAN_TRIALS,
        le=MAX_MEDIAN_TRIALS,
        description=f"中位数法蒙特卡洛次数 / median: Monte Carlo trials (none: {MEDIAN_TRIALS:,}, fewer for "
        "many laboratories)",
    )
    seed: int | None = Field(
        default=None,
        ge=0,
        le=2**63 - 1,
        description="中位数法随机种子 / median: seed (none: fresh, reported)",
    )
    mean_u: MeanUncertainty = Field(
        default=MeanUncertainty.STATED,
        description="算术平均参考值的不确定度 / mean: u(y) from the stated uncertainties or the spread",
    )


class ComparisonRowOut(Out):
    laboratory: str = Field(description="实验室 / laboratory")
    value: float = Field(description="测量值 / value")
    uncertainty: float | None = Field(description="扩展不确定度 / expanded uncertainty U")
    k: float = Field(description="包含因子 / coverage factor")
    z: float | None = Field(default=None, description="z 值 / z score")
    z_prime: float | None = Field(default=None, description="z′ 值 / z′ score")
    zeta: float | None = Field(default=None, description="ζ 值 / zeta score")
    En: float | None = Field(default=None, description="En 值 / En number")
    d: float | None = Field(default=None, description="等效度 / degree of equivalence d_i")
    U_d: float | None = Field(default=None, description="等效度扩展不确定度 / U(d_i), k = 2")
    in_reference: bool | None = Field(default=None, description="计入参考值 / contributes to the reference")
    d_low: float | None = Field(
        default=None, description="中位数法 d_i 包含区间下限 / median: interval low end"
    )
    d_high: float | None = Field(
        default=None, description="中位数法 d_i 包含区间上限 / median: interval high end"
    )
    score: float | None = Field(description="评定所用统计量的值 / value of the chosen statistic")
    verdict: str | None = Field(description="结论 / satisfactory, questionable, unsatisfactory")
    verdict_zh: str | None = Field(description="结论（中文）/ verdict in Chinese")


class ComparisonOut(Out):
    method: Method = Field(description="定值方法 / method")
    score: Score = Field(description="评分统计量 / statistic")
    reference_value: float = Field(description="指定值或参考值 / assigned or reference value")
    reference_u: float = Field(description="其标准不确定度 / its standard uncertainty")
    sigma_pt: float | None = Field(description="能力评定标准差 / sigma_pt")
    summary: dict[str, Any] = Field(description="汇总 / summary (χ² check, counts of verdicts, s*)")
    results: list[ComparisonRowOut] = Field(description="逐实验室结果 / per laboratory")
    notes: list[str] = Field(description="说明 / notes on choices made")
