"""Admin page for the working-day calendar: see each day's status and its source, add or remove overrides."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from portal.auth.permissions import Permission, has_permission, require
from portal.core.clock import china_today
from portal.errors import DomainError
from portal.extensions import db
from portal.workdays import importing, services
from portal.workdays.forms import DeleteOverrideForm, MonthForm, OverrideForm, ScheduleImportForm

bp = Blueprint("workdays", __name__, url_prefix="/admin/calendar")


@bp.app_template_global("deadline_provisional")
def deadline_provisional(day) -> bool:
    """For templates: a working-day deadline on `day` counted without the year's official holidays."""
    return services.is_provisional(day) if isinstance(day, date) else False


@bp.app_template_global("provisional_mark")
def provisional_mark(day) -> Markup:
    """The badge shown beside a working-day deadline that is provisional (empty otherwise)."""
    if not deadline_provisional(day):
        return Markup("")
    title = _("The official holidays of %(year)d are not in the calendar yet; this date may still move.",
              year=day.year)
    return Markup('<span class="badge provisional" title="{}">{}</span>').format(
        title, _("provisional"))


@bp.app_context_processor
def _calendar_gaps():
    """Administrators see, on every page, the years ahead whose holidays the calendar does not know."""
    def gaps() -> list[int]:
        if not getattr(current_user, "is_authenticated", False) or not has_permission(current_user,
                                                                                        Permission.CALENDAR_MANAGE):
            return []
        return services.gap_years(china_today())
    return {"calendar_gap_years": gaps}


def _shown_month() -> tuple[int, int]:
    form = MonthForm(request.args)
    today = china_today()
    if not form.validate():
        return today.year, today.month
    return form.year.data or today.year, form.month.data or today.month


def _render(year: int, month: int, form: OverrideForm, status: int = 200, *, import_form=None,
            import_errors=(), import_failure: str = ""):
    prev_month = (year - 1, 12) if month == 1 else (year, month - 1)
    next_month = (year + 1, 1) if month == 12 else (year, month + 1)
    known = services.known_years()
    return render_template(
        "workdays/admin_calendar.html", year=year, month=month, weeks=services.month_days(year, month),
        special=services.special_days(year), overrides=services.year_overrides(year), form=form,
        delete_form=DeleteOverrideForm(), prev_month=prev_month, next_month=next_month,
        known_first=known.start, known_last=known.stop - 1,
        year_known=services.calendar().has_official_data(year), imported=services.imported_year(year),
        import_form=import_form or ScheduleImportForm(formdata=None, year=year), import_errors=import_errors,
        import_failure=import_failure,
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


@bp.post("/import")
@require(Permission.CALENDAR_MANAGE)
def import_schedule():
    """One year's official schedule in one upload: every row checked, nothing written unless all are right."""
    form = ScheduleImportForm()
    override_form = OverrideForm(formdata=None, kind="rest")
    today = china_today()
    if not form.validate_on_submit():
        year = form.year.data if isinstance(form.year.data, int) and 2000 <= form.year.data <= 2100 else today.year
        return _render(year, 1, override_form, 400, import_form=form)
    year = form.year.data
    upload = form.file.data
    data = upload.stream.read(importing.MAX_BYTES + 1) if upload else b""
    try:
        rows, errors = importing.parse(data, year)
    except importing.ImportFailed as exc:
        return _render(year, 1, override_form, 400, import_form=form, import_failure=str(exc))
    if errors:
        return _render(year, 1, override_form, 400, import_form=form, import_errors=errors)
    result = importing.apply(year, rows, getattr(upload, "filename", "") or "", actor=current_user)
    db.session.commit()
    flash(_("The official schedule of %(year)d was imported: %(h)d holidays and %(m)d make-up working days. "
            "Deadlines recomputed: %(n)d.", year=year, h=result.holidays, m=result.makeup_days,
            n=len(result.recomputed)), "success")
    return redirect(url_for(".admin_calendar", year=year, month=1))


@bp.get("/template.csv")
@require(Permission.CALENDAR_MANAGE)
def schedule_template():
    return Response(importing.template_csv(), mimetype="text/csv", headers={
        "Content-Disposition": "attachment; filename=holiday-schedule-template.csv", "Cache-Control": "no-store"})
