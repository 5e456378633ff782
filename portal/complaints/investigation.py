"""Investigation notes (DOMAIN §6.9 INVESTIGATING: on-site check, monitoring, enforcement case link).

A handler records what was checked, optionally the on-site inspection (record number and date) and the penalty
decision (document number and date) it led to. There is no inspection or penalty table in the portal: both are
credit evidence (credit.models.Evidence of kind INSPECTION_FINDING or a penalty kind), so a note links to the
enterprise's evidence row when one exists and otherwise keeps the document number and date itself. A substantiated
result cites every linked note (handling.report_result). Notes are read and written only by the assigned handler
and the lead; each one is audited without its text.
"""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.audit.services import record
from portal.complaints import rules
from portal.complaints.common import _event
from portal.complaints.handling import can_view
from portal.complaints.models import Complaint, ComplaintNote
from portal.core.clock import china_today
from portal.credit.models import Evidence, EvidenceKind
from portal.errors import InvalidTransition, NotAllowed, ValidationFailed
from portal.extensions import db

INSPECTION_KINDS = frozenset({EvidenceKind.INSPECTION_FINDING})
PENALTY_KINDS = frozenset({EvidenceKind.PENALTY, EvidenceKind.DAILY_PENALTY, EvidenceKind.PRODUCTION_LIMIT,
                           EvidenceKind.PRODUCTION_STOP, EvidenceKind.PERMIT_REVOKED, EvidenceKind.DETENTION,
                           EvidenceKind.CRIMINAL})
MAX_REF = 100


def can_see_notes(user, c: Complaint) -> bool:
    return rules.can_see_investigation(user.role, user.id, c.handler_id, can_view(user, c))


def notes_for(user, c: Complaint) -> list[ComplaintNote] | None:
    """The case's notes, or None when this user may not see them."""
    return list(c.notes) if can_see_notes(user, c) else None


def linkable_evidence(c: Complaint) -> dict[str, list[Evidence]]:
    """The reported enterprise's inspection and penalty evidence a note may link to (newest first)."""
    if c.enterprise_id is None:
        return {"inspection": [], "penalty": []}
    rows = list(db.session.scalars(
        sa.select(Evidence).where(Evidence.enterprise_id == c.enterprise_id, Evidence.withdrawn_at.is_(None),
                                  Evidence.kind.in_(INSPECTION_KINDS | PENALTY_KINDS))
        .order_by(Evidence.occurred_on.desc(), Evidence.id.desc()).limit(200)))
    return {"inspection": [e for e in rows if e.kind in INSPECTION_KINDS],
            "penalty": [e for e in rows if e.kind in PENALTY_KINDS]}


def _evidence(c: Complaint, evidence_id: int | None, kinds: frozenset, field: str,
              errors: dict[str, str]) -> Evidence | None:
    if not evidence_id:
        return None
    evidence = db.session.get(Evidence, evidence_id)
    if c.enterprise_id is None:
        errors[field] = _("Evidence can be linked only when the case names a registered enterprise; give the "
                          "document number and date instead.")
    elif evidence is None or evidence.enterprise_id != c.enterprise_id or evidence.kind not in kinds \
            or evidence.withdrawn_at is not None:
        errors[field] = _("Choose a record of the reported enterprise from the list, or leave it empty.")
    else:
        return evidence
    return None


def _penalty_by_number(c: Complaint, doc_no: str) -> Evidence | None:
    """A penalty decision already in the enterprise's evidence under the same document number is linked by itself."""
    if c.enterprise_id is None or not doc_no:
        return None
    return db.session.scalar(sa.select(Evidence).where(
        Evidence.enterprise_id == c.enterprise_id, Evidence.document_no == doc_no, Evidence.kind.in_(PENALTY_KINDS),
        Evidence.withdrawn_at.is_(None)).order_by(Evidence.id).limit(1))


def _check_document(ref: str, on: date | None, ref_field: str, date_field: str, errors: dict[str, str]) -> None:
    if bool(ref) != bool(on):
        field = date_field if ref else ref_field
        errors[field] = _("Give both the document number and its date, or neither.")
    if len(ref) > MAX_REF:
        errors[ref_field] = _("Use at most %(n)s characters.", n=MAX_REF)
    if on is not None and on > china_today():
        errors[date_field] = _("The date cannot be in the future.")


def add_investigation_note(c: Complaint, actor, text: str, *, inspection_ref: str = "",
                           inspection_on: date | None = None, inspection_evidence_id: int | None = None,
                           penalty_doc_no: str = "", penalty_on: date | None = None,
                           penalty_evidence_id: int | None = None) -> ComplaintNote:
    """Record a note; a linked evidence row fills in a missing document number and date."""
    if not can_see_notes(actor, c):
        raise NotAllowed(_("Only the assigned handler or the lead may record investigation notes."))
    if c.status not in rules.OPEN_STATUSES:
        raise InvalidTransition(_("This case is closed; reopen it to add investigation notes."))
    errors: dict[str, str] = {}
    text = (text or "").strip()
    if not text:
        errors["text"] = _("Write the note.")
    inspection = _evidence(c, inspection_evidence_id, INSPECTION_KINDS, "inspection_evidence_id", errors)
    penalty = _evidence(c, penalty_evidence_id, PENALTY_KINDS, "penalty_evidence_id", errors)
    inspection_ref, penalty_doc_no = (inspection_ref or "").strip(), (penalty_doc_no or "").strip()
    if inspection is not None:
        inspection_ref = inspection_ref or inspection.document_no or f"evidence:{inspection.id}"
        inspection_on = inspection_on or inspection.occurred_on
    if penalty is None and not errors:
        penalty = _penalty_by_number(c, penalty_doc_no)
    if penalty is not None:
        penalty_doc_no = penalty_doc_no or penalty.document_no or f"evidence:{penalty.id}"
        penalty_on = penalty_on or penalty.occurred_on
    _check_document(inspection_ref, inspection_on, "inspection_ref", "inspection_on", errors)
    _check_document(penalty_doc_no, penalty_on, "penalty_doc_no", "penalty_on", errors)
    if errors:
        raise ValidationFailed(errors)
    note = ComplaintNote(complaint=c, author_id=actor.id, text=text, inspection_ref=inspection_ref,
                         inspection_on=inspection_on, inspection_evidence_id=inspection.id if inspection else None,
                         penalty_doc_no=penalty_doc_no, penalty_on=penalty_on,
                         penalty_evidence_id=penalty.id if penalty else None)
    db.session.add(note)
    db.session.flush()
    # The timeline line is seen by every regulator of the jurisdiction: it names the documents, not the note.
    _event(c, "note", ", ".join(filter(None, [inspection_ref, penalty_doc_no])), public=False, actor=actor)
    after = {**note.reference(), "case_no": c.case_no}
    record(actor, "complaint.note", note, after=after, enterprise_id=c.enterprise_id)
    return note


def result_references(c: Complaint) -> list[dict]:
    """The inspections and penalties a result cites: every note of the case that names one."""
    return [n.reference() for n in c.notes if n.has_links]
