"""Traceability (量值溯源): calibrations of standards, chains, broken chains and impact analysis (召回).

The engine (``metrology.traceability``) works on arrays; this service loads them from the store, maps
ids to array positions and back, and keeps each caller to what is theirs (``scope``). The upstream part
of a chain (provincial and national standards) is shown to anyone who may see the item at its foot:
traceability is only useful when the whole chain can be read.
"""

from __future__ import annotations

import csv
import io
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

import numpy as np
from sqlalchemy import Select, and_, select
from sqlalchemy.orm import Session

from jiliang.domain.access import Principal, Role
from jiliang.domain.instruments import document_number, optional_text, parse_date
from jiliang.domain.spreadsheet import neutralise
from jiliang.errors import Conflict, InvalidInput, NotAuthorised
from jiliang.metrology.traceability import (
    LinkStatus,
    TraceabilityCycle,
    TraceabilityGraph,
    normalise,
    tolerance_from_accuracy,
)
from jiliang.services import scope
from jiliang.services.common import not_found, require_role
from jiliang.services.platform import Platform
from jiliang.store.models import (
    Instrument,
    MeasurementStandard,
    Organisation,
    StandardCalibration,
    VerificationRecord,
)


def _select(*columns: Any) -> Select[Any]:
    return select(*columns)


class ImpactReason(StrEnum):
    OUT_OF_TOLERANCE = "out_of_tolerance"  # 标准经核查/校准超差
    CERTIFICATE_LAPSED = "certificate_lapsed"  # 标准校准证书失效


# ----------------------------------------------------------------------------------------------
# recording a calibration


def _positive(value: object, name: str, *, allow_none: bool = False) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        if allow_none:
            return None
        raise InvalidInput(f"{name} 不能为空 / {name} is required", field=name)
    if isinstance(value, bool):
        raise InvalidInput(f"{name} 不是数字 / {name} is not a number: {value!r}", field=name)
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InvalidInput(f"{name} 不是数字 / {name} is not a number: {value!r}", field=name) from None
    if not math.isfinite(number) or number <= 0:
        raise InvalidInput(f"{name} 必须是有限正数 / {name} must be a finite positive number", field=name)
    return number


