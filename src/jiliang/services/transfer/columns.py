"""The columns of the exchange files: model field names, the headers an office writes, value labels.

An office's spreadsheet says 器具名称 where the API says ``name``; both are accepted, and an export
writes one of the two header sets so that what is exported imports again unchanged. This module only
translates names and labels; every rule about the values stays in the domain.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from jiliang.domain.catalogue import Use
from jiliang.domain.verification import Conclusion

Headers = Literal["zh", "en"]


@dataclass(frozen=True, slots=True)
class Column:
    field: str
    zh: str
    required: bool = False


INSTRUMENT_COLUMNS: tuple[Column, ...] = (
    Column("name", "器具名称", True),
    Column("item_code", "目录项代码", True),
    Column("model", "型号规格", True),
    Column("serial_number", "出厂编号", True),
    Column("manufacturer", "制造单位", True),
    Column("region_code", "行政区划代码", True),
    Column("use", "用途", True),
    Column("filed_on", "备案日期"),
    Column("measuring_range", "测量范围"),
    Column("accuracy_class", "准确度等级"),
    Column("pattern_approval_no", "型式批准编号"),
    Column("nominal_size", "规格参数"),
    Column("location", "安装地点"),
    Column("first_used_on", "启用日期"),
    Column("owner_credit_code", "使用单位统一社会信用代码"),
)

VERIFICATION_COLUMNS: tuple[Column, ...] = (
    Column("manufacturer", "制造单位", True),
    Column("model", "型号规格", True),
    Column("serial_number", "出厂编号", True),
    Column("institution_credit_code", "检定机构统一社会信用代码"),
    Column("standard_certificate_no", "计量标准考核证书编号"),
    Column("verified_on", "检定日期", True),
    Column("conclusion", "检定结论", True),
    Column("document_no", "证书编号", True),
    Column("remarks", "备注"),
)

# Columns an office sheet often carries that hold nothing to import (a running number).
IGNORED_HEADERS = frozenset({"序号", "编号序号", "no", "no."})

# The uses as 计量法 §9 names them, for sheets written in Chinese.
USE_LABELS: dict[Use, str] = {
    Use.TRADE_SETTLEMENT: "贸易结算",
    Use.SAFETY_PROTECTION: "安全防护",
    Use.MEDICAL: "医疗卫生",
    Use.ENVIRONMENTAL_MONITORING: "环境监测",
    Use.OTHER: "其他",
}
USE_FROM_LABEL: dict[str, str] = {label: use.value for use, label in USE_LABELS.items()}

CONCLUSION_LABELS: dict[Conclusion, str] = {Conclusion.PASS: "合格", Conclusion.FAIL: "不合格"}


def header_index(columns: tuple[Column, ...]) -> dict[str, str]:
    """Every accepted spelling of a header (field name, Chinese label), normalised, to its field."""
    out: dict[str, str] = {}
    for col in columns:
        out[normalise_header(col.field)] = col.field
        out[normalise_header(col.zh)] = col.field
    return out


def normalise_header(text: object) -> str:
    """Headers are matched ignoring case, surrounding blanks, a BOM and the '*' that marks a must-fill."""
    return str(text or "").replace("\ufeff", "").strip().rstrip("*＊").strip().lower()


def header_row(columns: tuple[Column, ...], headers: Headers) -> list[str]:
    return [c.zh if headers == "zh" else c.field for c in columns]


# The 督办 list (issue 10): what a supervisor needs to chase an overdue instrument, owner and contact
# included. An export only: it is not read back by an importer.
FOLLOW_UP_COLUMNS: tuple[Column, ...] = (
    Column("name", "器具名称"),
    Column("serial_number", "出厂编号"),
    Column("item", "目录项"),
    Column("model", "型号规格"),
    Column("owner_name", "使用单位"),
    Column("owner_credit_code", "统一社会信用代码"),
    Column("owner_contact", "联系人及电话"),
    Column("owner_address", "单位地址"),
    Column("location", "使用地点"),
    Column("region", "行政区划"),
    Column("last_verified_on", "上次检定日期"),
    Column("last_conclusion", "上次检定结论"),
    Column("due_on", "到期日期"),
    Column("days_overdue", "超期天数"),
)
