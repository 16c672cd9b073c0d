"""Credit records (诚信计量): events per organisation, grades explained, counts against the plan targets.

Events are written by the other market services (results, net-content inspections, confirmed complaints,
closed cases) in the same transaction as the fact they record, and by a supervisor for the rest (overdue
instruments, verified remote-supervision warnings, penalties, self-commitments, exemplary status). The
policy is ``legal.credit.CreditPolicy`` (documented in docs/market.md)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jiliang.domain.access import Principal
from jiliang.errors import InvalidInput
from jiliang.legal import credit as rules
from jiliang.services import scope
from jiliang.services.market.common import now, require_supervisor, visible_organisation
from jiliang.services.platform import Platform
from jiliang.store.models import CreditEventRow, IndicatorTarget, Organisation

POLICY = rules.CreditPolicy()

# The plan indicators that count units, read from indicator_targets when a region has set them.
SELF_COMMITMENT_INDICATOR = "self_commitment_units"
EXEMPLARY_INDICATOR = "exemplary_units"


def add_event_in(
    session: Session,
    platform: Platform,
    organisation_id: int,
    kind: rules.EventKind | str,
    occurred_on: date,
    *,
    source_type: str = "",
    source_id: str = "",
    note: str = "",
) -> CreditEventRow:
    """Record one event inside the caller's unit of work (so it exists exactly when its cause does)."""
    try:
        k = rules.EventKind(kind)
    except ValueError:
        known = ", ".join(e.value for e in rules.EventKind)
        raise InvalidInput(
            f"未知的信用事件类型 {kind} / unknown credit event kind (one of {known})", field="kind"
        ) from None
    if occurred_on > platform.local_today():
        raise InvalidInput("事件日期晚于今天 / the event date is in the future", field="occurred_on")
    row = CreditEventRow(
        organisation_id=organisation_id,
        kind=k.value,
        occurred_on=occurred_on,
        source_type=source_type,
        source_id=source_id,
        note=note[:300],
        recorded_at=now(platform),
    )
    session.add(row)
    return row


def add_event(
    platform: Platform,
    principal: Principal,
    organisation_id: int,
    kind: str,
    occurred_on: date,
    note: str = "",
) -> dict[str, Any]:
    require_supervisor(principal)
    with platform.unit_of_work(principal) as s:
        visible_organisation(s, principal, organisation_id)
        row = add_event_in(s, platform, organisation_id, kind, occurred_on, source_type="manual", note=note)
        s.flush()
        return event_dict(row)


# --- remote-supervision warnings (issue 11's workflow calls these) ---------------------------------------

WARNING_SOURCE = "warning"


def add_warning_event_in(
    session: Session,
    platform: Platform,
    principal: Principal,
    *,
    organisation_id: int,
    warning_id: str,
    warning_kind: str,
    occurred_on: date,
    note: str = "",
) -> tuple[CreditEventRow, bool]:
    """Record the credit event of a **verified** remote-supervision warning inside the caller's unit of
    work (the warning workflow's transaction that confirms the warning), so the event exists exactly when
    the confirmation does. Kind ``remote_warning``; the policy gives it ``POLICY.points['remote_warning']``
    (−3 by default), counted for ``validity_days`` (3 years) and no longer after ``repair_days`` (365)
    without a negative event; the grade's explanation names it ``warning:<id>``.

    ``warning_id`` is the warning's id as its module keeps it, ``warning_kind`` its type (tampering,
    drift, offline…; kept in the note), ``occurred_on`` the day the warning was raised. A warning already
    recorded for the organisation is not counted twice: the existing event comes back with ``False``."""
    require_supervisor(principal)
    wid = str(warning_id).strip()
    if not wid or len(wid) > 64:
        raise InvalidInput("须给出预警编号（至多 64 字符）/ give the warning's id (at most 64 characters)", field="warning_id")
    wkind = str(warning_kind).strip()
    if not wkind or len(wkind) > 50:
        raise InvalidInput("须给出预警类型（至多 50 字符）/ give the warning's kind (at most 50 characters)", field="warning_kind")
    if not isinstance(occurred_on, date):
        raise InvalidInput("预警日期须为日期 / occurred_on must be a date", field="occurred_on")
    visible_organisation(session, principal, organisation_id)
    existing = session.scalars(
        select(CreditEventRow).where(
            CreditEventRow.organisation_id == organisation_id,
            CreditEventRow.source_type == WARNING_SOURCE,
            CreditEventRow.source_id == wid,
        )
    ).first()
    if existing is not None:
        return existing, False
    text = f"预警类型 kind: {wkind}" + (f"；{note.strip()}" if note.strip() else "")
    row = add_event_in(
        session,
        platform,
        organisation_id,
        rules.EventKind.REMOTE_WARNING,
        occurred_on,
        source_type=WARNING_SOURCE,
        source_id=wid,
        note=text,
    )
    session.flush()
    return row, True


