"""Pure complaint rules: SLA dates (natural days rolled past rest days), the state machine, duplicates, codes."""
from __future__ import annotations

from datetime import date

import pytest

from portal.auth.models import Role
from portal.complaints import rules
from portal.complaints.models import Status
from portal.workdays.rules import weekday_is_workday

HOLIDAYS = {date(2026, 10, d) for d in range(1, 9)}  # National Day week 2026


def cal(day: date) -> bool:
    return day not in HOLIDAYS and weekday_is_workday(day)


@pytest.mark.parametrize("received, due", [
    (date(2026, 3, 2), date(2026, 3, 17)),   # Monday + 15 = Tuesday
    (date(2026, 3, 6), date(2026, 3, 23)),   # Friday + 15 = Saturday 21 → Monday 23
    (date(2026, 3, 7), date(2026, 3, 23)),   # received on a Saturday: + 15 = Sunday 22 → Monday 23
    (date(2026, 9, 16), date(2026, 10, 9)),  # + 15 = 1 Oct, in the holiday week → first working day after
    (date(2026, 12, 20), date(2027, 1, 4)),  # + 15 = 4 Jan 2027, a Monday, across the year end
])
def test_acceptance_is_due_fifteen_natural_days_later_rolled_past_rest_days(received, due):
    assert rules.accept_due(received, cal) == due


@pytest.mark.parametrize("accepted, due", [
    (date(2026, 3, 2), date(2026, 5, 1)),    # + 60 = Friday 1 May (this calendar has no May holiday)
    (date(2026, 3, 6), date(2026, 5, 5)),    # + 60 = Tuesday 5 May
    (date(2026, 3, 7), date(2026, 5, 6)),    # + 60 = Wednesday 6 May
    (date(2026, 8, 2), date(2026, 10, 9)),   # + 60 = 1 Oct (holiday) → 9 Oct
    (date(2026, 8, 1), date(2026, 9, 30)),   # + 60 = Wednesday 30 Sep, the last working day before the holiday
])
def test_closing_is_due_sixty_natural_days_after_acceptance(accepted, due):
    assert rules.close_due(accepted, cal) == due


def test_one_extension_of_at_most_thirty_days_is_allowed():
    assert rules.extension_until(date(2026, 5, 1), 30, False, cal) == date(2026, 6, 1)  # 31 May is a Sunday
    assert rules.extension_until(date(2026, 5, 1), 1, False, cal) == date(2026, 5, 4)   # Saturday → Monday


def test_a_second_extension_is_refused():
    with pytest.raises(ValueError, match="only once"):
        rules.extension_until(date(2026, 5, 1), 10, True, cal)


@pytest.mark.parametrize("days", [0, 31, -5])
def test_an_extension_outside_one_to_thirty_days_is_refused(days):
    with pytest.raises(ValueError):
        rules.extension_until(date(2026, 5, 1), days, False, cal)


def test_review_may_be_requested_within_thirty_days_of_the_reply():
    assert rules.review_deadline(date(2026, 9, 1), cal) == date(2026, 10, 9)  # 1 Oct holiday → 9 Oct
    assert rules.review_deadline(date(2026, 3, 2), cal) == date(2026, 4, 1)


@pytest.mark.parametrize("status, expected", [
    (Status.RECEIVED, date(2026, 3, 17)), (Status.ACCEPTED, date(2026, 5, 1)),
    (Status.INVESTIGATING, date(2026, 5, 1)), (Status.REPLIED, None), (Status.CLOSED, None),
    (Status.REJECTED, None), (Status.MERGED, None),
])
def test_the_running_clock_depends_on_the_status(status, expected):
    assert rules.effective_due(status, date(2026, 3, 17), date(2026, 5, 1), None) == expected


def test_an_approved_extension_replaces_the_closing_date():
    assert rules.effective_due(Status.EXTENDED, date(2026, 3, 17), date(2026, 5, 1), date(2026, 6, 1)) == \
        date(2026, 6, 1)


@pytest.mark.parametrize("today, state", [
    (date(2026, 5, 1), "due_soon"), (date(2026, 4, 28), "due_soon"), (date(2026, 4, 27), "ok"),
    (date(2026, 5, 2), "overdue"),
])
def test_sla_state_counts_the_due_day_as_on_time(today, state):
    assert rules.sla_state(today, date(2026, 5, 1)) == state


def test_no_clock_means_no_sla_state():
    assert rules.sla_state(date(2026, 5, 1), None) == "none"


