"""The MPE table and the decision rules, checked against the regulations' tables and hand calculations."""

from __future__ import annotations

import csv
from decimal import Decimal as D
from importlib import resources

import pytest

from jiliang.errors import InvalidInput
from jiliang.legal import mpe
from jiliang.legal.conformity import DecisionRule, PointData, judge, judge_point
from jiliang.legal.mpe import Stage


def test_every_row_states_its_evidence_and_confirmed_rows_name_their_source() -> None:
    path = resources.files("jiliang") / "data" / "mpe" / "mpe-rules.csv"
    with path.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            assert row["evidence"] in ("confirmed", "provisional"), row
            if row["evidence"] == "confirmed":
                assert row["source"].startswith("http"), row
            assert row["regulation"], row


@pytest.mark.parametrize(
    ("klass", "load_e", "expected_e"),
    [
        # OIML R 76-1:2006 Table 6, the band edges of every class (0.5 e / 1 e / 1.5 e)
        ("III", 0, "0.5"),
        ("III", 500, "0.5"),
        ("III", 501, "1.0"),
        ("III", 2000, "1.0"),
        ("III", 2001, "1.5"),
        ("III", 10000, "1.5"),
        ("II", 5000, "0.5"),
        ("II", 20000, "1.0"),
        ("II", 100000, "1.5"),
        ("I", 50000, "0.5"),
        ("I", 200001, "1.5"),
        ("IIII", 50, "0.5"),
        ("IIII", 200, "1.0"),
        ("IIII", 1000, "1.5"),
    ],
)
def test_oiml_r76_table6_initial_verification_bands(klass: str, load_e: int, expected_e: str) -> None:
    e = D("0.01")
    got = mpe.mpe_at("02.01", klass, Stage.INITIAL, D(load_e) * e, "kg", scale_interval=e)
    assert got.upper == D(expected_e) * e and got.lower == -got.upper
    assert got.row is not None and got.row.evidence == "confirmed"


def test_r76_hand_calculation_class_iii_30kg_scale() -> None:
    """A class III price scale, Max 30 kg, e = 10 g: at 15 kg, m = 1500 e → ±1 e = ±10 g initially, ±20 g in service."""
    initial = mpe.mpe_at("02.01", "Ⅲ", Stage.INITIAL, D("15"), "kg", scale_interval=D("0.01"))
    assert initial.upper == D("0.0100")
    assert "m = 1500 e" in initial.basis
    in_service = mpe.mpe_at("02.01", "III级", Stage.IN_SERVICE, D("15"), "kg", scale_interval=D("0.01"))
    assert in_service.upper == D("0.0200") and in_service.row is not None
    assert in_service.row.evidence == "provisional"


def test_r76_refuses_a_load_beyond_the_class_range_and_a_missing_e() -> None:
    with pytest.raises(InvalidInput) as exc:
        mpe.mpe_at("02.01", "III", Stage.INITIAL, D("101"), "kg", scale_interval=D("0.01"))
    assert exc.value.field == "nominal"
    with pytest.raises(InvalidInput) as exc:
        mpe.mpe_at("02.01", "III", Stage.INITIAL, D("1"), "kg")
    assert exc.value.field == "scale_interval"


def test_jjg443_fuel_dispenser_03_percent_at_20_litres() -> None:
    """±0.30 % of 20 L is ±0.060 L; at the minimum measured quantity (5 L) ±0.5 % is ±0.025 L."""
    got = mpe.mpe_at("09.01", "0.3", Stage.SUBSEQUENT, D("20"), "L")
    assert (got.lower, got.upper) == (D("-0.06"), D("0.06"))
    low = mpe.mpe_at("09.01", "", Stage.SUBSEQUENT, D("5"), "L", zone="minimum")
    assert low.upper == D("0.025")


def test_water_meter_zones_class_2() -> None:
    upper = mpe.mpe_at("06.01", "2级", Stage.INITIAL, D("100"), "L", zone="upper")
    lower = mpe.mpe_at("06.01", "2", Stage.INITIAL, D("100"), "L", zone="lower")
    assert (upper.upper, lower.upper) == (D("2"), D("5"))
    with pytest.raises(InvalidInput) as exc:
        mpe.mpe_at("06.01", "2", Stage.INITIAL, D("100"), "L", zone="")
    assert exc.value.field == "accuracy_class"


