"""The 12345 due date drives the deadline clock, the queue order, the overdue escalation and Open311's
expected_datetime."""
from __future__ import annotations

from datetime import timedelta

import pytest

from portal.auth.models import Role
from portal.complaints import rules, services
from portal.complaints.models import Channel, ComplaintEvent, Status
from portal.core.clock import china_today
from tests.factories import ensure_reference, make_complaint, make_user

KEY = "partner-key-due"


@pytest.fixture
def officer(db):
    return make_user(Role.REGULATOR, jurisdiction_code="3208")


def _dispatched(due, **kw):
    c, _ = make_complaint(channel=Channel.DISPATCH_12345, external_ticket=kw.pop("ticket", "HA-1"),
                          external_due_on=due, partner="12345-huaian", **kw)
    return c


def test_an_earlier_12345_due_date_is_the_deadline_before_and_after_acceptance(db, officer):
    today = china_today()
    c = _dispatched(today + timedelta(days=5))
    assert c.accept_due > today + timedelta(days=5)
    assert services.due_of(c) == today + timedelta(days=5)
    services.accept_complaint(c, officer)
    assert c.close_due > today + timedelta(days=5) and services.due_of(c) == today + timedelta(days=5)


def test_a_later_12345_due_date_never_stretches_the_statutory_clock(db):
    c = _dispatched(china_today() + timedelta(days=200))
    assert services.due_of(c) == c.accept_due


def test_a_review_runs_on_its_own_deadline(db):
    due = china_today() - timedelta(days=40)
    assert rules.effective_due(Status.REOPENED, due, china_today() + timedelta(days=30), None, due) \
        == china_today() + timedelta(days=30)
    assert rules.effective_due(Status.CLOSED, due, due, None, due) is None


def test_the_queue_puts_the_earliest_applicable_deadline_first(db, officer):
    web, _ = make_complaint()  # accept within 15 days
    hotline = _dispatched(china_today() + timedelta(days=3), ticket="HA-2")
    later = _dispatched(china_today() + timedelta(days=300), ticket="HA-3")  # statutory 15 days apply
    accepted, _ = make_complaint()
    services.accept_complaint(accepted, officer)  # 60 days
    order = [c.id for c in services.queue(officer)]
    assert order.index(hotline.id) < order.index(web.id)
    assert order.index(hotline.id) < order.index(later.id) < order.index(accepted.id)
    assert order.index(web.id) < order.index(accepted.id)


def test_a_case_past_the_12345_due_date_is_escalated_before_the_statutory_date(db, officer):
    c = _dispatched(china_today() - timedelta(days=1))
    web, _ = make_complaint()
    assert services.sla_of(c) == "overdue" and c.accept_due >= china_today()
    assert c in services.queue(officer, overdue_only=True) and web not in services.queue(officer, overdue_only=True)
    assert services.escalate_overdue() == 1
    assert c.escalated_on == china_today() and web.escalated_on is None
    assert services.escalate_overdue() == 0  # once per due date
    kinds = [e.kind for e in services.db.session.query(ComplaintEvent).filter_by(complaint_id=c.id)]
    assert kinds.count("escalated") == 1


def test_open311_expected_datetime_is_the_end_of_the_12345_due_day(client, app, db):
    ensure_reference()
    db.session.commit()
    app.config["OPEN311_API_KEYS"] = {KEY: "12345-huaian"}
    try:
        due = china_today() + timedelta(days=4)
        response = client.post("/open311/v2/requests.json", data={
            "api_key": KEY, "service_code": "air", "lat": "33.78", "long": "119.26",
            "description": "工厂烟囱夜间冒黑烟，气味刺鼻。", "attribute[region_code]": "320826",
            "attribute[external_ticket]": "HA-77", "attribute[due_date]": due.isoformat()})
        assert response.status_code == 200
        case_no = response.get_json()[0]["service_request_id"]
        (shown,) = client.get(f"/open311/v2/requests/{case_no}.json").get_json()
        assert shown["expected_datetime"] == f"{due.isoformat()}T23:59:59+08:00"
    finally:
        app.config["OPEN311_API_KEYS"] = {}
