"""Self-registration that never reveals whether an account exists (issue 20), and the auth-housekeeping job."""
from __future__ import annotations

import hashlib
import re
import shutil
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal import create_app
from portal.audit.models import AuditRecord
from portal.auth import housekeeping, registration
from portal.auth.models import LoginThrottle, PasswordResetToken, RegistrationToken, Role, User, UserSession
from portal.db import utcnow
from portal.extensions import limiter
from portal.jobs.registry import JOBS
from portal.mail.models import OutboxMessage
from tests.auth.helpers import registration_paths, sent_mails
from tests.factories import DEFAULT_PASSWORD, make_user


@pytest.fixture(autouse=True)
def clean_mail(app):
    yield
    shutil.rmtree(app.config["MAIL_DIR"], ignore_errors=True)


FINISH = {"username": "wang.fang", "display_name": "王芳", "password": DEFAULT_PASSWORD, "confirm": DEFAULT_PASSWORD}


def _users(db) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(User))


def test_the_answer_is_the_same_for_a_new_and_an_existing_address(en, db):
    make_user(Role.ENTERPRISE_STAFF, username="li", email="li@example.cn")
    db.session.commit()
    known = en.post("/auth/register", data={"email": "LI@example.cn"})
    known_page = en.get(known.headers["Location"]).get_data(as_text=True)
    new = en.post("/auth/register", data={"email": "xu@example.cn"})
    new_page = en.get(new.headers["Location"]).get_data(as_text=True)
    assert known.status_code == new.status_code == 302
    assert known.headers["Location"] == new.headers["Location"] == "/auth/register"
    assert known.get_data() == new.get_data()
    assert known_page.replace("LI@example.cn", "X") == new_page.replace("xu@example.cn", "X")
    assert "Check your mail" in new_page and "already" not in new_page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 2  # one mail each
    assert _users(db) == 1


def test_the_mail_to_an_existing_address_points_to_the_reset_and_carries_no_link(en, db):
    make_user(Role.ENTERPRISE_STAFF, username="li", email="li@example.cn")
    db.session.commit()
    en.post("/auth/register", data={"email": "li@example.cn"})
    (mail,) = [m for m in sent_mails() if m["To"] == "li@example.cn"]
    body = mail.get_content()
    assert "already has an account" in body and "/auth/forgot" in body and "/auth/register/" not in body
    assert db.session.scalar(sa.select(RegistrationToken)) is None


def test_the_mailed_link_finishes_registration_once(en, db):
    assert en.post("/auth/register", data={"email": "xu@example.cn"}).status_code == 302
    (path,) = registration_paths("xu@example.cn")
    token = path.rsplit("/", 1)[1]
    row = db.session.scalar(sa.select(RegistrationToken))
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest() and token not in row.token_hash
    page = en.get(path)
    assert page.status_code == 200 and "xu@example.cn" in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"
    done = en.post(path, data=FINISH)
    assert done.status_code == 302 and done.headers["Location"] == "/auth/binding"
    user = db.session.scalar(sa.select(User).where(User.username == "wang.fang"))
    assert user.email == "xu@example.cn" and user.role == Role.ENTERPRISE_STAFF and user.enterprise_id is None
    en.post("/auth/logout")
    again = en.post(path + "?lang=en", data={**FINISH, "username": "wang.fang2"})  # logout forgot the language
    assert again.status_code == 404 and "not valid any more" in again.get_data(as_text=True)
    assert _users(db) == 1
    actions = list(db.session.scalars(sa.select(AuditRecord.action)))
    assert "user.registration_request" in actions and "user.create" in actions


def test_a_used_or_expired_link_is_refused_with_a_clear_message(en, app, db):
    minutes = app.config["REGISTRATION_LINK_MINUTES"]
    with app.test_request_context("/?lang=en"):
        registration.start("old@example.cn", now=utcnow() - timedelta(minutes=minutes, seconds=1))
    db.session.commit()
    (path,) = registration_paths("old@example.cn")
    refused = en.get(path)
    assert refused.status_code == 404
    assert "not valid any more" in refused.get_data(as_text=True)
    assert en.post(path, data=FINISH).status_code == 404
    assert en.get("/auth/register/" + "x" * 43).status_code == 404
    assert _users(db) == 0


def test_a_taken_username_is_named_only_behind_a_valid_link(en, db):
    make_user(Role.REGULATOR, username="wang.fang")
    db.session.commit()
    en.post("/auth/register", data={"email": "xu@example.cn"})
    (path,) = registration_paths("xu@example.cn")
    taken = en.post(path, data=FINISH)
    assert taken.status_code == 400 and "already taken" in taken.get_data(as_text=True)
    assert en.post(path, data={**FINISH, "username": "xu.fang"}).status_code == 302  # the link still works once
    assert _users(db) == 2


