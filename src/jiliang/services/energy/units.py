"""Key energy-using units (重点用能单位): registration by the bureau, the list, one unit with its tree."""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import select

from jiliang.domain.access import Principal
from jiliang.energy.rules import RULE_SETS, energy_type
from jiliang.errors import Conflict, InvalidInput
from jiliang.services import scope
from jiliang.services.common import not_found
from jiliang.services.energy.common import (
    current_topology,
    now,
    require_supervisor,
    scoped_units,
    visible_unit,
)
from jiliang.services.platform import Platform
from jiliang.store.models import EnergyNode, EnergyPoint, EnergyUnit, Instrument, Organisation

DEFAULT_THRESHOLD_TCE = 10_000.0  # 重点用能单位: ≥ 10 000 t standard coal a year (节约能源法 §52)


def register_unit(platform: Platform, principal: Principal, data: dict[str, Any]) -> dict[str, Any]:
    """``organisation_id``, ``energy_types`` [..], ``annual_tce`` (the unit's yearly consumption, tce),
    optional ``threshold_tce`` (default 10 000), ``sector``, ``rule_set`` (default GB 17167-2006)."""
    require_supervisor(principal)
    types = data.get("energy_types")
    if not isinstance(types, list) or not types:
        raise InvalidInput("须给出能源种类 / energy_types must be a non-empty list", field="energy_types")
    energies = sorted({energy_type(t, f"energy_types[{i}]").value for i, t in enumerate(types)})
    annual = _positive(data.get("annual_tce"), "annual_tce")
    threshold = _positive(data.get("threshold_tce", DEFAULT_THRESHOLD_TCE), "threshold_tce")
    if annual < threshold:
        raise InvalidInput(
            f"年综合能耗 {annual:g} tce 低于重点用能单位门槛 {threshold:g} tce / {annual:g} tce a year is below "
            f"the threshold of {threshold:g} tce for a key energy-using unit",
            field="annual_tce",
        )
    rule_set = str(data.get("rule_set") or "GB 17167-2006")
    if rule_set not in RULE_SETS:
        raise InvalidInput(f"没有这个规则版本 / no rule set {rule_set!r}", field="rule_set")
    with platform.unit_of_work(principal) as s:
        org_id = data.get("organisation_id")
        org = s.scalars(
            scope.organisations(select(Organisation).where(Organisation.id == org_id), principal)
        ).first()
        if org is None:
            raise not_found("单位 organisation", org_id)
        if s.scalar(select(EnergyUnit.id).where(EnergyUnit.organisation_id == org.id)) is not None:
            raise Conflict(
                "该单位已登记为重点用能单位 / the organisation is already a key energy-using unit",
                field="organisation_id",
            )
        row = EnergyUnit(
            organisation_id=org.id,
            region_code=org.region_code,
            sector=str(data.get("sector") or "")[:100],
            energy_types=energies,
            annual_tce=annual,
            threshold_tce=threshold,
            rule_set=rule_set,
            created_at=now(platform),
        )
        s.add(row)
        s.flush()
        return unit_dict(row, org)


def _positive(value: Any, field: str) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"{field} 须为数 / {field} must be a number", field=field) from None
    if isinstance(value, bool) or not math.isfinite(x) or x <= 0:
        raise InvalidInput(f"{field} 须为正数 / {field} must be a positive number", field=field)
    return x


def unit_dict(row: EnergyUnit, org: Organisation) -> dict[str, Any]:
    return {
        "id": row.id,
        "organisation_id": row.organisation_id,
        "organisation": org.name,
        "credit_code": org.credit_code,
        "region_code": row.region_code,
        "sector": row.sector,
        "energy_types": list(row.energy_types),
        "annual_tce": row.annual_tce,
        "threshold_tce": row.threshold_tce,
        "rule_set": row.rule_set,
    }


def list_units(platform: Platform, principal: Principal) -> list[dict[str, Any]]:
    with platform.reading() as s:
        rows = s.execute(
            scoped_units(
                select(EnergyUnit, Organisation).join(
                    Organisation, Organisation.id == EnergyUnit.organisation_id
                ),
                principal,
            ).order_by(EnergyUnit.region_code, Organisation.name)
        ).all()
        return [unit_dict(u, o) for u, o in rows]


def unit_for_organisation(platform: Platform, principal: Principal) -> int | None:
    """The unit id of the enterprise's own organisation, if it is a key energy-using unit."""
    with platform.reading() as s:
        found: int | None = s.scalar(scoped_units(select(EnergyUnit.id), principal))
        return found


def get_unit(platform: Platform, principal: Principal, unit_id: int) -> dict[str, Any]:
    """The unit with its current metering tree: nodes (tree order) and points with their instruments."""
    with platform.reading() as s:
        unit = visible_unit(s, principal, unit_id)
        org = s.get(Organisation, unit.organisation_id)
        assert org is not None
        out = unit_dict(unit, org)
        topo = current_topology(s, unit.id)
        out["topology_id"] = topo.id if topo else None
        out["nodes"], out["points"] = [], []
        if topo is None:
            return out
        nodes = s.scalars(select(EnergyNode).where(EnergyNode.topology_id == topo.id).order_by(EnergyNode.id))
        out["nodes"] = tree_order(
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
            ]
        )
        points = s.execute(
            select(EnergyPoint, Instrument)
            .join(Instrument, Instrument.id == EnergyPoint.instrument_id)
            .where(EnergyPoint.topology_id == topo.id)
            .order_by(EnergyPoint.id)
        ).all()
        out["points"] = [
            {
                "key": p.key,
                "node": p.node_key,
                "energy_type": p.energy_type,
                "meter_kind": p.meter_kind,
                "unit": p.unit,
                "instrument_id": i.id,
                "instrument": i.name,
                "serial_number": i.serial_number,
                "accuracy_class": i.accuracy_class,
                "status": i.status,
                "valid_until": i.valid_until.isoformat() if i.valid_until else None,
            }
            for p, i in points
        ]
        return out


def tree_order(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Nodes depth-first from the root, each with its ``depth``, so a page can indent them."""
    children: dict[str | None, list[dict[str, Any]]] = {}
    for n in nodes:
        children.setdefault(n["parent"], []).append(n)
    out: list[dict[str, Any]] = []

    def walk(parent: str | None, depth: int) -> None:
        for n in children.get(parent, []):
            out.append({**n, "depth": depth})
            walk(n["key"], depth + 1)

    walk(None, 0)
    return out
