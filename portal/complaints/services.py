"""Complaint use cases: intake and tracking for the public, handling for regulators (DOMAIN §6).

Every function loads, applies a rule, mutates and flushes; views commit. Messages to the reporter go through the
mail outbox in the same transaction, so a rolled-back decision never tells the reporter anything.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from portal.audit.services import record
from portal.auth.models import Role, User
from portal.complaints import rules
from portal.complaints.crypto import check_query_code, decrypt_identity, encrypt_identity, hash_query_code
from portal.complaints.labels import status_labels
from portal.complaints.models import (Category, Channel, Complaint, ComplaintAttachment, ComplaintEvent, Findings,
                                      RejectionCode, Status)
from portal.complaints.uploads import PreparedFile, store
from portal.core.clock import china_today, china_tz
from portal.core.links import public_url
from portal.db import utcnow
from portal.enterprises.models import Enterprise
from portal.errors import InvalidTransition, NotAllowed, NotFound, ValidationFailed
from portal.extensions import db
from portal.mail.services import queue_mail
from portal.reference.models import Region
from portal.workdays.services import calendar


@dataclass
class Intake:
    category: Category
    description: str
    region_code: str = ""
    enterprise_uscc: str = ""
    reported_name: str = ""
    reported_address: str = ""
    latitude: float | None = None
    longitude: float | None = None
    observed_at: datetime | None = None
    anonymous: bool = True
    identity: dict = field(default_factory=dict)
    channel: Channel = Channel.WEB
    external_ticket: str = ""
    external_due_on: date | None = None
    partner: str = ""
    submission_key: str | None = None


# --- helpers ------------------------------------------------------------------------------------------------------

def _is_workday(day: date) -> bool:
    return calendar().is_workday(day)


def _local_date(at: datetime) -> date:
    return at.astimezone(china_tz()).date()


def upload_root() -> Path:
    configured = current_app.config.get("COMPLAINT_UPLOAD_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "uploads" / "complaints"


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
    return {"case_no": c.case_no, "status": c.status.value, "handler_id": c.handler_id,
            "assigned_region_code": c.assigned_region_code, "close_due": c.close_due,
            "extended_until": c.extended_until, "findings": c.findings.value if c.findings else None,
            "rejection_code": c.rejection_code.value if c.rejection_code else None}


def notify_reporters(c: Complaint, subject: str, body: str, key: str) -> int:
    """E-mail the reporter of this case and of every case merged into it (never logged, never stored in clear)."""
    cases = [c, *db.session.scalars(sa.select(Complaint).where(Complaint.merged_into_id == c.id))]
    sent = 0
    for case in cases:
        email = decrypt_identity(case.reporter_token).get("email")
        if email:
            link = public_url("complaints.track")
            queue_mail(email, subject, f"{body}\n\n{_('Case number')}: {case.case_no}\n{link}",
                       dedupe_key=f"complaint:{case.id}:{key}")
            sent += 1
    return sent


# --- intake and tracking ------------------------------------------------------------------------------------------

def _check_intake(data: Intake, files: list[PreparedFile]) -> Enterprise | None:
    errors: dict[str, str] = {}
    uscc = (data.enterprise_uscc or "").strip().upper()
    ent = db.session.scalar(sa.select(Enterprise).where(Enterprise.uscc == uscc)) if uscc else None
    if uscc and ent is None:
        errors["enterprise_uscc"] = _("No registered enterprise has this credit code; leave it empty and give "
                                      "the name and address instead.")
    if ent is None and not data.reported_name.strip():
        errors["reported_name"] = _("Name the unit you are reporting, or choose it from the registry.")
    if ent is None and not data.reported_address.strip():
        errors["reported_address"] = _("Give the address of the place.")
    region = data.region_code or (ent.region_code if ent else "")
    if not region or db.session.get(Region, region) is None:
        errors["region_code"] = _("Choose the district where it happens.")
    if len(data.description.strip()) < 10:
        errors["description"] = _("Describe what you saw in at least 10 characters.")
    if not rules.valid_coordinates(data.latitude, data.longitude):
        errors["latitude"] = _("Give both latitude (−90 to 90) and longitude (−180 to 180), or neither.")
    if data.observed_at and data.observed_at > utcnow() + timedelta(minutes=5):
        errors["observed_at"] = _("The time observed cannot be in the future.")
    if not data.anonymous and not (data.identity.get("phone") or data.identity.get("email")):
        errors["phone"] = _("Give a phone number or an e-mail address for the reply, or report anonymously.")
    if len(files) > rules.MAX_ATTACHMENTS:
        errors["photos"] = _("Attach at most %(n)s files.", n=rules.MAX_ATTACHMENTS)
    if errors:
        raise ValidationFailed(errors)
    return ent


def existing_submission(key: str | None) -> Complaint | None:
    if not key:
        return None
    return db.session.scalar(sa.select(Complaint).where(Complaint.submission_key == key))


def submit_complaint(data: Intake, files: list[PreparedFile]) -> tuple[Complaint, str]:
    """Record a new case with its files and return it with the query code (the only time the code exists in clear).
    Files are written before the caller commits, so a committed case always has its files."""
    ent = _check_intake(data, files)
    code = rules.new_query_code()
    received = utcnow()
    lat, lon = data.latitude, data.longitude
    if lat is None and ent is not None and ent.latitude is not None and ent.longitude is not None:
        lat, lon = float(ent.latitude), float(ent.longitude)
    identity = {} if data.anonymous else data.identity
    c = Complaint(query_code_hash=hash_query_code(code), submission_key=data.submission_key, channel=data.channel,
                  external_ticket=data.external_ticket.strip(), external_due_on=data.external_due_on,
                  partner=data.partner, category=data.category, enterprise_id=ent.id if ent else None,
                  reported_name=data.reported_name.strip() or (ent.name if ent else ""),
                  reported_address=data.reported_address.strip() or (ent.address if ent else ""),
                  region_code=data.region_code or ent.region_code, latitude=lat, longitude=lon,
                  observed_at=data.observed_at, description=data.description.strip(),
                  reporter_token=encrypt_identity(identity), anonymous=data.anonymous or not any(identity.values()),
                  status=Status.RECEIVED, received_at=received,
                  accept_due=rules.accept_due(_local_date(received), _is_workday))
    db.session.add(c)
    db.session.flush()
    c.case_no = rules.case_number(_local_date(received), c.id)
    _event(c, "received")
    _attach(c, files)
    email = identity.get("email")
    if email:
        queue_mail(email, _("Your environmental complaint %(no)s was received", no=c.case_no),
                   _("Case number: %(no)s\nQuery code: %(code)s\nKeep the query code: it is not shown again.\n"
                     "We decide within 15 days whether the case is accepted.\n%(link)s",
                     no=c.case_no, code=rules.format_query_code(code), link=public_url("complaints.track")),
                   dedupe_key=f"complaint:{c.id}:received")
    db.session.flush()
    return c, code


def _attach(c: Complaint, files: list[PreparedFile]) -> None:
    root = upload_root()
    for prepared in files:
        original, public = store(prepared, root)
        db.session.add(ComplaintAttachment(complaint=c, kind=prepared.kind, content_type=prepared.content_type,
                                           size=len(prepared.original), sha256=prepared.sha256,
                                           original_path=original, public_path=public))


def find_for_reporter(case_no: str, code: str) -> Complaint:
    """The same answer for an unknown case and a wrong code, so case numbers cannot be probed."""
    case_no = (case_no or "").strip()
    c = db.session.scalar(sa.select(Complaint).where(Complaint.case_no == case_no)) if case_no else None
    if c is None or not check_query_code(c.query_code_hash, rules.normalise_query_code(code)):
        raise NotFound(_("No case matches this case number and query code. Check both and try again."))
    return c


def tracked_view(c: Complaint) -> Complaint:
    """A merged case is followed through the case it was merged into."""
    return db.session.get(Complaint, c.merged_into_id) if c.merged_into_id else c


def add_information(c: Complaint, text: str, files: list[PreparedFile]) -> None:
    """The reporter adds facts or photos while the case is open."""
    if c.status not in rules.OPEN_STATUSES:
        raise InvalidTransition(_("This case is closed; ask for a review instead."))
    if not text.strip() and not files:
        raise ValidationFailed({"text": _("Write the information you want to add, or attach a file.")})
    if len(c.attachments) + len(files) > rules.MAX_ATTACHMENTS * 2:
        raise ValidationFailed({"photos": _("This case already has the maximum number of files.")})
    _event(c, "reporter_added", text.strip(), by_reporter=True)
    _attach(c, files)
    db.session.flush()


def rate_satisfaction(c: Complaint, score: int) -> None:
    """回访评价: once, after the reply."""
    if c.replied_at is None:
        raise InvalidTransition(_("You can rate the handling once the reply has been sent."))
    if c.satisfaction is not None:
        raise InvalidTransition(_("This case has already been rated."))
    if not 1 <= score <= 5:
        raise ValidationFailed({"score": _("Choose a rating from 1 to 5.")})
    c.satisfaction, c.satisfaction_at = score, utcnow()
    _event(c, "rated", str(score), by_reporter=True)
    db.session.flush()


def review_deadline(c: Complaint) -> date | None:
    return rules.review_deadline(_local_date(c.replied_at), _is_workday) if c.replied_at else None


def request_review(c: Complaint, reason: str) -> None:
    """复查: the reporter disagrees with the reply within 30 days; the case reopens."""
    deadline = review_deadline(c)
    if deadline is None or c.status not in (Status.REPLIED, Status.CLOSED):
        raise InvalidTransition(_("A review can be requested only after the reply."))
    if china_today() > deadline:
        raise InvalidTransition(_("The 30 days to ask for a review ended on %(day)s.", day=deadline.isoformat()))
    if len(reason.strip()) < 10:
        raise ValidationFailed({"reason": _("Explain in at least 10 characters why the reply is not acceptable.")})
    _reopen(c, reason, by_reporter=True)


def _reopen(c: Complaint, reason: str, actor=None, by_reporter: bool = False) -> None:
    _move(c, Status.REOPENED)
    c.reopened_count += 1
    c.closed_at = None
    c.close_due = rules.review_deadline(china_today(), _is_workday)  # a review is answered within 30 days
    c.extended_until = None
    c.escalated_on = None
    _event(c, "reopened", reason.strip(), actor=actor, by_reporter=by_reporter)
    db.session.flush()


# --- handling -----------------------------------------------------------------------------------------------------

def can_view(user, c: Complaint) -> bool:
    return rules.can_view_complaint(user.role, user.jurisdiction_code, c.region_code, c.assigned_region_code)


def can_see_reporter(user, c: Complaint) -> bool:
    return rules.can_see_reporter(user.role, user.id, c.handler_id, can_view(user, c))


def get_for_handler(user, complaint_id: int) -> Complaint:
    c = db.session.get(Complaint, complaint_id)
    if c is None or not can_view(user, c):
        raise NotFound(_("No such case in your jurisdiction."))
    return c


def reporter_identity(user, c: Complaint) -> dict | None:
    """The decrypted identity, or None when this user may not see it."""
    return decrypt_identity(c.reporter_token) if can_see_reporter(user, c) else None


def _jurisdiction_filter(user):
    prefix = (user.jurisdiction_code or "\x00") + "%"
    return sa.or_(Complaint.region_code.like(prefix), Complaint.assigned_region_code.like(prefix))


def queue(user, *, status: Status | None = None, overdue_only: bool = False, limit: int = 200) -> list[Complaint]:
    stmt = sa.select(Complaint).where(_jurisdiction_filter(user))
    if status is not None:
        stmt = stmt.where(Complaint.status == status)
    else:
        stmt = stmt.where(Complaint.status.in_(rules.OPEN_STATUSES))
    items = list(db.session.scalars(stmt.order_by(Complaint.accept_due, Complaint.id).limit(limit)))
    if overdue_only:
        today = china_today()
        items = [c for c in items if sla_of(c, today) == "overdue"]
    return items


def due_of(c: Complaint) -> date | None:
    return rules.effective_due(c.status, c.accept_due, c.close_due, c.extended_until)


def sla_of(c: Complaint, today: date | None = None) -> str:
    return rules.sla_state(today or china_today(), due_of(c))


def accept_complaint(c: Complaint, actor, urgent: bool = False) -> None:
    """受理: the 60-day clock starts; the accepting officer handles it unless dispatched."""
    before = _facts(c)
    _move(c, Status.ACCEPTED)
    c.accepted_at = utcnow()
    c.close_due = rules.close_due(_local_date(c.accepted_at), _is_workday)
    c.is_urgent = urgent
    c.handler_id = c.handler_id or actor.id
    _event(c, "accepted", actor=actor)
    _audit(actor, "complaint.accept", c, before)
    notify_reporters(c, _("Your complaint %(no)s was accepted", no=c.case_no),
                     _("The case is accepted and will be handled by %(day)s.", day=c.close_due.isoformat()),
                     "accepted")


def reject_complaint(c: Complaint, actor, code: RejectionCode, note: str) -> None:
    """不予受理 with the reason code and the route the reporter should take instead."""
    if len(note.strip()) < 5:
        raise ValidationFailed({"note": _("Tell the reporter where to turn instead.")})
    before = _facts(c)
    _move(c, Status.REJECTED)
    c.rejection_code, c.rejection_note, c.closed_at = RejectionCode(code), note.strip(), utcnow()
    _event(c, "rejected", note.strip(), actor=actor)
    _audit(actor, "complaint.reject", c, before)
    notify_reporters(c, _("Your complaint %(no)s was not accepted", no=c.case_no), note.strip(), "rejected")


def dispatch_candidates(actor, c: Complaint) -> list[User]:
    """Regulators inside the actor's jurisdiction whose own jurisdiction covers the place (转送/交办)."""
    prefix = (actor.jurisdiction_code or "\x00") + "%"
    users = db.session.scalars(sa.select(User).where(User.role.in_([Role.REGULATOR, Role.REGULATOR_LEAD]),
                                                     User.jurisdiction_code.like(prefix), User.is_active_account.is_(True))
                               .order_by(User.jurisdiction_code, User.username))
    return [u for u in users if rules.in_jurisdiction(u.jurisdiction_code, c.region_code)]


