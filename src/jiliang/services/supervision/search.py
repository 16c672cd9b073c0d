"""Search and lists for the supervisor: instruments, organisations, standards, records, certificates.

Each list takes a search box (``q``), filters, a sort key from a fixed set and an offset page whose size
is bounded by ``settings.page_size_max``; every query starts from ``services.scope`` so that nothing
outside the caller's jurisdiction is found. Rows carry names (owner, region, catalogue item, issuer),
never bare ids, so that pages and exports show what a person reads.

The instrument search box matches, in one query: the serial number (出厂编号, exact), the instrument's
name (contains), the owner's name (contains) or 统一社会信用代码 (exact), and a certificate or record
number (exact). Exact matches use indexes (migration 0010 adds the serial number and the record number);
"contains" on names is a scan of the caller's subtree (see docs/supervision.md).

The overdue and due lists use the definitions of the indicators (``services.indicators``): on today or
later from the instruments' denormalised state, on a past date from the verification record in force on
that day, so that a card's number and the list behind it are the same count.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    column,
    func,
    literal,
    literal_column,
    or_,
    select,
    table,
    union,
)
from sqlalchemy.orm import Session, aliased

from jiliang.domain.access import Principal, Role
from jiliang.domain.instruments import InstrumentStatus, parse_date
from jiliang.errors import InvalidInput
from jiliang.services import catalogue as catalogue_service
from jiliang.services import scope
from jiliang.services.common import Page, not_found
from jiliang.services.platform import Platform
from jiliang.services.supervision import paging
from jiliang.store.models import (
    Certificate,
    Instrument,
    MeasuredVerification,
    MeasurementStandard,
    Organisation,
    Region,
    VerificationRecord,
)

T = TypeVar("T")

STATES = ("overdue", "due", "covered")


# ---------------------------------------------------------------------------------------------------
# paging and small parsers


def _bounded(platform: Platform, offset: int, limit: int) -> None:
    if offset < 0:
        raise InvalidInput("offset 不能为负 / offset must be ≥ 0", field="offset")
    top = platform.settings.page_size_max
    if not 1 <= limit <= top:
        raise InvalidInput(f"每页条数须在 1–{top} / limit must be 1..{top}", field="limit")


def _page(
    s: Session,
    stmt: Select[Any],
    offset: int,
    limit: int,
    shape: Callable[[Any], T],
    count_limit: int | None = None,
) -> Page[T]:
    """One page and the list's total; with ``count_limit`` the total is counted only up to
    ``offset + count_limit`` rows and flagged as a lower bound when the list goes on."""
    counted = stmt.order_by(None)
    if count_limit is not None:
        counted = counted.limit(offset + count_limit + 1)
    total = s.scalar(select(func.count()).select_from(counted.subquery())) or 0
    at_least = count_limit is not None and total > offset + count_limit
    if at_least:
        total = offset + (count_limit or 0)
    rows = [shape(r) for r in s.execute(stmt.offset(offset).limit(limit))]
    return Page(items=rows, total=total, offset=offset, limit=limit, total_at_least=at_least)


def _text(filters: dict[str, Any], key: str) -> str:
    value = filters.get(key)
    return "" if value is None else str(value).strip()


def _check_keys(filters: dict[str, Any], allowed: Sequence[str]) -> dict[str, Any]:
    unknown = sorted(set(filters) - set(allowed))
    if unknown:
        raise InvalidInput(f"未知的筛选条件 / unknown filter: {unknown[0]}", field=unknown[0])
    return {k: v for k, v in filters.items() if v not in (None, "")}


def _int(value: object, field: str) -> int:
    try:
        return int(value)  # type: ignore[call-overload,no-any-return]
    except (TypeError, ValueError):
        raise InvalidInput(f"{field} 必须是整数 / {field} must be an integer", field=field) from None


def _sort(sort: str | None, keys: dict[str, Any], default: str, tiebreak: paging.Key) -> paging.Order:
    """The list's order for the ``sort`` asked for (prefix - for descending), then ``tiebreak``."""
    key = sort or default
    column = keys.get(key.lstrip("-"))
    if column is None:
        raise InvalidInput(
            f"排序字段无效 / sort must be one of {sorted(keys)} (prefix - for descending)", field="sort"
        )
    # NULLs (never verified: no due date) first when ascending, on both databases alike; a column that
    # cannot be NULL is ordered plainly, so that its index serves the order (PostgreSQL's indexes are
    # NULLS LAST; SQLite sorted the whole province for "ORDER BY id NULLS FIRST")
    nullable = bool(getattr(column.expression, "nullable", True))
    return paging.Order(key, (paging.Key(column, key.startswith("-"), nullable), tiebreak))