@pytest.mark.parametrize("old, new, ok", [
    (Status.RECEIVED, Status.ACCEPTED, True), (Status.RECEIVED, Status.REJECTED, True),
    (Status.RECEIVED, Status.MERGED, True), (Status.RECEIVED, Status.REPLIED, False),
    (Status.ACCEPTED, Status.ASSIGNED, True), (Status.ASSIGNED, Status.INVESTIGATING, True),
    (Status.INVESTIGATING, Status.EXTENDED, True), (Status.EXTENDED, Status.EXTENDED, False),
    (Status.EXTENDED, Status.RESULT_REPORTED, True), (Status.RESULT_REPORTED, Status.REPLIED, True),
    (Status.REPLIED, Status.CLOSED, True), (Status.CLOSED, Status.REOPENED, True),
    (Status.REOPENED, Status.INVESTIGATING, True), (Status.REJECTED, Status.ACCEPTED, False),
    (Status.CLOSED, Status.INVESTIGATING, False), (Status.MERGED, Status.ACCEPTED, False),
])
def test_state_machine_transitions(old, new, ok):
    assert rules.can_transition(old, new) is ok


def test_haversine_distance_between_two_points_in_huaian():
    # about 1.11 km per 0.01 degree of latitude
    assert rules.haversine_m(33.60, 119.00, 33.61, 119.00) == pytest.approx(1112, rel=0.01)


@pytest.mark.parametrize("other, expected", [
    ({"enterprise_id": 7, "latitude": None, "longitude": None, "received_on": date(2026, 3, 20)}, True),
    ({"enterprise_id": 8, "latitude": 33.6003, "longitude": 119.0, "received_on": date(2026, 3, 20)}, True),
    ({"enterprise_id": 8, "latitude": 33.62, "longitude": 119.0, "received_on": date(2026, 3, 20)}, False),
    ({"enterprise_id": 7, "latitude": None, "longitude": None, "received_on": date(2026, 5, 20)}, False),
    ({"enterprise_id": None, "latitude": None, "longitude": None, "received_on": date(2026, 3, 20)}, False),
])
def test_duplicates_are_the_same_enterprise_or_nearby_within_the_window(other, expected):
    me = {"enterprise_id": 7, "latitude": 33.60, "longitude": 119.0, "received_on": date(2026, 3, 1)}
    assert rules.is_duplicate_candidate(me, other, radius_m=500, window_days=30) is expected


@pytest.mark.parametrize("lat, lon, ok", [(None, None, True), (33.6, 119.0, True), (33.6, None, False),
                                          (91, 119.0, False), (33.6, 181, False)])
def test_coordinates_are_both_or_neither_and_in_range(lat, lon, ok):
    assert rules.valid_coordinates(lat, lon) is ok


def test_query_codes_are_random_unambiguous_and_normalised():
    codes = {rules.new_query_code() for _ in range(50)}
    assert len(codes) == 50
    code = codes.pop()
    assert set(code) <= set(rules.CODE_ALPHABET) and len(code) == rules.CODE_LENGTH
    assert rules.normalise_query_code(rules.format_query_code(code).lower()) == code


def test_case_numbers_carry_the_date_and_a_serial():
    assert rules.case_number(date(2026, 3, 2), 42) == "12369-20260302-000042"
    assert rules.CASE_NO_RE.match("12369-20260302-000042")


@pytest.mark.parametrize("status, expected", [(Status.RECEIVED, "open"), (Status.REPLIED, "open"),
                                              (Status.CLOSED, "closed"), (Status.REJECTED, "closed"),
                                              (Status.MERGED, "closed")])
def test_open311_knows_only_open_and_closed(status, expected):
    assert rules.open311_status(status) == expected


def test_only_regulators_of_the_place_or_the_dispatched_unit_see_a_case():
    assert rules.can_view_complaint(Role.REGULATOR, "3208", "320826", None)
    assert rules.can_view_complaint(Role.REGULATOR, "320826", "320803", "320826")
    assert not rules.can_view_complaint(Role.REGULATOR, "2101", "320826", None)
    assert not rules.can_view_complaint(Role.ENTERPRISE_STAFF, "3208", "320826", None)
    assert not rules.can_view_complaint(None, "3208", "320826", None)


def test_only_the_handler_and_the_lead_see_the_reporter():
    assert rules.can_see_reporter(Role.REGULATOR, 5, 5, True)
    assert not rules.can_see_reporter(Role.REGULATOR, 6, 5, True)
    assert rules.can_see_reporter(Role.REGULATOR_LEAD, 6, 5, True)
    assert not rules.can_see_reporter(Role.REGULATOR_LEAD, 6, 5, False)
    assert not rules.can_see_reporter(Role.ENTERPRISE_STAFF, 5, 5, False)
