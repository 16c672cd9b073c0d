"""The GB 17167 review of a unit's stored tree (能源计量审查), or the unit's own self-check (自查).

Each meter's accuracy comes from its registry instrument's accuracy class, its verification from the
registry's ``valid_until`` on the review date, and whether it is in service from its status: the engine
(``energy/review.py``) then computes the equipping rates and the shortfalls, which are stored as computed.
The bureau's review and the self-check are the same computation, told apart by ``kind``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jiliang.domain.access import Principal
from jiliang.energy import review as engine
from jiliang.energy.rules import rule_set
from jiliang.errors import InvalidInput, NotAuthorised
from jiliang.services.common import not_found
from jiliang.services.energy.common import (
    SUPERVISING,
    current_topology,
    in_service,
    mpe_percent,
    now,
    scoped_units,
    verified_on,
    visible_unit,
)
from jiliang.services.platform import Platform
from jiliang.store.models import (
    EnergyNode,
    EnergyPoint,
    EnergyReview,
    EnergyShortfall,
    EnergyUnit,
    Instrument,
    Organisation,
)

KINDS = ("review", "self_check")


def stored_topology(
    session: Session, topology_id: int, on: date
) -> tuple[engine.Topology, list[dict[str, Any]]]:
    """The engine's topology of a stored version, meters in the registry's state on ``on``; and the meters
    as rows for the report (point, instrument, class, MPE, valid until, in service)."""
    nodes = session.scalars(
        select(EnergyNode).where(EnergyNode.topology_id == topology_id).order_by(EnergyNode.id)
    ).all()
    points = session.execute(
        select(EnergyPoint, Instrument)
        .join(Instrument, Instrument.id == EnergyPoint.instrument_id)
        .where(EnergyPoint.topology_id == topology_id)
        .order_by(EnergyPoint.id)
    ).all()
    topo = engine.topology_from_rows(
        [
            {
                "key": n.key,
                "name": n.name,
                "level": n.level,
                "parent": n.parent_key,
                "demand": dict(n.demand),
                "supply_points": dict(n.supply_points),
            }
            for n in nodes
        ],
        [
            {
                "key": p.key,
                "node": p.node_key,
                "energy_type": p.energy_type,
                "meter_kind": p.meter_kind,
                "mpe_percent": mpe_percent(i.accuracy_class),
                "verified": verified_on(i, on),
                "in_service": in_service(i),
            }
            for p, i in points
        ],
    )
    meters = [
        {
            "point": p.key,
            "node": p.node_key,
            "energy_type": p.energy_type,
            "instrument_id": i.id,
            "instrument": i.name,
            "serial_number": i.serial_number,
            "accuracy_class": i.accuracy_class,
            "mpe_percent": mpe_percent(i.accuracy_class),
            "valid_until": i.valid_until.isoformat() if i.valid_until else None,
            "verified": verified_on(i, on),
            "in_service": in_service(i),
        }
        for p, i in points
    ]
    return topo, meters


def run_review(
    platform: Platform, principal: Principal, unit_id: int, *, kind: str = "review", on: date | None = None
) -> dict[str, Any]:
    """Review the unit's current tree on ``on`` (default today) and store the result with its shortfalls.
    ``review`` is the bureau's (supervisors); ``self_check`` the unit's own (the enterprise, or a supervisor
    on its behalf)."""
    if kind not in KINDS:
        raise InvalidInput("kind 须为 review 或 self_check / kind must be review or self_check", field="kind")
    if kind == "review" and principal.role not in SUPERVISING:
        raise NotAuthorised(
            "审查由监管部门进行；企业可进行自查 / reviews are the bureau's; an enterprise runs a self-check",
            field="kind",
        )
    day = on or platform.local_today()
    with platform.unit_of_work(principal) as s:
        unit = visible_unit(s, principal, unit_id)
        topo_row = current_topology(s, unit.id)
        if topo_row is None:
            raise InvalidInput(
                "该单位尚未上传计量网络 / the unit has no metering tree yet: upload it first",
                field="topology",
            )
        topo, meters = stored_topology(s, topo_row.id, day)
        result = engine.review(topo, rule_set(unit.rule_set))
        row = EnergyReview(
            unit_id=unit.id,
            topology_id=topo_row.id,
            kind=kind,
            review_date=day,
            rule_set=result.rule_set,
            compliant=result.compliant,
            rates=[
                {
                    "energy_type": r.energy_type.value,
                    "level": r.level.value,
                    "required": r.required,
                    "installed": r.installed,
                    "percent": r.percent,
                    "required_percent": r.required_percent,
                    "compliant": r.compliant,
                    "evidence": r.provenance.evidence if r.provenance else None,
                }
                for r in result.rates
            ],
            meters=meters,
            provisional_rules=result.provisional_rules,
            run_by=principal.username,
            created_at=now(platform),
        )
        s.add(row)
        s.flush()
        for f in result.shortfalls:
            s.add(
                EnergyShortfall(
                    review_id=row.id,
                    code=f.code,
                    clause=f.clause,
                    message_zh=f.message_zh[:500],
                    message_en=f.message_en[:500],
                    node_key=f.node,
                    energy_type=f.energy_type.value if f.energy_type else "",
                    meter=f.meter,
                )
            )
        s.flush()
        return _review_dict(s, row)


def _review_dict(s: Session, row: EnergyReview) -> dict[str, Any]:
    shortfalls = s.scalars(
        select(EnergyShortfall).where(EnergyShortfall.review_id == row.id).order_by(EnergyShortfall.id)
    ).all()
    return {
        "id": row.id,
        "unit_id": row.unit_id,
        "topology_id": row.topology_id,
        "kind": row.kind,
        "review_date": row.review_date.isoformat(),
        "rule_set": row.rule_set,
        "compliant": row.compliant,
        "rates": list(row.rates),
        "meters": list(row.meters),
        "provisional_rules": row.provisional_rules,
        "run_by": row.run_by,
        "shortfalls": [
            {
                "code": f.code,
                "clause": f.clause,
                "message_zh": f.message_zh,
                "message_en": f.message_en,
                "node": f.node_key,
                "energy_type": f.energy_type,
                "meter": f.meter,
            }
            for f in shortfalls
        ],
    }


def get_review(platform: Platform, principal: Principal, review_id: int) -> dict[str, Any]:
    """A stored review with its unit's name, for the report (not found outside the caller's reach)."""
    with platform.reading() as s:
        row = s.get(EnergyReview, review_id)
        if row is None:
            raise not_found("审查 review", review_id)
        try:
            unit = visible_unit(s, principal, row.unit_id)
        except LookupError:
            raise not_found("审查 review", review_id) from None
        org = s.get(Organisation, unit.organisation_id)
        assert org is not None
        out = _review_dict(s, row)
        out["organisation"] = org.name
        out["credit_code"] = org.credit_code
        out["region_code"] = unit.region_code
        return out


def list_reviews(platform: Platform, principal: Principal, unit_id: int) -> list[dict[str, Any]]:
    with platform.reading() as s:
        unit = visible_unit(s, principal, unit_id)
        rows = s.scalars(
            select(EnergyReview).where(EnergyReview.unit_id == unit.id).order_by(EnergyReview.id.desc())
        ).all()
        return [
            {
                "id": r.id,
                "kind": r.kind,
                "review_date": r.review_date.isoformat(),
                "compliant": r.compliant,
                "run_by": r.run_by,
            }
            for r in rows
        ]


def latest_reviews(session: Session, principal: Principal) -> dict[int, EnergyReview]:
    """The latest bureau review of each unit the caller reaches (self-checks do not count)."""
    rows = session.scalars(
        select(EnergyReview)
        .where(EnergyReview.kind == "review")
        .where(EnergyReview.unit_id.in_(scoped_units(select(EnergyUnit.id), principal).scalar_subquery()))
        .order_by(EnergyReview.unit_id, EnergyReview.id)
    ).all()
    return {r.unit_id: r for r in rows}
