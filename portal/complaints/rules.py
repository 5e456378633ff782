"""Pure complaint rules: the state machine, SLA dates, duplicates and codes (no db, request or app).

SLA periods are natural days (DOMAIN §6.3–6.4, §9: acceptance +15 days, closure +60 days, one extension ≤ 30
days). A period whose last day is a statutory rest day ends on the next working day (民法典 art. 203), so every
due date is rolled forward with the working-day calendar passed in.
"""
from __future__ import annotations

import math
import re
import secrets
from datetime import date
from typing import Callable

from portal.auth.models import Role
from portal.auth.rules import in_jurisdiction
from portal.complaints.models import Status
from portal.workdays.rules import add_natural_days

IsWorkday = Callable[[date], bool]

ACCEPT_DAYS = 15
CLOSE_DAYS = 60
MAX_EXTENSION_DAYS = 30
REVIEW_WINDOW_DAYS = 30
DUE_SOON_DAYS = 3
MAX_ATTACHMENTS = 5
EARTH_RADIUS_M = 6_371_008.8

S = Status
TRANSITIONS: dict[Status, frozenset[Status]] = {
    S.RECEIVED: frozenset({S.ACCEPTED, S.REJECTED, S.MERGED}),
    S.REJECTED: frozenset({S.CLOSED}),
    S.MERGED: frozenset({S.CLOSED}),
    S.ACCEPTED: frozenset({S.ASSIGNED, S.INVESTIGATING}),
    S.ASSIGNED: frozenset({S.ASSIGNED, S.INVESTIGATING}),
    S.INVESTIGATING: frozenset({S.EXTENDED, S.RESULT_REPORTED}),
    S.EXTENDED: frozenset({S.RESULT_REPORTED}),
    S.RESULT_REPORTED: frozenset({S.REPLIED}),
    S.REPLIED: frozenset({S.CLOSED, S.REOPENED}),
    S.CLOSED: frozenset({S.REOPENED}),
    S.REOPENED: frozenset({S.INVESTIGATING}),
}
OPEN_STATUSES = frozenset(s for s in Status if s not in (S.CLOSED, S.REJECTED, S.MERGED))
# Statuses before acceptance count against the 15-day clock; the accepted ones against the 60 (+30) day clock.
PRE_ACCEPTANCE = frozenset({S.RECEIVED})
AWAITING_CLOSE = frozenset({S.ACCEPTED, S.ASSIGNED, S.INVESTIGATING, S.EXTENDED, S.RESULT_REPORTED, S.REOPENED})
# The 12345 hotline's due date binds the first handling, not a review.
PARTNER_CLOCK = (PRE_ACCEPTANCE | AWAITING_CLOSE) - {S.REOPENED}

CASE_NO_RE = re.compile(r"^12369-\d{8}-\d{6,}$")
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
CODE_LENGTH = 12


def can_view_complaint(role, user_jurisdiction: str | None, region_code: str,
                       assigned_region: str | None) -> bool:
    """Regulators see the cases of their jurisdiction (by the place, or by the unit it was dispatched to)."""
    if role is None or not role.is_regulator:
        return False
    return in_jurisdiction(user_jurisdiction, region_code) or in_jurisdiction(user_jurisdiction, assigned_region)


def can_see_reporter(role, user_id: int | None, handler_id: int | None, can_view: bool) -> bool:
    """Only the assigned handler and the jurisdiction's lead see who reported (DOMAIN §6.5)."""
    if not can_view or role is None:
        return False
    return (handler_id is not None and user_id == handler_id) or role == Role.REGULATOR_LEAD


def can_see_investigation(role, user_id: int | None, handler_id: int | None, can_view: bool) -> bool:
    """Investigation notes are read and written by the same people who may see the reporter: the assigned handler
    and the jurisdiction's lead."""
    return can_see_reporter(role, user_id, handler_id, can_view)


def can_transition(current: Status, new: Status) -> bool:
    return new in TRANSITIONS.get(current, frozenset())


def accept_due(received_on: date, is_workday: IsWorkday) -> date:
    """Acceptance must be decided within 15 days of receipt."""
    return add_natural_days(received_on, ACCEPT_DAYS, is_workday, roll_to_working_day=True)


