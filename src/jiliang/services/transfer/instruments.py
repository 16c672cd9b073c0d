"""Bulk filing of instruments (批量备案) from CSV or XLSX.

Each row is validated by ``domain.filing.parse_instrument`` (the one validation of a filing) and the
caller's role and jurisdiction exactly as ``services.instruments.file_instrument`` checks them; what
needs the database (owner exists and is visible, region exists, duplicates) is checked set-based on a
staging table. Valid chunks go straight on into ``instruments`` while the file is still being read, so
the database's index work overlaps Python's parsing; the first problem stops the writing, the rest of
the file is still validated for the report, and the transaction is rolled back: nothing is written.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, BinaryIO

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    bindparam,
    func,
    literal,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from jiliang.domain.access import Principal, Role
from jiliang.domain.catalogue import CatalogueItem, is_compulsory
from jiliang.domain.credit_code import validate_credit_code
from jiliang.domain.filing import parse_instrument
from jiliang.domain.instruments import InstrumentStatus, required_text
from jiliang.domain.regions import in_jurisdiction
from jiliang.errors import InvalidInput
from jiliang.services import catalogue as catalogue_service
from jiliang.services import scope
from jiliang.services.common import not_found, require_role
from jiliang.services.platform import Platform
from jiliang.services.transfer.base import Bulk, ImportReport, WriteBehind, id_range, write_audit
from jiliang.services.transfer.columns import INSTRUMENT_COLUMNS, USE_FROM_LABEL
from jiliang.services.transfer.reading import Format, Problems, open_sheet
from jiliang.store.models import Instrument, Organisation, Region

_meta = MetaData()
STAGE = Table(
    "import_instruments_stage",
    _meta,
    Column("row_no", Integer, primary_key=True),
    Column("name", String),
    Column("item_code", String),
    Column("model", String),
    Column("measuring_range", String),
    Column("accuracy_class", String),
    Column("serial_number", String),
    Column("manufacturer", String),
    Column("pattern_approval_no", String),
    Column("nominal_size", Float),
    Column("location", String),
    Column("region_code", String),
    Column("use", String),
    Column("owner_credit_code", String),
    Column("status", String),
    Column("status_since", Date),
    Column("filed_on", Date),
    Column("first_used_on", Date),
    Column("compulsory", Boolean),
    prefixes=["TEMPORARY"],
)
STAGE_COLUMNS = [c.name for c in STAGE.columns]
# The columns copied from the staging table into ``instruments`` (owner_id comes from the join).
COPIED = [c for c in STAGE_COLUMNS if c not in ("row_no", "owner_credit_code")]
IDENTITY = ("manufacturer", "model", "serial_number")


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
    settings = platform.settings
    problems = Problems(settings.import_max_reported_problems)
    items = catalogue_service.catalogue(platform)
    sheet = open_sheet(source, fmt, INSTRUMENT_COLUMNS, problems, settings.max_upload_bytes)
    if problems:
        raise problems.refuse(0)
    with platform.unit_of_work(principal) as session:
        job = _Job(session, principal, items, platform.today(), problems)
        rows_read = 0
        chunk: list[tuple[Any, ...]] = []
        with WriteBehind(job.write) as writer:
            for row_no, raw in sheet.rows:
                rows_read += 1
                if raw is not None:
                    staged = job.validate(row_no, raw)
                    if staged is not None:
                        chunk.append(staged)
                if rows_read % settings.import_chunk_rows == 0:
                    writer.submit(chunk)
                    chunk = []
                    if progress:
                        progress(rows_read)
            writer.submit(chunk)
        if progress:
            progress(rows_read)
        if problems or job.mismatch:
            job.diagnose()
            raise problems.refuse(rows_read)
        first_id, last_id = id_range(session, Instrument.id, job.max_before)
        audit_id = write_audit(
            session,
            "instruments",
            count=job.written,
            sha256=sheet.sha256,
            first_id=first_id,
            last_id=last_id,
            fmt=fmt,
            rows_read=rows_read,
            summary=f"批量备案 {job.written} 台计量器具 / imported {job.written} instruments",
        )
        job.bulk.drop(STAGE)
    return ImportReport("instruments", rows_read, job.written, sheet.sha256, audit_id)


class _Job:
    def __init__(
        self,
        session: Session,
        principal: Principal,
        items: dict[str, CatalogueItem],
        today: Any,
        problems: Problems,
    ) -> None:
        self.session = session
        self.principal = principal
        self.items = items
        self.today = today
        self.problems = problems
        self.bulk = Bulk(session)
        self.bulk.create(STAGE)
        self.max_before = self.bulk.max_id(Instrument.id)
        self.enterprise = principal.role is Role.ENTERPRISE
        self.own_code = self._own_code() if self.enterprise else None
        self.compulsory: dict[tuple[str, str], bool] = {}
        self.written = 0
        self.mismatch = False
        self.insert = self._insert_statement()

    def _own_code(self) -> str:
        code = self.session.scalar(
            select(Organisation.credit_code).where(Organisation.id == self.principal.organisation_id)
        )
        if code is None:
            raise InvalidInput("账户未关联单位 / the account has no organisation", field="owner_credit_code")
        return code

    # -- per row, in Python ------------------------------------------------------------------------

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
        if not self.enterprise and not in_jurisdiction(draft.region_code, self.principal.jurisdiction):
            # As file_instrument answers: outside the jurisdiction is "not found", never "forbidden".
            self.problems.add(
                row_no, "region_code", not_found("region", draft.region_code).message, draft.region_code
            )
            return None
        key = (draft.item_code, draft.use.value)
        compulsory = self.compulsory.get(key)
        if compulsory is None:
            item = self.items[draft.item_code]
            compulsory = self.compulsory[key] = is_compulsory(item, draft.use, item.effective_from)
        return (
            row_no,
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
            draft.use.value,
            owner,
            InstrumentStatus.IN_SERVICE.value,
            draft.filed_on,
            draft.filed_on,
            draft.first_used_on,
            compulsory,
        )

    def _owner(self, row_no: int, value: str) -> str | None:
        """Owners are named by credit code; an enterprise files only for itself (as file_instrument)."""
        try:
            if self.enterprise:
                if not value.strip():
                    return self.own_code
                code = validate_credit_code(value, "owner_credit_code")
                if code != self.own_code:
                    self.problems.add(
                        row_no,
                        "owner_credit_code",
                        "企业只能为本单位备案 / an enterprise files only its own instruments",
                        value,
                    )
                    return None
                return code
            return validate_credit_code(required_text(value, "owner_credit_code", 18), "owner_credit_code")
        except InvalidInput as exc:
            self.problems.add(row_no, "owner_credit_code", exc.message, value)
            return None

    # -- per chunk, in the database (write-behind thread) -------------------------------------------

    def _insert_statement(self) -> Any:
        s = STAGE.c
        chosen = select(*[s[c] for c in COPIED], Organisation.id, literal(1)).select_from(
            STAGE.join(Organisation, Organisation.credit_code == s.owner_credit_code).join(
                Region, Region.code == s.region_code
            )
        )
        # The owner must be one the caller may file for: the same scope rule as resolve_owner.
        chosen = scope.organisations(chosen, self.principal)
        chosen = chosen.where(s.row_no.between(_bind("lo"), _bind("hi"))).order_by(s.row_no)
        dialect_insert = postgresql.insert if self.bulk.postgres else sqlite.insert
        return (
            dialect_insert(Instrument.__table__)
            .from_select([*COPIED, "owner_id", "row_version"], chosen)
            .on_conflict_do_nothing(index_elements=list(IDENTITY))
            .execution_options(preserve_rowcount=True)  # SQLAlchemy keeps rowcount only for UPDATE/DELETE
        )

    def write(self, chunk: list[tuple[Any, ...]]) -> None:
        if not chunk:
            return
        self.bulk.write(STAGE, STAGE_COLUMNS, chunk)
        if self.problems or self.mismatch:
            return  # the file is refused: stage the rest only for the report
        result = self.session.execute(self.insert, {"lo": chunk[0][0], "hi": chunk[-1][0]})
        self.written += result.rowcount
        if result.rowcount != len(chunk):
            self.mismatch = True

    # -- when refusing: which rows, and why ---------------------------------------------------------

    def diagnose(self) -> None:
        s = STAGE.c
        add = self.problems.add
        owner_ok = scope.organisations(
            select(Organisation.id).where(Organisation.credit_code == s.owner_credit_code), self.principal
        ).exists()
        for row_no, code in self.session.execute(
            select(s.row_no, s.owner_credit_code).where(~owner_ok).order_by(s.row_no)
        ):
            add(row_no, "owner_credit_code", f"使用单位 {code} 不存在 / owner {code} not found", code)
        region_ok = select(Region.code).where(Region.code == s.region_code).exists()
        for row_no, code in self.session.execute(
            select(s.row_no, s.region_code).where(~region_ok).order_by(s.row_no)
        ):
            add(row_no, "region_code", f"行政区划 {code} 不存在 / region not found", code)
        first = func.min(s.row_no).over(partition_by=[s[c] for c in IDENTITY]).label("first_row")
        ranked = select(s.row_no, s.serial_number, first).subquery()
        for row_no, serial, first_row in self.session.execute(
            select(ranked).where(ranked.c.row_no != ranked.c.first_row).order_by(ranked.c.row_no)
        ):
            add(
                row_no,
                "serial_number",
                f"与本文件第 {first_row} 行重复（同一制造商、型号、出厂编号）/ duplicates row {first_row} of "
                "this file (same manufacturer, model and serial number)",
                serial,
            )
        same = and_(*[getattr(Instrument, c) == s[c] for c in IDENTITY])
        for row_no, serial in self.session.execute(
            select(s.row_no, s.serial_number)
            .join(Instrument, same)
            .where(Instrument.id <= self.max_before)
            .order_by(s.row_no)
        ):
            add(
                row_no,
                "serial_number",
                f"同一制造商、型号下出厂编号 {serial} 已备案 / serial number already filed for this "
                "manufacturer and model",
                serial,
            )
        if not self.problems:  # rows vanished between staging and inserting: a concurrent change
            add(0, "file", "导入期间数据被并发修改，请重试 / the registry changed during the import; retry")


def _bind(name: str) -> Any:
    return bindparam(name, type_=Integer)
