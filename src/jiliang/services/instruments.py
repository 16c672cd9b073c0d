"""Filing, finding and retiring measuring instruments (计量器具备案)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jiliang.domain.access import Principal, Role
from jiliang.domain.catalogue import is_compulsory
from jiliang.domain.filing import SERIAL_NEEDS_REVIEW, InstrumentDraft, parse_instrument
from jiliang.domain.instruments import InstrumentStatus, not_in_future, parse_date
from jiliang.domain.regions import in_jurisdiction
from jiliang.errors import Conflict, InvalidInput, NotAuthorised
from jiliang.services import catalogue as catalogue_service
from jiliang.services import scope
from jiliang.services.common import Page, not_found, one_visible, paginate, require_role
from jiliang.services.platform import Platform
from jiliang.store.models import Instrument, Organisation, Region


def resolve_owner(session: Session, principal: Principal, owner_id: object) -> int:
    """An enterprise files only for itself; others file for an owner inside their jurisdiction."""
    if principal.role is Role.ENTERPRISE:
        if owner_id not in (None, "", principal.organisation_id):
            raise NotAuthorised(
                "企业只能为本单位备案 / an enterprise files only its own instruments", field="owner_id"
            )
        if principal.organisation_id is None:
            raise NotAuthorised("账户未关联单位 / the account has no organisation", field="owner_id")
        return principal.organisation_id
    try:
        oid = int(owner_id)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise InvalidInput(
            "owner_id 必须是单位编号 / owner_id must be an organisation id", field="owner_id"
        ) from None
    org = session.scalars(
        scope.organisations(select(Organisation).where(Organisation.id == oid), principal)
    ).first()
    if org is None:
        raise InvalidInput(f"使用单位 {oid} 不存在 / owner {oid} not found", field="owner_id")
    return int(org.id)


def new_instrument_row(draft: InstrumentDraft, owner_id: int, compulsory: bool) -> dict[str, Any]:
    row = asdict(draft)
    row["use"] = draft.use.value
    row.update(
        owner_id=owner_id,
        status=InstrumentStatus.IN_SERVICE.value,
        status_since=draft.filed_on,
        compulsory=compulsory,
        row_version=1,
    )
    return row




def file_instrument(platform: Platform, principal: Principal, raw: dict[str, Any]) -> Instrument:
    require_role(principal, Role.SUPERVISOR, Role.ENTERPRISE)
    items = catalogue_service.catalogue(platform)
    draft = parse_instrument(raw, items, platform.local_today())  # dates as typed (Asia/Shanghai)
    if principal.role is not Role.ENTERPRISE and not in_jurisdiction(
        draft.region_code, principal.jurisdiction
    ):
        raise not_found("region", draft.region_code)
    with platform.unit_of_work(principal) as s:
        owner_id = resolve_owner(s, principal, raw.get("owner_id"))
        if s.get(Region, draft.region_code) is None:
            raise InvalidInput(f"行政区划 {draft.region_code} 不存在 / region not found", field="region_code")
        dup = s.scalar(
            select(Instrument.id).where(
                Instrument.manufacturer == draft.manufacturer,
                Instrument.model == draft.model,
                Instrument.serial_number == draft.serial_number,
            )
        )
        if dup is not None:
            if s.scalar(_visible(principal, dup)) is None:
                # Filed outside the caller's jurisdiction: keep the rule, say nothing about where (docs/security.md).
                raise Conflict(SERIAL_NEEDS_REVIEW, field="serial_number")
            raise Conflict(
                f"同一制造商、型号下出厂编号 {draft.serial_number} 已备案 / serial number already filed for this "
                "manufacturer and model",
                field="serial_number",
            )
        item = items[draft.item_code]
        inst = Instrument(
            **new_instrument_row(draft, owner_id, is_compulsory(item, draft.use, item.effective_from))
        )
        s.add(inst)
    return inst


def _visible(principal: Principal, instrument_id: int) -> Any:
    return scope.instruments(select(Instrument).where(Instrument.id == instrument_id), principal)


def get_instrument(platform: Platform, principal: Principal, instrument_id: int) -> Instrument:
    with platform.reading() as s:
        return one_visible(s, _visible(principal, instrument_id), "instrument", instrument_id)  # type: ignore[no-any-return]


FILTERS = (
    "region_code",
    "item_code",
    "owner_id",
    "status",
    "use",
    "serial_number",
    "manufacturer",
    "compulsory",
    "due_before",
    "overdue_on",
    "q",
)


def instrument_query(principal: Principal, filters: dict[str, Any], grace_days: int = 0) -> Any:
    stmt = scope.instruments(select(Instrument), principal)
    unknown = set(filters) - set(FILTERS)
    if unknown:
        raise InvalidInput(f"未知的筛选条件 / unknown filter: {sorted(unknown)[0]}", field=sorted(unknown)[0])
    f = {k: v for k, v in filters.items() if v not in (None, "")}
    if "region_code" in f:
        stmt = stmt.where(scope.within(Instrument.region_code, f["region_code"]))
    for key in ("item_code", "status", "use", "serial_number", "manufacturer"):
        if key in f:
            stmt = stmt.where(getattr(Instrument, key) == str(f[key]))
    if "owner_id" in f:
        stmt = stmt.where(Instrument.owner_id == int(f["owner_id"]))
    if "compulsory" in f:
        stmt = stmt.where(Instrument.compulsory == bool(f["compulsory"]))
    if "due_before" in f:
        stmt = stmt.where(Instrument.due_on < parse_date(f["due_before"], "due_before"))
    if "overdue_on" in f:
        # the same rule as the overdue indicator (docs/indicators.md), on the current state
        on = parse_date(f["overdue_on"], "overdue_on")
        cutoff = on - timedelta(days=grace_days)
        stmt = stmt.where(
            Instrument.status == InstrumentStatus.IN_SERVICE.value,
            Instrument.compulsory,
            Instrument.filed_on <= on,
            (Instrument.valid_until.is_(None)) | (Instrument.valid_until <= cutoff),
        )
    if "q" in f:
        stmt = stmt.where(Instrument.name.contains(str(f["q"])))
    return stmt.order_by(Instrument.id)


def list_instruments(
    platform: Platform, principal: Principal, filters: dict[str, Any], offset: int = 0, limit: int = 50
) -> Page[Instrument]:
    stmt = instrument_query(principal, filters, platform.settings.coverage.grace_days)
    with platform.reading() as s:
        return paginate(s, stmt, offset, limit, platform.settings.page_size_max)


UPDATABLE = {"name", "model", "measuring_range", "accuracy_class", "pattern_approval_no", "location", "use"}


def update_instrument(
    platform: Platform,
    principal: Principal,
    instrument_id: int,
    changes: dict[str, Any],
    expected_version: int | None = None,
) -> Instrument:
    require_role(principal, Role.SUPERVISOR, Role.ENTERPRISE)
    unknown = set(changes) - UPDATABLE
    if unknown:
        key = sorted(unknown)[0]
        raise InvalidInput(
            f"字段 {key} 不可修改（请重新备案或记录检定）/ field {key} cannot be changed here", field=key
        )
    items = catalogue_service.catalogue(platform)
    with platform.unit_of_work(principal) as s:
        inst = one_visible(s, _visible(principal, instrument_id), "instrument", instrument_id)
        if expected_version is not None and inst.row_version != expected_version:
            raise Conflict("记录已被他人修改 / the instrument changed since you read it", field="row_version")
        merged = {
            c: getattr(inst, c)
            for c in (
                "name",
                "item_code",
                "model",
                "serial_number",
                "manufacturer",
                "region_code",
                "use",
                "filed_on",
                "measuring_range",
                "accuracy_class",
                "pattern_approval_no",
                "nominal_size",
                "location",
                "first_used_on",
            )
        }
        merged.update(changes)
        draft = parse_instrument(merged, items, platform.local_today())
        for key in changes:
            value = getattr(draft, key)
            setattr(inst, key, value.value if key == "use" else value)
        item = items[inst.item_code]
        inst.compulsory = is_compulsory(item, draft.use, item.effective_from)
        inst.row_version += 1
    return inst  # type: ignore[no-any-return]


def change_status(
    platform: Platform, principal: Principal, instrument_id: int, status: str, on: object = None
) -> Instrument:
    """Suspend, return to service or scrap; scrapping is final."""
    require_role(principal, Role.SUPERVISOR, Role.ENTERPRISE)
    try:
        new = InstrumentStatus(status)
    except ValueError:
        raise InvalidInput(
            f"状态 {status!r} 无效 / status must be in_service, suspended or scrapped", field="status"
        ) from None
    when = (
        platform.local_today()
        if on in (None, "")
        else not_in_future(parse_date(on, "on"), platform.local_today(), "on")
    )
    with platform.unit_of_work(principal) as s:
        inst = one_visible(s, _visible(principal, instrument_id), "instrument", instrument_id)
        set_status_in(inst, new, when)
    return inst  # type: ignore[no-any-return]


def set_status_in(inst: Instrument, new: InstrumentStatus, when: date) -> None:
    """The status change itself, inside the caller's unit of work (a warning's disposal takes an
    instrument out of service in the same transaction as the disposal); audited and tallied like any."""
    if inst.status == InstrumentStatus.SCRAPPED.value and new is not InstrumentStatus.SCRAPPED:
        raise Conflict("已报废的器具不能恢复 / a scrapped instrument cannot return", field="status")
    if new is InstrumentStatus.IN_SERVICE and inst.compulsory and inst.last_conclusion == "fail":
        raise Conflict(
            "检定不合格的器具须重新检定合格后方可使用 / a failed instrument returns to service "
            "only by passing a verification",
            field="status",
        )
    if when < inst.status_since:
        raise InvalidInput("状态日期早于上次变更 / date precedes the last status change", field="on")
    inst.status, inst.status_since = new.value, when
    inst.row_version += 1
