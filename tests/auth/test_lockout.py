"""Lockout per account AND address (issue 20): an outsider's guesses cannot lock the owner (or the admin) out, and
no answer tells whether an account exists."""
from __future__ import annotations

import re

import sqlalchemy as sa

from portal.auth.models import LoginThrottle, Role
from tests.auth.helpers import logged_in_id, post_login
from tests.factories import DEFAULT_PASSWORD, make_user, totp_code

ATTACKER, OWNER = "203.0.113.66", "198.51.100.7"


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def _lock(client, app, username, address=ATTACKER):
    for _ in range(app.config["LOCKOUT_THRESHOLD"]):
        last = post_login(client, username, "wrong guess 123", address)
    return last


def test_an_outsider_cannot_lock_the_admin_out(en, app, db):
    admin = make_user(Role.ADMIN, username="boss")
    db.session.commit()
    locked = _lock(en, app, "boss")
    assert re.search(r"Try again after \d\d:\d\d", _text(locked))
    assert post_login(en, "boss", DEFAULT_PASSWORD, ATTACKER).status_code == 401  # locked for the attacker
    owner = en.application.test_client()
    response = post_login(owner, "boss", DEFAULT_PASSWORD, OWNER)
    assert response.status_code == 302 and response.headers["Location"].startswith("/auth/login/factor")
    owner.post("/auth/login/factor", data={"code": totp_code(admin)}, environ_base={"REMOTE_ADDR": OWNER})
    assert logged_in_id(owner) == str(admin.id)


def test_an_unknown_name_is_locked_with_the_same_words(en, app, db):
    make_user(Role.REGULATOR, username="wang")
    db.session.commit()
    real, ghost = _text(_lock(en, app, "wang")), _text(_lock(en, app, "nobody-here"))
    strip = re.compile(r"\d\d:\d\d")
    assert "Try again after" in real and strip.sub("", real).count("Try again") == strip.sub("", ghost).count(
        "Try again")
    assert _text(post_login(en, "wang", "x y z w v", ATTACKER)).count("Try again after") == 1
    assert _text(post_login(en, "nobody-here", "x y z w v", ATTACKER)).count("Try again after") == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LoginThrottle)) == 2


def test_wrong_second_factor_codes_count_too(en, app, db):
    make_user(Role.REGULATOR, username="wang")
    db.session.commit()
    post_login(en, "wang", DEFAULT_PASSWORD, ATTACKER)
    for _ in range(app.config["LOCKOUT_THRESHOLD"]):
        last = en.post("/auth/login/factor", data={"code": "000000"}, environ_base={"REMOTE_ADDR": ATTACKER})
    assert "Try again after" in _text(last)
    assert logged_in_id(en) is None


def test_the_admin_unlock_clears_every_address(en, login, app, db):
    user = make_user(Role.REGULATOR, username="wang")
    admin = make_user(Role.ADMIN, username="boss")
    db.session.commit()
    _lock(en, app, "wang")
    _lock(en, app, "wang", OWNER)
    db.session.refresh(user)
    assert user.locked_until is not None  # shown to the administrator
    login(admin).post(f"/admin/users/{user.id}/unlock")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LoginThrottle)) == 0
    assert post_login(en.application.test_client(), "wang", DEFAULT_PASSWORD, ATTACKER).status_code == 302


def test_registration_never_says_that_an_email_address_has_an_account(en, db):
    make_user(Role.REGULATOR, username="wang", email="wang@example.cn")
    db.session.commit()
    response = en.post("/auth/register", data={"username": "li.wei", "display_name": "李伟",
                                                "email": "WANG@example.cn", "password": DEFAULT_PASSWORD,
                                                "confirm": DEFAULT_PASSWORD})
    assert response.status_code == 302  # accepted like any other address: nothing to learn from the answer
