"""Flag pages and workflow steps: regulators of the jurisdiction review, dismiss, warn, record a check and an
outcome; the enterprise sees a flag once warned and answers it."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.auth.permissions import Permission, require
from portal.core.forms import apply_domain_error
from portal.errors import DomainError, NotFound
from portal.extensions import db
from portal.integrity import forms, rules, services, texts
from portal.integrity.models import IntegrityFlag
from portal.integrity.rules import FlagState
from portal.integrity.views import bp


def _regulator_flag(flag_id: int) -> IntegrityFlag:
    try:
        return services.get_for_regulator(current_user, flag_id)
    except NotFound:
        abort(404)


def _enterprise_flag(flag_id: int) -> IntegrityFlag:
    try:
        return services.get_for_enterprise(current_user, flag_id)
    except NotFound:
        abort(404)


def _chart(flag: IntegrityFlag) -> dict:
    """What static/js/integrity-chart.js draws: the window, the threshold and the flagged span."""
    return {"series": flag.series or {}, "threshold": flag.threshold, "window": [flag.window_start.isoformat(),
                                                                               flag.window_end.isoformat()],
            "code": flag.pollutant_code}


def _page(flag: IntegrityFlag, regulator: bool, status: int = 200, **forms_):
    defaults = {"note_form": forms.NoteForm(prefix="n"), "reason_form": forms.ReasonForm(prefix="d"),
                "inspection_form": forms.InspectionForm(prefix="i"), "outcome_form": forms.OutcomeForm(prefix="o"),
                "answer_form": forms.AnswerForm(prefix="a")}
    defaults.update(forms_)
    allowed = {s.value for s in rules.TRANSITIONS[flag.state]}
    return render_template("integrity/flag.html", flag=flag, regulator=regulator, allowed=allowed,
                           spec=rules.RULES[flag.rule_id], title=texts.RULE_TITLES[flag.rule_id],
                           words=texts.RULE_WORDS[flag.rule_id], states=texts.STATE_LABELS,
                           notice=texts.CLUE_NOTICE, chart=_chart(flag), **defaults), status


@bp.get("/regulator/integrity")
@require(Permission.MONITORING_SUPERVISE)
def queue():
    raw_state, rule_id = request.args.get("state", ""), request.args.get("rule", "")
    state = FlagState(raw_state) if raw_state in {s.value for s in FlagState} else None
    items = services.regulator_queue(current_user, state=state, rule_id=rule_id or None)
    return render_template("integrity/flags.html", items=items, regulator=True, titles=texts.RULE_TITLES,
                           states=texts.STATE_LABELS, state=state.value if state else "",
                           rule=rule_id if rule_id in rules.RULES else "")


@bp.get("/regulator/integrity/<int:flag_id>")
@require(Permission.MONITORING_SUPERVISE)
def flag(flag_id: int):
    return _page(_regulator_flag(flag_id), True)


def _step(flag_id: int, form, name: str, action, done: str):
    item = _regulator_flag(flag_id)
    if not form.validate_on_submit():
        return _page(item, True, 400, **{name: form})
    try:
        action(item)
    except DomainError as exc:
        db.session.rollback()
        apply_domain_error(form, exc)
        return _page(db.session.get(IntegrityFlag, flag_id), True, 400, **{name: form})
    db.session.commit()
    flash(done, "success")
    return redirect(url_for(".flag", flag_id=flag_id))


@bp.post("/regulator/integrity/<int:flag_id>/dismiss")
@require(Permission.MONITORING_SUPERVISE)
def dismiss(flag_id: int):
    form = forms.ReasonForm(prefix="d")
    return _step(flag_id, form, "reason_form", lambda f: services.dismiss(f, current_user, form.reason.data),
                 _("The flag is dismissed; the reason is kept."))


@bp.post("/regulator/integrity/<int:flag_id>/warn")
@require(Permission.MONITORING_SUPERVISE)
def warn(flag_id: int):
    form = forms.NoteForm(prefix="n")
    return _step(flag_id, form, "note_form", lambda f: services.warn(f, current_user, form.note.data or ""),
                 _("The enterprise is warned and can now see this flag and answer it."))


@bp.post("/regulator/integrity/<int:flag_id>/resolve")
@require(Permission.MONITORING_SUPERVISE)
def resolve(flag_id: int):
    form = forms.NoteForm(prefix="n")
    return _step(flag_id, form, "note_form", lambda f: services.resolve(f, current_user, form.note.data or ""),
                 _("The flag is closed after the enterprise's answer."))


@bp.post("/regulator/integrity/<int:flag_id>/inspect")
@require(Permission.MONITORING_SUPERVISE)
def inspect(flag_id: int):
    form = forms.InspectionForm(prefix="i")
    return _step(flag_id, form, "inspection_form",
                 lambda f: services.record_inspection(f, current_user, form.inspected_on.data, form.inspectors.data,
                                                      form.note.data),
                 _("The on-site check is recorded."))


@bp.post("/regulator/integrity/<int:flag_id>/outcome")
@require(Permission.MONITORING_SUPERVISE)
def outcome(flag_id: int):
    form = forms.OutcomeForm(prefix="o")
    return _step(flag_id, form, "outcome_form",
                 lambda f: services.record_outcome(f, current_user, form.outcome.data == "confirmed",
                                                   form.note.data),
                 _("The outcome is recorded."))


@bp.get("/my/integrity")
@require(Permission.MONITORING_SUBMIT)
def my_flags():
    if current_user.enterprise_id is None:
        abort(403)
    return render_template("integrity/flags.html", items=services.enterprise_flags(current_user), regulator=False,
                           titles=texts.RULE_TITLES, states=texts.STATE_LABELS, state="", rule="")


@bp.get("/my/integrity/<int:flag_id>")
@require(Permission.MONITORING_SUBMIT)
def my_flag(flag_id: int):
    return _page(_enterprise_flag(flag_id), False)


@bp.post("/my/integrity/<int:flag_id>/answer")
@require(Permission.MONITORING_SUBMIT)
def answer(flag_id: int):
    item = _enterprise_flag(flag_id)
    form = forms.AnswerForm(prefix="a")
    if not form.validate_on_submit():
        return _page(item, False, 400, answer_form=form)
    try:
        services.answer(item, current_user, form.answer.data)
    except DomainError as exc:
        db.session.rollback()
        apply_domain_error(form, exc)
        return _page(db.session.get(IntegrityFlag, flag_id), False, 400, answer_form=form)
    db.session.commit()
    flash(_("Your answer was sent to the regulator."), "success")
    return redirect(url_for(".my_flag", flag_id=flag_id))
