"""Open311 GeoReport v2 (wiki.open311.org/GeoReport_v2) at /open311/v2/, in JSON and XML, with the service
discovery document (wiki.open311.org/Service_discovery) at /open311/discovery.json and .xml.

Service codes are the pollution categories. Posting needs the district (attribute[region_code]) because the portal
routes every case by territory; partner systems (12345 dispatch) authenticate with the X-Api-Key header (or the
spec's api_key parameter; gunicorn.conf.py keeps query strings out of the access log) and pass their ticket
number and due date as attributes, and the same ticket posted twice returns the first case. Tokens are random.
A service definition is one object (<service_definition> in XML); requests carry their location rounded to a
public precision (3 decimals). Anonymous posting is
allowed and rate limited. Public listings never show the reporter or the description (DOMAIN §6.5); a partner
sees the description and the reply of the cases it posted.
"""
from __future__ import annotations

import logging
import secrets
from datetime import date, datetime, time, timedelta
from xml.etree import ElementTree as ET

import sqlalchemy as sa
from flask import Blueprint, Response, current_app, json, request
from flask_babel import gettext as _
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from portal.complaints import rules, services
from portal.complaints.forms import CATEGORY_LABELS
from portal.complaints.labels import status_labels
from portal.complaints.models import Category, Channel, Complaint
from portal.complaints.open311_format import error, fmt, respond, respond_one
from portal.core.clock import china_tz
from portal.core.links import public_url
from portal.errors import DomainError, ValidationFailed
from portal.extensions import csrf, db, limiter

log = logging.getLogger(__name__)
PREFIX = "/open311/"
FORMATS = ("json", "xml")
V2 = "/open311/v2"
bp = Blueprint("open311", __name__, url_prefix="/open311")
csrf.exempt(bp)
MAX_RESULTS = 1000
API_KEY_HEADER = "X-Api-Key"
# Public precision of a request's location [M]: 3 decimals of a degree (about 110 m), enough to find the place,
# too coarse to point at a reporter's home. OPEN311_LOCATION_DECIMALS overrides it.
LOCATION_DECIMALS = 3
DISCOVERY_CHANGESET = "2026-12-01T00:00:00+08:00"  # change when the services or attributes change
DEFAULT_SPAN_DAYS = 90
ATTRIBUTES = (
    ("region_code", True, "string", "District code (GB/T 2260, 6 digits) where the pollution happens."),
    ("enterprise_uscc", False, "string", "Unified social credit code of the reported enterprise, if known."),
    ("reported_name", False, "string", "Name of the reported unit when it has no credit code."),
    ("external_ticket", False, "string", "Partner ticket number (12345 dispatch)."),
    ("due_date", False, "datetime", "Partner due date (YYYY-MM-DD)."),
)


class Open311Error(Exception):
    def __init__(self, status: int, description: str):
        super().__init__(description)
        self.status, self.description = status, description


def _extension() -> str:
    last = request.path.rstrip("/").rsplit("/", 1)[-1]
    return last.rsplit(".", 1)[-1].lower() if "." in last else ""


@bp.before_app_request
def _unrouted():
    """A URL under /open311/ that names no resource (unknown path, a format other than .json/.xml, a wrong method)
    answers in the spec's error format, not with the portal's HTML or generic JSON error. Routing errors are raised
    after before-request hooks, so this hook sees them first."""
    exc = request.routing_exception
    if exc is None or not request.path.startswith(PREFIX) or not isinstance(exc, (NotFound, MethodNotAllowed)):
        return None
    if isinstance(exc, MethodNotAllowed):
        allowed = sorted(set(exc.valid_methods or ()))
        return error(405, _("Method %(method)s is not allowed on %(path)s; use %(allowed)s.", method=request.method,
                             path=request.path, allowed=", ".join(allowed)), {"Allow": ", ".join(allowed)})
    ext = _extension()
    if ext and ext not in FORMATS:
        return error(404, _("Format %(ext)s is not supported; end the resource with .json or .xml.", ext=ext))
    if not request.path.startswith(V2 + "/"):
        return error(404, _("Only GeoReport v2 is served, under %(prefix)s/ (see %(discovery)s).", prefix=V2,
                             discovery=PREFIX + "discovery.json"))
    return error(404, _("No GeoReport v2 resource at %(path)s.", path=request.path))


