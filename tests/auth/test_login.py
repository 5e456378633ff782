"""Login, lockout, logout, rate limit and CSRF on the login form."""
import re
from datetime import timedelta

from argon2 import PasswordHasher

from portal import create_app
from portal.auth.models import Role, User
from portal.db import utcnow
from portal.extensions import limiter
from portal.auth.models import LoginThrottle
from tests.factories import DEFAULT_PASSWORD, make_enterprise, make_user, totp_code


def _post_login(client, username, password, next_url=None):
    url = "/auth/login" + (f"?next={next_url}" if next_url else "")
    return client.post(url, data={"username": username, "password": password})


def _factor(client, user, next_url=None):
    url = "/auth/login/factor" + (f"?next={next_url}" if next_url else "")
    return client.post(url, data={"code": totp_code(user)})


def _logged_in_id(client):
    with client.session_transaction() as sess:
        return sess.get("_user_id")


def test_login_page_renders_with_labelled_fields(client):
    html = client.get("/auth/login").get_data(as_text=True)
    assert 'for="username"' in html and 'for="password"' in html


def test_correct_password_logs_in_and_resets_the_counters(en, db):
    user = make_user(Role.REGULATOR, username="wang", failed_logins=3)
    db.session.commit()
    response = _post_login(en, "wang", DEFAULT_PASSWORD)
    assert response.status_code == 302 and response.headers["Location"] == "/auth/login/factor"
    assert _logged_in_id(en) is None  # not before the second factor
    assert _factor(en, user).status_code == 302
    assert _logged_in_id(en) == str(user.id)
    db.session.refresh(user)
    assert user.failed_logins == 0 and user.last_login_at is not None


def test_username_is_matched_without_regard_to_case(en, db):
    make_user(Role.REGULATOR, username="wang")
    db.session.commit()
    assert _post_login(en, "  WANG ", DEFAULT_PASSWORD).status_code == 302


def test_login_starts_a_fresh_session_against_fixation(en, db):
    make_user(Role.REGULATOR, username="wang")
    db.session.commit()
    with en.session_transaction() as sess:
        sess["planted"] = "attacker value"
    _post_login(en, "wang", DEFAULT_PASSWORD)
    with en.session_transaction() as sess:
        assert "planted" not in sess
        assert sess["lang"] == "en"


def test_login_follows_a_safe_next_and_ignores_an_outside_one(client, db):
    user = make_user(Role.REGULATOR, username="wang")
    db.session.commit()
    step = _post_login(client, "wang", DEFAULT_PASSWORD, "/auth/account").headers["Location"]
    assert step == "/auth/login/factor?next=/auth/account"
    assert _factor(client, user, "/auth/account").headers["Location"] == "/auth/account"
    client.post("/auth/logout")
    response = _post_login(client, "wang", DEFAULT_PASSWORD, "https://evil.example/")
    assert "evil" not in response.headers["Location"]
    assert "evil" not in _factor(client, user, "https://evil.example/").headers["Location"]


def test_unbound_enterprise_user_lands_on_the_binding_page(client, db):
    make_user(Role.ENTERPRISE_STAFF, username="li")
    db.session.commit()
    assert _post_login(client, "li", DEFAULT_PASSWORD).headers["Location"] == "/auth/binding"


def test_wrong_password_and_unknown_user_get_the_same_message(en, db):
    user = make_user(Role.REGULATOR, username="wang")
    db.session.commit()
    wrong = _post_login(en, "wang", "not the password at all")
    unknown = _post_login(en, "nobody", "not the password at all")
    assert wrong.status_code == unknown.status_code == 401
    message = "The username or password is not correct."
    assert message in wrong.get_data(as_text=True) and message in unknown.get_data(as_text=True)
    assert _logged_in_id(en) is None
    db.session.refresh(user)
    assert user.failed_logins == 1


