"""Reports to the province: the published list (Art. 9) and the yearly work report (Art. 23); the province's view of
its prefectures' reports with their timeliness."""
from __future__ import annotations

import json

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.auth.permissions import Permission, require
from portal.core.clock import china_now, china_today
from portal.disclosures import lists, province
from portal.disclosures.models import DisclosureList, WorkReport, WorkReportStatus
from portal.disclosures.views import _fail, bp
from portal.errors import DomainError
from portal.extensions import db


@bp.post("/regulator/disclosure-lists/<int:list_id>/report-to-province")
@require(Permission.DISCLOSURE_SUPERVISE)
def list_report_to_province(list_id: int):
    lst = db.get_or_404(DisclosureList, list_id)
    if not lists.can_view(current_user, lst):
        abort(404)
    if not lists.can_edit(current_user, lst):
        abort(403)
    try:
        province.report_list(current_user, lst, china_today())
        db.session.commit()
    except DomainError as exc:
        _fail(exc)
    else:
        flash(_("The list is reported to the province."), "success")
    return redirect(url_for(".list_detail", list_id=lst.id))


@bp.get("/regulator/disclosure-province-reports")
@require(Permission.DISCLOSURE_SUPERVISE)
def province_reports():
    today = china_today()
    year = request.args.get("year", type=int)
    year = year if year is not None and 2022 <= year <= today.year + 1 else today.year
    jurisdiction = current_user.jurisdiction_code or ""
    return render_template("disclosures/province_reports.html", rows=province.overview(jurisdiction, year, today),
                           year=year, years=list(range(today.year, 2021, -1)), today=today,
                           can_open=len(jurisdiction) == 4, last_year=today.year - 1)


@bp.post("/regulator/disclosure-work-reports")
@require(Permission.DISCLOSURE_SUPERVISE)
def work_report_open():
    try:
        report = province.open_work_report(current_user, request.form.get("year", type=int), china_today())
        db.session.commit()
    except DomainError as exc:
        _fail(exc)
        return redirect(url_for(".province_reports"))
    return redirect(url_for(".work_report", work_report_id=report.id))


def _visible(work_report_id: int) -> WorkReport:
    report = db.get_or_404(WorkReport, work_report_id)
    if not province.can_view_region(current_user, report.region_code):
        abort(404)
    return report


@bp.route("/regulator/disclosure-work-reports/<int:work_report_id>", methods=["GET", "POST"])
@require(Permission.DISCLOSURE_SUPERVISE)
def work_report(work_report_id: int):
    report = _visible(work_report_id)
    editable = province.can_submit(current_user, report.region_code) and report.status == WorkReportStatus.DRAFT
    if request.method == "POST":
        if not province.can_submit(current_user, report.region_code):
            abort(403)
        supervision, other = request.form.get("supervision_text", ""), request.form.get("other_text", "")
        try:
            if request.form.get("action") == "submit":
                province.submit_work_report(current_user, report, supervision, other, china_now())
                done = _("The work report is submitted to the province.")
            else:
                province.save_work_report(current_user, report, supervision, other)
                done = _("The work report is saved.")
            db.session.commit()
        except DomainError as exc:
            _fail(exc)
        else:
            flash(done, "success")
        return redirect(url_for(".work_report", work_report_id=report.id))
    today = china_today()
    if report.content_json:
        frozen = json.loads(report.content_json)
        figures = frozen["figures"]
    else:
        figures = province.work_figures(report.region_code, report.year, today)
    return render_template("disclosures/work_report.html", report=report, figures=figures, editable=editable,
                           timeliness=province.pr.timeliness(report.due_on, report.submitted_on, today))
