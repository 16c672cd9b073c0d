"""Bulk recording of verification results (批量导入检定记录) from CSV or XLSX.

Rows are checked as ``services.verifications.record_verification`` checks one record — the same domain
functions (parse_date, not_in_future, parse_conclusion, approval_valid, rule_for, due_date) and the same
order of refusals — with what needs the database looked up per chunk in one join: the instrument by its
identity (manufacturer, model, serial number), the institution by its credit code, its authorisations
and standards (few, so held in memory). Records are written per chunk, and with each chunk the
instruments' denormalised state is brought up to date chunk by chunk, as record_verification's
``refresh_instrument`` would have left it after each record in turn (see ``_Refresh``). Any problem refuses the whole file.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from functools import cache
from typing import Any, BinaryIO

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from jiliang.domain.access import Principal, Role
from jiliang.domain.catalogue import CatalogueItem, due_date
from jiliang.domain.credit_code import validate_credit_code
from jiliang.domain.instruments import (
    InstrumentStatus,
    document_number,
    not_in_future,
    optional_text,
    parse_date,
    required_text,
)
from jiliang.domain.regions import in_jurisdiction
from jiliang.domain.standards import approval_valid
from jiliang.domain.verification import Conclusion, parse_conclusion, status_after, valid_until
from jiliang.errors import InvalidInput
from jiliang.services import catalogue as catalogue_service
from jiliang.services import transparency
from jiliang.services.common import require_role
from jiliang.services.platform import Platform
from jiliang.services.transfer import columnwise as cw
from jiliang.services.transfer.base import (
    Bulk,
    ImportReport,
    RowsOfIds,
    UniqueClash,
    run_import,
)
from jiliang.services.transfer.columns import VERIFICATION_COLUMNS
from jiliang.services.transfer.reading import Format, Problems
from jiliang.store.models import (
    Authorisation,
    Instrument,
    MeasurementStandard,
    Organisation,
    StandardItem,
    VerificationRecord,
)

IDENTITY = ("manufacturer", "model", "serial_number")
INSTRUMENT_STATE = (
    "id",
    "item_code",
    "region_code",
    "nominal_size",
    "first_used_on",
    "status",
    # what the replay of refresh_instrument starts from:
    "status_since",
    "row_version",
    "last_verified_on",
    "last_conclusion",
    "due_on",
)
DOCUMENT = ("institution_id", "document_no")  # uq_verification_records_document
WRITTEN = (
    "instrument_id",
    "institution_id",
    "standard_id",
    "verified_on",
    "conclusion",
    "document_no",
    "due_on",
    "catalogue_version",
    "rule_form",
    "regulation",
    "superseded",
    "remarks",
    "recorded_at",
)
REFRESHED = (
    "last_verified_on",
    "last_conclusion",
    "due_on",
    "valid_until",
    "status",
    "status_since",
    "row_version",
)


def import_verifications(
    platform: Platform,
    principal: Principal,
    source: BinaryIO,
    *,
    fmt: Format,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Record every row of the file, or none: any problem refuses the whole file with a per-row report."""
    require_role(principal, Role.INSTITUTION)
    items = catalogue_service.catalogue(platform)
    version = catalogue_service.active_version(platform)
    return run_import(
        platform,
        principal,
        source,
        fmt=fmt,
        columns=VERIFICATION_COLUMNS,
        object_type="verification_records",
        make_job=lambda session, problems: _Job(
            session, principal, items, version, platform.local_today(), platform.now(), problems
        ),
        summary=lambda n: f"导入 {n} 条检定记录 / imported {n} verification records",
        progress=progress,
    )