@bp.errorhandler(Open311Error)
def _open311_error(exc: Open311Error):
    return error(exc.status, exc.description)


@bp.errorhandler(DomainError)
def _domain_error(exc: DomainError):
    if isinstance(exc, ValidationFailed):
        return error(400, "; ".join(f"{k}: {v}" for k, v in exc.errors.items()))
    return error(exc.status, exc.message)


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    headers = {k: v for k, v in exc.get_response().headers.items() if k in ("Retry-After", "Allow")}
    return error(exc.code or 500, exc.description or exc.name, headers)


@bp.errorhandler(OperationalError)
def _db_down(exc: OperationalError):
    db.session.rollback()
    log.error("open311: database unavailable: %s", exc.__class__.__name__)
    return error(503, _("The database is unavailable. Please try again in a minute."), {"Retry-After": "30"})


@bp.errorhandler(Exception)
def _unexpected(exc: Exception):
    db.session.rollback()
    log.exception("open311: unhandled error on %s %s", request.method, request.path)
    return error(500, _("Something went wrong on our side. The error was logged; please try again."))


# --- helpers ------------------------------------------------------------------------------------------------------

def _api_key() -> str:
    """The partner key from the X-Api-Key header (preferred: headers stay out of access logs) or the api_key
    parameter of a GeoReport v2 POST body; never from the URL, where proxies and browsers keep it (issue 20)."""
    if "api_key" in request.args:
        raise Open311Error(400, _("Send the api_key in the X-Api-Key header or in the POST body, never in the URL."))
    return request.headers.get(API_KEY_HEADER, "").strip() or request.form.get("api_key", "")


def _partner() -> str | None:
    """The partner name for a valid api_key, None without a key; a wrong key is refused (403)."""
    key = _api_key()
    if not key:
        return None
    for known, name in (current_app.config.get("OPEN311_API_KEYS") or {}).items():
        if secrets.compare_digest(known, key):
            return name
    raise Open311Error(403, _("The api_key is not valid."))


def _has_valid_key() -> bool:
    key = _api_key()
    return bool(key) and any(secrets.compare_digest(k, key) for k in current_app.config.get("OPEN311_API_KEYS") or {})


def _check_jurisdiction() -> None:
    given = request.values.get("jurisdiction_id")
    if given and given != current_app.config["OPEN311_JURISDICTION_ID"]:
        raise Open311Error(404, _("Unknown jurisdiction_id."))


def _iso(at: datetime | None) -> str | None:
    return at.astimezone(china_tz()).isoformat(timespec="seconds") if at else None


def _end_of(day: date | None) -> str | None:
    if day is None:
        return None
    return datetime.combine(day, time(23, 59, 59), tzinfo=china_tz()).isoformat(timespec="seconds")


def _service(category: Category) -> dict:
    return {"service_code": category.value, "service_name": str(CATEGORY_LABELS[category]),
            "description": str(CATEGORY_LABELS[category]), "metadata": True, "type": "realtime",
            "keywords": "pollution,environment,12369", "group": "environment"}


def _category(code: str) -> Category:
    try:
        return Category(code)
    except ValueError:
        raise Open311Error(404, _("Unknown service_code %(code)s.", code=code)) from None


def request_dict(c: Complaint, partner: str | None) -> dict:
    """A service request as GeoReport v2 shows it; the reporter is never included."""
    shown = services.tracked_view(c)
    own = partner is not None and c.partner == partner
    notes = shown.reply_text if own and shown.reply_text else _status_note(shown)
    return {"service_request_id": c.case_no, "status": rules.open311_status(c.status), "status_notes": notes,
            "service_name": str(CATEGORY_LABELS[c.category]), "service_code": c.category.value,
            "description": c.description if own else None,
            "agency_responsible": c.region.name if c.region else c.region_code, "service_notice": None,
            "requested_datetime": _iso(c.received_at), "updated_datetime": _iso(c.updated_at or c.received_at),
            "expected_datetime": _end_of(services.due_of(shown)), "address": c.region.name if c.region else "",
            "address_id": None, "zipcode": None, "lat": _public(shown.latitude), "long": _public(shown.longitude),
            "media_url": None}


def _public(coordinate: float | None) -> float | None:
    if coordinate is None:
        return None
    return round(float(coordinate), int(current_app.config.get("OPEN311_LOCATION_DECIMALS", LOCATION_DECIMALS)))