def _order(sort: str | None, keys: dict[str, Any], default: str, tiebreak: paging.Key) -> list[Any]:
    return _sort(sort, keys, default, tiebreak).clauses()


# ---------------------------------------------------------------------------------------------------
# instruments


@dataclass(frozen=True)
class InstrumentRow:
    id: int
    name: str
    serial_number: str
    item_code: str
    item_name: str
    model: str
    manufacturer: str
    accuracy_class: str
    use: str
    status: str
    location: str
    region_code: str
    region_name: str
    owner_id: int
    owner_name: str
    owner_credit_code: str
    owner_contact: str
    owner_address: str
    filed_on: date
    compulsory: bool
    last_verified_on: date | None
    last_conclusion: str | None
    due_on: date | None  # as of the list's date
    days_overdue: int | None  # days past due_on (or past filing when never verified), as of the list's date


INSTRUMENT_FILTERS = (
    "q",
    "serial_number",
    "owner",
    "credit_code",
    "certificate_no",
    "region_code",
    "item_code",
    "owner_id",
    "status",
    "use",
    "compulsory",
    "state",
    "on",
    "within_days",
)


@dataclass(frozen=True)
class _AsOf:
    """How the instrument's verification state reads on a date: columns and conditions for the query."""

    on: date
    stmt: Select[Any]
    due: Any  # the due date in force on ``on``
    last_verified: Any
    last_conclusion: Any
    counted: ColumnElement[bool]  # in the indicators' denominator on ``on``
    covered: ColumnElement[bool]
    uncovered: ColumnElement[bool]  # NOT covered, written out: SQL's NOT of a NULL comparison is NULL


def _as_of(platform: Platform, on: date) -> _AsOf:
    """The indicators' definitions (services.indicators.coverage_counts), as columns of a list query."""
    definition = platform.settings.coverage
    cutoff = on - timedelta(days=definition.grace_days)
    items = catalogue_service.catalogue(platform)
    not_yet = [code for code, item in items.items() if item.effective_from > on]
    statuses = [InstrumentStatus.IN_SERVICE.value]
    if definition.count_suspended:
        statuses.append(InstrumentStatus.SUSPENDED.value)
    base: list[ColumnElement[bool]] = [Instrument.compulsory.is_(True), Instrument.filed_on <= on]
    if not_yet:
        base.append(Instrument.item_code.not_in(not_yet))
    stmt = select(Instrument)
    if on >= platform.today():
        # no record lies in the future, so the denormalised state is the state on ``on``
        counted = and_(*base, Instrument.status.in_(statuses))
        covered = and_(Instrument.valid_until.is_not(None), Instrument.valid_until > cutoff)
        uncovered = or_(Instrument.valid_until.is_(None), Instrument.valid_until <= cutoff)
        return _AsOf(
            on,
            stmt,
            Instrument.due_on,
            Instrument.last_verified_on,
            Instrument.last_conclusion,
            counted,
            covered,
            uncovered,
        )
    r = aliased(VerificationRecord, name="in_force")
    stmt = stmt.outerjoin(
        r,
        and_(
            r.instrument_id == Instrument.id,
            r.superseded.is_(False),
            r.verified_on <= on,
            or_(r.effective_until.is_(None), r.effective_until > on),
        ),
    )
    retired = [s.value for s in InstrumentStatus if s.value not in statuses]
    excluded_fail = and_(func.coalesce(r.conclusion, "") == "fail", literal(not definition.count_suspended))
    counted = and_(
        *base, ~and_(Instrument.status.in_(retired), Instrument.status_since <= on), ~excluded_fail
    )
    covered = and_(r.conclusion == "pass", or_(r.due_on.is_(None), r.due_on > cutoff))
    uncovered = or_(
        r.conclusion.is_(None), r.conclusion != "pass", and_(r.due_on.is_not(None), r.due_on <= cutoff)
    )
    return _AsOf(on, stmt, r.due_on, r.verified_on, r.conclusion, counted, covered, uncovered)


