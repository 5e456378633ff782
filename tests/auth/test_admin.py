"""Account administration and the user's own account page."""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.audit.models import AuditRecord
from portal.auth.models import Role, User
from portal.db import utcnow
from tests.factories import DEFAULT_PASSWORD, ensure_reference, make_enterprise, make_user

NEW_REGULATOR = {"username": "zhou", "display_name": "周检查", "email": "", "role": "regulator",
                 "jurisdiction_code": "3208", "password": "river willow morning tea"}


@pytest.fixture
def admin(db):
    ensure_reference()
    user = make_user(Role.ADMIN, username="boss")
    db.session.commit()
    return user


def _audit(db, action):
    return db.session.scalars(sa.select(AuditRecord).where(AuditRecord.action == action)).all()


@pytest.mark.parametrize("method, path", [
    ("get", "/admin/users"), ("get", "/admin/users/new"), ("post", "/admin/users/new"), ("get", "/admin/users/{id}"),
    ("post", "/admin/users/{id}"), ("post", "/admin/users/{id}/deactivate"), ("post", "/admin/users/{id}/reactivate"),
    ("post", "/admin/users/{id}/unlock"),
])
def test_admin_screens_refuse_anonymous_enterprise_and_regulator_users(client, login, db, admin, method, path):
    url = path.format(id=admin.id)
    assert getattr(client, method)(url).status_code == 302  # to the login page
    for role, kw in ((Role.ENTERPRISE_SIGNATORY, {"enterprise": make_enterprise()}), (Role.REGULATOR_LEAD, {})):
        user = make_user(role, **kw)
        db.session.commit()
        login(user)
        assert getattr(client, method)(url).status_code == 403
    assert db.session.get(User, admin.id).is_active_account


def test_admin_lists_and_filters_accounts_by_role(login, db, admin):
    make_user(Role.REGULATOR, username="reg-a")
    make_user(Role.ENTERPRISE_STAFF, username="ent-b")
    db.session.commit()
    client = login(admin)
    html = client.get("/admin/users").get_data(as_text=True)
    assert "reg-a" in html and "ent-b" in html
    html = client.get("/admin/users?role=regulator").get_data(as_text=True)
    assert "reg-a" in html and "ent-b" not in html
    assert client.get("/admin/users?role=nonsense&page=99").status_code == 200


def test_admin_list_is_paginated(login, db, admin):
    for n in range(30):
        make_user(Role.REGULATOR, username=f"reg{n:02d}")
    db.session.commit()
    client = login(admin)
    first = client.get("/admin/users").get_data(as_text=True)
    second = client.get("/admin/users?page=2").get_data(as_text=True)
    assert "reg00" in first and "reg29" not in first and "reg29" in second and 'rel="prev"' in second


def test_admin_creates_a_regulator_with_a_known_jurisdiction(login, db, admin):
    client = login(admin)
    response = client.post("/admin/users/new", data=NEW_REGULATOR)
    assert response.status_code == 302
    user = db.session.scalar(sa.select(User).where(User.username == "zhou"))
    assert user.role == Role.REGULATOR and user.jurisdiction_code == "3208"
    assert _audit(db, "user.create")[0].actor_id == admin.id


@pytest.mark.parametrize("code, role, message", [
    ("3299", "regulator", "not a known region prefix"), ("320827", "regulator_lead", "not a known region prefix"),
    ("99", "admin", "not a known region prefix"), ("", "regulator", "need a jurisdiction"),
    ("320", "regulator", "Use 2, 4 or 6 digits"),
])
def test_admin_cannot_create_a_regulator_outside_known_regions(en, login, db, admin, code, role, message):
    login(admin)
    response = en.post("/admin/users/new", data={**NEW_REGULATOR, "role": role, "jurisdiction_code": code})
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(User).where(User.username == "zhou")) is None


def test_admin_cannot_create_an_account_with_a_common_password(en, login, db, admin):
    login(admin)
    html = en.post("/admin/users/new", data={**NEW_REGULATOR, "password": "12345678"}).get_data(as_text=True)
    assert "commonly used" in html


