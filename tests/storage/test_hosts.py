"""Written on one host, readable on every other (issue 23): with PORTAL_STORAGE=s3 each file writer's file, written
through host A, is read through host B, a second app instance with its own instance directory and none of A's
directories, sharing only the database and the bucket. Caps and content sniffing still apply before anything is
stored."""
from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
import sqlalchemy as sa

from portal.auth.models import Role
from portal.complaints import services as complaint_services
from portal.complaints.models import Complaint
from portal.core.storage import files
from portal.credit.models import EvidenceAttachment
from portal.monitoring import imports, manual
from portal.monitoring.models import ImportJob, ImportStatus, LabReport, MonitoringValue
from portal.opendata import bulk
from tests.complaints.test_views import _form, _jpeg, regions  # noqa: F401  (fixture)
from tests.conftest import login_as
from tests.credit.test_attachments import PDF as EVIDENCE_PDF
from tests.credit.test_attachments import setup as credit_setup  # noqa: F401  (fixture)
from tests.factories import make_enterprise, make_user
from tests.monitoring.test_imports import HEADER, _rows
from tests.monitoring.test_imports import _upload as upload_results
from tests.monitoring.test_imports import staff  # noqa: F401  (fixture)
from tests.monitoring.test_lab_reports import PDF as LAB_PDF
from tests.monitoring.test_lab_reports import setup as lab_setup  # noqa: F401  (fixture)


def _nothing_on_local_disk(app) -> None:
    """Host A kept no file in any of its directories: everything went to the bucket."""
    for setting in ("COMPLAINT_UPLOAD_DIR", "MONITORING_UPLOAD_DIR"):
        folder = Path(app.config[setting])
        assert not folder.exists() or not any(p.is_file() for p in folder.rglob("*")), folder


def _bucket_keys(area: str) -> list[str]:
    return sorted(e.key for e in files(area).list())


def test_a_complaint_photo_posted_to_a_is_served_by_b(app, db, client, host_b, regions, monkeypatch):  # noqa: F811
    for key in ("COMPLAINT_UPLOAD_DIR", "MONITORING_UPLOAD_DIR"):
        monkeypatch.setitem(app.config, key, str(Path(app.config["TEST_INSTANCE"]) / "host-a" / key.lower()))
    photo = _jpeg()
    response = client.post("/complaints/new", data=_form(photos=(io.BytesIO(photo), "river.jpg")),
                           content_type="multipart/form-data")
    assert response.status_code == 302
    c = db.session.scalar(sa.select(Complaint))
    att = c.attachments[0]
    _nothing_on_local_disk(app)
    lead = make_user(Role.REGULATOR_LEAD, jurisdiction_code="3208")
    db.session.commit()
    other = host_b.test_client()
    with host_b.app_context():
        assert complaint_services.upload_root().get(att.original_path) == photo
        login_as(other, lead)
        got = other.get(f"/console/complaints/{c.id}/files/{att.id}")
    assert got.status_code == 200 and got.data == photo


def test_caps_and_sniffing_apply_before_anything_reaches_the_bucket(app, db, client, s3, regions,  # noqa: F811
                                                                     monkeypatch):
    monkeypatch.setitem(app.config, "COMPLAINT_MAX_FILE_BYTES", 2048)
    big = client.post("/complaints/new", data=_form(photos=(io.BytesIO(_jpeg((900, 900)) + os.urandom(4096)),
                                                            "big.jpg")), content_type="multipart/form-data")
    fake = client.post("/complaints/new", data=_form(key=2, photos=(io.BytesIO(b"#!/bin/sh\n" * 20), "x.jpg")),
                       content_type="multipart/form-data")
    assert big.status_code == 400 and fake.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Complaint)) == 0
    assert _bucket_keys("complaints") == []


def test_an_evidence_document_uploaded_on_a_is_downloaded_on_b(app, db, host_b, login, credit_setup):  # noqa: F811
    regulator = login(credit_setup["regulator"])
    response = regulator.post(f"/credit/regulator/evidence/{credit_setup['public'].id}/attachments",
                              data={"file": (io.BytesIO(EVIDENCE_PDF), "决定书.pdf")},
                              content_type="multipart/form-data")
    assert response.status_code == 302
    att = db.session.scalar(sa.select(EvidenceAttachment))
    assert att is not None and not any(credit_setup["root"].rglob("*.pdf"))
    with host_b.app_context():
        got = host_b.test_client().get(f"/credit/evidence/{credit_setup['public'].id}/files/{att.id}")
    assert got.status_code == 200 and got.data == EVIDENCE_PDF


def test_an_import_uploaded_on_a_is_checked_and_written_by_a_worker_on_b(app, db, client, host_b, login,
                                                                         staff):  # noqa: F811
    login(staff)
    response = upload_results(client, HEADER + _rows(30))
    assert response.status_code == 302
    job = db.session.scalar(sa.select(ImportJob))
    assert manual.upload_store().exists(job.token)
    with host_b.app_context():
        assert "1 import steps" in imports.run_pending()  # B claims the job and reads the file A stored
    db.session.refresh(job)
    assert job.status == ImportStatus.CHECKED and job.rows_total == 30
    assert client.post(f"/monitoring/my/imports/{job.id}/commit", data={}).status_code == 302
    with host_b.app_context():
        imports.run_pending()
    db.session.refresh(job)
    assert job.status == ImportStatus.DONE
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MonitoringValue)) == 30
    assert not manual.upload_store().exists(job.token)  # deleted from the bucket once written


def test_a_lab_report_attached_on_a_is_served_by_b(app, db, client, host_b, login, lab_setup):  # noqa: F811
    ent, staff, submission = lab_setup
    db.session.commit()
    login(staff)
    response = client.post(f"/monitoring/my/results/{submission.id}/report",
                           data={"report": (io.BytesIO(LAB_PDF), "lab.pdf")}, content_type="multipart/form-data")
    assert response.status_code == 302
    report = db.session.scalar(sa.select(LabReport))
    with host_b.app_context():
        got = host_b.test_client().get(f"/monitoring/lab-reports/{report.id}.pdf")
    assert got.status_code == 200 and got.data == LAB_PDF and got.headers["ETag"] == f'"{report.sha256}"'


def test_open_data_files_built_on_a_are_downloaded_from_b(app, db, host_b):
    ent = make_enterprise("华能化工有限公司")
    db.session.commit()
    bulk.build_all(["enterprises"])
    assert "manifest.json" in _bucket_keys("opendata")
    with host_b.app_context():
        got = host_b.test_client().get("/opendata/enterprises.csv")
        again = host_b.test_client().get("/opendata/enterprises.csv", headers={"If-None-Match": got.headers["ETag"]})
    assert got.status_code == 200 and ent.uscc in got.get_data(as_text=True)
    assert again.status_code == 304


def test_mail_written_by_a_is_in_the_shared_store(app, db, host_b):
    from portal.mail.services import queue_mail, send_pending

    queue_mail("someone@example.cn", "主题", "正文", dedupe_key="storage-test")
    db.session.commit()
    assert send_pending().sent == 1
    with host_b.app_context():
        [entry] = files("mail").list()
        assert entry.key.endswith(".eml") and b"someone@example.cn" in files("mail").get(entry.key)
