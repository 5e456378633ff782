"""Shared pieces of the complaint use cases (package-internal): timeline events, state moves, audit facts,
working-day helpers and the reporter notifications every decision sends through the mail outbox."""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.audit.services import record
from portal.complaints import rules
from portal.complaints.crypto import decrypt_identity
from portal.complaints.labels import status_labels
from portal.complaints.models import Complaint, ComplaintEvent, Status
from portal.core.clock import china_today, china_tz
from portal.core.links import public_url
from portal.core.storage import Store, files
from portal.errors import InvalidTransition
from portal.extensions import db
from portal.mail.services import queue_mail
from portal.workdays.services import calendar


def _is_workday(day: date) -> bool:
    return calendar().is_workday(day)


def _local_date(at: datetime) -> date:
    return at.astimezone(china_tz()).date()


def upload_root() -> Store:
    """The complaint files' store (COMPLAINT_UPLOAD_DIR on the filesystem backend, portal/core/storage.py)."""
    return files("complaints")


def _event(c: Complaint, kind: str, text: str = "", *, public: bool = True, actor=None,
           by_reporter: bool = False) -> ComplaintEvent:
    event = ComplaintEvent(complaint=c, kind=kind, text=text, is_public=public, by_reporter=by_reporter,
                           actor_id=getattr(actor, "id", None))
    db.session.add(event)
    return event


def _move(c: Complaint, new: Status) -> None:
    if not rules.can_transition(c.status, new):
        labels = status_labels()
        raise InvalidTransition(_("A case that is “%(old)s” cannot become “%(new)s”.", old=labels[c.status.value],
                                  new=labels[new.value]))
    c.status = new


def _audit(actor, action: str, c: Complaint, before: dict | None = None) -> None:
    """Audit without the description or reporter: only the handling facts."""
    record(actor, action, c, before=before, after=_facts(c), enterprise_id=c.enterprise_id)


def _facts(c: Complaint) -> dict:
    return {"case_no": c.case_no, "status": c.status.value, "region_code": c.region_code, "handler_id": c.handler_id,
            "assigned_region_code": c.assigned_region_code, "close_due": c.close_due,
            "extended_until": c.extended_until, "findings": c.findings.value if c.findings else None,
            "rejection_code": c.rejection_code.value if c.rejection_code else None}


def notify_reporters(c: Complaint, subject: str, body: str, key: str) -> int:
    """E-mail the reporter of this case and of every case merged into it: the address is never logged and the
    outbox row stores it sealed (encrypted), like the identity on the case."""
    cases = [c, *db.session.scalars(sa.select(Complaint).where(Complaint.merged_into_id == c.id))]
    sent = 0
    for case in cases:
        email = decrypt_identity(case.reporter_token).get("email")
        if email:
            link = public_url("complaints.track")
            queue_mail(email, subject, f"{body}\n\n{_('Case number')}: {case.case_no}\n{link}",
                       dedupe_key=f"complaint:{case.id}:{key}", sealed=True)
            sent += 1
    return sent


def _reopen(c: Complaint, reason: str, actor=None, by_reporter: bool = False) -> None:
    _move(c, Status.REOPENED)
    c.reopened_count += 1
    c.closed_at = None
    c.close_due = rules.review_deadline(china_today(), _is_workday)  # a review is answered within 30 days
    c.extended_until = None
    c.escalated_on = None
    _event(c, "reopened", reason.strip(), actor=actor, by_reporter=by_reporter)
    db.session.flush()
