"""Transfer to the competent jurisdiction: who sees the case afterwards, the SLA clocks, the reporter's page."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from portal.audit.models import AuditRecord
from portal.auth.models import Role
from portal.complaints import rules, services, transfer
from portal.complaints.common import _is_workday
from portal.complaints.models import Complaint, ComplaintTransfer, Findings, Status
from portal.core.clock import china_today
from portal.errors import InvalidTransition, NotFound, ValidationFailed
from tests.conftest import login_as
from tests.factories import make_complaint, make_user

REPORTER = {"name": "李四", "phone": "13800000000", "email": "lisi@example.cn", "id_no": ""}


@pytest.fixture
def bureaus(db):
    return {"sender": make_user(Role.REGULATOR, jurisdiction_code="320826"),
            "sender_lead": make_user(Role.REGULATOR_LEAD, jurisdiction_code="320826"),
            "receiver": make_user(Role.REGULATOR, jurisdiction_code="320803"),
            "city": make_user(Role.REGULATOR_LEAD, jurisdiction_code="3208")}


def test_a_transferred_case_is_invisible_to_the_sender_and_visible_to_the_receiver(db, bureaus):
    c, _ = make_complaint(region_code="320826")
    sender, receiver = bureaus["sender"], bureaus["receiver"]
    assert services.can_view(sender, c) and not services.can_view(receiver, c)
    transfer.transfer_complaint(c, sender, "320803", "污染源位于淮安区境内")
    assert c.region_code == "320803"
    for user in (sender, bureaus["sender_lead"]):
        assert not services.can_view(user, c)
        with pytest.raises(NotFound):
            services.get_for_handler(user, c.id)
        assert c not in services.queue(user)
    assert services.get_for_handler(receiver, c.id) is c and c in services.queue(receiver)
    assert services.can_view(bureaus["city"], c)  # the city covers both districts
    audit = db.session.scalar(sa.select(AuditRecord).where(AuditRecord.action == "complaint.transfer"))
    assert audit.before["region_code"] == "320826" and audit.after["region_code"] == "320803"


def test_an_unaccepted_case_gets_the_receivers_own_acceptance_clock(db, bureaus):
    c, _ = make_complaint(region_code="320826")
    c.accept_due = china_today() + timedelta(days=2)  # the sender nearly used up its 15 days
    entry = transfer.transfer_complaint(c, bureaus["sender"], "320803", "污染源位于淮安区境内")
    assert c.status == Status.RECEIVED
    assert c.accept_due == rules.accept_due(china_today(), _is_workday) == entry.accept_due_after
    assert entry.accept_due_before == china_today() + timedelta(days=2)


def test_an_accepted_case_keeps_its_handling_clock_and_loses_its_handler(db, bureaus):
    c, _ = make_complaint(region_code="320826")
    services.accept_complaint(c, bureaus["sender"])
    services.start_investigation(c, bureaus["sender"])
    close_due, accept_due = c.close_due, c.accept_due
    transfer.transfer_complaint(c, bureaus["sender"], "320803", "污染源位于淮安区境内")
    assert (c.status, c.close_due, c.accept_due) == (Status.ACCEPTED, close_due, accept_due)
    assert c.handler_id is None and c.assigned_region_code is None
    assert services.due_of(c) == close_due
    services.start_investigation(c, bureaus["receiver"])  # the receiver carries on
    assert c.status == Status.INVESTIGATING


def test_a_dispatched_case_leaves_the_dispatched_unit_too(db, bureaus):
    county = make_user(Role.REGULATOR, jurisdiction_code="320826")
    c, _ = make_complaint(region_code="320826")
    services.accept_complaint(c, bureaus["city"])
    services.dispatch_complaint(c, bureaus["city"], county.id)
    transfer.transfer_complaint(c, bureaus["city"], "210100", "污染源实际位于沈阳市")
    assert not services.can_view(county, c) and not services.can_view(bureaus["city"], c)


@pytest.mark.parametrize("region, reason, field", [
    ("999999", "污染源位于淮安区境内", "region_code"),
    ("320826", "污染源位于涟水县境内", "region_code"),  # inside the sender's own jurisdiction: dispatch instead
    ("320803", "短", "reason"),
])
def test_a_bad_transfer_names_the_field_and_changes_nothing(db, bureaus, region, reason, field):
    c, _ = make_complaint(region_code="320826")
    with pytest.raises(ValidationFailed) as info:
        transfer.transfer_complaint(c, bureaus["sender"], region, reason)
    assert field in info.value.errors and c.region_code == "320826"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ComplaintTransfer)) == 0


def test_a_case_with_a_result_is_not_transferred(db, bureaus):
    c, _ = make_complaint(region_code="320826")
    services.accept_complaint(c, bureaus["sender"])
    services.start_investigation(c, bureaus["sender"])
    services.report_result(c, bureaus["sender"], Findings.NOT_SUBSTANTIATED, "现场未发现违法排污行为。")
    with pytest.raises(InvalidTransition):
        transfer.transfer_complaint(c, bureaus["sender"], "320803", "污染源位于淮安区境内")


def test_the_console_transfers_and_the_reporter_sees_it(client, db, bureaus):
    c, code = make_complaint(region_code="320826", identity=REPORTER)
    db.session.commit()
    login_as(client, bureaus["sender"])
    assert "淮安区" in client.get(f"/console/complaints/{c.id}").get_data(as_text=True)
    response = client.post(f"/console/complaints/{c.id}/transfer",
                           data={"region_code": "320803", "reason": "污染源位于淮安区境内"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/console/complaints")
    assert client.get(f"/console/complaints/{c.id}").status_code == 404
    assert client.post(f"/console/complaints/{c.id}/transfer",
                       data={"region_code": "210100", "reason": "再次转送"}).status_code == 404
    login_as(client, bureaus["receiver"])
    page = client.get(f"/console/complaints/{c.id}").get_data(as_text=True)
    assert "污染源位于淮安区境内" in page
    client.get("/auth/logout")
    client.post("/complaints/track", data={"case_no": c.case_no, "code": code})
    tracking = client.get(f"/complaints/track/{c.case_no}").get_data(as_text=True)
    assert "淮安区" in tracking and "污染源位于淮安区境内" not in tracking  # the reason stays internal
    assert db.session.get(Complaint, c.id).region_code == "320803"


def test_an_accepted_case_transfer_keeps_the_date_it_was_due(db, bureaus):
    c, _ = make_complaint(region_code="320826")
    services.accept_complaint(c, bureaus["sender"])
    before = services.due_of(c)
    transfer.transfer_complaint(c, bureaus["sender"], "320803", "污染源位于淮安区境内")
    assert services.due_of(c) == before and isinstance(before, date)


def test_the_receiving_leads_are_told_and_the_senders_are_not(db, bureaus):
    from portal.mail.models import OutboxMessage
    from portal.mail.services import recipient

    receiving_lead = make_user(Role.REGULATOR_LEAD, jurisdiction_code="320803", email="lead803@example.cn")
    c, _ = make_complaint(region_code="320826")
    transfer.transfer_complaint(c, bureaus["sender"], "320803", "污染源位于淮安区境内")
    to = {recipient(m) for m in db.session.scalars(sa.select(OutboxMessage))}
    assert receiving_lead.email in to and bureaus["city"].email in to
    assert bureaus["sender_lead"].email not in to
