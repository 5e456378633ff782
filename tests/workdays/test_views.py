"""/admin/calendar: only administrators; overrides added and removed through the form, CSRF enforced."""
from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from portal.auth.models import Role
from portal.workdays.models import CalendarOverride
from tests.factories import make_enterprise, make_user


def test_anonymous_users_are_sent_to_the_login_page(client):
    response = client.get("/admin/calendar")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    response = client.post("/admin/calendar/overrides", data={"day": "2027-02-08", "kind": "rest"})
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


@pytest.mark.parametrize("role", [Role.REGULATOR, Role.REGULATOR_LEAD, Role.ENTERPRISE_STAFF])
def test_regulators_and_enterprise_users_may_not_manage_the_calendar(db, login, role):
    enterprise = make_enterprise() if role.is_enterprise else None
    client = login(make_user(role, enterprise=enterprise))
    assert client.get("/admin/calendar").status_code == 403
    response = client.post("/admin/calendar/overrides", data={"day": "2027-02-08", "kind": "rest"})
    assert response.status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CalendarOverride)) == 0


def test_an_admin_sees_the_month_with_sources(db, login):
    client = login(make_user(Role.ADMIN))
    page = client.get("/admin/calendar?year=2025&month=10&lang=en").get_data(as_text=True)
    assert "2025-10" in page and "Make-up working day" in page and "official calendar" in page
    assert "2025-10-11" in page          # listed among the year's special days


def test_the_page_is_chinese_by_default(db, login):
    client = login(make_user(Role.ADMIN))
    page = client.get("/admin/calendar?year=2025&month=1").get_data(as_text=True)
    assert "工作日历" in page and "调休上班" in page


def test_an_unknown_year_is_flagged_on_the_page(db, login):
    client = login(make_user(Role.ADMIN))
    page = client.get("/admin/calendar?year=2027&month=2&lang=en").get_data(as_text=True)
    assert "no official holiday data for 2027" in page and "Mon–Fri fallback" in page


def test_bad_month_parameters_show_the_current_month(db, login):
    client = login(make_user(Role.ADMIN))
    assert client.get("/admin/calendar?year=abc&month=13").status_code == 200


def test_an_admin_adds_and_removes_an_override(db, login):
    admin = make_user(Role.ADMIN)
    client = login(admin)
    response = client.post("/admin/calendar/overrides",
                           data={"day": "2027-02-08", "kind": "rest", "note": "春节"})
    assert response.status_code == 302 and "year=2027" in response.headers["Location"]
    override = db.session.get(CalendarOverride, date(2027, 2, 8))
    assert override.is_workday is False and override.note == "春节" and override.updated_by_id == admin.id
    page = client.get("/admin/calendar?year=2027&month=2&lang=en").get_data(as_text=True)
    assert "admin override" in page
    response = client.post("/admin/calendar/overrides/2027-02-08/delete")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(CalendarOverride, date(2027, 2, 8)) is None


def test_repeating_the_same_post_does_not_duplicate(db, login):
    client = login(make_user(Role.ADMIN))
    for _ in range(2):
        client.post("/admin/calendar/overrides", data={"day": "2027-02-08", "kind": "rest"})
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CalendarOverride)) == 1


@pytest.mark.parametrize("data, message", [
    ({"day": "2027-13-40", "kind": "rest"}, "YYYY-MM-DD"),
    ({"day": "2027-02-08", "kind": ""}, "working day or day off"),
    ({"day": "2027-02-08", "kind": "rest", "note": "x" * 101}, "at most 100"),
])
def test_bad_input_names_the_field_and_writes_nothing(db, login, data, message):
    client = login(make_user(Role.ADMIN))
    response = client.post("/admin/calendar/overrides?lang=en", data=data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CalendarOverride)) == 0


def test_removing_a_missing_or_malformed_date_flashes_an_error(db, login):
    client = login(make_user(Role.ADMIN))
    assert client.post("/admin/calendar/overrides/2027-02-08/delete").status_code == 302
    assert client.post("/admin/calendar/overrides/not-a-date/delete").status_code == 302


def test_a_post_without_csrf_token_is_refused(db, login, app):
    client = login(make_user(Role.ADMIN))
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = client.post("/admin/calendar/overrides", data={"day": "2027-02-08", "kind": "rest"})
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CalendarOverride)) == 0
