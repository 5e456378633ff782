"""Refreshing a draft annual report's pre-fill from newer portal data: a preview of every change (the value
pre-filled before, the new one, what happens to the draft's value), then one POST that applies exactly that."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.auth.permissions import Permission, require
from portal.disclosures import copies, prefill
from portal.disclosures.models import AnnualReport
from portal.disclosures.views import _fail, _mine, bp
from portal.errors import DomainError
from portal.extensions import db


@bp.get("/my/disclosures/annual/<int:report_id>/refresh")
@require(Permission.DISCLOSURE_EDIT)
def annual_refresh(report_id: int):
    report = _mine(AnnualReport, report_id)
    if not report.is_draft:
        abort(404)
    return render_template("disclosures/annual_refresh.html", report=report, changes=prefill.refresh_preview(report),
                           labels=copies.field_labels())


@bp.post("/my/disclosures/annual/<int:report_id>/refresh")
@require(Permission.DISCLOSURE_EDIT)
def annual_refresh_apply(report_id: int):
    report = _mine(AnnualReport, report_id)
    if not report.is_draft:
        abort(404)
    expected = request.form.get("expected", type=int)
    try:
        changes = prefill.apply_refresh(current_user, report, expected)
    except DomainError as exc:
        _fail(exc)
        return redirect(url_for(".annual_refresh", report_id=report_id))
    db.session.commit()
    flash(_("The pre-filled data were refreshed: %(n)d change(s) applied.", n=len(changes)), "success")
    return redirect(url_for(".annual_overview", report_id=report_id))
