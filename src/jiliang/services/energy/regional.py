"""The supervisor's regional view of key energy-using units: reviewed, compliant and non-compliant by county
and by sector,
the equipping rates summed over the latest reviews, and the online-monitoring coverage against its target.

Online-monitoring coverage (能耗在线监测覆盖率) = key units with online monitoring of all boundary meters ÷
key units. "Online" means through the ingestion of remote supervision (MQTT / HTTP batches), folded into
live periods by ``services/energy/live.py``: a unit counts when its latest live period ended no more than
``LIVE_DAYS`` before the day asked about and every metering point at its boundary reported in it through
its telemetry device with the day's register known at both ends (no ``gaps``, ``no_data`` or
``not_online`` flag). A unit that only uploads files is reporting, not monitored online: it does not count.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from jiliang.domain.access import Principal
from jiliang.domain.regions import in_jurisdiction, validate_region_code
from jiliang.energy.rules import Level
from jiliang.errors import InvalidInput
from jiliang.legal.coverage import Indicator
from jiliang.services.common import not_found
from jiliang.services.energy.common import SUPERVISING, require_supervisor, scoped_units
from jiliang.services.energy.reviews import latest_reviews
from jiliang.services.platform import Platform
from jiliang.store.models import (
    EnergyNode,
    EnergyPeriod,
    EnergyPoint,
    EnergyUnit,
    IndicatorTarget,
    Organisation,
    Region,
)

COVERAGE_INDICATOR = Indicator.ENERGY_MONITORING_COVERAGE.value  # a plan target like the others
LEVEL_ORDER = {lv.value: i for i, lv in enumerate(Level)}
LIVE_DAYS = 2  # yesterday's live day is folded just after Beijing midnight; one missed day is tolerated
NOT_ONLINE = frozenset({"gaps", "no_data", "not_online"})


def set_coverage_target(
    platform: Platform, principal: Principal, region_code: str, year: int, target: float, source: str = ""
) -> dict[str, Any]:
    """The year's online-monitoring coverage target of a region, a fraction 0..1."""
    require_supervisor(principal)
    validate_region_code(region_code)
    if not in_jurisdiction(region_code, principal.jurisdiction):
        raise not_found("区划 region", region_code)
    if not 0.0 <= target <= 1.0:
        raise InvalidInput("目标值须在 0–1 之间 / target must be a fraction 0..1", field="target")
    if not 2000 <= year <= 2100:
        raise InvalidInput("年份无效 / year out of range", field="year")
    with platform.unit_of_work(principal) as s:
        row = s.scalar(
            select(IndicatorTarget).where(
                IndicatorTarget.region_code == region_code,
                IndicatorTarget.year == year,
                IndicatorTarget.indicator == COVERAGE_INDICATOR,
            )
        )
        if row is None:
            s.add(
                IndicatorTarget(
                    region_code=region_code,
                    year=year,
                    indicator=COVERAGE_INDICATOR,
                    target=target,
                    source=source,
                )
            )
        else:
            row.target, row.source = target, source or row.source
    return {"region_code": region_code, "year": year, "target": target, "source": source}


