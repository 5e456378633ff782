"""Enterprise list pages (企业名单): the prefecture bureau drafts, gives notice and publishes; the public reads it."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.auth.permissions import Permission, require
from portal.core.clock import china_today
from portal.disclosures import art8, lists, province, rules
from portal.disclosures.models import DisclosureList, DisclosureListEntry, ListStatus
from portal.disclosures.views import _fail, bp
from portal.errors import DomainError
from portal.extensions import db


@bp.app_template_global("disclosure_lists_of")
def disclosure_lists_of(enterprise_id: int) -> list[DisclosureList]:
    return lists.public_lists_of(enterprise_id)


def _visible(list_id: int) -> DisclosureList:
    lst = db.get_or_404(DisclosureList, list_id)
    if not lists.can_view(current_user, lst):
        abort(404)
    return lst


def _editable(list_id: int) -> DisclosureList:
    lst = _visible(list_id)
    if not lists.can_edit(current_user, lst):
        abort(403)
    return lst


def _act(lst: DisclosureList, call, done: str):
    try:
        call()
        db.session.commit()
    except DomainError as exc:
        _fail(exc)
    else:
        flash(done, "success")
    return redirect(url_for(".list_detail", list_id=lst.id))


@bp.get("/regulator/disclosure-lists")
@require(Permission.DISCLOSURE_SUPERVISE)
def list_index():
    this_year = china_today().year
    return render_template("disclosures/list_index.html", lists=lists.lists_for(current_user.jurisdiction_code),
                           can_create=lists.can_draw_up(current_user), years=[this_year, this_year + 1])


@bp.post("/regulator/disclosure-lists")
@require(Permission.DISCLOSURE_SUPERVISE)
def list_create():
    year = request.form.get("year", type=int)
    this_year = china_today().year
    if year not in (this_year, this_year + 1):
        flash(_("Choose a list year from the list."), "error")
        return redirect(url_for(".list_index"))
    try:
        lst = lists.create_list(current_user, year)
        db.session.commit()
    except DomainError as exc:
        _fail(exc)
        return redirect(url_for(".list_index"))
    return redirect(url_for(".list_detail", list_id=lst.id))


@bp.get("/regulator/disclosure-lists/<int:list_id>")
@require(Permission.DISCLOSURE_SUPERVISE)
def list_detail(list_id: int):
    lst = _visible(list_id)
    return render_template("disclosures/list_detail.html", lst=lst, editable=lists.can_edit(current_user, lst)
                           and lst.status != ListStatus.PUBLISHED, bases=rules.BASES, triggers=rules.ART8_TRIGGERS,
                           today=china_today(), art8_info=_art8_info(lst),
                           province_state=province.list_report_state(lst, china_today()),
                           can_report=lists.can_edit(current_user, lst))


def _art8_info(lst: DisclosureList) -> dict[int, dict]:
    return art8.list_basis([e.enterprise_id for e in lst.entries], lst.year)


@bp.post("/regulator/disclosure-lists/<int:list_id>/entries")
@require(Permission.DISCLOSURE_SUPERVISE)
def list_add_entry(list_id: int):
    lst = _editable(list_id)
    return _act(lst, lambda: lists.add_entry(current_user, lst, request.form.get("uscc", ""),
                                             request.form.getlist("bases"), request.form.getlist("triggers"),
                                             request.form.get("note", ""), request.form.get("document_no", "")),
                _("The enterprise is on the list."))


@bp.post("/regulator/disclosure-lists/<int:list_id>/art8-periods")
@require(Permission.DISCLOSURE_SUPERVISE)
def list_add_art8_periods(list_id: int):
    lst = _editable(list_id)
    return _act(lst, lambda: lists.add_period_enterprises(current_user, lst),
                _("Enterprises inside an Art. 8 period are on the list."))


@bp.route("/regulator/disclosure-lists/art8-events", methods=["GET", "POST"])
@require(Permission.DISCLOSURE_SUPERVISE)
def art8_events():
    """Art. 8 events of listed companies and bond issuers of the jurisdiction, with the list periods they open."""
    today = china_today()
    if request.method == "POST":
        try:
            art8.record_event(current_user, request.form.get("uscc", ""), request.form.get("basis", ""),
                              request.form.get("trigger", ""), request.form.get("year", type=int),
                              request.form.get("document_no", ""), today)
            db.session.commit()
        except DomainError as exc:
            _fail(exc)
        else:
            flash(_("The Art. 8 event is recorded."), "success")
        return redirect(url_for(".art8_events"))
    events = art8.events_in(current_user.jurisdiction_code)
    spans = {ent_id: art8.periods_of(rows)
             for ent_id, rows in art8.events_by_enterprise({e.enterprise_id for e in events}).items()}
    return render_template("disclosures/art8_events.html", events=events, spans=spans, today=today,
                           bases={b: rules.BASES[b] for b in art8.ART8_BASES}, triggers=rules.ART8_TRIGGERS,
                           first_year=art8.FIRST_EVENT_YEAR)


@bp.post("/regulator/disclosure-lists/<int:list_id>/key-units")
@require(Permission.DISCLOSURE_SUPERVISE)
def list_add_key_units(list_id: int):
    lst = _editable(list_id)
    return _act(lst, lambda: lists.add_key_units(current_user, lst), _("The year's key units are on the list."))


@bp.post("/regulator/disclosure-lists/<int:list_id>/entries/<int:entry_id>/remove")
@require(Permission.DISCLOSURE_SUPERVISE)
def list_remove_entry(list_id: int, entry_id: int):
    lst = _editable(list_id)
    entry = db.get_or_404(DisclosureListEntry, entry_id)
    if entry.list_id != lst.id:
        abort(404)
    return _act(lst, lambda: lists.remove_entry(current_user, lst, entry), _("The enterprise was taken off the list."))


@bp.post("/regulator/disclosure-lists/<int:list_id>/notice")
@require(Permission.DISCLOSURE_SUPERVISE)
def list_start_notice(list_id: int):
    lst = _editable(list_id)
    return _act(lst, lambda: lists.start_notice(current_user, lst, china_today()), _("The public notice has started."))


@bp.post("/regulator/disclosure-lists/<int:list_id>/publish")
@require(Permission.DISCLOSURE_SUPERVISE)
def list_publish(list_id: int):
    lst = _editable(list_id)
    return _act(lst, lambda: lists.publish_list(current_user, lst, china_today()), _("The list is published."))


@bp.get("/disclosure-lists/<int:list_id>")
def list_public(list_id: int):
    """Public: a list under notice (for comments) or published; drafts stay internal."""
    lst = db.get_or_404(DisclosureList, list_id)
    if lst.status == ListStatus.DRAFT:
        abort(404)
    return render_template("disclosures/list_public.html", lst=lst, bases=rules.BASES, triggers=rules.ART8_TRIGGERS,
                           art8_info=_art8_info(lst))


@bp.get("/disclosure-lists")
def list_public_index():
    """Public: every list under notice or published, newest year first."""
    stmt = (db.select(DisclosureList).where(DisclosureList.status != ListStatus.DRAFT)
            .order_by(DisclosureList.year.desc(), DisclosureList.region_code))
    return render_template("disclosures/list_public_index.html", lists=db.session.scalars(stmt).all())


from portal.disclosures import province_views  # noqa: E402,F401  (routes on this blueprint)
from portal.disclosures import deadline_views  # noqa: E402,F401  (routes on this blueprint)
