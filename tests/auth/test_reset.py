"""Password reset (issue 20): single-use link by mail, 30 minutes, the same answer for unknown accounts, all
sessions ended, audited; administrator's forced reset and `flask users reset-password`."""
from __future__ import annotations

import hashlib
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from portal.audit.models import AuditRecord
from portal.auth import recovery
from portal.auth.models import LoginThrottle, PasswordResetToken, Role, UserSession
from portal.db import utcnow
from portal.mail.models import OutboxMessage
from tests.auth.helpers import log_in, logged_in_id, post_login, reset_links
from tests.conftest import login_as
from tests.factories import DEFAULT_PASSWORD, make_user

NEW = "quiet harbour lanterns"


@pytest.fixture(autouse=True)
def clean_mail(app):
    yield
    shutil.rmtree(app.config["MAIL_DIR"], ignore_errors=True)


def _path(link: str) -> str:
    return "/auth/reset/" + link.rsplit("/", 1)[1]


def _actions(db) -> list[str]:
    return list(db.session.scalars(sa.select(AuditRecord.action).order_by(AuditRecord.id)))


def test_the_login_page_links_to_forgot_password(client):
    assert 'href="/auth/forgot"' in client.get("/auth/login").get_data(as_text=True)


def test_the_answer_is_the_same_whether_or_not_the_account_exists(en, db):
    make_user(Role.ENTERPRISE_STAFF, username="li", email="li@example.cn")
    db.session.commit()
    known = en.post("/auth/forgot", data={"identifier": "li"})
    unknown = en.post("/auth/forgot", data={"identifier": "nobody"})
    by_mail = en.post("/auth/forgot", data={"identifier": "LI@example.cn"})
    assert known.status_code == unknown.status_code == by_mail.status_code == 302
    assert known.headers["Location"] == unknown.headers["Location"]
    pages = [en.get("/auth/login").get_data(as_text=True) for _ in range(1)]
    assert "If an account with an email address matches" in pages[0]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 2  # li twice, nobody never


def test_the_mailed_link_resets_once_ends_every_session_and_is_audited(en, client, app, db):
    user = make_user(Role.ENTERPRISE_STAFF, username="li", email="li@example.cn", second_factor=False)
    db.session.commit()
    login_as(client, user)  # another browser, e.g. a stolen cookie
    assert client.get("/auth/account").status_code == 200
    db.session.add(LoginThrottle(account_key="li", address="10.0.0.9", failures=9,
                                 locked_until=utcnow() + timedelta(hours=1)))
    en.post("/auth/forgot", data={"identifier": "li"})
    (link,) = reset_links("li@example.cn")
    token = link.rsplit("/", 1)[1]
    (row,) = db.session.scalars(sa.select(PasswordResetToken))
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest() and token not in row.token_hash
    assert en.get(_path(link)).status_code == 200
    weak = en.post(_path(link), data={"new_password": "password", "confirm": "password"})
    assert weak.status_code == 400 and "commonly used" in weak.get_data(as_text=True)
    done = en.post(_path(link), data={"new_password": NEW, "confirm": NEW})
    assert done.status_code == 302 and done.headers["Location"] == "/auth/login"
    assert client.get("/auth/account").status_code == 302  # the other session ended at once
    assert db.session.scalar(sa.select(sa.func.count()).select_from(UserSession)
                             .where(UserSession.ended_at.is_(None))) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LoginThrottle)) == 0
    assert en.get(_path(link)).status_code == 404  # single use
    assert en.post(_path(link), data={"new_password": "another good phrase", "confirm": "another good phrase"}
                   ).status_code == 404
    assert post_login(en, "li", DEFAULT_PASSWORD).status_code == 401
    assert post_login(en, "li", NEW).status_code == 302 and logged_in_id(en) == str(user.id)
    assert "user.password_reset_request" in _actions(db) and "user.password_reset" in _actions(db)


