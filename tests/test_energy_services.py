"""Energy metering through the services, on SQLite and PostgreSQL: a unit's tree uploaded from a sheet and
reviewed against GB 17167 with the registry's accuracy and verification state; readings of a period with
consumption, the accuracy-derived balance, standard coal and carbon with uncertainty; refusals that store
nothing; jurisdiction."""

from __future__ import annotations

import io
import math
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from jiliang.domain.access import SYSTEM
from jiliang.energy import carbon, report
from jiliang.errors import Conflict, ImportRefused, InvalidInput, NotAuthorised, NotFound
from jiliang.services import indicators, instruments
from jiliang.services.energy import readings, regional, reviews, topology, units
from jiliang.store.models import (
    EnergyBalanceCheck,
    EnergyNode,
    EnergyPeriod,
    EnergyReading,
    EnergyTopology,
    Instrument,
)
from tests.factories import COUNTY_A, World, instrument_raw

TODAY = date(2026, 12, 7)
HEADER = "类型,编号,名称,层级,上级节点,能源种类,用能量,计量点数,器具ID,计量单位\n"


def _csv(text: str) -> io.BytesIO:
    return io.BytesIO(text.encode("utf-8"))


def file_meters(world: World) -> dict[str, int]:
    """The unit's energy meters in the registry: serial → id; EM-3 overdue, GM-3 class 2.5 (worse than 表4)."""
    spec = {
        "EM-1": ("20.01", "0.5S", date(2027, 6, 30)),
        "GM-1": ("05.02", "1.5", date(2027, 6, 30)),
        "EM-2": ("20.01", "1", date(2027, 6, 30)),
        "EM-3": ("20.01", "1", date(2026, 11, 30)),  # verification ran out a week ago
        "GM-2": ("05.02", "2", date(2027, 6, 30)),
        "GM-3": ("05.02", "2.5", date(2027, 6, 30)),
        "EM-4": ("20.01", "1", date(2027, 6, 30)),
    }
    ent = world.as_("enterprise")
    ids = {}
    for serial, (item, cls, _until) in spec.items():
        inst = instruments.file_instrument(
            world.platform,
            ent,
            instrument_raw(
                serial,
                item_code=item,
                use="other",
                accuracy_class=cls,
                measuring_range="",
                nominal_size=float(cls.rstrip("S")),
            ),
        )
        ids[serial] = inst.id
    with world.platform.unit_of_work(SYSTEM) as s:  # the registry's verification state, as records leave it
        for serial, (_item, _cls, until) in spec.items():
            row = s.get(Instrument, ids[serial])
            assert row is not None
            row.valid_until = until
    return ids


def _unit(world: World) -> int:
    return int(
        units.register_unit(
            world.platform,
            world.as_("city"),
            {
                "organisation_id": world.enterprise_id,
                "energy_types": ["electricity", "natural_gas"],
                "annual_tce": 12_000,
                "sector": "化工",
            },
        )["id"]
    )


def tree_csv(ids: dict[str, int]) -> str:
    """The plant of test_energy.py: boundary, two workshops, one machine (compressor, 250 kW, unmetered)."""
    return HEADER + "\n".join(
        [
            "节点,plant,某化工厂,进出用能单位,,电力,5000,,,",
            "节点,plant,某化工厂,进出用能单位,,天然气,2000000,,,",
            "节点,ws1,一车间,主要次级用能单位,plant,电力,800,,,",
            "节点,ws2,二车间,主要次级用能单位,plant,电力,300,,,",
            "节点,ws2,二车间,主要次级用能单位,plant,天然气,50000,,,",
            "节点,comp,空压机,主要用能设备,ws1,电力,250,,,",
            f"计量点,P-EM1,,,plant,电力,,,{ids['EM-1']},kWh",
            f"计量点,P-GM1,,,plant,天然气,,,{ids['GM-1']},m3",
            f"计量点,P-EM2,,,ws1,电力,,,{ids['EM-2']},kWh",
            f"计量点,P-EM3,,,ws2,电力,,,{ids['EM-3']},kWh",
            f"计量点,P-GM2,,,ws2,天然气,,,{ids['GM-3']},m3",
        ]
    )


