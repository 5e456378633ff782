"""Disclosure pages: the enterprise's drafts and signing, public reports and verification, the regulator's
dashboard and review. Views parse, check permission on every object, call one service, commit."""
from __future__ import annotations

import io
from datetime import date, timedelta

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from portal.core import csvsafe
from portal.auth.permissions import Permission, require
from portal.auth.rules import can_view_enterprise_private, in_jurisdiction
from portal.core.clock import china_today
from portal.disclosures import forms as F
from portal.disclosures import copies, rules, services, supervision
from portal.disclosures.models import AnnualReport, ObligationKind, ObligationStatus, TemporaryReport, Trigger
from portal.enterprises.models import Enterprise
from portal.errors import DomainError, ValidationFailed
from portal.extensions import db, limiter

bp = Blueprint("disclosures", __name__)
MAX_TABLE_ROWS = 300
BLANK_ROWS = 2


def _sign_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.app_template_global("published_disclosures")
def published_disclosures(enterprise_id: int):
    """For the public enterprise page: published reports by year."""
    return services.enterprise_disclosures(enterprise_id)


@bp.app_template_global("disclosure_trigger_label")
def disclosure_trigger_label(trigger) -> str:
    return str(rules.TRIGGER_LABELS.get(Trigger(trigger), trigger))


@bp.context_processor
def _labels():
    return copies.template_labels()


def _fail(exc: DomainError) -> None:
    db.session.rollback()
    if isinstance(exc, ValidationFailed):
        for message in exc.errors.values():
            flash(message, "error")
    else:
        flash(exc.message, "error")


# --- enterprise: object checks -------------------------------------------------------------------------------------

def _my_enterprise() -> Enterprise:
    if current_user.enterprise_id is None:
        abort(403)
    ent = db.get_or_404(Enterprise, current_user.enterprise_id)
    if not can_view_enterprise_private(current_user.role, current_user.enterprise_id, current_user.jurisdiction_code,
                                       ent.id, ent.region_code):
        abort(403)
    return ent


def _mine(model, report_id: int):
    report = db.get_or_404(model, report_id)
    if report.enterprise_id != _my_enterprise().id:
        abort(404)  # other enterprises never learn a draft exists
    return report


def _my_published(digest: str):
    report = services.find_published(digest)
    if report is None or report.enterprise_id != _my_enterprise().id:
        abort(404)
    return report


# --- enterprise: index and annual drafts ---------------------------------------------------------------------------

def _year_choices() -> list[int]:
    this_year = china_today().year
    return [this_year - 1, this_year - 2]


@bp.get("/my/disclosures")
@require(Permission.DISCLOSURE_EDIT)
def my_index():
    if current_user.enterprise_id is None:
        binding_url = url_for("auth.binding_request") if "auth.binding_request" in current_app.view_functions else None
        return render_template("enterprises/my_unbound.html", binding_url=binding_url)
    ent = _my_enterprise()
    form = F.NewAnnualForm()
    form.year.choices = [SelectChoice(y, str(y)) for y in _year_choices()]
    annual = db.session.scalars(db.select(AnnualReport).where(AnnualReport.enterprise_id == ent.id)
                                .order_by(AnnualReport.year.desc())).all()
    temporary = db.session.scalars(db.select(TemporaryReport).where(TemporaryReport.enterprise_id == ent.id)
                                   .order_by(TemporaryReport.id.desc())).all()
    return render_template("disclosures/my_index.html", ent=ent, form=form, annual=annual, temporary=temporary,
                           obligations=supervision.upcoming(ent.id), flags=supervision.open_flags(ent.id),
                           today=china_today(), timedelta30=timedelta(days=30),
                           triggers=[t for t in Trigger if t != Trigger.CHANGE])


@bp.post("/my/disclosures/annual")
@require(Permission.DISCLOSURE_EDIT)
def annual_create():
    ent = _my_enterprise()
    form = F.NewAnnualForm()
    form.year.choices = [SelectChoice(y, str(y)) for y in _year_choices()]
    if not form.validate_on_submit():
        flash(_("Choose a report year from the list."), "error")
        return redirect(url_for(".my_index"))
    report = services.create_annual_draft(current_user, ent, form.year.data)
    db.session.commit()
    return redirect(url_for(".annual_overview", report_id=report.id))


