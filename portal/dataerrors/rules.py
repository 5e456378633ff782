"""Pure rules for data-error reports (no db, request or app): states, the due date, who handles, input checks.

A report is answered within 15 working days of its receipt (the same order of clock as complaint acceptance,
DOMAIN §6.3, counted in working days as for corrections of published information)."""
from __future__ import annotations

import re
import secrets
from datetime import date
from typing import Callable

from portal.auth.rules import in_jurisdiction
from portal.dataerrors.models import Status

DUE_WORKING_DAYS = 15
DUE_SOON_DAYS = 3
MIN_DESCRIPTION = 10
MAX_DESCRIPTION = 2000
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
CODE_LENGTH = 12

S = Status
TRANSITIONS: dict[Status, frozenset[Status]] = {
    S.RECEIVED: frozenset({S.ACKNOWLEDGED, S.CORRECTED, S.REJECTED}),
    S.ACKNOWLEDGED: frozenset({S.CORRECTED, S.REJECTED}),
    S.CORRECTED: frozenset(),
    S.REJECTED: frozenset(),
}
OPEN_STATUSES = frozenset({S.RECEIVED, S.ACKNOWLEDGED})
# What each decision must carry: a correction says what was corrected, a rejection says why.
NOTE_REQUIRED = frozenset({S.CORRECTED, S.REJECTED})

PHONE_RE = re.compile(r"^\+?[0-9][0-9 \-]{5,19}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def can_transition(current: Status, new: Status) -> bool:
    return new in TRANSITIONS[current]


def can_handle(role, user_jurisdiction: str | None, region_code: str) -> bool:
    """Regulators whose jurisdiction covers the enterprise's region handle its reports."""
    return role is not None and role.is_regulator and in_jurisdiction(user_jurisdiction, region_code)


def due_on(received_on: date, is_workday: Callable[[date], bool]) -> date:
    from portal.workdays.rules import add_working_days

    return add_working_days(received_on, DUE_WORKING_DAYS, is_workday)


def sla_state(today: date, due: date, status: Status) -> str:
    """done | overdue | due_soon | on_track."""
    if status not in OPEN_STATUSES:
        return "done"
    if today > due:
        return "overdue"
    if (due - today).days <= DUE_SOON_DAYS:
        return "due_soon"
    return "on_track"


def new_tracking_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(raw: str) -> str:
    """What people type: lower case, spaces and hyphens between the groups."""
    return re.sub(r"[\s\-]", "", raw or "").upper()


def format_code(code: str) -> str:
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def contact_fields(contact: str) -> dict[str, str]:
    """One contact box: an e-mail address or a phone number."""
    contact = (contact or "").strip()
    if not contact:
        return {}
    return {"email": contact} if "@" in contact else {"phone": contact}


def check_report(description: str, contact: str, contact_name: str) -> dict[str, str]:
    """Field → problem code: description_short, description_long, contact_invalid, name_long."""
    problems = {}
    text = (description or "").strip()
    if len(text) < MIN_DESCRIPTION:
        problems["description"] = "description_short"
    elif len(text) > MAX_DESCRIPTION:
        problems["description"] = "description_long"
    contact = (contact or "").strip()
    if contact and not (EMAIL_RE.match(contact) if "@" in contact else PHONE_RE.match(contact)):
        problems["contact"] = "contact_invalid"
    if len((contact_name or "").strip()) > 64:
        problems["contact_name"] = "name_long"
    return problems
