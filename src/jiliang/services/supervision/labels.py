"""Labels for what people read instead of stored codes: enum values, field names, actions (zh, en).

Pages and exports say 贸易结算 / trade settlement, never ``trade_settlement``; the object history says
使用单位 / owner, never ``owner_id``.
"""

from __future__ import annotations

Label = tuple[str, str]

USE: dict[str, Label] = {
    "trade_settlement": ("贸易结算", "trade settlement"),
    "safety_protection": ("安全防护", "safety protection"),
    "medical": ("医疗卫生", "medical"),
    "environmental_monitoring": ("环境监测", "environmental monitoring"),
    "other": ("其他", "other"),
}
INSTRUMENT_STATUS: dict[str, Label] = {
    "in_service": ("在用", "in service"),
    "suspended": ("停用", "suspended"),
    "scrapped": ("报废", "scrapped"),
}
CONCLUSION: dict[str, Label] = {"pass": ("合格", "pass"), "fail": ("不合格", "fail")}
ORGANISATION_KIND: dict[str, Label] = {
    "enterprise": ("企业", "enterprise"),
    "legal_verification_institution": ("法定计量检定机构", "legal verification institution"),
    "authorised_calibration_lab": ("授权校准实验室", "authorised calibration laboratory"),
    "market_operator": ("集贸市场经营者", "market operator"),
    "fuel_station": ("加油站", "fuel station"),
    "hospital": ("医疗机构", "hospital"),
    "utility": ("供水供电供气供热单位", "utility"),
    "government": ("行政机关", "government office"),
    "other": ("其他", "other"),
}
STANDARD_KIND: dict[str, Label] = {
    "national_primary": ("计量基准", "national primary standard"),
    "social_public": ("社会公用计量标准", "social public standard"),
    "department": ("部门最高计量标准", "department's highest standard"),
    "enterprise_highest": ("企事业单位最高计量标准", "enterprise's highest standard"),
}
CERTIFICATE_STATUS: dict[str, Label] = {
    "valid": ("有效", "valid"),
    "withdrawn": ("已撤销", "withdrawn"),
    "superseded": ("已替代", "superseded"),
}
CERTIFICATE_SOURCE: dict[str, Label] = {
    "issued": ("本平台签发", "issued here"),
    "imported": ("外部导入", "imported"),
}
ACTION: dict[str, Label] = {
    "create": ("创建", "created"),
    "update": ("修改", "changed"),
    "delete": ("删除", "deleted"),
}
OBJECT: dict[str, Label] = {
    "instruments": ("计量器具", "instrument"),
    "organisations": ("单位", "organisation"),
    "measurement_standards": ("计量标准", "measurement standard"),
    "verification_records": ("检定记录", "verification record"),
    "certificates": ("证书", "certificate"),
    "follow_ups": ("督办", "follow-up"),
    "standard_items": ("计量标准可检项目", "standard's item"),
    "standard_calibrations": ("计量标准校准", "standard's calibration"),
    "authorisations": ("授权", "authorisation"),
}
BOOLEAN: dict[bool, Label] = {True: ("是", "yes"), False: ("否", "no")}

# Column labels for the fields the history shows; fields not listed are not shown (ids, versions).
FIELD: dict[str, Label] = {
    "name": ("名称", "name"),
    "item_code": ("目录项", "catalogue item"),
    "model": ("型号规格", "model"),
    "measuring_range": ("测量范围", "measuring range"),
    "accuracy_class": ("准确度等级", "accuracy class"),
    "serial_number": ("出厂编号", "serial number"),
    "manufacturer": ("制造单位", "manufacturer"),
    "pattern_approval_no": ("型式批准编号", "pattern approval no."),
    "nominal_size": ("规格参数", "nominal size"),
    "location": ("使用地点", "place of use"),
    "region_code": ("行政区划", "region"),
    "use": ("用途", "use"),
    "owner_id": ("使用单位", "owner"),
    "status": ("状态", "status"),
    "status_since": ("状态日期", "status since"),
    "filed_on": ("备案日期", "filed on"),
    "first_used_on": ("启用日期", "first used on"),
    "compulsory": ("强制检定", "compulsory"),
    "last_verified_on": ("上次检定日期", "last verified on"),
    "last_conclusion": ("上次检定结论", "last conclusion"),
    "due_on": ("下次检定日期", "due on"),
    "valid_until": ("有效期至", "valid until"),
    "credit_code": ("统一社会信用代码", "credit code"),
    "kind": ("类别", "kind"),
    "address": ("地址", "address"),
    "contact": ("联系人及电话", "contact"),
    "holder_id": ("持有单位", "holder"),
    "quantity": ("量", "quantity"),
    "uncertainty": ("不确定度", "uncertainty"),
    "certificate_no": ("证书编号", "certificate no."),
    "certificate_valid_from": ("证书有效期起", "certificate valid from"),
    "certificate_valid_until": ("证书有效期至", "certificate valid until"),
    "active": ("在用", "active"),
    "instrument_id": ("计量器具", "instrument"),
    "institution_id": ("检定机构", "institution"),
    "standard_id": ("计量标准", "measurement standard"),
    "verified_on": ("检定日期", "verified on"),
    "conclusion": ("检定结论", "conclusion"),
    "document_no": ("证书编号", "document no."),
    "regulation": ("检定规程", "regulation"),
    "superseded": ("已被更正", "superseded"),
    "remarks": ("备注", "remarks"),
    "number": ("证书编号", "number"),
    "issuer_name": ("签发机构", "issuer"),
    "status_reason": ("原因", "reason"),
    "opened_on": ("督办日期", "opened on"),
    "note": ("督办说明", "note"),
    "reminders_queued": ("已发提醒", "reminders queued"),
    "closed_at": ("办结时间", "closed at"),
    "closed_by": ("办结人", "closed by"),
    "close_reason": ("办结原因", "reason for closing"),
}


def label(table: dict[str, Label], value: object, lang: str) -> str:
    """The label of ``value`` in ``lang`` ("zh" or "en"); an unknown value is shown as it is."""
    pair = table.get(str(value)) if value is not None else None
    if pair is None:
        return "" if value is None else str(value)
    return pair[0] if lang == "zh" else pair[1]


def yes_no(value: bool, lang: str) -> str:
    pair = BOOLEAN[bool(value)]
    return pair[0] if lang == "zh" else pair[1]