def test_a_link_expires_after_the_configured_minutes(en, app, db):
    user = make_user(Role.ENTERPRISE_STAFF, username="li", second_factor=False)
    old = recovery.issue(user, recovery.EMAIL, now=utcnow() - timedelta(minutes=app.config["PASSWORD_RESET_MINUTES"],
                                                                            seconds=1))
    fresh = recovery.issue(user, recovery.EMAIL, now=utcnow() - timedelta(minutes=29))
    db.session.commit()
    assert en.get(f"/auth/reset/{old}").status_code == 404
    assert "not valid any more" in en.get(f"/auth/reset/{old}").get_data(as_text=True)
    assert en.get(f"/auth/reset/{fresh}").status_code == 200
    assert en.get("/auth/reset/" + "x" * 500).status_code == 404


def test_a_deactivated_account_gets_no_link(en, db):
    make_user(Role.ENTERPRISE_STAFF, username="li", email="li@example.cn", is_active_account=False)
    db.session.commit()
    en.post("/auth/forgot", data={"identifier": "li"})
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0


def test_the_admin_forces_a_reset_by_mail(en, login, db):
    admin = make_user(Role.ADMIN, username="boss")
    user = make_user(Role.REGULATOR, username="wang", email="wang@example.cn")
    db.session.commit()
    login(admin)
    response = en.post(f"/admin/users/{user.id}/reset-password", follow_redirects=True)
    assert "mailed" in response.get_data(as_text=True)
    assert post_login(en.application.test_client(), "wang", DEFAULT_PASSWORD).status_code == 401  # old one is gone
    (link,) = reset_links("wang@example.cn")
    assert "user.password_reset_force" in _actions(db)
    other = en.application.test_client()
    assert other.post(_path(link), data={"new_password": NEW, "confirm": NEW}).status_code == 302
    assert log_in(other, user, NEW).status_code == 302 and logged_in_id(other) == str(user.id)


def test_the_admin_gets_a_one_time_link_for_an_account_without_mail(en, login, db):
    admin = make_user(Role.ADMIN, username="boss")
    user = make_user(Role.REGULATOR, username="wang", email=None)
    db.session.commit()
    login(admin)
    html = en.post(f"/admin/users/{user.id}/reset-password", follow_redirects=True).get_data(as_text=True)
    assert "/auth/reset/" in html and "no email address" in html


def test_staff_cannot_force_a_reset(login, db):
    user = make_user(Role.REGULATOR, username="wang")
    lead = make_user(Role.REGULATOR_LEAD)
    db.session.commit()
    assert login(lead).post(f"/admin/users/{user.id}/reset-password").status_code == 403


def test_the_cli_prints_a_one_time_link(runner, client, db):
    user = make_user(Role.REGULATOR, username="wang", email=None)
    db.session.commit()
    result = runner.invoke(args=["users", "reset-password", "wang"])
    assert result.exit_code == 0, result.output
    link = result.output.strip().splitlines()[-1]
    assert client.post(_path(link), data={"new_password": NEW, "confirm": NEW}).status_code == 302
    assert log_in(client, user, NEW).status_code == 302
    assert runner.invoke(args=["users", "reset-password", "nobody"]).exit_code != 0


def test_the_link_is_in_the_mail_file(en, app, db):
    make_user(Role.ENTERPRISE_STAFF, username="li", email="li@example.cn", locale="en")
    db.session.commit()
    en.post("/auth/forgot", data={"identifier": "li"})
    (link,) = reset_links("li@example.cn")
    files = list(Path(app.config["MAIL_DIR"]).glob("*.eml"))
    assert len(files) == 1 and link.startswith(app.config["PUBLIC_BASE_URL"])
    stored = " ".join(db.session.scalars(sa.select(OutboxMessage.body_text)))
    assert link.rsplit("/", 1)[1] not in stored  # the outbox row is sealed: no token in clear in the database
