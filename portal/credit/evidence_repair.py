"""Repair of one item of dishonesty information (信用修复 of penalty information, DOMAIN §3.1, §3.3): eligibility
shown before applying (minimum publication period, a black listing's own minimum period), the same application,
verification and public-notice steps as a grade repair (credit.repair), and the grant: the item stops counting in
the ledger from the repair date, its details are no longer published, the standing is recomputed and a black
listing it caused is removed with reason "repaired". Services flush; the caller commits."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from portal.audit.services import record
from portal.core.clock import china_today
from portal.credit import lists, rules, services
from portal.credit.evidence import mark_repaired
from portal.credit.models import (CreditListEntry, Evidence, LedgerEntry, ListKind, ListStatus, RepairApplication,
                                  RepairStatus)
from portal.errors import InvalidTransition, NotAllowed, ValidationFailed
from portal.extensions import db

REASONS = {
    "repaired": lambda d: _("This item has already been repaired."),
    "not_scoring": lambda d: _("Only confirmed evidence that has not been withdrawn can be repaired."),
    "no_deduction": lambda d: _("This item deducts no points; there is nothing to repair."),
    "scheme": lambda d: _("The credit scheme of your jurisdiction offers no repair by application: the points "
                          "lapse on their own at the end of their validity."),
    "min_period": lambda d: _("The minimum publication period runs until %(d)s; apply from that day.",
                              d=d.isoformat()),
    "list_min_period": lambda d: _("The black listing it caused can be removed from %(d)s at the earliest.",
                                   d=d.isoformat()),
    "open": lambda d: _("An application for this item is already open."),
}


def _min_months() -> dict[str, int]:
    return current_app.config.get("CREDIT_REPAIR_MIN_MONTHS") or rules.EVIDENCE_REPAIR_MIN_MONTHS


def open_application(evidence: Evidence) -> RepairApplication | None:
    return db.session.scalar(sa.select(RepairApplication).where(
        RepairApplication.evidence_id == evidence.id, RepairApplication.status.in_(rules.OPEN_REPAIR_STATUSES)))


def _lines(evidence: Evidence) -> list[LedgerEntry]:
    return list(db.session.scalars(sa.select(LedgerEntry).where(LedgerEntry.evidence_id == evidence.id)))


def _listing(evidence: Evidence) -> CreditListEntry | None:
    return db.session.scalar(sa.select(CreditListEntry).where(
        CreditListEntry.evidence_id == evidence.id, CreditListEntry.kind == ListKind.BLACK,
        CreditListEntry.status == ListStatus.LISTED))


def ineligibility(evidence: Evidence) -> list[tuple[str, Any]]:
    """(reason code, date or None) for every reason the item cannot be repaired now; empty: eligible."""
    lines = _lines(evidence)
    serious = any(line.is_veto for line in lines)
    listing = _listing(evidence)
    earliest = rules.evidence_repair_earliest(evidence.occurred_on, serious, _min_months())
    codes = rules.evidence_repair_ineligibility(
        scoring=evidence.is_verified and evidence.withdrawn_at is None, repaired=evidence.repaired_on is not None,
        deducts=any(line.points < 0 for line in lines), serious=serious, decided_on=evidence.occurred_on,
        today=china_today(), min_months=_min_months(), list_min_until=listing.min_until if listing else None,
        has_open_application=open_application(evidence) is not None, scheme_allows=_scheme_allows(evidence))
    dates = {"min_period": earliest, "list_min_period": listing.min_until if listing else None}
    return [(code, dates.get(code)) for code in codes]


def _scheme_allows(evidence: Evidence) -> bool:
    version = services.version_for_region(evidence.enterprise.region_code)
    return version is None or services.parsed(version).evidence_repair


def messages(reasons: list[tuple[str, Any]]) -> list[str]:
    return [REASONS[code](day) for code, day in reasons]


def repairable_items(enterprise_id: int) -> list[Evidence]:
    """The enterprise's evidence that deducts points in its ledger (or was repaired): the items it may apply for."""
    ids = sa.select(LedgerEntry.evidence_id).where(LedgerEntry.enterprise_id == enterprise_id,
                                                   LedgerEntry.points < 0)
    stmt = (sa.select(Evidence).where(Evidence.id.in_(ids)).order_by(Evidence.occurred_on.desc(), Evidence.id.desc())
            .limit(200))
    return list(db.session.scalars(stmt))


def apply(actor: Any, evidence: Evidence, rectification: str, materials: str, commitment: bool) -> RepairApplication:
    """The enterprise applies to repair one item, with what it corrected, its materials and a public credit
    commitment; from_grade/to_grade are its current grade and the grade once the item stops counting."""
    if not (actor.role.is_enterprise and actor.enterprise_id == evidence.enterprise_id):
        raise NotAllowed(_("You can apply only for your own enterprise's evidence."))
    reasons = ineligibility(evidence)
    if reasons:
        raise InvalidTransition(" ".join(messages(reasons)))
    errors = {}
    if not rectification.strip():
        errors["rectification"] = _("Describe what was corrected and how the penalty was performed.")
    if not commitment:
        errors["commitment"] = _("The public credit commitment is required.")
    if errors:
        raise ValidationFailed(errors)
    now, after = projected_grades(evidence)
    application = RepairApplication(enterprise_id=evidence.enterprise_id, evidence_id=evidence.id, from_grade=now,
                                    to_grade=after, rectification=rectification.strip(),
                                    materials=materials.strip(), commitment=True, applied_by_id=actor.id)
    db.session.add(application)
    db.session.flush()
    record(actor, "credit_repair.apply", application)
    return application


def projected_grades(evidence: Evidence) -> tuple[str, str]:
    """The enterprise's grade today, and today's grade if the item stopped counting now."""
    from portal.credit import scoring

    ent = evidence.enterprise
    view = services.credit_view(ent)
    if view.scheme is None:
        return "", ""
    today = china_today()
    entries = [scoring.Entry(e.evidence_id, e.rule_code, e.rule_label, e.points, e.is_veto, e.counts_from,
                             today if e.evidence_id == evidence.id else e.expires_on) for e in view.ledger]
    return (view.current.grade_code or "", scoring.standing_on(view.scheme, entries, today).grade)


def grant(actor: Any, application: RepairApplication) -> None:
    """The lead granted the repair (called by credit.repair.act): mark the item repaired (the ledger and standing
    are recomputed by the evidence listener), then end the black listing it caused."""
    evidence = application.evidence
    if application.status != RepairStatus.REPAIRED:
        raise InvalidTransition(_("This step is not possible in the application's current state."))
    mark_repaired(evidence, actor, china_today())
    lists.end_for_repair(actor, evidence.id, evidence.enterprise_id)
