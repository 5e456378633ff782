"""Public complaint pages: intake, receipt, tracking by case number and query code (no account needed)."""
from __future__ import annotations

import logging
import secrets
from urllib.parse import quote

import sqlalchemy as sa
from flask import (Blueprint, abort, current_app, flash, jsonify, make_response, redirect, render_template, request,
                   session, url_for)
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from portal.core.messages import local_name
from portal.complaints import intake_form, linking, pending, rules, services, statistics as stats
from portal.complaints.labels import channel_labels, event_labels, status_labels
from portal.complaints.forms import (CATEGORY_LABELS, InformationForm, IntakeForm, MonthForm, RatingForm,
                                     ReviewForm, TrackForm)
from portal.complaints.models import Category, Complaint, ComplaintAttachment
from portal.complaints.uploads import ACCEPT_ATTRIBUTE, PreparedFile, UploadRejected, prepare_upload
from portal.config import Config
from portal.core.links import public_url
from portal.core.storage import serve
from portal.errors import DomainError, ValidationFailed
from portal.extensions import db, limiter
from portal.reference.models import Region

log = logging.getLogger(__name__)
bp = Blueprint("complaints", __name__, url_prefix="/complaints")
ACCESS_KEY = "complaint_access"
RECEIPT_KEY = "complaint_receipt"


@bp.record_once
def _warn_about_the_development_key(state) -> None:
    if state.app.config.get("REPORTER_KEY") == Config.REPORTER_KEY and not state.app.testing:
        log.warning("REPORTER_KEY is the development default; set PORTAL_REPORTER_KEY or instance/portal.cfg")


@bp.app_template_global("complaint_counts")
def complaint_counts(enterprise_id: int) -> dict[str, int]:
    """Used by templates/complaints/_enterprise_section.html on the public enterprise page."""
    return stats.enterprise_counts(enterprise_id)


@bp.context_processor
def _labels():
    return {"CATEGORY_LABELS": {c.value: label for c, label in CATEGORY_LABELS.items()},
            "STATUS_LABELS": status_labels(), "EVENT_LABELS": event_labels(), "CHANNEL_LABELS": channel_labels(),
            "format_code": rules.format_query_code, "region_name": _region_name}


def _region_name(code: str) -> str:
    region = db.session.get(Region, code) if code else None
    return local_name(region) if region else code


def _rate_limit() -> str:
    return current_app.config["COMPLAINT_RATE_LIMIT"]


def region_choices() -> list[tuple[str, str]]:
    """Cities and counties with their parents' names, so a phone user can pick by typing the first letters."""
    regions = {r.code: r for r in db.session.scalars(sa.select(Region).order_by(Region.code))}

    def label(r: Region) -> str:
        parent = regions.get(r.parent_code or "")
        return f"{parent.name} {r.name}" if parent else r.name

    return [("", "—")] + [(r.code, label(r)) for r in regions.values() if r.level >= 2]


def read_files(storages, config) -> list[PreparedFile]:
    """Sniff, check and re-encode each uploaded file; the first bad one rejects the submission."""
    files = [f for f in storages or [] if getattr(f, "filename", "")]
    if len(files) > rules.MAX_ATTACHMENTS:
        raise UploadRejected(_("Attach at most %(n)s files.", n=rules.MAX_ATTACHMENTS))
    return [prepare_upload(f.filename, f.stream, int(config["COMPLAINT_MAX_FILE_BYTES"]),
                           int(config["COMPLAINT_MAX_IMAGE_PIXELS"])) for f in files]


def show_errors(form, exc: ValidationFailed) -> None:
    for name, message in exc.errors.items():
        target = form[name] if name in form else form["description"]
        target.errors = list(target.errors or []) + [message]


def _allow_large_upload() -> None:
    request.max_content_length = int(current_app.config["COMPLAINT_MAX_REQUEST_BYTES"])


# --- intake -------------------------------------------------------------------------------------------------------

def _intake(form: IntakeForm, category: Category | None = None) -> services.Intake:
    named = form.identity.data == "named"
    return services.Intake(
        category=category or Category(form.category.data), description=form.description.data or "",
        region_code=form.region_code.data or "", enterprise_uscc=form.enterprise_uscc.data or "",
        reported_name=form.reported_name.data or "", reported_address=form.reported_address.data or "",
        latitude=form.latitude.data, longitude=form.longitude.data,
        observed_at=_aware(form.observed_at.data), anonymous=not named,
        identity={"name": form.name.data, "phone": form.phone.data, "email": form.email.data,
                  "id_no": form.id_no.data} if named else {},
        submission_key=form.submission_key.data or None)


def _aware(value):
    """The form's local time is China time."""
    from portal.core.clock import china_tz

    return value.replace(tzinfo=china_tz()) if value is not None else None


def _remember_receipt(c: Complaint, code: str) -> None:
    session[RECEIPT_KEY] = {"id": c.id, "case_no": c.case_no, "code": code, "key": c.submission_key}
    _grant(c)


