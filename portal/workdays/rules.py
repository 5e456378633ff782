"""Pure date arithmetic for legal deadlines (DOMAIN §0 conventions, §9 deadlines engine).

Every function takes an `is_workday(day) -> bool` callable, so the calendar source (package, admin overrides,
weekday fallback) stays in services.py and these rules are testable with any calendar.

Conventions:
* the day of the triggering event is not counted; counting starts the next day ("开始的当日不计入");
* "X日前" is inclusive: a filing on the due date itself is on time.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Callable, Iterator

IsWorkday = Callable[[date], bool]

# Longest run of non-working days we accept before assuming the calendar is broken (Spring Festival is 9 days).
MAX_NON_WORKING_RUN = 60


class CalendarError(ValueError):
    """The calendar has no working day within MAX_NON_WORKING_RUN days: the data must be wrong."""


def weekday_is_workday(day: date) -> bool:
    """Mon–Fri: the fallback for years no holiday data exists for yet."""
    return day.weekday() < 5


def next_working_day(day: date, is_workday: IsWorkday, *, include_start: bool = False) -> date:
    """The first working day after `day` (or `day` itself when include_start and it is a working day)."""
    current = day if include_start else day + timedelta(days=1)
    for _ in range(MAX_NON_WORKING_RUN):
        if is_workday(current):
            return current
        current += timedelta(days=1)
    raise CalendarError(f"no working day within {MAX_NON_WORKING_RUN} days after {day.isoformat()}")


def add_working_days(start: date, n: int, is_workday: IsWorkday) -> date:
    """The n-th working day after `start`; the start day itself is never counted, whatever kind of day it is.

    "Within 5 working days of receiving the legal document" (DOMAIN §1.4): received Friday → due the Friday after.
    """
    if n < 0:
        raise ValueError("n must not be negative")
    current = start
    for _ in range(n):
        current = next_working_day(current, is_workday)
    return current


def add_natural_days(start: date, n: int, is_workday: IsWorkday | None = None, *,
                     roll_to_working_day: bool = False) -> date:
    """start + n calendar days (the start day not counted). With roll_to_working_day, a due date that falls on a
    rest day moves to the next working day (民法典 art. 203: 期间的最后一日是法定休假日的，以法定休假日结束的次日为期间的最后一日)."""
    if n < 0:
        raise ValueError("n must not be negative")
    due = start + timedelta(days=n)
    if roll_to_working_day:
        if is_workday is None:
            raise ValueError("roll_to_working_day needs an is_workday calendar")
        due = next_working_day(due, is_workday, include_start=True)
    return due


def is_on_time(done: date, due: date, *, inclusive: bool = True) -> bool:
    """Whether something done on `done` meets a deadline `due`; "X日前" counts the due day itself by default."""
    return done <= due if inclusive else done < due


def working_days_between(start: date, end: date, is_workday: IsWorkday) -> int:
    """How many working days lie after `start` up to and including `end` (0 when end <= start)."""
    return sum(1 for day in days_in_range(start + timedelta(days=1), end) if is_workday(day))


def days_in_range(first: date, last: date) -> Iterator[date]:
    current = first
    while current <= last:
        yield current
        current += timedelta(days=1)


@dataclass(frozen=True)
class DayInfo:
    """One calendar day as shown on the admin page: working or not, and where that answer came from."""

    day: date
    is_workday: bool
    source: str  # "override" / "package" / "weekday"
    note: str = ""

    @property
    def kind(self) -> str:
        """workday / rest (ordinary weekend) / holiday (weekday off) / makeup (weekend working day)."""
        weekend = self.day.weekday() >= 5
        if self.is_workday:
            return "makeup" if weekend else "workday"
        return "rest" if weekend else "holiday"


def month_weeks(year: int, month: int) -> list[list[date | None]]:
    """The month as Monday-first weeks, None for padding cells (for a calendar grid)."""
    first = date(year, month, 1)
    last = (date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1))
    cells: list[date | None] = [None] * first.weekday() + list(days_in_range(first, last))
    cells += [None] * (-len(cells) % 7)
    return [cells[i:i + 7] for i in range(0, len(cells), 7)]
