"""Credit pages: the regulator's evidence desk (record, confirm, withdraw), the public scheme page, the enterprise
page's credit section (a template global)."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from portal.auth.permissions import Permission, require
from portal.credit import forms as F
from portal.credit import evaluation, evidence_desk, ledger_groups, rules, services
from portal.credit.models import (CreditScheme, EvaluationResult, EvaluationRun, Evidence, EvidenceKind,
                                  EvidenceSource, ListStatus, Objection, RunStatus, SchemeStatus)
from portal.core.clock import china_today
from portal.enterprises.models import Enterprise
from portal.enterprises.rules import check_uscc
from portal.errors import DomainError, ValidationFailed
from portal.extensions import db

bp = Blueprint("credit", __name__)
PER_PAGE = 200


@bp.context_processor
def _labels():
    return {"CL": F.template_labels()}


def english() -> bool:
    """Scheme labels are stored in Chinese and English; pick by the request's language."""
    return str(get_locale() or "zh_CN").startswith("en")


@bp.app_template_global("credit_section")
def credit_section(ent: Enterprise) -> dict:
    """Data for templates/credit/_enterprise_section.html on the public enterprise page."""
    view = services.credit_view(ent)
    evidence = {e.evidence_id: e.evidence for e in view.ledger}
    show_what_if = current_user.is_authenticated and rules.can_see_what_if(
        current_user.role, current_user.enterprise_id, current_user.jurisdiction_code, ent.id, ent.region_code)
    may_record = current_user.is_authenticated and rules.can_record_evidence(
        current_user.role, current_user.jurisdiction_code, ent.region_code)
    from portal.credit import lists

    listings = [e for e in lists.entries_of(ent.id) if e.status == ListStatus.LISTED]
    as_of = view.result.as_of if view.result else china_today()
    rows = ledger_groups.group_lines(view.ledger, as_of)
    ledger_page = ledger_groups.page_of(rows, request.args.get("ledger_page"))
    history_page = ledger_groups.page_of(view.history, request.args.get("history_page"))

    def ledger_href(line_id: int) -> str:
        """A link to one ledger line, on the page (and in the group) that holds it."""
        number = ledger_groups.page_holding(rows, line_id) or 1
        return ("" if number == ledger_page.number else f"?ledger_page={number}") + f"#ledger-{line_id}"

    return {"view": view, "evidence": evidence, "show_what_if": show_what_if, "may_record": may_record,
            "listings": listings, "ledger_page": ledger_page, "history_page": history_page,
            "ledger_href": ledger_href, "english": english(), "CL": F.template_labels()}


@bp.app_template_global("credit_grade_label")
def credit_grade_label(version, code: str) -> str:
    """The label of a grade code in the scheme version that produced it."""
    scheme = services.parsed(version)
    if code not in scheme.grade_codes:
        return code
    grade = scheme.grade(code)
    return grade.label_en if english() else grade.label


# --- regulator evidence desk --------------------------------------------------------------------------------------

def _enterprise_in_jurisdiction(enterprise_id: int) -> Enterprise:
    ent = db.get_or_404(Enterprise, enterprise_id)
    if not rules.can_record_evidence(current_user.role, current_user.jurisdiction_code, ent.region_code):
        abort(404)
    return ent


def _evidence_in_jurisdiction(evidence_id: int) -> Evidence:
    evidence = db.get_or_404(Evidence, evidence_id)
    _enterprise_in_jurisdiction(evidence.enterprise_id)
    return evidence


