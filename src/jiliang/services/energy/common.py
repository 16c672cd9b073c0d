"""What the energy services share: who reaches which unit, a meter's accuracy and state from the registry."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import false, select
from sqlalchemy.orm import Session

from jiliang.domain.access import Principal, Role
from jiliang.errors import NotAuthorised
from jiliang.services.common import not_found
from jiliang.services.platform import Platform
from jiliang.store.models import EnergyTopology, EnergyUnit, Instrument

SUPERVISING = (Role.SUPERVISOR, Role.ADMINISTRATOR)
UNIT_KIND = "重点用能单位 energy-using unit"


def scoped_units(stmt: Any, principal: Principal) -> Any:
    """Supervisors and administrators reach the units of their region's subtree, an enterprise its own."""
    if principal.role is Role.ENTERPRISE:
        return stmt.where(EnergyUnit.organisation_id == (principal.organisation_id or -1))
    if principal.role not in SUPERVISING:
        return stmt.where(false())
    prefix = principal.prefix
    return stmt.where(EnergyUnit.region_code.like(prefix + "%")) if prefix else stmt


def visible_unit(session: Session, principal: Principal, unit_id: int) -> EnergyUnit:
    unit: EnergyUnit | None = session.scalars(
        scoped_units(select(EnergyUnit).where(EnergyUnit.id == unit_id), principal)
    ).first()
    if unit is None:
        raise not_found(UNIT_KIND, unit_id)
    return unit


def require_supervisor(principal: Principal) -> None:
    if principal.role not in SUPERVISING:
        raise NotAuthorised(
            f"角色 {principal.role} 无权执行此操作（需监管人员）/ role {principal.role} may not do this "
            "(supervisors only)",
            field="role",
        )


def current_topology(session: Session, unit_id: int) -> EnergyTopology | None:
    return session.scalars(
        select(EnergyTopology).where(EnergyTopology.unit_id == unit_id).order_by(EnergyTopology.id.desc())
    ).first()


_NUMBER = re.compile(r"(\d+(?:\.\d+)?)")


def mpe_percent(accuracy_class: str) -> float | None:
    """The maximum permissible error in percent that an accuracy class states: "0.5S" → 0.5, "2级" → 2,
    "±1.5%" → 1.5; None when the class gives no number (then the accuracy counts as unknown)."""
    match = _NUMBER.search(accuracy_class or "")
    if match is None:
        return None
    value = float(match.group(1))
    return value if value > 0 else None


def verified_on(instrument: Instrument, day: date) -> bool:
    """A valid verification or calibration on ``day``: the registry's ``valid_until`` on or after it."""
    return instrument.valid_until is not None and instrument.valid_until >= day


def in_service(instrument: Instrument) -> bool:
    return instrument.status == "in_service"


def now(platform: Platform) -> datetime:
    value = platform.now()
    return value if value.tzinfo else value.replace(tzinfo=UTC)