def _grant(c: Complaint) -> None:
    ids = [i for i in session.get(ACCESS_KEY, []) if i != c.id][-9:]
    session[ACCESS_KEY] = ids + [c.id]


@bp.route("/new", methods=["GET", "POST"])
@limiter.limit(_rate_limit, methods=["POST"])
def new():
    _allow_large_upload()
    form = IntakeForm()
    form.region_code.choices = region_choices()
    if request.method == "GET":
        form.submission_key.data = secrets.token_urlsafe(24)
        return _render_new(form)
    if form.website.data:
        log.info("complaint intake: honeypot field filled; submission dropped")
        flash(_("The form could not be accepted. Please fill it in again."), "error")
        return _render_new(form, 400)
    if services.existing_submission(form.submission_key.data) is not None:
        return redirect(url_for(".receipt"))
    kept, lost = intake_form.kept_files(form)
    fresh, file_errors = intake_form.new_files(form.photos.data)
    files = [(k.name, k.prepared) for k in kept] + fresh
    ok, ent = intake_form.all_errors(form, len(files), file_errors, lost, _intake)
    if not ok:
        return _render_new(form, 400, kept=intake_form.keep(form, files))
    if form.duplicates_seen.data != "1":
        enterprise = ent or linking.unique_by_name(form.reported_name.data or "")
        region = form.region_code.data or (enterprise.region_code if enterprise else "")
        similar = services.possible_duplicates(enterprise.id if enterprise else None, form.latitude.data,
                                               form.longitude.data, region)
        if similar:
            form.duplicates_seen.data = "1"
            return _render_new(form, 200, kept=intake_form.keep(form, files), similar=similar)
    try:
        c, code = services.submit_complaint(_intake(form), [p for _n, p in files])
        db.session.commit()
    except ValidationFailed as exc:  # the rules changed between the check and now (e.g. a region removed)
        db.session.rollback()
        show_errors(form, exc)
        return _render_new(form, 400, kept=intake_form.keep(form, files))
    except IntegrityError:  # the same form sent twice at once: the first one won
        db.session.rollback()
        return redirect(url_for(".receipt"))
    pending.discard(intake_form.own_token(form))
    session.pop(pending.SESSION_KEY, None)
    _remember_receipt(c, code)
    return redirect(url_for(".receipt"))


def _render_new(form: IntakeForm, status: int = 200, kept: list[dict] | None = None, similar=None):
    return render_template("complaints/new.html", form=form, accept=ACCEPT_ATTRIBUTE, kept=kept or [],
                           similar=similar or [],
                           max_mb=current_app.config["COMPLAINT_MAX_FILE_BYTES"] // (1024 * 1024)), status


def _receipt_case() -> tuple[Complaint, str] | None:
    receipt = session.get(RECEIPT_KEY)
    c = db.session.get(Complaint, receipt["id"]) if receipt else None
    return (c, receipt["code"]) if c is not None else None


@bp.get("/receipt")
def receipt():
    """Shows the case number and query code of this browser's last submission (they are not stored in clear)."""
    found = _receipt_case()
    if found is None:
        flash(_("There is no new submission in this browser. Track a case with its number and query code."), "info")
        return redirect(url_for(".track"))
    c, code = found
    return render_template("complaints/receipt.html", c=c, code=code,
                           similar=len(services.duplicate_candidates(c)))


@bp.get("/receipt.pdf")
def receipt_pdf():
    from portal.reports.pdf import render_pdf
    from portal.reports.services import qr_data_uri

    found = _receipt_case()
    if found is None:
        return redirect(url_for(".track"))
    c, code = found
    track_url = public_url("complaints.track")
    pdf = render_pdf("complaints/receipt_pdf.html", c=c, code=code, track_url=track_url,
                     qr=qr_data_uri(track_url))
    response = make_response(pdf)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(c.case_no)}.pdf"
    response.headers["Cache-Control"] = "no-store"
    return response


# --- enterprise suggestions ---------------------------------------------------------------------------------------

def _suggest_rate() -> str:
    return current_app.config.get("COMPLAINT_SUGGEST_RATE_LIMIT", "60 per minute;2000 per day")


def _coordinate(name: str) -> float | None:
    try:
        return float(request.args.get(name, "")) if request.args.get(name) else None
    except ValueError:
        return None


@bp.get("/enterprises.json")
@limiter.limit(_suggest_rate)
def suggest_enterprises():
    """Registered enterprises for a typed name (intake's search-as-you-type): name, credit code, address and the
    distance from lat/lon when given. Without JavaScript the intake form works on the typed name alone."""
    lat, lon = _coordinate("lat"), _coordinate("lon")
    if not rules.valid_coordinates(lat, lon):
        lat = lon = None
    items = linking.suggest(request.args.get("q", ""), lat, lon)
    response = jsonify({"data": items})
    response.headers["Cache-Control"] = "public, max-age=60"
    return response


