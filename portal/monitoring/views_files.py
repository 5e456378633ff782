"""Laboratory report PDFs: the enterprise attaches one to a published submission; the file is served to the
enterprise, the regulators of its jurisdiction, and everyone once the results are published."""
from __future__ import annotations

from urllib.parse import quote

from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.auth.permissions import Permission, require
from portal.core.storage import serve
from portal.extensions import db
from portal.monitoring import forms, lab_reports
from portal.monitoring.models import LabReport, ManualSubmission
from portal.monitoring.views import bp


@bp.post("/monitoring/my/results/<int:submission_id>/report")
@require(Permission.MONITORING_SUBMIT)
def attach_report(submission_id: int):
    submission = db.get_or_404(ManualSubmission, submission_id)
    if current_user.enterprise_id is None or submission.enterprise_id != current_user.enterprise_id:
        abort(404)
    form = forms.LabReportForm()
    if not form.validate_on_submit() or not form.report.data:
        flash(_("Choose a PDF file."), "error")
        return redirect(url_for(".my_results") + "#published")
    try:
        lab_reports.attach(current_user, submission, form.report.data.filename or "", form.report.data.stream)
    except lab_reports.ReportRejected as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(_("The laboratory report was attached."), "success")
    return redirect(url_for(".my_results") + "#published")


def content_disposition(filename: str) -> str:
    """inline, with an ASCII fallback name and the UTF-8 name (RFC 6266 / 5987) for Chinese file names."""
    fallback = "".join(c if c.isascii() and c.isalnum() or c in "._-" else "_" for c in filename) or "report.pdf"
    return f"inline; filename={fallback}; filename*=UTF-8''{quote(filename)}"


@bp.get("/monitoring/lab-reports/<int:lab_report_id>.pdf")
def lab_report(lab_report_id: int):
    """Public once the results are published; before that only the enterprise and its regulators (404 to others,
    so an unpublished report's existence is not revealed)."""
    report = db.get_or_404(LabReport, lab_report_id)
    if not lab_reports.can_view(current_user, report):
        abort(404)
    response = serve(lab_reports.report_store(), report.stored_path, mimetype="application/pdf",
                     etag=report.sha256, max_age=None)
    if response is None:
        abort(404)
    response.headers["Content-Disposition"] = content_disposition(report.filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
