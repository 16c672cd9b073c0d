"""State evaluation (状态评价) of the electricity meters in a supervisor's jurisdiction, read-only over the
registry, the verification records and the warnings: batches, per-batch decisions with their evidence, and
the replacement list (更换清单). The statistics are ``telemetry.state_evaluation``; this module only
gathers the numbers (docs/telemetry.md "State evaluation").

What the data give, and what was chosen:

- **Batch** (manufacturer, model, year): the registry has no manufacture date, so the year is the year the
  meter was put in use (``first_used_on``), or filed (``filed_on``) where that is missing.
- **Age** of a meter: years from that date. A meter's **failure** is its first failed verification record
  (conclusion ``fail``, not superseded) or its first warning confirmed at inspection (``confirmed``) or
  disposed as replaced or repaired, at the age of that date; every other meter is right-censored at its
  current age.
- **Sample**: every meter of the batch counts as observed (the registry and remote supervision see each),
  so the sample is the batch; the plan (n, c) says whether the batch is big enough to be accepted.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any, BinaryIO

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from jiliang.domain.access import Principal, Role
from jiliang.domain.spreadsheet import neutralise
from jiliang.errors import InvalidInput
from jiliang.services import scope
from jiliang.services.common import not_found, require_role
from jiliang.services.platform import Platform
from jiliang.services.supervision.labels import INSTRUMENT_STATUS
from jiliang.store.models import Instrument, TelemetryWarning, VerificationRecord
from jiliang.telemetry import state_evaluation as engine

ELECTRICITY_METER_ITEM = "20.01"  # 电能表 in the catalogue (SAMR 2020 No. 42)
# Provisional acceptance plan: AQL 1 %, LTPD 5 %, producer's risk 5 %, consumer's risk 10 % (the grid
# companies' scheme could not be read; see the engine's DecisionLimits).
AQL, LTPD = 0.01, 0.05
OC_POINTS = (0.0, 0.005, 0.01, 0.02, 0.03, 0.05, 0.08, 0.10, 0.15, 0.20)
DAYS_PER_YEAR = 365.25
MIN_AGE_YEARS = 1 / DAYS_PER_YEAR  # a meter failed or checked on its first day counts as one day old
DECISION_LABELS: dict[str, tuple[str, str]] = {
    "keep": ("继续运行", "keep running"),
    "sample_more": ("扩大抽样", "sample more"),
    "replace": ("整批更换", "replace the batch"),
}


@dataclass
class _Meter:
    id: int
    serial: str
    region_code: str
    location: str
    status: str
    since: date
    failed_on: date | None = None
    failure_source: str = ""


def _age(since: date, until: date) -> float:
    return max((until - since).days / DAYS_PER_YEAR, MIN_AGE_YEARS)


def _meters(
    s: Session, principal: Principal, key: tuple[str, str, int] | None
) -> dict[tuple[str, str, int], list[_Meter]]:
    stmt: Any = select(
        Instrument.id,
        Instrument.serial_number,
        Instrument.region_code,
        Instrument.location,
        Instrument.status,
        Instrument.manufacturer,
        Instrument.model,
        Instrument.first_used_on,
        Instrument.filed_on,
    ).where(Instrument.item_code == ELECTRICITY_METER_ITEM)
    if key is not None:
        stmt = stmt.where(Instrument.manufacturer == key[0], Instrument.model == key[1])
    stmt = scope.instruments(stmt, principal)
    batches: dict[tuple[str, str, int], list[_Meter]] = defaultdict(list)
    by_id: dict[int, _Meter] = {}
    # columns, not ORM objects: a city's meters in one light scan
    for iid, serial, region, location, status, manufacturer, model, used, filed in s.execute(
        stmt.order_by(Instrument.id)
    ):
        since = used or filed  # no manufacture date in the registry: the year put in use (module docstring)
        k = (manufacturer, model, since.year)
        if key is not None and k != key:
            continue
        meter = _Meter(iid, serial, region, location, status, since)
        batches[k].append(meter)
        by_id[iid] = meter
    ids = list(by_id)
    for chunk in (ids[i : i + 500] for i in range(0, len(ids), 500)):
        for iid, on in s.execute(
            select(VerificationRecord.instrument_id, VerificationRecord.verified_on).where(
                VerificationRecord.instrument_id.in_(chunk),
                VerificationRecord.conclusion == "fail",
                VerificationRecord.superseded.is_(False),
            )
        ):
            _fail(by_id[iid], on, "verification")
        for wid, inspected, disposed, raised in s.execute(
            select(
                TelemetryWarning.instrument_id,
                TelemetryWarning.inspected_at,
                TelemetryWarning.disposed_at,
                TelemetryWarning.raised_at,
            ).where(
                TelemetryWarning.instrument_id.in_(chunk),
                or_(TelemetryWarning.confirmed.is_(True), TelemetryWarning.disposal.in_(("replaced", "repaired"))),
            )
        ):
            if wid is not None:
                moment = inspected or disposed or raised
                _fail(by_id[wid], Platform.local_date(moment), "warning")
    return batches


def _fail(m: _Meter, on: date, source: str) -> None:
    if m.failed_on is None or on < m.failed_on:
        m.failed_on, m.failure_source = on, source


def _reasons_zh(decision: str, ev: dict[str, Any]) -> list[str]:
    """The engine's reasons in Chinese, rebuilt from the same evidence (the engine writes English)."""
    lo, hi = ev["bounds"]
    if "weibull" in ev:
        lo, hi = max(lo, ev["weibull"]["predicted_bounds"][0]), max(hi, ev["weibull"]["predicted_bounds"][1])
    plan, limits = ev["plan"], ev["limits"]
    if decision == "replace":
        out = []
        if lo > limits["replace"]:
            out.append(f"失效率下限 {lo:.2%} 高于更换限值 {limits['replace']:.0%}")
        if ev["sample_n"] >= plan["n"] and ev["sample_failed"] > plan["c"]:
            out.append(f"抽样方案（n={plan['n']}，c={plan['c']}）拒收：失效 {ev['sample_failed']} 只")
        return out
    if decision == "keep":
        return [f"抽样方案接收，失效率上限 {hi:.2%} 低于继续运行限值 {limits['keep']:.0%}"]
    return [f"失效率区间 [{lo:.2%}, {hi:.2%}] 跨越判定限值，建议再抽样 {ev['additional_sample']} 只"]


