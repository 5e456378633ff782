"""Pure rules for the prefecture's reports to the province (order 24 Art. 9 and Art. 23, DOMAIN §1.3 and §1.10):
due dates and timeliness. No database, request or app."""
from __future__ import annotations

from datetime import date

from portal.workdays import rules as wd

LIST_REPORT_WORKING_DAYS = 10  # Art. 9: the list goes to the province within 10 working days after publication
WORK_REPORT_MONTH_DAY = (3, 31)  # Art. 23: the previous year's disclosure work, by the end of March

ON_TIME, LATE, PENDING, OVERDUE = "on_time", "late", "pending", "overdue"


def list_report_due(published_on: date, is_workday: wd.IsWorkday) -> date:
    """10 working days after publication, the publication day not counted."""
    return wd.add_working_days(published_on, LIST_REPORT_WORKING_DAYS, is_workday)


def work_report_due(year: int) -> date:
    """The report on `year` is due on 31 March of the following year (a fixed date, not moved off a weekend)."""
    month, day = WORK_REPORT_MONTH_DAY
    return date(year + 1, month, day)


def timeliness(due_on: date, done_on: date | None, today: date) -> str:
    """ON_TIME / LATE once done (the due day itself is on time); PENDING until the due day ends, then OVERDUE."""
    if done_on is not None:
        return ON_TIME if done_on <= due_on else LATE
    return PENDING if today <= due_on else OVERDUE
