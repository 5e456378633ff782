"""Black and white lists (DOMAIN §4): candidates from rules or a regulator's proposal, prior notice to the
enterprise with its right to state its case, the lead's decision, the listed period, expiry by a job, removal.
Services flush; the caller commits."""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from portal.audit.services import record, snapshot
from portal.auth.models import Role, User
from portal.core.clock import china_today
from portal.credit import rules
from portal.credit.models import (CreditListEntry, CreditStanding, EvaluationResult, EvaluationRun, LedgerEntry,
                                  ListKind,
                                  ListStatus, RunStatus)
from portal.db import utcnow
from portal.enterprises.models import Enterprise
from portal.errors import Conflict, InvalidTransition, NotAllowed, ValidationFailed
from portal.extensions import db
from portal.mail.services import queue_mail

_ACTIVE = rules.ACTIVE_LIST_STATUSES


def _months() -> dict[str, int]:
    cfg = current_app.config
    return {"black_min": cfg.get("CREDIT_BLACKLIST_MIN_MONTHS", 12),
            "black_max": cfg.get("CREDIT_BLACKLIST_MAX_MONTHS", 36),
            "white_max": cfg.get("CREDIT_WHITELIST_MAX_MONTHS", 12)}


def active_entry(enterprise_id: int, kind: ListKind) -> CreditListEntry | None:
    return db.session.scalar(sa.select(CreditListEntry).where(CreditListEntry.enterprise_id == enterprise_id,
                                                        CreditListEntry.kind == kind,
                                                        CreditListEntry.status.in_(_ACTIVE)))


def _check_jurisdiction(actor: Any, ent: Enterprise) -> None:
    if not rules.can_record_evidence(actor.role, actor.jurisdiction_code, ent.region_code):
        raise NotAllowed(_("This enterprise is outside your jurisdiction."))


def _last_final_grades(enterprise_ids: list[int]) -> dict[int, list[str]]:
    stmt = (sa.select(EvaluationResult.enterprise_id, EvaluationResult.grade).join(EvaluationRun)
            .where(EvaluationResult.enterprise_id.in_(enterprise_ids), EvaluationRun.status == RunStatus.FINAL)
            .order_by(EvaluationResult.enterprise_id, EvaluationRun.year.desc()))
    grades: dict[int, list[str]] = {}
    for ent_id, grade in db.session.execute(stmt):
        grades.setdefault(ent_id, []).append(grade)
    return grades


def _deductions_since(enterprise_ids: list[int], since: date) -> set[int]:
    stmt = (sa.select(LedgerEntry.enterprise_id).where(LedgerEntry.enterprise_id.in_(enterprise_ids),
                                                       LedgerEntry.points < 0, LedgerEntry.counts_from >= since)
            .distinct())
    return set(db.session.scalars(stmt))


def find_candidates(actor: Any, jurisdiction: str) -> int:
    """Make every enterprise in the jurisdiction that meets a list rule a candidate (once: an enterprise with an
    active entry on that list is skipped). Returns how many candidates were added."""
    ents = db.session.execute(sa.select(Enterprise.id, CreditStanding.grade, CreditStanding.is_vetoed)
                              .outerjoin(CreditStanding, CreditStanding.enterprise_id == Enterprise.id)
                              .where(Enterprise.region_code.startswith(jurisdiction, autoescape=True))).all()
    ids = [e.id for e in ents]
    grades = _last_final_grades(ids)
    deducted = _deductions_since(ids, china_today() - timedelta(days=730))
    added = 0
    for ent_id, grade, vetoed in ents:
        history = grades.get(ent_id, [])
        for kind, basis in ((ListKind.BLACK, rules.black_list_basis(bool(vetoed), history)),
                            (ListKind.WHITE, rules.white_list_basis(grade, history, int(ent_id in deducted)))):
            if basis and active_entry(ent_id, kind) is None:
                _add_entry(actor, ent_id, kind, basis, _BASIS_REASONS[basis](),
                           _veto_evidence(ent_id) if basis == "veto" else None)
                added += 1
    return added


def _veto_evidence(enterprise_id: int) -> int | None:
    """The latest counting veto event: the listing's reason, whose repair removes the listing."""
    today = china_today()
    return db.session.scalar(sa.select(LedgerEntry.evidence_id).where(
        LedgerEntry.enterprise_id == enterprise_id, LedgerEntry.is_veto.is_(True), LedgerEntry.counts_from <= today,
        sa.or_(LedgerEntry.expires_on.is_(None), LedgerEntry.expires_on > today))
        .order_by(LedgerEntry.counts_from.desc(), LedgerEntry.evidence_id.desc()).limit(1))


