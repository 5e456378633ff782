"""Pure exceedance rules (DOMAIN §5.8): every case of the comparison."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from portal.monitoring import rules
from portal.monitoring.rules import LimitSpec

COD = LimitSpec("daily", limit_value=100, pollutant_code="w01018")
SO2 = LimitSpec("hourly", limit_value=50, pollutant_code="a21026", reference_o2=6)
PH = LimitSpec("instant", limit_min=6, limit_max=9, pollutant_code="w01001")
NOISE_RANGE = LimitSpec("instant", limit_max=65, pollutant_code="LA")
INSTANT = LimitSpec("instant", limit_value=2, pollutant_code="w21003")
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize("value, spec, multiple", [
    (150, COD, 0.5),
    (100.0001, COD, 0.0),
    (300, COD, 2.0),
    (75, SO2, 0.5),
])
def test_values_above_the_limit_exceed_with_multiple_measured_minus_limit_over_limit(value, spec, multiple):
    verdict = rules.check(value, spec)
    assert verdict is not None
    assert verdict.multiple == multiple
    assert verdict.value == value


@pytest.mark.parametrize("value", [100, 99.9, 0, None])
def test_values_at_or_below_the_limit_or_missing_are_compliant(value):
    assert rules.check(value, COD) is None


@pytest.mark.parametrize("value, exceeds", [(5.99, True), (6, False), (7.5, False), (9, False), (9.01, True),
                                            (14, True), (0, True)])
def test_ph_is_judged_by_its_range_and_never_has_a_multiple(value, exceeds):
    verdict = rules.check(value, PH)
    assert (verdict is not None) == exceeds
    if verdict:
        assert verdict.multiple is None
        assert (verdict.limit_min, verdict.limit_max) == (6, 9)


def test_ph_code_is_a_range_limit_even_with_a_limit_value_set():
    assert LimitSpec("instant", limit_value=9, limit_min=6, limit_max=9, pollutant_code="w01001").is_range


def test_a_one_sided_range_limit_has_no_multiple():
    assert rules.check(70, NOISE_RANGE).multiple is None
    assert rules.check(60, NOISE_RANGE) is None


def test_a_zero_or_missing_limit_never_produces_a_division_by_zero():
    assert rules.check(5, LimitSpec("daily", limit_value=0)) is None
    assert rules.check(5, LimitSpec("daily")) is None


@pytest.mark.parametrize("c, o2, ref, expected", [
    (40, 12, 6, 66.667),
    (40, 6, 6, 40.0),
    (40, 3, 6, 33.333),
    (100, 9, 3, 150.0),
])
def test_conversion_to_reference_oxygen(c, o2, ref, expected):
    assert round(rules.convert_to_reference_o2(c, o2, ref), 3) == expected


@pytest.mark.parametrize("o2", [21, 25, -1])
def test_conversion_is_impossible_at_or_above_ambient_oxygen(o2):
    assert rules.convert_to_reference_o2(40, o2, 6) is None


@pytest.mark.parametrize("spec, medium, basis", [
    (SO2, "gas", "hourly_mean"),
    (COD, "water", "daily_mean"),
    (LimitSpec("hourly", limit_value=1, pollutant_code="w01018"), "water", "hourly_mean"),
    (PH, "water", None),
    (INSTANT, "water", None),
])
def test_gas_compares_hourly_means_water_daily_means_and_ph_never_averages(spec, medium, basis):
    assert rules.mean_basis(spec, medium) == basis


def test_the_compared_mean_uses_converted_values_when_the_limit_sets_reference_oxygen():
    assert rules.compared_mean(2, 80.0, 2, 120.0, SO2) == 60.0
    assert rules.compared_mean(2, 80.0, 0, 0.0, SO2) is None
    assert rules.compared_mean(2, 80.0, 2, 120.0, COD) == 40.0
    assert rules.compared_mean(0, 0.0, 0, 0.0, COD) is None


@pytest.mark.parametrize("flag, counts", [("N", True), (None, True), ("F", False), ("M", False), ("S", False),
                                          ("D", False), ("C", False), ("T", False), ("B", False)])
def test_only_normal_data_count_toward_exceedance(flag, counts):
    verdict = rules.value_checks(3.0, None, None, flag, PH)
    assert (verdict is not None) == counts


def test_ph_checks_the_periods_minimum_and_maximum_not_only_its_mean():
    assert rules.value_checks(7.5, 5.0, 8.0, "N", PH).value == 5.0
    assert rules.value_checks(7.5, 6.5, 9.5, "N", PH).value == 9.5
    assert rules.value_checks(7.5, 6.5, 8.5, "N", PH) is None


def test_instant_limits_check_every_value_but_mean_limits_do_not():
    assert rules.value_checks(3.0, None, None, "N", INSTANT).multiple == 0.5
    assert rules.value_checks(300.0, None, None, "N", COD) is None


@pytest.mark.parametrize("moment, resolution, start", [
    (datetime(2026, 11, 1, 1, 30, tzinfo=timezone.utc), "hour", datetime(2026, 11, 1, 1, 0, tzinfo=timezone.utc)),
    (datetime(2026, 11, 1, 17, 30, tzinfo=timezone.utc), "day", datetime(2026, 11, 1, 16, 0, tzinfo=timezone.utc)),
    (datetime(2026, 11, 1, 15, 30, tzinfo=timezone.utc), "day", datetime(2026, 10, 31, 16, 0, tzinfo=timezone.utc)),
    (datetime(2026, 10, 31, 16, 30, tzinfo=timezone.utc), "month", datetime(2026, 10, 31, 16, 0, tzinfo=timezone.utc)),
])
def test_periods_follow_china_local_time(moment, resolution, start):
    assert rules.local_period_start(moment, resolution, SHANGHAI) == start


def test_period_ends():
    start = datetime(2026, 11, 30, 16, 0, tzinfo=timezone.utc)  # 2026-12-01 local
    assert rules.period_end(start, "day", SHANGHAI) == datetime(2026, 12, 1, 16, 0, tzinfo=timezone.utc)
    assert rules.period_end(start, "month", SHANGHAI) == datetime(2026, 12, 31, 16, 0, tzinfo=timezone.utc)
    assert rules.period_end(start, "hour", SHANGHAI) == datetime(2026, 11, 30, 17, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("hours_since, threshold, gap", [(25, 24, 24), (24, 24, None), (10, 24, None),
                                                        (49, 24, 48)])
def test_gaps_count_whole_hours_without_a_valid_hourly_value(hours_since, threshold, gap):
    last = datetime(2026, 11, 1, 0, 0, tzinfo=timezone.utc)
    now = last.replace(hour=0) + (datetime(2026, 11, 1, 1, tzinfo=timezone.utc) - last) * hours_since
    assert rules.gap_hours(last, now, threshold) == gap
