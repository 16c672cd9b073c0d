"""Loading catalogue versions and answering 'which item, which rule' for the active one."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import BinaryIO

from sqlalchemy import and_, func, not_, select, update

from jiliang.domain.access import SYSTEM, Principal
from jiliang.domain.catalogue import (
    COMPULSORY_USES,
    CatalogueItem,
    ItemDiff,
    RegulatoryMode,
    VerificationForm,
    VerificationRule,
    assemble_version,
    diff_versions,
    in_force,
    parse_catalogue_row,
    shipped_catalogue,
    validate_version_name,
)
from jiliang.domain.instruments import InstrumentStatus, parse_date
from jiliang.errors import Conflict, InvalidInput, NotFound
from jiliang.services.common import require_role
from jiliang.services.platform import Platform
from jiliang.services.transfer.columns import Column, Headers, header_row
from jiliang.services.transfer.reading import Format, Problems, open_sheet
from jiliang.store.models import CatalogueItemRow, CatalogueRuleRow, CatalogueVersion, Instrument


def load_version(
    platform: Platform,
    items: list[CatalogueItem],
    *,
    activate: bool = True,
    active_from: date | None = None,
    principal: Principal = SYSTEM,
    source_name: str = "",
    sha256: str = "",
) -> str:
    """Add a catalogue version beside the existing ones; refuse to load the same version twice.

    ``activate``: in force from ``active_from`` (today by default). Records keep the version that set
    their due date, so a later version never rewrites them.
    """
    if not items:
        raise InvalidInput("目录为空 / empty catalogue", field="items")
    version = items[0].version
    with platform.unit_of_work(principal) as s:
        if s.get(CatalogueVersion, version) is not None:
            raise Conflict(
                f"目录版本 {version} 已存在 / catalogue version {version} already loaded", field="version"
            )
        s.add(
            CatalogueVersion(
                version=version,
                loaded_at=platform.now(),
                active_from=(active_from or platform.local_today()) if activate else None,
                source_name=source_name[:200],
                sha256=sha256,
            )
        )
        s.flush()
        for item in items:
            row = CatalogueItemRow(
                version=version,
                item_code=item.item_code,
                level1_no=item.level1_no,
                level1_zh=item.level1_zh,
                level1_en=item.level1_en,
                level2_zh=item.level2_zh,
                level2_en=item.level2_en,
                mode=item.mode.value,
                effective_from=item.effective_from,
                evidence=item.evidence,
                source=item.source,
                notes=item.notes,
            )
            s.add(row)
            s.flush()
            for rule in item.rules:
                s.add(
                    CatalogueRuleRow(
                        item_id=row.id,
                        form=rule.form.value if rule.form else None,
                        period_months=rule.period_months,
                        service_life_months=rule.service_life_months,
                        regulation=rule.regulation,
                        size_parameter=rule.size_parameter,
                        size_min_exclusive=None
                        if math.isinf(rule.size_min_exclusive)
                        else rule.size_min_exclusive,
                        size_max_inclusive=None
                        if math.isinf(rule.size_max_inclusive)
                        else rule.size_max_inclusive,
                        evidence=rule.evidence,
                        source=rule.source,
                        notes=rule.notes,
                    )
                )
    _CACHE.clear()
    return version


def ensure_shipped(platform: Platform) -> str:
    with platform.reading() as s:
        if s.scalar(select(CatalogueVersion.version).limit(1)) is not None:
            return active_version(platform)
    items = shipped_catalogue()
    # The shipped version is in force from its announcement (its items' earliest date).
    return load_version(platform, items, active_from=min(i.effective_from for i in items))


_CACHE: dict[tuple[int, str], dict[str, CatalogueItem]] = {}


def active_version(platform: Platform, on: date | None = None) -> str:
    """The version in force on ``on`` (today by default): the latest activation date not after it."""
    day = on or platform.local_today()
    with platform.reading() as s:
        rows = s.execute(
            select(CatalogueVersion.version, CatalogueVersion.active_from, CatalogueVersion.loaded_at).where(
                CatalogueVersion.active_from <= day
            )
        ).all()
    version = in_force([(v, a, t) for v, a, t in rows], day)
    if version is None:
        raise InvalidInput(
            "尚未加载计量器具目录 / no catalogue loaded: run `jiliang init`", field="catalogue"
        )
    return version


def catalogue(platform: Platform, version: str | None = None) -> dict[str, CatalogueItem]:
    """The items of a version (the active one by default), keyed by item code; cached per engine."""
    if version is None:
        version = active_version(platform)
    key = (id(platform.engine), version)
    if key in _CACHE:
        return _CACHE[key]
    with platform.reading() as s:
        rows = s.scalars(select(CatalogueItemRow).where(CatalogueItemRow.version == version)).all()
        rules: dict[int, list[VerificationRule]] = {}
        for r in s.scalars(
            select(CatalogueRuleRow).where(CatalogueRuleRow.item_id.in_([x.id for x in rows]))
        ):
            rules.setdefault(r.item_id, []).append(_rule(r, rows))
    items = {
        row.item_code: CatalogueItem(
            version=row.version,
            item_code=row.item_code,
            level1_no=row.level1_no,
            level1_zh=row.level1_zh,
            level1_en=row.level1_en,
            level2_zh=row.level2_zh,
            level2_en=row.level2_en,
            mode=RegulatoryMode(row.mode),
            effective_from=row.effective_from,
            evidence=row.evidence,
            source=row.source,
            notes=row.notes,
            rules=tuple(rules.get(row.id, ())),
        )
        for row in rows
    }
    _CACHE[key] = items
    return items


def _rule(r: CatalogueRuleRow, rows: Sequence[CatalogueItemRow]) -> VerificationRule:
    code = next(x.item_code for x in rows if x.id == r.item_id)
    return VerificationRule(
        item_code=code,
        form=VerificationForm(r.form) if r.form else None,
        period_months=r.period_months,
        service_life_months=r.service_life_months,
        regulation=r.regulation,
        size_parameter=r.size_parameter,
        size_min_exclusive=-math.inf if r.size_min_exclusive is None else r.size_min_exclusive,
        size_max_inclusive=math.inf if r.size_max_inclusive is None else r.size_max_inclusive,
        evidence=r.evidence,
        source=r.source,
        notes=r.notes,
        rule_id=r.id,
    )


def item(platform: Platform, item_code: str, field: str = "item_code") -> CatalogueItem:
    items = catalogue(platform)
    found = items.get(item_code)
    if found is None:
        raise InvalidInput(
            f"目录中没有 {item_code!r} 这一项 / {item_code!r} is not an item of the active catalogue",
            field=field,
        )
    return found


def find_items(
    platform: Platform,
    *,
    mode: str | None = None,
    level1: int | None = None,
    version: str | None = None,
) -> list[CatalogueItem]:
    """Items of a version in code order, optionally of one regulatory mode or one first-level item."""
    wanted = None
    if mode:
        try:
            wanted = RegulatoryMode(mode)
        except ValueError:
            allowed = ", ".join(m.value for m in RegulatoryMode)
            raise InvalidInput(f"监管方式无效 / mode must be one of: {allowed}", field="mode") from None
    if version is not None:
        _known_version(platform, version)
    items = catalogue(platform, version).values()
    return sorted(
        (
            i
            for i in items
            if (wanted is None or i.mode is wanted) and (level1 is None or i.level1_no == level1)
        ),
        key=lambda i: i.item_code,
    )


def get_item(platform: Platform, item_code: str, version: str | None = None) -> CatalogueItem:
    if version is not None:
        _known_version(platform, version)
    found = catalogue(platform, version).get(item_code)
    if found is None:
        raise NotFound(f"目录项 {item_code} 不存在 / catalogue item {item_code} not found", field="item_code")
    return found


def _known_version(platform: Platform, version: str) -> None:
    with platform.reading() as s:
        if s.get(CatalogueVersion, version) is None:
            raise NotFound(
                f"目录版本 {version} 不存在 / catalogue version {version} not found", field="version"
            )


# ---------------------------------------------------------------------------------------------------
# Catalogue versions an office uploads, compares and activates (docs/catalogue.md "Uploading a version")

CATALOGUE_COLUMNS: tuple[Column, ...] = (
    Column("level1_no", "一级序号", True),
    Column("level1_zh", "一级目录", True),
    Column("level1_en", "一级目录英文"),
    Column("item_code", "目录项代码", True),
    Column("level2_zh", "二级目录", True),
    Column("level2_en", "二级目录英文"),
    Column("mode", "监管方式", True),
    Column("effective_from", "实施日期", True),
    Column("form", "检定形式"),
    Column("period_months", "检定周期（月）"),
    Column("service_life_months", "使用期限（月）"),
    Column("regulation", "检定规程"),
    Column("size_parameter", "规格参数"),
    Column("size_min_exclusive", "规格下限（不含）"),
    Column("size_max_inclusive", "规格上限（含）"),
    Column("evidence", "依据"),
    Column("source", "来源"),
    Column("notes", "备注"),
    Column("rule_evidence", "规则依据"),
    Column("rule_source", "规则来源"),
    Column("rule_notes", "规则备注"),
)
MAX_CATALOGUE_ROWS = 5000  # the 2020 catalogue has 62 items; a file far larger is not a catalogue


@dataclass(frozen=True, slots=True)
class VersionInfo:
    version: str
    loaded_at: datetime
    active_from: date | None
    state: str  # in_force | scheduled | superseded | loaded
    items: int
    rules: int
    source_name: str
    sha256: str
    compulsory_applied_on: date | None = None  # when the instruments' compulsory flags followed it
    compulsory_changes: str = ""


@dataclass(frozen=True, slots=True)
class UploadReport:
    version: str
    rows_read: int
    items: int
    rules: int
    sha256: str


def upload_version(
    platform: Platform,
    principal: Principal,
    source: BinaryIO,
    *,
    fmt: Format,
    version: str,
    source_name: str = "",
) -> UploadReport:
    """Load a version from one sheet (one row per rule), not yet in force; any problem refuses the file.

    Rows are read by the bulk importers' reader (encodings, XLSX, size limit, row numbers as Excel shows
    them) and refused with the same per-row report; nothing is stored unless every row is right.
    """
    require_role(principal)
    name = validate_version_name(version)
    with platform.reading() as s:
        if s.get(CatalogueVersion, name) is not None:
            raise Conflict(
                f"目录版本 {name} 已存在 / catalogue version {name} already loaded", field="version"
            )
    problems = Problems(platform.settings.import_max_reported_problems)
    sheet = open_sheet(source, fmt, CATALOGUE_COLUMNS, problems, platform.settings.max_upload_bytes)
    if problems:
        raise problems.refuse(0)
    rows: list[tuple[int, CatalogueItem, VerificationRule]] = []
    rows_read = 0
    for row_no, raw in sheet.rows:
        rows_read += 1
        if rows_read > MAX_CATALOGUE_ROWS:
            problems.add(row_no, "row", f"超过 {MAX_CATALOGUE_ROWS} 行 / more than {MAX_CATALOGUE_ROWS} rows")
            break
        if raw is None:
            continue
        try:
            item, rule = parse_catalogue_row(raw, name)
        except InvalidInput as exc:
            problems.add(row_no, exc.field or "row", exc.message, raw.get(exc.field or ""))
            continue
        rows.append((row_no, item, rule))
    items, inconsistent = assemble_version(rows)
    for p in inconsistent:
        problems.add(p.row, p.field, p.reason, p.value)
    if not items and not problems:
        problems.add(0, "file", "文件没有数据行 / the file has no data rows")
    if problems:
        raise problems.refuse(rows_read)
    load_version(
        platform, items, activate=False, principal=principal, source_name=source_name, sha256=sheet.sha256
    )
    return UploadReport(name, rows_read, len(items), sum(len(i.rules) for i in items), sheet.sha256)


def list_versions(platform: Platform) -> list[VersionInfo]:
    """Every version loaded, newest activation first, with its state today."""
    today = platform.local_today()
    with platform.reading() as s:
        versions = s.scalars(select(CatalogueVersion)).all()
        counts = dict(
            s.execute(select(CatalogueItemRow.version, func.count()).group_by(CatalogueItemRow.version)).all()
        )
        rule_counts = dict(
            s.execute(
                select(CatalogueItemRow.version, func.count())
                .join(CatalogueRuleRow, CatalogueRuleRow.item_id == CatalogueItemRow.id)
                .group_by(CatalogueItemRow.version)
            ).all()
        )
    current = in_force([(v.version, v.active_from, v.loaded_at) for v in versions], today)

    def state(v: CatalogueVersion) -> str:
        if v.version == current:
            return "in_force"
        if v.active_from is None:
            return "loaded"
        return "scheduled" if v.active_from > today else "superseded"

    out = [
        VersionInfo(
            v.version,
            v.loaded_at,
            v.active_from,
            state(v),
            int(counts.get(v.version, 0)),
            int(rule_counts.get(v.version, 0)),
            v.source_name,
            v.sha256,
            v.compulsory_applied_on,
            v.compulsory_changes,
        )
        for v in versions
    ]
    return sorted(out, key=lambda v: (v.active_from or date.max, v.loaded_at), reverse=True)


def get_version(platform: Platform, version: str) -> VersionInfo:
    for info in list_versions(platform):
        if info.version == version:
            return info
    raise NotFound(f"目录版本 {version} 不存在 / catalogue version {version} not found", field="version")


def diff(platform: Platform, version: str, against: str | None = None) -> list[ItemDiff]:
    """What ``version`` changes from ``against`` (the version in force today by default), row by row."""
    _known_version(platform, version)
    base = against or active_version(platform)
    _known_version(platform, base)
    return diff_versions(catalogue(platform, base), catalogue(platform, version))


def activate(platform: Platform, principal: Principal, version: str, on: object) -> VersionInfo:
    """Put ``version`` in force from ``on`` (today or later). Nothing already recorded changes: each
    verification record keeps the version, form and regulation that set its due date."""
    require_role(principal)
    today = platform.local_today()
    day = parse_date(on, "active_from")
    if day < today:
        raise InvalidInput(
            f"启用日期不能早于今天 {today.isoformat()} / the activation date cannot be in the past",
            field="active_from",
        )
    _known_version(platform, version)
    items = catalogue(platform, version)
    with platform.unit_of_work(principal) as s:
        row = s.get(CatalogueVersion, version)
        assert row is not None
        if row.active_from is not None and row.active_from <= today:
            raise Conflict(
                f"目录版本 {version} 已于 {row.active_from.isoformat()} 启用，不能改期；如需恢复请另行上传为新版本 / "
                f"version {version} has been in force since {row.active_from.isoformat()}: upload it again "
                "under a new name to return to it",
                field="version",
            )
        clash = s.scalar(
            select(CatalogueVersion.version).where(
                CatalogueVersion.active_from == day, CatalogueVersion.version != version
            )
        )
        if clash is not None:
            raise Conflict(
                f"目录版本 {clash} 已定于 {day.isoformat()} 启用 / version {clash} is already set to take over "
                "on that day",
                field="active_from",
            )
        in_use = set(
            s.scalars(
                select(Instrument.item_code)
                .where(Instrument.status != InstrumentStatus.SCRAPPED.value)
                .distinct()
            )
        )
        missing = sorted(in_use - set(items))
        if missing:
            raise Conflict(
                f"在用器具所属的目录项 {', '.join(missing[:10])} 不在版本 {version} 中：请保留这些目录项（可改监管方式）/ "
                f"instruments in use are filed under items missing from {version}: {', '.join(missing[:10])}",
                field="version",
            )
        row.active_from = day
    if day == today:
        apply_compulsory(platform, principal)  # in force now: the instruments follow it today
    return get_version(platform, version)


@dataclass(frozen=True)
class CompulsoryChange:
    version: str
    on: date
    became_compulsory: int  # instruments now under compulsory verification that were not
    ceased: int  # instruments no longer under it
    items: tuple[str, ...]  # the item codes of the instruments that changed


def apply_compulsory(platform: Platform, principal: Principal = SYSTEM) -> CompulsoryChange | None:
    """Recompute the ``compulsory`` flag of every instrument not scrapped under the version in force today,
    once per version (the activation on its day; ``jiliang serve`` daily for one scheduled ahead).

    计量法 §9: compulsory iff the item is listed for verification (mode V or P+V), in force on the day,
    and the instrument is used for one of the four purposes. Only the flag changes, from today on: no
    verification record, due date or past indicator is rewritten (past dates read the records). The
    tallies follow through their triggers (migration 0017) in the same transaction; the version's row
    records the day and the counts, so the audit trail says who applied what and when. None when the
    version in force was applied already."""
    today = platform.local_today()
    version = active_version(platform, today)
    items = catalogue(platform, version)
    listed = sorted(code for code, it in items.items() if it.mode.verified and it.effective_from <= today)
    uses = sorted(u.value for u in COMPULSORY_USES)
    with platform.unit_of_work(principal) as s:
        row = s.get(CatalogueVersion, version)
        assert row is not None
        if row.compulsory_applied_on is not None:
            return None
        live = Instrument.status != InstrumentStatus.SCRAPPED.value
        should = and_(Instrument.item_code.in_(listed), Instrument.use.in_(uses))
        gain = and_(live, should, Instrument.compulsory.is_(False))
        lose = and_(live, not_(should), Instrument.compulsory.is_(True))
        counts = {
            name: dict(
                s.execute(
                    select(Instrument.item_code, func.count()).where(cond).group_by(Instrument.item_code)
                ).all()
            )
            for name, cond in (("gain", gain), ("lose", lose))
        }
        for cond, value in ((gain, True), (lose, False)):
            s.execute(
                update(Instrument).where(cond).values(compulsory=value),
                execution_options={"synchronize_session": False},
            )
        up, down = sum(counts["gain"].values()), sum(counts["lose"].values())
        codes = tuple(sorted(set(counts["gain"]) | set(counts["lose"])))
        row.compulsory_applied_on = today
        row.compulsory_changes = (
            f"+{up} 台纳入强检 / now compulsory, -{down} 台不再强检 / no longer compulsory"
            + (f"; 目录项 / items {', '.join(codes[:50])}" if codes else "")
        )[:2000]
        return CompulsoryChange(version, today, int(up), int(down), codes)


def unschedule(platform: Platform, principal: Principal, version: str) -> VersionInfo:
    """Withdraw a version's activation that has not yet taken effect."""
    require_role(principal)
    _known_version(platform, version)
    with platform.unit_of_work(principal) as s:
        row = s.get(CatalogueVersion, version)
        assert row is not None
        if row.active_from is None or row.active_from <= platform.local_today():
            raise Conflict(
                f"目录版本 {version} 没有待生效的启用日期 / version {version} has no activation still to come",
                field="version",
            )
        row.active_from = None
    return get_version(platform, version)