_BASIS_REASONS = {
    "veto": lambda: _("A one-vote veto event counts in the credit ledger."),
    "bad_twice": lambda: _("Red or black in the two latest final credit evaluations."),
    "green_twice": lambda: _("Green in the two latest final evaluations and no deduction in the last two years."),
}


def _add_entry(actor: Any, enterprise_id: int, kind: ListKind, basis: str, reason: str,
               evidence_id: int | None = None) -> CreditListEntry:
    entry = CreditListEntry(enterprise_id=enterprise_id, kind=kind, basis=basis, reason=reason,
                            proposed_by_id=getattr(actor, "id", None), evidence_id=evidence_id)
    db.session.add(entry)
    db.session.flush()
    record(actor, "credit_list.candidate", entry)
    return entry


def propose(actor: Any, ent: Enterprise, kind: ListKind, reason: str) -> CreditListEntry:
    """A regulator proposes an enterprise for a list on other grounds (e.g. a positive-list category)."""
    _check_jurisdiction(actor, ent)
    if not reason.strip():
        raise ValidationFailed({"reason": _("Give the reason for the proposal.")})
    if active_entry(ent.id, kind) is not None:
        raise Conflict(_("This enterprise is already a candidate for or on this list."))
    return _add_entry(actor, ent.id, kind, "proposal", reason.strip())


def _move(entry: CreditListEntry, target: ListStatus) -> dict:
    if not rules.can_transition_list(entry.status, target):
        raise InvalidTransition(_("This step is not possible in the entry's current state."))
    before = snapshot(entry)
    entry.status = target
    return before


def send_prior_notice(actor: Any, entry: CreditListEntry) -> CreditListEntry:
    """Tell the enterprise (告知) and give it CREDIT_LIST_STATEMENT_DAYS working days to state its case."""
    from portal.workdays.services import add_working_days

    _check_jurisdiction(actor, entry.enterprise)
    before = _move(entry, ListStatus.PRIOR_NOTICE)
    entry.notice_sent_on = china_today()
    entry.statement_due_on = add_working_days(entry.notice_sent_on,
                                              current_app.config.get("CREDIT_LIST_STATEMENT_DAYS", 5))
    record(actor, "credit_list.notice", entry, before=before)
    subject = (_("Prior notice: proposed inclusion in the black list") if entry.kind == ListKind.BLACK
               else _("Prior notice: proposed inclusion in the positive list"))
    body = _("%(name)s is proposed for the list because: %(reason)s You may state your case on the portal until "
             "%(due)s.", name=entry.enterprise.name, reason=entry.reason, due=entry.statement_due_on.isoformat())
    for user in db.session.scalars(sa.select(User).where(User.enterprise_id == entry.enterprise_id,
                                                         User.email.is_not(None))):
        queue_mail(user.email, subject, body, dedupe_key=f"credit-list-notice:{entry.id}:{user.id}")
    return entry


def submit_statement(actor: Any, entry: CreditListEntry, text: str) -> CreditListEntry:
    """The enterprise states its case (陈述申辩) during the prior notice."""
    if not (actor.role.is_enterprise and actor.enterprise_id == entry.enterprise_id):
        raise NotAllowed(_("Only the enterprise concerned can state its case."))
    if entry.status != ListStatus.PRIOR_NOTICE:
        raise InvalidTransition(_("A statement is taken only during the prior notice."))
    if not text.strip():
        raise ValidationFailed({"statement": _("Write your statement.")})
    before = snapshot(entry)
    entry.statement, entry.statement_at = text.strip(), utcnow()
    record(actor, "credit_list.statement", entry, before=before)
    return entry


def _lead_only(actor: Any, entry: CreditListEntry) -> None:
    _check_jurisdiction(actor, entry.enterprise)
    if actor.role != Role.REGULATOR_LEAD:
        raise NotAllowed(_("Only a lead decides on lists."))


def decide(actor: Any, entry: CreditListEntry, include: bool, note: str) -> CreditListEntry:
    """The lead lists the enterprise (fixing its minimum and maximum period) or rejects the candidate."""
    _lead_only(actor, entry)
    refusal = rules.decision_refusal(entry.status, entry.statement_due_on, bool(entry.statement), china_today())
    if refusal == "statement_pending":
        raise InvalidTransition(_("The enterprise may state its case until %(d)s; decide after that.",
                                  d=entry.statement_due_on.isoformat()))
    if refusal:
        raise InvalidTransition(_("This step is not possible in the entry's current state."))
    if not note.strip():
        raise ValidationFailed({"note": _("Give the reasons for the decision.")})
    before = _move(entry, ListStatus.LISTED if include else ListStatus.REJECTED)
    entry.decided_at, entry.decided_by_id, entry.decision_note = utcnow(), actor.id, note.strip()
    if include:
        entry.listed_on = china_today()
        entry.min_until, entry.max_until = rules.listing_period(entry.kind, entry.listed_on, _months())
    record(actor, "credit_list.decide", entry, before=before)
    return entry


