"""The one evidence interface every capability plugs into (disclosures, monitoring, complaints, regulators).

Producers call add_evidence() in their own transaction; it flushes and audits, and is idempotent on
(source_ref, kind). The credit engine reads only verified, non-withdrawn evidence.
"""
from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa

from portal.audit.services import record, snapshot
from portal.credit.models import Evidence, EvidenceKind, EvidenceSource
from portal.db import utcnow
from portal.extensions import db

# Listeners called with the Evidence after it is added, verified or withdrawn (the credit engine registers one to
# update the ledger incrementally). Kept as a plain list so producers need not import the engine.
EVIDENCE_LISTENERS: list = []


def _notify(evidence: Evidence) -> None:
    for listener in EVIDENCE_LISTENERS:
        listener(evidence)


def add_evidence(*, enterprise_id: int, kind: EvidenceKind, source: EvidenceSource, source_ref: str,
                 occurred_on: date, title: str, verified: bool, actor: Any = None, document_no: str = "",
                 authority: str = "", amount_yuan: int | None = None, details: dict | None = None,
                 is_public: bool = True) -> Evidence:
    """Add (or return the existing) evidence for source_ref + kind. Automatic producers whose facts are already
    established (a computed exceedance, a missed deadline) pass verified=True; hand-recorded items start unverified
    until a second regulator confirms them."""
    existing = db.session.scalar(sa.select(Evidence).where(Evidence.source_ref == source_ref, Evidence.kind == kind))
    if existing is not None:
        return existing
    evidence = Evidence(enterprise_id=enterprise_id, kind=kind, source=source, source_ref=source_ref,
                        occurred_on=occurred_on, title=title, document_no=document_no, authority=authority,
                        amount_yuan=amount_yuan, details=details or {}, is_verified=verified, is_public=is_public,
                        verified_at=utcnow() if verified else None,
                        verified_by_id=getattr(actor, "id", None) if verified else None,
                        recorded_by_id=getattr(actor, "id", None))
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
    """Withdrawn evidence stays on record (never deleted) but no longer scores."""
    if evidence.withdrawn_at is not None:
        return evidence
    before = snapshot(evidence)
    evidence.withdrawn_at, evidence.withdrawn_reason = utcnow(), reason
    record(actor, "evidence.withdraw", evidence, before=before)
    _notify(evidence)
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