def dispatch_complaint(c: Complaint, actor, handler_id: int) -> None:
    handler = db.session.get(User, handler_id)
    if handler is None or handler not in dispatch_candidates(actor, c):
        raise ValidationFailed({"handler_id": _("Choose a handler of a county or city inside your jurisdiction "
                                                "that covers the place.")})
    before = _facts(c)
    _move(c, Status.ASSIGNED)
    c.handler_id, c.assigned_region_code = handler.id, handler.jurisdiction_code
    _event(c, "assigned", actor=actor)
    _event(c, "assigned_to", handler.display_name, public=False, actor=actor)
    _audit(actor, "complaint.dispatch", c, before)


def start_investigation(c: Complaint, actor) -> None:
    before = _facts(c)
    _move(c, Status.INVESTIGATING)
    _event(c, "investigating", actor=actor)
    _audit(actor, "complaint.investigate", c, before)


def add_note(c: Complaint, actor, text: str) -> None:
    """Internal investigation notes (inspection, monitoring, enforcement case numbers)."""
    if not text.strip():
        raise ValidationFailed({"text": _("Write the note.")})
    _event(c, "note", text.strip(), public=False, actor=actor)
    db.session.flush()


def request_extension(c: Complaint, actor, days: int, reason: str) -> None:
    """A complex case may be extended once, by up to 30 days, with the lead's approval."""
    if c.status != Status.INVESTIGATING:
        raise InvalidTransition(_("Only a case under investigation can be extended."))
    if c.extension_approved_by_id is not None or c.extension_requested_days:
        raise InvalidTransition(_("This case has already been extended or has an extension request pending."))
    if not 1 <= days <= rules.MAX_EXTENSION_DAYS or len(reason.strip()) < 5:
        raise ValidationFailed({"days": _("Ask for 1 to 30 days and give the reason the reporter will be told.")})
    c.extension_requested_days, c.extension_reason, c.extension_requested_by_id = days, reason.strip(), actor.id
    _event(c, "extension_requested", f"{days}: {reason.strip()}", public=False, actor=actor)
    _audit(actor, "complaint.extension_request", c)


