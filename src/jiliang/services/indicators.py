"""Computing the plan's indicators from the registry (counts in SQL, the rest in ``legal.coverage``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal, or_, select

from jiliang.domain.access import Principal, Role
from jiliang.domain.instruments import InstrumentStatus
from jiliang.domain.regions import in_jurisdiction, jurisdiction_prefix, validate_region_code
from jiliang.domain.standards import StandardKind
from jiliang.errors import InvalidInput
from jiliang.legal.coverage import (
    ALL_ITEMS,
    Count,
    Indicator,
    IndicatorValue,
    roll_up,
    standard_coverage,
    with_targets,
)
from jiliang.services import catalogue as catalogue_service
from jiliang.services.common import not_found, require_role
from jiliang.services.platform import Platform
from jiliang.store.models import (
    IndicatorSnapshot,
    IndicatorTarget,
    Instrument,
    InstrumentTally,
    InstrumentTallyState,
    InstrumentTotal,
    MeasurementStandard,
    Region,
    StandardItem,
    VerificationRecord,
)

RATE_INDICATORS = (
    Indicator.VERIFICATION_COVERAGE,
    Indicator.STANDARD_COVERAGE,
    Indicator.ENERGY_MONITORING_COVERAGE,
)


def _root(principal: Principal, region: str | None) -> str:
    if principal.role in (Role.PUBLIC, Role.ENTERPRISE):
        require_role(principal, Role.SUPERVISOR, Role.INSTITUTION)
    root = validate_region_code(region) if region else principal.jurisdiction
    if not in_jurisdiction(root, principal.jurisdiction):
        raise not_found("region", root)
    return root


def _in_service_as_of(on: date, fast: bool, count_suspended: bool) -> Any:
    statuses = [InstrumentStatus.IN_SERVICE.value]
    if count_suspended:
        statuses.append(InstrumentStatus.SUSPENDED.value)
    if fast:
        return Instrument.status.in_(statuses)
    # As of a past date: out of service if the current retirement had already happened by then.
    retired = [s.value for s in InstrumentStatus if s.value not in statuses]
    return ~and_(Instrument.status.in_(retired), Instrument.status_since <= on)


def _tallies_answer(platform: Platform, on: date) -> bool:
    """Whether the trigger-kept tallies (migration 0017) give the counts of ``on``: today or later, and
    no instrument filed after ``on`` (filing refuses a future date, so only a hand-made row could be)."""
    if on < platform.today():
        return False
    cutoff = on - timedelta(days=platform.settings.coverage.grace_days)
    with platform.reading() as s:
        state = s.get(InstrumentTallyState, 1)
    if state is None:
        return True
    # expiries before ``folded_before`` are kept as "expired long ago" (services.tallies.compact)
    return (state.latest_filed_on is None or state.latest_filed_on <= on) and (
        state.folded_before is None or state.folded_before <= cutoff
    )


def _counted_statuses(count_suspended: bool) -> list[str]:
    statuses = [InstrumentStatus.IN_SERVICE.value]
    if count_suspended:
        statuses.append(InstrumentStatus.SUSPENDED.value)
    return statuses


def _tally_rows(platform: Platform, prefix: str, on: date) -> list[tuple[str, str, int, int]]:
    """(region, item, covered, counted) from the tallies: totals minus those expired by the cutoff."""
    definition = platform.settings.coverage
    statuses = _counted_statuses(definition.count_suspended)
    cutoff = on - timedelta(days=definition.grace_days)
    totals = select(
        InstrumentTotal.region_code, InstrumentTotal.item_code, func.sum(InstrumentTotal.n)
    ).where(InstrumentTotal.status.in_(statuses))
    expired = select(
        InstrumentTally.region_code, InstrumentTally.item_code, func.sum(InstrumentTally.n)
    ).where(InstrumentTally.status.in_(statuses), InstrumentTally.valid_until <= cutoff)
    if prefix:
        totals = totals.where(InstrumentTotal.region_code.like(prefix + "%"))
        expired = expired.where(InstrumentTally.region_code.like(prefix + "%"))
    totals = totals.group_by(InstrumentTotal.region_code, InstrumentTotal.item_code)
    expired = expired.group_by(InstrumentTally.region_code, InstrumentTally.item_code)
    with platform.reading() as s:
        gone = {(r, i): int(n) for r, i, n in s.execute(expired)}
        rows = []
        for region_code, item_code, n in s.execute(totals):
            if n:  # a (region, item) whose last instrument left keeps a zero row; a scan has no group
                rows.append((region_code, item_code, int(n) - gone.get((region_code, item_code), 0), int(n)))
    return rows


def due_count(platform: Platform, root: str, on: date, within_days: int) -> int | None:
    """How many counted, covered instruments fall due by ``on + within_days``, from the tallies; None
    when they cannot answer (a past date). The same count as the due list
    (``search.search_instruments(state="due")``): a covered instrument's ``valid_until`` is its due date
    (``domain.verification.valid_until``; a pass without a due date is valid until ``NEVER_DUE``)."""
    if not _tallies_answer(platform, on):
        return None
    definition = platform.settings.coverage
    statuses = _counted_statuses(definition.count_suspended)
    cutoff = on - timedelta(days=definition.grace_days)
    t = InstrumentTally
    stmt = select(t.item_code, func.sum(t.n)).where(
        t.status.in_(statuses), t.valid_until > cutoff, t.valid_until <= on + timedelta(days=within_days)
    )
    prefix = jurisdiction_prefix(root)
    if prefix:
        stmt = stmt.where(t.region_code.like(prefix + "%"))
    items = catalogue_service.catalogue(platform)
    with platform.reading() as s:
        rows = list(s.execute(stmt.group_by(t.item_code)))
    return sum(
        int(n)
        for item_code, n in rows
        if (item := items.get(item_code)) is not None and item.effective_from <= on
    )


def coverage_counts(
    platform: Platform, root: str, on: date, *, use_tallies: bool = True
) -> tuple[list[Count], list[Count]]:
    """Per (region, item): (covered, in-service compulsory) and (overdue, in-service compulsory).

    Today (or later) the counts come from the tallies that triggers keep (a GROUP BY over a few thousand
    rows); on a past date, or with ``use_tallies=False``, from the instruments and the verification
    records in force on the date. Both give the same numbers (tests/test_indicator_tallies.py)."""
    prefix = jurisdiction_prefix(root)
    if use_tallies and _tallies_answer(platform, on):
        rows = _tally_rows(platform, prefix, on)
    else:
        rows = _scanned_rows(platform, prefix, on)
    items = catalogue_service.catalogue(platform)
    cov, over = [], []
    for region_code, item_code, n_cov, n in rows:
        item = items.get(item_code)
        if item is None or item.effective_from > on:
            continue
        cov.append(Count(region_code, item_code, n_cov, n))
        over.append(Count(region_code, item_code, n - n_cov, n))
    return cov, over


def _scanned_rows(platform: Platform, prefix: str, on: date) -> list[tuple[str, str, int, int]]:
    """(region, item, covered, counted) from the instruments (and, before today, their records)."""
    definition = platform.settings.coverage
    fast = (
        on >= platform.today()
    )  # no record lies in the future, so the denormalised state is the state on `on`
    cutoff = on - timedelta(days=definition.grace_days)
    base = [Instrument.compulsory, Instrument.filed_on <= on]
    if prefix:
        base.append(Instrument.region_code.like(prefix + "%"))
    if fast:
        covered: ColumnElement[bool] = and_(
            Instrument.valid_until.is_not(None), Instrument.valid_until > cutoff
        )
        excluded_fail: ColumnElement[bool] = literal(False)
        stmt: Any = select(Instrument.region_code, Instrument.item_code)
    else:
        r = VerificationRecord
        covered = and_(r.conclusion == "pass", or_(r.due_on.is_(None), r.due_on > cutoff))
        # as of `on`, the last effective record being a failure means the instrument was suspended
        # (coalesce: an instrument never verified has no record row, and NULL must not drop it)
        excluded_fail = and_(
            func.coalesce(r.conclusion, "") == "fail", literal(not definition.count_suspended)
        )
        stmt = select(Instrument.region_code, Instrument.item_code).outerjoin(
            r,
            and_(
                r.instrument_id == Instrument.id,
                r.superseded.is_(False),
                r.verified_on <= on,
                or_(r.effective_until.is_(None), r.effective_until > on),
            ),
        )
    in_service = and_(_in_service_as_of(on, fast, definition.count_suspended), ~excluded_fail)
    stmt = (
        stmt.add_columns(
            func.count().label("n"),
            func.sum(case((covered, 1), else_=0)).label("covered"),
        )
        .where(*base, in_service)
        .group_by(Instrument.region_code, Instrument.item_code)
    )
    with platform.reading() as s:
        return [(reg, item, int(n_cov or 0), int(n)) for reg, item, n, n_cov in s.execute(stmt)]


def _standard_sets(
    platform: Platform, root: str, on: date, *, use_tallies: bool = True
) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    prefix = jurisdiction_prefix(root)
    in_use: dict[str, set[str]] = {}
    stmt: Any
    if use_tallies and _tallies_answer(platform, on):
        t = InstrumentTotal
        stmt = select(t.region_code, t.item_code).where(
            t.status == InstrumentStatus.IN_SERVICE.value, t.n > 0
        )
        if prefix:
            stmt = stmt.where(t.region_code.like(prefix + "%"))
    else:
        stmt = (
            select(Instrument.region_code, Instrument.item_code)
            .where(
                Instrument.compulsory,
                Instrument.status == InstrumentStatus.IN_SERVICE.value,
                Instrument.filed_on <= on,
            )
            .distinct()
        )
        if prefix:
            stmt = stmt.where(Instrument.region_code.like(prefix + "%"))
    with platform.reading() as s:
        for region, item in s.execute(stmt):
            in_use.setdefault(region, set()).add(item)
        std_stmt = (
            select(MeasurementStandard.region_code, StandardItem.item_code)
            .join(StandardItem, StandardItem.standard_id == MeasurementStandard.id)
            .where(
                MeasurementStandard.kind == StandardKind.SOCIAL_PUBLIC.value,
                MeasurementStandard.active,
                MeasurementStandard.certificate_valid_from <= on,
                MeasurementStandard.certificate_valid_until >= on,
            )
        )
        with_std: dict[str, set[str]] = {}
        for region, item in s.execute(std_stmt):
            with_std.setdefault(region, set()).add(item)
    return in_use, with_std


def targets_for(platform: Platform, year: int) -> dict[tuple[str, str], float]:
    with platform.reading() as s:
        rows = s.execute(
            select(IndicatorTarget.region_code, IndicatorTarget.indicator, IndicatorTarget.target).where(
                IndicatorTarget.year == year
            )
        )
        return {(r, i): t for r, i, t in rows}


@dataclass(frozen=True)
class IndicatorReport:
    as_of: date
    root: str
    values: list[IndicatorValue]

    def get(
        self, indicator: Indicator, region_code: str, item_code: str = ALL_ITEMS
    ) -> IndicatorValue | None:
        return next(
            (
                v
                for v in self.values
                if v.indicator is indicator and v.region_code == region_code and v.item_code == item_code
            ),
            None,
        )


def report(
    platform: Platform,
    principal: Principal,
    *,
    region: str | None = None,
    on: date | None = None,
    by_item: bool = True,
    use_tallies: bool = True,
) -> IndicatorReport:
    """Every indicator for ``region`` and every region and item beneath it, on ``on`` (default today).

    ``use_tallies=False`` computes today's counts by scanning the instruments, as before migration 0017
    (the agreement tests and the benchmark compare both)."""
    root = _root(principal, region)
    on = on or platform.local_today()
    cov, over = coverage_counts(platform, root, on, use_tallies=use_tallies)
    values: list[IndicatorValue] = []
    for indicator, counts in ((Indicator.VERIFICATION_COVERAGE, cov), (Indicator.OVERDUE, over)):
        for (reg, item), (num, den) in roll_up(counts, root).items():
            if by_item or item == ALL_ITEMS:
                values.append(IndicatorValue(indicator, reg, item, num, den))
    in_use, with_std = _standard_sets(platform, root, on, use_tallies=use_tallies)
    for reg, (num, den) in standard_coverage(
        in_use, with_std, root, standards_from_ancestors=platform.settings.coverage.standards_from_ancestors
    ).items():
        values.append(IndicatorValue(Indicator.STANDARD_COVERAGE, reg, ALL_ITEMS, num, den))
    values = with_targets(values, targets_for(platform, on.year))
    values.sort(key=lambda v: (v.indicator.value, v.region_code, v.item_code))
    return IndicatorReport(as_of=on, root=root, values=values)


def set_target(
    platform: Platform,
    principal: Principal,
    *,
    region_code: str,
    year: int,
    indicator: str,
    target: float,
    source: str = "",
) -> IndicatorTarget:
    require_role(principal, Role.SUPERVISOR)
    validate_region_code(region_code)
    if not in_jurisdiction(region_code, principal.jurisdiction):
        raise not_found("region", region_code)
    try:
        ind = Indicator(indicator)
    except ValueError:
        raise InvalidInput(
            f"指标无效 / indicator must be one of {[i.value for i in RATE_INDICATORS]}", field="indicator"
        ) from None
    if ind not in RATE_INDICATORS:
        raise InvalidInput("只能为比率类指标设目标 / targets apply to rate indicators", field="indicator")
    if not 0.0 <= target <= 1.0:
        raise InvalidInput(
            "目标值须在 0–1 之间（如 0.92）/ target must be a fraction 0..1, e.g. 0.92", field="target"
        )
    if not 2000 <= year <= 2100:
        raise InvalidInput("年份无效 / year out of range", field="year")
    with platform.unit_of_work(principal) as s:
        if s.get(Region, region_code) is None:
            raise InvalidInput("区划不存在 / region not found", field="region_code")
        row = s.scalar(
            select(IndicatorTarget).where(
                IndicatorTarget.region_code == region_code,
                IndicatorTarget.year == year,
                IndicatorTarget.indicator == ind.value,
            )
        )
        if row is None:
            row = IndicatorTarget(
                region_code=region_code, year=year, indicator=ind.value, target=target, source=source
            )
            s.add(row)
        else:
            row.target, row.source = target, source or row.source
    return row


def month_ends(on: date, months: int) -> list[date]:
    out, d = [], on
    for _ in range(months):
        out.append(d)
        d = d.replace(day=1) - timedelta(days=1)
    return sorted(out)


def take_snapshot(platform: Platform, on: date | None = None) -> int:
    """Store the region-level indicators of ``on`` so that trends at province scale read, not recompute."""
    from jiliang.domain.access import SYSTEM
    from jiliang.domain.regions import NATIONAL

    rep = report(platform, SYSTEM, region=NATIONAL, on=on, by_item=True)
    with platform.unit_of_work() as s:
        s.query(IndicatorSnapshot).filter(IndicatorSnapshot.as_of == rep.as_of).delete()
        s.add_all(
            IndicatorSnapshot(
                as_of=rep.as_of,
                region_code=v.region_code,
                item_code=v.item_code,
                indicator=v.indicator.value,
                numerator=v.numerator,
                denominator=v.denominator,
            )
            for v in rep.values
        )
    return len(rep.values)


def trend(
    platform: Platform,
    principal: Principal,
    *,
    region: str | None = None,
    months: int = 12,
    indicator: str = Indicator.VERIFICATION_COVERAGE.value,
    item_code: str = ALL_ITEMS,
) -> list[DatedValue]:
    """The indicator at each month end (and today), from snapshots where taken, computed otherwise."""
    root = _root(principal, region)
    if not 1 <= months <= 60:
        raise InvalidInput("months 须在 1–60 / months must be 1..60", field="months")
    ind = Indicator(indicator)
    out: list[tuple[date, IndicatorValue]] = []
    for day in month_ends(platform.local_today(), months):
        with platform.reading() as s:
            snap = s.scalar(
                select(IndicatorSnapshot).where(
                    IndicatorSnapshot.as_of == day,
                    IndicatorSnapshot.region_code == root,
                    IndicatorSnapshot.item_code == item_code,
                    IndicatorSnapshot.indicator == ind.value,
                )
            )
        if snap is not None:
            value = IndicatorValue(ind, root, item_code, snap.numerator, snap.denominator)
        else:
            value = report(platform, principal, region=root, on=day, by_item=bool(item_code)).get(
                ind, root, item_code
            ) or IndicatorValue(ind, root, item_code, 0, 0)
        target = targets_for(platform, day.year)
        out.append((day, with_targets([value], target)[0]))
    return [DatedValue(d, v) for d, v in out]


@dataclass(frozen=True)
class DatedValue:
    on: date
    value: IndicatorValue


def expiring_standards(
    platform: Platform,
    principal: Principal,
    *,
    region: str | None = None,
    on: date | None = None,
    within_days: int | None = None,
) -> list[MeasurementStandard]:
    root = _root(principal, region)
    on = on or platform.local_today()
    days = within_days if within_days is not None else platform.settings.coverage.expiring_within_days
    prefix = jurisdiction_prefix(root)
    stmt = (
        select(MeasurementStandard)
        .where(
            MeasurementStandard.active,
            MeasurementStandard.certificate_valid_until <= on + timedelta(days=days),
        )
        .order_by(MeasurementStandard.certificate_valid_until)
    )
    if prefix:
        stmt = stmt.where(MeasurementStandard.region_code.like(prefix + "%"))
    with platform.reading() as s:
        return list(s.scalars(stmt))


@dataclass(frozen=True)
class TargetRow:
    """A plan target as people read it: the region by name, the indicator, the fraction, its source."""

    region_code: str
    region_name: str
    year: int
    indicator: Indicator
    target: float
    source: str


def list_targets(platform: Platform, principal: Principal, year: int) -> list[TargetRow]:
    """The plan targets of ``year`` for the regions inside the caller's jurisdiction."""
    require_role(principal, Role.SUPERVISOR)
    stmt = (
        select(IndicatorTarget, Region.name_zh)
        .join(Region, Region.code == IndicatorTarget.region_code)
        .where(IndicatorTarget.year == year)
        .order_by(IndicatorTarget.region_code, IndicatorTarget.indicator)
    )
    if principal.prefix:
        stmt = stmt.where(IndicatorTarget.region_code.like(principal.prefix + "%"))
    with platform.reading() as s:
        return [
            TargetRow(t.region_code, name, t.year, Indicator(t.indicator), t.target, t.source)
            for t, name in s.execute(stmt)
        ]
