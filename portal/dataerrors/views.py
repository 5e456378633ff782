"""Public data-error pages: the report form reached from the enterprise page, and the status page."""
from __future__ import annotations

import logging
import secrets

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from portal.dataerrors import rules, services
from portal.dataerrors.forms import SECTION_LABELS, STATUS_LABELS, ReportForm, TrackForm
from portal.dataerrors.models import Section
from portal.enterprises.models import Enterprise
from portal.enterprises.rules import check_uscc
from portal.errors import NotFound, ValidationFailed
from portal.extensions import db, limiter

log = logging.getLogger(__name__)
bp = Blueprint("dataerrors", __name__)


@bp.app_context_processor
def _labels():
    return {"DATAERROR_SECTIONS": {s.value: label for s, label in SECTION_LABELS.items()},
            "DATAERROR_STATUSES": {s.value: label for s, label in STATUS_LABELS.items()},
            "format_tracking_code": rules.format_code}


def _rate_limit() -> str:
    """The public complaint intake's limit unless DATAERROR_RATE_LIMIT is set."""
    return current_app.config.get("DATAERROR_RATE_LIMIT") or current_app.config["COMPLAINT_RATE_LIMIT"]


def _enterprise(uscc: str) -> Enterprise:
    check = check_uscc(uscc)
    ent = db.session.scalar(sa.select(Enterprise).where(Enterprise.uscc == check.value)) if check.ok else None
    if ent is None:
        abort(404)
    return ent


def _render_new(form: ReportForm, ent: Enterprise, status: int = 200):
    return render_template("dataerrors/new.html", form=form, ent=ent), status


@bp.route("/enterprises/<uscc>/data-errors/new", methods=["GET", "POST"])
@limiter.limit(_rate_limit, methods=["POST"])
def new(uscc: str):
    ent = _enterprise(uscc)
    form = ReportForm()
    if request.method == "GET":
        form.submission_key.data = secrets.token_urlsafe(24)
        if request.args.get("section") in {s.value for s in Section}:
            form.section.data = request.args["section"]
        return _render_new(form, ent)
    if form.website.data:
        log.info("data-error intake: honeypot field filled; submission dropped")
        flash(_("The form could not be accepted. Please fill it in again."), "error")
        return _render_new(form, ent, 400)
    if not form.validate():
        return _render_new(form, ent, 400)
    earlier = services.existing_submission(form.submission_key.data)
    if earlier is not None:
        return redirect(url_for(".status", tracking_code=earlier.tracking_code))
    try:
        report = services.submit_report(ent, Section(form.section.data), form.description.data or "",
                                        contact=form.contact.data or "", contact_name=form.contact_name.data or "",
                                        submission_key=form.submission_key.data or None)
        db.session.commit()
    except ValidationFailed as exc:
        db.session.rollback()
        for name, message in exc.errors.items():
            form[name].errors = list(form[name].errors or []) + [message]
        return _render_new(form, ent, 400)
    except IntegrityError:  # the same form sent twice at once: the first one won
        db.session.rollback()
        earlier = services.existing_submission(form.submission_key.data)
        if earlier is None:
            raise
        return redirect(url_for(".status", tracking_code=earlier.tracking_code))
    flash(_("Thank you. Your report was sent to the regulator. Keep the tracking code %(code)s: it is the only "
            "way to see this page again.", code=rules.format_code(report.tracking_code)), "success")
    return redirect(url_for(".status", tracking_code=report.tracking_code))


@bp.get("/data-errors")
def track():
    form = TrackForm(request.args)
    if "code" in request.args and form.validate():
        try:
            report = services.find_by_code(form.code.data)
        except NotFound as exc:
            form.code.errors = [exc.message]
            return render_template("dataerrors/track.html", form=form), 404
        return redirect(url_for(".status", tracking_code=report.tracking_code))
    return render_template("dataerrors/track.html", form=form), 400 if form.errors else 200


@bp.get("/data-errors/<tracking_code>")
def status(tracking_code: str):
    try:
        report = services.find_by_code(tracking_code)
    except NotFound:
        abort(404)
    if report.tracking_code != tracking_code:
        return redirect(url_for(".status", tracking_code=report.tracking_code), 301)
    return render_template("dataerrors/status.html", r=report,
                           sla=rules.sla_state(_today(), report.due_on, report.status))


def _today():
    from portal.core.clock import china_today

    return china_today()