def _count(world: World, model: type) -> int:
    with world.platform.reading() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def build_plant(world: World) -> tuple[int, dict[str, int]]:
    """The enterprise of the test world as a key energy-using unit with its tree (the page tests use it)."""
    ids = file_meters(world)
    unit_id = _unit(world)
    topology.upload_file(world.platform, world.as_("enterprise"), unit_id, _csv(tree_csv(ids)), "csv")
    return unit_id, ids


@pytest.fixture
def plant(world: World, monkeypatch: pytest.MonkeyPatch) -> tuple[World, int, dict[str, int]]:
    monkeypatch.setattr(type(world.platform), "today", lambda self: TODAY)
    monkeypatch.setattr(type(world.platform), "local_today", lambda self: TODAY)
    unit_id, ids = build_plant(world)
    return world, unit_id, ids


def test_review_of_the_stored_tree_gb17167_table3_table4_and_5_2(
    plant: tuple[World, int, dict[str, int]],
) -> None:
    world, unit_id, _ids = plant
    r = reviews.run_review(world.platform, world.as_("city"), unit_id)
    rates = {(x["energy_type"], x["level"]): x for x in r["rates"]}
    assert rates[("electricity", "boundary")]["percent"] == 100
    assert rates[("electricity", "secondary")]["percent"] == 100
    # the compressor (250 kW ≥ 100 kW of 表2) must be metered and is not: 0 of 1 against 95 %
    assert (
        rates[("electricity", "equipment")]["installed"],
        rates[("electricity", "equipment")]["required"],
    ) == (0, 1)
    codes = sorted(
        (f["code"], f["meter"] or f["node"]) for f in r["shortfalls"] if f["code"] != "rate_below_required"
    )
    # GM-3 (2.5) is worse than 表4's 2.0 for natural gas; EM-3's verification ran out on 2026-11-30
    assert codes == [
        ("accuracy_insufficient", "P-GM2"),
        ("not_verified", "P-EM3"),
        ("point_unmetered", "comp"),
    ]
    assert {f["clause"] for f in r["shortfalls"]} == {
        "GB 17167-2006 表3",
        "GB 17167-2006 表4",
        "GB 17167-2006 5.2",
    }
    assert not r["compliant"] and r["kind"] == "review"
    stored = reviews.get_review(world.platform, world.as_("city"), r["id"])
    assert stored["shortfalls"] == r["shortfalls"] and stored["organisation"] == "东城加油站"
    # the PDF lists every shortfall with its clause, Chinese first
    lines = [text for _style, text in report.review_lines(stored)]
    for f in stored["shortfalls"]:
        assert any(f["clause"] in line and f["message_zh"] in line for line in lines)
    assert report.review_pdf(stored).startswith(b"%PDF")


def test_self_check_is_the_enterprises_and_the_review_the_bureaus(
    plant: tuple[World, int, dict[str, int]],
) -> None:
    world, unit_id, _ids = plant
    ent = world.as_("enterprise")
    with pytest.raises(NotAuthorised):
        reviews.run_review(world.platform, ent, unit_id, kind="review")
    own = reviews.run_review(world.platform, ent, unit_id, kind="self_check")
    assert own["kind"] == "self_check" and not own["compliant"]
    view = regional.regional_view(world.platform, world.as_("city"))
    assert view["counties"][0]["reviewed"] == 0  # a self-check is not the bureau's review
    reviews.run_review(world.platform, world.as_("city"), unit_id)
    view = regional.regional_view(world.platform, world.as_("city"))
    assert (view["counties"][0]["reviewed"], view["counties"][0]["non_compliant"]) == (1, 1)


@pytest.mark.parametrize(
    ("line", "field", "row"),
    [
        (
            "节点,plant,某化工厂,进出用能单位,comp,水,10,,,",
            "parent",
            13,
        ),  # the boundary under its own machine
        ("计量点,P-X,,,ws1,电力,,,{EM-1},kWh", "instrument_id", 13),  # one meter on two nodes
        ("计量点,P-X,,,ws1,电力,,,{EM-4},m3", "unit", 13),  # a gas volume for electricity
        ("节点,ws3,三车间,主要次级用能单位,plant,电力,-5,,,", "demand", 13),  # negative demand
    ],
)
def test_a_bad_tree_is_refused_with_row_and_field_nothing_stored(
    plant: tuple[World, int, dict[str, int]], line: str, field: str, row: int
) -> None:
    world, unit_id, ids = plant
    before = (_count(world, EnergyTopology), _count(world, EnergyNode))
    text = tree_csv(ids) + "\n" + line.replace("{EM-1}", str(ids["EM-1"])).replace("{EM-4}", str(ids["EM-4"]))
    with pytest.raises(ImportRefused) as err:
        topology.upload_file(world.platform, world.as_("enterprise"), unit_id, _csv(text), "csv")
    assert [(p.row, p.field.split(".")[-1]) for p in err.value.problems][:1] == [(row, field)]
    assert (_count(world, EnergyTopology), _count(world, EnergyNode)) == before


