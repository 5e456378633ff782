"""Transfer of a case to the territorially competent jurisdiction (转送, DOMAIN §6.1 "属地管理", §6.9).

A case filed in the wrong district moves to the district where the pollution happens, with a reason. The
sending bureau loses access (visibility follows the place's district, handling.can_view), the handler and any
dispatch are cleared and the receiving bureau decides or carries on.

SLA clocks (DOMAIN §6.3, §6.4, §6.9):
- not yet accepted: the acceptance decision belongs to the competent bureau, which has its own 15 days from the
  day it receives the case (the transfer day), rolled to a working day like every period;
- accepted: the 60 (+30) day handling clock counts from acceptance and keeps running — a transfer neither
  restarts nor stops it; an approved extension stays, a pending request lapses; the case is again "accepted"
  and waits for the receiving bureau to dispatch or investigate.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.auth.rules import in_jurisdiction
from portal.complaints import rules
from portal.complaints.common import _audit, _event, _facts, _is_workday, notify_reporters
from portal.complaints.models import Complaint, ComplaintTransfer, Status
from portal.core.clock import china_today
from portal.errors import InvalidTransition, ValidationFailed
from portal.core.links import public_url
from portal.extensions import db
from portal.mail.services import queue_mail
from portal.reference.models import Region

MIN_REASON = 5
TRANSFERABLE = frozenset({Status.RECEIVED, Status.ACCEPTED, Status.ASSIGNED, Status.INVESTIGATING, Status.EXTENDED,
                          Status.REOPENED})


def transfer_targets(actor) -> list[Region]:
    """Districts (city or county level) outside the actor's own jurisdiction: inside it, dispatch instead."""
    regions = db.session.scalars(sa.select(Region).where(Region.level >= 2).order_by(Region.code))
    return [r for r in regions if not in_jurisdiction(actor.jurisdiction_code, r.code)]


def transfer_complaint(c: Complaint, actor, to_region_code: str, reason: str) -> ComplaintTransfer:
    reason = (reason or "").strip()
    if c.status not in TRANSFERABLE:
        raise InvalidTransition(_("Only an open case that has no reported result can be transferred."))
    region = db.session.get(Region, (to_region_code or "").strip())
    if region is None or region.level < 2:
        raise ValidationFailed({"region_code": _("Choose the city or county where the pollution happens.")})
    if in_jurisdiction(actor.jurisdiction_code, region.code):
        raise ValidationFailed({"region_code": _("This district is inside your jurisdiction: dispatch the case "
                                                 "to its handler instead of transferring it.")})
    if len(reason) < MIN_REASON:
        raise ValidationFailed({"reason": _("Give the reason for the transfer (at least 5 characters).")})
    before = _facts(c)
    today = china_today()
    entry = ComplaintTransfer(complaint=c, actor_id=actor.id, from_region_code=c.region_code,
                              to_region_code=region.code, reason=reason, status_before=c.status.value,
                              accept_due_before=c.accept_due, accept_due_after=c.accept_due)
    if c.status == Status.RECEIVED:
        c.accept_due = entry.accept_due_after = rules.accept_due(today, _is_workday)
    else:
        c.status = Status.ACCEPTED
    c.region_code, c.region = region.code, region
    c.handler_id = None
    c.assigned_region_code = None
    c.extension_requested_days, c.extension_requested_by_id = None, None
    c.escalated_on = None
    db.session.add(entry)
    _event(c, "transferred", region.code, actor=actor)
    _event(c, "transfer_reason", reason, public=False, actor=actor)
    _audit(actor, "complaint.transfer", c, {**before, "region_code": entry.from_region_code})
    db.session.flush()
    _tell_receiving_leads(c, region, today)
    notify_reporters(c, _("Your complaint %(no)s was transferred", no=c.case_no),
                     _("The case was transferred to the competent bureau of %(region)s, where the pollution "
                       "happens.", region=region.name), f"transferred:{region.code}:{today.isoformat()}")
    db.session.flush()
    return entry


def _tell_receiving_leads(c: Complaint, region: Region, today) -> None:
    """The leads who can now see the case hear of it (the case is in their queue, with its clock)."""
    from portal.complaints.handling import _leads_for, due_of

    for lead in _leads_for(c):
        if lead.email:
            queue_mail(lead.email, _("Complaint %(no)s transferred to %(region)s", no=c.case_no, region=region.name),
                       _("Case %(no)s is due on %(day)s.\n%(link)s", no=c.case_no, day=due_of(c).isoformat(),
                         link=public_url("complaints_console.detail", complaint_id=c.id)),
                       dedupe_key=f"complaint-transfer:{c.id}:{region.code}:{today.isoformat()}:{lead.id}")


def transfers_of(c: Complaint) -> list[ComplaintTransfer]:
    return list(db.session.scalars(sa.select(ComplaintTransfer).where(ComplaintTransfer.complaint_id == c.id)
                                   .order_by(ComplaintTransfer.at, ComplaintTransfer.id)))
