"""Discarding an unsigned draft (DOMAIN §1.11 "discard (drafts only)"): the enterprise withdraws a draft it no longer
wants; it was never disclosed, so the row goes, with a full audit snapshot. A signed report is never discarded or
deleted. Services flush; views commit."""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.audit.services import record, snapshot
from portal.auth.models import User
from portal.disclosures import rules
from portal.disclosures.models import AnnualReport, Obligation, ObligationStatus, TemporaryReport
from portal.errors import InvalidTransition, NotAllowed
from portal.extensions import db

Report = AnnualReport | TemporaryReport


def discard_draft(actor: User, report: Report) -> None:
    """Remove the enterprise's own unsigned draft. The annual obligation stays (it is due whether or not a draft
    exists); a temporary report's obligation existed only through the draft and goes with it while it is pending,
    but a draft whose due date has passed (obligation MISSING) is kept: the lapse is on record, only signing it
    late answers it."""
    if not (actor.role.is_enterprise and actor.enterprise_id == report.enterprise_id):
        raise NotAllowed(_("Only this enterprise's users can discard its drafts."))
    db.session.flush()
    db.session.refresh(report, with_for_update=True)  # a concurrent signing wins or loses cleanly
    rules.transition(report.status, "discard")
    before = snapshot(report, exclude=("pdf_bytes", "created_at", "updated_at"))
    if isinstance(report, TemporaryReport):
        ob = db.session.scalar(sa.select(Obligation).where(Obligation.ref == f"temporary:{report.id}"))
        if ob is not None and ob.status != ObligationStatus.PENDING:
            raise InvalidTransition(_("This report was due on %(d)s and is recorded as missing, so the draft can no "
                                      "longer be discarded; sign it to disclose it late.", d=ob.due_on.isoformat()))
        if ob is not None:
            record(actor, "disclosure_obligation.withdraw", ob, before=snapshot(ob),
                   after={"reason": "temporary report draft discarded", "temporary_report_id": report.id})
            db.session.delete(ob)
            db.session.flush()
    record(actor, f"{report.kind}_report.discard", report, before=before, after={"discarded": True})
    db.session.delete(report)
    db.session.flush()