def test_a_cycle_between_two_nodes_is_refused_naming_the_row(
    plant: tuple[World, int, dict[str, int]],
) -> None:
    world, unit_id, ids = plant
    text = tree_csv(ids).replace(
        "节点,ws1,一车间,主要次级用能单位,plant", "节点,ws1,一车间,主要次级用能单位,ws9"
    ) + ("\n节点,ws9,九车间,主要次级用能单位,ws1,电力,20,,,")
    with pytest.raises(ImportRefused) as err:
        topology.upload_file(world.platform, world.as_("enterprise"), unit_id, _csv(text), "csv")
    assert "环" in err.value.problems[0].reason and err.value.problems[0].field.endswith("parent")


def _days(start: date, n: int) -> list[date]:
    return [start + timedelta(days=i) for i in range(n)]


def readings_csv(start: date, n: int, skip: tuple[str, date] | None = None, stuck: str = "") -> str:
    per_day = {"P-EM1": 1000.0, "P-EM2": 600.0, "P-EM3": 380.0, "P-GM1": 100.0, "P-GM2": 99.0}
    kinds = {"P-EM1": ("电力", "kWh"), "P-EM2": ("电力", "kWh"), "P-EM3": ("电力", "kWh")}
    out = ["计量点编号,能源种类,日期,消耗量,单位"]
    for i, d in enumerate(_days(start, n)):
        for point, v in per_day.items():
            if skip == (point, d):
                continue
            et, unit = kinds.get(point, ("天然气", "m3"))
            # alternating ±1 a day: real meters never repeat a value; the pairs cancel over an even period
            value = v + (1 if i % 2 else -1) if point != stuck else 500.0 + (0 if 3 <= i <= 7 else i)
            out.append(f"{point},{et},{d.isoformat()},{value:g},{unit}")
    return "\n".join(out) + "\n"


