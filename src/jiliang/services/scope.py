"""Jurisdiction filters applied to every query a principal makes: one place, so none is forgotten."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, false, or_, select, true

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


def _region_clause(column: Any, principal: Principal) -> Any:
    prefix = principal.prefix
    return _subtree(column, prefix) if prefix else None


def instruments(stmt: Select[Any], principal: Principal) -> Select[Any]:
    if principal.role is Role.PUBLIC:
        return stmt.where(false())
    if principal.role is Role.ENTERPRISE:
        return stmt.where(Instrument.owner_id == (principal.organisation_id or -1))
    clause = _region_clause(Instrument.region_code, principal)
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


def authorisations(stmt: Select[Any], principal: Principal) -> Select[Any]:
    if principal.role in (Role.PUBLIC, Role.ENTERPRISE):
        return stmt.where(false())
    if principal.role is Role.INSTITUTION:
        return stmt.where(Authorisation.institution_id == (principal.organisation_id or -1))
    clause = _region_clause(Authorisation.region_code, principal)
    return stmt if clause is None else stmt.where(clause)
