"""Laboratory report PDFs: content sniffing, size cap, storage under the instance, audit, who may open them."""
from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from portal.audit.models import AuditRecord
from portal.auth.models import Role
from portal.monitoring import lab_reports, manual
from portal.monitoring.importers import ManualRow
from portal.monitoring.models import LabReport
from tests.factories import make_user
from tests.monitoring.helpers import water_setup

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _submission(db, ent, staff):
    row = ManualRow(line=0, outlet="DW001", pollutant="w01018", sampled_at=datetime(2026, 11, 2, 9, 30), value=30.0,
                    completed_on=date(2026, 11, 4), production_load=Decimal("80"), facility_status="running")
    [submission] = manual.submit_one(staff, ent, row).submissions
    return submission


@pytest.fixture
def setup(db):
    ent, outlet, _ = water_setup(db)
    staff = make_user(Role.ENTERPRISE_STAFF, enterprise=ent)
    return ent, staff, _submission(db, ent, staff)


@pytest.mark.parametrize("name, data, message", [
    ("r.pdf", b"", "empty"),
    ("r.pdf", b"\x89PNG\r\n\x1a\n" + b"0" * 100, "not a PDF"),
    ("r.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\n", "not a PDF"),  # truncated: no %%EOF
    ("r.exe", PDF, "does not end in .pdf"),
])
def test_uploads_are_judged_by_their_content_and_name(app_ctx, name, data, message):
    with force_locale("en"), pytest.raises(lab_reports.ReportRejected) as info:
        lab_reports.prepare(name, io.BytesIO(data), 1024)
    assert message in str(info.value)


def test_the_size_is_capped_without_reading_the_rest(app_ctx):
    stream = io.BytesIO(PDF + b"x" * 5000)
    with pytest.raises(lab_reports.ReportRejected):
        lab_reports.prepare("r.pdf", stream, 1024)
    assert stream.tell() == 1025
    assert lab_reports.prepare("R.PDF", io.BytesIO(b"\n" + PDF), 1024).data == b"\n" + PDF


def test_attach_stores_under_the_instance_and_audits(db, setup, app):
    ent, staff, submission = setup
    report = lab_reports.attach(staff, submission, "报告.pdf", io.BytesIO(PDF))
    path = lab_reports.report_store().local_path(report.stored_path)
    assert path.read_bytes() == PDF
    assert str(path).startswith(app.config["TEST_INSTANCE"])
    actions = db.session.scalars(sa.select(AuditRecord.action)).all()
    assert "monitoring.lab_report.attach" in actions


def test_the_enterprise_uploads_and_the_public_reads_a_published_report(client, db, setup, login):
    ent, staff, submission = setup
    db.session.commit()
    login(staff)
    response = client.post(f"/monitoring/my/results/{submission.id}/report",
                           data={"report": (io.BytesIO(PDF), "lab.pdf")}, content_type="multipart/form-data")
    assert response.status_code == 302
    report = db.session.scalar(sa.select(LabReport))
    assert report is not None and report.filename == "lab.pdf"
    bad = client.post(f"/monitoring/my/results/{submission.id}/report",
                      data={"report": (io.BytesIO(b"GIF89a" + b"0" * 50), "lab.pdf")},
                      content_type="multipart/form-data", follow_redirects=True)
    assert bad.status_code == 200 and db.session.scalar(sa.select(sa.func.count()).select_from(LabReport)) == 1
    client.get("/auth/logout")
    anonymous = client.get(f"/monitoring/lab-reports/{report.id}.pdf")
    assert anonymous.status_code == 200 and anonymous.data == PDF
    assert anonymous.headers["Content-Type"] == "application/pdf"
    assert anonymous.headers["X-Content-Type-Options"] == "nosniff"
    assert f"/monitoring/lab-reports/{report.id}.pdf" in client.get(f"/enterprises/{ent.uscc}").get_data(as_text=True)


def test_an_unpublished_report_is_only_for_the_enterprise_and_its_regulators(client, db, setup, login):
    ent, staff, submission = setup
    report = lab_reports.attach(staff, submission, "lab.pdf", io.BytesIO(PDF))
    submission.published_on = date.today() + timedelta(days=30)  # not yet published
    db.session.commit()
    assert client.get(f"/monitoring/lab-reports/{report.id}.pdf").status_code == 404
    login(make_user(Role.REGULATOR, jurisdiction_code="2101"))
    db.session.commit()
    assert client.get(f"/monitoring/lab-reports/{report.id}.pdf").status_code == 404
    login(make_user(Role.REGULATOR, jurisdiction_code="3208"))
    db.session.commit()
    assert client.get(f"/monitoring/lab-reports/{report.id}.pdf").status_code == 200
    login(staff)
    assert client.get(f"/monitoring/lab-reports/{report.id}.pdf").status_code == 200


def test_another_enterprise_cannot_attach_to_a_foreign_submission(client, db, setup, login):
    _, _, submission = setup
    other, _, _ = water_setup(db, mn="MNW0002")
    login(make_user(Role.ENTERPRISE_STAFF, enterprise=other))
    db.session.commit()
    response = client.post(f"/monitoring/my/results/{submission.id}/report",
                           data={"report": (io.BytesIO(PDF), "lab.pdf")}, content_type="multipart/form-data")
    assert response.status_code == 404
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LabReport)) == 0