def test_a_period_gives_consumption_balance_coal_and_carbon(plant: tuple[World, int, dict[str, int]]) -> None:
    world, unit_id, _ids = plant
    ent = world.as_("enterprise")
    start, end = date(2026, 10, 1), date(2026, 10, 30)
    p = readings.upload_readings(
        world.platform, ent, unit_id, _csv(readings_csv(start, 30)), "csv", start, end
    )
    consumption = {(c["node"], c["energy_type"]): c["value"] for c in p["consumption"]}
    assert consumption[("plant", "electricity")] == 30_000 and consumption[("ws2", "natural_gas")] == 2970
    checks = {(b["node"], b["energy_type"]): b for b in p["balance"]}
    # electricity: d = 30 000 − (18 000 + 11 400) = 600; u² = (0.5%·30000)²/3 + (1%·18000)²/3 + (1%·11400)²/3
    el = checks[("plant", "electricity")]
    u = math.sqrt((150**2 + 180**2 + 114**2) / 3)
    assert el["difference"] == pytest.approx(600) and el["tolerance"] == pytest.approx(2 * u)
    assert el["status"] == "imbalance" and el["evidence"]["meters"]["ws1"]["value"] == 18_000
    # natural gas: d = 30, tolerance 2·√((1.5%·3000)² + (2.5%·2970)²)/√3 ≈ 96: balanced
    assert checks[("plant", "natural_gas")]["status"] == "balanced"
    # ws1 has the compressor under it without a meter: its balance is not checked, and says why
    assert checks[("ws1", "electricity")]["status"] == "not_checked"
    with world.platform.reading() as s:
        warnings = s.scalars(select(EnergyBalanceCheck).where(EnergyBalanceCheck.status == "imbalance")).all()
        assert [(w.node_key, w.energy_type) for w in warnings] == [("plant", "electricity")]
    # standard coal, both methods stated: 30 000 kWh × 0.1229 (当量值) or × 0.3007 (等价值, 2022) + 3 000 m³ × 1.2143
    coal = p["coal"]
    assert coal["tce_calorific"] == pytest.approx((30_000 * 0.1229 + 3000 * 1.2143) / 1000)
    assert coal["tce_equal_value"] == pytest.approx((30_000 * 0.3007 + 3000 * 1.2143) / 1000)
    assert coal["equal_value_year"] == 2022
    # carbon: 30 MWh × grid factor + 3 000 m³ of gas; the budget's first row is what dominates
    c = p["carbon"]
    gas = carbon.fuel_factors()[carbon.EnergyType.NATURAL_GAS]
    expected = 30 * 0.5703 + 3000 * gas.ncv * gas.carbon_content / 1000 * gas.oxidation * 44 / 12
    assert c["total"] == pytest.approx(expected)
    assert c["dominant"] == c["budget"][0]["label"] and c["budget"][0]["u"] == max(
        b["u"] for b in c["budget"]
    )
    assert any("P-EM1" in b["label"] for b in c["budget"])
    assert abs(c["mc_total"] - c["total"]) < 3 * c["mc_u"] / math.sqrt(c["mc_trials"]) * 10
    assert c["mc_u"] == pytest.approx(c["u"], rel=0.05)
    # the carbon report names the dominant input first among its budget lines
    lines = [text for _style, text in report.carbon_lines("东城加油站", p)]
    assert any(line.endswith(c["dominant"]) for line in lines) and report.carbon_pdf(
        "东城加油站", p
    ).startswith(b"%PDF")
    # an overlapping period is refused; a later one with a gap and a stuck run is flagged
    with pytest.raises(Conflict) as err:
        readings.upload_readings(
            world.platform, ent, unit_id, _csv(readings_csv(end, 2)), "csv", end, end + timedelta(days=1)
        )
    assert err.value.field == "period_start"
    start2, end2 = date(2026, 11, 1), date(2026, 11, 10)
    p2 = readings.upload_readings(
        world.platform,
        ent,
        unit_id,
        _csv(readings_csv(start2, 10, skip=("P-EM2", date(2026, 11, 4)), stuck="P-EM3")),
        "csv",
        start2,
        end2,
    )
    quality = {q["point"]: q for q in p2["quality"]}
    assert quality["P-EM2"]["gaps"] == [["2026-11-04", "2026-11-04"]] and quality["P-EM2"]["flags"] == [
        "gaps"
    ]
    assert quality["P-EM3"]["stuck"] == [["2026-11-04", "2026-11-08"]]
    checks2 = {(b["node"], b["energy_type"]): b for b in p2["balance"]}
    assert checks2[("plant", "electricity")]["status"] == "not_checked"
    assert "P-EM2" in checks2[("plant", "electricity")]["evidence"]["reason"]


@pytest.mark.parametrize(
    ("row", "field"),
    [
        ("P-EM1,天然气,2026-10-01,5,m3", "energy_type"),  # the point measures electricity
        ("P-EM1,电力,2026-10-01,5,m3", "unit"),  # a volume is not energy
        ("P-EM1,电力,2026-10-01,-5,kWh", "value"),  # negative consumption
        ("P-ZZ,电力,2026-10-01,5,kWh", "point"),
        ("P-EM1,电力,2026-11-01,5,kWh", "day"),  # outside the period
    ],
)
def test_bad_readings_are_refused_with_the_field_nothing_stored(
    plant: tuple[World, int, dict[str, int]], row: str, field: str
) -> None:
    world, unit_id, _ids = plant
    text = "计量点编号,能源种类,日期,消耗量,单位\nP-EM1,电力,2026-10-02,5,MWh\n" + row + "\n"
    with pytest.raises(ImportRefused) as err:
        readings.upload_readings(
            world.platform,
            world.as_("enterprise"),
            unit_id,
            _csv(text),
            "csv",
            date(2026, 10, 1),
            date(2026, 10, 31),
        )
    assert [(p.row, p.field) for p in err.value.problems] == [(3, field)]
    assert (_count(world, EnergyPeriod), _count(world, EnergyReading)) == (0, 0)


