"""Pure rules of execution reports (DOMAIN §5.11, "Typical permit table"): which periods a permit owes a report
for, when each is due, and how a filing is judged. No database, request or app here.

- Frequencies come from the permit's management class (configuration, [M]): registration-class (登记) units owe
  none; they keep their registration form up to date instead (排污许可管理条例 art. 24).
- Deadlines: annual by 15 January of the next year (a jurisdiction may re-date a year); half-year by 15 July (the
  second half is folded into the annual report when the permit requires one); quarterly by the 15th of the first month
  of the next quarter (Q4 is folded into the annual report); monthly by the 15th of the next month (months 3/6/9/12
  are folded into the quarterly report, and December into the annual one).
- Not due where the permit was held for less than 3 months (annual, half-year), 1 month (quarter) or 10 days (month)
  of the period: that time is reported with the next period.
- A deadline on a non-working day moves to the next working day (民法典 art. 203); a deadline in a year without
  official holiday data is provisional.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Callable, Iterable

from portal.permits.models import ReportFrequency, ReportStatus

F = ReportFrequency
ORDER = (F.YEAR, F.HALF, F.QUARTER, F.MONTH)
REMINDER_DAYS = (14, 3, 1)


@dataclass(frozen=True)
class Period:
    frequency: ReportFrequency
    start: date
    end: date  # inclusive
    due_on: date  # nominal (before rolling to a working day)

    @property
    def key(self) -> str:
        return f"{self.frequency.value}:{self.start.isoformat()}"


def add_months(day: date, months: int) -> date:
    """The same day `months` later, clamped to the month's end."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise ValueError(day)


def parse_frequencies(values: Iterable[str]) -> tuple[ReportFrequency, ...]:
    wanted = {F(v) for v in values}
    return tuple(f for f in ORDER if f in wanted)


def _month_day(text: str, year: int) -> date:
    month, day = (int(x) for x in text.split("-"))
    return date(year, month, day)


def periods_of_year(year: int, frequencies: tuple[ReportFrequency, ...], annual_due: date, due_day: int = 15,
                    half_due: str = "07-15") -> list[Period]:
    """Every report period starting in `year` that the frequencies require, after folding."""
    result = []
    has_year, has_quarter = F.YEAR in frequencies, F.QUARTER in frequencies
    if has_year:
        result.append(Period(F.YEAR, date(year, 1, 1), date(year, 12, 31), annual_due))
    if F.HALF in frequencies:
        result.append(Period(F.HALF, date(year, 1, 1), date(year, 6, 30), _month_day(half_due, year)))
        if not has_year:
            result.append(Period(F.HALF, date(year, 7, 1), date(year, 12, 31), date(year + 1, 1, due_day)))
    if has_quarter:
        for q in range(1, 5):
            if q == 4 and has_year:
                continue
            start = date(year, 3 * q - 2, 1)
            end = add_months(start, 3) - timedelta(days=1)
            result.append(Period(F.QUARTER, start, end, add_months(start, 3).replace(day=due_day)))
    if F.MONTH in frequencies:
        for m in range(1, 13):
            if (has_quarter and m % 3 == 0) or (has_year and m == 12):
                continue
            start = date(year, m, 1)
            end = add_months(start, 1) - timedelta(days=1)
            result.append(Period(F.MONTH, start, end, add_months(start, 1).replace(day=due_day)))
    return sorted(result, key=lambda p: (p.start, ORDER.index(p.frequency)))


def held_enough(period: Period, held_from: date, held_to: date) -> bool:
    """Whether the permit was held long enough within the period to owe its report (else it rolls into the next)."""
    start, end = max(period.start, held_from), min(period.end, held_to)
    if end < start:
        return False
    if period.frequency in (F.YEAR, F.HALF):
        return add_months(start, 3) <= end + timedelta(days=1)
    if period.frequency == F.QUARTER:
        return add_months(start, 1) <= end + timedelta(days=1)
    return (end - start).days + 1 >= 10


def covered(start: date, end: date, shutdowns: Iterable[tuple[date, date | None]], today: date) -> bool:
    """Whether every day from start to end (inclusive) lies in a shutdown; an open shutdown runs to `today`."""
    day = start
    for s_from, s_to in sorted(shutdowns):
        s_to = s_to or today
        if s_from > day:
            return False
        if s_to >= day:
            day = s_to + timedelta(days=1)
        if day > end:
            return True
    return day > end


def effective_due(due_on: date, is_workday: Callable[[date], bool]) -> date:
    day = due_on
    while not is_workday(day):
        day += timedelta(days=1)
    return day


def judge(effective: date, submitted_on: date | None, today: date) -> ReportStatus:
    """ON_TIME / LATE once filed (the due day itself is on time); PENDING until the due day ends, then MISSING."""
    if submitted_on is not None:
        return ReportStatus.ON_TIME if submitted_on <= effective else ReportStatus.LATE
    return ReportStatus.PENDING if today <= effective else ReportStatus.MISSING


def reminder_offset(effective: date, today: date) -> int | None:
    days = (effective - today).days
    return days if days in REMINDER_DAYS else None


def period_label(frequency: ReportFrequency, start: date) -> str:
    """Language-neutral period name: 2026, 2026-H1, 2026-Q3, 2026-05."""
    if frequency == F.YEAR:
        return str(start.year)
    if frequency == F.HALF:
        return f"{start.year}-H{1 if start.month <= 6 else 2}"
    if frequency == F.QUARTER:
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    return f"{start.year}-{start.month:02d}"
