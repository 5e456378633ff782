"""Complaint handling for regulators (DOMAIN §6.3–6.4, §6.8): the jurisdiction's queue and SLA clocks, acceptance,
dispatch, extension, result, reply, close, reopen, duplicates and merging, and the overdue escalation job.

Every function loads, applies a rule, mutates and flushes; the console commits. Messages to the reporter go through
the mail outbox in the same transaction, so a rolled-back decision never tells the reporter anything."""
from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from portal.audit.services import record
from portal.auth.models import Role, User
from portal.complaints import rules
from portal.complaints.common import (_audit, _event, _facts, _is_workday, _local_date, _move, _reopen,
                                      notify_reporters)
from portal.complaints.crypto import decrypt_identity
from portal.complaints.models import Complaint, Findings, RejectionCode, Status
from portal.core.clock import china_today
from portal.core.links import public_url
from portal.db import utcnow
from portal.errors import InvalidTransition, NotAllowed, NotFound, ValidationFailed
from portal.extensions import db
from portal.mail.services import queue_mail


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


SLA_FILTERS = ("overdue", "due_soon", "extension")


def queue_select(user, *, status: Status | None = None, sla: str = "", today: date | None = None):
    """The console's cases as one SELECT, earliest applicable deadline first. sla: "overdue" (past the deadline
    that applies), "due_soon" (at most rules.DUE_SOON_DAYS days left), "extension" (waiting for a lead's approval)
    — the same tests as rules.sla_state, in SQL, so a filter pages over the whole jurisdiction."""
    stmt = sa.select(Complaint).where(_jurisdiction_filter(user))
    if status is not None:
        stmt = stmt.where(Complaint.status == status)
    else:
        stmt = stmt.where(Complaint.status.in_(rules.OPEN_STATUSES))
    due = due_expression()
    today = today or china_today()
    if sla == "overdue":
        stmt = stmt.where(due < today)
    elif sla == "due_soon":
        stmt = stmt.where(due >= today, due <= today + timedelta(days=rules.DUE_SOON_DAYS))
    elif sla == "extension":
        stmt = stmt.where(Complaint.extension_requested_days.is_not(None),
                          Complaint.extension_approved_by_id.is_(None))
    return stmt.order_by(due.is_(None), due, Complaint.id)


def queue(user, *, status: Status | None = None, overdue_only: bool = False, limit: int = 200) -> list[Complaint]:
    stmt = queue_select(user, status=status, sla="overdue" if overdue_only else "")
    return list(db.session.scalars(stmt.limit(limit)))


def due_of(c: Complaint) -> date | None:
    return rules.effective_due(c.status, c.accept_due, c.close_due, c.extended_until, c.external_due_on)


def due_expression():
    """rules.effective_due in SQL, so the queue is ordered by the deadline that applies (the 12345 due date
    where it is earlier), earliest first."""
    statutory = sa.case((Complaint.status.in_(rules.PRE_ACCEPTANCE), Complaint.accept_due),
                        (Complaint.status.in_(rules.AWAITING_CLOSE),
                         sa.func.coalesce(Complaint.extended_until, Complaint.close_due)))
    partner = sa.and_(Complaint.external_due_on.is_not(None), Complaint.status.in_(rules.PARTNER_CLOCK),
                      sa.or_(statutory.is_(None), Complaint.external_due_on < statutory))
    return sa.case((partner, Complaint.external_due_on), else_=statutory)


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
    """The investigation result; a substantiated complaint about a registered enterprise becomes credit evidence
    that cites the inspections and penalty decisions recorded in the case's investigation notes."""
    if len(text.strip()) < 10:
        raise ValidationFailed({"text": _("Describe the findings and the measures taken (at least 10 characters).")})
    before = _facts(c)
    _move(c, Status.RESULT_REPORTED)
    c.findings, c.findings_text = findings, text.strip()
    cited = [n.reference() for n in c.notes if n.has_links] if findings == Findings.SUBSTANTIATED else []
    documents = [d for ref in cited for d in (ref["inspection_ref"], ref["penalty_doc_no"]) if d]
    basis = f"\n{_('Based on')}: {', '.join(documents)}" if documents else ""
    _event(c, "result_reported", public=False, actor=actor, text=text.strip() + basis)
    record(actor, "complaint.result", c, before=before, after={**_facts(c), "cites": cited},
           enterprise_id=c.enterprise_id)
    if findings == Findings.SUBSTANTIATED and c.enterprise_id:
        from portal.credit.evidence import add_evidence
        from portal.credit.models import EvidenceKind, EvidenceSource

        add_evidence(enterprise_id=c.enterprise_id, kind=EvidenceKind.COMPLAINT_SUBSTANTIATED,
                     source=EvidenceSource.COMPLAINT, source_ref=f"complaint:{c.id}", occurred_on=china_today(),
                     message=("complaints.substantiated", {"no": c.case_no, "category": str(c.category.value)}),
                     verified=False, actor=actor, details={"investigation": cited},
                     document_no=next((r["penalty_doc_no"] for r in cited if r["penalty_doc_no"]), c.case_no))


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


def possible_duplicates(enterprise_id: int | None, latitude: float | None, longitude: float | None,
                        region_code: str, limit: int = 5) -> list[Complaint]:
    """Before a report is sent: recent cases in the same city about the same registered enterprise or within
    COMPLAINT_DUPLICATE_RADIUS_M of the point given (the test duplicate_candidates applies after intake)."""
    if not region_code or (enterprise_id is None and (latitude is None or longitude is None)):
        return []
    config = current_app.config
    window = int(config["COMPLAINT_DUPLICATE_DAYS"])
    now = utcnow()
    stmt = (sa.select(Complaint).where(Complaint.merged_into_id.is_(None), Complaint.status != Status.MERGED,
                                       Complaint.received_at >= now - timedelta(days=window),
                                       Complaint.region_code.like(region_code[:4] + "%"))
            .order_by(Complaint.received_at.desc()).limit(500))
    me = {"enterprise_id": enterprise_id, "latitude": latitude, "longitude": longitude,
          "received_on": _local_date(now)}
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
