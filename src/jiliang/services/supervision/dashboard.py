"""The supervisor's dashboard and region tree: today's (or a chosen day's) indicators, per region.

Every number here is also a list: the overdue count is the total of ``search.search_instruments`` with
``state=overdue`` on the same day and region, the due count that of ``state=due``, the expiring count
that of ``search.search_standards`` with ``expiring_within``; the tests check that they agree. Today's
numbers come from the tallies that triggers keep (migration 0017, ``services.indicators``), so the
dashboard reads a few thousand rows, not the registry. The
indicators themselves come from ``services.indicators.report`` unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from jiliang.domain.access import Principal, Role
from jiliang.domain.regions import ancestors, in_jurisdiction, validate_region_code
from jiliang.errors import NotFound
from jiliang.legal.coverage import ALL_ITEMS, Indicator, IndicatorValue
from jiliang.services import indicators, organisations
from jiliang.services.common import not_found
from jiliang.services.platform import Platform
from jiliang.services.supervision import followup, search

DUE_WITHIN_DAYS = 30


@dataclass
class RegionNode:
    code: str
    name: str
    level: str
    coverage: IndicatorValue | None
    overdue: int
    standard_coverage: IndicatorValue | None
    children: list[RegionNode] = field(default_factory=list)


@dataclass(frozen=True)
class Dashboard:
    on: date
    region_code: str
    region_name: str
    coverage: IndicatorValue | None
    standard_coverage: IndicatorValue | None
    overdue: int
    due_soon: int
    due_within_days: int
    expiring_standards: int
    expiring_within_days: int
    follow_ups_open: int
    follow_ups_verified: int
    tree: RegionNode
    breadcrumb: list[tuple[str, str]]  # (code, name) from the caller's jurisdiction down to the region


def _root(principal: Principal, region: str | None) -> str:
    code = validate_region_code(region, "region") if region else principal.jurisdiction
    if not in_jurisdiction(code, principal.jurisdiction):
        raise not_found("region", code)
    return code


def region_tree(
    platform: Platform, principal: Principal, *, region: str | None = None, on: date | None = None
) -> RegionNode:
    """The region and every region under it, each with its coverage, overdue count and 建标覆盖率."""
    root = _root(principal, region)
    report = indicators.report(platform, principal, region=root, on=on, by_item=False)
    regions = organisations.list_regions(platform, principal, root)
    nodes: dict[str, RegionNode] = {}
    for r in regions:
        over = report.get(Indicator.OVERDUE, r.code, ALL_ITEMS)
        nodes[r.code] = RegionNode(
            code=r.code,
            name=r.name_zh,
            level=r.level,
            coverage=report.get(Indicator.VERIFICATION_COVERAGE, r.code, ALL_ITEMS),
            overdue=over.numerator if over is not None else 0,
            standard_coverage=report.get(Indicator.STANDARD_COVERAGE, r.code, ALL_ITEMS),
        )
    for r in regions:
        if r.code != root and r.parent_code in nodes:
            nodes[r.parent_code].children.append(nodes[r.code])
    if root not in nodes:
        raise not_found("region", root)
    return nodes[root]


def counties(tree: RegionNode) -> list[RegionNode]:
    """The leaves of the tree (counties, or the deepest regions there are), for the tile view."""
    if not tree.children:
        return [tree]
    out: list[RegionNode] = []
    for child in tree.children:
        out.extend(counties(child))
    return out


def due_soon_count(platform: Platform, principal: Principal, root: str, day: date) -> int:
    """The due list's total: from the tallies today (a region-scoped caller sees the region's whole
    subtree), else counted from the list itself."""
    if principal.role not in (Role.PUBLIC, Role.ENTERPRISE):
        n = indicators.due_count(platform, root, day, DUE_WITHIN_DAYS)
        if n is not None:
            return n
    filters = {"region_code": root, "on": day.isoformat(), "state": "due", "within_days": DUE_WITHIN_DAYS}
    return search.search_instruments(platform, principal, filters, limit=1).total


def dashboard(
    platform: Platform, principal: Principal, *, region: str | None = None, on: date | None = None
) -> Dashboard:
    day = on or platform.local_today()
    if day > platform.local_today():
        from jiliang.errors import InvalidInput

        raise InvalidInput("日期不能晚于今天 / the date cannot be after today", field="on")
    tree = region_tree(platform, principal, region=region, on=day)
    due_soon = due_soon_count(platform, principal, tree.code, day)
    expiring_days = platform.settings.coverage.expiring_within_days
    expiring = search.search_standards(
        platform,
        principal,
        {"region_code": tree.code, "on": day.isoformat(), "expiring_within": expiring_days},
        limit=1,
    )
    follow = followup.counts(platform, principal)
    crumbs = []
    for code in reversed(ancestors(tree.code)[1:]):
        if in_jurisdiction(code, principal.jurisdiction):
            try:
                crumbs.append((code, organisations.get_region(platform, principal, code).name_zh))
            except NotFound:
                continue
    crumbs.append((tree.code, tree.name))
    return Dashboard(
        on=day,
        region_code=tree.code,
        region_name=tree.name,
        coverage=tree.coverage,
        standard_coverage=tree.standard_coverage,
        overdue=tree.overdue,
        due_soon=due_soon,
        due_within_days=DUE_WITHIN_DAYS,
        expiring_standards=expiring.total,
        expiring_within_days=expiring_days,
        follow_ups_open=follow["open"],
        follow_ups_verified=follow["verified"],
        tree=tree,
        breadcrumb=crumbs,
    )
