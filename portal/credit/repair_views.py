"""Credit repair pages: the enterprise applies (eligibility shown first), regulators verify, the lead grants, and
the public sees repairs on notice."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.auth.permissions import Permission, require
from portal.credit import forms as F
from portal.credit import evidence_repair, repair, rules
from portal.credit.models import EvaluationResult, Evidence, RepairApplication, RepairStatus
from portal.credit.views import _commit_or_flash
from portal.extensions import db

bp = Blueprint("credit_repair", __name__)


@bp.context_processor
def _labels():
    return {"CL": F.template_labels(), "RepairStatus": RepairStatus}


@bp.app_template_global("repair_version")
def repair_version(application: RepairApplication):
    """The scheme version whose grade labels an application's from/to grades use."""
    from portal.credit import services

    if application.result is not None:
        return application.result.scheme_version
    return services.version_for_region(application.enterprise.region_code)


def _application_flow(existing, ineligibility, apply_new):
    """What both repair applications share: a RETURNED application is corrected and resubmitted; otherwise the
    eligibility reasons come first, then a new application. Returns (redirect or None, form, returned, reasons)."""
    returned = existing if existing is not None and existing.status == RepairStatus.RETURNED else None
    form = F.RepairForm(obj=returned) if returned is not None and not F.RepairForm().is_submitted() else F.RepairForm()
    reasons = [] if returned is not None else ineligibility()
    if not reasons and form.validate_on_submit():
        if returned is not None:
            call = lambda: repair.resubmit(current_user, returned, form.rectification.data,  # noqa: E731
                                           form.materials.data or "")
        else:
            call = lambda: apply_new(form)  # noqa: E731
        if _commit_or_flash(call, _("Application filed; the regulator verifies it, then a 7-day public notice "
                                    "follows."), form):
            return redirect(url_for("credit.my_results")), form, returned, reasons
    return None, form, returned, reasons


@bp.route("/credit/my/results/<int:result_id>/repair", methods=["GET", "POST"])
@require(Permission.CREDIT_OBJECT)
def apply(result_id: int):
    result = db.get_or_404(EvaluationResult, result_id)
    if current_user.enterprise_id != result.enterprise_id:
        abort(404)
    done, form, returned, reasons = _application_flow(
        repair.open_application(result), lambda: repair.ineligibility(result),
        lambda form: repair.apply(current_user, result, form.rectification.data, form.materials.data or "",
                                  form.commitment.data))
    if done is not None:
        return done
    status = 400 if form.errors else 200
    return render_template("credit/repair_apply.html", form=form, result=result, returned=returned,
                           reasons=[repair.REASONS[r]() for r in reasons]), status


@bp.route("/credit/my/evidence/<int:evidence_id>/repair", methods=["GET", "POST"])
@require(Permission.CREDIT_OBJECT)
def apply_evidence(evidence_id: int):
    """Repair of one item of dishonesty information: eligibility first, then the application."""
    evidence = db.get_or_404(Evidence, evidence_id)
    if current_user.enterprise_id != evidence.enterprise_id:
        abort(404)
    done, form, returned, reasons = _application_flow(
        evidence_repair.open_application(evidence), lambda: evidence_repair.ineligibility(evidence),
        lambda form: evidence_repair.apply(current_user, evidence, form.rectification.data,
                                           form.materials.data or "", form.commitment.data))
    if done is not None:
        return done
    status = 400 if form.errors else 200
    projected = evidence_repair.projected_grades(evidence) if not reasons else None
    from portal.credit import services

    return render_template("credit/repair_apply.html", form=form, evidence=evidence, result=None, returned=returned,
                           projected=projected, version=services.version_for_region(evidence.enterprise.region_code),
                           reasons=evidence_repair.messages(reasons)), status


@bp.get("/credit/regulator/repairs")
@require(Permission.CREDIT_EVALUATE)
def desk():
    return render_template("credit/repair_desk.html", items=repair.applications_in(current_user.jurisdiction_code
                                                                                   or ""),
                           form=F.RepairActionForm())


@bp.post("/credit/regulator/repairs/<int:repair_id>")
@require(Permission.CREDIT_EVALUATE)
def act(repair_id: int):
    application = db.get_or_404(RepairApplication, repair_id)
    if not rules.can_record_evidence(current_user.role, current_user.jurisdiction_code,
                                     application.enterprise.region_code):
        abort(404)
    form = F.RepairActionForm()
    if form.validate_on_submit():
        _commit_or_flash(lambda: repair.act(current_user, application, form.action.data, form.note.data or ""),
                         _("Application updated."))
    else:
        flash(_("Choose one of the listed actions."), "error")
    return redirect(url_for(".desk"))


@bp.get("/credit/repairs")
def public_notices():
    return render_template("credit/repair_notices.html", items=repair.on_notice())
