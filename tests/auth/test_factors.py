"""Second factor (issue 20): TOTP with recovery codes, guided enrolment with a QR code, required for regulators,
leads, admins and signatories, optional for staff; an admin resets a lost factor with audit."""
from __future__ import annotations

import hashlib
import re

import pyotp
import sqlalchemy as sa

from portal.audit.models import AuditRecord
from portal.auth import factors
from portal.auth.models import RecoveryCode, Role, TotpFactor, UserSession
from tests.auth.helpers import logged_in_id, post_login
from tests.conftest import login_as
from tests.factories import DEFAULT_PASSWORD, make_user, totp_code


def _secret(html: str) -> str:
    return re.search(r'id="totp-secret">([A-Z2-7]+)<', html).group(1)


def _codes(html: str) -> list[str]:
    return re.findall(r"<code>([0-9a-f]{5}-[0-9a-f]{5})</code>", html)


def _actions(db) -> list[str]:
    return list(db.session.scalars(sa.select(AuditRecord.action).order_by(AuditRecord.id)))


def test_a_regulator_without_a_factor_is_led_through_enrolment(en, db):
    user = make_user(Role.REGULATOR, username="wang", second_factor=False)
    db.session.commit()
    response = post_login(en, "wang")
    assert response.headers["Location"] == "/auth/factor"
    gate = en.get("/console/complaints")
    assert gate.status_code == 302 and gate.headers["Location"].startswith("/auth/factor")
    assert en.post("/auth/account/language", data={"locale": "en"}).headers["Location"] == "/auth/factor"
    page = en.get("/auth/factor").get_data(as_text=True)
    assert "<svg" in page and "Scan this QR code" in page
    secret = _secret(page)
    assert _secret(en.get("/auth/factor").get_data(as_text=True)) == secret  # a reload keeps the same key
    wrong = en.post("/auth/factor", data={"code": "123456" if pyotp.TOTP(secret).now() != "123456" else "654321"})
    assert wrong.status_code == 400 and "not correct" in wrong.get_data(as_text=True)
    done = en.post("/auth/factor", data={"code": pyotp.TOTP(secret).now()})
    codes = _codes(done.get_data(as_text=True))
    assert len(codes) == 10
    stored = set(db.session.scalars(sa.select(RecoveryCode.code_hash)))
    assert stored == {hashlib.sha256(c.replace("-", "").encode()).hexdigest() for c in codes}
    assert en.get("/console/complaints").status_code == 200  # this session now counts as two-factor
    assert "user.factor_enrol" in _actions(db)
    sealed = db.session.scalar(sa.select(TotpFactor.secret_sealed))
    assert secret not in sealed  # the shared secret is not stored in clear


def test_login_asks_for_the_code_and_refuses_a_replayed_one(en, app, db):
    user = make_user(Role.REGULATOR_LEAD, username="lead")
    db.session.commit()
    post_login(en, "lead")
    code = totp_code(user)
    assert en.post("/auth/login/factor", data={"code": code}).status_code == 302
    assert logged_in_id(en) == str(user.id)
    other = app.test_client()
    post_login(other, "lead")
    replay = other.post("/auth/login/factor", data={"code": code})
    assert replay.status_code == 401 and logged_in_id(other) is None


def test_a_recovery_code_works_once(en, app, db):
    user = make_user(Role.ENTERPRISE_SIGNATORY, username="sig")
    codes = factors.regenerate_recovery_codes(user)
    db.session.commit()
    post_login(en, "sig")
    assert en.post("/auth/login/factor", data={"code": codes[0].upper()}).status_code == 302
    assert logged_in_id(en) == str(user.id)
    assert db.session.scalar(sa.select(UserSession.factor)) == factors.RECOVERY
    other = app.test_client()
    post_login(other, "sig")
    assert other.post("/auth/login/factor", data={"code": codes[0]}).status_code == 401
    assert factors.unused_recovery_codes(user) == 9


def test_the_second_step_needs_the_first(en, db):
    response = en.post("/auth/login/factor", data={"code": "123456"})
    assert response.status_code == 302 and response.headers["Location"] == "/auth/login"


def test_staff_may_skip_enrol_or_remove_the_factor(en, db):
    staff = make_user(Role.ENTERPRISE_STAFF, username="clerk")
    db.session.commit()
    login_as(en, staff)
    assert en.get("/auth/account").status_code == 200  # optional: no redirect to enrolment
    secret = _secret(en.get("/auth/factor").get_data(as_text=True))
    assert len(_codes(en.post("/auth/factor", data={"code": pyotp.TOTP(secret).now()}).get_data(as_text=True))) == 10
    assert factors.has_factor(staff)
    en.post("/auth/factor/remove", data={"code": "000000"})
    assert factors.has_factor(staff)  # a wrong code removes nothing
    factor = factors.totp_of(staff)
    factor.last_step = None
    db.session.commit()
    assert en.post("/auth/factor/remove", data={"code": pyotp.TOTP(secret).now()}).status_code == 302
    assert not factors.has_factor(staff) and "user.factor_remove" in _actions(db)


def test_a_signatory_cannot_turn_the_factor_off(login, db):
    user = make_user(Role.ENTERPRISE_SIGNATORY)
    db.session.commit()
    client = login(user)
    client.post("/auth/factor/remove", data={"code": totp_code(user)})
    assert factors.has_factor(user)


def test_new_recovery_codes_need_a_current_code(login, db):
    user = make_user(Role.REGULATOR)
    old = factors.regenerate_recovery_codes(user)
    db.session.commit()
    client = login(user)
    assert client.post("/auth/factor/recovery-codes", data={"code": "000000"}).status_code == 302
    html = client.post("/auth/factor/recovery-codes", data={"code": totp_code(user)}).get_data(as_text=True)
    new = _codes(html)
    assert len(new) == 10 and not set(new) & set(old)


def test_the_admin_resets_a_lost_factor_ending_the_sessions(app, en, login, db):
    user = make_user(Role.REGULATOR, username="wang")
    admin = make_user(Role.ADMIN, username="boss")
    db.session.commit()
    victim = app.test_client()
    login_as(victim, user)
    assert victim.get("/auth/account").status_code == 200
    login(admin).post(f"/admin/users/{user.id}/reset-factor")
    assert not factors.has_factor(user)
    assert victim.get("/auth/account").status_code == 302
    record = db.session.scalar(sa.select(AuditRecord).where(AuditRecord.action == "user.factor_reset"))
    assert record is not None and record.actor_id == admin.id
    fresh = app.test_client()
    assert post_login(fresh, "wang", DEFAULT_PASSWORD).headers["Location"] == "/auth/factor"


def test_a_new_signatory_role_requires_enrolment(login, db):
    user = make_user(Role.ENTERPRISE_STAFF, second_factor=False)
    db.session.commit()
    client = login(user)
    assert client.get("/auth/account").status_code == 200
    user.role = Role.ENTERPRISE_SIGNATORY  # a regulator approved the signatory binding
    db.session.commit()
    assert client.get("/auth/account").headers["Location"].startswith("/auth/factor")
