"""Market supervision in the demo city, through the services: an inspector pool, a random-inspection plan
with a published seed and its draw, some results, net-content inspections, self-commitments and exemplary
units, and a named complaint that travels to a closed case. Deterministic for a demo seed: the plan's
seed is derived from it and committed before the draw, as a supervisor bringing their own seed would."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from jiliang.demo import city
from jiliang.domain.access import SYSTEM
from jiliang.legal import sampling
from jiliang.services.market import cases, complaints, credit, plans, results
from jiliang.services.platform import Platform
from jiliang.store.models import Organisation


@dataclass
class MarketDemo:
    plan_id: int
    targets: int
    results: int
    net_content: int
    case_number: str
    receipt_code: str


def _orgs(platform: Platform, kind: str) -> list[int]:
    with platform.reading() as s:
        return list(
            s.scalars(
                select(Organisation.id)
                .where(Organisation.kind == kind, Organisation.region_code.like(city.DEMO_CITY[0][:4] + "%"))
                .order_by(Organisation.id)
            )
        )


def build_market(platform: Platform, demo_seed: int) -> MarketDemo | None:
    """Build the market-supervision sample; None when the city has no market operators or fuel stations."""
    markets, stations = _orgs(platform, "market_operator"), _orgs(platform, "fuel_station")
    if len(markets) < 2 or len(stations) < 2:
        return None
    today = platform.today().isoformat()
    code = city.DEMO_CITY[0]
    for k in range(1, 9):
        plans.add_inspector(platform, SYSTEM, name=f"演示市市场监管局执法员 {k}", region_code=code)
    # A part-time inspector who works for a market operator: the draw never sends them there.
    part_time = plans.add_inspector(
        platform, SYSTEM, name="兼职执法员", region_code=code, organisation_id=markets[0]
    )
    plans.declare_relation(
        platform, SYSTEM, part_time["id"], stations[0], "亲属在该加油站任职 / a relative works there"
    )
    quotas = {"market_operator": min(15, len(markets)), "fuel_station": min(10, len(stations))}
    plan = plans.create_plan(
        platform,
        SYSTEM,
        {
            "name": "2026 年度民生计量双随机抽查（集贸市场、加油站）",
            "region_code": code,
            "org_kinds": ["market_operator", "fuel_station"],
            "quotas": quotas,
            "strata_by": "kind",
        },
    )
    seed = hashlib.sha256(f"jiliang-demo-market-{demo_seed}".encode()).hexdigest()
    plans.commit_seed(platform, SYSTEM, plan["id"], commitment=sampling.commitment(seed))
    drawn = plans.draw_plan(platform, SYSTEM, plan["id"], seed=seed)
    from jiliang.store.models import MarketTarget

    with platform.reading() as s:
        targets = list(
            s.scalars(
                select(MarketTarget).where(MarketTarget.plan_id == plan["id"]).order_by(MarketTarget.rank)
            )
        )
    recorded = 0
    for k, t in enumerate(targets[:10]):
        failing = k % 4 == 3
        body: dict[str, Any] = {
            "inspected_on": today,
            "conclusion": "fail" if failing else "pass",
            "findings": "计价秤示值超差，已责令停用 / a price-computing scale out of tolerance, taken out of use"
            if failing
            else "未发现问题 / nothing found",
            "instruments": [
                {
                    "description": "电子计价秤 / price-computing scale",
                    "measured_error": 12.0 if failing else 3.0,
                    "mpe": 10.0,
                    "unit": "g",
                },
                {
                    "description": "燃油加油机 / fuel dispenser",
                    "measured_error": -0.12,
                    "mpe": 0.3,
                    "unit": "%",
                },
            ],
        }
        results.record_result(platform, SYSTEM, t.id, body)
        recorded += 1
    lots = [
        (
            markets[0],
            "散装大米 5 kg / rice",
            "5 kg",
            40,
            [4.99, 5.01, 5.0, 5.02, 4.98, 5.0, 5.01, 4.99, 5.0, 4.97],
        ),
        (
            markets[1],
            "花生油 1.8 L / peanut oil",
            "1.8 L",
            60,
            [1.79, 1.8, 1.81, 1.78, 1.8, 1.79, 1.8, 1.81, 1.8, 1.79, 1.8, 1.74, 1.8],
        ),
    ]
    for org, product, nominal, lot, values in lots:
        unit = nominal.split()[1]
        results.record_net_content(
            platform,
            SYSTEM,
            {
                "organisation_id": org,
                "product": product,
                "nominal": nominal,
                "lot_size": lot,
                "measurements": values,
                "measurement_unit": unit,
                "inspected_on": today,
            },
        )
    for org in (markets + stations)[:20]:
        credit.add_event(platform, SYSTEM, org, "self_commitment", platform.today(), "诚信计量自我承诺书")
    for org in markets[:3] + stations[:2]:
        credit.add_event(platform, SYSTEM, org, "exemplary_unit", platform.today(), "诚信计量示范单位")
    with platform.reading() as s:
        station = s.get(Organisation, stations[-1])
        assert station is not None
        station_region, station_name = station.region_code, station.name
    sub = complaints.submit(
        platform,
        {
            "region_code": station_region,
            "organisation_id": stations[-1],
            "subject_name": station_name,
            "content": "加油机少给油，20 升只有 19.5 升 / the dispenser gave 19.5 L for 20 L",
            "reporter": {"name": "演示举报人", "phone": "13800000000"},
        },
    )
    complaints.update(platform, SYSTEM, sub["id"], {"status": "investigating"})
    complaints.update(
        platform,
        SYSTEM,
        sub["id"],
        {"status": "confirmed", "resolution": "经查属实，已立案查处", "reward": "举报奖励 500 元"},
    )
    case = cases.open_case(
        platform,
        SYSTEM,
        {
            "source_type": "complaint",
            "source_id": str(sub["id"]),
            "summary": "加油机计量作弊 / tampered fuel dispenser",
            "evidence": ["现场检查笔录", "加油机检定报告"],
        },
    )
    cases.advance(platform, SYSTEM, case["id"], {"status": "investigating"})
    cases.advance(
        platform,
        SYSTEM,
        case["id"],
        {
            "status": "decided",
            "violation": True,
            "decision": "责令改正，没收违法所得并处罚款",
            "penalty": "罚款 30000 元",
        },
    )
    cases.advance(platform, SYSTEM, case["id"], {"status": "closed"})
    return MarketDemo(
        plan["id"], len(drawn["targets"]), recorded, len(lots), case["number"], sub["receipt_code"]
    )
