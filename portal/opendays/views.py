"""Open days: public list and registration (no account), and the enterprise's own pages to publish, change and
cancel open days and to see who registered."""
from __future__ import annotations

import logging
import secrets

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from portal.auth.permissions import Permission, require
from portal.core.clock import china_today
from portal.core.forms import apply_domain_error
from portal.enterprises.models import Enterprise
from portal.errors import DomainError
from portal.extensions import db, limiter
from portal.opendays import rules, services
from portal.opendays.forms import CancelForm, OpenDayForm, RegisterForm
from portal.opendays.models import OpenDay, OpenDayStatus

log = logging.getLogger(__name__)
bp = Blueprint("opendays", __name__)
RECEIPT_KEY = "openday_registered"


def _rate_limit() -> str:
    return current_app.config["OPENDAY_RATE_LIMIT"]


@bp.app_template_global("open_days_section")
def open_days_section(ent: Enterprise) -> dict:
    """For templates/opendays/_enterprise_section.html on the public enterprise page."""
    items = services.open_days_of(ent.id)
    manager = current_user.is_authenticated and rules.can_manage(
        current_user.role.is_enterprise, current_user.enterprise_id, ent.id)
    return {"open_days": items, "taken": services.taken_by_day([o.id for o in items]), "today": china_today(),
            "manager": manager}


bp.add_app_template_global(rules.is_past, "openday_is_past")
bp.add_app_template_global(rules.seats_left, "openday_seats_left")


# --- public -------------------------------------------------------------------------------------------------------

@bp.get("/open-days")
def public_index():
    items = services.upcoming()
    return render_template("opendays/index.html", items=items, taken=services.taken_by_day([o.id for o in items]),
                           today=china_today())


def _render_detail(od: OpenDay, form: RegisterForm, status: int = 200):
    used = services.taken(od.id)
    closed = rules.registration_refusal(cancelled=od.status == OpenDayStatus.CANCELLED,
                                        is_past=rules.is_past(od.day, china_today()), capacity=od.capacity,
                                        taken=used, party_size=1)
    return render_template("opendays/detail.html", od=od, form=form, taken=used,
                           left=rules.seats_left(od.capacity, used), closed=closed, today=china_today()), status


@bp.route("/open-days/<int:open_day_id>", methods=["GET", "POST"])
@limiter.limit(_rate_limit, methods=["POST"])
def detail(open_day_id: int):
    od = db.get_or_404(OpenDay, open_day_id)
    form = RegisterForm()
    if request.method == "GET":
        form.submission_key.data = secrets.token_urlsafe(24)
        return _render_detail(od, form)
    if form.website.data:
        log.info("open-day registration: honeypot field filled; submission dropped")
        flash(_("The form could not be accepted. Please fill it in again."), "error")
        return _render_detail(od, form, 400)
    if services.existing_submission(form.submission_key.data) is not None:
        return redirect(url_for(".registered", open_day_id=od.id))
    if not form.validate():
        return _render_detail(od, form, 400)
    try:
        services.register(od, name=form.name.data, phone=form.phone.data, party_size=form.party_size.data,
                          submission_key=form.submission_key.data or None)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        apply_domain_error(form, exc)
        return _render_detail(od, form, exc.status)
    except IntegrityError:  # the same form sent twice at once: the first one won
        db.session.rollback()
        return redirect(url_for(".registered", open_day_id=od.id))
    session[RECEIPT_KEY] = od.id
    return redirect(url_for(".registered", open_day_id=od.id))


@bp.get("/open-days/<int:open_day_id>/registered")
def registered(open_day_id: int):
    od = db.get_or_404(OpenDay, open_day_id)
    return render_template("opendays/registered.html", od=od, mine=session.get(RECEIPT_KEY) == od.id)


# --- the enterprise's own pages -----------------------------------------------------------------------------------

def _own_enterprise() -> Enterprise:
    if current_user.enterprise_id is None:
        abort(403)
    return db.get_or_404(Enterprise, current_user.enterprise_id)


def _own_open_day(open_day_id: int) -> OpenDay:
    od = db.get_or_404(OpenDay, open_day_id)
    if not rules.can_manage(current_user.role.is_enterprise, current_user.enterprise_id, od.enterprise_id):
        abort(404)
    return od


def _data(form: OpenDayForm) -> rules.OpenDayData:
    return rules.OpenDayData(day=form.day.data, start_time=form.start_time.data, end_time=form.end_time.data,
                             place=form.place.data or "", facility=form.facility.data or "",
                             capacity=form.capacity.data, how_to_register=form.how_to_register.data or "",
                             notes=form.notes.data or "")


@bp.get("/my/open-days")
@require(Permission.OPENDAY_MANAGE)
def my_index():
    ent = _own_enterprise()
    items = services.open_days_of(ent.id)
    return render_template("opendays/my_index.html", ent=ent, items=items, today=china_today(),
                           taken=services.taken_by_day([o.id for o in items]))


@bp.route("/my/open-days/new", methods=["GET", "POST"])
@require(Permission.OPENDAY_MANAGE)
def my_new():
    ent = _own_enterprise()
    form = OpenDayForm()
    if form.validate_on_submit():
        try:
            od = services.publish(current_user, ent, _data(form))
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            apply_domain_error(form, exc)
        else:
            flash(_("The open day is published on your enterprise page."), "success")
            return redirect(url_for(".my_detail", open_day_id=od.id))
    return render_template("opendays/my_form.html", ent=ent, form=form, od=None), 400 if form.errors else 200


@bp.route("/my/open-days/<int:open_day_id>", methods=["GET", "POST"])
@require(Permission.OPENDAY_MANAGE)
def my_detail(open_day_id: int):
    od = _own_open_day(open_day_id)
    form = OpenDayForm(obj=od if request.method == "GET" else None)
    if request.method == "POST" and form.validate():
        try:
            services.update(current_user, od, _data(form))
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            apply_domain_error(form, exc)
        else:
            flash(_("The open day was changed."), "success")
            return redirect(url_for(".my_detail", open_day_id=od.id))
    rows = services.registrations(current_user, od)
    editable = od.status != OpenDayStatus.CANCELLED and not rules.is_past(od.day, china_today())
    return render_template("opendays/my_form.html", ent=od.enterprise, form=form, od=od, rows=rows,
                           editable=editable, cancel_form=CancelForm(),
                           total=sum(r.party_size for r in rows)), 400 if form.errors else 200


@bp.post("/my/open-days/<int:open_day_id>/cancel")
@require(Permission.OPENDAY_MANAGE)
def my_cancel(open_day_id: int):
    od = _own_open_day(open_day_id)
    form = CancelForm()
    try:
        services.cancel(current_user, od, form.reason.data or "")
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        flash(_("The open day was cancelled; the public page says so with your reason."), "success")
    return redirect(url_for(".my_detail", open_day_id=od.id))