def _evaluate(key: tuple[str, str, int], meters: list[_Meter], today: date) -> dict[str, Any]:
    times = [_age(m.since, m.failed_on or today) for m in meters]
    failed = [m.failed_on is not None for m in meters]
    r = sum(failed)
    plan = engine.design_plan(AQL, LTPD)
    fit: engine.WeibullFit | None = None
    fit_note = ""
    try:
        fit = engine.weibull_mle(times, failed)
    except InvalidInput as e:  # fewer than two failures at distinct ages: the bounds alone decide
        fit_note = str(e)
    batch = engine.BatchKey(model=key[1], manufacturer=key[0], year=key[2])
    d = engine.decide(batch, len(meters), r, plan, fit)
    return {
        "manufacturer": key[0],
        "model": key[1],
        "year": key[2],
        "size": len(meters),
        "in_service": sum(m.status == "in_service" for m in meters),
        "failures": r,
        "bounds": d.evidence["bounds"],
        "decision": d.decision,
        "decision_label": DECISION_LABELS[d.decision],
        "reasons": d.reasons,
        "reasons_zh": _reasons_zh(d.decision, d.evidence),
        "evidence": d.evidence,
        "weibull_note": fit_note,
        "plan": {
            "n": plan.n,
            "c": plan.c,
            "aql": plan.aql,
            "ltpd": plan.ltpd,
            "producer_risk": plan.producer_risk,
            "consumer_risk": plan.consumer_risk,
            "oc": plan.curve(OC_POINTS),
        },
    }


def evaluate(platform: Platform, principal: Principal) -> list[dict[str, Any]]:
    """Every batch of electricity meters in the caller's jurisdiction with its decision and evidence."""
    require_role(principal, Role.SUPERVISOR)
    today = platform.local_today()
    with platform.reading() as s:
        batches = _meters(s, principal, None)
    return [_evaluate(k, batches[k], today) for k in sorted(batches)]


def batch_detail(
    platform: Platform, principal: Principal, manufacturer: str, model: str, year: int
) -> dict[str, Any]:
    """One batch with its evidence and its meters (failures with their ages). Another jurisdiction's batch,
    or one that does not exist, is not found."""
    require_role(principal, Role.SUPERVISOR)
    key = (manufacturer, model, year)
    today = platform.local_today()
    with platform.reading() as s:
        meters = _meters(s, principal, key).get(key, [])
    if not meters:
        raise not_found("batch", f"{manufacturer}/{model}/{year}")
    out = _evaluate(key, meters, today)
    out["meters"] = [
        {
            "id": m.id,
            "serial_number": m.serial,
            "region_code": m.region_code,
            "status": m.status,
            "status_label": INSTRUMENT_STATUS.get(m.status, (m.status, m.status)),
            "since": m.since.isoformat(),
            "failed_on": m.failed_on.isoformat() if m.failed_on else None,
            "failure_source": m.failure_source,
            "age_years": round(_age(m.since, m.failed_on or today), 3),
        }
        for m in meters
    ]
    return out


def replacement_list(platform: Platform, principal: Principal) -> list[dict[str, Any]]:
    """The meters of the batches decided "replace" that are still in service (更换清单)."""
    require_role(principal, Role.SUPERVISOR)
    today = platform.local_today()
    with platform.reading() as s:
        batches = _meters(s, principal, None)
    rows: list[dict[str, Any]] = []
    for k in sorted(batches):
        meters = batches[k]
        if _evaluate(k, meters, today)["decision"] != "replace":
            continue
        rows.extend(
            {
                "manufacturer": k[0],
                "model": k[1],
                "year": k[2],
                "id": m.id,
                "serial_number": m.serial,
                "region_code": m.region_code,
                "location": m.location,
                "since": m.since.isoformat(),
                "failed": m.failed_on is not None,
            }
            for m in meters
            if m.status == "in_service"
        )
    return rows


REPLACEMENT_COLUMNS = (
    ("manufacturer", "制造单位", "manufacturer"),
    ("model", "型号", "model"),
    ("year", "投运年份", "year in use"),
    ("id", "器具编号", "instrument id"),
    ("serial_number", "出厂编号", "serial number"),
    ("region_code", "行政区划", "region"),
    ("location", "安装地点", "location"),
    ("since", "投运日期", "in use since"),
    ("failed", "本表已失效", "this meter failed"),
)


def export_replacement_list(platform: Platform, principal: Principal, sink: BinaryIO, lang: str = "zh") -> int:
    """The replacement list as CSV (UTF-8 with a BOM, cells neutralised) into ``sink``; returns the rows."""
    rows = replacement_list(platform, principal)
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow([zh if lang == "zh" else en for _, zh, en in REPLACEMENT_COLUMNS])
    for r in rows:
        cells: list[Any] = [r[k] for k, _, _ in REPLACEMENT_COLUMNS]
        cells[-1] = ("是" if r["failed"] else "否") if lang == "zh" else ("yes" if r["failed"] else "no")
        writer.writerow([neutralise(c) for c in cells])
    sink.write(("\ufeff" + text.getvalue()).encode())
    return len(rows)