def _desk_filters() -> tuple[evidence_desk.DeskFilters, dict[str, str]]:
    """The desk's filters from the query string; a bad value is reported by field and ignored."""
    errors: dict[str, str] = {}
    f = evidence_desk.DeskFilters()
    status = request.args.get("status", "")
    if status in evidence_desk.STATUS_CHOICES:
        f.status = status
    else:
        errors["status"] = _("Choose one of the listed states.")
    kind = request.args.get("kind", "")
    if kind and kind not in {k.value for k in EvidenceKind}:
        errors["kind"] = _("Choose one of the listed kinds.")
    else:
        f.kind = kind
    source = request.args.get("source", "")
    if source and source not in {s.value for s in EvidenceSource}:
        errors["source"] = _("Choose one of the listed sources.")
    else:
        f.source = source
    code = request.args.get("enterprise", "").strip()
    if code:
        check = check_uscc(code)
        if check.ok:
            f.uscc = check.value
        else:
            errors["enterprise"] = check.error
    try:
        f.page = max(1, int(request.args.get("page", "1")))
    except ValueError:
        errors["page"] = _("The page must be a whole number.")
    return f, errors


def _desk_url(page: int) -> str:
    args = {k: v for k, v in request.args.items() if k != "page"}
    return url_for(".evidence_queue", **args, page=page)


@bp.get("/credit/regulator/evidence")
@require(Permission.CREDIT_EVIDENCE_RECORD)
def evidence_queue():
    uscc = request.args.get("uscc", "").strip()
    if uscc:
        check = check_uscc(uscc)
        ent = (db.session.scalar(sa.select(Enterprise).where(Enterprise.uscc == check.value))
               if check.ok else None)
        if ent is not None and rules.can_record_evidence(current_user.role, current_user.jurisdiction_code,
                                                         ent.region_code):
            return redirect(url_for(".record_evidence", enterprise_id=ent.id))
        flash(check.error if not check.ok else
              _("No enterprise with this credit code is registered in your jurisdiction."), "error")
    f, errors = _desk_filters()
    page = evidence_desk.desk_page(current_user.jurisdiction_code, f)
    response = make_response(render_template(
        "credit/evidence_queue.html", page=page, f=f, errors=errors, uscc=uscc, confirm_form=F.ConfirmForm(),
        withdraw_form=F.WithdrawForm(), bulk_form=F.EvidenceBulkForm(formdata=None),
        refusals={ev.id: evidence_desk.refusals(current_user, ev) for ev in page.items},
        refusal_labels=F.REFUSAL_LABELS, statuses=evidence_desk.STATUS_CHOICES, kinds=list(EvidenceKind),
        sources=list(EvidenceSource),
        prev_url=_desk_url(page.page - 1) if page.page > 1 else None,
        next_url=_desk_url(page.page + 1) if page.page < page.pages else None))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/credit/regulator/evidence/bulk")
@require(Permission.CREDIT_EVIDENCE_RECORD)
def evidence_bulk():
    form = F.EvidenceBulkForm()
    back = request.form.get("back", "")
    target = back if back.startswith("/credit/regulator/evidence") and "//" not in back else url_for(".evidence_queue")
    if not form.validate_on_submit():
        for name, messages in form.errors.items():
            flash(f"{F.FIELD_LABELS.get(name, name)}: {' '.join(str(m) for m in messages)}", "error")
        return redirect(target)
    ids = [int(raw) for raw in request.form.getlist("ids") if raw.isdigit()]
    try:
        result = evidence_desk.bulk(current_user, ids, form.action.data, form.reason.data or "")
        db.session.commit()
    except ValidationFailed as exc:
        db.session.rollback()
        labels = {**F.FIELD_LABELS, "ids": _("Selected records")}
        for name, message in exc.errors.items():
            flash(f"{labels.get(name, name)}: {message}", "error")
        return redirect(target)
    if result.done:
        flash(_("Done: %(n)d records.", n=result.done), "success")
    for ev_id, message in result.refused[:20]:
        flash(_("Record %(id)s: %(msg)s", id=ev_id, msg=message), "error")
    if len(result.refused) > 20:
        flash(_("%(n)d more records were refused.", n=len(result.refused) - 20), "error")
    return redirect(target)


