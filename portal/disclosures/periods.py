"""List-membership periods (order 24 Art. 10, DOMAIN §1.2) as pure rules: no database, request or app.

* A listed company or bond issuer with an Art. 8 event in year E is on the enterprise list for 3 consecutive years,
  E+1 … E+3.
* If another Art. 8 event happens during those years, another 3 consecutive years start when the first 3 end. Several
  events inside one period open one further period, not one each (the text says "再连续三年", once per period).
* An event after a period has ended opens a fresh period from the following year.
* An enterprise meeting several bases is listed for the longest resulting period (`listed_until`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

ART8_YEARS = 3  # Art. 10: 连续三年纳入企业名单
CLEAN_PROD_YEARS_AFTER_ACCEPTANCE = 3  # Art. 10: 完成强制性清洁生产审核验收后的第三年


@dataclass(frozen=True)
class Event:
    """One Art. 8 event: the trigger code (rules.ART8_TRIGGERS), the year it happened and its document number."""

    trigger: str
    year: int
    document_no: str = ""


@dataclass(frozen=True)
class Period:
    """List years `start` … `end` (inclusive). `events` opened it; `chained` when it follows an earlier period
    because an event happened during that one."""

    start: int
    end: int
    events: tuple[Event, ...] = field(default=())
    chained: bool = False

    def covers(self, year: int) -> bool:
        return self.start <= year <= self.end


def art8_periods(events: Iterable[Event]) -> list[Period]:
    """The periods an enterprise's Art. 8 events put it on the list, oldest first, without overlaps."""
    by_year: dict[int, list[Event]] = {}
    for event in events:
        by_year.setdefault(event.year, []).append(event)
    periods: list[Period] = []
    for year in sorted(by_year):
        found = by_year[year]
        during = next((i for i, p in enumerate(periods) if p.covers(year)), None)
        if during is None:
            periods.append(Period(year + 1, year + ART8_YEARS, tuple(found)))
            continue
        start = periods[during].end + 1
        follow = next((i for i, p in enumerate(periods) if p.start == start), None)
        if follow is None:
            periods.append(Period(start, start + ART8_YEARS - 1, tuple(found), chained=True))
        else:
            p = periods[follow]
            periods[follow] = Period(p.start, p.end, p.events + tuple(found), p.chained)
    return periods


def clean_prod_period(listed_year: int, accepted_year: int | None) -> Period:
    """Mandatory cleaner-production audit: from the year put on the audit list until the third year after the audit
    passed acceptance; open-ended (end = 9999) while it has not passed."""
    end = accepted_year + CLEAN_PROD_YEARS_AFTER_ACCEPTANCE if accepted_year is not None else 9999
    return Period(listed_year, max(end, listed_year))


def period_for(periods: Iterable[Period], year: int) -> Period | None:
    return next((p for p in periods if p.covers(year)), None)


def listed_until(periods: Iterable[Period], year: int) -> int | None:
    """The last list year of the longest run of periods (of any basis) that covers `year`: periods that overlap or
    follow each other without a gap count as one run. None when no period covers `year`."""
    ordered = sorted(periods, key=lambda p: (p.start, p.end))
    if not any(p.covers(year) for p in ordered):
        return None
    end = year
    for p in ordered:  # sorted by start: one pass joins every overlapping or adjoining period
        if p.start <= end + 1 and p.end > end:
            end = p.end
    return end


def events_of_year(events: Iterable[Event], year: int) -> list[Event]:
    return [e for e in events if e.year == year]
