"""Complaint intake and tracking for the public (DOMAIN §6.2, §6.8): the case with its files, the query code,
what the reporter can do afterwards (add information, rate, ask for a review).

Every function loads, applies a rule, mutates and flushes; views commit."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.complaints import rules
from portal.complaints.common import _event, _is_workday, _local_date, _reopen, upload_root
from portal.complaints.linking import auto_link
from portal.complaints.crypto import check_query_code, encrypt_identity, hash_query_code
from portal.complaints.models import Category, Channel, Complaint, ComplaintAttachment, Status
from portal.complaints.uploads import PreparedFile, store
from portal.core.clock import china_today
from portal.core.links import public_url
from portal.db import utcnow
from portal.enterprises.models import Enterprise
from portal.errors import InvalidTransition, NotFound, ValidationFailed
from portal.extensions import db
from portal.mail.services import queue_mail
from portal.reference.models import Region


@dataclass
class Intake:
    category: Category
    description: str
    region_code: str = ""
    enterprise_uscc: str = ""
    reported_name: str = ""
    reported_address: str = ""
    latitude: float | None = None
    longitude: float | None = None
    observed_at: datetime | None = None
    anonymous: bool = True
    identity: dict = field(default_factory=dict)
    channel: Channel = Channel.WEB
    external_ticket: str = ""
    external_due_on: date | None = None
    partner: str = ""
    submission_key: str | None = None


def intake_errors(data: Intake, file_count: int) -> tuple[dict[str, str], Enterprise | None]:
    """Every rule the intake checks, all at once (the form shows each message beside its field): the errors by
    field and the registered enterprise the case names, if any. data.category is not read here."""
    errors: dict[str, str] = {}
    uscc = (data.enterprise_uscc or "").strip().upper()
    ent = db.session.scalar(sa.select(Enterprise).where(Enterprise.uscc == uscc)) if uscc else None
    if uscc and ent is None:
        errors["enterprise_uscc"] = _("No registered enterprise has this credit code; leave it empty and give "
                                      "the name and address instead.")
    if ent is None and not data.reported_name.strip():
        errors["reported_name"] = _("Name the unit you are reporting, or choose it from the registry.")
    if ent is None and not data.reported_address.strip():
        errors["reported_address"] = _("Give the address of the place.")
    region = data.region_code or (ent.region_code if ent else "")
    if not region or db.session.get(Region, region) is None:
        errors["region_code"] = _("Choose the district where it happens.")
    if len(data.description.strip()) < 10:
        errors["description"] = _("Describe what you saw in at least 10 characters.")
    if not rules.valid_coordinates(data.latitude, data.longitude):
        errors["latitude"] = _("Give both latitude (−90 to 90) and longitude (−180 to 180), or neither.")
    if data.observed_at and data.observed_at > utcnow() + timedelta(minutes=5):
        errors["observed_at"] = _("The time observed cannot be in the future.")
    if not data.anonymous and not (data.identity.get("phone") or data.identity.get("email")):
        errors["phone"] = _("Give a phone number or an e-mail address for the reply, or report anonymously.")
    if file_count > rules.MAX_ATTACHMENTS:
        errors["photos"] = _("Attach at most %(n)s files.", n=rules.MAX_ATTACHMENTS)
    return errors, ent


def _check_intake(data: Intake, files: list[PreparedFile]) -> Enterprise | None:
    errors, ent = intake_errors(data, len(files))
    if errors:
        raise ValidationFailed(errors)
    return ent


def existing_submission(key: str | None) -> Complaint | None:
    if not key:
        return None
    return db.session.scalar(sa.select(Complaint).where(Complaint.submission_key == key))


def submit_complaint(data: Intake, files: list[PreparedFile]) -> tuple[Complaint, str]:
    """Record a new case with its files and return it with the query code (the only time the code exists in clear).
    Files are written before the caller commits, so a committed case always has its files."""
    ent = _check_intake(data, files)
    code = rules.new_query_code()
    received = utcnow()
    lat, lon = data.latitude, data.longitude
    if lat is None and ent is not None and ent.latitude is not None and ent.longitude is not None:
        lat, lon = float(ent.latitude), float(ent.longitude)
    identity = {} if data.anonymous else data.identity
    c = Complaint(query_code_hash=hash_query_code(code), submission_key=data.submission_key, channel=data.channel,
                  external_ticket=data.external_ticket.strip(), external_due_on=data.external_due_on,
                  partner=data.partner, category=data.category, enterprise_id=ent.id if ent else None,
                  reported_name=data.reported_name.strip() or (ent.name if ent else ""),
                  reported_address=data.reported_address.strip() or (ent.address if ent else ""),
                  region_code=data.region_code or ent.region_code, latitude=lat, longitude=lon,
                  observed_at=data.observed_at, description=data.description.strip(),
                  reporter_token=encrypt_identity(identity), anonymous=data.anonymous or not any(identity.values()),
                  status=Status.RECEIVED, received_at=received,
                  accept_due=rules.accept_due(_local_date(received), _is_workday))
    db.session.add(c)
    db.session.flush()
    c.case_no = rules.case_number(_local_date(received), c.id)
    _event(c, "received")
    if ent is None:
        auto_link(c)
    _attach(c, files)
    email = identity.get("email")
    if email:
        queue_mail(email, _("Your environmental complaint %(no)s was received", no=c.case_no),
                   _("Case number: %(no)s\nQuery code: %(code)s\nKeep the query code: it is not shown again.\n"
                     "We decide within 15 days whether the case is accepted.\n%(link)s",
                     no=c.case_no, code=rules.format_query_code(code), link=public_url("complaints.track")),
                   dedupe_key=f"complaint:{c.id}:received", sealed=True)  # no query code in clear until sent
    db.session.flush()
    return c, code


def _attach(c: Complaint, files: list[PreparedFile]) -> None:
    root = upload_root()
    for prepared in files:
        original, public = store(prepared, root)
        db.session.add(ComplaintAttachment(complaint=c, kind=prepared.kind, content_type=prepared.content_type,
                                           size=len(prepared.original), sha256=prepared.sha256,
                                           original_path=original, public_path=public))


def find_for_reporter(case_no: str, code: str) -> Complaint:
    """The same answer for an unknown case and a wrong code, so case numbers cannot be probed."""
    case_no = (case_no or "").strip()
    c = db.session.scalar(sa.select(Complaint).where(Complaint.case_no == case_no)) if case_no else None
    if c is None or not check_query_code(c.query_code_hash, rules.normalise_query_code(code)):
        raise NotFound(_("No case matches this case number and query code. Check both and try again."))
    return c


def tracked_view(c: Complaint) -> Complaint:
    """A merged case is followed through the case it was merged into."""
    return db.session.get(Complaint, c.merged_into_id) if c.merged_into_id else c


def add_information(c: Complaint, text: str, files: list[PreparedFile]) -> None:
    """The reporter adds facts or photos while the case is open."""
    if c.status not in rules.OPEN_STATUSES:
        raise InvalidTransition(_("This case is closed; ask for a review instead."))
    if not text.strip() and not files:
        raise ValidationFailed({"text": _("Write the information you want to add, or attach a file.")})
    if len(c.attachments) + len(files) > rules.MAX_ATTACHMENTS * 2:
        raise ValidationFailed({"photos": _("This case already has the maximum number of files.")})
    _event(c, "reporter_added", text.strip(), by_reporter=True)
    _attach(c, files)
    db.session.flush()


def rate_satisfaction(c: Complaint, score: int) -> None:
    """回访评价: once, after the reply."""
    if c.replied_at is None:
        raise InvalidTransition(_("You can rate the handling once the reply has been sent."))
    if c.satisfaction is not None:
        raise InvalidTransition(_("This case has already been rated."))
    if not 1 <= score <= 5:
        raise ValidationFailed({"score": _("Choose a rating from 1 to 5.")})
    c.satisfaction, c.satisfaction_at = score, utcnow()
    _event(c, "rated", str(score), by_reporter=True)
    db.session.flush()


def review_deadline(c: Complaint) -> date | None:
    return rules.review_deadline(_local_date(c.replied_at), _is_workday) if c.replied_at else None


def request_review(c: Complaint, reason: str) -> None:
    """复查: the reporter disagrees with the reply within 30 days; the case reopens."""
    deadline = review_deadline(c)
    if deadline is None or c.status not in (Status.REPLIED, Status.CLOSED):
        raise InvalidTransition(_("A review can be requested only after the reply."))
    if china_today() > deadline:
        raise InvalidTransition(_("The 30 days to ask for a review ended on %(day)s.", day=deadline.isoformat()))
    if len(reason.strip()) < 10:
        raise ValidationFailed({"reason": _("Explain in at least 10 characters why the reply is not acceptable.")})
    _reopen(c, reason, by_reporter=True)