class _Job:
    def __init__(
        self,
        session: Session,
        principal: Principal,
        items: dict[str, CatalogueItem],
        version: str,
        today: date,
        now: datetime,
        problems: Problems,
    ) -> None:
        self.session = session
        self.principal = principal
        self.items = items
        self.version = version
        self.today = today
        self.now = now
        self.problems = problems
        self.bulk = Bulk(session)
        self.max_before = self.bulk.max_id(VerificationRecord.id)
        self.institutions: dict[str, int | None] = {}
        self.own: tuple[str, int] | None = None
        if principal.role is Role.INSTITUTION:
            code = session.scalar(
                select(Organisation.credit_code).where(Organisation.id == principal.organisation_id)
            )
            if code is None or principal.organisation_id is None:
                raise InvalidInput(
                    "账户未关联机构 / the account has no institution", field="institution_credit_code"
                )
            self.own = (code, principal.organisation_id)
            self.institutions[code] = principal.organisation_id
        self.checks = _Checks(today, problems, self.own)
        self.validate = self.checks.validate
        self.authorisations = self._authorisations()
        self.authorised: dict[tuple[int, str, str, date], bool] = {}
        self.standards: dict[str, tuple[int, int, bool, date, date, frozenset[str]] | None] = {}
        self.written = RowsOfIds()
        self.refresh = _Refresh(session, self.bulk)

    def _authorisations(self) -> dict[tuple[int, str], list[tuple[str, date, date]]]:
        stmt = select(
            Authorisation.institution_id,
            Authorisation.item_code,
            Authorisation.region_code,
            Authorisation.valid_from,
            Authorisation.valid_until,
        )
        if self.own is not None:
            stmt = stmt.where(Authorisation.institution_id == self.own[1])
        out: dict[tuple[int, str], list[tuple[str, date, date]]] = defaultdict(list)
        for inst, item, region, start, end in self.session.execute(stmt):
            out[(inst, item)].append((region, start, end))
        return out

    # -- per chunk, against the database (write-behind thread) --------------------------------------

    def write(self, chunk: list[tuple[Any, ...]]) -> None:
        if not chunk:
            return
        chunk = self._resolve_institutions(chunk)
        found = self.bulk.lookup(
            Instrument.__table__,
            IDENTITY,
            list({(r[1], r[2], r[3]) for r in chunk}),
            INSTRUMENT_STATE,
        )
        self._load_standards({r[5] for r in chunk if r[5]} - self.standards.keys())
        first_of: dict[tuple[int, str], int] = {}
        out: list[tuple[tuple[Any, ...], int]] = []
        for row in chunk:
            record = self._record(row, found.get((row[1], row[2], row[3])))
            if record is None:
                continue
            key = (record[1], record[5])
            first = first_of.setdefault(key, row[0])
            if first != row[0]:
                _duplicate_in_file(self.problems.add, row[0], first, record[5])
                continue
            out.append((record, row[0]))
        if not self.problems:
            try:
                ids = self.bulk.insert(
                    VerificationRecord.__table__, WRITTEN, [r for r, _ in out], guarded=True
                )
            except UniqueClash:
                pass
            else:
                self._wrote(ids, out)
                self.refresh.apply([r for r, _ in out], {v[0]: v for v in found.values()})
                return
        existing = self.bulk.existing(VerificationRecord.__table__, DOCUMENT, [(r[1], r[5]) for r, _ in out])
        kept = []
        for record, row_no in out:
            clash = existing.get((record[1], record[5]))
            if clash is None:
                kept.append((record, row_no))
            elif clash <= self.max_before:
                self.problems.add(
                    row_no,
                    "document_no",
                    f"证书编号 {record[5]} 已使用 / document number already used",
                    record[5],
                )
            else:
                _duplicate_in_file(self.problems.add, row_no, self.written.row_of(clash), record[5])
        self._wrote(self.bulk.insert(VerificationRecord.__table__, WRITTEN, [r for r, _ in kept]), kept)

    def _resolve_institutions(self, chunk: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        """Institutions named by credit code (an administrator's file) to ids; unknown ones are problems."""
        codes = {r[4] for r in chunk if isinstance(r[4], str)} - self.institutions.keys()
        if codes:
            stmt = select(Organisation.credit_code, Organisation.id).where(
                Organisation.credit_code.in_(codes)
            )
            found = {code: id_ for code, id_ in self.session.execute(stmt)}
            self.institutions.update({c: found.get(c) for c in codes})
        out = []
        for row in chunk:
            if isinstance(row[4], str):
                institution_id = self.institutions[row[4]]
                if institution_id is None:
                    self.problems.add(
                        row[0],
                        "institution_credit_code",
                        f"检定机构 {row[4]} 不存在 / institution {row[4]} not found",
                        row[4],
                    )
                    continue
                row = (*row[:4], institution_id, *row[5:])
            out.append(row)
        return out

    def _wrote(self, ids: Sequence[int], out: list[tuple[tuple[Any, ...], int]]) -> None:
        self.written.add(ids, [row_no for _, row_no in out])
        # One log leaf per record, queued in the import's own transaction (refused file: no leaves),
        # with the bytes enqueue_many(verification_body(...)) would write.
        transparency.enqueue_verifications(
            self.bulk.connection,
            (
                (id_, r[0], r[1], r[2], r[3], r[4], r[6], r[5])
                for id_, (r, _) in zip(ids, out, strict=True)
            ),
            self.now,
            self.bulk.append,
        )

    def _record(self, row: tuple[Any, ...], instrument: tuple[Any, ...] | None) -> tuple[Any, ...] | None:
        """The record record_verification would write for this row, or None with the problem added."""
        row_no, _, _, serial, institution_id, cert_no, verified_on, conclusion, document_no, remarks = row
        add = self.problems.add
        if instrument is None:
            add(row_no, "serial_number", _NOT_FOUND, serial)
            return None
        inst_id, item_code, region, nominal_size, first_used_on, status = instrument[:6]
        item = self.items[item_code]
        if not self._authorised(institution_id, item_code, region, verified_on):
            if self.principal.role is Role.INSTITUTION and not self.principal.sees_region(region):
                add(row_no, "serial_number", _NOT_FOUND, serial)  # outside the jurisdiction: not found
            else:
                add(
                    row_no,
                    "institution_credit_code",
                    f"机构未获 {item_code}（{item.level2_zh}）在 {region} 的授权 / the institution is not "
                    "authorised for this item in this region on that date",
                )
            return None
        if status == InstrumentStatus.SCRAPPED.value:
            add(row_no, "serial_number", "器具已报废 / the instrument is scrapped", serial)
            return None
        standard_id = None
        if cert_no:
            standard_id = self._standard(row_no, cert_no, institution_id, item_code, verified_on)
            if standard_id is None:
                return None
        try:
            rule = item.rule_for(nominal_size)
        except InvalidInput as exc:
            add(row_no, exc.field or "nominal_size", exc.message)
            return None
        if rule.form is None:
            add(
                row_no,
                "serial_number",
                f"{item.level2_zh} 仅实施型式批准，不实施强制检定 / {item.level2_en} is under pattern approval only",
                serial,
            )
            return None
        due = due_date(rule, verified_on, first_used_on) if conclusion is Conclusion.PASS else None
        return (
            inst_id,
            institution_id,
            standard_id,
            verified_on,
            conclusion.value,
            document_no,
            due,
            self.version,
            rule.form.value,
            rule.regulation,
            False,
            remarks,
            self.now,
        )

    def _authorised(self, institution_id: int, item_code: str, region: str, on: date) -> bool:
        key = (institution_id, item_code, region, on)
        known = self.authorised.get(key)
        if known is None:
            known = self.authorised[key] = self._is_authorised(institution_id, item_code, region, on)
        return known

    def _is_authorised(self, institution_id: int, item_code: str, region: str, on: date) -> bool:
        # services.standards.is_authorised, over the authorisations held in memory.
        return any(
            start <= on <= end and in_jurisdiction(region, auth_region)
            for auth_region, start, end in self.authorisations.get((institution_id, item_code), ())
        )

    def _load_standards(self, certificates: Iterable[str]) -> None:
        pending = list(certificates)
        if not pending:
            return
        for cert in pending:
            self.standards[cert] = None
        rows = self.session.execute(
            select(
                MeasurementStandard.certificate_no,
                MeasurementStandard.id,
                MeasurementStandard.holder_id,
                MeasurementStandard.active,
                MeasurementStandard.certificate_valid_from,
                MeasurementStandard.certificate_valid_until,
            ).where(MeasurementStandard.certificate_no.in_(pending))
        ).all()
        covered: dict[int, set[str]] = defaultdict(set)
        for sid, code in self.session.execute(
            select(StandardItem.standard_id, StandardItem.item_code).where(
                StandardItem.standard_id.in_([r[1] for r in rows])
            )
        ):
            covered[sid].add(code)
        for cert, sid, holder, active, start, end in rows:
            self.standards[cert] = (sid, holder, active, start, end, frozenset(covered[sid]))

    def _standard(self, row_no: int, cert: str, institution_id: int, item_code: str, on: date) -> int | None:
        """The checks of services.verifications._standard, on the standard named by its certificate."""
        std = self.standards.get(cert)
        field = "standard_certificate_no"
        if std is None or std[1] != institution_id:
            self.problems.add(
                row_no,
                field,
                f"计量标准 {cert} 不属于本机构 / standard {cert} is not held by the institution",
                cert,
            )
            return None
        sid, _, active, start, end, items = std
        if not active or not approval_valid(start, end, on):
            self.problems.add(
                row_no,
                field,
                f"计量标准考核证书 {cert} 在 {on} 不在有效期内 / the standard's approval certificate was not in "
                "force on that date",
                cert,
            )
            return None
        if item_code not in items:
            self.problems.add(
                row_no,
                field,
                f"计量标准 {cert} 不能检定目录项 {item_code} / the standard does not cover this item",
                cert,
            )
            return None
        return sid


class _Checks:
    """The per-row checks: pure, so that a large file can be checked in a worker process (``worker.py``)."""

    def __init__(self, today: date, problems: Problems, own: tuple[str, int] | None) -> None:
        self.today = today
        self.problems = problems
        self.own = own
        self.codes: dict[str, str] = {}  # a file names the same few codes on every row: check each once

    def validate(self, row_no: int, raw: dict[str, str]) -> tuple[Any, ...] | None:
        add = self.problems.add
        ok = True
        values: list[Any] = [row_no]
        for field, max_len in _IDENTITY_LENGTHS:
            try:
                values.append(required_text(raw.get(field), field, max_len))
            except InvalidInput as exc:
                add(row_no, field, exc.message, raw.get(field))
                ok = False
        # The checks in record_verification's order, one function per field (no closures built per row).
        for field, check in _FIELD_CHECKS:
            try:
                values.append(check(self, raw))
            except InvalidInput as exc:
                add(row_no, exc.field or field, exc.message, raw.get(field))
                ok = False
        return tuple(values) if ok else None

    def validate_chunk(self, rows: list[tuple[int, dict[str, str]]]) -> list[tuple[Any, ...]]:
        """The tuples ``validate`` stages, column by column (columnwise.py) when every row passes;
        otherwise row by row, so that each problem is named by row and field as always."""
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
        today = self.today

        def verified(value: Any) -> date:
            return not_in_future(parse_date(value, "verified_on"), today, "verified_on")

        return list(
            zip(
                [row_no for row_no, _ in rows],
                cw.required(cw.column(raws, "manufacturer"), 200),
                cw.required(cw.column(raws, "model"), 100),
                cw.required(cw.column(raws, "serial_number"), 100),
                cw.by_value([r.get("institution_credit_code", "") for r in raws], self._institution),
                cw.optional(cw.column(raws, "standard_certificate_no"), 100),
                cw.by_value(cw.column(raws, "verified_on"), verified),
                cw.by_value(cw.column(raws, "conclusion"), parse_conclusion),
                cw.document_numbers(cw.column(raws, "document_no"), 100),
                cw.optional(cw.column(raws, "remarks"), 2000),
                strict=True,
            )
        )

    def _institution(self, value: str) -> int | str:
        """An institution records only as itself (as record_verification); others name one by code."""
        if self.own is not None:
            if not value.strip():
                return self.own[1]
            code = self._credit_code(value)
            if code != self.own[0]:
                raise InvalidInput(
                    "只能以本机构名义记录检定 / record only as your own institution",
                    field="institution_credit_code",
                )
            return self.own[1]
        return self._credit_code(required_text(value, "institution_credit_code", 18))
        # resolved to an id per chunk, in the thread that owns the connection

    def _credit_code(self, value: str) -> str:
        code = self.codes.get(value)
        if code is None:  # an invalid code raises here on every row that names it
            code = self.codes[value] = validate_credit_code(value, "institution_credit_code")
        return code


_IDENTITY_LENGTHS = (("manufacturer", 200), ("model", 100), ("serial_number", 100))
_FIELD_CHECKS: tuple[tuple[str, Callable[[_Checks, dict[str, str]], Any]], ...] = (
    ("institution_credit_code", lambda c, raw: c._institution(raw.get("institution_credit_code", ""))),
    ("standard_certificate_no", lambda c, raw: optional_text(raw.get("standard_certificate_no"), "standard_certificate_no", 100)),
    ("verified_on", lambda c, raw: not_in_future(parse_date(raw.get("verified_on"), "verified_on"), c.today, "verified_on")),
    ("conclusion", lambda c, raw: parse_conclusion(raw.get("conclusion"))),
    ("document_no", lambda c, raw: document_number(raw.get("document_no"), "document_no")),
    ("remarks", lambda c, raw: optional_text(raw.get("remarks"), "remarks", 2000)),
)  # fmt: skip

_NOT_FOUND = "器具不存在或不在您的管辖范围内 / instrument not found (manufacturer, model, serial number)"


def _duplicate_in_file(add: Callable[..., None], row_no: int, first: int | None, document_no: str) -> None:
    add(
        row_no,
        "document_no",
        f"证书编号与本文件第 {first} 行重复 / document number duplicates row {first} of this file",
        document_no,
    )


class _Refresh:
    """Each instrument's state after its new records, as refresh_instrument leaves it record by record.

    record_verification refreshes after every record: the instrument's last effective record (by
    verified_on, then id) sets last_verified_on, last_conclusion, due_on and valid_until; its status
    follows ``status_after`` of that record's conclusion, with status_since the last record's date
    whenever the status changes; row_version grows by one per record. Replaying exactly that per chunk,
    in id order, from the state the chunk's lookup read gives the same end state without a query per
    record. The effective chain (effective_until = the next effective record's date) is re-derived with
    one window query for the instruments that had records before or got several now.
    tests/test_transfer.py proves the two paths identical.
    """

    def __init__(self, session: Session, bulk: Bulk) -> None:
        self.session = session
        self.bulk = bulk

    def apply(self, records: list[tuple[Any, ...]], states: dict[int, tuple[Any, ...]]) -> None:
        """``records``: as written (instrument_id first, then verified_on at 3, conclusion at 4, due_on at 6)."""
        current: dict[int, list[Any]] = {}
        chains: set[int] = set()
        for record in records:
            inst_id = record[0]
            state = current.get(inst_id)
            if state is None:
                _, _, _, _, _, status, since, version, last_on, last_conclusion, last_due = states[inst_id]
                last = (last_on, last_conclusion, last_due) if last_on is not None else None
                state = current[inst_id] = [status, since, version, last]
            else:
                chains.add(inst_id)
            status, since, version, last = state
            if last is not None:
                chains.add(inst_id)
            if last is None or record[3] >= last[0]:  # a new record's id is above every older one's
                last = (record[3], record[4], record[6])
            after = _status_after(last[1], status)
            if after != status:
                status, since = after, last[0]
            current[inst_id] = [status, since, version + 1, last]
        updates = [
            (
                inst_id,
                last[0],
                last[1],
                last[2],
                valid_until(_conclusion(last[1]), last[2]),
                status,
                since,
                version,
            )
            for inst_id, (status, since, version, last) in current.items()
        ]
        self.bulk.update(Instrument.__table__, REFRESHED, updates)
        if chains:
            self._chains(sorted(chains))

    def _chains(self, instrument_ids: list[int]) -> None:
        VR = VerificationRecord
        following = (
            select(
                VR.id,
                func.lead(VR.verified_on)
                .over(partition_by=VR.instrument_id, order_by=(VR.verified_on, VR.id))
                .label("nxt"),
            )
            .where(VR.superseded.is_(False), VR.instrument_id.in_(instrument_ids))
            .subquery()
        )
        self.session.execute(
            update(VR)
            .values(effective_until=following.c.nxt)
            .where(VR.id == following.c.id, VR.effective_until.is_distinct_from(following.c.nxt))
        )


# Per record the replay needs only these few combinations: each built once, not twice per record.
@cache
def _conclusion(value: str) -> Conclusion:
    return Conclusion(str(value))


@cache
def _status_after(conclusion: str, status: str) -> str:
    return status_after(_conclusion(conclusion), InstrumentStatus(status)).value