def _status_note(c: Complaint) -> str:
    return status_labels()[c.status.value]


def _parse_dt(name: str) -> datetime | None:
    raw = request.args.get(name, "")
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise Open311Error(400, _("%(name)s must be a W3C date-time like 2026-03-01T08:00:00+08:00.",
                                  name=name)) from None
    return value if value.tzinfo else value.replace(tzinfo=china_tz())


# --- routes -------------------------------------------------------------------------------------------------------

@bp.get("/discovery.json", endpoint="discovery_json")
@bp.get("/discovery.xml", endpoint="discovery_xml")
def discovery():
    """Where the GeoReport v2 endpoint is and which formats it speaks (a client's first request)."""
    changeset = DISCOVERY_CHANGESET
    doc = {"changeset": changeset, "contact": current_app.config["MAIL_DEFAULT_SENDER"], "key_service": _("Partner api_key: ask the contact above."),
           "endpoints": [{"specification": "http://wiki.open311.org/GeoReport_v2",
                          "url": public_url("open311.services_json").rsplit("/", 1)[0], "changeset": changeset,
                          "type": "production", "formats": ["text/xml", "application/json"]}]}
    if fmt() == "json":
        return Response(json.dumps(doc, ensure_ascii=False), mimetype="application/json")
    top = ET.Element("discovery")
    for key in ("changeset", "contact", "key_service"):
        ET.SubElement(top, key).text = doc[key]
    endpoints = ET.SubElement(top, "endpoints")
    for endpoint in doc["endpoints"]:
        node = ET.SubElement(endpoints, "endpoint")
        for key in ("specification", "url", "changeset", "type"):
            ET.SubElement(node, key).text = endpoint[key]
        formats = ET.SubElement(node, "formats")
        for mime in endpoint["formats"]:
            ET.SubElement(formats, "format").text = mime
    body = ET.tostring(top, encoding="utf-8", xml_declaration=True)
    return Response(body, headers={"Content-Type": "text/xml; charset=utf-8"})


@bp.get("/v2/services.json", endpoint="services_json")
@bp.get("/v2/services.xml", endpoint="services_xml")
def service_list():
    _check_jurisdiction()
    return respond([_service(c) for c in Category], "services", "service")


@bp.get("/v2/services/<service_code>.json", endpoint="service_json")
@bp.get("/v2/services/<service_code>.xml", endpoint="service_xml")
def service_definition(service_code: str):
    _check_jurisdiction()
    category = _category(service_code)
    attributes = [{"variable": True, "code": code, "datatype": datatype, "required": required,
                   "datatype_description": description, "order": i + 1, "description": description}
                  for i, (code, required, datatype, description) in enumerate(ATTRIBUTES)]
    return respond_one({"service_code": category.value, "attributes": attributes}, "service_definition")


def _rate() -> str:
    return current_app.config["COMPLAINT_RATE_LIMIT"]


@bp.get("/v2/requests.json", endpoint="requests_json")
@bp.get("/v2/requests.xml", endpoint="requests_xml")
def request_list():
    _check_jurisdiction()
    partner = _partner()
    stmt = sa.select(Complaint)
    ids = [i.strip() for i in request.args.get("service_request_id", "").split(",") if i.strip()]
    if ids:
        stmt = stmt.where(Complaint.case_no.in_(ids[:MAX_RESULTS]))
    else:
        start, end = _parse_dt("start_date"), _parse_dt("end_date")
        if start is None:
            start = (end or datetime.now(china_tz())) - timedelta(days=DEFAULT_SPAN_DAYS)
        stmt = stmt.where(Complaint.received_at >= start)
        if end is not None:
            stmt = stmt.where(Complaint.received_at <= end)
        codes = [c.strip() for c in request.args.get("service_code", "").split(",") if c.strip()]
        if codes:
            stmt = stmt.where(Complaint.category.in_([_category(c) for c in codes]))
        statuses = {s.strip() for s in request.args.get("status", "").split(",") if s.strip()}
        if statuses - {"open", "closed"}:
            raise Open311Error(400, _("status must be open, closed or both."))
        if statuses == {"open"}:
            stmt = stmt.where(Complaint.status.in_(rules.OPEN_STATUSES))
        elif statuses == {"closed"}:
            stmt = stmt.where(Complaint.status.not_in(rules.OPEN_STATUSES))
    items = db.session.scalars(stmt.order_by(Complaint.received_at.desc()).limit(MAX_RESULTS))
    return respond([request_dict(c, partner) for c in items], "service_requests", "request")


