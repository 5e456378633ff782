"""Regulator lists that used to render everything at once (issue 21) now page on the server: the change-proposal
queue (each proposal carries its diff) and the device list (enterprise and outlet loaded in bulk)."""
from __future__ import annotations

import pytest
from sqlalchemy import event

from portal.auth.models import Role
from portal.enterprises.models import ChangeProposal
from portal.enterprises.views import PROPOSALS_PER_PAGE
from portal.extensions import db as _db
from portal.monitoring.models import Device
from portal.monitoring.views import DEVICES_PER_PAGE
from tests.conftest import login_as
from tests.factories import make_enterprise, make_outlet, make_permit, make_user


@pytest.fixture
def en(client):
    with client.session_transaction() as sess:
        sess["lang"] = "en"
    return client


def test_the_proposal_queue_pages(db, en):
    ent = make_enterprise()
    owner = make_user(Role.ENTERPRISE_STAFF, enterprise=ent)
    for i in range(PROPOSALS_PER_PAGE + 3):
        db.session.add(ChangeProposal(enterprise_id=ent.id, proposer_id=owner.id, target_type="enterprise",
                                      target_id=ent.id, payload={"legal_rep": f"王{i}"}, reason=f"变更{i}"))
    reg = make_user(Role.REGULATOR)
    db.session.commit()
    login_as(en, reg)
    first = en.get("/regulator/proposals").get_data(as_text=True)
    assert f"{PROPOSALS_PER_PAGE + 3} proposals; page 1 of 2." in first
    assert first.count('class="card proposal"') == PROPOSALS_PER_PAGE and 'rel="next"' in first
    second = en.get("/regulator/proposals?page=2").get_data(as_text=True)
    assert second.count('class="card proposal"') == 3


def test_the_device_list_pages_without_a_query_per_row(db, en):
    ent = make_enterprise()
    outlet = make_outlet(ent, "DW001", make_permit(ent))
    for i in range(DEVICES_PER_PAGE + 2):
        db.session.add(Device(mn=f"MN{i:020d}", password_hash="x", enterprise_id=ent.id, outlet_id=outlet.id))
    reg = make_user(Role.REGULATOR)
    db.session.commit()
    login_as(en, reg)
    seen = []

    def count(*_a, **_k):
        seen.append(1)

    event.listen(_db.engine, "before_cursor_execute", count)
    try:
        first = en.get("/monitoring/devices").get_data(as_text=True)
    finally:
        event.remove(_db.engine, "before_cursor_execute", count)
    assert f"{DEVICES_PER_PAGE + 2} devices; page 1 of 2." in first and 'rel="next"' in first
    assert first.count("/monitoring/devices/") >= DEVICES_PER_PAGE
    assert len(seen) < 30  # not one query per device
    second = en.get("/monitoring/devices?page=2").get_data(as_text=True)
    assert f"MN{DEVICES_PER_PAGE + 1:020d}" in second


def test_the_incident_list_filters_by_state_and_pages(db, en):
    from portal.monitoring.models import IncidentState
    from tests.factories import make_incident

    ent = make_enterprise()
    outlet = make_outlet(ent, "DW001", make_permit(ent))
    explained = make_incident(ent, outlet, hour=1, confirmed=False)
    explained.state = IncidentState.EXPLAINED
    for hour in range(2, 5):
        make_incident(ent, outlet, hour=hour, confirmed=False)
    reg = make_user(Role.REGULATOR)
    db.session.commit()
    login_as(en, reg)
    assert "4 incidents; page 1 of 1." in en.get("/monitoring/incidents").get_data(as_text=True)
    assert "3 incidents; page 1 of 1." in en.get("/monitoring/incidents?state=open").get_data(as_text=True)
    only = en.get("/monitoring/incidents?state=explained").get_data(as_text=True)
    assert "1 incidents; page 1 of 1." in only and f"/monitoring/incidents/{explained.id}" in only
