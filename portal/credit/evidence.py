"""The one evidence interface every capability plugs into (disclosures, monitoring, complaints, regulators).

Producers call add_evidence() in their own transaction; it flushes and audits, and is idempotent on
(source_ref, kind). The credit engine reads only verified, non-withdrawn evidence.

What the portal detects by itself (late publication, exceedance, data gap, late or missing disclosure, an open day
the enterprise declares) is added with finding=True: unconfirmed, with no recorder, so that it scores only after a
regulator records it and a second one confirms it (credit.findings, DOMAIN §2.6). Withdrawing confirmed evidence
takes the same two people (withdraw_evidence).
"""
from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.audit.services import record, snapshot
from portal.core.messages import stored_text
from portal.credit.models import Evidence, EvidenceKind, EvidenceSource
from portal.db import utcnow
from portal.errors import InvalidTransition, NotAllowed
from portal.extensions import db

# Sources whose evidence the portal produces by itself or from a declaration: a finding until two people confirm it.
FINDING_SOURCES = (EvidenceSource.MONITORING, EvidenceSource.DISCLOSURE, EvidenceSource.COMPLAINT,
                   EvidenceSource.ENTERPRISE, EvidenceSource.PERMIT)

# Listeners called with the Evidence after it is added, verified or withdrawn (the credit engine registers one to
# update the ledger incrementally). Kept as a plain list so producers need not import the engine.
EVIDENCE_LISTENERS: list = []


def _notify(evidence: Evidence) -> None:
    for listener in EVIDENCE_LISTENERS:
        listener(evidence)


def add_evidence(*, enterprise_id: int, kind: EvidenceKind, source: EvidenceSource, source_ref: str,
                 occurred_on: date, title: str = "", verified: bool, actor: Any = None, document_no: str = "",
                 authority: str = "", amount_yuan: int | None = None, details: dict | None = None,
                 is_public: bool = True, finding: bool = False,
                 message: tuple[str, dict] | None = None) -> Evidence:
    """Add (or return the existing) evidence for source_ref + kind. Hand-recorded items start unverified with the
    actor as recorder, until a second regulator confirms them. finding=True (automatic detections): unverified and
    without a recorder whatever `verified` says; the actor (an uploader, a job) is only audited.
    message=(code, params): a system-written title, stored as a code rendered in the reader's language
    (portal.core.messages); the title column keeps its Chinese rendering."""
    code, params = message or ("", {})
    if code:
        title = stored_text(code, params)[:300]
    if finding:
        verified = False
    existing = db.session.scalar(sa.select(Evidence).where(Evidence.source_ref == source_ref, Evidence.kind == kind))
    if existing is not None:
        return existing
    evidence = Evidence(enterprise_id=enterprise_id, kind=kind, source=source, source_ref=source_ref,
                        occurred_on=occurred_on, title=title, document_no=document_no, authority=authority,
                        message_code=code, message_params=params,
                        amount_yuan=amount_yuan, details=details or {}, is_verified=verified, is_public=is_public,
                        verified_at=utcnow() if verified else None,
                        verified_by_id=getattr(actor, "id", None) if verified else None,
                        recorded_by_id=None if finding else getattr(actor, "id", None))
    db.session.add(evidence)
    db.session.flush()
    record(actor, "evidence.add", evidence)
    _notify(evidence)
    return evidence


def verify_evidence(evidence: Evidence, actor: Any) -> Evidence:
    if evidence.is_verified:
        return evidence
    before = snapshot(evidence)
    evidence.is_verified, evidence.verified_at, evidence.verified_by_id = True, utcnow(), actor.id
    record(actor, "evidence.verify", evidence, before=before)
    _notify(evidence)
    return evidence


def withdraw_evidence(evidence: Evidence, actor: Any, reason: str) -> Evidence:
    """Withdrawn evidence stays on record (never deleted) but no longer scores. Unconfirmed evidence (a finding
    nobody confirmed) is withdrawn at once. Confirmed evidence needs two people, like its confirmation: the first
    call records a withdrawal request, and only a second, different person's call withdraws it (DOMAIN §2.6).
    Returns the evidence; `withdrawn_at` tells whether it is withdrawn or awaits the second person."""
    if evidence.withdrawn_at is not None:
        return evidence
    actor_id = getattr(actor, "id", None)
    before = snapshot(evidence)
    if evidence.is_verified:
        if actor_id is None:
            raise NotAllowed(_("Confirmed evidence is withdrawn only by two regulators, never automatically."))
        if evidence.withdrawal_requested_by_id is None:
            evidence.withdrawal_requested_by_id, evidence.withdrawal_requested_at = actor_id, utcnow()
            evidence.withdrawal_request_reason = reason
            record(actor, "evidence.withdraw_request", evidence, before=before)
            return evidence
        if evidence.withdrawal_requested_by_id == actor_id:
            raise InvalidTransition(_("You asked for this withdrawal; another regulator must agree to it."))
        if reason and reason != evidence.withdrawal_request_reason:
            reason = f"{evidence.withdrawal_request_reason} / {reason}"
        else:
            reason = evidence.withdrawal_request_reason
    evidence.withdrawn_at, evidence.withdrawn_reason = utcnow(), reason
    record(actor, "evidence.withdraw", evidence, before=before)
    _notify(evidence)
    return evidence


def cancel_withdrawal_request(evidence: Evidence, actor: Any) -> Evidence:
    """The second regulator refuses a withdrawal request (or the requester takes it back): the evidence stays."""
    if evidence.withdrawal_requested_by_id is None or evidence.withdrawn_at is not None:
        raise InvalidTransition(_("No withdrawal of this evidence is waiting for agreement."))
    before = snapshot(evidence)
    evidence.withdrawal_requested_by_id, evidence.withdrawal_requested_at = None, None
    evidence.withdrawal_request_reason = ""
    record(actor, "evidence.withdraw_refuse", evidence, before=before)
    return evidence


def mark_repaired(evidence: Evidence, actor: Any, on: date) -> Evidence:
    """Credit repair granted: the item stays on record and in the ledger but stops counting from `on`, and its
    details are no longer published (DOMAIN §3.3)."""
    if evidence.repaired_on is not None:
        return evidence
    before = snapshot(evidence)
    evidence.repaired_on = on
    record(actor, "evidence.repair", evidence, before=before)
    _notify(evidence)
    return evidence


def scoring_evidence(enterprise_id: int) -> list[Evidence]:
    stmt = (sa.select(Evidence).where(Evidence.enterprise_id == enterprise_id, Evidence.is_verified.is_(True),
                                      Evidence.withdrawn_at.is_(None)).order_by(Evidence.occurred_on, Evidence.id))
    return list(db.session.scalars(stmt))