def _identifier_ids(q: str) -> Any:
    """Ids of the instruments one of whose identifiers is ``q``: a UNION whose every branch is indexed."""
    return union(
        select(Instrument.id.label("id")).where(Instrument.serial_number == q),
        select(Certificate.instrument_id.label("id")).where(Certificate.number == q),
        select(VerificationRecord.instrument_id.label("id")).where(VerificationRecord.document_no == q),
        select(Instrument.id.label("id")).where(
            Instrument.owner_id.in_(select(Organisation.id).where(Organisation.credit_code == q.upper()))
        ),
    )


_NAMES = table("instrument_names", column("rowid"))  # SQLite's FTS5 trigram index of names (0024)


def _name_contains(platform: Platform, q: str) -> ColumnElement[bool]:
    """The instrument's name contains ``q``. PostgreSQL serves ``LIKE '%q%'`` from its pg_trgm index by
    itself; SQLite looks names of three or more characters up in its trigram table first (a trigram
    needs three), and both still test LIKE on the rows found, so the answer is the scan's."""
    contains = Instrument.name.contains(q, autoescape=True)
    if platform.postgres or len(q) < 3:
        return contains
    phrase = '"' + q.replace('"', '""') + '"'
    found = select(_NAMES.c.rowid).where(literal_column("instrument_names").op("MATCH")(phrase))
    return and_(Instrument.id.in_(found), contains)


def _any_row(platform: Platform, stmt: Any) -> bool:
    with platform.reading() as s:
        return s.execute(select(stmt.subquery().c.id).limit(1)).first() is not None


def _instrument_select(
    platform: Platform, principal: Principal, f: dict[str, Any]
) -> tuple[Select[Any], _AsOf, Select[Any], Select[Any]]:
    """The scoped and filtered list query, the definitions it reads, the same rows for counting, and the
    list's columns and joins without its conditions (to read rows whose ids were chosen in scope)."""
    on = parse_date(f["on"], "on") if "on" in f else platform.local_today()
    state = _as_of(platform, on)
    owner = aliased(Organisation, name="owner")
    stmt = state.stmt.with_only_columns(
        Instrument,
        owner.name,
        owner.credit_code,
        owner.contact,
        owner.address,
        Region.name_zh,
        state.due,
        state.last_verified,
        state.last_conclusion,
        maintain_column_froms=True,
    )
    stmt = stmt.join(owner, owner.id == Instrument.owner_id).join(
        Region, Region.code == Instrument.region_code
    )
    bare = stmt  # the columns and joins alone: the rows of ids already chosen in scope (paging.fetch)
    stmt = scope.instruments(stmt, principal, seek=platform.postgres)  # the sort key's index: _region_clause
    q = _text(f, "q")
    if q:
        ids = _identifier_ids(q)
        if _any_row(platform, ids):
            # an identifier (出厂编号, certificate or record number, credit code) found: exactly those,
            # each branch through its index
            stmt = stmt.where(Instrument.id.in_(select(ids.subquery().c.id)))
        else:
            # a name: the instrument's (through its trigram index) or its owner's
            stmt = stmt.where(
                or_(
                    _name_contains(platform, q),
                    Instrument.owner_id.in_(
                        select(Organisation.id).where(Organisation.name.contains(q, autoescape=True))
                    ),
                )
            )
    if "serial_number" in f:
        stmt = stmt.where(Instrument.serial_number == _text(f, "serial_number"))
    if "owner" in f:
        stmt = stmt.where(owner.name.contains(_text(f, "owner"), autoescape=True))
    if "credit_code" in f:
        stmt = stmt.where(owner.credit_code == _text(f, "credit_code").upper())
    if "certificate_no" in f:
        number = _text(f, "certificate_no")
        stmt = stmt.where(
            or_(
                Instrument.id.in_(select(Certificate.instrument_id).where(Certificate.number == number)),
                Instrument.id.in_(
                    select(VerificationRecord.instrument_id).where(VerificationRecord.document_no == number)
                ),
            )
        )
    if "region_code" in f:
        stmt = stmt.where(scope.within(Instrument.region_code, _text(f, "region_code")))
    for key in ("item_code", "status", "use"):
        if key in f:
            stmt = stmt.where(getattr(Instrument, key) == _text(f, key))
    if "owner_id" in f:
        stmt = stmt.where(Instrument.owner_id == _int(f["owner_id"], "owner_id"))
    if "compulsory" in f:
        stmt = stmt.where(Instrument.compulsory == (str(f["compulsory"]).lower() in ("1", "true", "yes")))
    kind = _text(f, "state")
    if kind:
        if kind not in STATES:
            raise InvalidInput(
                f"state 须为 {'/'.join(STATES)} / state must be one of {STATES}", field="state"
            )
        if kind == "overdue":
            stmt = stmt.where(state.counted, state.uncovered)
        elif kind == "covered":
            stmt = stmt.where(state.counted, state.covered)
        else:
            days = _int(f.get("within_days", 30), "within_days")
            if not 0 <= days <= 366:
                raise InvalidInput("天数须在 0–366 / within_days must be 0..366", field="within_days")
            # covered means valid until after the cutoff, and a covered instrument's valid_until is its
            # due date (domain.verification.valid_until; on a past date the record's due date is the
            # test itself): the bound written on the due date too lets its index serve the range
            stmt = stmt.where(
                state.counted,
                state.covered,
                state.due > on - timedelta(days=platform.settings.coverage.grace_days),
                state.due <= on + timedelta(days=days),
            )
    # the count needs neither the region's name nor the owner's unless a filter reads the owner: both are
    # inner joins along foreign keys that every instrument has, so they change no count
    counted = state.stmt.with_only_columns(Instrument.id, maintain_column_froms=True)
    if "owner" in f or "credit_code" in f:
        counted = counted.join(owner, owner.id == Instrument.owner_id)
    if stmt.whereclause is not None:
        counted = counted.where(stmt.whereclause)
    return stmt, state, counted, bare


