"""Pure open-day rules (no database, request or app): what a published open day must contain, who may manage it,
the phone number check, seats left and whether a registration still fits."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, time

MAX_PARTY = 5  # a visitor may bring up to four companions on one registration
MAX_CAPACITY = 2000
MAX_DAYS_AHEAD = 366
# Mainland mobile (11 digits from 1[3-9]), or a landline with area code (0 + 9–11 digits), with +86/spaces/dashes.
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{9,11}$")


@dataclass(frozen=True)
class OpenDayData:
    day: date | None
    start_time: time | None
    end_time: time | None
    place: str
    facility: str
    capacity: int | None
    how_to_register: str = ""
    notes: str = ""


def check_open_day(data: OpenDayData, today: date, registered: int = 0) -> dict[str, str]:
    """Problems by field name (codes the service turns into messages); an empty dict means it may be published.
    `registered` is the number already registered, below which the capacity may not fall."""
    problems: dict[str, str] = {}
    if data.day is None:
        problems["day"] = "required"
    elif data.day < today:
        problems["day"] = "past"
    elif (data.day - today).days > MAX_DAYS_AHEAD:
        problems["day"] = "too_far"
    if data.start_time is None:
        problems["start_time"] = "required"
    if data.end_time is None:
        problems["end_time"] = "required"
    elif data.start_time is not None and data.end_time <= data.start_time:
        problems["end_time"] = "before_start"
    for name in ("place", "facility"):
        if not getattr(data, name).strip():
            problems[name] = "required"
    if data.capacity is None:
        problems["capacity"] = "required"
    elif not 1 <= data.capacity <= MAX_CAPACITY:
        problems["capacity"] = "range"
    elif data.capacity < registered:
        problems["capacity"] = "below_registered"
    return problems


def normalise_phone(raw: str) -> str | None:
    """Digits only, without +86; None when it is neither a mainland mobile nor a landline with area code."""
    digits = re.sub(r"[\s\-()（）]", "", raw or "")
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    if _MOBILE.match(digits) or _LANDLINE.match(digits):
        return digits
    return None


def seats_left(capacity: int, taken: int) -> int:
    return max(capacity - taken, 0)


def registration_refusal(*, cancelled: bool, is_past: bool, capacity: int, taken: int, party_size: int) -> str | None:
    """Why a registration cannot be accepted, or None: 'cancelled', 'past', 'party' (size out of range),
    'full' (no seat left) or 'too_many' (fewer seats left than the party)."""
    if cancelled:
        return "cancelled"
    if is_past:
        return "past"
    if not 1 <= party_size <= MAX_PARTY:
        return "party"
    left = seats_left(capacity, taken)
    if left == 0:
        return "full"
    if party_size > left:
        return "too_many"
    return None


def can_manage(role_is_enterprise: bool, user_enterprise_id: int | None, enterprise_id: int) -> bool:
    """Only the enterprise's own users (staff or signatory) publish and see its open days' registrations."""
    return role_is_enterprise and user_enterprise_id is not None and user_enterprise_id == enterprise_id


def is_past(day: date, today: date) -> bool:
    """An open day is past from the day after it; registration stays open on the day itself."""
    return day < today
