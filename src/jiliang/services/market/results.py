"""Inspection results per target and net-content inspections, each feeding the credit record.

A result lists the instruments checked with their measured errors against their maximum permissible
errors (``passed`` is computed here, |error| ≤ MPE, never taken from the caller), the findings and the
conclusion; it is a transparency-log leaf (the findings as their SHA-256) and a credit event. A
net-content inspection runs ``legal.net_content.inspect`` and stores the report as computed."""

from __future__ import annotations

import hashlib
import math
from datetime import date
from typing import Any

from sqlalchemy import select

from jiliang.domain.access import Principal
from jiliang.errors import Conflict, InvalidInput
from jiliang.legal import credit as rules
from jiliang.legal import net_content
from jiliang.services import scope, transparency
from jiliang.services.common import not_found
from jiliang.services.market import credit, photos
from jiliang.services.market.common import now, require_region, require_supervisor, visible_organisation
from jiliang.services.platform import Platform
from jiliang.store.models import (
    Instrument,
    MarketPlan,
    MarketResult,
    MarketTarget,
    NetContentInspection,
    Organisation,
)

MAX_INSTRUMENTS = 200  # instruments in one result (a market's scales fit; more is a second result)
CONCLUSIONS = ("pass", "rectify", "fail")  # 合格 / 限期整改 / 不合格