def test_an_address_that_got_an_account_meanwhile_cannot_register_again(en, db):
    en.post("/auth/register", data={"email": "xu@example.cn"})
    (path,) = registration_paths("xu@example.cn")
    make_user(Role.ENTERPRISE_STAFF, username="xu", email="xu@example.cn")
    db.session.commit()
    response = en.post(path, data=FINISH)
    assert "already has an account" in response.get_data(as_text=True)
    assert _users(db) == 1


def test_a_bad_address_is_named(en, db):
    response = en.post("/auth/register", data={"email": "not-an-address"})
    assert response.status_code == 200 and "such as name@example.cn" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0


# --- auth-housekeeping ------------------------------------------------------------------------------------------

def test_housekeeping_purges_only_what_is_old_and_audits_one_record(app, db):
    assert JOBS["auth-housekeeping"].func is housekeeping.purge
    now = utcnow()
    days = app.config["AUTH_RETENTION_DAYS"]
    old, recent = now - timedelta(days=days + 1), now - timedelta(days=days - 1)
    user = make_user(Role.ENTERPRISE_STAFF, username="li")
    db.session.add_all([
        UserSession(user_id=user.id, sid_hash="a" * 64, created_at=old, ended_at=old, end_reason="logout"),
        UserSession(user_id=user.id, sid_hash="b" * 64, created_at=old - timedelta(days=1)),  # expired, never ended
        UserSession(user_id=user.id, sid_hash="c" * 64, created_at=recent, ended_at=recent, end_reason="logout"),
        UserSession(user_id=user.id, sid_hash="d" * 64, created_at=now),
        PasswordResetToken(user_id=user.id, token_hash="e" * 64, channel="email", created_at=old, expires_at=old,
                           used_at=old),
        PasswordResetToken(user_id=user.id, token_hash="f" * 64, channel="email", created_at=recent,
                           expires_at=recent, used_at=recent),
        RegistrationToken(email="a@example.cn", token_hash="g" * 64, created_at=old, expires_at=old),
        RegistrationToken(email="b@example.cn", token_hash="h" * 64, created_at=now, expires_at=now + timedelta(hours=1)),
        LoginThrottle(account_key="li", address="10.0.0.1", failures=3, updated_at=old),
        LoginThrottle(account_key="li", address="10.0.0.2", failures=3, updated_at=recent),
    ])
    db.session.commit()
    before = db.session.scalar(sa.select(sa.func.count()).select_from(AuditRecord))
    message = housekeeping.purge(now)
    db.session.commit()
    assert sorted(db.session.scalars(sa.select(UserSession.sid_hash))) == ["c" * 64, "d" * 64]
    assert list(db.session.scalars(sa.select(PasswordResetToken.token_hash))) == ["f" * 64]
    assert list(db.session.scalars(sa.select(RegistrationToken.token_hash))) == ["h" * 64]
    assert list(db.session.scalars(sa.select(LoginThrottle.address))) == ["10.0.0.2"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditRecord)) == before + 1
    entry = db.session.scalar(sa.select(AuditRecord).order_by(AuditRecord.id.desc()).limit(1))
    assert entry.action == "auth.housekeeping"
    assert entry.after["deleted"] == {"user_sessions": 2, "password_reset_tokens": 1, "registration_tokens": 1,
                                      "login_throttles": 1}
    assert "2 user_sessions" in message


def test_registration_posts_need_the_csrf_token(client, app, db):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        assert client.post("/auth/register", data={"email": "xu@example.cn"}).status_code == 400
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0
        page = client.get("/auth/register").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        ok = client.post("/auth/register", data={"email": "xu@example.cn", "csrf_token": token})
        assert ok.status_code == 302
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_registration_posts_are_rate_limited(app, db):
    was_enabled = limiter.enabled
    config = {k: v for k, v in app.config.items() if k.isupper()}
    config.update(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute", RATELIMIT_STORAGE_URI="memory://")
    try:
        limited = create_app(config)
        client = limited.test_client()
        with limited.app_context():
            codes = [client.post("/auth/register", data={"email": f"u{i}@example.cn"}).status_code
                     for i in range(4)]
            assert client.get("/auth/register").status_code == 200  # GET is not limited
            db.session.remove()
            db.engine.dispose()
    finally:
        limiter.enabled = was_enabled
    assert codes == [302, 302, 302, 429]
