"""Regulator queue of data-error reports: the jurisdiction's open reports with due dates, and the decisions."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.auth.permissions import Permission, require
from portal.core.clock import china_today
from portal.dataerrors import rules, services
from portal.dataerrors.forms import ActionForm
from portal.dataerrors.models import DataErrorReport, Status
from portal.errors import DomainError, NotFound, ValidationFailed
from portal.extensions import db

bp = Blueprint("dataerrors_console", __name__, url_prefix="/console/data-errors")


def _load(data_error_id: int) -> DataErrorReport:
    try:
        return services.get_for_handler(current_user, data_error_id)
    except NotFound:
        abort(404)


@bp.get("")
@require(Permission.DATAERROR_HANDLE)
def queue():
    raw = request.args.get("status", "")
    status = Status(raw) if raw in {s.value for s in Status} else None
    overdue = request.args.get("overdue") == "1"
    today = china_today()
    rows = [(r, rules.sla_state(today, r.due_on, r.status))
            for r in services.queue(current_user, status=status, overdue_only=overdue, today=today)]
    return render_template("dataerrors/console_queue.html", rows=rows, status=raw if status else "",
                           overdue=overdue, statuses=list(Status))


def _render_detail(r: DataErrorReport, form: ActionForm, status: int = 200):
    return render_template("dataerrors/console_detail.html", r=r, form=form,
                           contact=services.contact_of(current_user, r),
                           sla=rules.sla_state(china_today(), r.due_on, r.status),
                           allowed=rules.TRANSITIONS[r.status]), status


@bp.get("/<int:data_error_id>")
@require(Permission.DATAERROR_HANDLE)
def detail(data_error_id: int):
    return _render_detail(_load(data_error_id), ActionForm())


def _decide(data_error_id: int, new: Status, done: str):
    r = _load(data_error_id)
    form = ActionForm()
    if not form.validate():
        return _render_detail(r, form, 400)
    try:
        services.change_status(r, new, current_user, form.note.data or "")
        db.session.commit()
    except ValidationFailed as exc:
        db.session.rollback()
        form.note.errors = list(exc.errors.values())
        return _render_detail(r, form, 400)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for(".detail", data_error_id=data_error_id))
    flash(done, "success")
    return redirect(url_for(".detail", data_error_id=data_error_id))


@bp.post("/<int:data_error_id>/acknowledge")
@require(Permission.DATAERROR_HANDLE)
def acknowledge(data_error_id: int):
    return _decide(data_error_id, Status.ACKNOWLEDGED, _("The report is marked as being checked."))


@bp.post("/<int:data_error_id>/correct")
@require(Permission.DATAERROR_HANDLE)
def correct(data_error_id: int):
    return _decide(data_error_id, Status.CORRECTED, _("The report is closed as corrected."))


@bp.post("/<int:data_error_id>/reject")
@require(Permission.DATAERROR_HANDLE)
def reject(data_error_id: int):
    return _decide(data_error_id, Status.REJECTED, _("The report is closed as not corrected."))
