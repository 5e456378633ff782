"""Black and white list pages: the regulators' desk (candidates, prior notice, decision, removal), the enterprise's
statement, and the public lists."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.auth.permissions import Permission, require
from portal.credit import forms as F
from portal.credit import lists, rules
from portal.credit.models import CreditListEntry, ListKind, ListStatus
from portal.credit.views import _commit_or_flash
from portal.enterprises.models import Enterprise
from portal.enterprises.rules import check_uscc
from portal.extensions import db

bp = Blueprint("credit_lists", __name__)


@bp.context_processor
def _labels():
    return {"CL": F.template_labels(), "ListStatus": ListStatus, "ListKind": ListKind}


def _entry_in_jurisdiction(entry_id: int) -> CreditListEntry:
    entry = db.get_or_404(CreditListEntry, entry_id)
    if not rules.can_record_evidence(current_user.role, current_user.jurisdiction_code, entry.enterprise.region_code):
        abort(404)
    return entry


@bp.get("/credit/regulator/lists")
@require(Permission.CREDIT_EVALUATE)
def desk():
    return render_template("credit/lists_desk.html", entries=lists.entries_in(current_user.jurisdiction_code or ""),
                           propose_form=F.ProposeForm(), decide_form=F.DecideForm(), end_form=F.EndForm(),
                           confirm_form=F.ConfirmForm(), is_lead=current_user.role.value == "regulator_lead")


@bp.post("/credit/regulator/lists/candidates")
@require(Permission.CREDIT_EVALUATE)
def find_candidates():
    if not F.ConfirmForm().validate_on_submit():
        abort(400)
    holder = {}

    def call():
        holder["n"] = lists.find_candidates(current_user, current_user.jurisdiction_code or "")

    if _commit_or_flash(call, _("Candidates checked.")):
        flash(_("%(n)d new candidates.", n=holder["n"]), "info")
    return redirect(url_for(".desk"))


@bp.post("/credit/regulator/lists/propose")
@require(Permission.CREDIT_EVALUATE)
def propose():
    form = F.ProposeForm()
    if not form.validate_on_submit():
        flash(_("Give the credit code, the list and the reason."), "error")
        return redirect(url_for(".desk"))
    check = check_uscc(form.uscc.data)
    ent = db.session.scalar(sa.select(Enterprise).where(Enterprise.uscc == check.value)) if check.ok else None
    if ent is None or not rules.can_record_evidence(current_user.role, current_user.jurisdiction_code,
                                                    ent.region_code):
        flash(check.error or _("No enterprise with this credit code is registered in your jurisdiction."), "error")
        return redirect(url_for(".desk"))
    _commit_or_flash(lambda: lists.propose(current_user, ent, ListKind(form.kind.data), form.reason.data),
                     _("The enterprise is a candidate."))
    return redirect(url_for(".desk"))


@bp.post("/credit/regulator/lists/<int:entry_id>/notice")
@require(Permission.CREDIT_EVALUATE)
def send_notice(entry_id: int):
    entry = _entry_in_jurisdiction(entry_id)
    if not F.ConfirmForm().validate_on_submit():
        abort(400)
    _commit_or_flash(lambda: lists.send_prior_notice(current_user, entry), _("Prior notice sent to the enterprise."))
    return redirect(url_for(".desk"))


@bp.post("/credit/regulator/lists/<int:entry_id>/decide")
@require(Permission.CREDIT_EVALUATE)
def decide(entry_id: int):
    entry = _entry_in_jurisdiction(entry_id)
    form = F.DecideForm()
    if form.validate_on_submit():
        _commit_or_flash(lambda: lists.decide(current_user, entry, form.decision.data == "list", form.note.data),
                         _("Decision recorded."))
    else:
        flash(_("Reasons for the decision: this field is required."), "error")
    return redirect(url_for(".desk"))


@bp.post("/credit/regulator/lists/<int:entry_id>/end")
@require(Permission.CREDIT_EVALUATE)
def end(entry_id: int):
    entry = _entry_in_jurisdiction(entry_id)
    form = F.EndForm()
    if form.validate_on_submit():
        _commit_or_flash(lambda: lists.end_listing(current_user, entry, form.action.data == "revoke",
                                                   form.reason.data), _("The listing has ended."))
    else:
        flash(_("Reason: this field is required."), "error")
    return redirect(url_for(".desk"))


@bp.route("/credit/my/lists/<int:entry_id>/statement", methods=["GET", "POST"])
@require(Permission.CREDIT_OBJECT)
def statement(entry_id: int):
    entry = db.get_or_404(CreditListEntry, entry_id)
    if current_user.enterprise_id != entry.enterprise_id:
        abort(404)
    form = F.StatementForm()
    if form.validate_on_submit():
        if _commit_or_flash(lambda: lists.submit_statement(current_user, entry, form.statement.data),
                            _("Your statement is recorded; the lead reads it before deciding."), form):
            return redirect(url_for("credit.my_results"))
    status = 400 if form.errors else 200
    return render_template("credit/list_statement.html", form=form, entry=entry), status


@bp.get("/credit/lists/black")
def blacklist():
    return render_template("credit/public_list.html", kind=ListKind.BLACK, entries=lists.listed(ListKind.BLACK),
                           ended=lists.recently_ended(ListKind.BLACK))


@bp.get("/credit/lists/white")
def whitelist():
    return render_template("credit/public_list.html", kind=ListKind.WHITE, entries=lists.listed(ListKind.WHITE),
                           ended=lists.recently_ended(ListKind.WHITE))
