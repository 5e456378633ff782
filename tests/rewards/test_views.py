"""Reward workflow over HTTP: assessment by the handler, four-eyes approval by a lead, payment, the reporter's
tracking page, the public statistics, and who may see reward data (handler and lead only)."""
from __future__ import annotations

import sqlalchemy as sa

from portal.audit.models import AuditRecord
from portal.auth.models import Role
from portal.complaints.models import Status
from portal.core.clock import china_today
from portal.rewards.models import RewardCase, RewardStatus, RewardTable
from tests.conftest import login_as
from tests.factories import make_complaint, make_enterprise, make_user
from tests.rewards.world import REAL_NAME, substantiated_complaint


def _people(db):
    ent = make_enterprise()
    handler = make_user(Role.REGULATOR, jurisdiction_code="320826")
    return ent, handler, make_user(Role.REGULATOR_LEAD), make_user(Role.REGULATOR_LEAD)


def _reward(db, c) -> RewardCase:
    db.session.expire_all()
    return db.session.scalar(sa.select(RewardCase).where(RewardCase.complaint_id == c.id))


def _propose(client, c, **data):
    return client.post(f"/console/rewards/complaint/{c.id}/propose", data={"tier": "general", **data})


def test_handler_proposes_a_lead_approves_the_payment_is_recorded_and_the_reporter_sees_it(app, client, db):
    ent, handler, lead, _other = _people(db)
    c, code = make_complaint(ent, identity=REAL_NAME)
    c2 = substantiated_complaint(ent, handler)  # noqa: F841 (another case, to see counts stay per case)
    c.status, c.findings, c.handler_id = Status.RESULT_REPORTED, "substantiated", handler.id
    db.session.commit()

    login_as(client, handler)
    page = client.get(f"/console/rewards/complaint/{c.id}")
    assert page.status_code == 200 and "李四" in page.text and "320826199001011234" in page.text
    assert _propose(client, c, is_insider="y").status_code == 302
    reward = _reward(db, c)
    assert (reward.status, reward.proposed_amount_yuan, reward.is_insider) == (RewardStatus.PROPOSED, 750, True)
    # The handler is no lead: the decision route refuses.
    assert client.post(f"/console/rewards/{reward.id}/decide", data={"decision": "approve"}).status_code == 403

    login_as(client, lead)
    assert client.post(f"/console/rewards/{reward.id}/decide", data={"decision": "approve"}).status_code == 302
    assert _reward(db, c).status == RewardStatus.APPROVED

    login_as(client, handler)
    bad = client.post(f"/console/rewards/{reward.id}/payment", data={"paid_on": china_today().isoformat(),
                                                                      "payment_method": "", "payment_reference": ""})
    assert bad.status_code == 400 and _reward(db, c).status == RewardStatus.APPROVED
    ok = client.post(f"/console/rewards/{reward.id}/payment", data={
        "paid_on": china_today().isoformat(), "payment_method": "bank_transfer", "payment_reference": "TX-2026-0001"})
    assert ok.status_code == 302
    paid = _reward(db, c)
    assert (paid.status, paid.payment_reference) == (RewardStatus.PAID, "TX-2026-0001")

    actions = list(db.session.scalars(sa.select(AuditRecord.action).where(AuditRecord.object_type == "reward_cases")
                                      .order_by(AuditRecord.seq)))
    assert actions == ["reward.propose", "reward.approve", "reward.pay"]
    assert not any("李四" in str(r.after) for r in db.session.scalars(sa.select(AuditRecord)))

    client.get("/auth/logout")
    reporter = app.test_client()
    reporter.post("/complaints/track", data={"case_no": c.case_no, "code": code})
    tracking = reporter.get(f"/complaints/track/{c.case_no}")
    assert tracking.status_code == 200
    assert "Reward paid" in tracking.text or "奖励已发放" in tracking.text
    assert "750" in tracking.text

    stats = reporter.get("/rewards/statistics?lang=en")
    assert stats.status_code == 200 and "750" in stats.text
    assert "李四" not in stats.text and c.case_no not in stats.text


