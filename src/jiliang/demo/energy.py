"""Key energy-using units in the demo city, through the services: four plants with their metering trees and
registry meters, a month of readings, the bureau's reviews and one self-check.

- 东湖特钢 — fully metered, compliant, balanced;
- 西山化工 — compliant tree, but its boundary electricity meter reads 8 % more than its workshops: an
  imbalance warning (the enterprise account ``energy-unit`` is this plant's);
- 南溪水泥 — its boundary gas meter's verification ran out (and its class 2.5 is worse than 表4's 2.0): the
  carbon budget's dominant input is that meter; a workshop meter's readings have a gap;
- 北岭造纸 — main equipment without meters: non-compliant equipping rates; no readings reported.

东湖特钢 and 西山化工 also report yesterday online: each meter is a telemetry device whose register
snapshots (every 15 minutes) go through the ingestion of remote supervision, and the day is folded into a
live period (services/energy/live.py). Their boundary gas meters need the ``gas_meter/1`` payload; where
this build's ingestion has no such schema, only the electricity meters report online and neither plant
counts as monitored online (all boundary meters are required).

Each meter gets a verification record from an institution authorised for it (the verification service),
dated so that its validity ends when the plant's story needs it (南溪水泥's boundary gas meter: 20 days ago).
"""

from __future__ import annotations

import io
import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from jiliang.demo import city
from jiliang.domain.access import SYSTEM, Principal, Role
from jiliang.domain.catalogue import add_months
from jiliang.domain.credit_code import make_credit_code
from jiliang.services import catalogue as catalogue_service
from jiliang.services import instruments, organisations, users, verifications
from jiliang.services.energy import carbon_review, live, readings, regional, reviews, topology, units
from jiliang.services.platform import Platform
from jiliang.services.telemetry import devices, ingest
from jiliang.store.models import Authorisation, EnergyUnit, Instrument
from jiliang.telemetry import payloads

CITY = city.DEMO_CITY[0]
# (key, name, level, parent, {energy: demand})
NODES: list[tuple[str, str, str, str, dict[str, float]]] = [
    ("plant", "厂区（进出用能单位）", "boundary", "", {"electricity": 8000, "natural_gas": 3_000_000}),
    ("ws1", "轧钢车间", "secondary", "plant", {"electricity": 3000}),
    ("ws2", "热处理车间", "secondary", "plant", {"electricity": 2000, "natural_gas": 1_000_000}),
    ("m1", "1# 主电机", "equipment", "ws1", {"electricity": 400}),
    ("b1", "1# 加热炉", "equipment", "ws2", {"natural_gas": 300}),
]
# (point, node, energy, unit, accuracy class, item, per-day consumption)
POINTS: list[tuple[str, str, str, str, str, str, float]] = [
    ("E-01", "plant", "electricity", "kWh", "0.5S", "20.01", 5000),
    ("G-01", "plant", "natural_gas", "m3", "1.5", "05.02", 10_000),
    ("E-11", "ws1", "electricity", "kWh", "1", "20.01", 3000),
    ("E-12", "ws2", "electricity", "kWh", "1", "20.01", 1980),
    ("G-12", "ws2", "natural_gas", "m3", "2", "05.02", 9950),
    ("E-21", "m1", "electricity", "kWh", "1", "20.01", 2990),
    ("G-22", "b1", "natural_gas", "m3", "2", "05.02", 9900),
]


@dataclass(frozen=True)
class Plant:
    suffix: str  # county suffix of the demo city
    name: str
    sector: str
    annual_tce: float
    overrides: dict[str, dict[str, Any]]  # point -> changes (accuracy, valid_days, per_day, absent, gap)
    readings: bool = True
    product: tuple[str, float] | None = None  # reported output: product and tonnes a day (单位产品能耗)
    cems: float | None = None  # a CEMS reports: its figure as a ratio to the calculated one (synthetic)
    live: bool = False  # its meters report yesterday through remote supervision (online monitoring)


PLANTS = (
    # ≈ 12 760 kgce a day at the boundary: 250 t of sinter a day is ≈ 51 kgce/t (within GB 21256's 限定值 55)
    Plant(
        "02", "演示市东湖特钢有限公司", "黑色金属冶炼和压延加工业", 26_000, {}, product=("sinter", 250), cems=1.018, live=True
    ),
    Plant("03", "演示市西山化工有限公司", "化学原料和化学制品制造业", 18_000, {"E-01": {"per_day": 5400}}, live=True),
    Plant(
        "21",
        "南溪水泥有限公司",
        "非金属矿物制品业",
        15_000,
        {"G-01": {"accuracy": "2.5", "valid_days": -20}, "E-12": {"gap": True}},
        product=("clinker", 96),  # ≈ 133 kgce/t of clinker: above the 限定值 128
    ),
    Plant(
        "22",
        "北岭造纸有限公司",
        "造纸和纸制品业",
        11_000,
        {"E-21": {"absent": True}, "G-22": {"absent": True}, "G-12": {"accuracy": "2.5"}},
        readings=False,
    ),
)


