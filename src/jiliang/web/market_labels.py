"""Chinese and English labels for the market pages: every stored code a person reads becomes words here
(and the ``local_iso`` filter for the ISO instants the market services return).

One table per kind of code (organisation kinds, plan and target states, conclusions, complaint and case
states, case sources, net-content verdicts and methods, credit events), each ``code -> (中文, English)``.
"""

from __future__ import annotations

from datetime import datetime

from jiliang.domain.instruments import OrganisationKind
from jiliang.legal import cases as case_rules
from jiliang.legal import credit as credit_rules
from jiliang.web.common import local_time, templates

Labels = dict[str, tuple[str, str]]

ORG_KINDS: Labels = {
    OrganisationKind.ENTERPRISE.value: ("企业", "Enterprise"),
    OrganisationKind.LEGAL_VERIFICATION_INSTITUTION.value: (
        "法定计量检定机构",
        "Legal verification institution",
    ),
    OrganisationKind.AUTHORISED_CALIBRATION_LAB.value: ("授权校准实验室", "Authorised calibration lab"),
    OrganisationKind.MARKET_OPERATOR.value: ("集贸市场经营者", "Market operator"),
    OrganisationKind.FUEL_STATION.value: ("加油站", "Fuel station"),
    OrganisationKind.HOSPITAL.value: ("医疗机构", "Hospital"),
    OrganisationKind.UTILITY.value: ("供水供电供气供热单位", "Utility"),
    OrganisationKind.GOVERNMENT.value: ("行政机关", "Government body"),
    OrganisationKind.OTHER.value: ("其他", "Other"),
}

PLAN_STATUS: Labels = {
    "draft": ("草稿，未公布承诺值", "draft, no commitment yet"),
    "committed": ("已公布种子承诺值，待抽取", "commitment published, not drawn"),
    "drawn": ("已抽取", "drawn"),
}

STRATA_BY: Labels = {
    "none": ("不分层", "no strata"),
    "kind": ("按单位类型", "by kind of organisation"),
    "region": ("按区划", "by region"),
    "kind_region": ("按区划和单位类型", "by region and kind"),
}

TARGET_STATUS: Labels = {"pending": ("待检查", "to inspect"), "done": ("已检查", "inspected")}

CONCLUSIONS: Labels = {
    "pass": ("合格", "pass"),
    "rectify": ("限期整改", "rectify within a deadline"),
    "fail": ("不合格", "fail"),
}

COMPLAINT_STATUS: Labels = {
    case_rules.ComplaintStatus.RECEIVED.value: ("已受理", "received"),
    case_rules.ComplaintStatus.INVESTIGATING.value: ("核查中", "being checked"),
    case_rules.ComplaintStatus.CONFIRMED.value: ("经查属实", "confirmed"),
    case_rules.ComplaintStatus.UNFOUNDED.value: ("经查不属实", "unfounded"),
    case_rules.ComplaintStatus.CLOSED.value: ("已办结", "closed"),
}

CASE_STATUS: Labels = {
    case_rules.CaseStatus.FILED.value: ("立案", "filed"),
    case_rules.CaseStatus.INVESTIGATING.value: ("调查", "investigating"),
    case_rules.CaseStatus.DECIDED.value: ("决定", "decided"),
    case_rules.CaseStatus.CLOSED.value: ("结案", "closed"),
}

CASE_SOURCES: Labels = {
    case_rules.CaseSource.INSPECTION.value: ("抽查结果", "inspection result"),
    case_rules.CaseSource.NET_CONTENT.value: ("净含量检验", "net-content inspection"),
    case_rules.CaseSource.COMPLAINT.value: ("举报", "complaint"),
    case_rules.CaseSource.WARNING.value: ("远程监管预警", "remote-supervision warning"),
}

OVERDUE_STEPS: Labels = {
    "investigate": ("调查已超期", "investigation overdue"),
    "decide": ("决定已超期", "decision overdue"),
    "close": ("结案已超期", "closing overdue"),
}

VERDICTS: Labels = {
    "pass": ("合格", "pass"),
    "fail": ("不合格", "fail"),
    "second_sample": ("须抽取第二样本", "draw the second sample"),
}

METHODS: Labels = {
    "non_destructive": ("非破坏性检验", "non-destructive"),
    "destructive": ("破坏性检验", "destructive"),
}

RULESETS: Labels = {
    "JJF1070-2023": ("JJF 1070-2023", "JJF 1070-2023"),
    "JJF1070-2005": ("JJF 1070-2005", "JJF 1070-2005"),
    "EU-76/211/EEC": ("欧盟 76/211/EEC 平均数制", "EU 76/211/EEC average system"),
}

CREDIT_EVENTS: Labels = {
    k.value: (credit_rules.KIND_ZH[k], en)
    for k, en in (
        (credit_rules.EventKind.INSPECTION_PASSED, "inspection passed"),
        (credit_rules.EventKind.INSPECTION_FAILED, "inspection failed"),
        (credit_rules.EventKind.NET_CONTENT_PASSED, "net content passed"),
        (credit_rules.EventKind.NET_CONTENT_FAILED, "net content failed"),
        (credit_rules.EventKind.VERIFICATION_FAILED, "verification failed"),
        (credit_rules.EventKind.OVERDUE_INSTRUMENT, "instrument overdue"),
        (credit_rules.EventKind.REMOTE_WARNING, "remote-supervision warning"),
        (credit_rules.EventKind.COMPLAINT_CONFIRMED, "complaint confirmed"),
        (credit_rules.EventKind.CASE_VIOLATION, "case found a violation"),
        (credit_rules.EventKind.PENALTY, "penalty"),
        (credit_rules.EventKind.SELF_COMMITMENT, "honest-metrology self-commitment"),
        (credit_rules.EventKind.EXEMPLARY_UNIT, "exemplary unit"),
    )
}

# Events a supervisor enters by hand (the others are written by results, inspections, complaints, cases).
MANUAL_EVENTS = (
    credit_rules.EventKind.SELF_COMMITMENT.value,
    credit_rules.EventKind.EXEMPLARY_UNIT.value,
    credit_rules.EventKind.OVERDUE_INSTRUMENT.value,
    credit_rules.EventKind.REMOTE_WARNING.value,
    credit_rules.EventKind.VERIFICATION_FAILED.value,
    credit_rules.EventKind.PENALTY.value,
)

TABLES: dict[str, Labels] = {
    "kind": ORG_KINDS,
    "plan_status": PLAN_STATUS,
    "strata_by": STRATA_BY,
    "target_status": TARGET_STATUS,
    "conclusion": CONCLUSIONS,
    "complaint_status": COMPLAINT_STATUS,
    "case_status": CASE_STATUS,
    "case_source": CASE_SOURCES,
    "overdue": OVERDUE_STEPS,
    "verdict": VERDICTS,
    "method": METHODS,
    "ruleset": RULESETS,
    "event": CREDIT_EVENTS,
}


def labeller(lang: str) -> dict[str, dict[str, str]]:
    """``label[table][code]`` in the page's language (templates fall back to the code for unknown ones)."""
    i = 0 if lang == "zh" else 1
    return {name: {code: pair[i] for code, pair in table.items()} for name, table in TABLES.items()}


def local_iso(value: str | None) -> str:
    """An ISO instant as the market services return it, shown in Asia/Shanghai (``local_time``)."""
    return local_time(datetime.fromisoformat(value)) if value else ""


templates.env.filters["local_iso"] = local_iso
