"""The carbon-metering review of a unit (碳计量审查) and the CEMS figure of a period.

The review gathers what the unit's metering says about its carbon figures: the latest energy-metering
review (equipping rates, verification), the latest reported period (emissions with GUM and Monte Carlo
uncertainty, the budget naming the dominant meter or factor, the CEMS comparison where a system
reports, unit energy consumption where the unit gave its output), and the data-quality grade of
``energy/quality.py`` with each criterion. It is read from the stored facts on request (nothing new is
stored, so there is nothing to audit); its PDF is ``energy/report.py``'s.

``report_cems`` stores a continuous emission monitoring system's measured CO₂ of a period beside the
calculation method (``energy/cems.py``); the period row is audited like every change.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from jiliang.domain.access import Principal, Role
from jiliang.energy import cems, quality
from jiliang.errors import InvalidInput, NotAuthorised
from jiliang.services.common import not_found
from jiliang.services.energy.common import SUPERVISING, visible_unit
from jiliang.services.energy.readings import period_summary
from jiliang.services.energy.reviews import _review_dict
from jiliang.services.platform import Platform
from jiliang.store.models import EnergyNode, EnergyPeriod, EnergyReview, Organisation


def report_cems(
    platform: Platform,
    principal: Principal,
    period_id: int,
    measured_t: float,
    u_percent: float,
    system: str = "",
) -> dict[str, Any]:
    """Store the CEMS figure of a period (t CO₂, relative standard uncertainty in percent) and compare it
    with the calculation method. The unit itself or its supervisors report it; a second report replaces
    the first (the audit trail keeps both)."""
    if principal.role not in (*SUPERVISING, Role.ENTERPRISE):
        raise NotAuthorised("无权报送 / not allowed to report CEMS figures")
    if len(system) > 200:
        raise InvalidInput("监测系统名称过长 / the system's name is at most 200 characters", field="system")
    with platform.unit_of_work(principal) as s:
        period = s.get(EnergyPeriod, period_id)
        if period is None:
            raise not_found("报告期 period", period_id)
        try:
            visible_unit(s, principal, period.unit_id)
        except LookupError:
            raise not_found("报告期 period", period_id) from None
        c = dict(period.carbon)
        if c.get("error") or c.get("total") is None:
            raise InvalidInput(
                "该报告期没有核算法排放量，无法比对 / the period has no calculated emissions to compare with",
                field="period",
            )
        cmp = cems.compare(float(c["total"]), float(c["u"]), measured_t, u_percent)
        c["cems"] = {
            "system": system,
            "measured": cmp.measured,
            "u_measured": cmp.u_measured,
            "u_percent": u_percent,
            "calculated": cmp.calculated,
            "u_calculated": cmp.u_calculated,
            "difference": cmp.difference,
            "relative": cmp.relative,
            "u_difference": cmp.u_difference,
            "consistent": cmp.consistent,
            "reported_by": principal.username,
        }
        period.carbon = c
        s.flush()
        return period_summary(s, period)


def carbon_review(platform: Platform, principal: Principal, unit_id: int) -> dict[str, Any]:
    """The unit's carbon-metering review, from its latest review and period (see the module docstring)."""
    with platform.reading() as s:
        unit = visible_unit(s, principal, unit_id)
        org = s.get(Organisation, unit.organisation_id)
        assert org is not None
        rows = s.scalars(
            select(EnergyReview).where(EnergyReview.unit_id == unit.id).order_by(EnergyReview.id.desc())
        ).all()
        # the bureau's latest review if there is one, else the unit's latest self-check
        chosen = next((r for r in rows if r.kind == "review"), rows[0] if rows else None)
        review = _review_dict(s, chosen) if chosen is not None else None
        period_row = s.scalars(
            select(EnergyPeriod)
            .where(EnergyPeriod.unit_id == unit.id)
            .order_by(EnergyPeriod.period_end.desc(), EnergyPeriod.id.desc())
        ).first()
        period = period_summary(s, period_row) if period_row is not None else None
        topology_id = (review or period or {}).get("topology_id")
        boundary = (
            s.scalars(
                select(EnergyNode.key).where(EnergyNode.topology_id == topology_id, EnergyNode.level == "boundary")
            ).first()
            if topology_id is not None
            else None
        )
        names = (
            {n.key: n.name for n in s.scalars(select(EnergyNode).where(EnergyNode.topology_id == topology_id))}
            if topology_id is not None
            else {}
        )
    rates = review["rates"] if review else []
    meters = review["meters"] if review else []
    carbon = (period or {}).get("carbon") or {}
    total, big_u = carbon.get("total"), carbon.get("U")
    u_rel = big_u / total if (total and big_u is not None and not carbon.get("error")) else None
    gaps = (
        sum(1 for q in period["quality"] if q["node"] == boundary and (q["gaps"] or q["days"] == 0))
        if period is not None
        else None
    )
    g = quality.grade(
        boundary_required=sum(r["required"] for r in rates if r["level"] == "boundary"),
        boundary_installed=sum(r["installed"] for r in rates if r["level"] == "boundary"),
        required=sum(r["required"] for r in rates),
        installed=sum(r["installed"] for r in rates),
        meters=len(meters),
        meters_verified=sum(1 for m in meters if m["verified"]),
        boundary_unverified=sum(1 for m in meters if m["node"] == boundary and not m["verified"]),
        u_rel=u_rel,
        boundary_gaps=gaps,
    )
    return {
        "unit_id": unit.id,
        "organisation": org.name,
        "credit_code": org.credit_code,
        "region_code": unit.region_code,
        "sector": unit.sector,
        "as_of": platform.local_today().isoformat(),
        "boundary": boundary,
        "node_names": names,
        "review": review,
        "period": period,
        "u_rel": u_rel,
        "grade": {
            "grade": g.grade,
            "criteria": [
                {"code": c.code, "label_zh": c.label_zh, "label_en": c.label_en, "value": c.value, "grade": c.grade}
                for c in g.criteria
            ],
        },
    }