def export_version(platform: Platform, version: str, sink: BinaryIO, headers: Headers = "zh") -> int:
    """A version as a CSV in the upload layout (UTF-8 with BOM for Excel): edit it and upload it again."""
    _known_version(platform, version)
    text = io.TextIOWrapper(sink, encoding="utf-8-sig", newline="", write_through=True)
    writer = csv.writer(text)
    writer.writerow(header_row(CATALOGUE_COLUMNS, headers))
    n = 0
    for item in sorted(catalogue(platform, version).values(), key=lambda i: i.item_code):
        for rule in item.rules:
            writer.writerow(
                [
                    item.level1_no,
                    item.level1_zh,
                    item.level1_en,
                    item.item_code,
                    item.level2_zh,
                    item.level2_en,
                    item.mode.value,
                    item.effective_from.isoformat(),
                    rule.form.value if rule.form else "",
                    rule.period_months or "",
                    rule.service_life_months or "",
                    rule.regulation,
                    rule.size_parameter,
                    "" if math.isinf(rule.size_min_exclusive) else f"{rule.size_min_exclusive:g}",
                    "" if math.isinf(rule.size_max_inclusive) else f"{rule.size_max_inclusive:g}",
                    item.evidence,
                    item.source,
                    item.notes,
                    rule.evidence,
                    rule.source,
                    rule.notes,
                ]
            )
            n += 1
    text.flush()
    text.detach()
    return n