def regional_view(platform: Platform, principal: Principal, on: date | None = None) -> dict[str, Any]:
    require_supervisor(principal)
    day = on or platform.local_today()
    with platform.reading() as s:
        units = s.execute(
            scoped_units(
                select(EnergyUnit, Organisation.name).join(
                    Organisation, Organisation.id == EnergyUnit.organisation_id
                ),
                principal,
            ).order_by(EnergyUnit.region_code, Organisation.name)
        ).all()
        reviews = latest_reviews(s, principal)
        regions = {r.code: r for r in s.scalars(select(Region))}
        reporting = _reporting(s, [u.id for u, _ in units], day)
        counties: dict[str, dict[str, Any]] = {}
        sectors: dict[str, dict[str, Any]] = {}
        rates: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
        rows: list[dict[str, Any]] = []
        for unit, name in units:
            county = counties.setdefault(
                unit.region_code,
                {
                    "region_code": unit.region_code,
                    "region": regions[unit.region_code].name_zh
                    if unit.region_code in regions
                    else unit.region_code,
                    "region_en": regions[unit.region_code].name_en if unit.region_code in regions else "",
                    "units": 0,
                    "reviewed": 0,
                    "compliant": 0,
                    "non_compliant": 0,
                    "reporting": 0,
                },
            )
            sector = sectors.setdefault(
                unit.sector,
                {
                    "sector": unit.sector,
                    "units": 0,
                    "reviewed": 0,
                    "compliant": 0,
                    "non_compliant": 0,
                    "reporting": 0,
                },
            )
            review = reviews.get(unit.id)
            for group in (county, sector):
                group["units"] += 1
                if review is not None:
                    group["reviewed"] += 1
                    group["compliant" if review.compliant else "non_compliant"] += 1
                if unit.id in reporting:
                    group["reporting"] += 1
            if review is not None:
                for r in review.rates:
                    if r["required"]:
                        rates[(r["energy_type"], r["level"])][0] += r["installed"]
                        rates[(r["energy_type"], r["level"])][1] += r["required"]
            rows.append(
                {
                    "id": unit.id,
                    "organisation": name,
                    "region_code": unit.region_code,
                    "sector": unit.sector,
                    "review_id": review.id if review else None,
                    "review_date": review.review_date.isoformat() if review else None,
                    "compliant": review.compliant if review else None,
                    "reporting": unit.id in reporting,
                }
            )
        total = len(units)
        covered = sum(1 for u, _ in units if u.id in reporting)
        return {
            "as_of": day.isoformat(),
            "units": rows,
            "counties": list(counties.values()),
            "sectors": sorted(sectors.values(), key=lambda g: g["sector"]),
            "rates": [
                {
                    "energy_type": et,
                    "level": lvl,
                    "installed": v[0],
                    "required": v[1],
                    "percent": 100.0 * v[0] / v[1] if v[1] else None,
                }
                for (et, lvl), v in sorted(rates.items(), key=lambda kv: (kv[0][0], LEVEL_ORDER[kv[0][1]]))
            ],
            "coverage": {
                "units": total,
                "reporting": covered,
                "rate": covered / total if total else None,
                "target": _target(s, principal, day.year),
                "reporting_days": LIVE_DAYS,
            },
        }


def _reporting(s: Any, unit_ids: list[int], day: date) -> set[int]:
    """Units whose latest period is recent and has every boundary point reporting without gaps."""
    if not unit_ids:
        return set()
    latest: dict[int, EnergyPeriod] = {}
    for p in s.scalars(
        select(EnergyPeriod)
        .where(EnergyPeriod.unit_id.in_(unit_ids), EnergyPeriod.source == "live")
        .where(EnergyPeriod.period_end <= day)
        .order_by(EnergyPeriod.period_end)
    ):
        latest[p.unit_id] = p
    out: set[int] = set()
    for unit_id, period in latest.items():
        if period.period_end < day - timedelta(days=LIVE_DAYS):
            continue
        boundary = s.scalar(
            select(EnergyNode.key).where(
                EnergyNode.topology_id == period.topology_id, EnergyNode.level == "boundary"
            )
        )
        keys = set(
            s.scalars(
                select(EnergyPoint.key).where(
                    EnergyPoint.topology_id == period.topology_id, EnergyPoint.node_key == boundary
                )
            )
        )
        ok = {q["point"] for q in period.quality if q.get("online") and not NOT_ONLINE & set(q["flags"])}
        if keys and keys <= ok:
            out.add(unit_id)
    return out


def _target(s: Any, principal: Principal, year: int) -> dict[str, Any] | None:
    """The coverage target of the caller's region, or of the nearest region above it that has one."""
    if principal.role not in SUPERVISING:
        return None
    rows = s.scalars(
        select(IndicatorTarget).where(
            IndicatorTarget.year == year, IndicatorTarget.indicator == COVERAGE_INDICATOR
        )
    ).all()
    best = None
    for r in rows:
        if in_jurisdiction(principal.jurisdiction, r.region_code) and (
            best is None or len(r.region_code.rstrip("0")) > len(best.region_code.rstrip("0"))
        ):
            best = r
    return (
        None
        if best is None
        else {"region_code": best.region_code, "target": best.target, "source": best.source}
    )
