"""Enforcement cases (案件): filed → investigating → decided → closed, opened from an inspection result, a
net-content inspection, a complaint or a remote-supervision warning, with deadlines (``legal.cases``) and
linked evidence. Closing a case that found a violation writes its credit events (and a penalty's)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jiliang.domain.access import Principal
from jiliang.errors import Conflict, InvalidInput
from jiliang.legal import cases as rules
from jiliang.legal import credit as credit_rules
from jiliang.services.common import not_found
from jiliang.services.market import credit
from jiliang.services.market.common import (
    now,
    require_complaint_handler,
    require_region,
    require_supervisor,
    visible_organisation,
)
from jiliang.services.platform import Platform
from jiliang.store.models import (
    Complaint,
    EnforcementCase,
    MarketResult,
    NetContentInspection,
    TelemetryWarning,
)

DEADLINES = rules.CaseDeadlines()


def _source_org(
    s: Session, principal: Principal, source: rules.CaseSource, source_id: str, organisation_id: int | None
) -> int:
    """The organisation a case is about, from its source (which must exist and be visible)."""
    try:
        sid = int(source_id)
    except ValueError:
        sid = -1
    if source is rules.CaseSource.INSPECTION:
        result = s.get(MarketResult, sid)
        if result is None:
            raise not_found("检查结果 result", source_id)
        return result.organisation_id
    if source is rules.CaseSource.NET_CONTENT:
        insp = s.get(NetContentInspection, sid)
        if insp is None:
            raise not_found("净含量检验 inspection", source_id)
        return insp.organisation_id
    if source is rules.CaseSource.COMPLAINT:
        complaint = s.get(Complaint, sid)
        if complaint is None:
            raise not_found("举报 complaint", source_id)
        require_region(principal, complaint.region_code, "举报 complaint", source_id)
        if complaint.case_id is not None:
            raise Conflict("该举报已立案 / a case is already open for this complaint", field="source_id")
        org = complaint.organisation_id or organisation_id
        if org is None:
            raise InvalidInput(
                "须指明被立案单位 / name the organisation the case is about", field="organisation_id"
            )
        return org
    # A remote-supervision or energy warning (services.warnings): its owner, within the jurisdiction.
    warning = s.get(TelemetryWarning, sid)
    if warning is None or warning.region_code is None:
        raise not_found("预警 warning", source_id)
    require_region(principal, warning.region_code, "预警 warning", source_id)
    if warning.case_id is not None:
        raise Conflict("该预警已立案 / a case is already open for this warning", field="source_id")
    org = warning.owner_id or organisation_id
    if org is None:
        raise InvalidInput(
            "须指明被立案单位 / name the organisation the case is about", field="organisation_id"
        )
    return int(org)


def open_case(platform: Platform, principal: Principal, data: dict[str, Any]) -> dict[str, Any]:
    """立案: ``source_type`` (inspection|net_content|complaint|warning), ``source_id``, optional
    ``organisation_id``, ``summary``, ``evidence`` (a list of references: documents, photos, log leaves).
    The complaint officer may open a case from a complaint only; supervisors from any source."""
    require_complaint_handler(principal)
    try:
        source = rules.CaseSource(str(data.get("source_type")))
    except ValueError:
        raise InvalidInput(
            "案件来源须为 inspection、net_content、complaint 或 warning / unknown source_type",
            field="source_type",
        ) from None
    if source is not rules.CaseSource.COMPLAINT:
        require_supervisor(principal)
    evidence = data.get("evidence") or []
    if not isinstance(evidence, list) or not all(isinstance(e, str) for e in evidence):
        raise InvalidInput("证据须为字符串列表 / evidence must be a list of strings", field="evidence")
    with platform.unit_of_work(principal) as s:
        case = open_case_in(s, platform, principal, source, data, evidence)
        return case_dict(case, platform.local_today())


def open_case_in(
    s: Session,
    platform: Platform,
    principal: Principal,
    source: rules.CaseSource,
    data: dict[str, Any],
    evidence: list[str],
) -> EnforcementCase:
    """立案 inside the caller's unit of work (a penalised warning opens its case with its disposal)."""
    today = platform.local_today()
    org_id = _source_org(s, principal, source, str(data.get("source_id", "")), data.get("organisation_id"))
    org = visible_organisation(s, principal, org_id)
    year = today.year
    count = (
        s.scalar(
            select(func.count())
            .select_from(EnforcementCase)
            .where(
                EnforcementCase.region_code == org.region_code,
                EnforcementCase.filed_on >= date(year, 1, 1),
            )
        )
        or 0
    )
    case = EnforcementCase(
        number=f"AJ-{org.region_code}-{year}-{count + 1:05d}",
        organisation_id=org_id,
        region_code=org.region_code,
        source_type=source.value,
        source_id=str(data.get("source_id", ""))[:64],
        summary=str(data.get("summary", ""))[:5000],
        status=rules.CaseStatus.FILED.value,
        filed_on=today,
        investigate_by=DEADLINES.investigate_by(today),
        decide_by=DEADLINES.decide_by(today),
        evidence=[e[:500] for e in evidence],
        created_at=now(platform),
    )
    s.add(case)
    s.flush()
    if source is rules.CaseSource.COMPLAINT:
        complaint = s.get(Complaint, int(case.source_id))
        assert complaint is not None
        complaint.case_id = case.id
    if source is rules.CaseSource.WARNING:
        warning = s.get(TelemetryWarning, int(case.source_id))
        assert warning is not None
        warning.case_id = case.id
    return case