def test_units_outside_the_jurisdiction_are_not_found(plant: tuple[World, int, dict[str, int]]) -> None:
    world, unit_id, _ids = plant
    r = reviews.run_review(world.platform, world.as_("city"), unit_id)
    for who in ("other_city", "county_b", "other_enterprise", "institution"):
        with pytest.raises(NotFound):
            units.get_unit(world.platform, world.as_(who), unit_id)
        with pytest.raises(NotFound):
            reviews.get_review(world.platform, world.as_(who), r["id"])
    assert (
        units.get_unit(world.platform, world.as_("enterprise"), unit_id)["organisation_id"]
        == world.enterprise_id
    )
    assert units.list_units(world.platform, world.as_("other_city")) == []


def test_registration_refuses_a_unit_below_the_threshold(world: World) -> None:
    with pytest.raises(InvalidInput) as err:
        units.register_unit(
            world.platform,
            world.as_("city"),
            {"organisation_id": world.enterprise_id, "energy_types": ["electricity"], "annual_tce": 900},
        )
    assert err.value.field == "annual_tce"
    with pytest.raises(NotAuthorised):
        units.register_unit(
            world.platform,
            world.as_("enterprise"),
            {"organisation_id": world.enterprise_id, "energy_types": ["electricity"], "annual_tce": 20_000},
        )


def test_coverage_does_not_count_units_that_only_upload_files(
    plant: tuple[World, int, dict[str, int]],
) -> None:
    world, unit_id, _ids = plant
    city = world.as_("city")
    regional.set_coverage_target(world.platform, city, "339900", 2026, 0.9, "演示目标")
    view = regional.regional_view(world.platform, city)
    assert view["coverage"]["rate"] == 0 and view["coverage"]["target"]["target"] == 0.9
    # a plan target like the registry's (the administrator's targets page lists it; it once answered 500)
    listed = {t.indicator.value: t.target for t in indicators.list_targets(world.platform, city, 2026)}
    assert listed["energy_monitoring_coverage"] == 0.9
    start, end = date(2026, 11, 1), date(2026, 11, 30)
    readings.upload_readings(
        world.platform, world.as_("enterprise"), unit_id, _csv(readings_csv(start, 30)), "csv", start, end
    )
    # an uploaded month is reported, not monitored online: the unit does not count (online monitoring
    # through remote supervision counts it: tests/test_energy_live.py)
    view = regional.regional_view(world.platform, city)
    assert (view["coverage"]["reporting"], view["coverage"]["units"]) == (0, 1)
    assert view["counties"][0]["region_code"] == COUNTY_A
    assert view["sectors"] == [
        {"sector": "化工", "units": 1, "reviewed": 0, "compliant": 0, "non_compliant": 0, "reporting": 0}
    ]


def test_unit_energy_consumption_against_the_limit_standard(plant: tuple[World, int, dict[str, int]]) -> None:
    world, unit_id, _ids = plant
    ent = world.as_("enterprise")
    start, end = date(2026, 10, 1), date(2026, 10, 30)
    for changes, field in (
        ({"product": "unobtainium", "output": 10.0}, "product"),
        ({"output": 10.0}, "product"),
        ({"product": "clinker", "output": 0.0}, "output"),
        ({"product": "clinker", "output": 10.0, "output_node": "nowhere"}, "output_node"),
    ):
        with pytest.raises(InvalidInput) as bad:
            readings.upload_readings(
                world.platform, ent, unit_id, _csv(readings_csv(start, 30)), "csv", start, end, **changes  # type: ignore[arg-type]
            )
        assert bad.value.field == field
    assert _count(world, EnergyPeriod) == 0
    p = readings.upload_readings(
        world.platform, ent, unit_id, _csv(readings_csv(start, 30)), "csv", start, end, product="clinker", output=50.0
    )
    it = p["coal"]["intensity"]
    # the boundary: 30 000 kWh × 0.1229 + 3 000 m³ × 1.2143 kgce (当量值) over 50 t of clinker
    kgce = 30_000 * 0.1229 + 3000 * 1.2143
    assert it["kgce"] == pytest.approx(kgce) and it["value"] == pytest.approx(kgce / 50)
    assert it["method"] == "calorific_value" and it["provisional"]
    met = {r["grade"]: r["met"] for r in it["rows"]}
    assert it["value"] > 128 and met == {"limit": False, "entry": False, "advanced": False}
    assert it["compliant"] is False