@bp.get("/my/disclosures/annual/<int:report_id>")
@require(Permission.DISCLOSURE_EDIT)
def annual_overview(report_id: int):
    report = _mine(AnnualReport, report_id)
    if not report.is_draft:
        return redirect(url_for(".report", digest=report.sha256))
    sections = rules.applicable_sections(services.enterprise_flags(report.enterprise))
    return render_template("disclosures/annual_overview.html", report=report, sections=sections,
                           due=services.annual_due(report.enterprise, report.year))


def _parse_section(section: rules.Section) -> tuple[dict, dict]:
    data = {f.name: request.form.get(f"f-{f.name}", "") for f in section.fields}
    for table in section.tables:
        count = min(request.form.get(f"rows-{table.name}", 0, type=int) or 0, MAX_TABLE_ROWS)
        data[table.name] = [{c.name: request.form.get(f"t-{table.name}-{i}-{c.name}", "") for c in table.columns}
                            for i in range(count)]
    names = [f.name for f in section.fields] + [t.name for t in section.tables]
    return data, {name: request.form.get(f"reason-{name}", "") for name in names}


@bp.route("/my/disclosures/annual/<int:report_id>/sections/<section>", methods=["GET", "POST"])
@require(Permission.DISCLOSURE_EDIT)
def annual_section(report_id: int, section: str):
    report = _mine(AnnualReport, report_id)
    spec = rules.SECTION_BY_CODE.get(section)
    flags = services.enterprise_flags(report.enterprise)
    if spec is None or not spec.applies(flags):
        abort(404)
    if not report.is_draft:
        return redirect(url_for(".report", digest=report.sha256))
    codes = [s.code for s in rules.applicable_sections(flags)]
    if request.method == "POST":
        data, reasons = _parse_section(spec)
        try:
            services.save_section(current_user, report, section, request.form.get("state", ""),
                                  request.form.get("na_reason", ""), data, reasons)
            db.session.commit()
        except DomainError as exc:
            _fail(exc)
            return redirect(url_for(".annual_section", report_id=report.id, section=section))
        flash(_("Section saved."), "success")
        position = codes.index(section)
        if request.form.get("next") and position + 1 < len(codes):
            return redirect(url_for(".annual_section", report_id=report.id, section=codes[position + 1]))
        return redirect(url_for(".annual_section", report_id=report.id, section=section))
    entry = (report.sections or {}).get(section) or rules.empty_section()
    check = services.check_annual(report)
    issues = [i for i in check.errors + check.warnings if i.section == section]
    return render_template("disclosures/annual_section.html", report=report, spec=spec, entry=entry, issues=issues,
                           errors={i.field for i in check.errors if i.section == section}, blank_rows=BLANK_ROWS,
                           codes=codes, sections=rules.applicable_sections(flags))


@bp.get("/my/disclosures/annual/<int:report_id>/check")
@require(Permission.DISCLOSURE_EDIT)
def annual_check(report_id: int):
    """Dry run: no legal effect, nothing saved."""
    report = _mine(AnnualReport, report_id)
    if not report.is_draft:
        return redirect(url_for(".report", digest=report.sha256))
    return render_template("disclosures/annual_check.html", report=report, check=services.check_annual(report))


@bp.route("/my/disclosures/annual/<int:report_id>/sign", methods=["GET", "POST"])
@limiter.limit(_sign_limit, methods=["POST"])  # second-factor codes are not guessed
@require(Permission.DISCLOSURE_SUBMIT)
def annual_sign(report_id: int):
    report = _mine(AnnualReport, report_id)
    form = F.SignForm()
    done = _sign(report, form, lambda: services.submit_annual(current_user, report, form.password.data,
                                                               request.form.getlist("ack"), code=form.code.data))
    if done is not None:
        return done
    check = services.check_annual(report)
    return render_template("disclosures/annual_sign.html", report=report, form=form, check=check,
                           body=_draft_body(report), acked=set(request.form.getlist("ack")))


def _sign(report, form, submit):
    """Shared signing flow: a published report redirects to its page; a valid POST submits, commits and redirects;
    otherwise None, and the caller renders its signing page (with the error flashed)."""
    if not report.is_draft:
        flash(_("This report is already signed and published."), "info")
        return redirect(url_for(".report", digest=report.sha256))
    if form.validate_on_submit():
        try:
            published = submit()
            db.session.commit()
        except DomainError as exc:
            _fail(exc)
        else:
            flash(_("The report is signed and published."), "success")
            return redirect(url_for(".report", digest=published.sha256))
    return None


def _draft_body(report: AnnualReport) -> dict:
    return {"kind": "annual", "year": report.year, "enterprise": services._identity(report.enterprise),
            "sections": services._public_sections(report)}