@dataclass
class EnergyDemo:
    units: int
    reviews: int
    periods: int
    unit_with_imbalance: int
    account_password: str
    account_region: str
    account_organisation: str
    instruments: int = 0  # the plants' meters, filed in the registry
    records: int = 0  # their verification records


def build_energy(platform: Platform, password: str | None = None) -> EnergyDemo:
    today = platform.today()
    month_end = today.replace(day=1) - timedelta(days=1)
    month_start = month_end.replace(day=1)
    supervisor = Principal(user_id=None, username="demo", role=Role.SUPERVISOR, jurisdiction=CITY)
    unit_ids: list[int] = []
    meters = [0, 0]
    n_reviews = n_periods = 0
    for k, plant in enumerate(PLANTS):
        region = CITY[:4] + plant.suffix
        org = organisations.add_organisation(
            platform,
            SYSTEM,
            credit_code=make_credit_code(f"91{region}{7100 + k:08d}X"[:17]),
            name=plant.name,
            kind="enterprise",
            region_code=region,
        )
        unit_id = int(
            units.register_unit(
                platform,
                supervisor,
                {
                    "organisation_id": org.id,
                    "energy_types": ["electricity", "natural_gas"],
                    "annual_tce": plant.annual_tce,
                    "sector": plant.sector,
                },
            )["id"]
        )
        unit_ids.append(unit_id)
        ids = _meters(platform, org.id, region, k, plant, today, meters)
        rows = [
            {
                "kind": "node",
                "key": key,
                "name": name,
                "level": level,
                "parent": parent,
                "energy_type": et,
                "demand": v,
            }
            for key, name, level, parent, demand in NODES
            for et, v in demand.items()
        ] + [
            {
                "kind": "point",
                "key": p,
                "parent": node,
                "energy_type": et,
                "instrument_id": ids[p],
                "unit": unit,
            }
            for p, node, et, unit, *_rest in POINTS
            if p in ids
        ]
        topology.upload_rows(platform, supervisor, unit_id, rows)
        if plant.readings:
            data = _readings_csv(plant, month_start, month_end)
            days = (month_end - month_start).days + 1
            period = readings.upload_readings(
                platform, supervisor, unit_id, io.BytesIO(data.encode()), "csv", month_start, month_end,
                product=plant.product[0] if plant.product else None,
                output=plant.product[1] * days if plant.product else None,
            )
            if plant.cems is not None:  # the CEMS at the stack measures 1.8 % above the calculation
                carbon_review.report_cems(
                    platform, supervisor, period["id"], period["carbon"]["total"] * plant.cems, 2.5, "烧结机头 CEMS"
                )
            n_periods += 1
        yesterday = live.beijing_today(platform) - timedelta(days=1)
        if plant.live and yesterday > month_end:  # (on the 1st, yesterday is in the uploaded month)
            _live_day(platform, supervisor, k, plant, ids, yesterday)
            n_periods += sum(1 for u in live.fold_day(platform, yesterday, [unit_id]).units if u.period_id)
        reviews.run_review(platform, supervisor, unit_id)
        n_reviews += 1
    regional.set_coverage_target(
        platform, supervisor, CITY, today.year, 0.9, "演示目标（合成数据）/ demo target (synthetic)"
    )
    secret = password or secrets.token_urlsafe(12)
    imbalance_unit = unit_ids[1]
    with platform.reading() as s:
        row = s.get(EnergyUnit, imbalance_unit)
        assert row is not None
        org_id, region = row.organisation_id, row.region_code
    users.create_user(
        platform,
        SYSTEM,
        username="energy-unit",
        password=secret,
        role="enterprise",
        jurisdiction=region,
        organisation_id=org_id,
        display_name="西山化工能源管理员",
    )
    ent = users.principal_by_username(platform, "energy-unit")
    reviews.run_review(platform, ent, imbalance_unit, kind="self_check")
    return EnergyDemo(
        len(unit_ids),
        n_reviews + 1,
        n_periods,
        imbalance_unit,
        secret,
        region,
        PLANTS[1].name,
        meters[0],
        meters[1],
    )