def record_calibration(platform: Platform, principal: Principal, raw: dict[str, Any]) -> StandardCalibration:
    """Record that a standard was calibrated, against a higher standard or an external anchor (audited).

    An institution records calibrations of its own standards (certificates it received) or made with its
    own standards (certificates it issued). A calibration that would make a standard traceable to itself
    is refused, naming the standards of the cycle.
    """
    require_role(principal, Role.INSTITUTION)
    today = platform.local_today()
    calibrated_on = parse_date(raw.get("calibrated_on"), "calibrated_on")
    if calibrated_on > today:
        raise InvalidInput(
            f"校准日期 {calibrated_on} 晚于今天 / calibrated_on {calibrated_on} is in the future",
            field="calibrated_on",
        )
    valid_until = parse_date(raw.get("valid_until"), "valid_until")
    if valid_until < calibrated_on:
        raise InvalidInput("有效期止早于校准日期 / valid_until precedes calibrated_on", field="valid_until")
    u = _positive(raw.get("expanded_uncertainty"), "expanded_uncertainty")
    k = _positive(raw.get("coverage_factor", 2.0), "coverage_factor")
    unit = optional_text(raw.get("unit", "%"), "unit", 20)
    normalise(1.0, unit, "unit")
    tolerance = _positive(raw.get("tolerance"), "tolerance", allow_none=True)
    in_tolerance = raw.get("in_tolerance", True)
    if not isinstance(in_tolerance, bool):
        raise InvalidInput(
            "in_tolerance 须为 true 或 false / in_tolerance must be a boolean", field="in_tolerance"
        )
    certificate = document_number(raw.get("certificate_no"), "certificate_no")
    anchor = {
        k_: optional_text(raw.get(k_), k_, 200 if k_ != "anchor_nmi" else 100)
        for k_ in ("anchor_name", "anchor_nmi", "anchor_cmc_ref")
    }
    reference_id = raw.get("reference_standard_id")
    if reference_id is not None and (isinstance(reference_id, bool) or not isinstance(reference_id, int)):
        raise InvalidInput(
            "reference_standard_id 须为整数 / reference_standard_id must be an integer",
            field="reference_standard_id",
        )
    if (reference_id is None) == (not anchor["anchor_name"]):
        raise InvalidInput(
            "须且只能给出上级标准或外部溯源源头之一 / give either reference_standard_id or anchor_name "
            "(a national primary standard or a foreign NMI CMC), not both",
            field="reference_standard_id",
        )
    with platform.unit_of_work(principal) as s:
        std_id = raw.get("standard_id")
        std = s.scalars(
            scope.standards(select(MeasurementStandard).where(MeasurementStandard.id == std_id), principal)
        ).first()
        if std is None or isinstance(std_id, bool):
            raise not_found("standard", std_id)
        ref = None
        if reference_id is not None:
            ref = s.get(MeasurementStandard, reference_id)
            if ref is None:
                raise InvalidInput(
                    f"上级标准 {reference_id} 不存在 / reference standard {reference_id} not found",
                    field="reference_standard_id",
                )
        if principal.role is Role.INSTITUTION:
            own = principal.organisation_id
            if std.holder_id != own and (ref is None or ref.holder_id != own):
                raise NotAuthorised(
                    "机构只能登记本单位标准的校准或用本单位标准所做的校准 / an institution records "
                    "calibrations of its own standards or made with its own standards",
                    field="standard_id",
                )
        if s.scalar(
            select(StandardCalibration.id).where(
                StandardCalibration.standard_id == std.id, StandardCalibration.certificate_no == certificate
            )
        ):
            raise Conflict(
                f"校准证书 {certificate} 已登记 / certificate {certificate} already recorded",
                field="certificate_no",
            )
        if ref is not None:
            loaded = _load(s, uses=None)
            cycle = loaded.graph.cycle_through(
                loaded.index[std.id], loaded.index[ref.id], calibrated_on.toordinal()
            )
            if cycle is not None:
                names = [loaded.names[loaded.ids[i]] for i in cycle]
                ids = [int(loaded.ids[i]) for i in cycle]
                raise TraceabilityCycle(
                    "溯源链成环，拒绝登记 / traceability cycle refused: "
                    + " → ".join(f"{n} (#{i})" for n, i in zip(names, ids, strict=True)),
                    field="reference_standard_id",
                    standards=ids,
                )
        institution_id = raw.get("institution_id")
        if institution_id is None:
            institution_id = ref.holder_id if ref is not None else None
        elif (
            isinstance(institution_id, bool)
            or not isinstance(institution_id, int)
            or s.get(Organisation, institution_id) is None
        ):
            raise InvalidInput(
                f"校准机构 {institution_id} 不存在 / institution {institution_id} not found",
                field="institution_id",
            )
        cal = StandardCalibration(
            standard_id=std.id,
            reference_standard_id=None if ref is None else ref.id,
            institution_id=institution_id,
            certificate_no=certificate,
            calibrated_on=calibrated_on,
            valid_until=valid_until,
            expanded_uncertainty=u,
            coverage_factor=k,
            unit=unit,
            tolerance=tolerance,
            in_tolerance=in_tolerance,
            remarks=optional_text(raw.get("remarks"), "remarks", 2000),
            recorded_at=platform.now(),
            **anchor,
        )
        s.add(cal)
        s.flush()
    return cal


# ----------------------------------------------------------------------------------------------
# loading the graph


@dataclass
class Loaded:
    graph: TraceabilityGraph
    ids: np.ndarray  # standard position -> id
    index: dict[int, int]  # standard id -> position
    names: dict[int, str]
    calibrations: list[StandardCalibration]
    units: dict[str, int]
    use_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


def _unit_code(units: dict[str, int], key: str) -> int:
    return units.setdefault(key, len(units))


