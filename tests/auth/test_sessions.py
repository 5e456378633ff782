"""Server-side sessions (issue 20): a copied cookie stops working at logout, password change or reset, factor reset
and deactivation; idle timeout (30 min for regulators and admins) and absolute lifetime; __Host- cookie over HTTPS."""
from __future__ import annotations


import sqlalchemy as sa

from portal import create_app
from portal.auth.models import Role, UserSession
from portal.auth.sessions import LOGIN_AT_KEY, SEEN_KEY
from tests.auth.helpers import log_in
from tests.conftest import login_as
from tests.factories import DEFAULT_PASSWORD, make_user

COOKIE = "portal_session"


def _copy_cookie(app, source):
    """A second browser holding a copy of the first one's cookie (what a thief replays)."""
    thief = app.test_client()
    thief.set_cookie(COOKIE, source.get_cookie(COOKIE).value)
    return thief


def _age(client, key, seconds):
    with client.session_transaction() as sess:
        sess[key] = sess[key] - seconds


def test_a_copied_cookie_dies_with_logout(app, client, db):
    user = make_user(Role.REGULATOR)
    db.session.commit()
    log_in(client, user)
    thief = _copy_cookie(app, client)
    assert thief.get("/auth/account").status_code == 200
    client.post("/auth/logout")
    assert thief.get("/auth/account").status_code == 302
    row = db.session.scalar(sa.select(UserSession))
    assert row.ended_at is not None and row.end_reason == "logout" and row.factor == "totp"


def test_a_cookie_without_a_server_side_session_is_refused(app, client, db):
    user = make_user(Role.ADMIN)
    db.session.commit()
    with client.session_transaction() as sess:  # what a forged or pre-upgrade cookie looks like
        sess["_user_id"] = str(user.id)
        sess["_fresh"] = True
    assert client.get("/admin/users").status_code == 302


def test_a_password_change_ends_the_other_sessions_and_keeps_this_one(app, client, db):
    user = make_user(Role.ENTERPRISE_STAFF, second_factor=False)
    db.session.commit()
    login_as(client, user)
    other = app.test_client()
    login_as(other, user)
    new = "lantern orchard evening"
    response = client.post("/auth/account/password", data={"current_password": DEFAULT_PASSWORD,
                                                            "new_password": new, "confirm": new})
    assert response.status_code == 302
    assert client.get("/auth/account").status_code == 200
    assert other.get("/auth/account").status_code == 302


def test_deactivation_ends_the_sessions(app, client, login, db):
    user = make_user(Role.REGULATOR)
    admin = make_user(Role.ADMIN)
    db.session.commit()
    victim = app.test_client()
    login_as(victim, user)
    login(admin).post(f"/admin/users/{user.id}/deactivate")
    open_rows = db.session.scalar(sa.select(sa.func.count()).select_from(UserSession).where(
        UserSession.user_id == user.id, UserSession.ended_at.is_(None)))
    assert open_rows == 0
    assert victim.get("/auth/account").status_code == 302


def test_regulators_idle_out_after_30_minutes_enterprise_staff_later(app, client, db):
    regulator = make_user(Role.REGULATOR)
    staff = make_user(Role.ENTERPRISE_STAFF)
    db.session.commit()
    login_as(client, regulator)
    _age(client, SEEN_KEY, 29 * 60)
    assert client.get("/auth/account").status_code == 200  # activity refreshes the idle clock
    _age(client, SEEN_KEY, 31 * 60)
    assert client.get("/auth/account").status_code == 302
    login_as(client, staff)
    _age(client, SEEN_KEY, 31 * 60)
    assert client.get("/auth/account").status_code == 200
    _age(client, SEEN_KEY, app.config["SESSION_IDLE_MINUTES"] * 60 + 1)
    assert client.get("/auth/account").status_code == 302


def test_a_session_ends_after_its_absolute_lifetime_however_active(app, client, db):
    user = make_user(Role.ENTERPRISE_STAFF)
    db.session.commit()
    login_as(client, user)
    _age(client, LOGIN_AT_KEY, app.config["SESSION_ABSOLUTE_HOURS"] * 3600 + 1)
    assert client.get("/auth/account").status_code == 302


def test_over_https_the_cookie_is_secure_and_host_prefixed(app, db):
    config = {k: v for k, v in app.config.items() if k.isupper()}
    config.update(HTTPS=True, SESSION_COOKIE_NAME="portal_session", SESSION_COOKIE_SECURE=False)
    secure = create_app(config)
    assert secure.config["SESSION_COOKIE_NAME"] == "__Host-portal_session"
    assert secure.config["SESSION_COOKIE_SECURE"] is True
    client = secure.test_client()
    response = client.get("/lang/en", base_url="https://portal.example.cn")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-portal_session=") and "Secure" in cookie and "Path=/" in cookie
    assert "Domain" not in cookie
    assert "Strict-Transport-Security" in response.headers


def test_log_out_everywhere_else_keeps_only_this_browser(app, client, db):
    user = make_user(Role.ENTERPRISE_STAFF)
    db.session.commit()
    login_as(client, user)
    phone = app.test_client()
    login_as(phone, user)
    assert "logged in in 2 place" in client.get("/auth/account?lang=en").get_data(as_text=True)
    client.post("/auth/account/sessions/end")
    assert client.get("/auth/account").status_code == 200
    assert phone.get("/auth/account").status_code == 302
