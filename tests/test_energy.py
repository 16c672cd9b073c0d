"""Energy and carbon metrology engines: GB 17167 review, balance, standard coal, carbon with uncertainty.

The rule rows are provisional (the standards' tables could not be read from here, docs/energy.md); the
tests check the arithmetic by hand calculation, and the rule data for the values the engines rely on.
"""

from __future__ import annotations

import math

import pytest

from jiliang.energy import balance, carbon, conversion, rules
from jiliang.energy.review import Meter, Node, Topology, review, topology_from_rows, validate
from jiliang.energy.rules import EnergyType as E
from jiliang.energy.rules import Level as L
from jiliang.errors import InvalidInput


def test_rule_rows_carry_their_provenance() -> None:
    rs = rules.rule_set("GB 17167-2006")
    rows = [*rs.thresholds.values(), *rs.rates.values(), *rs.accuracy.values()]
    assert rows and all(r.provenance.evidence in ("confirmed", "provisional") for r in rows)
    assert rs.provisional_rows == sum(1 for r in rows if r.provenance.evidence == "provisional")
    # the electricity row of 表3 the reviews below rely on
    assert [rs.rates[(E.ELECTRICITY, lvl)].percent for lvl in L] == [100, 100, 95]
    with pytest.raises(InvalidInput) as err:
        rules.rule_set("GB 17167-1997")
    assert err.value.field == "rule_set"


def factory() -> Topology:
    """A plant: the boundary, three workshops (one too small to be "main"), two main machines."""
    nodes = (
        Node("plant", "某化工厂", L.BOUNDARY, demand={E.ELECTRICITY: 5000, E.NATURAL_GAS: 2e6}),
        Node("ws1", "一车间", L.SECONDARY, "plant", demand={E.ELECTRICITY: 800}),
        Node("ws2", "二车间", L.SECONDARY, "plant", demand={E.ELECTRICITY: 300, E.NATURAL_GAS: 50_000}),
        Node("office", "办公楼", L.SECONDARY, "plant", demand={E.ELECTRICITY: 8}),  # below 10 kW: not main
        Node("comp", "空压机", L.EQUIPMENT, "ws1", demand={E.ELECTRICITY: 250}),
        Node("boiler", "锅炉", L.EQUIPMENT, "ws2", demand={E.ELECTRICITY: 120, E.NATURAL_GAS: 150}),
    )
    meters = (
        Meter("EM-1", "plant", E.ELECTRICITY, "electricity_meter", 0.5, True),
        Meter("GM-1", "plant", E.NATURAL_GAS, "gas_flowmeter", 1.5, True),
        Meter("EM-2", "ws1", E.ELECTRICITY, "electricity_meter", 1.0, True),
        Meter("GM-2", "ws2", E.NATURAL_GAS, "gas_flowmeter", 2.5, True),  # worse than 表4's 2.0
        Meter("EM-3", "comp", E.ELECTRICITY, "electricity_meter", 1.0, False),  # overdue
        Meter("EM-9", "office", E.ELECTRICITY, "electricity_meter", 2.0, True),  # not required: not counted
    )
    return Topology(nodes, meters)


def test_equipping_rates_are_computed_from_the_topology_gb17167_table3() -> None:
    r = review(factory(), rules.rule_set())
    # electricity: boundary 1/1; main secondary units ws1, ws2 -> 1 of 2; main equipment comp, boiler -> 1 of 2
    assert (r.rate(E.ELECTRICITY, L.BOUNDARY).percent, r.rate(E.ELECTRICITY, L.SECONDARY).percent) == (
        100,
        50,
    )
    assert r.rate(E.ELECTRICITY, L.EQUIPMENT).percent == 50
    assert (
        not r.rate(E.ELECTRICITY, L.SECONDARY).compliant and not r.rate(E.ELECTRICITY, L.EQUIPMENT).compliant
    )
    # natural gas: ws2 (50 000 m³/a ≥ 10 000) and the boiler (150 m³/h ≥ 100) are main; only ws2 metered
    assert r.rate(E.NATURAL_GAS, L.SECONDARY).percent == 100
    assert r.rate(E.NATURAL_GAS, L.EQUIPMENT).percent == 0
    codes = sorted((s.code, s.meter or s.node) for s in r.shortfalls if s.code != "rate_below_required")
    assert codes == [
        ("accuracy_insufficient", "GM-2"),
        ("not_verified", "EM-3"),
        ("point_unmetered", "boiler"),
        ("point_unmetered", "boiler"),
        ("point_unmetered", "ws2"),
    ]
    assert {s.clause for s in r.shortfalls} == {"GB 17167-2006 表3", "GB 17167-2006 表4", "GB 17167-2006 5.2"}
    assert not r.compliant and all(s.message_zh and s.message_en for s in r.shortfalls)


