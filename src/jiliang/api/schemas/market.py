"""Request bodies of market supervision (issue 12). Answers are the services' dictionaries."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from jiliang.api.schemas.common import In


class InspectorIn(In):
    name: str = Field(description="姓名 / name")
    region_code: str = Field(description="所属区划 / region of the inspector's office")
    organisation_id: int | None = Field(
        default=None, description="所在单位（利益冲突判断）/ own organisation"
    )
    user_id: int | None = None


class RelationIn(In):
    organisation_id: int = Field(description="有利害关系的单位 / the related organisation")
    note: str = ""


class PlanIn(In):
    name: str
    region_code: str = Field(description="抽查范围（含下级）/ region with its subtree")
    org_kinds: list[str] = Field(description="单位类型 / registry organisation kinds")
    item_code: str | None = Field(default=None, description="只抽持有该目录项器具的单位 / catalogue item")
    ratio: float | None = Field(default=None, description="抽查比例 (0, 1] / sampling ratio")
    quotas: dict[str, int] | None = Field(default=None, description="各层抽取数 / per-stratum counts")
    strata_by: Literal["none", "kind", "region", "kind_region"] = "kind"
    team_size: int = 2
    lookback_days: int = 365


class CommitIn(In):
    commitment: str | None = Field(
        default=None,
        description="自带种子的 SHA-256 承诺值（缺省由平台生成种子）/ your own seed's commitment",
    )


class DrawIn(In):
    seed: str | None = Field(default=None, description="自带种子时在此公开 / reveal your own seed here")


class ReassignIn(In):
    inspector_ids: list[int]
    reason: str = Field(default="", max_length=300)


class InstrumentCheckIn(In):
    instrument_id: int | None = None
    description: str = ""
    measured_error: float
    mpe: float = Field(description="最大允许误差（正数）/ maximum permissible error")
    unit: str = ""


class ResultIn(In):
    inspected_on: date
    conclusion: Literal["pass", "rectify", "fail"]
    findings: str = ""
    instruments: list[InstrumentCheckIn] = Field(default_factory=list)
    supersedes_id: int | None = None


class NetContentIn(In):
    organisation_id: int
    product: str = ""
    ruleset: str | None = Field(default=None, description="JJF1070-2005 | JJF1070-2023 | EU-76/211/EEC")
    nominal: float | str
    unit: str | None = None
    lot_size: int
    measurements: list[float | str]
    measurement_unit: str | None = None
    tares: list[float | str] | None = None
    method: Literal["non_destructive", "destructive"] = "non_destructive"
    drained: bool = False
    inspected_on: date | None = None
    target_id: int | None = None


class CreditEventIn(In):
    organisation_id: int
    kind: str
    occurred_on: date
    note: str = ""


class ReporterIn(In):
    name: str
    phone: str
    id_number: str = ""
    address: str = ""


class ComplaintIn(In):
    region_code: str
    subject_name: str = Field(description="被举报对象 / who is reported")
    organisation_id: int | None = None
    content: str
    reporter: ReporterIn | None = Field(default=None, description="缺省为匿名 / omit to stay anonymous")


class ComplaintUpdateIn(In):
    status: Literal["investigating", "confirmed", "unfounded", "closed"] | None = None
    resolution: str | None = None
    reward: str | None = None


class RevealIn(In):
    reason: str = Field(description="查看理由（记入审计）/ why (recorded in the audit trail)")


class CaseIn(In):
    source_type: Literal["inspection", "net_content", "complaint", "warning"]
    source_id: str
    organisation_id: int | None = None
    summary: str = ""
    evidence: list[str] = Field(default_factory=list)


class CaseStepIn(In):
    status: Literal["investigating", "decided", "closed"]
    violation: bool | None = None
    decision: str = ""
    penalty: str = ""
    evidence: list[str] = Field(default_factory=list)