def decide_extension(c: Complaint, lead, approve: bool) -> None:
    if not c.extension_requested_days:
        raise InvalidTransition(_("There is no extension request to decide."))
    if lead.role != Role.REGULATOR_LEAD:
        raise NotAllowed(_("Only the lead may approve an extension."))
    before = _facts(c)
    if approve:
        c.extended_until = rules.extension_until(c.close_due, c.extension_requested_days,
                                                 c.extension_approved_by_id is not None, _is_workday)
        c.extension_approved_by_id = lead.id
        _move(c, Status.EXTENDED)
        _event(c, "extended", c.extension_reason, actor=lead)
        notify_reporters(c, _("Your complaint %(no)s needs more time", no=c.case_no),
                         _("Handling is extended to %(day)s. Reason: %(reason)s", day=c.extended_until.isoformat(),
                           reason=c.extension_reason), "extended")
    else:
        _event(c, "extension_refused", c.extension_reason, public=False, actor=lead)
        c.extension_reason = ""
    c.extension_requested_days = None
    _audit(lead, "complaint.extension_decide", c, before)


def report_result(c: Complaint, actor, findings: Findings, text: str) -> None:
    """The investigation result; a substantiated complaint about a registered enterprise becomes credit evidence."""
    if len(text.strip()) < 10:
        raise ValidationFailed({"text": _("Describe the findings and the measures taken (at least 10 characters).")})
    before = _facts(c)
    _move(c, Status.RESULT_REPORTED)
    c.findings, c.findings_text = findings, text.strip()
    _event(c, "result_reported", public=False, actor=actor, text=text.strip())
    _audit(actor, "complaint.result", c, before)
    if findings == Findings.SUBSTANTIATED and c.enterprise_id:
        from portal.complaints.forms import CATEGORY_LABELS
        from portal.credit.evidence import add_evidence
        from portal.credit.models import EvidenceKind, EvidenceSource

        add_evidence(enterprise_id=c.enterprise_id, kind=EvidenceKind.COMPLAINT_SUBSTANTIATED,
                     source=EvidenceSource.COMPLAINT, source_ref=f"complaint:{c.id}", occurred_on=china_today(),
                     title=_("Substantiated complaint %(no)s (%(category)s)", no=c.case_no,
                             category=str(CATEGORY_LABELS[c.category])),
                     verified=True, actor=actor, document_no=c.case_no)


