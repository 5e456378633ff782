"""双随机 draw pages: draw a quarter for the jurisdiction, inspect the sealed result, publish it; the public page
shows the seed, the hashes and the result so anyone can re-run the draw."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.auth.models import Role, User
from portal.auth.permissions import Permission, require
from portal.core.clock import china_today
from portal.credit import conflicts, draws, rules
from portal.credit import forms as F
from portal.credit.models import InspectionDraw, InspectorConflict
from portal.enterprises.models import Enterprise
from portal.enterprises.rules import check_uscc
from portal.credit.views import _commit_or_flash
from portal.extensions import db

bp = Blueprint("credit_draws", __name__)


def _draw_in_jurisdiction(draw_id: int) -> InspectionDraw:
    entry = db.get_or_404(InspectionDraw, draw_id)
    if not rules.can_manage_run(current_user.role, current_user.jurisdiction_code, entry.jurisdiction_prefix):
        abort(404)
    return entry


@bp.route("/credit/regulator/draws", methods=["GET", "POST"])
@require(Permission.CREDIT_EVALUATE)
def index():
    today = china_today()
    form = F.DrawForm(data=None if F.DrawForm().is_submitted() else
                      {"year": today.year, "quarter": str((today.month - 1) // 3 + 1)})
    if form.validate_on_submit():
        holder = {}

        def call():
            holder["draw"] = draws.make_draw(current_user, current_user.jurisdiction_code or "", form.year.data,
                                             int(form.quarter.data))

        if _commit_or_flash(call, _("Drawn and sealed."), form):
            return redirect(url_for(".detail", draw_id=holder["draw"].id))
    status = 400 if form.errors else 200
    year = form.year.data if isinstance(form.year.data, int) else today.year
    return render_template("credit/draws.html", form=form, coverage=draws.coverage(current_user.jurisdiction_code
                                                                                   or "", year),
                           items=draws.draws_for(current_user.jurisdiction_code or "")), status


@bp.route("/credit/regulator/draws/conflicts", methods=["GET", "POST"])
@require(Permission.CREDIT_EVALUATE)
def conflicts_desk():
    """Conflicts of interest: an inspector declares their own, a lead records one for any inspector; the draw
    never assigns an inspector to an enterprise they have a conflict with."""
    form = F.ConflictForm()
    if form.validate_on_submit():
        check = check_uscc(form.uscc.data)
        ent = db.session.scalar(sa.select(Enterprise).where(Enterprise.uscc == check.value)) if check.ok else None
        inspector = db.session.scalar(sa.select(User).where(User.username == form.inspector.data.strip()))
        if ent is None or not rules.can_record_evidence(current_user.role, current_user.jurisdiction_code,
                                                        ent.region_code):
            form.uscc.errors = [*form.uscc.errors, check.error if not check.ok else
                                _("No enterprise with this credit code is registered in your jurisdiction.")]
        elif inspector is None:
            form.inspector.errors = [*form.inspector.errors,
                                     _("Give the user name of an inspector of your jurisdiction.")]
        elif _commit_or_flash(lambda: conflicts.declare(current_user, inspector, ent, form.reason.data),
                              _("Conflict recorded; the draw will not assign this inspector to this enterprise."),
                              form):
            return redirect(url_for(".conflicts_desk"))
    status = 400 if form.errors else 200
    return render_template("credit/conflicts.html", form=form, end_form=F.EndConflictForm(),
                           items=conflicts.conflicts_in(current_user.jurisdiction_code or ""),
                           is_lead=current_user.role == Role.REGULATOR_LEAD), status


@bp.post("/credit/regulator/draws/conflicts/<int:conflict_id>/end")
@require(Permission.CREDIT_EVALUATE)
def end_conflict(conflict_id: int):
    conflict = db.get_or_404(InspectorConflict, conflict_id)
    if not rules.can_record_evidence(current_user.role, current_user.jurisdiction_code,
                                     conflict.enterprise.region_code):
        abort(404)
    form = F.EndConflictForm()
    if form.validate_on_submit():
        _commit_or_flash(lambda: conflicts.end(current_user, conflict, form.reason.data), _("The conflict has ended."))
    else:
        flash(_("Reason: this field is required."), "error")
    return redirect(url_for(".conflicts_desk"))


@bp.get("/credit/regulator/draws/<int:draw_id>")
@require(Permission.CREDIT_EVALUATE)
def detail(draw_id: int):
    entry = _draw_in_jurisdiction(draw_id)
    enterprises, inspectors = draws.display_names(entry)
    return render_template("credit/draw_detail.html", entry=entry, verified=draws.verify(entry), public=False,
                           confirm_form=F.ConfirmForm(), enterprises=enterprises, inspectors=inspectors,
                           codes=draws.inspection_codes(entry),
                           region=draws.jurisdiction_names([entry.jurisdiction_prefix])[entry.jurisdiction_prefix])


@bp.post("/credit/regulator/draws/<int:draw_id>/publish")
@require(Permission.CREDIT_EVALUATE)
def publish(draw_id: int):
    entry = _draw_in_jurisdiction(draw_id)
    if not F.ConfirmForm().validate_on_submit():
        abort(400)
    _commit_or_flash(lambda: draws.publish(current_user, entry), _("The draw is published."))
    return redirect(url_for(".detail", draw_id=entry.id))


@bp.get("/credit/draws/<int:draw_id>")
def public(draw_id: int):
    entry = db.get_or_404(InspectionDraw, draw_id)
    if entry.published_at is None:
        abort(404)
    enterprises, inspectors = draws.display_names(entry)
    return render_template("credit/draw_detail.html", entry=entry, verified=draws.verify(entry), public=True,
                           enterprises=enterprises, inspectors=inspectors,
                           region=draws.jurisdiction_names([entry.jurisdiction_prefix])[entry.jurisdiction_prefix])


from portal.credit import draw_inspection_views  # noqa: E402,F401  (roster and inspection routes on this blueprint)