def _load(session: Session, uses: Sequence[Any] | None) -> Loaded:
    """Every standard and calibration (upstream chains cross jurisdictions), and the given uses.

    ``uses`` are rows of (record id, standard id, verified_on, accuracy class).
    """
    stds = session.execute(
        select(
            MeasurementStandard.id,
            MeasurementStandard.name,
            MeasurementStandard.certificate_valid_from,
            MeasurementStandard.certificate_valid_until,
        ).order_by(MeasurementStandard.id)
    ).all()
    ids = np.array([r.id for r in stds], dtype=np.int64)
    index = {int(i): n for n, i in enumerate(ids)}
    cals = list(session.scalars(select(StandardCalibration).order_by(StandardCalibration.id)))
    units: dict[str, int] = {}
    cal_u, cal_unit, cal_tol = [], [], []
    for c in cals:
        value, key = normalise(c.expanded_uncertainty / c.coverage_factor, c.unit)
        cal_u.append(value)
        cal_unit.append(_unit_code(units, key))
        cal_tol.append(np.nan if c.tolerance is None else normalise(c.tolerance, c.unit)[0])
    use_rows = uses or []
    tol_cache: dict[str, tuple[float, int]] = {}
    use_tol, use_unit = [], []
    for r in use_rows:
        acc = r[3] or ""
        if acc not in tol_cache:
            parsed = tolerance_from_accuracy(acc)
            entry = (np.nan, -1)
            if parsed is not None:
                try:
                    value, key = normalise(parsed[0], parsed[1])
                    entry = (value, _unit_code(units, key))
                except InvalidInput:
                    pass
            tol_cache[acc] = entry
        use_tol.append(tol_cache[acc][0])
        use_unit.append(tol_cache[acc][1])
    graph = TraceabilityGraph.build(
        approval_from=[r.certificate_valid_from.toordinal() for r in stds],
        approval_until=[r.certificate_valid_until.toordinal() for r in stds],
        cal_standard=[index[c.standard_id] for c in cals],
        cal_reference=[
            -1 if c.reference_standard_id is None else index[c.reference_standard_id] for c in cals
        ],
        cal_on=[c.calibrated_on.toordinal() for c in cals],
        cal_until=[c.valid_until.toordinal() for c in cals],
        cal_u=cal_u,
        cal_unit=cal_unit,
        cal_tolerance=cal_tol,
        cal_in_tolerance=[c.in_tolerance for c in cals],
        use_standard=[-1 if r[1] is None else index[r[1]] for r in use_rows],
        use_on=[r[2].toordinal() for r in use_rows],
        use_tolerance=use_tol,
        use_unit=use_unit,
    )
    return Loaded(
        graph=graph,
        ids=ids,
        index=index,
        names={int(r.id): r.name for r in stds},
        calibrations=cals,
        units=units,
        use_ids=np.array([r[0] for r in use_rows], dtype=np.int64),
    )


# ----------------------------------------------------------------------------------------------
# chains


@dataclass(frozen=True)
class Link:
    """One link of a chain, from the item up: what was calibrated, with what, when, and whether valid."""

    level: int
    kind: str  # "verification", "calibration" or "anchor"
    item: str  # the instrument or standard calibrated
    standard_id: int | None  # the standard used (None for an anchor)
    standard_name: str
    calibration_id: int | None  # the calibration of the standard in force on that date
    certificate_no: str
    on: date
    valid_until: date | None
    status: str
    reason: str
    uncertainty: float | None  # the link's standard uncertainty (k = 1), in ``unit``
    unit: str
    tur: float | None
    anchor: str = ""


@dataclass(frozen=True)
class Chain:
    subject: str
    status: str
    reason: str
    first_broken_level: int | None
    broken_standard_id: int | None
    depth: int
    uncertainty: float | None  # propagated (k = 1), relative when unit is "1"
    unit: str
    min_tur: float | None
    tur_warning: bool
    suspect: bool
    links: list[Link]