# --- enterprise: temporary and CHANGE reports ----------------------------------------------------------------------

def _parse_trigger(trigger: Trigger) -> tuple[str, date | None, dict]:
    raw_date = request.form.get("legal_doc_received_on", "").strip()
    try:
        received = date.fromisoformat(raw_date) if raw_date else None
    except ValueError:
        received = None
    data = {f.name: request.form.get(f"f-{f.name}", "") for f in rules.TRIGGER_FIELDS[trigger]}
    return request.form.get("legal_doc_no", ""), received, data


@bp.route("/my/disclosures/temporary/new", methods=["GET", "POST"])
@require(Permission.DISCLOSURE_EDIT)
def temporary_new():
    ent = _my_enterprise()
    try:
        trigger = Trigger(request.values.get("trigger", ""))
    except ValueError:
        trigger = None
    if trigger is None or trigger == Trigger.CHANGE:
        return render_template("disclosures/temporary_choose.html",
                               triggers=[t for t in Trigger if t != Trigger.CHANGE])
    if request.method == "POST":
        doc_no, received, data = _parse_trigger(trigger)
        try:
            report = services.save_temporary(current_user, ent, trigger, doc_no, received, data)
            db.session.commit()
        except DomainError as exc:
            _fail(exc)
        else:
            flash(_("Draft saved. Due on %(d)s.", d=report.due_on.isoformat()) if report.due_on
                  else _("Draft saved."), "success")
            return redirect(url_for(".temporary_edit", temp_id=report.id))
    return render_template("disclosures/temporary_form.html", trigger=trigger, report=None, values=request.form)


@bp.route("/my/disclosures/temporary/<int:temp_id>", methods=["GET", "POST"])
@require(Permission.DISCLOSURE_EDIT)
def temporary_edit(temp_id: int):
    report = _mine(TemporaryReport, temp_id)
    if not report.is_draft:
        return redirect(url_for(".report", digest=report.sha256))
    if report.trigger == Trigger.CHANGE:
        from portal.disclosures.change_views import change_page
        return change_page(report.enterprise, services.corrected_original(report), report)
    if request.method == "POST":
        doc_no, received, data = _parse_trigger(report.trigger)
        try:
            services.save_temporary(current_user, report.enterprise, report.trigger, doc_no, received, data, report)
            db.session.commit()
        except DomainError as exc:
            _fail(exc)
        else:
            flash(_("Draft saved."), "success")
            return redirect(url_for(".temporary_edit", temp_id=report.id))
    values = request.form if request.method == "POST" else {
        "legal_doc_no": report.legal_doc_no, "legal_doc_received_on": report.legal_doc_received_on.isoformat()
        if report.legal_doc_received_on else "", **{f"f-{k}": v for k, v in (report.data or {}).items()}}
    return render_template("disclosures/temporary_form.html", trigger=report.trigger, report=report, values=values)


@bp.route("/my/disclosures/temporary/<int:temp_id>/sign", methods=["GET", "POST"])
@limiter.limit(_sign_limit, methods=["POST"])  # second-factor codes are not guessed
@require(Permission.DISCLOSURE_SUBMIT)
def temporary_sign(temp_id: int):
    report = _mine(TemporaryReport, temp_id)
    form = F.SignForm()
    done = _sign(report, form, lambda: services.submit_temporary(current_user, report, form.password.data,
                                                                  code=form.code.data))
    if done is not None:
        return done
    original = services.corrected_original(report)
    return render_template("disclosures/temporary_sign.html", report=report, form=form, original=original,
                           labels=copies.field_labels())


# --- public: report page, PDF, verification ------------------------------------------------------------------------

def _published(digest: str):
    digest_ok = rules.normalise_digest(digest)
    report = services.find_published(digest_ok) if digest_ok else None
    if report is None:
        abort(404)
    return report


@bp.get("/disclosures/<digest>")
def report(digest: str):
    report = _published(digest)
    original = services.corrected_original(report) if isinstance(report, TemporaryReport) else None
    return render_template("disclosures/report.html", report=report, c=services.content(report), original=original,
                           corrections=services.corrections_of(report), labels=copies.field_labels(),
                           reviews=supervision.reviews_of(report.sha256))


@bp.get("/disclosures/<digest>/copy.pdf")
def report_pdf(digest: str):
    report = _published(digest)
    pdf = services.copy_of_record(report, copies.render_copy)
    db.session.commit()
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="disclosure-{report.sha256[:16]}.pdf"'
    return response