def _instrument_row(items: dict[str, Any], on: date) -> Callable[[Any], InstrumentRow]:
    def shape(r: Any) -> InstrumentRow:
        inst, owner_name, credit, contact, address, region_name, due, last_on, last_conclusion = r
        item = items.get(inst.item_code)
        if due is not None:
            late: int | None = (on - due).days if due <= on else None
        else:  # never verified: late since it was filed (a compulsory instrument is verified before use)
            late = (on - inst.filed_on).days if last_on is None and inst.filed_on <= on else None
        return InstrumentRow(
            id=inst.id,
            name=inst.name,
            serial_number=inst.serial_number,
            item_code=inst.item_code,
            item_name=item.level2_zh if item is not None else inst.item_code,
            model=inst.model,
            manufacturer=inst.manufacturer,
            accuracy_class=inst.accuracy_class,
            use=inst.use,
            status=inst.status,
            location=inst.location,
            region_code=inst.region_code,
            region_name=region_name,
            owner_id=inst.owner_id,
            owner_name=owner_name,
            owner_credit_code=credit,
            owner_contact=contact,
            owner_address=address,
            filed_on=inst.filed_on,
            compulsory=inst.compulsory,
            last_verified_on=last_on,
            last_conclusion=last_conclusion,
            due_on=due,
            days_overdue=late,
        )

    return shape


def instrument_statement(
    platform: Platform, principal: Principal, filters: dict[str, Any], sort: str | None = None
) -> tuple[Select[Any], Callable[[Any], InstrumentRow]]:
    """The scoped, filtered and sorted query behind the instrument list and its export, with its row shape."""
    stmt, order, shape, _ = _instrument_statement(platform, principal, filters, sort)
    return stmt.order_by(*order.clauses()), shape


def _instrument_statement(
    platform: Platform, principal: Principal, filters: dict[str, Any], sort: str | None
) -> tuple[Select[Any], paging.Order, Callable[[Any], InstrumentRow], tuple[Select[Any], Select[Any]]]:
    """The scoped and filtered query (not yet ordered), its order, its row shape, and its count query with
    the unconditioned columns and joins (``paging.fetch``'s ``counted`` and ``rows``)."""
    f = _check_keys(filters, INSTRUMENT_FILTERS)
    stmt, state, counted, bare = _instrument_select(platform, principal, f)
    keys = {
        "id": Instrument.id,
        "name": Instrument.name,
        "serial_number": Instrument.serial_number,
        "due_on": state.due,
        "last_verified_on": state.last_verified,
        "filed_on": Instrument.filed_on,
        "region": Instrument.region_code,
        "item": Instrument.item_code,
        "owner": Instrument.owner_id,
    }
    default = "due_on" if f.get("state") in ("overdue", "due") else "id"
    order = _sort(sort, keys, default, paging.Key(Instrument.id, nullable=False))
    return stmt, order, _instrument_row(catalogue_service.catalogue(platform), state.on), (counted, bare)