@bp.route("/credit/regulator/enterprises/<int:enterprise_id>/evidence/new", methods=["GET", "POST"])
@require(Permission.CREDIT_EVIDENCE_RECORD)
def record_evidence(enterprise_id: int):
    ent = _enterprise_in_jurisdiction(enterprise_id)
    form = F.EvidenceForm()
    if form.validate_on_submit():
        try:
            evidence, created = services.record_regulator_evidence(
                current_user, ent, kind=EvidenceKind(form.kind.data), occurred_on=form.occurred_on.data,
                title=form.title.data or "", document_no=form.document_no.data, authority=form.authority.data,
                amount_yuan=form.amount_yuan.data, penalty_type=form.penalty_type.data or "",
                legal_basis=form.legal_basis.data or "", incident_level=form.incident_level.data or "",
                findings=form.findings.data or "", is_public=form.is_public.data)
            db.session.commit()
        except ValidationFailed as exc:
            db.session.rollback()
            for name, message in exc.errors.items():
                form[name].errors = [*form[name].errors, message]
        except IntegrityError:
            db.session.rollback()
            flash(_("The same record was just saved by another request; reload the page and check."), "error")
        else:
            flash(_("Evidence recorded; it counts once another regulator confirms it.") if created else
                  _("This document number is already recorded for this enterprise; nothing was added."),
                  "success" if created else "info")
            return redirect(url_for(".evidence_queue"))
    status = 400 if form.errors else 200
    return render_template("credit/record_evidence.html", form=form, ent=ent), status


def _act(call, success: str):
    try:
        call()
        db.session.commit()
        flash(success, "success")
    except DomainError as exc:
        db.session.rollback()
        if exc.status == 403:
            abort(403)
        flash(exc.message, "error")
    return redirect(url_for(".evidence_queue"))


@bp.post("/credit/regulator/evidence/<int:evidence_id>/confirm")
@require(Permission.CREDIT_EVIDENCE_RECORD)
def confirm_evidence(evidence_id: int):
    evidence = _evidence_in_jurisdiction(evidence_id)
    if not F.ConfirmForm().validate_on_submit():
        abort(400)
    from portal.auth.models import Role
    from portal.credit.findings import FINDING_SOURCES

    first_of_two = (evidence.source in FINDING_SOURCES and evidence.recorded_by_id is None
                    and current_user.role != Role.REGULATOR_LEAD)
    return _act(lambda: services.confirm_evidence(current_user, evidence),
                _("Finding recorded; a second regulator must confirm it before it counts.") if first_of_two else
                _("Evidence confirmed; the enterprise's ledger is updated."))


@bp.post("/credit/regulator/evidence/<int:evidence_id>/withdraw")
@require(Permission.CREDIT_EVIDENCE_RECORD)
def withdraw_evidence(evidence_id: int):
    evidence = _evidence_in_jurisdiction(evidence_id)
    form = F.WithdrawForm()
    if not form.validate_on_submit():
        flash(_("Reason: say why the evidence is withdrawn (for example: decision revoked)."), "error")
        return redirect(url_for(".evidence_queue"))
    pending = evidence.is_verified and evidence.withdrawal_requested_by_id is None
    return _act(lambda: services.withdraw_regulator_evidence(current_user, evidence, form.reason.data),
                _("Withdrawal requested; it takes effect when a second regulator agrees.") if pending else
                _("Evidence withdrawn; it no longer counts."))


# --- public -------------------------------------------------------------------------------------------------------

@bp.get("/credit/schemes")
def schemes():
    """How grades are computed, rule by rule, for every scheme in use (the ledger's key)."""
    items = []
    for scheme in db.session.scalars(sa.select(CreditScheme).order_by(CreditScheme.code)):
        version = next((v for v in scheme.versions if v.status == SchemeStatus.ACTIVE), None)
        if version is not None:
            items.append((scheme, version, services.parsed(version)))
    return render_template("credit/schemes.html", items=items, english=english())


# --- evaluation runs ----------------------------------------------------------------------------------------------

def _run_in_jurisdiction(run_id: int) -> EvaluationRun:
    run = db.get_or_404(EvaluationRun, run_id)
    if not rules.can_manage_run(current_user.role, current_user.jurisdiction_code, run.jurisdiction_prefix):
        abort(404)
    return run