def test_a_fully_metered_unit_is_compliant() -> None:
    t = factory()
    extra = (
        Meter("EM-4", "ws2", E.ELECTRICITY, "electricity_meter", 1.0, True),
        Meter("EM-5", "boiler", E.ELECTRICITY, "electricity_meter", 1.0, True),
        Meter("GM-3", "boiler", E.NATURAL_GAS, "gas_flowmeter", 2.0, True),
    )
    fixed = tuple(
        Meter(m.key, m.node, m.energy_type, m.meter_kind, min(m.mpe_percent or 2.0, 2.0), True)
        for m in t.meters
    )
    r = review(Topology(t.nodes, fixed + extra), rules.rule_set())
    assert r.compliant, r.shortfalls
    assert all(row.percent in (None, 100) for row in r.rates)


@pytest.mark.parametrize(
    ("nodes", "meters", "field"),
    [
        (
            [{"key": "a", "level": "boundary"}, {"key": "b", "level": "secondary", "parent": "c"}],
            [],
            "nodes[1].parent",
        ),
        (
            [
                {"key": "a", "level": "boundary"},
                {"key": "b", "level": "secondary", "parent": "c"},
                {"key": "c", "level": "secondary", "parent": "b"},
            ],
            [],
            "nodes[1].parent",
        ),
        ([{"key": "a", "level": "boundary"}, {"key": "b", "level": "boundary"}], [], "nodes"),
        (
            [{"key": "a", "level": "boundary", "demand": {"electricity": -1}}],
            [],
            "nodes[0].demand.electricity",
        ),
        ([{"key": "a", "level": "boundary", "demand": {"uranium": 1}}], [], "nodes[0].demand"),
        (
            [
                {"key": "a", "level": "boundary"},
                {"key": "e", "level": "equipment", "parent": "a"},
                {"key": "x", "level": "secondary", "parent": "e"},
            ],
            [],
            "nodes[2].parent",
        ),
        (
            [{"key": "a", "level": "boundary"}, {"key": "b", "level": "secondary", "parent": "a"}],
            [
                {"key": "M", "node": "a", "energy_type": "electricity"},
                {"key": "M", "node": "b", "energy_type": "electricity"},
            ],
            "meters[1].node",
        ),
    ],
)
def test_a_bad_topology_is_refused_naming_the_field(
    nodes: list[dict], meters: list[dict], field: str
) -> None:  # type: ignore[type-arg]
    with pytest.raises(InvalidInput) as err:
        validate(topology_from_rows(nodes, meters))
    assert err.value.field == field


def test_balance_tolerance_follows_from_the_meters_accuracy() -> None:
    # hand calculation: u² = (1%·1000/√3)² + (2%·600/√3)² + (2%·380/√3)² = 100.587; tolerance 2u = 20.06
    b = balance.check(
        balance.Reading("P", 1000, 1.0), [balance.Reading("a", 600, 2.0), balance.Reading("b", 380, 2.0)]
    )
    assert b.difference == pytest.approx(20.0)
    assert b.u == pytest.approx(math.sqrt((10 / 3**0.5) ** 2 + (12 / 3**0.5) ** 2 + (7.6 / 3**0.5) ** 2))
    assert b.within
    leak = balance.check(
        balance.Reading("P", 1000, 1.0), [balance.Reading("a", 600, 2.0), balance.Reading("b", 350, 2.0)]
    )
    assert not leak.within and leak.relative == pytest.approx(0.05)
    with pytest.raises(InvalidInput) as err:
        balance.check(balance.Reading("P", 1000, 1.0), [balance.Reading("a", -5, 2.0)])
    assert err.value.field == "children[0]"


