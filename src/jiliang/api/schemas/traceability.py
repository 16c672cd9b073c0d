"""Traceability: calibrations of standards, chains, broken chains, impact analysis."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import Field

from jiliang.api.schemas.common import In, Out
from jiliang.services.traceability import ImpactReason


class CalibrationIn(In):
    standard_id: int = Field(description="被校准的计量标准 / the standard calibrated")
    reference_standard_id: int | None = Field(
        default=None, description="所用上级标准 / the higher standard used (or give anchor_name)"
    )
    anchor_name: str = Field(
        default="",
        description="外部溯源源头：计量基准或国外 NMI 的 CMC / external anchor: primary standard or CMC",
    )
    anchor_nmi: str = Field(default="", description="国家计量院 / national metrology institute")
    anchor_cmc_ref: str = Field(
        default="", description="CMC 或基准证书编号 / CMC or primary-standard reference"
    )
    institution_id: int | None = Field(default=None, description="校准机构 / calibrating institution")
    certificate_no: str = Field(description="校准证书号 / calibration certificate number")
    calibrated_on: date = Field(description="校准日期 / date of calibration")
    valid_until: date = Field(description="证书有效期止 / certificate valid until")
    expanded_uncertainty: float = Field(description="扩展不确定度 U / expanded uncertainty U")
    coverage_factor: float = Field(default=2.0, description="包含因子 k / coverage factor k")
    unit: str = Field(
        default="%", description="U 的单位：%、ppm、1 或 SI 单位 / unit of U: %, ppm, 1 or an SI unit"
    )
    tolerance: float | None = Field(default=None, description="最大允许误差 ± / tolerance (MPE) ±, same unit")
    in_tolerance: bool = Field(default=True, description="校准结论是否合格 / found within tolerance")
    remarks: str = Field(default="", description="备注 / remarks")


class CalibrationOut(Out):
    id: int = Field(description="校准记录编号 / calibration id")
    standard_id: int = Field(description="被校准的计量标准 / standard calibrated")
    reference_standard_id: int | None = Field(description="所用上级标准 / higher standard used")
    anchor_name: str = Field(description="外部溯源源头 / external anchor")
    anchor_nmi: str = Field(description="国家计量院 / NMI")
    anchor_cmc_ref: str = Field(description="CMC 或基准证书编号 / CMC reference")
    institution_id: int | None = Field(description="校准机构 / calibrating institution")
    certificate_no: str = Field(description="校准证书号 / certificate number")
    calibrated_on: date = Field(description="校准日期 / date of calibration")
    valid_until: date = Field(description="有效期止 / valid until")
    expanded_uncertainty: float = Field(description="扩展不确定度 U / expanded uncertainty")
    coverage_factor: float = Field(description="包含因子 k / coverage factor")
    unit: str = Field(description="单位 / unit")
    tolerance: float | None = Field(description="最大允许误差 / tolerance")
    in_tolerance: bool = Field(description="是否合格 / within tolerance")
    remarks: str = Field(description="备注 / remarks")
    recorded_at: datetime = Field(description="登记时间 / recorded at")


class LinkOut(Out):
    level: int = Field(description="层级（0 为被溯源对象自身）/ level, 0 = the item's own link")
    kind: str = Field(description="verification | in_use | calibration | anchor")
    item: str = Field(description="被检定/校准的对象 / item calibrated")
    standard_id: int | None = Field(description="所用标准 / standard used")
    standard_name: str = Field(description="所用标准名称 / name of the standard used")
    calibration_id: int | None = Field(description="当日有效的校准 / calibration in force that day")
    certificate_no: str = Field(description="证书号 / certificate number")
    on: date = Field(description="日期 / date")
    valid_until: date | None = Field(description="有效期止 / valid until")
    status: str = Field(description="环节状态 / link status")
    reason: str = Field(description="原因 / reason")
    uncertainty: float | None = Field(description="本环节标准不确定度 (k=1) / link standard uncertainty")
    unit: str = Field(description="单位（1 为相对量）/ unit (1 = relative)")
    tur: float | None = Field(description="测试不确定度比 / test uncertainty ratio")
    anchor: str = Field(description="溯源源头 / anchor")


class ChainOut(Out):
    subject: str = Field(description="被溯源对象 / the item traced")
    status: str = Field(description="ok 或断链原因 / ok or why broken")
    reason: str = Field(description="说明 / reason")
    first_broken_level: int | None = Field(description="首个断开环节 / first broken link")
    broken_standard_id: int | None = Field(description="断开处的标准 / standard at the break")
    depth: int = Field(description="环节数 / links")
    uncertainty: float | None = Field(description="沿链传播的标准不确定度 (k=1, RSS) / propagated u")
    unit: str = Field(description="单位（1 为相对量）/ unit (1 = relative)")
    min_tur: float | None = Field(description="链上最小 TUR / lowest TUR of the chain")
    tur_warning: bool = Field(description="TUR 低于设定值 / a TUR below the minimum")
    suspect: bool = Field(
        description="上游标准后来被发现超差 / an upstream standard later found out of tolerance"
    )
    links: list[LinkOut] = Field(description="环节 / links")


class BrokenItemOut(Out):
    instrument_id: int
    serial_number: str
    region_code: str
    institution_id: int
    record_id: int
    document_no: str
    verified_on: date
    standard_id: int | None
    status: str
    reason: str
    first_broken_level: int
    broken_standard_id: int | None


class BrokenGroupOut(Out):
    region_code: str
    institution_id: int
    institution: str
    checked: int
    broken: int
    unrecorded: int
    tur_warnings: int
    by_reason: dict[str, int]


class BrokenOut(Out):
    as_of: date
    checked: int = Field(description="检查的在用器具 / instruments in service checked")
    broken: int = Field(description="断链或过期 / chains broken or expired")
    unrecorded: int = Field(description="未记录所用标准 / verifications naming no standard")
    tur_warnings: int = Field(description="TUR 偏低 / chains with a low TUR")
    groups: list[BrokenGroupOut] = Field(description="按区划和机构 / by region and institution")
    items: list[BrokenItemOut] = Field(description="断链器具（限额内）/ broken instruments, up to limit")
    standards: list[ChainOut] = Field(
        description="今日断链的计量标准 / standards whose chain is broken today"
    )


class ImpactIn(In):
    on: date = Field(description="发现超差或证书失效的日期 / date found out of tolerance or lapsed")
    reason: ImpactReason = Field(default=ImpactReason.OUT_OF_TOLERANCE, description="原因 / reason")
    since: date | None = Field(
        default=None,
        description="起算日（默认上次合格校准）/ window start, default its last good calibration",
    )


class RecalledRecordOut(Out):
    record_id: int
    document_no: str
    instrument_id: int
    serial_number: str
    owner_id: int
    region_code: str
    institution_id: int
    standard_id: int | None
    verified_on: date
    conclusion: str


class RecalledCalibrationOut(Out):
    calibration_id: int
    certificate_no: str
    standard_id: int
    standard_name: str
    reference_standard_id: int | None
    calibrated_on: date


class ImpactOut(Out):
    standard_id: int
    standard_name: str
    on: date
    reason: str
    since: date | None = Field(description="窗口起点 / start of the window")
    calibrations: list[RecalledCalibrationOut] = Field(
        description="需追回的校准证书 / calibrations to recall"
    )
    standards: list[int] = Field(description="受影响的下游标准 / standards downstream")
    records: list[RecalledRecordOut] = Field(description="需追回的检定记录 / verification records to recall")
    instruments: list[int] = Field(description="受影响的器具 / instruments downstream")
    records_total: int = Field(
        description="全部需追回记录（含管辖外）/ all records, including outside your scope"
    )
    instruments_total: int = Field(description="全部受影响器具 / all instruments")