def _f(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def _unit_name(units: dict[str, int], code: int) -> str:
    return next((k for k, v in units.items() if v == code), "")


def _calibration_links(loaded: Loaded, start: int, first_level: int, max_depth: int) -> list[Link]:
    g = loaded.graph
    chain = g.chain_of_calibration(start, max_depth)
    status = g.calibration_chains(max_depth)
    out = []
    for n, ci in enumerate(chain):
        c = loaded.calibrations[ci]
        code = LinkStatus(int(g.cal_link[g.rank[ci]]))
        out.append(
            Link(
                level=first_level + n,
                kind="anchor" if c.reference_standard_id is None else "calibration",
                item=loaded.names[c.standard_id],
                standard_id=c.reference_standard_id,
                standard_name=""
                if c.reference_standard_id is None
                else loaded.names[c.reference_standard_id],
                calibration_id=c.id,
                certificate_no=c.certificate_no,
                on=c.calibrated_on,
                valid_until=c.valid_until,
                status=code.name.lower(),
                reason=code.reason,
                uncertainty=float(g.cal_u[ci]),
                unit=_unit_name(loaded.units, int(g.cal_unit[ci])),
                tur=_f(float(status.tur[ci])),
                anchor=" · ".join(x for x in (c.anchor_name, c.anchor_nmi, c.anchor_cmc_ref) if x),
            )
        )
    return out


def _chain(loaded: Loaded, subject: str, res: Any, i: int, links: list[Link], minimum: float) -> Chain:
    code = LinkStatus(int(res.status[i]))
    level = int(res.first_broken_level[i])
    broken = int(res.broken_standard[i])
    return Chain(
        subject=subject,
        status=code.name.lower(),
        reason=code.reason,
        first_broken_level=None if level < 0 else level,
        broken_standard_id=None if broken < 0 else int(loaded.ids[broken]),
        depth=int(res.depth[i]),
        uncertainty=_f(float(res.u[i])),
        unit=_unit_name(loaded.units, int(res.unit[i])),
        min_tur=_f(float(res.min_tur[i])),
        tur_warning=bool(res.min_tur[i] < minimum) if math.isfinite(res.min_tur[i]) else False,
        suspect=bool(res.suspect[i]),
        links=links,
    )


def _settings(platform: Platform) -> tuple[float, int]:
    return platform.settings.min_test_uncertainty_ratio, platform.settings.traceability_max_depth


def standard_chain(
    platform: Platform, principal: Principal, standard_id: int, on: object = None, *, upstream: bool = False
) -> Chain:
    """The chain of a standard through its calibration in force on ``on`` (default today).

    ``upstream`` also admits a standard above the caller's scope (see ``_visible_standard``).
    """
    day = platform.local_today() if on in (None, "") else parse_date(on, "on")
    minimum, depth = _settings(platform)
    with platform.reading() as s:
        std = _visible_standard(s, principal, standard_id, upstream=upstream)
        loaded = _load(s, uses=[(0, std.id, day, "")])
    res = loaded.graph.use_chains(depth)
    g = loaded.graph
    cal = g.in_force(loaded.index[std.id], day.toordinal())
    code = LinkStatus(int(g.use_link[0]))
    # Level 0 is the standard as used on that day: valid when its calibration in force (level 1) and
    # its approval certificate are.
    links = [
        Link(
            level=0,
            kind="in_use",
            item=std.name,
            standard_id=std.id,
            standard_name=std.name,
            calibration_id=None if cal < 0 else loaded.calibrations[cal].id,
            certificate_no=std.certificate_no,
            on=day,
            valid_until=std.certificate_valid_until,
            status=code.name.lower(),
            reason=code.reason,
            uncertainty=None,
            unit="",
            tur=None,
        )
    ]
    if cal >= 0:
        links += _calibration_links(loaded, cal, 1, depth - 1)
    return _chain(loaded, std.name, res, 0, links, minimum)


def instrument_chain(
    platform: Platform, principal: Principal, instrument_id: int, on: object = None
) -> Chain:
    """The chain of an instrument through its verification record in force on ``on`` (default: latest)."""
    minimum, depth = _settings(platform)
    with platform.reading() as s:
        inst = s.scalars(
            scope.instruments(select(Instrument).where(Instrument.id == instrument_id), principal)
        ).first()
        if inst is None:
            raise not_found("instrument", instrument_id)
        stmt = select(VerificationRecord).where(
            VerificationRecord.instrument_id == inst.id, VerificationRecord.superseded.is_(False)
        )
        if on not in (None, ""):
            stmt = stmt.where(VerificationRecord.verified_on <= parse_date(on, "on"))
        rec = s.scalars(
            stmt.order_by(VerificationRecord.verified_on.desc(), VerificationRecord.id.desc())
        ).first()
        if rec is None:
            raise InvalidInput(
                f"器具 {instrument_id} 没有检定记录，无溯源链 / instrument {instrument_id} has no "
                "verification record, hence no chain",
                field="instrument_id",
            )
        loaded = _load(s, uses=[(rec.id, rec.standard_id, rec.verified_on, inst.accuracy_class)])
    g = loaded.graph
    res = g.use_chains(depth)
    code = LinkStatus(int(g.use_link[0]))
    cal = int(g.order[g.use_cal[0]]) if g.use_cal[0] >= 0 else -1
    first = Link(
        level=0,
        kind="verification",
        item=f"{inst.name} {inst.serial_number}",
        standard_id=rec.standard_id,
        standard_name="" if rec.standard_id is None else loaded.names[rec.standard_id],
        calibration_id=None if cal < 0 else loaded.calibrations[cal].id,
        certificate_no=rec.document_no,
        on=rec.verified_on,
        valid_until=rec.due_on,
        status=code.name.lower(),
        reason=code.reason,
        uncertainty=None,
        unit="",
        tur=_f(float(res.tur[0])),
    )
    links = [first] + (_calibration_links(loaded, cal, 1, depth - 1) if cal >= 0 else [])
    return _chain(loaded, first.item, res, 0, links, minimum)


# ----------------------------------------------------------------------------------------------
# broken chains


@dataclass(frozen=True)
class BrokenItem:
    instrument_id: int
    serial_number: str
    region_code: str
    institution_id: int
    record_id: int
    document_no: str
    verified_on: date
    standard_id: int | None
    status: str
    reason: str
    first_broken_level: int
    broken_standard_id: int | None


@dataclass(frozen=True)
class BrokenGroup:
    region_code: str
    institution_id: int
    institution: str
    checked: int
    broken: int
    unrecorded: int
    tur_warnings: int
    by_reason: dict[str, int]


@dataclass(frozen=True)
class BrokenReport:
    as_of: date
    checked: int
    broken: int  # chains broken or expired (a standard was recorded)
    unrecorded: int  # verifications that name no standard: their traceability cannot be shown
    tur_warnings: int
    groups: list[BrokenGroup]
    items: list[BrokenItem]  # up to ``limit``
    standards: list[Chain]  # standards in scope whose chain is broken today


def broken_chains(
    platform: Platform,
    principal: Principal,
    *,
    region_code: str | None = None,
    institution_id: int | None = None,
    limit: int = 200,
) -> BrokenReport:
    """Instruments in service whose current verification does not trace to an anchor, by region and institution."""
    require_role(principal, Role.SUPERVISOR, Role.INSTITUTION)
    if not 1 <= limit <= platform.settings.page_size_max:
        raise InvalidInput(
            f"limit 必须在 1–{platform.settings.page_size_max} 之间 / limit out of range", field="limit"
        )
    minimum, depth = _settings(platform)
    r = VerificationRecord
    stmt: Select[Any] = (
        _select(
            r.id,
            r.standard_id,
            r.verified_on,
            Instrument.accuracy_class,
            Instrument.id.label("iid"),
            Instrument.serial_number,
            Instrument.region_code,
            r.institution_id,
            r.document_no,
        )
        .join(Instrument, Instrument.id == r.instrument_id)
        .where(r.superseded.is_(False), r.effective_until.is_(None), Instrument.status == "in_service")
        .order_by(r.id)
    )
    stmt = scope.verification_records(stmt, principal)
    if region_code:
        stmt = stmt.where(scope.within(Instrument.region_code, region_code))
    if institution_id is not None:
        stmt = stmt.where(r.institution_id == institution_id)
    with platform.reading() as s:
        rows = s.execute(stmt).all()
        loaded = _load(s, uses=rows)
        orgs = {r_.id: r_.name for r_ in s.execute(select(Organisation.id, Organisation.name))}
        std_rows = s.execute(
            scope.standards(_select(MeasurementStandard.id, MeasurementStandard.name), principal).where(
                MeasurementStandard.active.is_(True)
            )
        ).all()
    res = loaded.graph.use_chains(depth)
    warn = res.tur_warnings(minimum)
    groups: dict[tuple[str, int], list[Any]] = {}
    items: list[BrokenItem] = []
    for n, row in enumerate(rows):
        key = (row.region_code, row.institution_id)
        acc = groups.setdefault(key, [0, 0, 0, 0, Counter()])
        acc[0] += 1
        acc[3] += int(warn[n])
        if res.status[n] != 0:
            code = LinkStatus(int(res.status[n]))
            acc[1 if code is not LinkStatus.NO_STANDARD else 2] += 1
            acc[4][code.name.lower()] += 1
            if len(items) < limit and code is not LinkStatus.NO_STANDARD:
                b = int(res.broken_standard[n])
                items.append(
                    BrokenItem(
                        instrument_id=row.iid,
                        serial_number=row.serial_number,
                        region_code=row.region_code,
                        institution_id=row.institution_id,
                        record_id=row.id,
                        document_no=row.document_no,
                        verified_on=row.verified_on,
                        standard_id=row.standard_id,
                        status=code.name.lower(),
                        reason=code.reason,
                        first_broken_level=int(res.first_broken_level[n]),
                        broken_standard_id=None if b < 0 else int(loaded.ids[b]),
                    )
                )
    # Standards of the caller's scope, checked as if used today.
    today = platform.local_today().toordinal()
    g = loaded.graph
    std_idx = np.array([loaded.index[r_.id] for r_ in std_rows], dtype=np.int64)
    probe = TraceabilityGraph.build(
        approval_from=g.approval_from,
        approval_until=g.approval_until,
        cal_standard=g.cal_standard,
        cal_reference=g.cal_reference,
        cal_on=g.cal_on,
        cal_until=g.cal_until,
        cal_u=g.cal_u,
        cal_unit=g.cal_unit,
        cal_tolerance=g.cal_tolerance,
        cal_in_tolerance=g.cal_in_tolerance,
        use_standard=std_idx,
        use_on=np.full(std_idx.size, today, dtype=np.int64),
    )
    sres = probe.use_chains(depth)
    std_chains = [
        _chain(loaded, std_rows[n].name, sres, n, [], minimum)
        for n in np.nonzero(sres.status != 0)[0].tolist()
    ]
    out_groups = [
        BrokenGroup(reg, inst, orgs.get(inst, ""), v[0], v[1], v[2], v[3], dict(v[4]))
        for (reg, inst), v in sorted(groups.items())
    ]
    return BrokenReport(
        as_of=platform.local_today(),
        checked=len(rows),
        broken=int(((res.status != 0) & (res.status != LinkStatus.NO_STANDARD)).sum()),
        unrecorded=int((res.status == LinkStatus.NO_STANDARD).sum()),
        tur_warnings=int(warn.sum()),
        groups=out_groups,
        items=items,
        standards=std_chains,
    )


# ----------------------------------------------------------------------------------------------
# impact analysis


@dataclass(frozen=True)
class RecalledRecord:
    record_id: int
    document_no: str
    instrument_id: int
    serial_number: str
    owner_id: int
    region_code: str
    institution_id: int
    standard_id: int | None
    verified_on: date
    conclusion: str


@dataclass(frozen=True)
class RecalledCalibration:
    calibration_id: int
    certificate_no: str
    standard_id: int
    standard_name: str
    reference_standard_id: int | None
    calibrated_on: date


@dataclass(frozen=True)
class ImpactReport:
    standard_id: int
    standard_name: str
    on: date
    reason: str
    since: date | None
    calibrations: list[RecalledCalibration]  # made with the standard or, transitively, downstream
    standards: list[int]  # standards downstream
    records: list[RecalledRecord]  # in the caller's scope
    instruments: list[int]  # distinct, in the caller's scope
    records_total: int  # all records to recall, including those outside the caller's scope
    instruments_total: int


def impact(
    platform: Platform,
    principal: Principal,
    standard_id: int,
    *,
    on: object,
    reason: object = ImpactReason.OUT_OF_TOLERANCE.value,
    since: object = None,
    upstream: bool = False,
) -> ImpactReport:
    """Everything to recall when a standard is found out of tolerance (or its certificate lapses) on ``on``.

    ``upstream`` also admits a standard above the caller's scope; the downstream calibrations and
    standards listed are then only those in the caller's scope, like the records (the totals count all).
    """
    require_role(principal, Role.SUPERVISOR, Role.INSTITUTION)
    day = parse_date(on, "on")
    try:
        why = ImpactReason(str(reason))
    except ValueError:
        allowed = ", ".join(x.value for x in ImpactReason)
        raise InvalidInput(f"原因无效 / reason must be one of: {allowed}", field="reason") from None
    start = None if since in (None, "") else parse_date(since, "since")
    if start is not None and start > day:
        raise InvalidInput("since 晚于 on / since is after on", field="since")
    r = VerificationRecord
    with platform.reading() as s:
        std = _visible_standard(s, principal, standard_id, upstream=upstream)
        mine = _in_scope(s, principal) if upstream else None
        rows = s.execute(
            select(r.id, r.standard_id, r.verified_on, Instrument.accuracy_class)
            .join(Instrument, Instrument.id == r.instrument_id)
            .where(r.superseded.is_(False), r.standard_id.is_not(None))
            .order_by(r.id)
        ).all()
        loaded = _load(s, uses=rows)
        found = loaded.graph.impact(
            loaded.index[std.id], day.toordinal(), None if start is None else start.toordinal()
        )
        rec_ids = loaded.use_ids[found.uses].tolist()
        visible: list[Any] = []
        all_instruments: set[int] = set()
        for chunk in range(0, len(rec_ids), 5000):
            part = rec_ids[chunk : chunk + 5000]
            all_instruments.update(s.scalars(select(r.instrument_id).where(r.id.in_(part))).all())
            q: Select[Any] = (
                _select(
                    r.id,
                    r.document_no,
                    r.instrument_id,
                    Instrument.serial_number,
                    Instrument.owner_id,
                    Instrument.region_code,
                    r.institution_id,
                    r.standard_id,
                    r.verified_on,
                    r.conclusion,
                )
                .join(Instrument, Instrument.id == r.instrument_id)
                .where(r.id.in_(part))
            )
            visible.extend(s.execute(scope.verification_records(q, principal)).all())
    cals = []
    for ci in found.calibrations.tolist():
        c = loaded.calibrations[ci]
        if c.reference_standard_id is None or c.standard_id == std.id:
            continue  # the standard's own calibrations are the window, not things to recall
        if mine is not None and c.standard_id not in mine:
            continue
        cals.append(
            RecalledCalibration(
                c.id,
                c.certificate_no,
                c.standard_id,
                loaded.names[c.standard_id],
                c.reference_standard_id,
                c.calibrated_on,
            )
        )
    records = sorted((RecalledRecord(*row) for row in visible), key=lambda x: (x.verified_on, x.record_id))
    return ImpactReport(
        standard_id=std.id,
        standard_name=std.name,
        on=day,
        reason=why.value,
        since=None if found.since is None else date.fromordinal(found.since),
        calibrations=sorted(cals, key=lambda c: (c.calibrated_on, c.calibration_id)),
        standards=sorted(
            int(loaded.ids[i]) for i in found.standards.tolist() if mine is None or int(loaded.ids[i]) in mine
        ),
        records=records,
        instruments=sorted({x.instrument_id for x in records}),
        records_total=len(rec_ids),
        instruments_total=len(all_instruments),
    )


IMPACT_COLUMNS = (
    "kind",
    "id",
    "document_no",
    "date",
    "instrument_id",
    "serial_number",
    "owner_id",
    "region_code",
    "institution_id",
    "standard_id",
    "conclusion",
)


def impact_csv(report: ImpactReport) -> str:
    """The recall list as CSV (UTF-8 with BOM so that spreadsheet programs read the Chinese correctly)."""
    buf = io.StringIO()
    buf.write("\ufeff")
    writer = csv.writer(buf)

    def put(row: list[Any]) -> None:  # every cell neutralised against formula injection
        writer.writerow([neutralise(v) for v in row])

    put(list(IMPACT_COLUMNS))
    for c in report.calibrations:
        put(
            [
                "calibration",
                c.calibration_id,
                c.certificate_no,
                c.calibrated_on.isoformat(),
                "",
                "",
                "",
                "",
                "",
                c.standard_id,
                "",
            ]
        )
    for x in report.records:
        put(
            [
                "verification",
                x.record_id,
                x.document_no,
                x.verified_on.isoformat(),
                x.instrument_id,
                x.serial_number,
                x.owner_id,
                x.region_code,
                x.institution_id,
                x.standard_id or "",
                x.conclusion,
            ]
        )
    return buf.getvalue()


def list_calibrations(
    platform: Platform, principal: Principal, standard_id: int, *, upstream: bool = False
) -> list[StandardCalibration]:
    """The calibrations of a visible standard (or, with ``upstream``, one above), oldest first."""
    with platform.reading() as s:
        std = _visible_standard(s, principal, standard_id, upstream=upstream)
        return list(
            s.scalars(
                select(StandardCalibration)
                .where(and_(StandardCalibration.standard_id == std.id))
                .order_by(StandardCalibration.calibrated_on, StandardCalibration.id)
            )
        )


def _in_scope(s: Session, principal: Principal) -> set[int]:
    return set(s.scalars(scope.standards(select(MeasurementStandard.id), principal)))


def _visible_standard(
    s: Session, principal: Principal, standard_id: int, *, upstream: bool = False
) -> MeasurementStandard:
    """A standard in the caller's scope, or with ``upstream`` one that calibrated (through others) one in it.

    The upstream standards are those a chain in the caller's scope shows anyway (module docstring); the
    public console opens their pages so that a provincial standard found out of tolerance can be analysed
    for what the demo city must recall.
    """
    std: MeasurementStandard | None = s.scalars(
        scope.standards(select(MeasurementStandard).where(MeasurementStandard.id == standard_id), principal)
    ).first()
    if std is None and upstream:
        std = s.get(MeasurementStandard, standard_id)
        if std is not None and not _calibrated_into_scope(s, principal, std.id):
            std = None
    if std is None:
        raise not_found("standard", standard_id)
    return std


def _calibrated_into_scope(s: Session, principal: Principal, standard_id: int) -> bool:
    """Whether some standard in the caller's scope was ever calibrated, directly or not, with this one."""
    below: dict[int, set[int]] = {}
    for std, ref in s.execute(
        select(StandardCalibration.standard_id, StandardCalibration.reference_standard_id).where(
            StandardCalibration.reference_standard_id.is_not(None)
        )
    ):
        if ref is not None:
            below.setdefault(ref, set()).add(std)
    mine = _in_scope(s, principal)
    seen, todo = {standard_id}, [standard_id]
    while todo:
        for child in below.get(todo.pop(), ()):
            if child in mine:
                return True
            if child not in seen:
                seen.add(child)
                todo.append(child)
    return False
