"""The per-jurisdiction annual deadline page (DOMAIN §1.4): a regulator lead sets the day for a report year."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.auth.permissions import Permission, require
from portal.core.clock import china_today
from portal.disclosures import deadlines
from portal.disclosures.views import _fail, bp
from portal.errors import DomainError
from portal.extensions import db


@bp.app_template_global("current_annual_deadline")
def current_annual_deadline(region_code: str | None) -> dict | None:
    """For the dashboard: the report year now being filed and its deadline in the jurisdiction."""
    if not region_code:
        return None
    year = china_today().year - 1
    return {"year": year, "due_on": deadlines.annual_due(region_code, year)}


@bp.route("/regulator/disclosure-deadlines", methods=["GET", "POST"])
@require(Permission.DISCLOSURE_DEADLINES)
def deadline_admin():
    today = china_today()
    years = [today.year - 1, today.year]
    jurisdiction = current_user.jurisdiction_code or ""
    if request.method == "POST":
        try:
            row, redated, kept = deadlines.set_deadline(current_user, request.form.get("year", type=int),
                                                        request.form.get("due_on", ""), today)
            db.session.commit()
        except DomainError as exc:
            _fail(exc)
        else:
            flash(_("The annual reports for %(y)d of %(r)s are due on %(d)s. %(n)d pending obligations were re-dated; "
                    "%(k)d already graded obligations keep their status.", y=row.year, r=row.region_code,
                    d=row.due_on.isoformat(), n=redated, k=kept), "success")
        return redirect(url_for(".deadline_admin"))
    current = [{"year": y, "due_on": deadlines.annual_due(jurisdiction, y) if jurisdiction else None,
                "row": deadlines.configured(jurisdiction, y) if jurisdiction else None} for y in years]
    return render_template("disclosures/deadlines.html", current=current, years=years, today=today,
                           rows=deadlines.deadlines_in(jurisdiction), can_set=deadlines.can_set(current_user))
