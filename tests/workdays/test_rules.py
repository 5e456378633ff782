"""Pure deadline arithmetic over the real 2025/2026 calendar (chinese_calendar) and synthetic calendars."""
from __future__ import annotations

from datetime import date

import chinese_calendar
import pytest

from portal.workdays import rules

cn = chinese_calendar.is_workday


@pytest.mark.parametrize("day, expected", [
    # 2025 Spring Festival: 28 Jan – 4 Feb off, make-up working days Sun 26 Jan and Sat 8 Feb.
    (date(2025, 1, 26), True), (date(2025, 1, 27), True), (date(2025, 1, 28), False), (date(2025, 2, 4), False),
    (date(2025, 2, 5), True), (date(2025, 2, 8), True), (date(2025, 2, 9), False),
    # 2025 National Day: 1–8 Oct off, make-up Sun 28 Sep and Sat 11 Oct.
    (date(2025, 9, 28), True), (date(2025, 10, 1), False), (date(2025, 10, 8), False), (date(2025, 10, 9), True),
    (date(2025, 10, 11), True),
    # 2026 Spring Festival (chinese_calendar 1.11): 15–23 Feb off, make-up Sat 14 Feb and Sat 28 Feb.
    (date(2026, 2, 14), True), (date(2026, 2, 16), False), (date(2026, 2, 23), False), (date(2026, 2, 24), True),
    (date(2026, 2, 28), True),
    # 2026 National Day: 1–7 Oct off, make-up Sun 20 Sep and Sat 10 Oct.
    (date(2026, 9, 20), True), (date(2026, 10, 1), False), (date(2026, 10, 7), False), (date(2026, 10, 8), True),
    (date(2026, 10, 10), True),
])
def test_the_package_knows_the_2025_and_2026_holidays_and_make_up_days(day, expected):
    assert cn(day) is expected


@pytest.mark.parametrize("start, n, due", [
    (date(2025, 3, 7), 5, date(2025, 3, 14)),      # a document received on a Friday: due the next Friday
    (date(2025, 3, 7), 1, date(2025, 3, 10)),      # one working day after a Friday is Monday
    (date(2025, 1, 27), 1, date(2025, 2, 5)),      # eve of Spring Festival 2025: next working day is 5 Feb
    (date(2025, 1, 27), 4, date(2025, 2, 8)),      # 5, 6, 7 Feb, then the make-up Saturday 8 Feb
    (date(2025, 1, 27), 5, date(2025, 2, 10)),
    (date(2025, 1, 24), 1, date(2025, 1, 26)),     # Friday before: the make-up Sunday 26 Jan counts
    (date(2025, 9, 30), 5, date(2025, 10, 14)),    # eve of National Day 2025: 9, 10, 11(Sat), 13, 14 Oct
    (date(2025, 9, 26), 1, date(2025, 9, 28)),     # make-up Sunday 28 Sep
    (date(2026, 2, 13), 5, date(2026, 2, 27)),     # Friday before Spring Festival 2026: 14, 24, 25, 26, 27 Feb
    (date(2026, 9, 30), 5, date(2026, 10, 13)),    # eve of National Day 2026: 8, 9, 10 (make-up Sat), 12, 13 Oct
    (date(2025, 10, 4), 1, date(2025, 10, 9)),     # received during the holiday: the start day is not counted
    (date(2025, 3, 7), 0, date(2025, 3, 7)),
])
def test_add_working_days_skips_holidays_and_counts_make_up_days(start, n, due):
    assert rules.add_working_days(start, n, cn) == due


def test_the_start_day_is_not_counted_even_when_it_is_a_working_day():
    assert rules.add_working_days(date(2025, 3, 10), 1, cn) == date(2025, 3, 11)


@pytest.mark.parametrize("start, n, roll, due", [
    (date(2025, 9, 16), 15, False, date(2025, 10, 1)),
    (date(2025, 9, 16), 15, True, date(2025, 10, 9)),   # the last day falls in the National Day break
    (date(2025, 3, 1), 15, True, date(2025, 3, 17)),    # Sun 16 Mar → Mon 17 Mar
    (date(2025, 3, 3), 15, True, date(2025, 3, 18)),    # a working day stays
])
def test_natural_days_roll_to_the_next_working_day_only_when_asked(start, n, roll, due):
    assert rules.add_natural_days(start, n, cn, roll_to_working_day=roll) == due


def test_rolling_natural_days_needs_a_calendar():
    with pytest.raises(ValueError):
        rules.add_natural_days(date(2025, 1, 1), 3, roll_to_working_day=True)


@pytest.mark.parametrize("day, include_start, expected", [
    (date(2025, 1, 27), False, date(2025, 2, 5)),
    (date(2025, 1, 27), True, date(2025, 1, 27)),
    (date(2025, 2, 1), True, date(2025, 2, 5)),
    (date(2025, 2, 7), False, date(2025, 2, 8)),
])
def test_next_working_day(day, include_start, expected):
    assert rules.next_working_day(day, cn, include_start=include_start) == expected


@pytest.mark.parametrize("done, due, inclusive, on_time", [
    (date(2025, 3, 15), date(2025, 3, 15), True, True),   # "3月15日前": filing on 15 March is accepted
    (date(2025, 3, 16), date(2025, 3, 15), True, False),
    (date(2025, 3, 15), date(2025, 3, 15), False, False),
    (date(2025, 3, 14), date(2025, 3, 15), False, True),
])
def test_deadlines_are_inclusive_unless_configured_otherwise(done, due, inclusive, on_time):
    assert rules.is_on_time(done, due, inclusive=inclusive) is on_time


def test_working_days_between_counts_after_start_up_to_end():
    assert rules.working_days_between(date(2025, 1, 27), date(2025, 2, 8), cn) == 4
    assert rules.working_days_between(date(2025, 2, 8), date(2025, 1, 27), cn) == 0


def test_a_calendar_without_working_days_is_reported_not_looped_forever():
    with pytest.raises(rules.CalendarError):
        rules.add_working_days(date(2025, 1, 1), 1, lambda d: False)


def test_negative_counts_are_refused():
    with pytest.raises(ValueError):
        rules.add_working_days(date(2025, 1, 1), -1, cn)


@pytest.mark.parametrize("day, is_work, kind", [
    (date(2025, 1, 26), True, "makeup"), (date(2025, 1, 28), False, "holiday"),
    (date(2025, 2, 1), False, "rest"), (date(2025, 2, 5), True, "workday"),
])
def test_day_kinds(day, is_work, kind):
    assert rules.DayInfo(day, is_work, "package").kind == kind


def test_month_weeks_are_monday_first_and_padded():
    weeks = rules.month_weeks(2025, 2)
    assert weeks[0][:5] == [None] * 5 and weeks[0][5] == date(2025, 2, 1)
    assert all(len(w) == 7 for w in weeks)
    assert [d for w in weeks for d in w if d][-1] == date(2025, 2, 28)
    assert rules.month_weeks(2025, 12)[-1][2] == date(2025, 12, 31)