def test_electricity_meter_by_class() -> None:
    assert mpe.mpe_at("20.01", "1.0级", Stage.INITIAL, D("100"), "%", zone="upper").upper == D("1.0")
    assert mpe.mpe_at("20.01", "0.5s", Stage.INITIAL, D("100"), "%", zone="lower").upper == D("1.0")
    with pytest.raises(InvalidInput) as exc:
        mpe.normalise_class("electricity_meter", "3")
    assert exc.value.field == "accuracy_class"


def test_sphygmomanometer_limit_in_the_unit_of_the_point() -> None:
    assert mpe.mpe_at("16.01", "", Stage.SUBSEQUENT, D("16"), "kPa").upper == D("0.5")
    assert mpe.mpe_at("16.01", "", Stage.SUBSEQUENT, D("120"), "mmHg").upper == D("3.75")


def test_taximeter_asymmetric_limits() -> None:
    """Installed taximeter: −4 % … +1 % of 1 km is −40 m … +10 m."""
    got = mpe.mpe_at("18.01", "", Stage.SUBSEQUENT, D("1000"), "m", zone="installed")
    assert (got.lower, got.upper) == (D("-40"), D("10"))
    assert got.magnitude == D("10")


def test_items_without_a_rule_take_the_mpe_per_point() -> None:
    assert mpe.rule_for_item("15.01") == mpe.GENERIC
    with pytest.raises(InvalidInput):
        mpe.mpe_at("15.01", "1.6", Stage.INITIAL, D("1"), "MPa")
    assert mpe.given(D("-0.016"), D("0.016")).upper == D("0.016")
    with pytest.raises(InvalidInput):
        mpe.given(D("0.1"), D("0.2"))


# --- decision rules -------------------------------------------------------------------------------

TEN_G = mpe.given(D("-10"), D("10"))


def test_simple_acceptance_at_the_limit_passes_and_beyond_fails() -> None:
    assert judge_point(PointData(D("1000"), (D("1010"),), TEN_G), DecisionRule.SIMPLE).passed
    assert not judge_point(PointData(D("1000"), (D("1010.1"),), TEN_G), DecisionRule.SIMPLE).passed
    assert judge_point(PointData(D("1000"), (D("990"),), TEN_G), DecisionRule.SIMPLE).passed


def test_error_is_the_mean_indication_minus_the_nominal_value() -> None:
    out = judge_point(PointData(D("20"), (D("20.04"), D("20.02"), D("20.03")), TEN_G), DecisionRule.SIMPLE)
    assert out.error == D("0.03")


def test_ilac_g8_guard_band_w_equals_u() -> None:
    """MPE ±10, U = 2: the acceptance zone is [−8, +8]; an error of 9 passes simply but not guarded."""
    point = PointData(D("1000"), (D("1009"),), TEN_G, uncertainty=D("2"))
    assert judge_point(point, DecisionRule.SIMPLE).passed
    guarded = judge_point(point, DecisionRule.GUARDED)
    assert not guarded.passed and (guarded.accept_lower, guarded.accept_upper) == (D("-8"), D("8"))
    assert judge_point(PointData(D("1000"), (D("1008"),), TEN_G, D("2")), DecisionRule.GUARDED).passed


def test_guarded_acceptance_without_u_accepts_nothing() -> None:
    out = judge_point(PointData(D("1000"), (D("1000"),), TEN_G), DecisionRule.GUARDED)
    assert not out.passed and out.warnings


def test_u_over_a_third_of_the_mpe_warns() -> None:
    ok = judge_point(PointData(D("0"), (D("0"),), TEN_G, D("3.3")), DecisionRule.SIMPLE)
    warn = judge_point(PointData(D("0"), (D("0"),), TEN_G, D("3.4")), DecisionRule.SIMPLE)
    assert not ok.warnings and warn.warnings and warn.ratio == D("0.34")


def test_conclusion_needs_every_point_and_every_inspection() -> None:
    good = PointData(D("0"), (D("1"),), TEN_G)
    bad = PointData(D("0"), (D("11"),), TEN_G)
    assert judge([good, good], [True], DecisionRule.SIMPLE).passed
    assert not judge([good, bad], [True], DecisionRule.SIMPLE).passed
    assert not judge([good], [True, False], DecisionRule.SIMPLE).passed
    with pytest.raises(InvalidInput):
        judge([], [True], DecisionRule.SIMPLE)


def test_the_mean_of_three_readings_is_kept_to_fifteen_significant_digits() -> None:
    out = judge_point(PointData(D("1"), (D("1.001"), D("1.002"), D("1.002")), TEN_G), DecisionRule.SIMPLE)
    assert out.error == D("0.00166666666667")  # mean 1.00166666666667
