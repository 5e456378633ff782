"""Every view of a reporter's identity or an original photo is audited and listed for the lead; only the handler
and the lead get originals, other regulators the copy without EXIF (issue 20)."""
from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from PIL import Image

from portal.audit.models import AuditRecord
from portal.audit.services import verify
from portal.auth.models import Role
from portal.complaints import services
from portal.complaints.identity import IDENTITY_VIEWED, ORIGINAL_VIEWED
from tests.conftest import login_as
from portal.complaints.models import Category
from portal.complaints.services import Intake
from portal.complaints.uploads import prepare_upload
from tests.factories import ensure_reference, make_complaint, make_enterprise, make_user

REPORTER = {"name": "李四", "phone": "13800000000", "email": "lisi@example.cn", "id_no": ""}


def _gps_photo():
    exif = Image.Exif()
    exif.get_ifd(0x8825).update({1: "N", 2: (33.0, 46.0, 48.0), 3: "E", 4: (119.0, 15.0, 36.0)})
    buf = io.BytesIO()
    Image.new("RGB", (60, 40), "blue").save(buf, format="JPEG", exif=exif.tobytes())
    buf.seek(0)
    return prepare_upload("river.jpg", buf, 10 * 1024 * 1024, 10_000_000)


@pytest.fixture
def case(db):
    ent = make_enterprise()
    ensure_reference()
    c = services.submit_complaint(Intake(category=Category.WATER, description="黑色污水从排污口直排河道，气味刺鼻。",
                                         region_code="", enterprise_uscc=ent.uscc, reported_name="",
                                         reported_address="", anonymous=False, identity=REPORTER),
                                  [_gps_photo()])[0]
    users = {"handler": make_user(Role.REGULATOR, jurisdiction_code="3208"),
             "lead": make_user(Role.REGULATOR_LEAD, jurisdiction_code="3208"),
             "other": make_user(Role.REGULATOR, jurisdiction_code="3208"),
             "foreign_lead": make_user(Role.REGULATOR_LEAD, jurisdiction_code="2101")}
    services.accept_complaint(c, users["handler"])
    c.handler_id = users["handler"].id
    db.session.commit()
    return c, users


def _views(db, action):
    return db.session.scalars(sa.select(AuditRecord).where(AuditRecord.action == action)
                              .order_by(AuditRecord.id)).all()


def test_each_view_of_the_identity_is_an_audit_record_without_the_identity(client, db, case):
    c, users = case
    for who in ("handler", "lead", "lead", "other"):
        login_as(client, users[who])
        client.get(f"/console/complaints/{c.id}")
    views = _views(db, IDENTITY_VIEWED)
    assert [v.actor_id for v in views] == [users["handler"].id, users["lead"].id, users["lead"].id]
    assert views[0].after == {"case_no": c.case_no, "fields": ["email", "name", "phone"]}
    assert all("13800000000" not in str(v.before) + str(v.after) for v in views)
    assert views[0].enterprise_id is None and verify() == []


def test_an_anonymous_case_shows_no_identity_and_records_nothing(client, db):
    c, _ = make_complaint(make_enterprise())
    lead = make_user(Role.REGULATOR_LEAD, jurisdiction_code="3208")
    db.session.commit()
    login_as(client, lead)
    assert client.get(f"/console/complaints/{c.id}").status_code == 200
    assert _views(db, IDENTITY_VIEWED) == []


def test_handler_and_lead_get_the_original_with_gps_and_it_is_audited(client, db, case):
    c, users = case
    att = c.attachments[0]
    for who in ("handler", "lead"):
        login_as(client, users[who])
        got = client.get(f"/console/complaints/{c.id}/files/{att.id}")
        assert got.status_code == 200 and got.data == services.upload_root().get(att.original_path)
        assert Image.open(io.BytesIO(got.data)).getexif().get_ifd(0x8825)
    assert [v.actor_id for v in _views(db, ORIGINAL_VIEWED)] == [users["handler"].id, users["lead"].id]


def test_another_regulator_gets_the_copy_without_exif_and_no_original_link(client, db, case):
    c, users = case
    att = c.attachments[0]
    login_as(client, users["other"])
    page = client.get(f"/console/complaints/{c.id}").get_data(as_text=True)
    assert "13800000000" not in page
    got = client.get(f"/console/complaints/{c.id}/files/{att.id}")
    assert got.status_code == 200
    assert got.data == services.upload_root().get(att.public_path) != services.upload_root().get(att.original_path)
    assert not Image.open(io.BytesIO(got.data)).getexif().get_ifd(0x8825)
    assert _views(db, ORIGINAL_VIEWED) == []


def test_the_lead_lists_who_saw_reporters_in_the_area_only(client, db, case):
    c, users = case
    login_as(client, users["handler"])
    client.get(f"/console/complaints/{c.id}")
    client.get(f"/console/complaints/{c.id}/files/{c.attachments[0].id}")
    login_as(client, users["lead"])
    page = client.get("/regulator/reporter-access")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and c.case_no in html and users["handler"].username in html
    assert html.count("<tr>") >= 2
    assert "13800000000" not in html
    login_as(client, users["foreign_lead"])
    assert c.case_no not in client.get("/regulator/reporter-access").get_data(as_text=True)
    login_as(client, users["other"])
    assert client.get("/regulator/reporter-access").status_code == 403
    login_as(client, users["lead"])
    assert client.get("/regulator/reporter-access?page=99999999999999999999").status_code == 400