def test_fifth_failure_locks_the_account_and_says_until_when(en, db, app):
    user = make_user(Role.REGULATOR, username="wang")
    db.session.commit()
    for _ in range(app.config["LOCKOUT_THRESHOLD"] - 1):
        assert "Try again after" not in _post_login(en, "wang", "wrong guess 123").get_data(as_text=True)
    html = _post_login(en, "wang", "wrong guess 123").get_data(as_text=True)
    assert re.search(r"Try again after \d\d:\d\d", html)
    db.session.refresh(user)
    assert user.locked_until > utcnow()
    # even the right password is refused while locked, and the attempt does not extend the lock
    locked_until = user.locked_until
    response = _post_login(en, "wang", DEFAULT_PASSWORD)
    assert response.status_code == 401 and _logged_in_id(en) is None
    db.session.refresh(user)
    assert user.locked_until == locked_until


def test_lock_expires_and_the_next_failure_doubles_the_wait(en, db, app):
    threshold = app.config["LOCKOUT_THRESHOLD"]
    make_user(Role.REGULATOR, username="wang")
    throttle = LoginThrottle(account_key="wang", address="127.0.0.1", failures=threshold,
                             locked_until=utcnow() - timedelta(seconds=1))
    db.session.add(throttle)
    db.session.commit()
    before = utcnow()
    _post_login(en, "wang", "wrong guess 123")
    db.session.refresh(throttle)
    wait = (throttle.locked_until - before).total_seconds()
    assert 2 * app.config["LOCKOUT_BASE_SECONDS"] - 5 <= wait <= 2 * app.config["LOCKOUT_BASE_SECONDS"] + 5
    throttle.locked_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert _post_login(en, "wang", DEFAULT_PASSWORD).status_code == 302


def test_deactivated_account_cannot_log_in(en, db):
    make_user(Role.REGULATOR, username="wang", is_active_account=False)
    db.session.commit()
    response = _post_login(en, "wang", DEFAULT_PASSWORD)
    assert response.status_code == 401
    assert "deactivated" in response.get_data(as_text=True)
    assert _logged_in_id(en) is None


def test_deactivated_account_already_logged_in_is_treated_as_anonymous(login, db):
    user = make_user(Role.ADMIN, username="boss")
    client = login(user)
    user.is_active_account = False
    db.session.commit()
    assert client.get("/admin/users").status_code == 302


def test_outdated_hash_is_upgraded_on_login(client, db):
    old = PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1).hash(DEFAULT_PASSWORD)
    user = make_user(Role.REGULATOR, username="wang")
    user.password_hash = old
    db.session.commit()
    assert _post_login(client, "wang", DEFAULT_PASSWORD).status_code == 302
    db.session.refresh(user)
    assert user.password_hash != old and "t=1" in user.password_hash


def test_logout_needs_post_and_ends_the_session(login, db):
    client = login(make_user(Role.REGULATOR))
    assert client.get("/auth/logout").status_code == 405
    assert client.post("/auth/logout").status_code == 302
    assert _logged_in_id(client) is None


def test_login_post_without_csrf_token_is_refused(client, app, db):
    make_user(Role.REGULATOR, username="wang")
    db.session.commit()
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = _post_login(client, "wang", DEFAULT_PASSWORD)
        assert response.status_code == 400
        assert _logged_in_id(client) is None
        page = client.get("/auth/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        ok = client.post("/auth/login", data={"username": "wang", "password": DEFAULT_PASSWORD, "csrf_token": token})
        assert ok.status_code == 302
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_login_posts_are_rate_limited(app, db):
    make_user(Role.REGULATOR, username="wang")
    db.session.commit()
    was_enabled = limiter.enabled
    config = {k: v for k, v in app.config.items() if k.isupper()}
    config.update(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute", RATELIMIT_STORAGE_URI="memory://")
    try:
        limited = create_app(config)
        client = limited.test_client()
        with limited.app_context():
            codes = [_post_login(client, "wang", "wrong guess 123").status_code for _ in range(4)]
            assert client.get("/auth/login").status_code == 200  # GET is not limited
            db.session.remove()  # return the connection first: dispose() closes only pooled ones
            db.engine.dispose()
    finally:
        limiter.enabled = was_enabled
    assert codes == [401, 401, 401, 429]


def test_failed_logins_do_not_touch_other_accounts(client, db):
    make_user(Role.REGULATOR, username="wang")
    other = make_user(Role.ENTERPRISE_STAFF, username="li", enterprise=make_enterprise())
    db.session.commit()
    _post_login(client, "wang", "wrong guess 123")
    assert db.session.get(User, other.id).failed_logins == 0
