"""Display rules shared by every console page: local time, meaningful digits."""

from __future__ import annotations

from datetime import UTC, date, datetime

from jiliang.web.common import local_time, percent, significant


def test_times_are_shown_in_asia_shanghai() -> None:
    assert local_time(datetime(2026, 6, 15, 20, 0, tzinfo=UTC)) == "2026-06-16 04:00"
    assert local_time(datetime(2026, 6, 15, 20, 0)) == "2026-06-16 04:00"  # naive values are stored UTC
    assert local_time(date(2026, 1, 2)) == "2026-01-02"
    assert local_time(None) == ""


def test_uncertainties_keep_two_significant_digits_jjf_1059_1() -> None:
    assert significant(0.0291) == "0.029"
    assert significant(0.29558) == "0.30"
    assert significant(0.0000166752077705000002) == "1.7e-05"  # the float noise a reviewer saw
    assert significant(12345.6) == "12000"
    assert significant(0.0) == "0"


def test_ratios_are_percentages() -> None:
    assert percent(0.91234) == "91.2 %"
    assert percent(None) == "—"
