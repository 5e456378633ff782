"""Admin page for the working-day calendar: see each day's status and its source, add or remove overrides."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.auth.permissions import Permission, require
from portal.core.clock import china_today
from portal.errors import DomainError
from portal.extensions import db
from portal.workdays import services
from portal.workdays.forms import DeleteOverrideForm, MonthForm, OverrideForm

bp = Blueprint("workdays", __name__, url_prefix="/admin/calendar")


def _shown_month() -> tuple[int, int]:
    form = MonthForm(request.args)
    today = china_today()
    if not form.validate():
        return today.year, today.month
    return form.year.data or today.year, form.month.data or today.month


def _render(year: int, month: int, form: OverrideForm, status: int = 200):
    prev_month = (year - 1, 12) if month == 1 else (year, month - 1)
    next_month = (year + 1, 1) if month == 12 else (year, month + 1)
    known = services.known_years()
    return render_template(
        "workdays/admin_calendar.html", year=year, month=month, weeks=services.month_days(year, month),
        special=services.special_days(year), overrides=services.year_overrides(year), form=form,
        delete_form=DeleteOverrideForm(), prev_month=prev_month, next_month=next_month,
        known_first=known.start, known_last=known.stop - 1, year_known=year in known,
    ), status


@bp.get("")
@require(Permission.CALENDAR_MANAGE)
def admin_calendar():
    year, month = _shown_month()
    form = OverrideForm(formdata=None, kind="rest")
    return _render(year, month, form)


@bp.post("/overrides")
@require(Permission.CALENDAR_MANAGE)
def save_override():
    form = OverrideForm()
    if not form.validate_on_submit():
        day = form.day.data if isinstance(form.day.data, date) else china_today()
        return _render(day.year, day.month, form, 400)
    try:
        services.set_override(form.day.data, form.kind.data == "workday", form.note.data or "", actor=current_user)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for(".admin_calendar", year=form.day.data.year, month=form.day.data.month))
    db.session.commit()
    flash(_("The calendar entry for %(day)s was saved.", day=form.day.data.isoformat()), "success")
    return redirect(url_for(".admin_calendar", year=form.day.data.year, month=form.day.data.month))


@bp.post("/overrides/<day>/delete")
@require(Permission.CALENDAR_MANAGE)
def delete_override(day: str):
    try:
        parsed = date.fromisoformat(day)
    except ValueError:
        parsed = None
    form = DeleteOverrideForm()
    if parsed is None or not form.validate_on_submit():
        flash(_("The entry could not be removed: reload the page and try again."), "error")
        return redirect(url_for(".admin_calendar"))
    try:
        services.remove_override(parsed, actor=current_user)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for(".admin_calendar", year=parsed.year, month=parsed.month))
    db.session.commit()
    flash(_("The calendar entry for %(day)s was removed.", day=parsed.isoformat()), "success")
    return redirect(url_for(".admin_calendar", year=parsed.year, month=parsed.month))
