"""双随机 roster and inspection pages, on the credit_draws blueprint: the lead's roster, the jurisdiction's
inspections (results, case checks), the public list of published draws, the public code verification and the
enterprise's own inspections with their rating."""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.auth.models import Role
from portal.auth.permissions import Permission, require
from portal.core.clock import china_today
from portal.credit import draw_inspections as I
from portal.credit import draws
from portal.credit.draw_models import Inspection
from portal.credit.draw_forms import CLASS_LABELS, TRIGGER_LABELS, CaseInspectionForm, InspectorForm, RatingForm, \
    ResultForm
from portal.credit.draw_views import bp
from portal.credit.models import InspectionDraw
from portal.credit.views import _commit_or_flash
from portal.errors import NotFound
from portal.extensions import db


@bp.context_processor
def _labels():
    return {"TRIGGER_LABELS": {t.value: label for t, label in TRIGGER_LABELS.items()}, "CLASS_LABELS": CLASS_LABELS,
            "format_inspection_code": I.format_code}


def _private(body: str):
    """A private page: never stored by a browser or proxy."""
    response = make_response(body)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/credit/regulator/draws/inspectors", methods=["GET", "POST"])
@require(Permission.CREDIT_EVALUATE)
def roster():
    form = InspectorForm()
    if form.validate_on_submit():
        if _commit_or_flash(lambda: I.add_inspector(
                current_user, name=form.name.data, jurisdiction_code=form.jurisdiction_code.data,
                certificate_no=form.certificate_no.data, valid_from=form.certificate_valid_from.data,
                valid_until=form.certificate_valid_until.data, username=form.username.data or ""),
                _("The inspector is in the roster."), form):
            return redirect(url_for(".roster"))
    status = 400 if form.errors else 200
    return _private(render_template("credit/draw_roster.html", form=form, today=china_today(),
                                    items=I.roster_in(current_user.jurisdiction_code or ""),
                                    is_lead=current_user.role == Role.REGULATOR_LEAD)), status


@bp.route("/credit/regulator/inspections", methods=["GET", "POST"])
@require(Permission.CREDIT_EVALUATE)
def inspections():
    form = CaseInspectionForm()
    if form.validate_on_submit():
        certificates = [c for c in (form.certificates.data or "").replace("，", ",").split(",")]
        if _commit_or_flash(lambda: I.record_case_inspection(
                current_user, uscc=form.uscc.data, trigger=form.trigger.data, certificates=certificates,
                inspected_on=form.inspected_on.data, basis=form.basis.data, result=form.result.data),
                _("The case inspection is recorded; it does not count against the yearly cap."), form):
            return redirect(url_for(".inspections"))
    status = 400 if form.errors else 200
    year = request.args.get("year", type=int) or china_today().year
    items = I.inspections_in(current_user.jurisdiction_code or "", year)
    caps = {i.enterprise_id: I.cap_status(i.enterprise, year) for i in items}
    return _private(render_template("credit/draw_inspections.html", form=form, items=items, caps=caps, year=year,
                                    result_form=ResultForm(formdata=None))), status


@bp.post("/credit/regulator/inspections/<int:inspection_id>/result")
@require(Permission.CREDIT_EVALUATE)
def inspection_result(inspection_id: int):
    try:
        inspection = I.get_in_jurisdiction(current_user, inspection_id)
    except NotFound:
        abort(404)
    form = ResultForm()
    if form.validate_on_submit():
        _commit_or_flash(lambda: I.record_result(current_user, inspection, form.inspected_on.data, form.result.data),
                         _("The inspection result is recorded."))
    else:
        flash(_("Give the inspection day and the result."), "error")
    return redirect(url_for(".inspections", year=inspection.year))


@bp.get("/credit/draws")
def public_index():
    """Published draws, newest first: the public half of 双随机、一公开."""
    items = list(db.session.scalars(sa.select(InspectionDraw).where(InspectionDraw.published_at.is_not(None))
                                    .order_by(InspectionDraw.year.desc(), InspectionDraw.quarter.desc(),
                                              InspectionDraw.jurisdiction_prefix).limit(200)))
    return render_template("credit/draws_public.html", items=items,
                           regions=draws.jurisdiction_names([d.jurisdiction_prefix for d in items]))


@bp.get("/credit/inspections/verify")
def verify_inspection():
    """扫码入企: the enterprise (or anyone holding the code) checks who inspects, on what basis, with what result."""
    code = request.args.get("code", "")
    inspection, error, cap = None, None, None
    if code:
        try:
            inspection = I.verify_code(code)
            cap = I.cap_status(inspection.enterprise, inspection.year)
        except NotFound as exc:
            error = exc.message
    response = render_template("credit/inspection_verify.html", code=code[:40], inspection=inspection,
                               error=error, cap=cap)
    return response, 404 if error else 200


@bp.get("/credit/enterprise/inspections")
@require(Permission.ENTERPRISE_PRIVATE_VIEW)
def enterprise_inspections():
    items = I.inspections_of(current_user.enterprise_id) if current_user.enterprise_id else []
    return _private(render_template("credit/enterprise_inspections.html", items=items,
                                    rating_form=RatingForm(formdata=None)))


@bp.post("/credit/enterprise/inspections/<int:inspection_id>/rating")
@require(Permission.ENTERPRISE_PRIVATE_VIEW)
def rate_inspection(inspection_id: int):
    inspection = db.session.get(Inspection, inspection_id)
    if inspection is None or inspection.enterprise_id != current_user.enterprise_id:
        abort(404)
    form = RatingForm()
    if form.validate_on_submit():
        _commit_or_flash(lambda: I.rate(current_user, inspection, int(form.score.data), form.comment.data or ""),
                         _("Thank you: your rating goes to the supervising body."))
    else:
        flash(_("Choose a rating from 1 to 5."), "error")
    return redirect(url_for(".enterprise_inspections"))
