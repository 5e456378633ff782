"""双随机 draw pages: draw a quarter for the jurisdiction, inspect the sealed result, publish it; the public page
shows the seed, the hashes and the result so anyone can re-run the draw."""
from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.auth.permissions import Permission, require
from portal.core.clock import china_today
from portal.credit import draws, rules
from portal.credit import forms as F
from portal.credit.models import InspectionDraw
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
    return render_template("credit/draws.html", form=form,
                           items=draws.draws_for(current_user.jurisdiction_code or "")), status


@bp.get("/credit/regulator/draws/<int:draw_id>")
@require(Permission.CREDIT_EVALUATE)
def detail(draw_id: int):
    entry = _draw_in_jurisdiction(draw_id)
    return render_template("credit/draw_detail.html", entry=entry, verified=draws.verify(entry), public=False,
                           confirm_form=F.ConfirmForm())


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
    return render_template("credit/draw_detail.html", entry=entry, verified=draws.verify(entry), public=True)