def reply_complaint(c: Complaint, actor, text: str) -> None:
    """答复举报人: the reply is final text; the reporter may rate it or ask for review within 30 days."""
    if len(text.strip()) < 10:
        raise ValidationFailed({"text": _("Write the reply to the reporter (at least 10 characters).")})
    before = _facts(c)
    _move(c, Status.REPLIED)
    c.reply_text, c.replied_at = text.strip(), utcnow()
    _event(c, "replied", actor=actor)
    _audit(actor, "complaint.reply", c, before)
    notify_reporters(c, _("Reply to your complaint %(no)s", no=c.case_no), text.strip(),
                     f"replied:{c.reopened_count}")


def close_complaint(c: Complaint, actor) -> None:
    before = _facts(c)
    _move(c, Status.CLOSED)
    c.closed_at = utcnow()
    _event(c, "closed", actor=actor)
    _audit(actor, "complaint.close", c, before)


def reopen_complaint(c: Complaint, actor, reason: str) -> None:
    """A higher-level spot check failed or new facts arrived."""
    if len(reason.strip()) < 5:
        raise ValidationFailed({"text": _("Give the reason for reopening.")})
    before = _facts(c)
    _reopen(c, reason, actor=actor)
    _audit(actor, "complaint.reopen", c, before)


def duplicate_candidates(c: Complaint, limit: int = 10) -> list[Complaint]:
    """Open or recent cases in the same city about the same enterprise or nearby (DOMAIN §6.8)."""
    config = current_app.config
    window = int(config["COMPLAINT_DUPLICATE_DAYS"])
    since = c.received_at - timedelta(days=window)
    stmt = (sa.select(Complaint).where(Complaint.id != c.id, Complaint.merged_into_id.is_(None),
                                       Complaint.status != Status.MERGED, Complaint.received_at >= since,
                                       Complaint.region_code.like(c.region_code[:4] + "%"))
            .order_by(Complaint.received_at.desc()).limit(500))
    me = _dup_key(c)
    found = [o for o in db.session.scalars(stmt)
             if rules.is_duplicate_candidate(me, _dup_key(o), radius_m=float(config["COMPLAINT_DUPLICATE_RADIUS_M"]),
                                             window_days=window)]
    return found[:limit]


