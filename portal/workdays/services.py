"""The working-day calendar: admin overrides first, then the chinese_calendar package, then Mon–Fri.

Holidays for next year are announced by the State Council each November; until the package knows them an admin
imports the year's official schedule (portal/workdays/importing.py) or enters single overrides. Meanwhile the weekday
fallback keeps deadlines computable, but never silently: a working-day deadline falling in a year without official
data is *provisional* (`is_provisional`), and every page, API and feed showing it says so.
"""
from __future__ import annotations

import logging
from datetime import date

import chinese_calendar
import sqlalchemy as sa
from chinese_calendar.constants import holidays as _PACKAGE_HOLIDAYS
from flask import g, has_app_context
from flask_babel import gettext as _

from portal.audit.services import record, snapshot
from portal.errors import DomainError, NotFound
from portal.extensions import db
from portal.workdays import rules
from portal.workdays.models import CalendarOverride, CalendarYear

log = logging.getLogger(__name__)
_warned_years: set[int] = set()
_G_KEY = "_workday_calendar"


def known_years() -> range:
    """The years the installed chinese_calendar package has official holiday data for."""
    years = [d.year for d in _PACKAGE_HOLIDAYS]
    return range(min(years), max(years) + 1)


def package_answer(day: date) -> bool | None:
    """The package's answer, or None for a year it does not know (warned about once per process)."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        if day.year not in _warned_years:
            _warned_years.add(day.year)
            log.warning("chinese_calendar has no data for %s; using Mon–Fri plus admin overrides", day.year)
        return None


class WorkdayCalendar:
    """A snapshot of the overrides (one query) with the package and weekday fallback behind it."""

    def __init__(self, overrides: dict[date, tuple[bool, str]], imported_years: frozenset[int] = frozenset()):
        self.overrides = overrides
        self.imported_years = imported_years

    def has_official_data(self, year: int) -> bool:
        """Whether the holidays of `year` are known: from the package, or from an imported official schedule."""
        return year in known_years() or year in self.imported_years

    def is_provisional(self, day: date) -> bool:
        """A working-day deadline on `day` was counted with the Mon–Fri fallback: it may move once the year's
        official schedule is imported."""
        return not self.has_official_data(day.year)

    def describe(self, day: date) -> rules.DayInfo:
        if day in self.overrides:
            is_work, note = self.overrides[day]
            return rules.DayInfo(day, is_work, "override", note)
        answer = package_answer(day)
        if answer is not None:
            detail = chinese_calendar.get_holiday_detail(day)[1] or ""
            return rules.DayInfo(day, answer, "package", str(detail))
        return rules.DayInfo(day, rules.weekday_is_workday(day), "weekday")

    def is_workday(self, day: date) -> bool:
        return self.describe(day).is_workday

    __call__ = is_workday


def load_calendar() -> WorkdayCalendar:
    rows = db.session.execute(sa.select(CalendarOverride.day, CalendarOverride.is_workday, CalendarOverride.note))
    years = frozenset(db.session.scalars(sa.select(CalendarYear.year)))
    return WorkdayCalendar({day: (is_work, note or "") for day, is_work, note in rows}, years)


def calendar() -> WorkdayCalendar:
    """The calendar for this request or job run: overrides are read once per app context, not once per day."""
    if not has_app_context():
        return load_calendar()
    cached = g.get(_G_KEY)
    if cached is None:
        cached = load_calendar()
        setattr(g, _G_KEY, cached)
    return cached


def _forget_calendar() -> None:
    if has_app_context():
        g.pop(_G_KEY, None)


def is_workday(day: date) -> bool:
    return calendar().is_workday(day)


def is_provisional(day: date | None) -> bool:
    """Whether a deadline counted in working days that falls on `day` is provisional (no official data)."""
    return day is not None and calendar().is_provisional(day)


def gap_years(today: date, ahead: int = 1) -> list[int]:
    """The years from this one to `ahead` years on whose holidays are not known: deadlines there are provisional."""
    cal = calendar()
    return [y for y in range(today.year, today.year + ahead + 1) if not cal.has_official_data(y)]


def imported_year(year: int) -> CalendarYear | None:
    return db.session.get(CalendarYear, year)


def forget_calendar() -> None:
    """Drop the calendar cached for this app context (after the overrides or the imported years change)."""
    _forget_calendar()


def add_working_days(start: date, n: int) -> date:
    """Due date n working days after start (the start day not counted), on the current calendar."""
    return rules.add_working_days(start, n, calendar().is_workday)


def add_natural_days(start: date, n: int, roll_to_working_day: bool = False) -> date:
    return rules.add_natural_days(start, n, calendar().is_workday, roll_to_working_day=roll_to_working_day)


def next_working_day(day: date, include_start: bool = False) -> date:
    return rules.next_working_day(day, calendar().is_workday, include_start=include_start)


def month_days(year: int, month: int) -> list[list[rules.DayInfo | None]]:
    cal = calendar()
    return [[cal.describe(d) if d else None for d in week] for week in rules.month_weeks(year, month)]


def special_days(year: int) -> list[rules.DayInfo]:
    """Every day of the year that differs from a plain Mon–Fri week, plus every override (for the year list)."""
    cal = calendar()
    days = rules.days_in_range(date(year, 1, 1), date(year, 12, 31))
    infos = (cal.describe(d) for d in days)
    return [i for i in infos if i.source == "override" or i.is_workday != rules.weekday_is_workday(i.day)]


def year_overrides(year: int) -> list[CalendarOverride]:
    stmt = (sa.select(CalendarOverride).where(CalendarOverride.day >= date(year, 1, 1),
                                              CalendarOverride.day <= date(year, 12, 31))
            .order_by(CalendarOverride.day))
    return list(db.session.scalars(stmt))


def set_override(day: date, is_workday: bool, note: str, actor) -> CalendarOverride:
    """Create or change the override for one day (audited); the cached calendar is dropped."""
    note = (note or "").strip()
    if len(note) > 100:
        raise DomainError(_("The note may have at most 100 characters."), field="note")
    override = db.session.get(CalendarOverride, day)
    before = snapshot(override) if override else None
    if override is None:
        override = CalendarOverride(day=day, is_workday=is_workday, note=note, updated_by_id=actor.id)
        db.session.add(override)
    else:
        override.is_workday, override.note, override.updated_by_id = is_workday, note, actor.id
    action = "calendar_override.update" if before else "calendar_override.create"
    record(actor, action, override, before=before, object_id=day.isoformat())
    _forget_calendar()
    return override


def remove_override(day: date, actor) -> None:
    """Delete one day's override (audited), so the package or weekday rule applies again."""
    override = db.session.get(CalendarOverride, day)
    if override is None:
        raise NotFound(_("There is no override for %(day)s.", day=day.isoformat()))
    record(actor, "calendar_override.delete", override, before=snapshot(override), object_id=day.isoformat())
    db.session.delete(override)
    db.session.flush()
    _forget_calendar()