def test_admin_changes_role_and_jurisdiction_with_an_audit_record(login, db, admin):
    user = make_user(Role.REGULATOR, jurisdiction_code="3208")
    db.session.commit()
    client = login(admin)
    client.post(f"/admin/users/{user.id}", data={"role": "regulator_lead", "jurisdiction_code": "32"})
    db.session.expire_all()
    user = db.session.get(User, user.id)
    assert user.role == Role.REGULATOR_LEAD and user.jurisdiction_code == "32"
    record = _audit(db, "user.role")[0]
    assert record.before["role"] == "regulator" and record.after["role"] == "regulator_lead"


def test_admin_cannot_demote_or_deactivate_themselves(login, db, admin):
    client = login(admin)
    client.post(f"/admin/users/{admin.id}", data={"role": "regulator", "jurisdiction_code": "32"})
    client.post(f"/admin/users/{admin.id}/deactivate")
    db.session.expire_all()
    me = db.session.get(User, admin.id)
    assert me.role == Role.ADMIN and me.is_active_account
    assert not _audit(db, "user.role") and not _audit(db, "user.deactivate")


def test_admin_deactivates_reactivates_and_unlocks(login, db, admin):
    user = make_user(Role.REGULATOR, failed_logins=7, locked_until=utcnow() + timedelta(minutes=10))
    db.session.commit()
    client = login(admin)
    assert "Unlock" in client.get(f"/admin/users/{user.id}?lang=en").get_data(as_text=True)
    client.post(f"/admin/users/{user.id}/deactivate")
    db.session.expire_all()
    assert not db.session.get(User, user.id).is_active_account
    client.post(f"/admin/users/{user.id}/reactivate")
    client.post(f"/admin/users/{user.id}/unlock")
    db.session.expire_all()
    user = db.session.get(User, user.id)
    assert user.is_active_account and user.failed_logins == 0 and user.locked_until is None
    assert [len(_audit(db, a)) for a in ("user.deactivate", "user.reactivate", "user.unlock")] == [1, 1, 1]


def test_unknown_account_id_is_404(login, db, admin):
    assert login(admin).get("/admin/users/999999").status_code == 404


# --- own account ------------------------------------------------------------------------------------------------

def test_account_page_needs_login(client):
    assert client.get("/auth/account").status_code == 302
    assert client.post("/auth/account/password").status_code == 302


def test_password_change_needs_the_current_password(en, login, db):
    user = make_user(Role.REGULATOR, username="wang")
    db.session.commit()
    login(user)
    new = "lantern orchard evening"
    html = en.post("/auth/account/password", data={"current_password": "wrong one!", "new_password": new,
                                                   "confirm": new}).get_data(as_text=True)
    assert "current password is not correct" in html
    response = en.post("/auth/account/password", data={"current_password": DEFAULT_PASSWORD, "new_password": new,
                                                       "confirm": new})
    assert response.status_code == 302
    en.post("/auth/logout")
    assert en.post("/auth/login", data={"username": "wang", "password": new}).status_code == 302
    assert len(_audit(db, "user.password")) == 1


def test_password_change_applies_the_rules(en, login, db):
    user = make_user(Role.REGULATOR, username="wang")
    db.session.commit()
    login(user)
    html = en.post("/auth/account/password", data={"current_password": DEFAULT_PASSWORD, "new_password": "wang1234567",
                                                   "confirm": "wang1234567"}).get_data(as_text=True)
    assert "must not contain the username" in html


def test_preferred_language_is_saved(login, db):
    user = make_user(Role.REGULATOR)
    db.session.commit()
    client = login(user)
    client.post("/auth/account/language", data={"locale": "en"})
    db.session.expire_all()
    assert db.session.get(User, user.id).locale == "en"
    assert 'lang="en"' in client.get("/auth/account").get_data(as_text=True)
