"""Scheme administration: versions (draft → active → retired), editing a draft's rules, and the scheme each
jurisdiction uses."""
from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from portal.auth.permissions import Permission, require
from portal.credit import forms as F
from portal.credit import rules, schemes
from portal.credit.models import CreditScheme, CreditSchemeVersion, SchemeStatus
from portal.credit.views import _commit_or_flash
from portal.extensions import db

bp = Blueprint("credit_schemes", __name__)


@bp.context_processor
def _labels():
    return {"CL": F.template_labels()}


@bp.get("/credit/regulator/schemes")
@require(Permission.CREDIT_EVALUATE)
def index():
    mapping_form = F.MappingForm()
    mapping_form.scheme_id.choices = [SelectChoice(str(s.id), s.name) for s in schemes.all_schemes()]
    return render_template("credit/scheme_admin.html", schemes=schemes.all_schemes(), mappings=schemes.mappings(),
                           confirm_form=F.ConfirmForm(), mapping_form=mapping_form, SchemeStatus=SchemeStatus,
                           may_edit=rules.can_edit_schemes(current_user.role, current_user.jurisdiction_code),
                           may_map=rules.can_map_scheme(current_user.role, current_user.jurisdiction_code))


@bp.post("/credit/regulator/schemes/versions/<int:version_id>/draft")
@require(Permission.CREDIT_EVALUATE)
def new_draft(version_id: int):
    version = db.get_or_404(CreditSchemeVersion, version_id)
    if not F.ConfirmForm().validate_on_submit():
        abort(400)
    holder = {}

    def call():
        holder["draft"] = schemes.new_draft(current_user, version)

    if _commit_or_flash(call, _("Draft created; edit its rules, then activate it.")):
        return redirect(url_for(".edit", version_id=holder["draft"].id))
    return redirect(url_for(".index"))


@bp.route("/credit/regulator/schemes/versions/<int:version_id>", methods=["GET", "POST"])
@require(Permission.CREDIT_EVALUATE)
def edit(version_id: int):
    version = db.get_or_404(CreditSchemeVersion, version_id)
    form = F.SchemeRulesForm(data={"rules": schemes.rules_text(version)} if not F.SchemeRulesForm().is_submitted()
                             else None)
    if form.validate_on_submit():
        if _commit_or_flash(lambda: schemes.update_draft(current_user, version, form.rules.data),
                            _("Draft saved."), form):
            return redirect(url_for(".edit", version_id=version.id))
    status = 400 if form.errors else 200
    return render_template("credit/scheme_edit.html", form=form, version=version, confirm_form=F.ConfirmForm(),
                           SchemeStatus=SchemeStatus,
                           may_edit=rules.can_edit_schemes(current_user.role, current_user.jurisdiction_code)), status


@bp.post("/credit/regulator/schemes/versions/<int:version_id>/activate")
@require(Permission.CREDIT_EVALUATE)
def activate(version_id: int):
    version = db.get_or_404(CreditSchemeVersion, version_id)
    if not F.ConfirmForm().validate_on_submit():
        abort(400)
    _commit_or_flash(lambda: schemes.activate(current_user, version),
                     _("Version activated; the standings it changes are recomputed by the credit-refresh job."))
    return redirect(url_for(".index"))


@bp.post("/credit/regulator/schemes/mapping")
@require(Permission.CREDIT_EVALUATE)
def map_jurisdiction():
    form = F.MappingForm()
    form.scheme_id.choices = [SelectChoice(str(s.id), s.name) for s in schemes.all_schemes()]
    if form.validate_on_submit():
        scheme = db.get_or_404(CreditScheme, int(form.scheme_id.data))
        _commit_or_flash(lambda: schemes.map_jurisdiction(current_user, scheme),
                         _("Your jurisdiction uses this scheme from now on."))
    return redirect(url_for(".index"))