def add_warning_event(
    platform: Platform,
    principal: Principal,
    *,
    organisation_id: int,
    warning_id: str,
    warning_kind: str,
    occurred_on: date,
    note: str = "",
) -> dict[str, Any]:
    """``add_warning_event_in`` in a unit of work of its own; answers the event and ``created``."""
    with platform.unit_of_work(principal) as s:
        row, created = add_warning_event_in(
            s,
            platform,
            principal,
            organisation_id=organisation_id,
            warning_id=warning_id,
            warning_kind=warning_kind,
            occurred_on=occurred_on,
            note=note,
        )
        return {**event_dict(row), "created": created}


def withdraw_warning_event(platform: Platform, principal: Principal, organisation_id: int, warning_id: str) -> int:
    """A warning found false after all: its credit event is deleted (the deletion is in the audit trail)
    and the grade is as if it never counted. Answers how many events were removed (0 or 1)."""
    require_supervisor(principal)
    with platform.unit_of_work(principal) as s:
        visible_organisation(s, principal, organisation_id)
        rows = s.scalars(
            select(CreditEventRow).where(
                CreditEventRow.organisation_id == organisation_id,
                CreditEventRow.source_type == WARNING_SOURCE,
                CreditEventRow.source_id == str(warning_id).strip(),
            )
        ).all()
        for row in rows:
            s.delete(row)
        return len(rows)


def event_dict(row: CreditEventRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "organisation_id": row.organisation_id,
        "kind": row.kind,
        "kind_zh": rules.KIND_ZH[rules.EventKind(row.kind)],
        "occurred_on": row.occurred_on.isoformat(),
        "source_type": row.source_type,
        "source_id": row.source_id,
        "note": row.note,
    }


def grade_in(session: Session, organisation_id: int, as_of: date) -> rules.CreditGrade:
    rows = session.scalars(
        select(CreditEventRow).where(CreditEventRow.organisation_id == organisation_id)
    ).all()
    events = [
        rules.CreditEvent(rules.EventKind(r.kind), r.occurred_on, f"{r.source_type}:{r.source_id}")
        for r in rows
    ]
    return rules.grade(events, as_of, POLICY)


def organisation_grade(
    platform: Platform, principal: Principal, organisation_id: int, as_of: date | None = None
) -> dict[str, Any]:
    """An organisation's grade with one line per event (what it counted and why)."""
    with platform.reading() as s:
        org = visible_organisation(s, principal, organisation_id)
        g = grade_in(s, organisation_id, as_of or platform.local_today())
        return {
            "organisation_id": org.id,
            "organisation_name": org.name,
            "as_of": (as_of or platform.local_today()).isoformat(),
            **g.as_dict(),
            "sampling_weight": POLICY.sampling_weight[g.grade],
            "inspections_per_year": POLICY.inspections_per_year[g.grade],
        }


def grades_for(
    session: Session, organisation_ids: Sequence[int], as_of: date
) -> dict[int, tuple[float, str]]:
    """Score and grade of many organisations at once (``legal.credit.grade_many``)."""
    if not organisation_ids:
        return {}
    index = {oid: i for i, oid in enumerate(organisation_ids)}
    ent: list[int] = []
    kinds: list[str] = []
    days: list[int] = []
    ids = list(organisation_ids)
    for chunk in range(0, len(ids), 5000):
        part = ids[chunk : chunk + 5000]
        for oid, kind, on in session.execute(
            select(CreditEventRow.organisation_id, CreditEventRow.kind, CreditEventRow.occurred_on).where(
                CreditEventRow.organisation_id.in_(part)
            )
        ):
            ent.append(index[oid])
            kinds.append(kind)
            days.append(on.toordinal())
    g = rules.grade_many(
        np.array(ent, dtype=np.int64),
        rules.kind_codes(kinds),
        np.array(days, dtype=np.int64),
        len(ids),
        as_of.toordinal(),
        POLICY,
    )
    return {oid: (float(g.score[i]), rules.GRADES[int(g.grade[i])]) for oid, i in index.items()}