def search_instruments(
    platform: Platform,
    principal: Principal,
    filters: dict[str, Any],
    *,
    sort: str | None = None,
    offset: int = 0,
    limit: int = 50,
    count_limit: int | None = None,
    after: str | None = None,
    before: str | None = None,
) -> paging.KeyedPage[InstrumentRow]:
    """A page by ``offset``, or the page after / before a key token of ``paging`` (the console's later
    pages): see services/supervision/paging.py."""
    _bounded(platform, offset, limit)
    stmt, order, shape, (counted, rows) = _instrument_statement(platform, principal, filters, sort)
    with platform.reading() as s:
        return paging.fetch(
            s, stmt, order, shape, offset=offset, limit=limit, after=after, before=before,
            count_limit=count_limit, counted=counted, rows=rows,
        )  # fmt: skip


def _one(platform: Platform, stmt: Any, shape: Callable[[Any], T], what: str, ident: int) -> T:
    """The one row of a scoped statement narrowed to an id, shaped; absent or out of reach is not found."""
    with platform.reading() as s:
        row = s.execute(stmt).first()
    if row is None:
        raise not_found(what, ident)
    return shape(row)


def instrument_row(platform: Platform, principal: Principal, instrument_id: int) -> InstrumentRow:
    """One instrument as the lists show it; outside the caller's reach it is not found."""
    stmt, shape = instrument_statement(platform, principal, {})
    return _one(platform, stmt.where(Instrument.id == instrument_id), shape, "instrument", instrument_id)


# ---------------------------------------------------------------------------------------------------
# organisations


@dataclass(frozen=True)
class OrganisationRow:
    id: int
    name: str
    credit_code: str
    kind: str
    region_code: str
    region_name: str
    address: str
    contact: str
    instruments: int  # instruments it owns that the caller sees


ORGANISATION_FILTERS = ("q", "region_code", "kind")