def test_standard_coal_gbt2589_both_electricity_methods() -> None:
    k = rules.coefficients()
    assert conversion.to_standard_coal(12, "t", k[E.COAL]).kgce == pytest.approx(12_000 * 0.7143)
    assert conversion.to_standard_coal(12_000, "kg", k[E.COAL]).kgce == pytest.approx(12_000 * 0.7143)
    calorific = conversion.to_standard_coal(1, "MWh", k[E.ELECTRICITY])
    assert calorific.kgce == pytest.approx(122.9) and calorific.method.startswith("当量值")
    equal = conversion.to_standard_coal(
        1, "MWh", k[E.ELECTRICITY], electricity="equal_value", equal_value_kgce_per_kwh=0.300
    )
    assert equal.kgce == pytest.approx(300) and equal.method.startswith("等价值")
    with pytest.raises(InvalidInput) as err:
        conversion.to_standard_coal(1, "MWh", k[E.ELECTRICITY], electricity="equal_value")
    assert err.value.field == "equal_value_kgce_per_kwh"
    with pytest.raises(InvalidInput) as err:
        conversion.to_standard_coal(5, "kWh", k[E.COAL])  # energy where a mass is needed
    assert err.value.field == "unit"


def test_carbon_emissions_by_hand_and_their_gum_uncertainty() -> None:
    f = carbon.fuel_factors()[E.NATURAL_GAS]
    r = carbon.emissions([carbon.Activity("天然气总表 GM-1", E.NATURAL_GAS, 1_000_000, mpe_percent=2.0)])
    expected = 1_000_000 * f.ncv * f.carbon_content / 1000 * f.oxidation * 44 / 12
    assert r.total == pytest.approx(expected, rel=1e-12)
    # a product of independent inputs: relative variances add (GUM 5.1.6)
    rel = (
        math.sqrt(
            (2 / 3**0.5) ** 2 + f.ncv_u_percent**2 + f.carbon_content_u_percent**2 + f.oxidation_u_percent**2
        )
        / 100
    )
    assert r.u == pytest.approx(expected * rel, rel=1e-9)
    assert pytest.approx(2 * r.u) == r.U
    assert sum(c.share for c in r.budget) == pytest.approx(1.0)


def test_the_budget_names_the_dominating_meter_and_an_overdue_meter_is_flagged() -> None:
    acts = [
        carbon.Activity("锅炉天然气表 GM-7", E.NATURAL_GAS, 2_000_000, mpe_percent=2.0),
        carbon.Activity("进厂煤汽车衡 WB-1", E.COAL, 5_000, mpe_percent=0.5),
        carbon.Activity("总电能表 EM-1", E.ELECTRICITY, 10_000, mpe_percent=0.5),
    ]
    base = carbon.emissions(acts)
    overdue = carbon.emissions(
        [
            *acts[:1],
            carbon.Activity("进厂煤汽车衡 WB-1", E.COAL, 5_000, mpe_percent=5.0, verified=False),
            acts[2],
        ]
    )
    assert overdue.u > base.u and overdue.flags and "WB-1" in overdue.flags[0]
    assert overdue.dominant.label == "进厂煤汽车衡 WB-1"
    assert base.total == pytest.approx(sum(v for _, v in base.by_source))


def test_monte_carlo_agrees_with_the_gum_for_a_near_linear_sum() -> None:
    acts = [
        carbon.Activity("GM-1", E.NATURAL_GAS, 1_000_000, mpe_percent=2.0),
        carbon.Activity("EM-1", E.ELECTRICITY, 5000, mpe_percent=1.0),
    ]
    r = carbon.emissions(acts, trials=200_000, seed=7)
    assert r.mc_total == pytest.approx(r.total, rel=2e-3)
    assert r.mc_u == pytest.approx(r.u, rel=2e-2)
    assert r.mc_interval is not None and r.mc_interval[0] < r.total < r.mc_interval[1]


def test_carbon_refuses_what_it_cannot_evaluate() -> None:
    with pytest.raises(InvalidInput) as err:
        carbon.emissions([carbon.Activity("水表", E.WATER, 100, mpe_percent=2.0)])
    assert err.value.field == "activities[0].energy_type"
    with pytest.raises(InvalidInput) as err:
        carbon.emissions([carbon.Activity("GM-1", E.NATURAL_GAS, 100)])
    assert err.value.field == "activities[0].mpe_percent"
    with pytest.raises(InvalidInput) as err:
        carbon.emissions([carbon.Activity("GM-1", E.NATURAL_GAS, -1, mpe_percent=2.0)])
    assert err.value.field == "activities[0].amount"


