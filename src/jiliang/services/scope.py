"""Jurisdiction filters applied to every query a principal makes: one place, so none is forgotten."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, false, or_, select, true
from sqlalchemy.orm import aliased

from jiliang.domain.access import Principal, Role
from jiliang.domain.regions import jurisdiction_prefix, validate_region_code
from jiliang.store.models import (
    Authorisation,
    Instrument,
    MeasurementStandard,
    Organisation,
    VerificationRecord,
)


def within(column: Any, region_code: str) -> ColumnElement[bool]:
    """``column`` names a region in the subtree of ``region_code`` (GB/T 2260 codes nest as prefixes)."""
    prefix = jurisdiction_prefix(validate_region_code(region_code))
    return _subtree(column, prefix) if prefix else true()


def _subtree(column: Any, prefix: str) -> ColumnElement[bool]:
    """Codes starting with ``prefix``, as a range of six-digit codes (``'3399' ≤ code ≤ '339999'``): an index
    serves a range on both databases, where ``LIKE '3399%'`` needs SQLite's case-sensitive LIKE and a
    ``text_pattern_ops`` index or C collation on PostgreSQL (tests/test_query_plans.py)."""
    pad = 6 - len(prefix)
    return column.between(prefix + "0" * pad, prefix + "9" * pad)  # type: ignore[no-any-return]


def _region_clause(column: Any, principal: Principal, *, seek: bool = True) -> Any:
    prefix = principal.prefix
    if not seek:
        # the same range on an expression no index serves: a list sorted by another indexed key then
        # walks that key's index and tests the region row by row, where SQLite (which keeps no histogram)
        # would take a jurisdiction's range for a narrow one and sort the whole province by hand
        column = column.concat("")
    return _subtree(column, prefix) if prefix else None


def instruments(stmt: Select[Any], principal: Principal, *, seek: bool = True) -> Select[Any]:
    """``seek=False``: the region range is tested row by row, not looked up in the region index (for a
    page that an index of its sort key serves; see ``_region_clause``)."""
    if principal.role is Role.PUBLIC:
        return stmt.where(false())
    if principal.role is Role.ENTERPRISE:
        return stmt.where(Instrument.owner_id == (principal.organisation_id or -1))
    clause = _region_clause(Instrument.region_code, principal, seek=seek)
    return stmt if clause is None else stmt.where(clause)


def organisations(stmt: Select[Any], principal: Principal) -> Select[Any]:
    if principal.role is Role.PUBLIC:
        return stmt.where(false())
    if principal.role is Role.ENTERPRISE:
        return stmt.where(Organisation.id == (principal.organisation_id or -1))
    clause = _region_clause(Organisation.region_code, principal)
    if principal.role is Role.INSTITUTION and principal.organisation_id is not None:
        own = Organisation.id == principal.organisation_id
        return stmt.where(own if clause is None else or_(clause, own))
    return stmt if clause is None else stmt.where(clause)


def standards(stmt: Select[Any], principal: Principal) -> Select[Any]:
    if principal.role in (Role.PUBLIC, Role.ENTERPRISE):
        return stmt.where(false())
    clause = _region_clause(MeasurementStandard.region_code, principal)
    if principal.role is Role.INSTITUTION and principal.organisation_id is not None:
        own = MeasurementStandard.holder_id == principal.organisation_id
        return stmt.where(own if clause is None else or_(clause, own))
    return stmt if clause is None else stmt.where(clause)


def verification_records(stmt: Select[Any], principal: Principal) -> Select[Any]:
    """Records are visible with their instrument (and to the institution that made them)."""
    visible = instruments(select(Instrument.id), principal)
    cond: ColumnElement[bool] = VerificationRecord.instrument_id.in_(visible.scalar_subquery())
    if principal.role is Role.INSTITUTION and principal.organisation_id is not None:
        cond = or_(cond, VerificationRecord.institution_id == principal.organisation_id)
    return stmt.where(cond)


def verification_records_joined(stmt: Select[Any], principal: Principal, *, seek: bool = True) -> Select[Any]:
    """As ``verification_records``, for a statement that already joins each record's instrument: the same
    reach as a condition on the joined row, so that the database need not first collect the ids of every
    instrument the caller sees (a province's million) before it reads a page of records. ``seek=False``:
    the instrument's region is looked up row by row (``instruments_by_id``)."""
    if principal.role is Role.PUBLIC:
        return stmt.where(false())
    if principal.role is Role.ENTERPRISE:
        return stmt.where(Instrument.owner_id == (principal.organisation_id or -1))
    region = Instrument.region_code if seek else _region_of(VerificationRecord.instrument_id)
    clause = _region_clause(region, principal)
    if clause is None:
        return stmt
    if principal.role is Role.INSTITUTION and principal.organisation_id is not None:
        return stmt.where(or_(clause, VerificationRecord.institution_id == principal.organisation_id))
    return stmt.where(clause)


def _region_of(instrument_id: Any) -> Any:
    """The region of the instrument ``instrument_id``, looked up for each row (a statement that also joins
    instruments must not correlate it away)."""
    reach = aliased(Instrument, name="reach")
    return (
        select(reach.region_code).where(reach.id == instrument_id).correlate_except(reach).scalar_subquery()
    )


def instruments_by_id(stmt: Select[Any], instrument_id: Any, principal: Principal) -> Select[Any]:
    """Rows whose instrument (``instrument_id``; NULL reaches nothing) the caller sees, each tested by
    looking its one instrument up: for lists of a small table (certificates) that join instruments only
    for names, where a condition on the joined instruments made SQLite walk the region index of a whole
    province, or build a Bloom filter over it, before reading a page."""
    if principal.role is Role.PUBLIC:
        return stmt.where(false())
    if principal.role is Role.ENTERPRISE:
        reach = aliased(Instrument, name="reach")
        owner = (
            select(reach.owner_id).where(reach.id == instrument_id).correlate_except(reach).scalar_subquery()
        )
        return stmt.where(owner == (principal.organisation_id or -1))
    clause = _region_clause(_region_of(instrument_id), principal)
    return stmt.where(instrument_id.is_not(None)) if clause is None else stmt.where(clause)


def authorisations(stmt: Select[Any], principal: Principal) -> Select[Any]:
    if principal.role in (Role.PUBLIC, Role.ENTERPRISE):
        return stmt.where(false())
    if principal.role is Role.INSTITUTION:
        return stmt.where(Authorisation.institution_id == (principal.organisation_id or -1))
    clause = _region_clause(Authorisation.region_code, principal)
    return stmt if clause is None else stmt.where(clause)