def search_organisations(
    platform: Platform,
    principal: Principal,
    filters: dict[str, Any],
    *,
    sort: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> Page[OrganisationRow]:
    _bounded(platform, offset, limit)
    f = _check_keys(filters, ORGANISATION_FILTERS)
    joined: Any = select(Organisation, Region.name_zh).join(Region, Region.code == Organisation.region_code)
    stmt = scope.organisations(joined, principal)
    q = _text(f, "q")
    if q:
        stmt = stmt.where(
            or_(Organisation.name.contains(q, autoescape=True), Organisation.credit_code == q.upper())
        )
    if "region_code" in f:
        stmt = stmt.where(scope.within(Organisation.region_code, _text(f, "region_code")))
    if "kind" in f:
        stmt = stmt.where(Organisation.kind == _text(f, "kind"))
    keys = {"id": Organisation.id, "name": Organisation.name, "region": Organisation.region_code}
    stmt = stmt.order_by(*_order(sort, keys, "name", paging.Key(Organisation.id, nullable=False)))
    with platform.reading() as s:
        page = _page(s, stmt, offset, limit, lambda r: r)
        ids = [org.id for org, _ in page.items]
        counts: dict[int, int] = {}
        if ids:
            grouped: Any = select(Instrument.owner_id, func.count()).where(Instrument.owner_id.in_(ids))
            count_stmt = scope.instruments(grouped, principal).group_by(Instrument.owner_id)
            counts = {int(k): int(n) for k, n in s.execute(count_stmt)}
    rows = [
        OrganisationRow(
            id=org.id,
            name=org.name,
            credit_code=org.credit_code,
            kind=org.kind,
            region_code=org.region_code,
            region_name=region_name,
            address=org.address,
            contact=org.contact,
            instruments=counts.get(org.id, 0),
        )
        for org, region_name in page.items
    ]
    return Page(items=rows, total=page.total, offset=offset, limit=limit)


def organisation_row(platform: Platform, principal: Principal, org_id: int) -> OrganisationRow:
    joined: Any = (
        select(Organisation, Region.name_zh)
        .join(Region, Region.code == Organisation.region_code)
        .where(Organisation.id == org_id)
    )
    stmt = scope.organisations(joined, principal)
    with platform.reading() as s:
        row = s.execute(stmt).first()
        if row is None:
            raise not_found("organisation", org_id)
        count = s.scalar(
            scope.instruments(select(func.count()).select_from(Instrument), principal).where(
                Instrument.owner_id == org_id
            )
        )
    org, region_name = row
    return OrganisationRow(
        org.id, org.name, org.credit_code, org.kind, org.region_code, region_name, org.address, org.contact,
        int(count or 0),
    )  # fmt: skip


# ---------------------------------------------------------------------------------------------------
# measurement standards


@dataclass(frozen=True)
class StandardRow:
    id: int
    name: str
    kind: str
    quantity: str
    measuring_range: str
    uncertainty: str
    certificate_no: str
    certificate_valid_until: date
    days_left: int  # negative: expired
    active: bool
    holder_id: int
    holder_name: str
    region_code: str
    region_name: str


STANDARD_FILTERS = ("q", "region_code", "kind", "expiring_within", "on")


def _standard_statement(
    platform: Platform, principal: Principal, f: dict[str, Any], sort: str | None
) -> tuple[Select[Any], date]:
    holder = aliased(Organisation, name="holder")
    joined: Any = (
        select(MeasurementStandard, holder.name, Region.name_zh)
        .join(holder, holder.id == MeasurementStandard.holder_id)
        .join(Region, Region.code == MeasurementStandard.region_code)
    )
    stmt = scope.standards(joined, principal)
    on = parse_date(f["on"], "on") if "on" in f else platform.local_today()
    q = _text(f, "q")
    if q:
        stmt = stmt.where(
            or_(
                MeasurementStandard.name.contains(q, autoescape=True), MeasurementStandard.certificate_no == q
            )
        )
    if "region_code" in f:
        stmt = stmt.where(scope.within(MeasurementStandard.region_code, _text(f, "region_code")))
    if "kind" in f:
        stmt = stmt.where(MeasurementStandard.kind == _text(f, "kind"))
    if "expiring_within" in f:
        # the indicators' "expiring" list (services.indicators.expiring_standards): active standards
        # whose approval certificate ends within the days given (already expired ones included)
        days = _int(f["expiring_within"], "expiring_within")
        if not 0 <= days <= 3650:
            raise InvalidInput("天数须在 0–3650 / expiring_within must be 0..3650", field="expiring_within")
        stmt = stmt.where(
            MeasurementStandard.active,
            MeasurementStandard.certificate_valid_until <= on + timedelta(days=days),
        )
    keys = {
        "id": MeasurementStandard.id,
        "name": MeasurementStandard.name,
        "valid_until": MeasurementStandard.certificate_valid_until,
        "region": MeasurementStandard.region_code,
    }
    default = "valid_until" if "expiring_within" in f else "name"
    return stmt.order_by(*_order(sort, keys, default, paging.Key(MeasurementStandard.id, nullable=False))), on


def search_standards(
    platform: Platform,
    principal: Principal,
    filters: dict[str, Any],
    *,
    sort: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> Page[StandardRow]:
    _bounded(platform, offset, limit)
    f = _check_keys(filters, STANDARD_FILTERS)
    stmt, on = _standard_statement(platform, principal, f, sort)
    with platform.reading() as s:
        return _page(s, stmt, offset, limit, _standard_row(on))


def _standard_row(on: date) -> Callable[[Any], StandardRow]:
    def shape(r: Any) -> StandardRow:
        std, holder_name, region_name = r
        return StandardRow(
            id=std.id,
            name=std.name,
            kind=std.kind,
            quantity=std.quantity,
            measuring_range=std.measuring_range,
            uncertainty=std.uncertainty,
            certificate_no=std.certificate_no,
            certificate_valid_until=std.certificate_valid_until,
            days_left=(std.certificate_valid_until - on).days,
            active=std.active,
            holder_id=std.holder_id,
            holder_name=holder_name,
            region_code=std.region_code,
            region_name=region_name,
        )

    return shape


def standard_row(platform: Platform, principal: Principal, standard_id: int) -> StandardRow:
    stmt, on = _standard_statement(platform, principal, {}, None)
    where = stmt.where(MeasurementStandard.id == standard_id)
    return _one(platform, where, _standard_row(on), "standard", standard_id)


# ---------------------------------------------------------------------------------------------------
# verification records


@dataclass(frozen=True)
class RecordRow:
    id: int
    instrument_id: int
    instrument_name: str
    serial_number: str
    owner_name: str
    region_name: str
    institution_name: str
    standard_name: str
    verified_on: date
    conclusion: str
    document_no: str
    due_on: date | None
    regulation: str
    superseded: bool
    remarks: str


RECORD_FILTERS = (
    "q",
    "region_code",
    "instrument_id",
    "institution_id",
    "conclusion",
    "verified_from",
    "verified_to",
    "include_superseded",
    "with_data",
)


def _record_statement(principal: Principal, f: dict[str, Any], sort: str | None, postgres: bool) -> Any:
    stmt, order, _ = _record_select(principal, f, sort, postgres)
    return stmt.order_by(*order.clauses())


def _record_select(
    principal: Principal, f: dict[str, Any], sort: str | None, postgres: bool
) -> tuple[Any, paging.Order, Any]:
    """The scoped and filtered records query (not yet ordered), its order, and its rows for counting."""
    VR = VerificationRecord
    owner = aliased(Organisation, name="owner")
    institution = aliased(Organisation, name="institution")
    stmt: Any = (
        select(
            VR,
            Instrument.name,
            Instrument.serial_number,
            owner.name,
            Region.name_zh,
            institution.name,
            MeasurementStandard.name,
        )
        .join(Instrument, Instrument.id == VR.instrument_id)
        .join(owner, owner.id == Instrument.owner_id)
        .join(Region, Region.code == Instrument.region_code)
        .join(institution, institution.id == VR.institution_id)
        .outerjoin(MeasurementStandard, MeasurementStandard.id == VR.standard_id)
    )
    # the instrument is joined above; the region tested on its row (see _instrument_select)
    stmt = scope.verification_records_joined(stmt, principal, seek=postgres)
    q = _text(f, "q")
    if q:
        stmt = stmt.where(
            or_(
                VR.document_no == q,
                Instrument.serial_number == q,
                owner.name.contains(q, autoescape=True),
                owner.credit_code == q.upper(),
            )
        )
    if "region_code" in f:
        stmt = stmt.where(scope.within(Instrument.region_code, _text(f, "region_code")))
    for key in ("instrument_id", "institution_id"):
        if key in f:
            stmt = stmt.where(getattr(VR, key) == _int(f[key], key))
    if "conclusion" in f:
        stmt = stmt.where(VR.conclusion == _text(f, "conclusion"))
    if "verified_from" in f:
        stmt = stmt.where(VR.verified_on >= parse_date(f["verified_from"], "verified_from"))
    if "verified_to" in f:
        stmt = stmt.where(VR.verified_on <= parse_date(f["verified_to"], "verified_to"))
    if str(f.get("include_superseded", "")).lower() not in ("1", "true", "yes"):
        stmt = stmt.where(VR.superseded.is_(False))
    if "with_data" in f:
        # recorded with its measurement data and signed off by three people (services.measured_verifications)
        measured = select(MeasuredVerification.id).where(MeasuredVerification.record_id == VR.id).exists()
        wanted = _text(f, "with_data")
        if wanted not in ("1", "0"):
            raise InvalidInput("with_data 须为 1 或 0 / with_data must be 1 or 0", field="with_data")
        stmt = stmt.where(measured if wanted == "1" else ~measured)
    keys = {"id": VR.id, "verified_on": VR.verified_on, "due_on": VR.due_on, "document_no": VR.document_no}
    # counted (and the page's ids picked) without the joins that only fetch names: the instrument stays
    # (the scope reads it) and its owner when the search box reads it (inner joins along foreign keys
    # that every record has: no row lost)
    counted = select(VR.id).join(Instrument, Instrument.id == VR.instrument_id)
    if q:
        counted = counted.join(owner, owner.id == Instrument.owner_id)
    counted = counted.where(stmt.whereclause)
    return stmt, _sort(sort, keys, "-verified_on", paging.Key(VR.id, True, nullable=False)), counted


def _record_row(r: Any) -> RecordRow:
    rec, name, serial, owner_name, region_name, institution_name, standard_name = r
    return RecordRow(
        id=rec.id,
        instrument_id=rec.instrument_id,
        instrument_name=name,
        serial_number=serial,
        owner_name=owner_name,
        region_name=region_name,
        institution_name=institution_name,
        standard_name=standard_name or "",
        verified_on=rec.verified_on,
        conclusion=rec.conclusion,
        document_no=rec.document_no,
        due_on=rec.due_on,
        regulation=rec.regulation,
        superseded=rec.superseded,
        remarks=rec.remarks,
    )


def search_records(
    platform: Platform,
    principal: Principal,
    filters: dict[str, Any],
    *,
    sort: str | None = None,
    offset: int = 0,
    limit: int = 50,
    count_limit: int | None = None,
    after: str | None = None,
    before: str | None = None,
) -> paging.KeyedPage[RecordRow]:
    _bounded(platform, offset, limit)
    f = _check_keys(filters, RECORD_FILTERS)
    stmt, order, counted = _record_select(principal, f, sort, platform.postgres)
    with platform.reading() as s:
        return paging.fetch(
            s, stmt, order, _record_row, offset=offset, limit=limit, after=after, before=before,
            count_limit=count_limit, counted=counted,
        )  # fmt: skip


def record_row(platform: Platform, principal: Principal, record_id: int) -> RecordRow:
    stmt = _record_statement(principal, {"include_superseded": True}, None, platform.postgres)
    where = stmt.where(VerificationRecord.id == record_id)
    return _one(platform, where, _record_row, "verification record", record_id)


# ---------------------------------------------------------------------------------------------------
# certificates


@dataclass(frozen=True)
class CertificateRow:
    id: int
    number: str
    status: str
    source: str
    issuer_name: str
    item_summary: str
    issued_at: Any
    instrument_id: int | None
    instrument_name: str
    serial_number: str
    owner_name: str
    record_id: int | None
    status_reason: str


CERTIFICATE_FILTERS = ("q", "status", "region_code", "instrument_id", "issued_from", "issued_to")


def _certificate_statement(principal: Principal, f: dict[str, Any], sort: str | None) -> Any:
    owner = aliased(Organisation, name="owner")
    stmt: Any = (
        select(Certificate, Instrument.name, Instrument.serial_number, owner.name)
        .outerjoin(Instrument, Instrument.id == Certificate.instrument_id)
        .outerjoin(owner, owner.id == Instrument.owner_id)
    )
    # the reach of services.certificates.visible, applied in the query
    if principal.role is Role.INSTITUTION:
        stmt = stmt.where(Certificate.institution_id == (principal.organisation_id or -1))
    elif principal.role is not Role.ADMINISTRATOR:
        stmt = scope.instruments_by_id(stmt, Certificate.instrument_id, principal)
    q = _text(f, "q")
    if q:
        stmt = stmt.where(
            or_(
                Certificate.number == q,
                Instrument.serial_number == q,
                owner.name.contains(q, autoescape=True),
            )
        )
    if "status" in f:
        stmt = stmt.where(Certificate.status == _text(f, "status"))
    if "region_code" in f:
        stmt = stmt.where(scope.within(Instrument.region_code, _text(f, "region_code")))
    if "instrument_id" in f:
        stmt = stmt.where(Certificate.instrument_id == _int(f["instrument_id"], "instrument_id"))
    if "issued_from" in f:
        stmt = stmt.where(Certificate.issued_at >= _day_start(parse_date(f["issued_from"], "issued_from")))
    if "issued_to" in f:
        stmt = stmt.where(
            Certificate.issued_at < _day_start(parse_date(f["issued_to"], "issued_to") + timedelta(days=1))
        )
    keys = {"id": Certificate.id, "issued_at": Certificate.issued_at, "number": Certificate.number}
    return stmt.order_by(*_order(sort, keys, "-issued_at", paging.Key(Certificate.id, True, nullable=False)))


def _day_start(day: date) -> Any:
    # A day as people name it (Asia/Shanghai) begins at 16:00 UTC of the day before.
    from datetime import UTC, datetime, time
    from zoneinfo import ZoneInfo

    return datetime.combine(day, time(0), ZoneInfo("Asia/Shanghai")).astimezone(UTC)


def _certificate_row(r: Any) -> CertificateRow:
    cert, name, serial, owner_name = r
    return CertificateRow(
        id=cert.id,
        number=cert.number,
        status=cert.status,
        source=cert.source,
        issuer_name=cert.issuer_name,
        item_summary=cert.item_summary,
        issued_at=cert.issued_at,
        instrument_id=cert.instrument_id,
        instrument_name=name or "",
        serial_number=serial or "",
        owner_name=owner_name or "",
        record_id=cert.record_id,
        status_reason=cert.status_reason,
    )


def search_certificates(
    platform: Platform,
    principal: Principal,
    filters: dict[str, Any],
    *,
    sort: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> Page[CertificateRow]:
    _bounded(platform, offset, limit)
    stmt = _certificate_statement(principal, _check_keys(filters, CERTIFICATE_FILTERS), sort)
    with platform.reading() as s:
        return _page(s, stmt, offset, limit, _certificate_row)


def certificate_row(platform: Platform, principal: Principal, certificate_id: int) -> CertificateRow:
    stmt = _certificate_statement(principal, {}, None)
    where = stmt.where(Certificate.id == certificate_id)
    return _one(platform, where, _certificate_row, "certificate", certificate_id)