@bp.post("/v2/requests.json", endpoint="create_json")
@bp.post("/v2/requests.xml", endpoint="create_xml")
@limiter.limit(_rate, exempt_when=_has_valid_key)
def create_request():
    _check_jurisdiction()
    partner = _partner()
    form = request.values
    category = Category(form["service_code"]) if form.get("service_code") in Category._value2member_map_ else None
    if category is None:
        raise Open311Error(400, _("service_code is required and must be one of the services."))
    lat, lon = _float(form.get("lat")), _float(form.get("long"))
    address = form.get("address_string", "").strip()
    if (lat is None or lon is None) and not address:
        raise Open311Error(400, _("Give lat and long, or address_string."))
    ticket = form.get("attribute[external_ticket]", "").strip()[:64] if partner else ""
    # The partner's ticket makes a repeated POST return the first case; the key is internal, never a token.
    key = f"open311:{partner}:{ticket}" if partner and ticket else None
    existing = services.existing_submission(key)
    if existing is not None:
        if not existing.open311_token:
            existing.open311_token = new_token()
            db.session.commit()
        return respond([_created(existing)], "service_requests", "request")
    identity = {"name": " ".join(filter(None, [form.get("last_name", ""), form.get("first_name", "")])),
                "phone": form.get("phone", ""), "email": form.get("email", ""), "id_no": ""}
    data = services.Intake(
        category=category, description=form.get("description", "")[:4000],
        region_code=form.get("attribute[region_code]", ""), enterprise_uscc=form.get("attribute[enterprise_uscc]", ""),
        reported_name=form.get("attribute[reported_name]", "") or (
            "" if form.get("attribute[enterprise_uscc]") else _("Not named by the reporter")),
        reported_address=address or f"{lat:.6f}, {lon:.6f}",
        latitude=lat, longitude=lon, anonymous=not any(identity.values()), identity=identity,
        channel=Channel.DISPATCH_12345 if partner else Channel.WEB, external_ticket=ticket,
        external_due_on=_due(form.get("attribute[due_date]", "")) if partner else None, partner=partner or "",
        submission_key=key)
    c, _code = services.submit_complaint(data, [])
    c.open311_token = new_token()
    db.session.commit()
    return respond([_created(c)], "service_requests", "request")


def new_token() -> str:
    """A token a client cannot guess (it maps to the case number)."""
    return secrets.token_urlsafe(24)


def _created(c: Complaint) -> dict:
    return {"service_request_id": c.case_no, "token": c.open311_token, "service_notice": _(
        "Acceptance is decided by %(day)s.", day=c.accept_due.isoformat()), "account_id": None}


def _float(raw: str | None) -> float | None:
    try:
        return float(raw) if raw not in (None, "") else None
    except ValueError:
        raise Open311Error(400, _("lat and long must be decimal degrees.")) from None


def _due(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw[:10]) if raw else None
    except ValueError:
        raise Open311Error(400, _("attribute[due_date] must be a date like 2026-03-31.")) from None


@bp.get("/v2/requests/<service_request_id>.json", endpoint="request_json")
@bp.get("/v2/requests/<service_request_id>.xml", endpoint="request_xml")
def request_detail(service_request_id: str):
    _check_jurisdiction()
    partner = _partner()
    c = db.session.scalar(sa.select(Complaint).where(Complaint.case_no == service_request_id))
    if c is None:
        raise Open311Error(404, _("No service request %(id)s.", id=service_request_id))
    return respond([request_dict(c, partner)], "service_requests", "request")


@bp.get("/v2/tokens/<token>.json", endpoint="token_json")
@bp.get("/v2/tokens/<token>.xml", endpoint="token_xml")
def token_detail(token: str):
    _check_jurisdiction()
    c = db.session.scalar(sa.select(Complaint).where(Complaint.open311_token == token)) if token else None
    if c is None:
        raise Open311Error(404, _("No service request for this token."))
    return respond([{"service_request_id": c.case_no, "token": token}], "service_requests", "request")