def _commit_or_flash(call, success: str, form=None) -> bool:
    try:
        call()
        db.session.commit()
    except ValidationFailed as exc:
        db.session.rollback()
        for name, message in exc.errors.items():
            if form is not None and name in form:
                form[name].errors = [*form[name].errors, message]
            else:
                flash(message, "error")
        return False
    except DomainError as exc:
        db.session.rollback()
        if exc.status == 403:
            abort(403)
        flash(exc.message, "error")
        return False
    except IntegrityError:
        db.session.rollback()
        flash(_("The same record was just saved by another request; reload the page and check."), "error")
        return False
    flash(success, "success")
    return True


@bp.route("/credit/regulator/runs", methods=["GET", "POST"])
@require(Permission.CREDIT_EVALUATE)
def runs():
    form = F.RunForm()
    jurisdiction = current_user.jurisdiction_code or ""
    if form.validate_on_submit():
        holder = {}

        def compute():
            holder["run"] = evaluation.compute_run(form.year.data, jurisdiction, current_user, form.notice_days.data)

        if _commit_or_flash(compute, _("Proposed results computed."), form):
            return redirect(url_for(".run_detail", run_id=holder["run"].id))
    status = 400 if form.errors else 200
    return render_template("credit/runs.html", form=form, runs=evaluation.runs_for(jurisdiction),
                           jurisdiction=jurisdiction), status


@bp.get("/credit/regulator/runs/<int:run_id>")
@require(Permission.CREDIT_EVALUATE)
def run_detail(run_id: int):
    run = _run_in_jurisdiction(run_id)
    objections = list(db.session.scalars(sa.select(Objection).join(EvaluationResult)
                                         .where(EvaluationResult.run_id == run.id).order_by(Objection.id)))
    return render_template("credit/run_detail.html", run=run, objections=objections, notice_form=F.NoticeForm(),
                           answer_form=F.AnswerForm(), confirm_form=F.ConfirmForm(),
                           may_finalise=rules.can_finalise_run(current_user.role, current_user.jurisdiction_code,
                                                               run.jurisdiction_prefix), RunStatus=RunStatus,
                           finalise_refused=evaluation.finalise_refusal_message(run)
                           if run.status == RunStatus.PUBLIC_NOTICE else None)


@bp.post("/credit/regulator/runs/<int:run_id>/notice")
@require(Permission.CREDIT_EVALUATE)
def run_notice(run_id: int):
    run = _run_in_jurisdiction(run_id)
    form = F.NoticeForm()
    if form.validate_on_submit():
        _commit_or_flash(lambda: evaluation.start_notice(run, current_user, form.notice_days.data),
                         _("The proposed results are on public notice."))
    else:
        flash(_("Public notice (days): give a whole number from 7 to 30."), "error")
    return redirect(url_for(".run_detail", run_id=run.id))


@bp.post("/credit/regulator/runs/<int:run_id>/finalise")
@require(Permission.CREDIT_EVALUATE)
def run_finalise(run_id: int):
    run = _run_in_jurisdiction(run_id)
    if not F.ConfirmForm().validate_on_submit():
        abort(400)
    _commit_or_flash(lambda: evaluation.finalise_run(run, current_user), _("The results are final and published."))
    return redirect(url_for(".run_detail", run_id=run.id))


@bp.post("/credit/regulator/objections/<int:objection_id>/answer")
@require(Permission.CREDIT_EVALUATE)
def answer_objection(objection_id: int):
    objection = db.get_or_404(Objection, objection_id)
    run = _run_in_jurisdiction(objection.result.run_id)
    form = F.AnswerForm()
    if form.validate_on_submit():
        _commit_or_flash(lambda: evaluation.answer_objection(current_user, objection, form.decision.data == "sustain",
                                                             form.reply.data),
                         _("The objection is answered."))
    else:
        flash(_("Written answer: write the answer the enterprise will receive."), "error")
    return redirect(url_for(".run_detail", run_id=run.id))


