"""Open-day rules: what a published open day needs, phone numbers, places left."""
from __future__ import annotations

from datetime import date, time

import pytest

from portal.opendays.rules import (OpenDayData, can_manage, check_open_day, normalise_phone, registration_refusal,
                                   seats_left)

TODAY = date(2026, 6, 1)


def _data(**kw) -> OpenDayData:
    base = dict(day=date(2026, 6, 10), start_time=time(9), end_time=time(11), place="东门", facility="污水处理站",
                capacity=20)
    return OpenDayData(**{**base, **kw})


@pytest.mark.parametrize("kw, problems", [
    ({}, {}),
    ({"day": TODAY}, {}),
    ({"day": date(2026, 5, 31)}, {"day": "past"}),
    ({"day": date(2027, 6, 3)}, {"day": "too_far"}),
    ({"day": None, "start_time": None}, {"day": "required", "start_time": "required"}),
    ({"end_time": time(9)}, {"end_time": "before_start"}),
    ({"place": "  ", "facility": ""}, {"place": "required", "facility": "required"}),
    ({"capacity": 0}, {"capacity": "range"}),
    ({"capacity": None}, {"capacity": "required"}),
])
def test_an_open_day_needs_a_coming_date_times_place_facility_and_capacity(kw, problems):
    assert check_open_day(_data(**kw), TODAY) == problems


def test_the_capacity_cannot_fall_below_those_registered():
    assert check_open_day(_data(capacity=5), TODAY, registered=6) == {"capacity": "below_registered"}
    assert check_open_day(_data(capacity=6), TODAY, registered=6) == {}


@pytest.mark.parametrize("raw, clean", [
    ("13812345678", "13812345678"), ("+86 138-1234-5678", "13812345678"), ("0086 13812345678", "13812345678"),
    ("0517-86001234", "051786001234"), ("(0517) 8600 1234", "051786001234"),
    ("12812345678", None), ("1381234567", None), ("86001234", None), ("abc", None), ("", None),
])
def test_phone_numbers_are_mainland_mobiles_or_landlines_with_area_code(raw, clean):
    assert normalise_phone(raw) == clean


@pytest.mark.parametrize("kw, refusal", [
    (dict(capacity=10, taken=0, party_size=1), None),
    (dict(capacity=10, taken=9, party_size=1), None),
    (dict(capacity=10, taken=10, party_size=1), "full"),
    (dict(capacity=10, taken=8, party_size=3), "too_many"),
    (dict(capacity=10, taken=0, party_size=6), "party"),
    (dict(capacity=10, taken=0, party_size=0), "party"),
    (dict(capacity=10, taken=0, party_size=1, cancelled=True), "cancelled"),
    (dict(capacity=10, taken=0, party_size=1, is_past=True), "past"),
])
def test_a_registration_must_fit_the_places_left(kw, refusal):
    args = dict(cancelled=False, is_past=False) | kw
    assert registration_refusal(**args) == refusal


def test_seats_left_never_goes_below_zero():
    assert seats_left(5, 7) == 0 and seats_left(5, 2) == 3


def test_only_the_enterprises_own_users_manage_its_open_days():
    assert can_manage(True, 7, 7)
    assert not can_manage(True, 8, 7)
    assert not can_manage(True, None, 7)
    assert not can_manage(False, 7, 7)  # a regulator bound to nothing, or anything not an enterprise user