def _meters(
    platform: Platform, org_id: int, region: str, k: int, plant: Plant, today: date, count: list[int]
) -> dict[str, int]:
    ids: dict[str, int] = {}
    valid: dict[int, int] = {}
    for point, _node, et, _unit, accuracy, item, _per_day in POINTS:
        change = plant.overrides.get(point, {})
        if change.get("absent"):
            continue
        cls = str(change.get("accuracy", accuracy))
        inst = instruments.file_instrument(
            platform,
            SYSTEM,
            {
                "name": "电能表" if et == "electricity" else "气体流量计",
                "item_code": item,
                "model": "DTZ-341" if et == "electricity" else "LWQ-100",
                "serial_number": f"NY{k + 1}-{point}",
                "manufacturer": "演示计量仪表有限公司",
                "region_code": region,
                "use": "other",
                "accuracy_class": cls,
                "nominal_size": float(cls.rstrip("S")),
                "location": f"{plant.name} {point}",
                "owner_id": org_id,
                "filed_on": (today - timedelta(days=400)).isoformat(),
            },
        )
        ids[point] = inst.id
        count[0] += 1
        valid[inst.id] = int(change.get("valid_days", 200))
    items = catalogue_service.catalogue(platform)
    for n, (inst_id, offset) in enumerate(valid.items()):
        with platform.reading() as s:
            row = s.get(Instrument, inst_id)
            assert row is not None
            item_code, nominal, region_code = row.item_code, row.nominal_size, row.region_code
            institution = s.scalar(
                select(Authorisation.institution_id)
                .where(Authorisation.item_code == item_code, Authorisation.valid_until >= today)
                .where(
                    Authorisation.region_code.in_(
                        [region_code, region_code[:4] + "00", region_code[:2] + "0000"]
                    )
                )
                .order_by(Authorisation.id)
            )
        if institution is None:
            continue
        months = items[item_code].rule_for(nominal).period_months or 12
        # a verification whose validity ends ``offset`` days from today (negative: already run out)
        verified_on = add_months(today + timedelta(days=offset), -months)
        verified_on = min(verified_on, today)
        verifications.record_verification(
            platform,
            SYSTEM,
            {
                "instrument_id": inst_id,
                "institution_id": institution,
                "verified_on": verified_on.isoformat(),
                "conclusion": "pass",
                "document_no": f"NY{k + 1}-{n + 1:03d}",
            },
        )
        count[1] += 1
    return ids


SCHEMA_OF = {"electricity": ("electricity_meter", "energy_kwh"), "natural_gas": ("gas_meter", "volume_m3")}


def _live_day(platform: Platform, supervisor: Principal, k: int, plant: Plant, ids: dict[str, int], day: date) -> None:
    """Each meter of the plant as a telemetry device, and its register every 15 minutes of ``day`` sent
    through the ingestion of remote supervision (as its gateway would post it)."""
    start, _end = live.day_window(day)
    for point, _node, et, _unit, _acc, _item, per_day in POINTS:
        itype, register = SCHEMA_OF[et]
        if point not in ids or f"{itype}/1" not in payloads.SCHEMAS:
            continue
        device_id = f"NY{k + 1}-{point}"
        devices.register_device(
            platform, supervisor, instrument_id=ids[point], device_id=device_id, instrument_type=itype
        )
        step = float(plant.overrides.get(point, {}).get("per_day", per_day)) / 96
        messages = []
        for n in range(97):
            at = start + timedelta(minutes=15 * n)
            body = {
                "schema": f"{itype}/1",
                "device_id": device_id,
                "message_id": f"{day.isoformat()}-{n}",
                "device_time": at.isoformat(),
                "values": {register: round(100_000 + step * n, 3)},
            }
            messages.append(ingest.Message(body, at + timedelta(seconds=5), "http", device_id=device_id))
        ingest.ingest(platform, messages)


def _readings_csv(plant: Plant, start: date, end: date) -> str:
    out = ["计量点编号,能源种类,日期,消耗量,单位"]
    days = (end - start).days + 1
    for i in range(days):
        day = start + timedelta(days=i)
        for point, _node, et, unit, _acc, _item, per_day in POINTS:
            change = plant.overrides.get(point, {})
            if change.get("absent") or (change.get("gap") and 10 <= i <= 12):
                continue
            base = float(change.get("per_day", per_day))
            # a small alternating swing: real meters never repeat a value (a repeat would be flagged as stuck)
            value = base + (0.5 if i % 2 else -0.5) * (1 + i % 3)
            out.append(
                f"{point},{'电力' if et == 'electricity' else '天然气'},{day.isoformat()},{value:g},{unit}"
            )
    return "\n".join(out) + "\n"