def end_listing(actor: Any, entry: CreditListEntry, revoke: bool, reason: str) -> CreditListEntry:
    """Remove a listing after its minimum period (repair or decision), or revoke it at any time (annulled)."""
    _lead_only(actor, entry)
    if not reason.strip():
        raise ValidationFailed({"reason": _("Give the reason.")})
    if not revoke:
        refusal = rules.removal_refusal(entry.status, entry.min_until, china_today())
        if refusal == "min_period":
            raise InvalidTransition(_("The listing can be removed from %(d)s (its minimum period).",
                                      d=entry.min_until.isoformat()))
    before = _move(entry, ListStatus.REVOKED if revoke else ListStatus.REMOVED)
    entry.ended_on, entry.end_reason = china_today(), reason.strip()
    record(actor, "credit_list.end", entry, before=before)
    return entry


def end_for_repair(actor: Any, evidence_id: int, enterprise_id: int) -> list[CreditListEntry]:
    """Credit repair of an evidence item was granted: every black-list entry whose reason it was leaves the list
    (listed → removed, a candidate or one on prior notice → not listed), with end reason "repaired", audited.
    Called after the enterprise's standing was recomputed without the repaired item."""
    standing = db.session.scalar(sa.select(CreditStanding).where(CreditStanding.enterprise_id == enterprise_id))
    still_vetoed = bool(standing and standing.is_vetoed)
    ended = []
    for entry in db.session.scalars(sa.select(CreditListEntry).where(
            CreditListEntry.enterprise_id == enterprise_id, CreditListEntry.kind == ListKind.BLACK,
            CreditListEntry.status.in_(_ACTIVE)).order_by(CreditListEntry.id)):
        if not rules.listing_ended_by_repair(entry.evidence_id, entry.basis, evidence_id, still_vetoed):
            continue
        before = _move(entry, ListStatus.REMOVED if entry.status == ListStatus.LISTED else ListStatus.REJECTED)
        entry.ended_on, entry.end_reason = china_today(), REPAIRED
        record(actor, "credit_list.repaired", entry, before=before)
        ended.append(entry)
    return ended


REPAIRED = "repaired"


def recently_ended(kind: ListKind, days: int = 365) -> list[CreditListEntry]:
    """Listings that ended (removed after repair or decision, expired, revoked) in the last `days` days: the public
    list shows them so a removal is as visible as the listing was."""
    since = china_today() - timedelta(days=days)
    stmt = (sa.select(CreditListEntry).where(
        CreditListEntry.kind == kind, CreditListEntry.listed_on.is_not(None),
        CreditListEntry.status.in_((ListStatus.REMOVED, ListStatus.EXPIRED, ListStatus.REVOKED)),
        CreditListEntry.ended_on >= since).order_by(CreditListEntry.ended_on.desc(), CreditListEntry.id.desc()))
    return list(db.session.scalars(stmt))


def expire_listings() -> int:
    """Job credit-list-expiry: listings past their maximum period leave the list (idempotent)."""
    today = china_today()
    due = list(db.session.scalars(sa.select(CreditListEntry).where(CreditListEntry.status == ListStatus.LISTED,
                                                             CreditListEntry.max_until <= today)))
    for entry in due:
        before = _move(entry, ListStatus.EXPIRED)
        entry.ended_on, entry.end_reason = today, "max_period"
        record("credit-list-expiry", "credit_list.expire", entry, before=before)
    return len(due)


def entries_in(jurisdiction: str) -> list[CreditListEntry]:
    stmt = (sa.select(CreditListEntry).join(Enterprise)
            .where(Enterprise.region_code.startswith(jurisdiction, autoescape=True))
            .order_by(CreditListEntry.status.in_(_ACTIVE).desc(), CreditListEntry.id.desc()).limit(500))
    return list(db.session.scalars(stmt))


def listed(kind: ListKind) -> list[CreditListEntry]:
    stmt = (sa.select(CreditListEntry).where(CreditListEntry.kind == kind, CreditListEntry.status == ListStatus.LISTED)
            .order_by(CreditListEntry.listed_on.desc(), CreditListEntry.id.desc()))
    return list(db.session.scalars(stmt))


def entries_of(enterprise_id: int) -> list[CreditListEntry]:
    stmt = (sa.select(CreditListEntry).where(CreditListEntry.enterprise_id == enterprise_id,
                                       CreditListEntry.status.in_((ListStatus.PRIOR_NOTICE, ListStatus.LISTED)))
            .order_by(CreditListEntry.id.desc()))
    return list(db.session.scalars(stmt))