def region_summary(
    platform: Platform, principal: Principal, region_code: str | None = None, year: int | None = None
) -> dict[str, Any]:
    """Grades of the organisations in the caller's jurisdiction (or a region inside it), and the year's
    self-committed and exemplary units against the plan targets when set (e.g. ≥ 1 000 per year)."""
    require_supervisor(principal)
    today = platform.local_today()
    yr = year or today.year
    with platform.reading() as s:
        base: Any = select(Organisation.id, Organisation.region_code)
        stmt: Any = scope.organisations(base, principal)
        if region_code:
            stmt = stmt.where(scope.within(Organisation.region_code, region_code))
        orgs = s.execute(stmt).all()
        ids = [o.id for o in orgs]
        grades = grades_for(s, ids, today)
        counts = {g: 0 for g in rules.GRADES}
        for _, grade in grades.values():
            counts[grade] += 1
        start, end = date(yr, 1, 1), date(yr, 12, 31)
        units: dict[str, int] = {}
        for kind in (rules.EventKind.SELF_COMMITMENT, rules.EventKind.EXEMPLARY_UNIT):
            q = select(func.count(func.distinct(CreditEventRow.organisation_id))).where(
                CreditEventRow.kind == kind.value,
                CreditEventRow.occurred_on >= start,
                CreditEventRow.occurred_on <= end,
            )
            q = q.where(
                CreditEventRow.organisation_id.in_(
                    scope.organisations(select(Organisation.id), principal)
                    .where(scope.within(Organisation.region_code, region_code or principal.jurisdiction))
                    .scalar_subquery()
                )
            )
            units[kind.value] = int(s.scalar(q) or 0)
        targets = {
            t.indicator: t.target
            for t in s.scalars(
                select(IndicatorTarget).where(
                    IndicatorTarget.region_code == (region_code or principal.jurisdiction),
                    IndicatorTarget.year == yr,
                    IndicatorTarget.indicator.in_((SELF_COMMITMENT_INDICATOR, EXEMPLARY_INDICATOR)),
                )
            )
        }
    return {
        "as_of": today.isoformat(),
        "organisations": len(ids),
        "grades": counts,
        "year": yr,
        "self_commitment_units": units[rules.EventKind.SELF_COMMITMENT.value],
        "self_commitment_target": targets.get(SELF_COMMITMENT_INDICATOR),
        "exemplary_units": units[rules.EventKind.EXEMPLARY_UNIT.value],
        "exemplary_target": targets.get(EXEMPLARY_INDICATOR),
        "policy": POLICY.as_dict(),
    }


def due_for_inspection(
    platform: Platform, principal: Principal, region_code: str | None = None, limit: int = 200
) -> list[dict[str, Any]]:
    """Organisations whose grade asks for an inspection by now: the last inspection result (or none) is
    older than ``365 / inspections_per_year[grade]`` days. Worst grades first, then the longest waiting."""
    require_supervisor(principal)
    if not 1 <= limit <= platform.settings.page_size_max:
        raise InvalidInput(
            f"limit 须在 1–{platform.settings.page_size_max} / limit out of range", field="limit"
        )
    from jiliang.store.models import MarketResult

    today = platform.local_today()
    with platform.reading() as s:
        base: Any = select(Organisation.id, Organisation.name, Organisation.kind, Organisation.region_code)
        stmt: Any = scope.organisations(base, principal)
        if region_code:
            stmt = stmt.where(scope.within(Organisation.region_code, region_code))
        orgs = s.execute(stmt).all()
        ids = [o.id for o in orgs]
        grades = grades_for(s, ids, today)
        last: dict[int, date] = {}
        for chunk in range(0, len(ids), 5000):
            part = ids[chunk : chunk + 5000]
            for oid, on in s.execute(
                select(MarketResult.organisation_id, func.max(MarketResult.inspected_on))
                .where(MarketResult.organisation_id.in_(part))
                .group_by(MarketResult.organisation_id)
            ):
                last[oid] = on
    out = []
    for o in orgs:
        score, grade = grades[o.id]
        interval = 365.0 / POLICY.inspections_per_year[grade]
        seen = last.get(o.id)
        waited = None if seen is None else (today - seen).days
        if waited is None or waited >= interval:
            out.append(
                {
                    "organisation_id": o.id,
                    "name": o.name,
                    "kind": o.kind,
                    "region_code": o.region_code,
                    "grade": grade,
                    "score": score,
                    "last_inspected_on": seen.isoformat() if seen else None,
                    "interval_days": round(interval),
                    "days_since": waited,
                }
            )
    out.sort(
        key=lambda r: (
            -rules.GRADES.index(r["grade"]),
            -(r["days_since"] if r["days_since"] is not None else 10**6),
            r["organisation_id"],
        )
    )
    return out[:limit]
