"""Logs without personal data (issue 8, operations): a complaint with a real-looking name, phone and e-mail goes
through intake (one refused attempt, one accepted with a photo), the receipt e-mail is delivered by the send-outbox
job, and a regulator lead opens the case. Every log record emitted meanwhile, at DEBUG and including SQLAlchemy's
statement and parameter logging (as an operator chasing a bug would switch it on), is searched for the name, the
phone number and the e-mail address (also their local part): none may appear."""
from __future__ import annotations

import io
import logging
import traceback

import sqlalchemy as sa
from PIL import Image

from portal.auth.models import Role
from portal.complaints.models import Complaint
from portal.jobs.runner import run_job
from tests.conftest import login_as
from tests.factories import ensure_reference, make_user

NAME, PHONE, EMAIL = "欧阳明华", "13912345678", "ouyang.minghua@example.cn"
SECRETS = (NAME, PHONE, EMAIL, "ouyang.minghua", "139 1234 5678", "139-1234-5678")


def _jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (80, 60), "green").save(buf, format="JPEG")
    return buf.getvalue()


def _form(**extra) -> dict:
    data = {"category": "air", "reported_name": "某某化工厂", "reported_address": "涟水县某村", "region_code": "320826",
            "description": "夜间从烟囱排放刺鼻的黑色浓烟，持续约两小时。", "identity": "named", "name": NAME, "phone": PHONE, "website": ""}
    data.update(extra)
    return data


def _text(record: logging.LogRecord) -> str:
    parts = [record.getMessage(), repr(record.args), record.name]
    if record.exc_info:
        parts.append("".join(traceback.format_exception(*record.exc_info)))
    return "\n".join(parts)


def test_no_log_record_contains_the_reporters_name_phone_or_email(app, client, db, caplog):
    ensure_reference()
    lead = make_user(Role.REGULATOR_LEAD, jurisdiction_code="3208")
    db.session.commit()
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="sqlalchemy.engine")

    refused = client.post("/complaints/new", data=_form(email="ouyang.minghua.example.cn", submission_key="k-1"))
    assert refused.status_code == 400
    accepted = client.post("/complaints/new", data=_form(email=EMAIL, submission_key="k-2",
                                                         photos=(io.BytesIO(_jpeg()), "IMG_0001.jpg")),
                           content_type="multipart/form-data")
    assert accepted.status_code == 302
    outcome = run_job(app, "send-outbox")
    assert outcome.ok and outcome.detail.startswith("sent 1"), outcome.detail
    complaint = db.session.scalar(sa.select(Complaint))
    login_as(client, lead)
    assert client.get(f"/console/complaints/{complaint.id}").status_code == 200

    records = caplog.records
    statements = [r for r in records if r.name.startswith("sqlalchemy.engine")]
    assert any("INSERT INTO complaints" in r.getMessage() for r in statements), \
        "SQL statements (and their parameters) were captured, so the search below covers them"
    assert len(records) > 50
    leaks = [(r.name, r.levelname, _text(r)[:200]) for r in records if any(s in _text(r) for s in SECRETS)]
    assert leaks == []
