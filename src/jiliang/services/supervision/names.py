"""Names for the ids that other services return, so that pages show names and never ``#9``.

A measurement standard's name is given when the caller sees the standard, or when it is a higher
standard: one that calibrated another (``standard_calibrations.reference_standard_id``). Higher standards
are the public infrastructure a chain runs through (the traceability pages show them with
``upstream=True``); a standard that calibrated nothing outside the caller's reach stays unnamed.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import or_, select

from jiliang.domain.access import Principal
from jiliang.services import scope
from jiliang.services.platform import Platform
from jiliang.store.models import MeasurementStandard, Region, StandardCalibration


def standard_names(platform: Platform, principal: Principal, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {int(i) for i in ids if i is not None}
    if not wanted:
        return {}
    higher = select(StandardCalibration.reference_standard_id).where(
        StandardCalibration.reference_standard_id.in_(wanted)
    )
    visible = scope.standards(select(MeasurementStandard.id), principal)
    stmt = select(MeasurementStandard.id, MeasurementStandard.name).where(
        MeasurementStandard.id.in_(wanted),
        or_(MeasurementStandard.id.in_(higher), MeasurementStandard.id.in_(visible)),
    )
    with platform.reading() as s:
        return {int(i): str(n) for i, n in s.execute(stmt)}


def region_names(platform: Platform, codes: Iterable[str]) -> dict[str, str]:
    """Region names are public (GB/T 2260)."""
    wanted = set(codes)
    if not wanted:
        return {}
    with platform.reading() as s:
        return {
            str(c): str(n)
            for c, n in s.execute(select(Region.code, Region.name_zh).where(Region.code.in_(wanted)))
        }