def test_unit_energy_consumption_grades_against_gb21256_rows() -> None:
    from jiliang.energy import intensity

    # 5 400 000 kgce for 100 000 t of sinter = 54 kgce/t: within the 限定值 55, not the 准入值 50
    a = intensity.assess("sinter", 100_000, 5_400_000)
    assert a.value == pytest.approx(54) and a.compliant is True and a.provisional
    assert {r.grade: ok for r, ok in a.rows} == {"limit": True, "entry": False, "advanced": False}
    # the converter's limit is negative (recovered energy exceeds use): −12 kgce/t meets −10
    assert intensity.assess("converter_steel", 1000, -12_000).compliant is True
    assert intensity.assess("converter_steel", 1000, -9_000).compliant is False
    for args, field in ((("sinter", 0, 1.0), "output"), (("steel_wool", 1, 1.0), "product")):
        with pytest.raises(InvalidInput) as err:
            intensity.assess(*args)  # type: ignore[arg-type]
        assert err.value.field == field
    assert all(r.provenance.source for rows in intensity.limits().values() for r in rows)


def test_data_quality_grade_is_the_worst_criterion() -> None:
    from jiliang.energy import quality

    best = dict(
        boundary_required=2, boundary_installed=2, required=20, installed=20, meters=20, meters_verified=20,
        boundary_unverified=0, u_rel=0.04, boundary_gaps=0,
    )
    assert quality.grade(**best).grade == "A"  # type: ignore[arg-type]
    # one overdue boundary meter: C, and the criterion says so
    g = quality.grade(**{**best, "meters_verified": 19, "boundary_unverified": 1})  # type: ignore[arg-type]
    assert g.grade == "C" and [c.code for c in g.weakest] == ["verification"]
    assert quality.grade(**{**best, "installed": 18}).grade == "B"  # type: ignore[arg-type]  # 90 %
    assert quality.grade(**{**best, "boundary_installed": 1}).grade == "D"  # type: ignore[arg-type]
    assert quality.grade(**{**best, "u_rel": 0.12}).grade == "C"  # type: ignore[arg-type]
    assert quality.grade(**{**best, "u_rel": None, "boundary_gaps": None}).grade == "D"  # type: ignore[arg-type]


def test_cems_beside_the_calculation_method() -> None:
    from jiliang.energy import cems

    # calculated 1000 ± 20 t, measured 1050 at 3 %: d = 50, u(d) = √(31.5² + 20²) = 37.3: within 2·u(d)
    c = cems.compare(1000, 20, 1050, 3)
    assert c.difference == 50 and c.u_difference == pytest.approx(math.hypot(31.5, 20)) and c.consistent
    assert not cems.compare(1000, 20, 1100, 1).consistent  # d = 100 > 2·√(11² + 20²) = 45.7
    for args, field in (((1000, 20, -1, 3), "measured_t"), ((1000, 20, 1, 0), "u_percent")):
        with pytest.raises(InvalidInput) as err:
            cems.compare(*args)
        assert err.value.field == field


def test_gb24789_is_a_second_rule_set_of_the_same_shape() -> None:
    water = rules.rule_set("GB 24789-2009")
    assert water.provisional_rows == 7 and water.clauses.rate.startswith("GB 24789-2009")
    assert [water.rates[(E.WATER, lvl)].percent for lvl in L] == [100, 95, 80]
    topo = Topology(
        (
            Node("site", "某纺织厂", L.BOUNDARY, demand={E.WATER: 50}),
            Node("dye", "染色车间", L.SECONDARY, "site", demand={E.WATER: 20}),
            Node("wash", "水洗机", L.EQUIPMENT, "dye", demand={E.WATER: 3}),
            Node("tap", "茶水间", L.SECONDARY, "site", demand={E.WATER: 0.5}),  # below 1 m³/h: not main
        ),
        (
            Meter("W1", "site", E.WATER, "water_meter", 2.0, True),
            Meter("W2", "dye", E.WATER, "water_flowmeter", 2.5, False),
        ),
    )
    r = review(topo, water)
    assert r.rate(E.WATER, L.EQUIPMENT).percent == 0 and r.rate(E.WATER, L.SECONDARY).percent == 100
    assert {(s.code, s.clause) for s in r.shortfalls} == {
        ("point_unmetered", "GB 24789-2009 配备率要求"),
        ("rate_below_required", "GB 24789-2009 配备率要求"),
        ("not_verified", "GB 24789-2009 检定/校准要求"),
    }
