"""Permit execution reports for the enterprise, the permit state for regulators, and the annual deadline per year
for a lead (DOMAIN §5.11)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.auth.permissions import Permission, require
from portal.auth.rules import can_edit_registry
from portal.core.clock import china_today
from portal.core.forms import apply_domain_error
from portal.enterprises.forms import PERMIT_CLASS_LABELS
from portal.enterprises.models import Enterprise, Permit
from portal.errors import DomainError
from portal.extensions import db
from portal.permits import forms as F
from portal.permits import services
from portal.permits.models import ExecutionReport, ReportStatus

bp = Blueprint("permits", __name__)


@bp.app_context_processor
def _labels():
    return {"PERMIT_L": {"klass": PERMIT_CLASS_LABELS, "state": F.STATE_LABELS, "frequency": F.FREQUENCY_LABELS,
                         "status": F.REPORT_STATUS_LABELS},
            "report_due": services.effective_due, "report_provisional": services.provisional}


def _own_enterprise() -> Enterprise:
    if current_user.enterprise_id is None:
        abort(403)
    return db.get_or_404(Enterprise, current_user.enterprise_id)


def _my_page(ent: Enterprise, forms: dict | None = None, status: int = 200):
    reports = services.reports_of(ent.id)
    forms = forms or {}
    for report in reports:
        if report.status in (ReportStatus.PENDING, ReportStatus.MISSING) and report.id not in forms:
            forms[report.id] = F.FileReportForm(prefix=f"r{report.id}", formdata=None)
    return render_template("permits/my_reports.html", ent=ent, reports=reports, forms=forms,
                           today=china_today()), status


@bp.get("/my/permit-reports")
@require(Permission.MONITORING_SUBMIT)
def my_reports():
    return _my_page(_own_enterprise())


@bp.post("/my/permit-reports/<int:execution_report_id>")
@require(Permission.MONITORING_SUBMIT)
def file_report(execution_report_id: int):
    ent = _own_enterprise()
    report = db.session.get(ExecutionReport, execution_report_id)
    if report is None or report.enterprise_id != ent.id:
        abort(404)
    form = F.FileReportForm(prefix=f"r{report.id}")
    if form.validate_on_submit():
        try:
            services.file_report(current_user, report, {"submitted_on": form.submitted_on.data,
                                                        "receipt_no": form.receipt_no.data, "note": form.note.data})
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            apply_domain_error(form, exc)
        else:
            if report.status == ReportStatus.LATE:
                flash(_("Recorded. The report was filed after its deadline: this is recorded as a finding for the "
                        "regulator to review."), "warning")
            else:
                flash(_("Recorded as filed on time."), "success")
            return redirect(url_for(".my_reports"))
    if form.submitted_on.raw_data and form.submitted_on.data is None and not form.submitted_on.errors:
        form.submitted_on.errors = [_("Enter the date as YYYY-MM-DD.")]
    return _my_page(ent, {report.id: form}, 400)


@bp.route("/regulator/permits/<int:permit_id>/status", methods=["GET", "POST"])
@require(Permission.REGISTRY_EDIT)
def permit_status(permit_id: int):
    permit = db.get_or_404(Permit, permit_id)
    ent = permit.enterprise
    if not can_edit_registry(current_user.role, current_user.jurisdiction_code, ent.region_code):
        abort(404)
    form = F.StatusForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                services.set_status(current_user, permit, {"status": form.status.data, "since": form.since.data,
                                                           "statement": form.statement.data})
                db.session.commit()
            except DomainError as exc:
                db.session.rollback()
                apply_domain_error(form, exc)
            else:
                flash(_("The permit's state was changed."), "success")
                return redirect(url_for(".permit_status", permit_id=permit.id))
        status = 400
    elif not form.is_submitted():
        form.status.data = permit.status.value
    return render_template("permits/status.html", permit=permit, ent=ent, form=form, today=china_today(),
                           shutdowns=services.shutdowns_of([permit.id]).get(permit.id, []),
                           reports=[r for r in services.reports_of(ent.id) if r.permit_id == permit.id]), status


@bp.route("/regulator/permit-report-deadlines", methods=["GET", "POST"])
@require(Permission.DISCLOSURE_DEADLINES)
def deadline_admin():
    today = china_today()
    years = [today.year - 1, today.year]
    jurisdiction = current_user.jurisdiction_code or ""
    if request.method == "POST":
        try:
            row, redated, kept = services.set_deadline(current_user, request.form.get("year", type=int),
                                                       request.form.get("due_on", ""), today)
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "error")
        else:
            flash(_("The annual execution reports for %(y)d of %(r)s are due on %(d)s. %(n)d pending obligations "
                    "were re-dated; %(k)d already judged obligations keep their status.", y=row.year,
                    r=row.region_code, d=row.due_on.isoformat(), n=redated, k=kept), "success")
        return redirect(url_for(".deadline_admin"))
    current = [{"year": y, "due_on": services.annual_due(jurisdiction, y) if jurisdiction else None,
                "row": services.configured(jurisdiction, y) if jurisdiction else None} for y in years]
    return render_template("permits/deadlines.html", current=current, years=years,
                           rows=services.deadlines_in(jurisdiction), can_set=services.can_set(current_user))


@bp.app_template_global("permit_public_status")
def permit_public_status(enterprise_id: int) -> list[dict]:
    """For the public enterprise page: each permit's state by name, an ongoing shutdown, and its execution reports
    (next one due, how many were late or not filed). Two small queries per page."""
    return services.public_status(enterprise_id, china_today())
