"""Measuring instruments (计量器具) and verification records (检定记录)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import Field

from jiliang.api.schemas.common import In, Out
from jiliang.domain.catalogue import Use
from jiliang.domain.instruments import InstrumentStatus
from jiliang.domain.verification import Conclusion

# Which rows need what (size parameters, dates not in the future, duplicates) is decided by
# domain.filing.parse_instrument; these models only fix the shape of the request.


class InstrumentIn(In):
    name: str = Field(description="器具名称 / instrument name")
    item_code: str = Field(description="目录项代码 / catalogue item code (NN.MM)")
    model: str = Field(description="型号规格 / model or specification")
    serial_number: str = Field(description="出厂编号 / serial number")
    manufacturer: str = Field(description="制造单位 / manufacturer")
    region_code: str = Field(description="使用地点所在区划 / region of the place of use")
    use: Use = Field(description="用途 / use: trade_settlement, safety_protection, medical, …")
    owner_id: int | None = Field(default=None, description="使用单位（企业账户默认为本单位）/ owner")
    filed_on: date | None = Field(
        default=None, description="备案日期（默认今天）/ filing date, default today"
    )
    measuring_range: str = Field(default="", description="测量范围 / measuring range")
    accuracy_class: str = Field(default="", description="准确度等级 / accuracy class")
    pattern_approval_no: str = Field(default="", description="型式批准证书号 / pattern approval number")
    nominal_size: float | None = Field(
        default=None, description="规格参数值（水表 DN、燃气表 G）/ nominal size (water DN, gas G)"
    )
    location: str = Field(default="", description="使用地点 / place of use")
    first_used_on: date | None = Field(default=None, description="启用日期 / first used on")


class InstrumentPatch(In):
    name: str | None = Field(default=None, description="器具名称 / instrument name")
    model: str | None = Field(default=None, description="型号规格 / model or specification")
    measuring_range: str | None = Field(default=None, description="测量范围 / measuring range")
    accuracy_class: str | None = Field(default=None, description="准确度等级 / accuracy class")
    pattern_approval_no: str | None = Field(default=None, description="型式批准证书号 / pattern approval no.")
    location: str | None = Field(default=None, description="使用地点 / place of use")
    use: Use | None = Field(default=None, description="用途 / use")
    row_version: int | None = Field(
        default=None,
        description="读取时的版本号，用于乐观并发（也可用 If-Match）/ version you read (or send If-Match)",
    )


class StatusIn(In):
    status: InstrumentStatus = Field(description="新状态 / new status: in_service, suspended, scrapped")
    on: date | None = Field(default=None, description="生效日期（默认今天）/ effective date, default today")


class InstrumentOut(Out):
    id: int = Field(description="器具编号 / instrument id")
    name: str = Field(description="器具名称 / instrument name")
    item_code: str = Field(description="目录项代码 / catalogue item code")
    model: str = Field(description="型号规格 / model or specification")
    measuring_range: str = Field(description="测量范围 / measuring range")
    accuracy_class: str = Field(description="准确度等级 / accuracy class")
    serial_number: str = Field(description="出厂编号 / serial number")
    manufacturer: str = Field(description="制造单位 / manufacturer")
    pattern_approval_no: str = Field(description="型式批准证书号 / pattern approval number")
    nominal_size: float | None = Field(description="规格参数值 / nominal size")
    location: str = Field(description="使用地点 / place of use")
    region_code: str = Field(description="区划 / region code")
    use: Use = Field(description="用途 / use")
    owner_id: int = Field(description="使用单位 / owner")
    status: InstrumentStatus = Field(description="状态 / status")
    status_since: date = Field(description="状态起始日 / status since")
    filed_on: date = Field(description="备案日期 / filed on")
    first_used_on: date | None = Field(description="启用日期 / first used on")
    compulsory: bool = Field(description="是否属强制检定 / under compulsory verification (计量法 §9)")
    last_verified_on: date | None = Field(description="最近检定日期 / last verified on")
    last_conclusion: Conclusion | None = Field(description="最近检定结论 / last conclusion")
    due_on: date | None = Field(description="下次检定到期日 / next verification due on")
    valid_until: date | None = Field(description="检定有效期至 / verification valid until")
    row_version: int = Field(description="版本号（乐观并发）/ row version for optimistic concurrency")


class VerificationIn(In):
    instrument_id: int = Field(description="被检器具 / instrument verified")
    institution_id: int | None = Field(
        default=None, description="检定机构（机构账户默认为本机构）/ institution, default your own"
    )
    standard_id: int | None = Field(default=None, description="所用计量标准 / measurement standard used")
    verified_on: date = Field(description="检定日期 / verification date")
    conclusion: str = Field(description="结论 / conclusion: pass 合格 or fail 不合格")
    document_no: str = Field(description="检定证书或结果通知书编号 / certificate or notice number")
    remarks: str = Field(default="", description="备注 / remarks")
    supersedes_id: int | None = Field(
        default=None, description="被更正的记录（更正时填写）/ the record this one corrects"
    )


class VerificationOut(Out):
    id: int = Field(description="记录编号 / record id")
    instrument_id: int = Field(description="被检器具 / instrument")
    institution_id: int = Field(description="检定机构 / institution")
    standard_id: int | None = Field(description="所用计量标准 / measurement standard used")
    verified_on: date = Field(description="检定日期 / verification date")
    conclusion: Conclusion = Field(description="结论 / conclusion")
    document_no: str = Field(description="证书或通知书编号 / certificate or notice number")
    due_on: date | None = Field(description="下次检定到期日 / next due date set by this result")
    catalogue_version: str = Field(description="所依目录版本 / catalogue version applied")
    rule_form: str | None = Field(description="检定形式 / verification form applied")
    regulation: str = Field(description="检定规程 / regulation applied")
    supersedes_id: int | None = Field(description="所更正的记录 / record this one corrects")
    superseded: bool = Field(description="是否已被更正 / whether a later record corrects this one")
    effective_until: date | None = Field(description="生效至（不含）/ effective until, exclusive")
    remarks: str = Field(description="备注 / remarks")
    recorded_at: datetime = Field(description="录入时间 / recorded at")
