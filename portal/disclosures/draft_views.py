"""Discarding an unsigned draft (annual or temporary): a confirmation page, then a POST (CSRF) by a user of the
enterprise. Routes on the disclosures blueprint; object checks as in views.py (other enterprises get 404)."""
from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.auth.permissions import Permission, require
from portal.disclosures import drafts, rules
from portal.disclosures import forms as F
from portal.disclosures.models import AnnualReport, TemporaryReport
from portal.disclosures.views import _fail, _mine, bp
from portal.errors import DomainError, InvalidTransition
from portal.extensions import db


def _draft_url(report) -> str:
    if not report.is_draft:
        return url_for(".report", digest=report.sha256)
    if report.kind == "annual":
        return url_for(".annual_overview", report_id=report.id)
    return url_for(".temporary_edit", temp_id=report.id)


def _discard(report):
    try:
        rules.transition(report.status, "discard")
    except InvalidTransition as exc:  # a signed report is never discarded or deleted
        flash(exc.message, "error")
        return redirect(_draft_url(report))
    form = F.DiscardForm()
    if form.validate_on_submit():
        try:
            drafts.discard_draft(current_user, report)
            db.session.commit()
        except DomainError as exc:
            _fail(exc)
            return redirect(_draft_url(report))
        flash(_("The draft is discarded."), "success")
        return redirect(url_for(".my_index"))
    return render_template("disclosures/discard.html", report=report, form=form, back=_draft_url(report)), \
        400 if form.is_submitted() else 200


@bp.route("/my/disclosures/annual/<int:report_id>/discard", methods=["GET", "POST"])
@require(Permission.DISCLOSURE_EDIT)
def annual_discard(report_id: int):
    return _discard(_mine(AnnualReport, report_id))


@bp.route("/my/disclosures/temporary/<int:temp_id>/discard", methods=["GET", "POST"])
@require(Permission.DISCLOSURE_EDIT)
def temporary_discard(temp_id: int):
    return _discard(_mine(TemporaryReport, temp_id))
