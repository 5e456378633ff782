"""Background import pages: progress (no-JS refresh plus a small script polling the JSON status), the preview or
the errors once checked, the confirmation, the result. The page and the JSON status carry the same state label and
row count text, so the script shows the server's (translated) words."""
from __future__ import annotations

from datetime import date, datetime
from types import SimpleNamespace

from flask import abort, current_app, flash, jsonify, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from portal.auth.permissions import Permission, require
from portal.errors import DomainError
from portal.extensions import db
from portal.monitoring import forms, imports
from portal.monitoring.impact import Impact
from portal.monitoring.models import ImportJob, ImportStatus
from portal.monitoring.views import bp

STATE_LABELS = {
    ImportStatus.QUEUED: _l("Waiting to be checked"),
    ImportStatus.CHECKING: _l("Checking the rows"),
    ImportStatus.CHECKED: _l("Checked: confirm to publish"),
    ImportStatus.REJECTED: _l("Problems found; nothing was saved"),
    ImportStatus.COMMIT_QUEUED: _l("Waiting to be saved"),
    ImportStatus.WRITING: _l("Saving every row (all or nothing)"),
    ImportStatus.DONE: _l("Saved"),
    ImportStatus.FAILED: _l("Failed; nothing was saved"),
}


def _own_job(import_id: int) -> ImportJob:
    job = db.get_or_404(ImportJob, import_id)
    if current_user.enterprise_id is None or job.enterprise_id != current_user.enterprise_id:
        abort(404)
    return job


def _as_check(job: ImportJob) -> SimpleNamespace:
    """The stored check in the shape monitoring/preview.html shows."""
    errors = [SimpleNamespace(line=line, column=column, message=message) for line, column, message in job.errors]
    preview = [SimpleNamespace(line=r[0], outlet=r[1], pollutant=r[2], sampled_at=datetime.fromisoformat(r[3]),
                               value=r[4], completed_on=date.fromisoformat(r[5]), flag=r[6]) for r in job.preview]
    groups = {(date.fromisoformat(d), lab, method): n for d, lab, method, n in job.groups}
    return SimpleNamespace(rows=job.rows_total, errors=errors, error_count=job.error_count, preview=preview,
                           groups=groups, impact=Impact.from_json(job.impact))


def _status(job: ImportJob) -> dict:
    """imports.status_json plus the texts shown on the page. Writing with nothing reported yet (always so on
    SQLite, which reports no progress while writing) leaves the bar indeterminate instead of stuck at 0."""
    status = imports.status_json(job)
    if job.status == ImportStatus.WRITING and not job.rows_done:
        status["percent"] = None
    count = ""
    if job.status == ImportStatus.CHECKING:
        count = _("%(n)d rows checked", n=job.rows_done)
    elif job.status == ImportStatus.WRITING and job.rows_done:
        count = _("%(n)d of %(t)d rows saved", n=job.rows_done, t=job.rows_total)
    status.update(label=str(STATE_LABELS[job.status]), count_text=count)
    return status


@bp.get("/monitoring/my/imports/<int:import_id>")
@require(Permission.MONITORING_SUBMIT)
def import_page(import_id: int):
    job = _own_job(import_id)
    return render_template("monitoring/import.html", job=job, status=_status(job),
                           check=_as_check(job), filename=job.filename, commit_form=forms.CloseForm(),
                           running=job.status in imports.RUNNING + imports.WAITING)


@bp.get("/monitoring/my/imports/<int:import_id>/status.json")
@require(Permission.MONITORING_SUBMIT)
def import_status(import_id: int):
    response = jsonify(_status(_own_job(import_id)))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/monitoring/my/imports/<int:import_id>/commit")
@require(Permission.MONITORING_SUBMIT)
def import_commit(import_id: int):
    job = _own_job(import_id)
    if forms.CloseForm().validate_on_submit():
        try:
            imports.request_commit(job)
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "error")
        else:
            db.session.commit()
            imports.start_worker(current_app._get_current_object())
    return redirect(url_for(".import_page", import_id=job.id))