# --- tracking -----------------------------------------------------------------------------------------------------

@bp.route("/track", methods=["GET", "POST"])
@limiter.limit(_rate_limit, methods=["POST"])
def track():
    form = TrackForm()
    if request.method == "GET":
        form.case_no.data = request.args.get("case_no", "")[:32]
    if request.method == "POST" and form.validate():
        try:
            c = services.find_for_reporter(form.case_no.data, form.code.data)
        except DomainError as exc:
            form.code.errors = [exc.message]
            return render_template("complaints/track.html", form=form), 404
        _grant(c)
        return redirect(url_for(".case", case_no=c.case_no))
    return render_template("complaints/track.html", form=form), 400 if request.method == "POST" else 200


def _granted(case_no: str) -> Complaint:
    c = db.session.scalar(sa.select(Complaint).where(Complaint.case_no == case_no))
    if c is None or c.id not in session.get(ACCESS_KEY, []):
        abort(404)
    return c


def _render_case(c: Complaint, status: int = 200, **forms):
    shown = services.tracked_view(c)
    context = dict(info_form=InformationForm(), rating_form=RatingForm(), review_form=ReviewForm())
    context.update(forms)
    return render_template("complaints/case.html", c=c, shown=shown, due=services.due_of(shown),
                           review_due=services.review_deadline(shown), accept=ACCEPT_ATTRIBUTE,
                           events=[e for e in shown.events if e.is_public], **context), status


@bp.get("/track/<case_no>")
def case(case_no: str):
    c = db.session.scalar(sa.select(Complaint).where(Complaint.case_no == case_no))
    if c is None or c.id not in session.get(ACCESS_KEY, []):
        flash(_("Enter the case number and query code to see the case."), "info")
        return redirect(url_for(".track", case_no=case_no))
    return _render_case(c)


@bp.post("/track/<case_no>/information")
@limiter.limit(_rate_limit)
def add_information(case_no: str):
    _allow_large_upload()
    c = _granted(case_no)
    form = InformationForm()
    try:
        files = read_files(form.photos.data, current_app.config)
        services.add_information(c if c.status in rules.OPEN_STATUSES else services.tracked_view(c),
                                 form.text.data or "", files)
        db.session.commit()
    except UploadRejected as exc:
        db.session.rollback()
        form.photos.errors = [str(exc)]
        return _render_case(c, 400, info_form=form)
    except DomainError as exc:
        db.session.rollback()
        form.text.errors = [exc.message]
        return _render_case(c, 400, info_form=form)
    flash(_("Your information was added to the case."), "success")
    return redirect(url_for(".case", case_no=case_no))


@bp.post("/track/<case_no>/rating")
def rate(case_no: str):
    c = _granted(case_no)
    form = RatingForm()
    if not form.validate():
        return _render_case(c, 400, rating_form=form)
    try:
        services.rate_satisfaction(c, int(form.score.data))
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        form.score.errors = [exc.message]
        return _render_case(c, 400, rating_form=form)
    flash(_("Thank you for rating the handling."), "success")
    return redirect(url_for(".case", case_no=case_no))


@bp.post("/track/<case_no>/review")
def review(case_no: str):
    c = _granted(case_no)
    form = ReviewForm()
    if not form.validate():
        return _render_case(c, 400, review_form=form)
    try:
        services.request_review(c, form.reason.data or "")
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        form.reason.errors = [exc.message]
        return _render_case(c, 400, review_form=form)
    flash(_("Your request for review was received; the case is reopened."), "success")
    return redirect(url_for(".case", case_no=case_no))


@bp.get("/track/<case_no>/files/<int:attachment_id>")
def public_file(case_no: str, attachment_id: int):
    """The metadata-free copy of a photo, for the reporter who sent it."""
    c = _granted(case_no)
    att = db.session.get(ComplaintAttachment, attachment_id)
    if att is None or att.complaint_id != c.id or not att.public_path:
        abort(404)
    mimetype = "image/png" if att.public_path.endswith(".png") else "image/jpeg"
    response = serve(services.upload_root(), att.public_path, mimetype=mimetype, max_age=0, conditional=False)
    if response is None:
        abort(404)
    return response


# --- public statistics --------------------------------------------------------------------------------------------

@bp.get("/statistics")
def statistics():
    """Monthly bulletin; by default the last complete month."""
    from portal.core.clock import china_today

    today = china_today()
    last = (today.year - 1, 12) if today.month == 1 else (today.year, today.month - 1)
    form = MonthForm(request.args)
    year, month = last
    if form.validate() and form.year.data and form.month.data:
        year, month = form.year.data, form.month.data
    else:
        form.year.data, form.month.data = year, month
    numbers = stats.monthly_statistics(year, month)
    return render_template("complaints/statistics.html", form=form, s=numbers,
                           channels=channel_labels(), categories={c.value: l for c, l in CATEGORY_LABELS.items()})