def _number(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise InvalidInput(f"{field} 须为数 / {field} must be a number", field=field)
    try:
        x = float(value)
    except ValueError:
        raise InvalidInput(f"{field} 须为数：{value!r} / {field} must be a number", field=field) from None
    if not math.isfinite(x):
        raise InvalidInput(f"{field} 须为有限数 / {field} must be finite", field=field)
    return x


def _instruments(session: Any, organisation_id: int, items: Any) -> list[dict[str, Any]]:
    if not isinstance(items, list):
        raise InvalidInput("instruments 须为列表 / instruments must be a list", field="instruments")
    if len(items) > MAX_INSTRUMENTS:
        raise InvalidInput(
            f"一条结果最多 {MAX_INSTRUMENTS} 台器具 / at most {MAX_INSTRUMENTS} instruments in one result",
            field="instruments",
        )
    out = []
    for i, item in enumerate(items):
        where = f"instruments[{i}]"
        if not isinstance(item, dict):
            raise InvalidInput(f"{where} 须为对象 / {where} must be an object", field=where)
        error = _number(item.get("measured_error"), f"{where}.measured_error")
        mpe = _number(item.get("mpe"), f"{where}.mpe")
        if mpe <= 0:
            raise InvalidInput(f"{where}.mpe 须为正 / {where}.mpe must be positive", field=f"{where}.mpe")
        unit = str(item.get("unit", "")).strip()[:20]
        instrument_id = item.get("instrument_id")
        if instrument_id is not None:
            row = session.get(Instrument, instrument_id)
            if row is None or row.owner_id != organisation_id:
                raise InvalidInput(
                    f"{where}: 器具 {instrument_id} 不属于被检单位 / instrument {instrument_id} is not the inspected"
                    " organisation's",
                    field=f"{where}.instrument_id",
                )
        out.append(
            {
                "instrument_id": instrument_id,
                "description": str(item.get("description", ""))[:200],
                "measured_error": error,
                "mpe": mpe,
                "unit": unit,
                "passed": abs(error) <= mpe,
            }
        )
    return out


def record_result(
    platform: Platform, principal: Principal, target_id: int, data: dict[str, Any]
) -> dict[str, Any]:
    """``inspected_on``, ``findings``, ``instruments`` [{instrument_id?, description, measured_error, mpe,
    unit}], ``conclusion`` (pass|rectify|fail), optional ``supersedes_id`` for a correction, optional
    ``photos`` [(file name, bytes)] (services/market/photos.py)."""
    require_supervisor(principal)
    attached = photos.check(platform, data.get("photos"))
    conclusion = data.get("conclusion")
    if conclusion not in CONCLUSIONS:
        raise InvalidInput(
            f"结论须为 {', '.join(CONCLUSIONS)} / conclusion must be one of {CONCLUSIONS}", field="conclusion"
        )
    try:
        inspected_on = date.fromisoformat(str(data.get("inspected_on")))
    except ValueError:
        raise InvalidInput("检查日期无效 / inspected_on is not a date", field="inspected_on") from None
    if inspected_on > platform.local_today():
        raise InvalidInput("检查日期晚于今天 / inspected_on is in the future", field="inspected_on")
    with platform.unit_of_work(principal) as s:
        target = s.get(MarketTarget, target_id)
        if target is None:
            raise not_found("抽查对象 target", target_id)
        plan = s.get(MarketPlan, target.plan_id)
        assert plan is not None
        require_region(principal, plan.region_code, "抽查对象 target", target_id)
        if plan.drawn_at is not None and inspected_on < platform.local_date(plan.drawn_at):
            raise InvalidInput("检查日期早于抽取日期 / inspected before the draw", field="inspected_on")
        instruments = _instruments(s, target.organisation_id, data.get("instruments", []))
        if conclusion == "pass" and any(not x["passed"] for x in instruments):
            raise InvalidInput(
                "有器具超出最大允许误差，结论不能为合格 / an instrument exceeds its MPE: the conclusion cannot be pass",
                field="conclusion",
            )
        supersedes = data.get("supersedes_id")
        if supersedes is not None:
            old = s.get(MarketResult, supersedes)
            if old is None or old.target_id != target_id:
                raise not_found("检查结果 result", supersedes)
            if s.scalar(select(MarketResult.id).where(MarketResult.supersedes_id == supersedes)) is not None:
                raise Conflict("该结果已被更正 / that result is already corrected", field="supersedes_id")
        elif s.scalar(select(MarketResult.id).where(MarketResult.target_id == target_id)) is not None:
            raise Conflict(
                "该对象已有结果；更正请给出 supersedes_id / the target has a result: correct it with "
                "supersedes_id",
                field="supersedes_id",
            )
        findings = str(data.get("findings", ""))[:5000]
        row = MarketResult(
            target_id=target_id,
            organisation_id=target.organisation_id,
            inspected_on=inspected_on,
            inspector_ids=list(target.inspector_ids),
            findings=findings,
            instruments=instruments,
            conclusion=conclusion,
            supersedes_id=supersedes,
            recorded_at=now(platform),
        )
        s.add(row)
        target.status = "done"
        s.flush()
        photos.store_in(s, platform, principal, row.id, attached)
        kind = (
            rules.EventKind.INSPECTION_PASSED if conclusion == "pass" else rules.EventKind.INSPECTION_FAILED
        )
        credit.add_event_in(
            s,
            platform,
            target.organisation_id,
            kind,
            inspected_on,
            source_type="market_result",
            source_id=str(row.id),
        )
        leaf: dict[str, Any] = {
            "result_id": row.id,
            "plan_id": plan.id,
            "target_id": target_id,
            "organisation_id": target.organisation_id,
            "inspected_on": inspected_on.isoformat(),
            "conclusion": conclusion,
            "instruments_checked": len(instruments),
            "instruments_failed": sum(1 for x in instruments if not x["passed"]),
            "findings_sha256": hashlib.sha256(findings.encode()).hexdigest(),
            "supersedes_id": supersedes,
        }
        if attached:
            # only with photos: a result without them keeps the leaf it always had, byte for byte
            leaf["photos_sha256"] = [p.sha256 for p in attached]
        transparency.enqueue(s, "market_result_recorded", leaf)
        out = result_dict(row)
        if attached:
            out["photos_sha256"] = [p.sha256 for p in attached]
        return out


def result_dict(row: MarketResult) -> dict[str, Any]:
    return {
        "id": row.id,
        "target_id": row.target_id,
        "organisation_id": row.organisation_id,
        "inspected_on": row.inspected_on.isoformat(),
        "inspector_ids": row.inspector_ids,
        "findings": row.findings,
        "instruments": row.instruments,
        "conclusion": row.conclusion,
        "supersedes_id": row.supersedes_id,
    }


def record_net_content(platform: Platform, principal: Principal, data: dict[str, Any]) -> dict[str, Any]:
    """Inspect one lot and store the report: ``organisation_id``, ``product``, ``ruleset`` (default: the
    Chinese rules in force on ``inspected_on``), ``nominal``, ``unit``, ``lot_size``, ``measurements``,
    optional ``measurement_unit``, ``tares``, ``method``, ``drained``, ``target_id``."""
    require_supervisor(principal)
    try:
        inspected_on = date.fromisoformat(str(data.get("inspected_on") or platform.local_today().isoformat()))
    except ValueError:
        raise InvalidInput("检验日期无效 / inspected_on is not a date", field="inspected_on") from None
    if inspected_on > platform.local_today():
        raise InvalidInput("检验日期晚于今天 / inspected_on is in the future", field="inspected_on")
    rs = (
        net_content.rule_set(str(data["ruleset"]))
        if data.get("ruleset")
        else net_content.rule_set_in_force(inspected_on)
    )
    lot = data.get("lot_size")
    if isinstance(lot, bool) or not isinstance(lot, int):
        raise InvalidInput("检验批量须为整数 / lot_size must be an integer", field="lot_size")
    report = net_content.inspect(
        ruleset=rs,
        nominal=data.get("nominal"),  # type: ignore[arg-type]
        unit=data.get("unit"),
        lot_size=lot,
        measurements=data.get("measurements") or [],
        measurement_unit=data.get("measurement_unit"),
        tares=data.get("tares"),
        method=data.get("method", "non_destructive"),
        drained=bool(data.get("drained", False)),
    )
    organisation_id = data.get("organisation_id")
    if not isinstance(organisation_id, int):
        raise InvalidInput("须给出被检单位 / organisation_id is required", field="organisation_id")
    with platform.unit_of_work(principal) as s:
        visible_organisation(s, principal, organisation_id)
        target_id = data.get("target_id")
        if target_id is not None:
            target = s.get(MarketTarget, target_id)
            if target is None or target.organisation_id != organisation_id:
                raise not_found("抽查对象 target", target_id)
        row = NetContentInspection(
            organisation_id=organisation_id,
            target_id=target_id,
            product=str(data.get("product", ""))[:200] or "—",
            ruleset=rs.id,
            nominal=report.nominal,
            unit=report.unit,
            lot_size=lot,
            verdict=report.verdict.value,
            report=report.as_dict(),
            inspected_on=inspected_on,
            recorded_at=now(platform),
        )
        s.add(row)
        s.flush()
        if report.verdict is not net_content.Verdict.SECOND_SAMPLE:
            kind = (
                rules.EventKind.NET_CONTENT_PASSED
                if report.verdict is net_content.Verdict.PASS
                else rules.EventKind.NET_CONTENT_FAILED
            )
            credit.add_event_in(
                s,
                platform,
                organisation_id,
                kind,
                inspected_on,
                source_type="net_content",
                source_id=str(row.id),
            )
        return net_content_dict(row)


def net_content_dict(row: NetContentInspection) -> dict[str, Any]:
    return {
        "id": row.id,
        "organisation_id": row.organisation_id,
        "target_id": row.target_id,
        "product": row.product,
        "ruleset": row.ruleset,
        "inspected_on": row.inspected_on.isoformat(),
        "verdict": row.verdict,
        "report": row.report,
    }


def get_net_content(platform: Platform, principal: Principal, inspection_id: int) -> dict[str, Any]:
    with platform.reading() as s:
        row = s.get(NetContentInspection, inspection_id)
        if row is None:
            raise not_found("净含量检验 inspection", inspection_id)
        visible_organisation(s, principal, row.organisation_id)
        return net_content_dict(row)


def list_net_content(platform: Platform, principal: Principal, limit: int = 100) -> list[dict[str, Any]]:
    """The latest net-content inspections of organisations in the caller's jurisdiction, with names."""
    require_supervisor(principal)
    with platform.reading() as s:
        visible = scope.organisations(select(Organisation.id), principal).scalar_subquery()
        rows = s.execute(
            select(NetContentInspection, Organisation.name)
            .join(Organisation, Organisation.id == NetContentInspection.organisation_id)
            .where(NetContentInspection.organisation_id.in_(visible))
            .order_by(NetContentInspection.id.desc())
            .limit(limit)
        ).all()
        return [{**net_content_dict(r), "organisation_name": name} for r, name in rows]


def target_of_result(platform: Platform, principal: Principal, result_id: int) -> int | None:
    """The target an inspection result belongs to, when the caller may see its plan (else None)."""
    require_supervisor(principal)
    with platform.reading() as s:
        row = s.execute(
            select(MarketResult.target_id, MarketPlan.region_code)
            .join(MarketTarget, MarketTarget.id == MarketResult.target_id)
            .join(MarketPlan, MarketPlan.id == MarketTarget.plan_id)
            .where(MarketResult.id == result_id)
        ).first()
        if row is None or not principal.sees_region(row.region_code):
            return None
        return int(row.target_id)
