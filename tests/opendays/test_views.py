"""Open days end to end over HTTP: publishing by the enterprise's own users, public registration (encrypted, no
duplicates, capacity, honeypot, CSRF), who sees registrations, past days kept, audit, and the credit bonus."""
from __future__ import annotations

from datetime import time, timedelta

import pytest
import sqlalchemy as sa

from portal.audit.models import AuditRecord
from portal.auth.models import Role
from portal.core.clock import china_today
from portal.credit import services as credit
from portal.credit.models import CreditSchemeVersion, Evidence, EvidenceKind, LedgerEntry
from portal.opendays import services
from portal.opendays.models import OpenDay, OpenDayRegistration, OpenDayStatus
from tests.conftest import login_as
from tests.factories import make_enterprise, make_user


def _open_day(db, ent, capacity=3, days=7, **kw) -> OpenDay:
    od = OpenDay(enterprise_id=ent.id, day=china_today() + timedelta(days=days), start_time=time(9, 30),
                 end_time=time(11), place="厂区东门", facility="污水处理站", capacity=capacity, **kw)
    db.session.add(od)
    db.session.commit()
    return od


def _register(client, od, phone="13812345678", name="李四", party=1, key=None, **extra):
    return client.post(f"/open-days/{od.id}", data={"name": name, "phone": phone, "party_size": party,
                                                   "submission_key": key or f"key-{phone}-{party}", **extra})


def _count(db, od) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(OpenDayRegistration)
                             .where(OpenDayRegistration.open_day_id == od.id))


def test_an_enterprise_user_publishes_an_open_day_shown_on_the_enterprise_page(db, client):
    ent = make_enterprise()
    staff = make_user(Role.ENTERPRISE_STAFF, enterprise=ent)
    db.session.commit()
    login_as(client, staff)
    day = (china_today() + timedelta(days=10)).isoformat()
    response = client.post("/my/open-days/new", data={
        "day": day, "start_time": "09:30", "end_time": "11:30", "place": "厂区东门", "facility": "污水处理站",
        "capacity": "30", "how_to_register": "本页报名", "notes": "请穿平底鞋"})
    assert response.status_code == 302
    od = db.session.scalar(sa.select(OpenDay))
    assert od.enterprise_id == ent.id and od.capacity == 30 and od.created_by_id == staff.id
    assert db.session.scalar(sa.select(AuditRecord).where(AuditRecord.action == "openday.publish")) is not None
    html = client.get(f"/enterprises/{ent.uscc}").get_data(as_text=True)
    assert "污水处理站" in html and day in html and "/my/open-days" in html


