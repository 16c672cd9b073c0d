"""Regions, the catalogue, organisations, measurement standards and authorisations."""

from __future__ import annotations

import math
from datetime import date, datetime

from pydantic import Field, field_validator

from jiliang.api.schemas.common import In, Out
from jiliang.domain.catalogue import RegulatoryMode, VerificationForm
from jiliang.domain.instruments import OrganisationKind
from jiliang.domain.standards import StandardKind


class RegionIn(In):
    code: str = Field(description="6 位行政区划代码 (GB/T 2260) / six-digit region code")
    name_zh: str = Field(description="中文名称 / Chinese name")
    name_en: str = Field(default="", description="英文名称 / English name")


class RegionOut(Out):
    code: str = Field(description="行政区划代码 / region code")
    name_zh: str = Field(description="中文名称 / Chinese name")
    name_en: str = Field(description="英文名称 / English name")
    level: str = Field(description="层级 / level: national, province, city, county")
    parent_code: str | None = Field(description="上级区划 / parent region code")


class RuleOut(Out):
    rule_id: int | None = Field(description="规则编号 / rule id")
    form: VerificationForm | None = Field(
        description="检定形式 / verification form: periodic, until_failure, rotation (null: P only)"
    )
    period_months: int | None = Field(description="检定周期（月）/ verification period, months")
    service_life_months: int | None = Field(description="使用期限（月）/ service life, months")
    regulation: str = Field(description="检定规程 / governing JJG regulation")
    size_parameter: str = Field(description="规格参数（如 DN、G）/ size parameter, e.g. DN or G")
    size_min_exclusive: float | None = Field(description="规格下限（不含）/ lower size bound, exclusive")
    size_max_inclusive: float | None = Field(description="规格上限（含）/ upper size bound, inclusive")
    evidence: str = Field(description="依据状态 / confirmed from a source, or provisional")
    source: str = Field(description="出处 / source")
    notes: str = Field(description="备注 / notes")

    @field_validator("size_min_exclusive", "size_max_inclusive", mode="before")
    @classmethod
    def _unbounded(cls, value: float | None) -> float | None:
        # JSON has no infinity: an open bound is null.
        return None if value is None or math.isinf(value) else value


class CatalogueItemOut(Out):
    version: str = Field(description="目录版本 / catalogue version")
    item_code: str = Field(description="目录项代码 / item code (NN.MM)")
    level1_no: int = Field(description="一级目录序号 / first-level item number")
    level1_zh: str = Field(description="一级目录名称 / first-level item, Chinese")
    level1_en: str = Field(description="一级目录名称（英文）/ first-level item, English")
    level2_zh: str = Field(description="二级目录名称 / second-level item, Chinese")
    level2_en: str = Field(description="二级目录名称（英文）/ second-level item, English")
    mode: RegulatoryMode = Field(description="监管方式 / regulatory mode: P, V or P+V")
    effective_from: date = Field(description="实施日期 / in force from")
    evidence: str = Field(description="依据状态 / confirmed from a source, or provisional")
    source: str = Field(description="出处 / source")
    notes: str = Field(description="备注 / notes")


class CatalogueItemDetailOut(CatalogueItemOut):
    rules: list[RuleOut] = Field(description="检定规则 / verification rules of the item")


class OrganisationIn(In):
    credit_code: str = Field(description="统一社会信用代码 (GB 32100) / unified social credit code")
    name: str = Field(description="单位名称 / name")
    kind: OrganisationKind = Field(description="单位类型 / kind of organisation")
    region_code: str = Field(description="所在区划 / region code")
    address: str = Field(default="", description="地址 / address")
    contact: str = Field(default="", description="联系人或电话 / contact")


class OrganisationPatch(In):
    name: str | None = Field(default=None, description="单位名称 / name")
    kind: OrganisationKind | None = Field(default=None, description="单位类型 / kind of organisation")
    address: str | None = Field(default=None, description="地址 / address")
    contact: str | None = Field(default=None, description="联系人或电话 / contact")


class OrganisationOut(Out):
    id: int = Field(description="单位编号 / organisation id")
    credit_code: str = Field(description="统一社会信用代码 / unified social credit code")
    name: str = Field(description="单位名称 / name")
    kind: OrganisationKind = Field(description="单位类型 / kind of organisation")
    region_code: str = Field(description="所在区划 / region code")
    address: str = Field(description="地址 / address")
    contact: str = Field(description="联系人或电话 / contact")
    created_at: datetime = Field(description="登记时间 / registered at")


class StandardIn(In):
    name: str = Field(description="计量标准名称 / name of the measurement standard")
    kind: StandardKind = Field(description="类别 / kind: national_primary, social_public, …")
    holder_id: int | None = Field(
        default=None, description="建标单位（机构账户默认为本单位）/ holding organisation"
    )
    region_code: str = Field(description="所在区划 / region code")
    quantity: str = Field(description="测量的量 / quantity measured")
    measuring_range: str = Field(default="", description="测量范围 / measuring range")
    uncertainty: str = Field(default="", description="不确定度或准确度等级 / uncertainty or accuracy")
    certificate_no: str = Field(description="计量标准考核证书号 / approval certificate number")
    certificate_valid_from: date = Field(description="证书有效期起 / certificate valid from")
    certificate_valid_until: date = Field(description="证书有效期止 / certificate valid until")
    item_codes: list[str] = Field(description="可检定的目录项 / catalogue items it can verify")


class StandardOut(Out):
    id: int = Field(description="计量标准编号 / standard id")
    name: str = Field(description="名称 / name")
    kind: StandardKind = Field(description="类别 / kind")
    holder_id: int = Field(description="建标单位 / holding organisation")
    region_code: str = Field(description="所在区划 / region code")
    quantity: str = Field(description="测量的量 / quantity measured")
    measuring_range: str = Field(description="测量范围 / measuring range")
    uncertainty: str = Field(description="不确定度或准确度等级 / uncertainty or accuracy")
    certificate_no: str = Field(description="考核证书号 / approval certificate number")
    certificate_valid_from: date = Field(description="证书有效期起 / certificate valid from")
    certificate_valid_until: date = Field(description="证书有效期止 / certificate valid until")
    active: bool = Field(description="是否在用 / in use")


class StandardDetailOut(StandardOut):
    item_codes: list[str] = Field(description="可检定的目录项 / catalogue items it can verify")


class AuthorisationIn(In):
    institution_id: int = Field(description="被授权机构 / authorised institution")
    item_code: str = Field(description="目录项代码 / catalogue item code")
    region_code: str = Field(description="授权区域（含下级）/ region (with its subtree)")
    valid_from: date = Field(description="有效期起 / valid from")
    valid_until: date = Field(description="有效期止 / valid until")


class AuthorisationOut(Out):
    id: int = Field(description="授权编号 / authorisation id")
    institution_id: int = Field(description="被授权机构 / authorised institution")
    item_code: str = Field(description="目录项代码 / catalogue item code")
    region_code: str = Field(description="授权区域 / region")
    valid_from: date = Field(description="有效期起 / valid from")
    valid_until: date = Field(description="有效期止 / valid until")