def close_due(accepted_on: date, is_workday: IsWorkday) -> date:
    """Handling closes within 60 days of acceptance."""
    return add_natural_days(accepted_on, CLOSE_DAYS, is_workday, roll_to_working_day=True)


def extension_until(current_close_due: date, days: int, already_extended: bool, is_workday: IsWorkday) -> date:
    """One extension of at most 30 days, counted from the original closing date."""
    if already_extended:
        raise ValueError("a complaint may be extended only once")
    if not 1 <= days <= MAX_EXTENSION_DAYS:
        raise ValueError(f"an extension is 1 to {MAX_EXTENSION_DAYS} days")
    return add_natural_days(current_close_due, days, is_workday, roll_to_working_day=True)


def review_deadline(replied_on: date, is_workday: IsWorkday) -> date:
    """The reporter may ask for review within 30 days of the reply (DOMAIN §6.8)."""
    return add_natural_days(replied_on, REVIEW_WINDOW_DAYS, is_workday, roll_to_working_day=True)


def effective_due(status: Status, accept_due_on: date, close_due_on: date | None,
                  extended_until: date | None, partner_due_on: date | None = None) -> date | None:
    """The date the current step must be finished by, or None when no clock runs.

    A case dispatched by 12345 carries the hotline's due date (DOMAIN §6.1: "due date set by 12345"): while the
    first handling runs it is the deadline whenever it comes before the statutory one (acceptance 15 days,
    closure 60 (+30) days), so the bureau answers 12345 on time and never later than the law allows. A reopened
    case (review) runs on the review deadline alone: the hotline's date belonged to the first handling."""
    if status in PRE_ACCEPTANCE:
        statutory = accept_due_on
    elif status in AWAITING_CLOSE:
        statutory = extended_until or close_due_on
    else:
        return None
    if partner_due_on is not None and status in PARTNER_CLOCK and (statutory is None or partner_due_on < statutory):
        return partner_due_on
    return statutory


def sla_state(today: date, due: date | None) -> str:
    """'none', 'ok', 'due_soon' (≤ 3 days left) or 'overdue' (the due day itself still counts as on time)."""
    if due is None:
        return "none"
    if today > due:
        return "overdue"
    if (due - today).days <= DUE_SOON_DAYS:
        return "due_soon"
    return "ok"


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def is_duplicate_candidate(a: dict, b: dict, *, radius_m: float, window_days: int) -> bool:
    """Same category region and recent, and either the same enterprise or within radius_m of each other.
    Each dict has enterprise_id, latitude, longitude, received_on."""
    if abs((a["received_on"] - b["received_on"]).days) > window_days:
        return False
    if a.get("enterprise_id") and a.get("enterprise_id") == b.get("enterprise_id"):
        return True
    coords = (a.get("latitude"), a.get("longitude"), b.get("latitude"), b.get("longitude"))
    if any(c is None for c in coords):
        return False
    return haversine_m(*coords) <= radius_m


def valid_coordinates(lat: float | None, lon: float | None) -> bool:
    if lat is None and lon is None:
        return True
    if lat is None or lon is None:
        return False
    return -90 <= lat <= 90 and -180 <= lon <= 180


def new_query_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_query_code(raw: str) -> str:
    return re.sub(r"[\s-]", "", raw or "").upper()


def format_query_code(code: str) -> str:
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def case_number(received_on: date, serial: int) -> str:
    return f"12369-{received_on:%Y%m%d}-{serial:06d}"


def open311_status(status: Status) -> str:
    """GeoReport v2 knows only open and closed."""
    return "open" if status in OPEN_STATUSES else "closed"


def overdue_on(today: date, status: Status, accept_due_on: date, close_due_on: date | None,
               extended_until: date | None, partner_due_on: date | None = None) -> bool:
    return sla_state(today, effective_due(status, accept_due_on, close_due_on, extended_until,
                                          partner_due_on)) == "overdue"



def share(part: int, whole: int) -> float | None:
    """A percentage with one decimal, or None when there is nothing to count."""
    return round(100.0 * part / whole, 1) if whole else None


def month_bounds(year: int, month: int) -> tuple[date, date]:
    """First day of the month and first day of the next."""
    first = date(year, month, 1)
    return first, date(year + (month == 12), month % 12 + 1, 1)