def test_a_bad_open_day_names_the_fields_and_the_fix(db, client):
    ent = make_enterprise()
    login_as(client, make_user(Role.ENTERPRISE_SIGNATORY, enterprise=ent))
    db.session.commit()
    response = client.post("/my/open-days/new", data={
        "day": (china_today() - timedelta(days=1)).isoformat(), "start_time": "10:00", "end_time": "09:00",
        "place": "", "facility": "站", "capacity": "0"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and db.session.scalar(sa.select(sa.func.count()).select_from(OpenDay)) == 0
    assert "该日期已过" in html and "结束时间必须晚于开始时间" in html and "名额" in html


def test_another_enterprises_user_and_regulators_cannot_manage_or_read_registrations(db, client):
    ent, other = make_enterprise(), make_enterprise()
    od = _open_day(db, ent)
    _register(client, od)
    for user, expected in ((make_user(Role.ENTERPRISE_STAFF, enterprise=other), 404),
                           (make_user(Role.REGULATOR_LEAD), 403)):
        db.session.commit()
        login_as(client, user)
        response = client.get(f"/my/open-days/{od.id}")
        assert response.status_code == expected
        assert "13812345678" not in response.get_data(as_text=True)
        assert client.post(f"/my/open-days/{od.id}/cancel", data={"reason": "x"}).status_code == expected
    assert db.session.get(OpenDay, od.id).status == OpenDayStatus.PUBLISHED


def test_the_public_registers_without_an_account_and_the_identity_is_encrypted_at_rest(db, client):
    ent = make_enterprise()
    staff = make_user(Role.ENTERPRISE_STAFF, enterprise=ent)
    od = _open_day(db, ent)
    response = _register(client, od, phone="+86 138-1234-5678", name="李四", party=2)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/open-days/{od.id}/registered")
    assert "报名成功" in client.get(response.headers["Location"]).get_data(as_text=True)
    reg = db.session.scalar(sa.select(OpenDayRegistration))
    assert reg.party_size == 2 and "13812345678" not in reg.identity and "李四" not in reg.identity
    audit = db.session.scalar(sa.select(AuditRecord).where(AuditRecord.action == "openday.register"))
    assert audit.actor_label == "public" and audit.enterprise_id == ent.id and "identity" not in audit.after
    login_as(client, staff)
    html = client.get(f"/my/open-days/{od.id}").get_data(as_text=True)
    assert "李四" in html and "13812345678" in html and "(2 / 3)" in html


def test_a_double_submit_registers_once(db, client):
    od = _open_day(db, make_enterprise())
    first = _register(client, od, key="same-key")
    second = _register(client, od, key="same-key")
    assert first.status_code == second.status_code == 302 and _count(db, od) == 1


def test_one_phone_registers_once_per_open_day(db, client):
    od = _open_day(db, make_enterprise())
    _register(client, od, key="a")
    response = _register(client, od, phone="138 1234 5678", key="b")
    assert response.status_code == 409 and "该电话号码已报名本次开放日" in response.get_data(as_text=True)
    assert _count(db, od) == 1


def test_the_capacity_is_enforced_with_a_clear_message_when_full(db, client):
    od = _open_day(db, make_enterprise(), capacity=3)
    assert _register(client, od, phone="13800000001", party=2).status_code == 302
    too_many = _register(client, od, phone="13800000002", party=2)
    assert too_many.status_code == 400 and "仅剩 1 个名额" in too_many.get_data(as_text=True)
    assert _register(client, od, phone="13800000003", party=1).status_code == 302
    full = _register(client, od, phone="13800000004", party=1)
    assert full.status_code == 409 and "名额已满" in full.get_data(as_text=True)
    page = client.get(f"/open-days/{od.id}").get_data(as_text=True)
    assert "名额已满" in page and 'name="phone"' not in page
    assert services.taken(od.id) == 3


def test_the_honeypot_drops_bot_submissions(db, client):
    od = _open_day(db, make_enterprise())
    response = _register(client, od, website="http://spam.example")
    assert response.status_code == 400 and _count(db, od) == 0


def test_missing_name_or_a_bad_phone_is_refused_naming_the_field(db, client):
    od = _open_day(db, make_enterprise())
    html = _register(client, od, name="", phone="12345").get_data(as_text=True)
    assert "请填写您的姓名" in html and _count(db, od) == 0
    html = _register(client, od, phone="12345").get_data(as_text=True)
    assert "中国大陆手机号码（11位）" in html and _count(db, od) == 0


def test_registration_needs_the_csrf_token(app, db, client, monkeypatch):
    od = _open_day(db, make_enterprise())
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    assert _register(client, od).status_code == 400 and _count(db, od) == 0


def test_past_and_cancelled_open_days_stay_on_the_page_and_refuse_registration(db, client):
    ent = make_enterprise()
    past = _open_day(db, ent, days=-3)
    cancelled = _open_day(db, ent, days=5, status=OpenDayStatus.CANCELLED, cancel_reason="设备检修")
    assert _register(client, past).status_code == 409 and _count(db, past) == 0
    assert _register(client, cancelled, phone="13900000000").status_code == 409
    html = client.get(f"/enterprises/{ent.uscc}").get_data(as_text=True)
    assert past.day.isoformat() in html and "已举行" in html and "设备检修" in html


def test_cancelling_is_audited_and_needs_a_reason(db, client):
    ent = make_enterprise()
    staff = make_user(Role.ENTERPRISE_STAFF, enterprise=ent)
    od = _open_day(db, ent)
    login_as(client, staff)
    client.post(f"/my/open-days/{od.id}/cancel", data={"reason": ""})
    assert db.session.get(OpenDay, od.id).status == OpenDayStatus.PUBLISHED
    client.post(f"/my/open-days/{od.id}/cancel", data={"reason": "设备检修"})
    db.session.expire_all()
    assert db.session.get(OpenDay, od.id).status == OpenDayStatus.CANCELLED
    assert db.session.scalar(sa.select(AuditRecord).where(AuditRecord.action == "openday.cancel")) is not None


def _scheme_with_open_day_bonus(db, ent, points=1):
    credit.seed_schemes()
    version = credit.version_for_region(ent.region_code)
    rules = dict(version.rules)
    rules["rules"] = [*rules["rules"], {"code": "open-day", "kind": "open_day", "points": points,
                                        "validity_months": 12, "label": "举办企业开放日", "label_en": "Open day"}]
    db.session.execute(sa.update(CreditSchemeVersion).where(CreditSchemeVersion.id == version.id)
                       .values(rules=rules))
    db.session.commit()


@pytest.mark.parametrize("bonus", [True, False])
def test_a_held_open_day_becomes_credit_evidence_only_where_the_scheme_gives_a_bonus(db, bonus):
    ent = make_enterprise()
    if bonus:
        _scheme_with_open_day_bonus(db, ent)
    else:
        credit.seed_schemes()
    od = _open_day(db, ent, days=-2)
    _open_day(db, ent, days=3)  # not yet held
    assert services.record_held_open_days()["held"] == 1
    services.record_held_open_days()  # idempotent
    evidence = list(db.session.scalars(sa.select(Evidence).where(Evidence.kind == EvidenceKind.OPEN_DAY)))
    if not bonus:
        assert evidence == []
        return
    assert len(evidence) == 1 and evidence[0].source_ref == f"openday:{od.id}" and not evidence[0].is_verified
    assert evidence[0].occurred_on == od.day


def test_a_confirmed_open_day_earns_the_schemes_bonus(db):
    ent = make_enterprise()
    _scheme_with_open_day_bonus(db, ent, points=1)
    _open_day(db, ent, days=-2)
    services.record_held_open_days()
    evidence = db.session.scalar(sa.select(Evidence).where(Evidence.kind == EvidenceKind.OPEN_DAY))
    credit.confirm_evidence(make_user(Role.REGULATOR), evidence)  # a finding: recorded by one regulator...
    assert db.session.scalar(sa.select(LedgerEntry).where(LedgerEntry.evidence_id == evidence.id)) is None
    credit.confirm_evidence(make_user(Role.REGULATOR), evidence)  # ...and confirmed by a second
    db.session.commit()
    line = db.session.scalar(sa.select(LedgerEntry).where(LedgerEntry.evidence_id == evidence.id))
    assert line is not None and line.points == 1 and line.rule_code == "open-day"
