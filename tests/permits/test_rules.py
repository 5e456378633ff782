"""Pure rules of execution reports: periods per frequency with folding, the held-long-enough rule, shutdown cover,
working-day roll and judging."""
from __future__ import annotations

from datetime import date

from portal.permits import rules
from portal.permits.models import ReportFrequency as F
from portal.permits.models import ReportStatus


def _keys(periods):
    return [(p.frequency.value, p.start.isoformat(), p.due_on.isoformat()) for p in periods]


def test_annual_and_quarterly_fold_the_fourth_quarter_into_the_annual_report():
    periods = rules.periods_of_year(2026, (F.YEAR, F.QUARTER), date(2027, 1, 15))
    assert _keys(periods) == [("year", "2026-01-01", "2027-01-15"), ("quarter", "2026-01-01", "2026-04-15"),
                              ("quarter", "2026-04-01", "2026-07-15"), ("quarter", "2026-07-01", "2026-10-15")]


def test_monthly_reports_skip_quarter_ends_and_december_when_quarterly_and_annual_exist():
    months = [p for p in rules.periods_of_year(2026, (F.YEAR, F.QUARTER, F.MONTH), date(2027, 1, 15))
              if p.frequency == F.MONTH]
    assert [p.start.month for p in months] == [1, 2, 4, 5, 7, 8, 10, 11]
    assert months[-1].due_on == date(2026, 12, 15) and months[-1].end == date(2026, 11, 30)
    alone = rules.periods_of_year(2026, (F.MONTH,), date(2027, 1, 15))
    assert len(alone) == 12 and alone[-1].due_on == date(2027, 1, 15)


def test_half_year_reports_fold_the_second_half_into_the_annual_one():
    assert _keys(rules.periods_of_year(2026, (F.YEAR, F.HALF), date(2027, 2, 28))) == [
        ("year", "2026-01-01", "2027-02-28"), ("half", "2026-01-01", "2026-07-15")]
    assert _keys(rules.periods_of_year(2026, (F.HALF,), date(2027, 1, 15)))[1] == ("half", "2026-07-01", "2027-01-15")


def test_a_period_held_too_briefly_rolls_into_the_next():
    year = rules.Period(F.YEAR, date(2026, 1, 1), date(2026, 12, 31), date(2027, 1, 15))
    assert not rules.held_enough(year, date(2026, 10, 2), date(2031, 1, 1))  # < 3 months
    assert rules.held_enough(year, date(2026, 10, 1), date(2031, 1, 1))  # exactly 3 months
    month = rules.Period(F.MONTH, date(2026, 5, 1), date(2026, 5, 31), date(2026, 6, 15))
    assert not rules.held_enough(month, date(2026, 5, 23), date(2031, 1, 1))  # 9 days
    assert rules.held_enough(month, date(2026, 5, 22), date(2031, 1, 1))  # 10 days
    assert not rules.held_enough(month, date(2020, 1, 1), date(2026, 4, 30))  # expired before the month


def test_shutdown_cover_needs_every_day_of_the_period():
    assert rules.covered(date(2026, 4, 1), date(2026, 6, 30), [(date(2026, 3, 1), date(2026, 7, 5))], date(2026, 8, 1))
    assert rules.covered(date(2026, 4, 1), date(2026, 6, 30),
                         [(date(2026, 3, 1), date(2026, 4, 30)), (date(2026, 5, 1), None)], date(2026, 7, 1))
    assert not rules.covered(date(2026, 4, 1), date(2026, 6, 30), [(date(2026, 4, 2), None)], date(2026, 7, 1))
    assert not rules.covered(date(2026, 4, 1), date(2026, 6, 30),
                             [(date(2026, 4, 1), date(2026, 5, 1)), (date(2026, 5, 3), None)], date(2026, 7, 1))


def test_a_deadline_on_a_rest_day_moves_to_the_next_working_day_and_the_due_day_itself_is_on_time():
    weekdays = lambda d: d.weekday() < 5  # noqa: E731
    assert rules.effective_due(date(2028, 1, 15), weekdays) == date(2028, 1, 17)  # Saturday → Monday
    assert rules.judge(date(2028, 1, 17), date(2028, 1, 17), date(2028, 2, 1)) == ReportStatus.ON_TIME
    assert rules.judge(date(2028, 1, 17), date(2028, 1, 18), date(2028, 2, 1)) == ReportStatus.LATE
    assert rules.judge(date(2028, 1, 17), None, date(2028, 1, 17)) == ReportStatus.PENDING
    assert rules.judge(date(2028, 1, 17), None, date(2028, 1, 18)) == ReportStatus.MISSING
    assert rules.period_label(F.QUARTER, date(2026, 7, 1)) == "2026-Q3"