@bp.get("/verify/<digest>")
def verify(digest: str):
    clean = rules.normalise_digest(digest)
    report = (services.find_published(clean) or services.find_by_pdf(clean)) if clean else None
    status = 200 if report is not None else 404
    return render_template("disclosures/verify.html", report=report, digest=digest, form=F.VerifyForm(),
                           by_pdf=bool(report and report.sha256 != clean)), status


@bp.route("/verify", methods=["GET", "POST"])
def verify_form():
    form = F.VerifyForm()
    if form.validate_on_submit():
        upload = form.pdf.data
        if upload and getattr(upload, "filename", ""):
            digest = rules.sha256_hex(upload.read())
        else:
            digest = rules.normalise_digest(form.digest.data or "")
            if digest is None:
                form.digest.errors = [*form.digest.errors, _("Paste the 64-character SHA-256 digest printed on the "
                                                             "copy, or upload the PDF.")]
                return render_template("disclosures/verify.html", report=None, digest=None, form=form), 400
        return redirect(url_for(".verify", digest=digest))
    return render_template("disclosures/verify.html", report=None, digest=None, form=form)


# --- regulator -----------------------------------------------------------------------------------------------------

def _dashboard_filters() -> tuple[str, str, int | None]:
    status = request.args.get("status", "")
    kind = request.args.get("kind", "")
    year = request.args.get("year", type=int)
    year = year if year is not None and 2000 <= year <= 2100 else None
    status = status if status in {s.value for s in ObligationStatus} else ""
    kind = kind if kind in {k.value for k in ObligationKind} else ""
    return status, kind, year


@bp.get("/regulator/disclosures")
@require(Permission.DISCLOSURE_SUPERVISE)
def dashboard():
    status, kind, year = _dashboard_filters()
    stmt = supervision.obligations_query(current_user.jurisdiction_code, status, kind, year)
    page = db.paginate(stmt, per_page=50, error_out=False)
    return render_template("disclosures/dashboard.html", page=page, status=status, kind=kind, year=year,
                           counts=supervision.status_counts(current_user.jurisdiction_code),
                           statuses=list(ObligationStatus), kinds=list(ObligationKind))


@bp.get("/regulator/disclosures/reviews")
@require(Permission.DISCLOSURE_SUPERVISE)
def review_queue():
    """Published reports of the jurisdiction awaiting a format review (DOMAIN §1.10)."""
    return render_template("disclosures/review_queue.html",
                           reports=supervision.review_queue(current_user.jurisdiction_code))


@bp.get("/regulator/disclosures.csv")
@require(Permission.DISCLOSURE_SUPERVISE)
def dashboard_csv():
    status, kind, year = _dashboard_filters()
    obligations = db.session.scalars(supervision.obligations_query(current_user.jurisdiction_code, status, kind,
                                                                   year)).all()
    buffer = io.StringIO()
    csvsafe.writer(buffer).writerows(supervision.csv_rows(obligations))
    response = Response("\ufeff" + buffer.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="disclosure-obligations.csv"'
    return response


@bp.route("/regulator/disclosures/review/<digest>", methods=["GET", "POST"])
@require(Permission.DISCLOSURE_SUPERVISE)
def review(digest: str):
    report = _published(digest)
    if not in_jurisdiction(current_user.jurisdiction_code, report.enterprise.region_code):
        abort(404)
    form = F.ReviewForm()
    if form.validate_on_submit():
        checklist = {key: form[key].data for key in supervision.CHECKLIST}
        try:
            supervision.review_report(current_user, report, checklist, form.flag.data, form.note.data)
            db.session.commit()
        except DomainError as exc:
            _fail(exc)
        else:
            flash(_("Review recorded."), "success")
            return redirect(url_for(".review", digest=report.sha256))
    return render_template("disclosures/review.html", report=report, c=services.content(report), form=form,
                           reviews=supervision.reviews_of(report.sha256), labels=copies.field_labels(),
                           check=rules.validate_report(services.content(report).get("sections") or {}, {},
                                                       report.enterprise.uscc) if report.kind == "annual" else None)


from portal.disclosures import list_views  # noqa: E402,F401  (routes on this blueprint)
from portal.disclosures import change_views  # noqa: E402,F401  (routes on this blueprint)
from portal.disclosures import draft_views  # noqa: E402,F401  (routes on this blueprint)
from portal.disclosures import prefill_views  # noqa: E402,F401  (routes on this blueprint)