def _dup_key(c: Complaint) -> dict:
    return {"enterprise_id": c.enterprise_id, "latitude": c.latitude, "longitude": c.longitude,
            "received_on": _local_date(c.received_at)}


def merge_complaint(c: Complaint, target: Complaint, actor) -> None:
    """Same matter already in hand: this record closes as MERGED and its reporter follows the target case."""
    if target.id == c.id or target.merged_into_id or target.status not in rules.OPEN_STATUSES:
        raise ValidationFailed({"target_id": _("Merge into another open case that is not itself merged.")})
    if not can_view(actor, target):
        raise NotFound(_("No such case in your jurisdiction."))
    before = _facts(c)
    _move(c, Status.MERGED)
    c.merged_into_id, c.rejection_code, c.closed_at = target.id, RejectionCode.DUPLICATE_IN_PROGRESS, utcnow()
    _event(c, "merged", target.case_no, actor=actor)
    _event(target, "co_reporter", c.case_no, public=False, actor=actor)
    _audit(actor, "complaint.merge", c, before)
    db.session.flush()
    notify_reporters(c, _("Your complaint %(no)s joins case %(target)s", no=c.case_no, target=target.case_no),
                     _("The same matter is already being handled as case %(target)s. Use your own case number "
                       "and query code to follow it.", target=target.case_no), "merged")


