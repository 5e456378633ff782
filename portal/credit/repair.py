"""Credit repair (信用修复, DOMAIN §3.2–3.3): eligibility computed and shown before applying, the application, the
regulator's verification, a public notice, and the lead's decision raising the final grade by one level.
Services flush; the caller commits."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from portal.audit.services import record, snapshot
from portal.auth.models import Role
from portal.core.clock import china_today
from portal.credit import rules, services
from portal.credit.models import (CreditListEntry, CreditStanding, EvaluationResult, ListKind, ListStatus,
                                  RepairApplication, RepairStatus, RunStatus)
from portal.db import utcnow
from portal.enterprises.models import Enterprise
from portal.errors import InvalidTransition, NotAllowed, ValidationFailed
from portal.extensions import db

REASONS = {
    "no_repair": lambda: _("The scheme of this evaluation has no application-based repair "
                           "(points lapse on their own)."),
    "grade": lambda: _("Only the grades the scheme lists for repair can be repaired."),
    "not_final": lambda: _("Only a final, published result can be repaired."),
    "window": lambda: _("The time to apply after publication has passed."),
    "veto": lambda: _("A one-vote veto event counts (serious dishonesty)."),
    "black_list": lambda: _("The enterprise is on the black list."),
    "recent_repair": lambda: _("A grade of this enterprise was repaired in the last 12 months."),
    "open": lambda: _("An application for this result is already open."),
}


def _scheme(result: EvaluationResult):
    return services.parsed(result.scheme_version)


def open_application(result: EvaluationResult) -> RepairApplication | None:
    return db.session.scalar(sa.select(RepairApplication).where(
        RepairApplication.result_id == result.id, RepairApplication.status.in_(rules.OPEN_REPAIR_STATUSES)))


def ineligibility(result: EvaluationResult) -> list[str]:
    """Reason codes why the result cannot be repaired now (empty list: the enterprise may apply)."""
    today = china_today()
    standing = db.session.scalar(sa.select(CreditStanding).where(CreditStanding.enterprise_id == result.enterprise_id))
    black = db.session.scalar(sa.select(CreditListEntry.id).where(
        CreditListEntry.enterprise_id == result.enterprise_id, CreditListEntry.kind == ListKind.BLACK,
        CreditListEntry.status == ListStatus.LISTED))
    recent = db.session.scalar(sa.select(RepairApplication.id).where(
        RepairApplication.enterprise_id == result.enterprise_id, RepairApplication.status == RepairStatus.REPAIRED,
        RepairApplication.result_id.is_not(None), RepairApplication.decided_at >= utcnow() - timedelta(days=365)))
    run = result.run
    finalised_on = run.finalised_at.date() if run.finalised_at else None
    return rules.repair_ineligibility(result.grade, _scheme(result).repair, run.status == RunStatus.FINAL,
                                      finalised_on, today, bool(standing and standing.is_vetoed) or result.is_vetoed,
                                      black is not None, recent is not None, open_application(result) is not None)


def apply(actor: Any, result: EvaluationResult, rectification: str, materials: str,
          commitment: bool) -> RepairApplication:
    """The enterprise applies, with what it corrected, its materials and a public credit commitment."""
    if not (actor.role.is_enterprise and actor.enterprise_id == result.enterprise_id):
        raise NotAllowed(_("You can apply only for your own enterprise's result."))
    reasons = ineligibility(result)
    if reasons:
        raise InvalidTransition(" ".join(REASONS[r]() for r in reasons))
    errors = {}
    if not rectification.strip():
        errors["rectification"] = _("Describe what was corrected and how the penalty was performed.")
    if not commitment:
        errors["commitment"] = _("The public credit commitment is required.")
    if errors:
        raise ValidationFailed(errors)
    scheme = _scheme(result)
    application = RepairApplication(enterprise_id=result.enterprise_id, result_id=result.id, from_grade=result.grade,
                                    to_grade=rules.repaired_grade(scheme.grade_codes, result.grade),
                                    rectification=rectification.strip(), materials=materials.strip(),
                                    commitment=True, applied_by_id=actor.id)
    db.session.add(application)
    db.session.flush()
    record(actor, "credit_repair.apply", application)
    return application


def resubmit(actor: Any, application: RepairApplication, rectification: str, materials: str) -> RepairApplication:
    """After the regulator returned incomplete materials, the enterprise completes and resubmits them."""
    if not (actor.role.is_enterprise and actor.enterprise_id == application.enterprise_id):
        raise NotAllowed(_("You can apply only for your own enterprise's result."))
    if not rectification.strip():
        raise ValidationFailed({"rectification": _("Describe what was corrected and how the penalty was performed.")})
    before = _move(application, RepairStatus.APPLIED)
    application.rectification, application.materials = rectification.strip(), materials.strip()
    record(actor, "credit_repair.resubmit", application, before=before)
    return application


def _move(application: RepairApplication, target: RepairStatus) -> dict:
    if not rules.can_transition_repair(application.status, target):
        raise InvalidTransition(_("This step is not possible in the application's current state."))
    before = snapshot(application)
    application.status = target
    return before


ACTIONS = {"accept": RepairStatus.VERIFYING, "return": RepairStatus.RETURNED, "reject": RepairStatus.REJECTED,
           "pass": RepairStatus.PUBLIC_NOTICE, "reopen": RepairStatus.VERIFYING, "repair": RepairStatus.REPAIRED}
NOTE_REQUIRED = ("return", "reject", "reopen")


def act(actor: Any, application: RepairApplication, action: str, note: str) -> RepairApplication:
    """A regulator of the enterprise's jurisdiction moves the application on; only a lead grants the repair,
    after the public notice, and the final result is raised by one level."""
    if not rules.can_record_evidence(actor.role, actor.jurisdiction_code, application.enterprise.region_code):
        raise NotAllowed(_("This enterprise is outside your jurisdiction."))
    if action not in ACTIONS:
        raise ValidationFailed({"action": _("Choose one of the listed actions.")})
    if action in NOTE_REQUIRED and not note.strip():
        raise ValidationFailed({"note": _("Give the reason; the enterprise receives it.")})
    if action == "repair":
        if actor.role != Role.REGULATOR_LEAD:
            raise NotAllowed(_("Only a lead grants a repair."))
        if rules.repair_decision_refusal(application.status, application.notice_ends_on, china_today()):
            raise InvalidTransition(_("The repair is granted after its public notice has ended."))
    before = _move(application, ACTIONS[action])
    if note.strip():
        application.regulator_note = note.strip()
    if action == "pass":
        days = (_scheme(application.result).repair.get("notice_days", 7) if application.result is not None
                else current_app.config.get("CREDIT_REPAIR_NOTICE_DAYS", 7))
        application.notice_starts_on = china_today()
        application.notice_ends_on = china_today() + timedelta(days=days - 1)
    if action == "repair":
        application.decided_by_id, application.decided_at = actor.id, utcnow()
        if application.evidence_id is not None:
            from portal.credit.evidence_repair import grant

            grant(actor, application)
        else:
            _raise_result(application)
    record(actor, f"credit_repair.{action}", application, before=before)
    return application


def _raise_result(application: RepairApplication) -> None:
    result = application.result
    before = snapshot(result)
    result.grade, result.revision = application.to_grade, result.revision + 1
    result.explanation = [*result.explanation, {"repair": application.id, "from": application.from_grade,
                                                "to": application.to_grade}]
    record(None, "credit_result.repair", result, before=before)
    db.session.flush()
    services.recompute_enterprise(result.enterprise_id, reason=f"repair:{application.id}")  # the current grade at once


def applications_in(jurisdiction: str) -> list[RepairApplication]:
    stmt = (sa.select(RepairApplication).join(Enterprise, Enterprise.id == RepairApplication.enterprise_id)
            .where(Enterprise.region_code.startswith(jurisdiction, autoescape=True))
            .order_by(RepairApplication.status.in_(rules.OPEN_REPAIR_STATUSES).desc(), RepairApplication.id.desc())
            .limit(500))
    return list(db.session.scalars(stmt))


def on_notice() -> list[RepairApplication]:
    stmt = (sa.select(RepairApplication).where(RepairApplication.status == RepairStatus.PUBLIC_NOTICE)
            .order_by(RepairApplication.notice_starts_on.desc()))
    return list(db.session.scalars(stmt))
