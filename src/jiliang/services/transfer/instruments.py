"""Bulk filing of instruments (批量备案) from CSV or XLSX.

Each row is validated by ``domain.filing.parse_instrument`` (the one validation of a filing) and by the
caller's role and jurisdiction exactly as ``services.instruments.file_instrument`` checks them. What
needs the database is answered per chunk with set-based queries: owners by credit code through the same
scope rule as ``resolve_owner``, regions, and duplicates against the registry by the unique identity
(manufacturer, model, serial number). Rows that pass go straight into ``instruments`` while the file is
still being read, so that the database's index work overlaps Python's parsing; rows written earlier in
the same file are thereby found as duplicates too. Any problem refuses the file: the transaction is
rolled back and nothing is written.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from itertools import repeat
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from jiliang.domain.access import Principal, Role
from jiliang.domain.catalogue import CatalogueItem, Use, is_compulsory
from jiliang.domain.credit_code import validate_credit_code
from jiliang.domain.filing import SERIAL_NEEDS_REVIEW, parse_instrument, parse_use
from jiliang.domain.instruments import (
    InstrumentStatus,
    not_in_future,
    parse_date,
    parse_optional_float,
    required_text,
)
from jiliang.domain.regions import in_jurisdiction, validate_region_code
from jiliang.errors import InvalidInput
from jiliang.services import catalogue as catalogue_service
from jiliang.services import scope
from jiliang.services.common import not_found, require_role
from jiliang.services.platform import Platform
from jiliang.services.transfer import columnwise as cw
from jiliang.services.transfer.base import (
    Bulk,
    ImportReport,
    RowsOfIds,
    UniqueClash,
    run_import,
)
from jiliang.services.transfer.columns import INSTRUMENT_COLUMNS, USE_FROM_LABEL
from jiliang.services.transfer.reading import Format, Problems
from jiliang.store.models import Instrument, Organisation, Region

# The columns written, in the order of the tuples ``_Job.validate`` builds (owner_id resolved per chunk).
WRITTEN = (
    "name",
    "item_code",
    "model",
    "measuring_range",
    "accuracy_class",
    "serial_number",
    "manufacturer",
    "pattern_approval_no",
    "nominal_size",
    "location",
    "region_code",
    "use",
    "status",
    "status_since",
    "filed_on",
    "first_used_on",
    "compulsory",
    "row_version",
    "owner_id",
)
_SERIAL, _MANUFACTURER, _MODEL, _REGION = 5, 6, 2, 10
IDENTITY = ("manufacturer", "model", "serial_number")  # uq_instruments_identity
KEY_BATCH = 4000  # identities per duplicate query: under SQLite's 32,766 bound parameters


def import_instruments(
    platform: Platform,
    principal: Principal,
    source: BinaryIO,
    *,
    fmt: Format,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """File every row of the file, or none: any problem refuses the whole file with a per-row report."""
    require_role(principal, Role.SUPERVISOR, Role.ENTERPRISE)
    items = catalogue_service.catalogue(platform)
    return run_import(
        platform,
        principal,
        source,
        fmt=fmt,
        columns=INSTRUMENT_COLUMNS,
        object_type="instruments",
        make_job=lambda session, problems: _Job(session, principal, items, platform.local_today(), problems),
        summary=lambda n: f"批量备案 {n} 台计量器具 / imported {n} instruments",
        progress=progress,
    )


class _Job:
    def __init__(
        self,
        session: Session,
        principal: Principal,
        items: dict[str, CatalogueItem],
        today: date,
        problems: Problems,
    ) -> None:
        self.session = session
        self.principal = principal
        self.problems = problems
        self.bulk = Bulk(session)
        self.max_before = self.bulk.max_id(Instrument.id)
        enterprise = principal.role is Role.ENTERPRISE
        self.checks = _Checks(principal, items, today, problems, self._own_code() if enterprise else None)
        self.validate = self.checks.validate
        self.regions = set(session.scalars(select(Region.code)))
        self.owners: dict[str, int | None] = {}  # credit code → id, None when not visible to the caller
        self.written = RowsOfIds()

    def _own_code(self) -> str:
        code = self.session.scalar(
            select(Organisation.credit_code).where(Organisation.id == self.principal.organisation_id)
        )
        if code is None:
            raise InvalidInput("账户未关联单位 / the account has no organisation", field="owner_credit_code")
        return code

    # -- per chunk, against the database (write-behind thread) --------------------------------------

    def write(self, chunk: list[tuple[Any, ...]]) -> None:
        if not chunk:
            return
        codes = {row[1] for row in chunk}
        self._resolve_owners(codes - self.owners.keys())
        owners = self.owners
        if (
            not self.problems
            and all(owners[code] is not None for code in codes)
            and {row[2 + _REGION] for row in chunk} <= self.regions
        ):
            # The usual case, a clean chunk: checked per distinct owner and region, written at once; the
            # unique index is the duplicate check (a clash, within the chunk too, undoes the chunk and
            # sends it through the row by row checks below). While this thread works in Python the
            # database idles, so no per-row work here that a set can do.
            rows_out = [(*row[2:], owners[row[1]]) for row in chunk]
            try:
                ids = self.bulk.insert(Instrument.__table__, WRITTEN, rows_out, guarded=True)
            except UniqueClash:
                pass
            else:
                self.written.add(ids, [row[0] for row in chunk])
                return
        self._write_checked(chunk)

    def _write_checked(self, chunk: list[tuple[Any, ...]]) -> None:
        """Row by row: every owner, region and duplicate problem of the chunk, named by row."""
        add = self.problems.add
        first_of: dict[tuple[str, str, str], int] = {}
        candidates = []
        for row in chunk:
            row_no, code = row[0], row[1]
            owner_id = self.owners[code]
            ok = True
            if owner_id is None:
                add(row_no, "owner_credit_code", f"使用单位 {code} 不存在 / owner {code} not found", code)
                ok = False
            region = row[2 + _REGION]
            if region not in self.regions:
                add(row_no, "region_code", f"行政区划 {region} 不存在 / region not found", region)
                ok = False
            key = (row[2 + _MANUFACTURER], row[2 + _MODEL], row[2 + _SERIAL])
            first = first_of.setdefault(key, row_no)
            if first != row_no:
                _duplicate_in_file(add, row_no, first, key[2])
                ok = False
            if ok:
                candidates.append((row, owner_id, key))
        # Some row clashes or fails (or the file is already refused): find which, and keep writing the
        # others so that later rows of the file are still checked against them.
        existing = self.bulk.existing(Instrument.__table__, IDENTITY, [key for _, _, key in candidates])
        rows_out, row_nos = [], []
        for row, owner_id, key in candidates:
            found = existing.get(key)
            if found is None:
                rows_out.append((*row[2:], owner_id))
                row_nos.append(row[0])
            elif found <= self.max_before:
                # The same words whether the clash is in the caller's jurisdiction or not (docs/security.md).
                add(row[0], "serial_number", SERIAL_NEEDS_REVIEW, key[2])
            else:
                _duplicate_in_file(add, row[0], self.written.row_of(found), key[2])
        ids = self.bulk.insert(Instrument.__table__, WRITTEN, rows_out)
        self.written.add(ids, row_nos)

    def _resolve_owners(self, codes: set[str]) -> None:
        """Owners the caller may file for: the same scope rule as services.instruments.resolve_owner."""
        pending = sorted(codes)
        for i in range(0, len(pending), KEY_BATCH):
            batch = pending[i : i + KEY_BATCH]
            query: Any = select(Organisation.credit_code, Organisation.id)
            stmt = scope.organisations(
                query.where(Organisation.credit_code.in_(batch)),
                self.principal,
            )
            found = {code: id_ for code, id_ in self.session.execute(stmt)}
            for code in batch:
                self.owners[code] = found.get(code)


class _Checks:
    """The per-row checks: pure, so that a large file can be checked in a worker process (``worker.py``)."""

    def __init__(
        self,
        principal: Principal,
        items: dict[str, CatalogueItem],
        today: date,
        problems: Problems,
        own_code: str | None,
    ) -> None:
        self.principal = principal
        self.items = items
        self.today = today
        self.problems = problems
        self.enterprise = principal.role is Role.ENTERPRISE
        self.own_code = own_code
        self.codes: dict[str, str | InvalidInput] = {}  # the domain's verdict on each distinct code
        self.compulsory: dict[tuple[str, Use], bool] = {}
        self.inside: dict[str, bool] = {}  # region code → within the caller's jurisdiction

    def validate(self, row_no: int, raw: dict[str, str]) -> tuple[Any, ...] | None:
        use = raw.get("use")
        if use in USE_FROM_LABEL:
            raw["use"] = USE_FROM_LABEL[use]
        owner = self._owner(row_no, raw.get("owner_credit_code", ""))
        try:
            draft = parse_instrument(raw, self.items, self.today)
        except InvalidInput as exc:
            field = exc.field or "row"
            self.problems.add(row_no, field, exc.message, raw.get(field))
            return None
        if owner is None:
            return None
        if not self.enterprise and not self._in_jurisdiction(draft.region_code):
            # As file_instrument answers: outside the jurisdiction is "not found", never "forbidden".
            self.problems.add(
                row_no, "region_code", not_found("region", draft.region_code).message, draft.region_code
            )
            return None
        key = (draft.item_code, draft.use)
        compulsory = self.compulsory.get(key)
        if compulsory is None:
            item = self.items[draft.item_code]
            compulsory = self.compulsory[key] = is_compulsory(item, draft.use, item.effective_from)
        # The same row services.instruments.new_instrument_row builds for a single filing.
        return (
            row_no,
            owner,
            draft.name,
            draft.item_code,
            draft.model,
            draft.measuring_range,
            draft.accuracy_class,
            draft.serial_number,
            draft.manufacturer,
            draft.pattern_approval_no,
            draft.nominal_size,
            draft.location,
            draft.region_code,
            _USE_VALUES[draft.use],
            _IN_SERVICE,
            draft.filed_on,
            draft.filed_on,
            draft.first_used_on,
            compulsory,
            1,
        )

    def _in_jurisdiction(self, region: str) -> bool:
        """The domain's answer, once per distinct region (a province has a few hundred)."""
        inside = self.inside.get(region)
        if inside is None:
            inside = in_jurisdiction(region, self.principal.jurisdiction)
            if len(self.inside) < 100_000:
                self.inside[region] = inside
        return inside

    def _owner(self, row_no: int, value: str) -> str | None:
        """Owners are named by credit code; an enterprise files only for itself (as file_instrument)."""
        owner, problem = self._owner_verdict(value)
        if problem is not None:
            self.problems.add(row_no, "owner_credit_code", problem, value)
        return owner

    def _owner_verdict(self, value: str) -> tuple[str | None, str | None]:
        """(the owner's credit code, None) or (None, why it is refused)."""
        if self.enterprise and not value.strip():
            return self.own_code, None
        verdict = self.codes.get(value)
        if verdict is None:
            try:
                verdict = validate_credit_code(
                    required_text(value, "owner_credit_code", 18), "owner_credit_code"
                )
            except InvalidInput as exc:
                verdict = exc
            if len(self.codes) < 1_000_000:
                self.codes[value] = verdict
        if isinstance(verdict, InvalidInput):
            return None, verdict.message
        if self.enterprise and verdict != self.own_code:
            return None, "企业只能为本单位备案 / an enterprise files only its own instruments"
        return verdict, None

    # -- a whole chunk at once (columnwise.py): the same checks, each value once --------------------

    def validate_chunk(self, rows: list[tuple[int, dict[str, str]]]) -> list[tuple[Any, ...]]:
        """The tuples ``validate`` stages for these rows, checked column by column when every row
        passes; otherwise row by row, so that each problem is named by row and field as always."""
        try:
            return self._columns(rows)
        except cw.Slow:
            out = []
            for row_no, raw in rows:
                staged = self.validate(row_no, raw)
                if staged is not None:
                    out.append(staged)
            return out

    def _columns(self, rows: list[tuple[int, dict[str, str]]]) -> list[tuple[Any, ...]]:
        if not rows:
            return []
        raws = [raw for _, raw in rows]
        today, items = self.today, self.items

        def owner(value: Any) -> str:
            code, problem = self._owner_verdict("" if value is None else value)
            if problem is not None:
                raise cw.Slow
            return code  # type: ignore[return-value]

        def item_code(value: Any) -> str:
            code = required_text(value, "item_code", 10)
            if code not in items:
                raise cw.Slow
            return code

        def filed(value: Any) -> date:
            if value is None or value == "":
                return today
            return not_in_future(parse_date(value, "filed_on"), today, "filed_on")

        def first_used(value: Any) -> date | None:
            if value in (None, ""):
                return None
            return not_in_future(parse_date(value, "first_used_on"), today, "first_used_on")

        owners = cw.by_value([r.get("owner_credit_code", "") for r in raws], owner)
        codes = cw.by_value(cw.column(raws, "item_code"), item_code)
        sizes = cw.by_value(
            cw.column(raws, "nominal_size"), lambda v: parse_optional_float(v, "nominal_size")
        )
        sized = {c for c in set(codes) if items[c].size_parameter}
        if sized and any(s is None and c in sized for c, s in zip(codes, sizes, strict=True)):
            raise cw.Slow
        filed_on = cw.by_value(cw.column(raws, "filed_on"), filed)
        first_used_on = cw.by_value(cw.column(raws, "first_used_on"), first_used)
        names = cw.required(cw.column(raws, "name"))
        models = cw.required(cw.column(raws, "model"), 100)
        serials = cw.document_numbers(cw.column(raws, "serial_number"))
        manufacturers = cw.required(cw.column(raws, "manufacturer"))
        regions = cw.by_value(
            cw.column(raws, "region_code"), lambda v: validate_region_code(str(v or "").strip())
        )
        uses = cw.by_value(cw.column(raws, "use"), lambda v: parse_use(USE_FROM_LABEL.get(v, v)))
        ranges = cw.optional(cw.column(raws, "measuring_range"), 100)
        classes = cw.optional(cw.column(raws, "accuracy_class"), 50)
        approvals = cw.optional(cw.column(raws, "pattern_approval_no"), 100)
        locations = cw.optional(cw.column(raws, "location"), 300)
        if not self.enterprise and not all(self._in_jurisdiction(r) for r in set(regions)):
            raise cw.Slow
        compulsory = []
        for key in set(zip(codes, uses, strict=True)):
            if key not in self.compulsory:
                item = items[key[0]]
                self.compulsory[key] = is_compulsory(item, key[1], item.effective_from)
        compulsory = list(map(self.compulsory.__getitem__, zip(codes, uses, strict=True)))
        use_values = list(map(_USE_VALUES.__getitem__, uses))
        return list(
            zip(
                [row_no for row_no, _ in rows],
                owners,
                names,
                codes,
                models,
                ranges,
                classes,
                serials,
                manufacturers,
                approvals,
                sizes,
                locations,
                regions,
                use_values,
                repeat(_IN_SERVICE),
                filed_on,
                filed_on,
                first_used_on,
                compulsory,
                repeat(1),
            )
        )


# Enum members' ``.value`` is a descriptor call (about 0.7 µs each): read once, not per row.
_USE_VALUES = {use: use.value for use in Use}
_IN_SERVICE = InstrumentStatus.IN_SERVICE.value


def _duplicate_in_file(add: Callable[..., None], row_no: int, first: int | None, serial: str) -> None:
    add(
        row_no,
        "serial_number",
        f"与本文件第 {first} 行重复（同一制造商、型号、出厂编号）/ duplicates row {first} of this file "
        "(same manufacturer, model and serial number)",
        serial,
    )