# --- jobs and statistics ------------------------------------------------------------------------------------------

def escalate_overdue() -> int:
    """Job complaint-sla: mark each overdue open case once per due date and tell the jurisdiction's leads."""
    today = china_today()
    escalated = 0
    open_cases = db.session.scalars(sa.select(Complaint).where(Complaint.status.in_(rules.OPEN_STATUSES)))
    for c in open_cases:
        due = due_of(c)
        if rules.sla_state(today, due) != "overdue" or (c.escalated_on is not None and c.escalated_on > due):
            continue
        c.escalated_on = today
        _event(c, "escalated", due.isoformat(), public=False)
        for lead in _leads_for(c):
            if lead.email:
                queue_mail(lead.email, _("Overdue complaint %(no)s", no=c.case_no),
                           _("Case %(no)s was due on %(day)s.\n%(link)s", no=c.case_no, day=due.isoformat(),
                             link=public_url("complaints_console.detail", complaint_id=c.id)),
                           dedupe_key=f"complaint-overdue:{c.id}:{due.isoformat()}:{lead.id}")
        escalated += 1
    db.session.flush()
    return escalated


def _leads_for(c: Complaint) -> list[User]:
    leads = db.session.scalars(sa.select(User).where(User.role == Role.REGULATOR_LEAD, User.is_active_account.is_(True)))
    return [u for u in leads if can_view(u, c)]
