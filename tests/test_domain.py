"""Pure rules: region codes, credit codes, due dates, the scope rule and the indicator roll-up."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jiliang.domain.catalogue import (
    Use,
    VerificationForm,
    VerificationRule,
    add_months,
    due_date,
    is_compulsory,
    shipped_catalogue,
)
from jiliang.domain.credit_code import ALPHABET, make_credit_code, validate_credit_code
from jiliang.domain.regions import ancestors, in_jurisdiction, jurisdiction_prefix, validate_region_code
from jiliang.domain.verification import NEVER_DUE, Conclusion, covered, effective_chain, valid_until
from jiliang.errors import InvalidInput
from jiliang.legal.coverage import (
    ALL_ITEMS,
    Count,
    Indicator,
    IndicatorValue,
    roll_up,
    standard_coverage,
    with_targets,
)

# --- GB 32100 -------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["91350100M000100Y43", "91110000802100433B", "91440300708461136T"])
def test_published_credit_codes_validate(code: str) -> None:
    assert validate_credit_code(code) == code


def test_wrong_check_character_names_position_and_expected() -> None:
    with pytest.raises(InvalidInput) as err:
        validate_credit_code("91350100M000100Y44")
    assert err.value.field == "credit_code"
    assert err.value.context == {"position": 18, "expected": "3"}
    assert "应为 3" in err.value.message


@pytest.mark.parametrize("bad, position", [("I1350100M000100Y43", 1), ("9135010OM000100Y43", 8)])
def test_letters_outside_the_alphabet_are_refused_with_position(bad: str, position: int) -> None:
    with pytest.raises(InvalidInput) as err:
        validate_credit_code(bad)
    assert err.value.context["position"] == position


@given(st.text(alphabet=ALPHABET, min_size=17, max_size=17))
def test_every_made_code_validates_and_any_single_change_is_caught(body: str) -> None:
    code = make_credit_code(body)
    assert validate_credit_code(code) == code
    for i in range(18):
        for ch in ALPHABET[:3]:
            if ch != code[i]:
                altered = code[:i] + ch + code[i + 1 :]
                with pytest.raises(InvalidInput):
                    validate_credit_code(altered)


# --- GB/T 2260 -------------------------------------------------------------------------------------


def test_region_prefixes_and_ancestors() -> None:
    assert jurisdiction_prefix("330000") == "33"
    assert jurisdiction_prefix("339900") == "3399"
    assert jurisdiction_prefix("339901") == "339901"
    assert ancestors("339901") == ["339901", "339900", "330000", "000000"]
    assert in_jurisdiction("339901", "330000") and not in_jurisdiction("339901", "339800")


@pytest.mark.parametrize("bad", ["33990", "3399011", "990000", "330001", "33AB00", 339901])
def test_bad_region_codes(bad: object) -> None:
    with pytest.raises(InvalidInput):
        validate_region_code(bad)


# --- Catalogue rules --------------------------------------------------------------------------------


def test_add_months_clamps_to_month_end() -> None:
    assert add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)
    assert add_months(date(2025, 8, 31), 6) == date(2026, 2, 28)
    assert add_months(date(2025, 12, 15), 1) == date(2026, 1, 15)


def test_due_dates_by_form() -> None:
    periodic = VerificationRule("09.01", VerificationForm.PERIODIC, period_months=6)
    rotation = VerificationRule("06.01", VerificationForm.ROTATION, service_life_months=72)
    until_failure = VerificationRule("x", VerificationForm.UNTIL_FAILURE)
    assert due_date(periodic, date(2025, 3, 1)) == date(2025, 9, 1)
    # rotation runs from first use, not from each later check
    assert due_date(rotation, date(2025, 3, 1), first_used_on=date(2020, 1, 1)) == date(2026, 1, 1)
    assert due_date(until_failure, date(2025, 3, 1)) is None


CATALOGUE = {item.item_code: item for item in shipped_catalogue()}


def test_water_meter_rules_follow_jjg_162_2019() -> None:
    meter = CATALOGUE["06.01"]
    assert (
        meter.rule_for(20).form is VerificationForm.ROTATION and meter.rule_for(20).service_life_months == 72
    )
    assert meter.rule_for(25).service_life_months == 72
    assert meter.rule_for(40).service_life_months == 48
    assert meter.rule_for(80).form is VerificationForm.PERIODIC and meter.rule_for(80).period_months == 24
    with pytest.raises(InvalidInput) as err:
        meter.rule_for(None)
    assert err.value.field == "nominal_size"


def test_scope_rule_needs_both_listing_and_use() -> None:
    charger = CATALOGUE["22.01"]
    assert is_compulsory(charger, Use.TRADE_SETTLEMENT, date(2023, 1, 1))
    assert not is_compulsory(charger, Use.TRADE_SETTLEMENT, date(2022, 12, 31))
    assert not is_compulsory(charger, Use.OTHER, date(2024, 1, 1))
    assert not is_compulsory(None, Use.MEDICAL, date(2024, 1, 1))


def test_validity_and_effective_chain() -> None:
    assert valid_until(Conclusion.FAIL, date(2026, 1, 1)) is None
    assert valid_until(Conclusion.PASS, None) == NEVER_DUE
    assert covered(date(2026, 1, 1), date(2025, 12, 31)) and not covered(date(2026, 1, 1), date(2026, 1, 1))
    assert covered(date(2026, 1, 1), date(2026, 1, 5), grace_days=7)
    assert covered(NEVER_DUE, date(9999, 1, 1))
    d1, d2 = date(2024, 1, 1), date(2025, 1, 1)
    assert effective_chain([d1, d2]) == [d2, None]


# --- Indicator roll-up ------------------------------------------------------------------------------


def test_roll_up_sums_counties_into_city_and_province_per_item_and_overall() -> None:
    counts = [
        Count("339901", "09.01", 8, 10),
        Count("339902", "09.01", 1, 2),
        Count("339902", "06.01", 5, 5),
        Count("339801", "09.01", 0, 100),
    ]
    totals = roll_up(counts, "339900")
    assert totals[("339900", "09.01")] == (9, 12)
    assert totals[("339900", ALL_ITEMS)] == (14, 17)
    assert totals[("339902", ALL_ITEMS)] == (6, 7)
    assert ("330000", ALL_ITEMS) not in totals  # nothing above the root
    assert ("339801", "09.01") not in totals  # outside the root


def test_standard_coverage_counts_items_in_use_with_a_standard_of_the_region() -> None:
    in_use = {"339901": {"09.01", "06.01"}, "339902": {"09.01", "16.01"}}
    with_std = {"339900": {"09.01"}, "339902": {"16.01"}}
    cov = standard_coverage(in_use, with_std, "339900")
    assert cov["339900"] == (2, 3)  # 09.01 and 16.01 of the three items in use
    assert cov["339901"] == (0, 2)  # the city's standard is not the county's own
    assert standard_coverage(in_use, with_std, "339900", standards_from_ancestors=True)["339901"] == (1, 2)


def test_targets_inherit_from_the_nearest_ancestor() -> None:
    v = IndicatorValue(Indicator.VERIFICATION_COVERAGE, "339901", ALL_ITEMS, 9, 10)
    [out] = with_targets(
        [v], {("330000", "verification_coverage"): 0.95, ("339900", "verification_coverage"): 0.92}
    )
    assert (out.target == 0.92 and out.meets_target is False) or out.rate == 0.9
    assert out.gap == pytest.approx(0.9 - 0.92)