# --- the enterprise's results and objections ----------------------------------------------------------------------

@bp.get("/credit/my")
@require(Permission.CREDIT_OBJECT)
def my_results():
    from portal.credit import lists

    ent_id = current_user.enterprise_id
    results = evaluation.results_of(ent_id) if ent_id else []
    entries = lists.entries_of(ent_id) if ent_id else []
    from portal.credit import repair

    repairs = {r.id: (repair.open_application(r), [repair.REASONS[x]() for x in repair.ineligibility(r)])
               for r in results if r.run.status == RunStatus.FINAL}
    from portal.credit import evidence_repair

    items = [(ev, evidence_repair.open_application(ev), evidence_repair.messages(evidence_repair.ineligibility(ev)))
             for ev in (evidence_repair.repairable_items(ent_id) if ent_id else [])]
    ent = db.session.get(Enterprise, ent_id) if ent_id else None
    view = services.credit_view(ent) if ent is not None else None
    return render_template("credit/my_results.html", results=results, entries=entries, repairs=repairs,
                           items=items, RunStatus=RunStatus, view=view, ent=ent, english=english())


@bp.route("/credit/my/results/<int:result_id>/objection", methods=["GET", "POST"])
@require(Permission.CREDIT_OBJECT)
def file_objection(result_id: int):
    result = db.get_or_404(EvaluationResult, result_id)
    if current_user.enterprise_id != result.enterprise_id:
        abort(404)
    form = F.ObjectionForm()
    if form.validate_on_submit():
        if _commit_or_flash(lambda: evaluation.file_objection(current_user, result, form.grounds.data,
                                                              form.supporting_evidence.data or ""),
                            _("Your objection is filed; you will receive a written answer."), form):
            return redirect(url_for(".my_results"))
    status = 400 if form.errors else 200
    return render_template("credit/objection_form.html", form=form, result=result, RunStatus=RunStatus), status


# --- public results -----------------------------------------------------------------------------------------------

@bp.get("/credit/results")
def public_runs():
    return render_template("credit/public_runs.html", runs=evaluation.public_runs(), RunStatus=RunStatus)


@bp.get("/credit/results/<int:run_id>")
def public_run(run_id: int):
    run = db.get_or_404(EvaluationRun, run_id)
    if run.status == RunStatus.COMPUTED:
        abort(404)
    page = request.args.get("page", "1")
    page = int(page) if page.isdigit() and int(page) >= 1 else 1
    results = list(db.session.scalars(sa.select(EvaluationResult).where(EvaluationResult.run_id == run.id)
                                      .order_by(EvaluationResult.id).offset((page - 1) * PER_PAGE)
                                      .limit(PER_PAGE + 1)))
    has_next, results = len(results) > PER_PAGE, results[:PER_PAGE]
    schemes = {r.scheme_version_id: services.parsed(r.scheme_version) for r in results}
    return render_template("credit/public_run.html", run=run, results=results, schemes=schemes, english=english(),
                           page=page, has_next=has_next, RunStatus=RunStatus)


# --- credit report PDF ----------------------------------------------------------------------------------------------

@bp.get("/enterprises/<uscc>/credit.pdf")
def report_pdf(uscc: str):
    """Public: the enterprise's credit report (grade, ledger with public evidence, grade history, annual results),
    with a content digest and a QR code to the public page."""
    from urllib.parse import quote

    from flask import make_response

    from portal.credit.report import report_context
    from portal.reports.pdf import render_pdf
    from portal.reports.services import find_enterprise

    ent = find_enterprise(uscc)
    if ent is None:
        abort(404)
    context = report_context(ent, english())
    response = make_response(render_pdf("credit/report_pdf.html", **context))
    filename = f"{ent.name}-环境信用报告-{context['generated_at']:%Y%m%d}.pdf"
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = (f"inline; filename=\"credit-report-{ent.uscc}.pdf\"; "
                                               f"filename*=UTF-8''{quote(filename)}")
    response.headers["Cache-Control"] = "no-cache"
    return response