def open_case_from_warning(
    platform: Platform,
    principal: Principal,
    *,
    warning_id: str,
    organisation_id: int,
    summary: str = "",
    evidence: list[str] | None = None,
) -> dict[str, Any]:
    """立案 from a remote-supervision or energy warning (``services.warnings``): the warning must exist
    within the caller's jurisdiction and the case is about its owner (``organisation_id`` serves only a
    warning without one); a second case from the same warning is refused."""
    return open_case(
        platform,
        principal,
        {
            "source_type": rules.CaseSource.WARNING.value,
            "source_id": str(warning_id),
            "organisation_id": organisation_id,
            "summary": summary,
            "evidence": evidence or [],
        },
    )


def case_dict(case: EnforcementCase, today: date) -> dict[str, Any]:
    return {
        "id": case.id,
        "number": case.number,
        "organisation_id": case.organisation_id,
        "region_code": case.region_code,
        "source_type": case.source_type,
        "source_id": case.source_id,
        "summary": case.summary,
        "status": case.status,
        "status_zh": rules.CASE_ZH[rules.CaseStatus(case.status)],
        "filed_on": case.filed_on.isoformat(),
        "investigate_by": case.investigate_by.isoformat(),
        "decide_by": case.decide_by.isoformat(),
        "decided_on": case.decided_on.isoformat() if case.decided_on else None,
        "close_by": case.close_by.isoformat() if case.close_by else None,
        "closed_on": case.closed_on.isoformat() if case.closed_on else None,
        "violation": case.violation,
        "decision": case.decision,
        "penalty": case.penalty,
        "evidence": case.evidence,
        "overdue": rules.overdue_steps(
            rules.CaseStatus(case.status), today, case.investigate_by, case.decide_by, case.close_by
        ),
    }


def _case(s: Session, principal: Principal, case_id: int) -> EnforcementCase:
    case = s.get(EnforcementCase, case_id)
    if case is None:
        raise not_found("案件 case", case_id)
    require_region(principal, case.region_code, "案件 case", case_id)
    return case


def get_case(platform: Platform, principal: Principal, case_id: int) -> dict[str, Any]:
    require_complaint_handler(principal)
    with platform.reading() as s:
        return case_dict(_case(s, principal, case_id), platform.local_today())


def list_cases(platform: Platform, principal: Principal, status: str | None = None) -> list[dict[str, Any]]:
    require_complaint_handler(principal)
    with platform.reading() as s:
        stmt = select(EnforcementCase).order_by(EnforcementCase.id.desc())
        if principal.prefix:
            stmt = stmt.where(EnforcementCase.region_code.like(principal.prefix + "%"))
        if status:
            stmt = stmt.where(EnforcementCase.status == status)
        return [case_dict(c, platform.local_today()) for c in s.scalars(stmt)]


def advance(platform: Platform, principal: Principal, case_id: int, data: dict[str, Any]) -> dict[str, Any]:
    """The next step: ``status`` investigating | decided (with ``violation``, ``decision``, optional
    ``penalty``) | closed. ``evidence`` adds references at any step. Closing feeds the credit record."""
    require_supervisor(principal)
    try:
        wanted = rules.CaseStatus(str(data.get("status")))
    except ValueError:
        raise InvalidInput("未知的案件状态 / unknown case status", field="status") from None
    today = platform.local_today()
    with platform.unit_of_work(principal) as s:
        case = _case(s, principal, case_id)
        rules.next_case_status(rules.CaseStatus(case.status), wanted)
        extra = data.get("evidence") or []
        if not isinstance(extra, list) or not all(isinstance(e, str) for e in extra):
            raise InvalidInput("证据须为字符串列表 / evidence must be a list of strings", field="evidence")
        if wanted is rules.CaseStatus.DECIDED:
            violation = data.get("violation")
            if not isinstance(violation, bool):
                raise InvalidInput(
                    "决定须说明是否构成违法 / a decision states whether there was a violation",
                    field="violation",
                )
            decision = str(data.get("decision", "")).strip()
            if not decision:
                raise InvalidInput("须给出决定内容 / the decision text is required", field="decision")
            case.violation = violation
            case.decision = decision[:5000]
            case.penalty = str(data.get("penalty", ""))[:200] if violation else ""
            case.decided_on = today
            case.close_by = DEADLINES.close_by(today)
        if wanted is rules.CaseStatus.CLOSED:
            case.closed_on = today
            if case.violation:
                credit.add_event_in(
                    s,
                    platform,
                    case.organisation_id,
                    credit_rules.EventKind.CASE_VIOLATION,
                    today,
                    source_type="case",
                    source_id=case.number,
                )
                if case.penalty:
                    credit.add_event_in(
                        s,
                        platform,
                        case.organisation_id,
                        credit_rules.EventKind.PENALTY,
                        today,
                        source_type="case",
                        source_id=case.number,
                        note=case.penalty,
                    )
        case.status = wanted.value
        case.evidence = [*case.evidence, *(e[:500] for e in extra)]
        s.flush()
        return case_dict(case, today)