def test_a_lead_never_approves_their_own_proposal(client, db):
    ent, handler, lead, other_lead = _people(db)
    c = substantiated_complaint(ent, handler)
    db.session.commit()
    login_as(client, lead)
    assert _propose(client, c).status_code == 302
    reward = _reward(db, c)
    response = client.post(f"/console/rewards/{reward.id}/decide", data={"decision": "approve"})
    assert response.status_code == 403
    assert _reward(db, c).status == RewardStatus.PROPOSED
    login_as(client, other_lead)
    assert client.post(f"/console/rewards/{reward.id}/decide",
                       data={"decision": "reject", "decision_note": "举报前已立案调查"}).status_code == 302
    assert _reward(db, c).status == RewardStatus.REJECTED


def test_an_anonymous_or_later_or_already_known_report_is_recorded_as_ineligible_with_its_reasons(client, db):
    ent, handler, _lead, _ = _people(db)
    anon = substantiated_complaint(ent, handler, identity=None)
    first = substantiated_complaint(ent, handler)
    later = substantiated_complaint(ent, handler)
    later.merged_into_id, later.status = first.id, Status.MERGED
    db.session.commit()
    login_as(client, handler)
    _propose(client, anon)
    assert _reward(db, anon).status == RewardStatus.INELIGIBLE
    assert _reward(db, anon).ineligibility == ["not_real_name"]
    _propose(client, later)
    assert _reward(db, later).ineligibility == ["not_first_reporter"]
    assert _propose(client, first, already_known="y").status_code == 400  # how it was known is required
    _propose(client, first, already_known="y", already_known_note="同一问题已于 3 月立案查处")
    assert _reward(db, first).ineligibility == ["already_known"]
    assert _reward(db, first).proposed_amount_yuan is None
    # Reassessed once the handler finds the bureau did not know after all.
    _propose(client, first)
    assert _reward(db, first).status == RewardStatus.PROPOSED


def test_the_jurisdictions_table_set_by_a_lead_gives_the_amount(client, db):
    ent, handler, lead, _ = _people(db)
    c = substantiated_complaint(ent, handler)
    db.session.commit()
    login_as(client, lead)
    bad = client.post("/console/rewards/table", data={"table": '{"tiers": []}'})
    assert bad.status_code == 400 and "tiers" in bad.text
    table = '{"tiers": [{"code": "general", "label": "一般", "amount_yuan": 800}], "insider_bonus_percent": 0}'
    assert client.post("/console/rewards/table", data={"table": table}).status_code == 302
    assert db.session.scalar(sa.select(RewardTable.jurisdiction_prefix)) == "3208"
    login_as(client, handler)
    _propose(client, c)
    assert _reward(db, c).proposed_amount_yuan == 800


def test_reward_data_is_visible_only_to_the_handler_and_the_lead(client, db):
    ent, handler, lead, _ = _people(db)
    c = substantiated_complaint(ent, handler)
    db.session.commit()
    login_as(client, handler)
    _propose(client, c)
    reward = _reward(db, c)
    urls = [f"/console/rewards/complaint/{c.id}"]
    for user, status in ((make_user(Role.REGULATOR), 404), (make_user(Role.REGULATOR_LEAD, jurisdiction_code="21"), 404),
                         (make_user(Role.ENTERPRISE_STAFF, enterprise=ent), 403), (make_user(Role.ADMIN), 403)):
        db.session.commit()
        login_as(client, user)
        for url in urls:
            response = client.get(url)
            assert response.status_code == status, (user.role, url)
            assert "李四" not in response.text
        listing = client.get("/console/rewards")
        assert reward.complaint.case_no not in listing.text
        assert client.post(f"/console/rewards/{reward.id}/payment", data={}).status_code in (403, 404)
    for user in (handler, lead):
        login_as(client, user)
        assert client.get(urls[0]).status_code == 200
        assert c.case_no in client.get("/console/rewards").text
    login_as(client, handler)
    console = client.get(f"/console/complaints/{c.id}")
    assert f"/console/rewards/complaint/{c.id}" in console.text
    login_as(client, make_user(Role.REGULATOR))
    db.session.commit()
    assert f"/console/rewards/complaint/{c.id}" not in client.get(f"/console/complaints/{c.id}").text
