"""The calendar service: override > package > Mon–Fri fallback, cached per app context, audited changes."""
from __future__ import annotations

import logging
from datetime import date

import pytest
import sqlalchemy as sa

from portal.audit.models import AuditRecord
from portal.auth.models import Role
from portal.errors import NotFound
from portal.workdays import services
from portal.workdays.models import CalendarOverride
from tests.factories import make_user


def test_known_years_cover_2025_and_2026_but_not_2027():
    years = services.known_years()
    assert 2025 in years and 2026 in years and 2027 not in years


def test_the_package_answers_for_known_years(db):
    assert services.is_workday(date(2025, 2, 8)) is True          # make-up Saturday
    assert services.is_workday(date(2025, 10, 3)) is False         # National Day
    assert services.calendar().describe(date(2025, 10, 3)).source == "package"


def test_an_override_beats_the_package(db):
    admin = make_user(Role.ADMIN)
    services.set_override(date(2025, 10, 3), True, "test: office open", actor=admin)
    info = services.calendar().describe(date(2025, 10, 3))
    assert info.is_workday is True and info.source == "override" and info.note == "test: office open"
    assert services.add_working_days(date(2025, 9, 30), 1) == date(2025, 10, 3)


def test_an_unknown_year_falls_back_to_weekdays_with_one_warning(db, caplog, monkeypatch):
    monkeypatch.setattr(services, "_warned_years", set())
    with caplog.at_level(logging.WARNING, logger="portal.workdays.services"):
        assert services.is_workday(date(2027, 1, 4)) is True        # Monday
        assert services.is_workday(date(2027, 1, 9)) is False       # Saturday
        assert services.is_workday(date(2027, 1, 11)) is True
    assert services.calendar().describe(date(2027, 1, 4)).source == "weekday"
    warnings = [r for r in caplog.records if "2027" in r.getMessage()]
    assert len(warnings) == 1


def test_overrides_fill_an_unknown_year(db):
    admin = make_user(Role.ADMIN)
    services.set_override(date(2027, 2, 8), False, "Spring Festival 2027", actor=admin)
    services.set_override(date(2027, 2, 6), True, "make-up", actor=admin)
    assert services.add_working_days(date(2027, 2, 5), 1) == date(2027, 2, 6)
    assert services.add_working_days(date(2027, 2, 6), 1) == date(2027, 2, 9)


def test_overrides_are_read_once_per_app_context(db, app):
    admin = make_user(Role.ADMIN)
    services.set_override(date(2027, 2, 8), False, "", actor=admin)
    db.session.commit()
    statements = []

    def count(conn, cursor, statement, *args):
        if "calendar_overrides" in statement:
            statements.append(statement)

    engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        with app.app_context():
            services.add_working_days(date(2027, 1, 1), 40)
            services.is_workday(date(2027, 3, 1))
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert len(statements) == 1


def test_setting_an_override_twice_updates_it_and_audits_both(db):
    admin = make_user(Role.ADMIN)
    services.set_override(date(2027, 5, 3), False, "Labour Day", actor=admin)
    services.set_override(date(2027, 5, 3), True, "changed", actor=admin)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CalendarOverride)) == 1
    actions = db.session.scalars(sa.select(AuditRecord.action).where(AuditRecord.object_type == "calendar_overrides")
                                 .order_by(AuditRecord.seq)).all()
    assert actions == ["calendar_override.create", "calendar_override.update"]


def test_removing_an_override_restores_the_package_and_is_audited(db):
    admin = make_user(Role.ADMIN)
    services.set_override(date(2025, 10, 3), True, "", actor=admin)
    services.remove_override(date(2025, 10, 3), actor=admin)
    assert services.is_workday(date(2025, 10, 3)) is False
    last = db.session.scalars(sa.select(AuditRecord).order_by(AuditRecord.seq.desc())).first()
    assert last.action == "calendar_override.delete" and last.object_id == "2025-10-03" and last.before["is_workday"]


def test_removing_a_missing_override_is_not_found(db, app):
    with app.test_request_context(), pytest.raises(NotFound):
        services.remove_override(date(2025, 1, 1), actor=make_user(Role.ADMIN))


def test_special_days_list_holidays_make_up_days_and_overrides(db):
    days = {i.day: i for i in services.special_days(2025)}
    assert days[date(2025, 1, 26)].kind == "makeup"
    assert days[date(2025, 10, 8)].kind == "holiday"
    assert date(2025, 3, 3) not in days
