"""双随机 inspections and the roster they draw from (DOMAIN §8.2, §8.6).

- The roster (执法检查人员名录库): name, jurisdiction, certificate number and validity; kept by the lead.
- Every drawn target becomes a routine inspection that counts against the enterprise's yearly cap; case checks
  (a complaint, a data anomaly, a referral, the enterprise's request) are recorded with their basis and do not.
- Each inspection has a 行政行为码 that the enterprise verifies on the portal (authority, inspectors and their
  certificate numbers, basis, result) and, once the result is recorded, rates (1–5) for the supervising body.

Services flush; views commit. Every write is audited."""
from __future__ import annotations

import re
import secrets
from datetime import date

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from portal.audit.services import record
from portal.auth.models import Role, User
from portal.auth.rules import in_jurisdiction
from portal.core.clock import china_today
from portal.credit import draw as D
from portal.credit.draw_models import Inspection, InspectionKind, InspectionTrigger, Inspector
from portal.credit.models import InspectionDraw
from portal.db import utcnow
from portal.enterprises.models import Enterprise
from portal.enterprises.rules import check_uscc
from portal.errors import Conflict, InvalidTransition, NotAllowed, NotFound, ValidationFailed
from portal.extensions import db

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
CODE_LENGTH = 12
INSPECTORS_PER_CHECK = 2
CASE_TRIGGERS = (InspectionTrigger.COMPLAINT, InspectionTrigger.DATA_ANOMALY, InspectionTrigger.REFERRAL,
                 InspectionTrigger.ENTERPRISE_REQUEST)
_CERTIFICATE = re.compile(r"^[0-9A-Za-z\-]{4,40}$")


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(raw: str) -> str:
    return re.sub(r"[\s-]", "", raw or "").upper()[:CODE_LENGTH + 4]


def format_code(code: str) -> str:
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def _caps() -> dict:
    return current_app.config.get("CREDIT_ROUTINE_INSPECTION_CAPS") or D.DEFAULT_YEARLY_CAPS


def cap_status(enterprise: Enterprise, year: int) -> tuple[int, int]:
    """(routine inspections counted this year, the province's yearly cap)."""
    counted = db.session.scalar(sa.select(sa.func.count()).select_from(Inspection).where(
        Inspection.enterprise_id == enterprise.id, Inspection.year == year,
        Inspection.counts_against_cap.is_(True))) or 0
    return counted, D.yearly_cap(enterprise.region_code, _caps())


# --- roster -----------------------------------------------------------------------------------------------------------

def roster_in(jurisdiction: str) -> list[Inspector]:
    return list(db.session.scalars(sa.select(Inspector).where(
        Inspector.jurisdiction_code.startswith(jurisdiction or "\x00", autoescape=True))
        .order_by(Inspector.jurisdiction_code, Inspector.name)))


def add_inspector(actor, *, name: str, jurisdiction_code: str, certificate_no: str, valid_from: date | None,
                  valid_until: date | None, username: str = "") -> Inspector:
    if actor.role != Role.REGULATOR_LEAD:
        raise NotAllowed(_("Only a lead keeps the inspector roster."))
    errors = {}
    name, code, cert = (name or "").strip(), (jurisdiction_code or "").strip(), (certificate_no or "").strip()
    if not name:
        errors["name"] = _("Give the inspector's name.")
    if not re.fullmatch(r"\d{2}|\d{4}|\d{6}", code) or not in_jurisdiction(actor.jurisdiction_code, code):
        errors["jurisdiction_code"] = _("Give the region code (2, 4 or 6 digits) of an authority inside your "
                                        "jurisdiction.")
    if not _CERTIFICATE.match(cert):
        errors["certificate_no"] = _("Give the law-enforcement certificate number (4 to 40 letters or digits).")
    elif db.session.scalar(sa.select(Inspector.id).where(Inspector.certificate_no == cert)):
        errors["certificate_no"] = _("This certificate number is already in the roster.")
    if valid_from is None or valid_until is None or valid_until < valid_from:
        errors["certificate_valid_until"] = _("Give the certificate's validity: from a date until a later one.")
    user = None
    if username.strip():
        user = db.session.scalar(sa.select(User).where(User.username == username.strip()))
        if user is None or not user.role.is_regulator or not in_jurisdiction(actor.jurisdiction_code,
                                                                               user.jurisdiction_code):
            errors["username"] = _("No regulator account of your jurisdiction has this user name.")
    if errors:
        raise ValidationFailed(errors)
    inspector = Inspector(name=name, jurisdiction_code=code, certificate_no=cert, certificate_valid_from=valid_from,
                          certificate_valid_until=valid_until, user_id=user.id if user else None,
                          added_by_id=actor.id)
    db.session.add(inspector)
    db.session.flush()
    record(actor, "credit_inspector.add", inspector)
    return inspector


# --- inspections ------------------------------------------------------------------------------------------------------

def _with_code(inspection: Inspection) -> Inspection:
    while True:
        code = new_code()
        if not db.session.scalar(sa.select(Inspection.id).where(Inspection.code == code)):
            inspection.code = code
            return inspection


def create_routine_inspections(entry: InspectionDraw, roster: list[Inspector]) -> list[Inspection]:
    by_cert = {i.certificate_no: i for i in roster}
    ents = {e.uscc: e for e in db.session.scalars(
        sa.select(Enterprise).where(Enterprise.uscc.in_([row["uscc"] for row in entry.result])))}
    made = []
    for row in entry.result:
        inspection = _with_code(Inspection(
            enterprise_id=ents[row["uscc"]].id, draw_id=entry.id, kind=InspectionKind.ROUTINE,
            trigger=InspectionTrigger.DRAW, counts_against_cap=True, year=entry.year,
            authority_code=entry.jurisdiction_prefix, inspectors=[by_cert[c] for c in row["inspectors"]
                                                                  if c in by_cert]))
        db.session.add(inspection)
        made.append(inspection)
    db.session.flush()
    return made


def _inspectors_for(enterprise: Enterprise, certificates: list[str], on: date) -> list[Inspector]:
    wanted = sorted({c.strip() for c in certificates if c and c.strip()})
    found = list(db.session.scalars(sa.select(Inspector).where(Inspector.certificate_no.in_(wanted))))
    valid = [i for i in found if in_jurisdiction(i.jurisdiction_code, enterprise.region_code)
             and i.valid_during(on, on)]
    if len(wanted) < INSPECTORS_PER_CHECK or len(valid) != len(wanted):
        raise ValidationFailed({"certificates": _(
            "Name at least two inspectors of the roster by certificate number, each certified on the inspection "
            "day by an authority covering the enterprise.")})
    return valid


def record_case_inspection(actor, *, uscc: str, trigger: str, certificates: list[str], inspected_on: date | None,
                           basis: str, result: str) -> Inspection:
    """个案 check (complaint, data anomaly, referral, the enterprise's request): recorded and published with its
    code, never counted against the yearly cap."""
    check = check_uscc(uscc or "")
    ent = db.session.scalar(sa.select(Enterprise).where(Enterprise.uscc == check.value)) if check.ok else None
    if ent is None or not in_jurisdiction(actor.jurisdiction_code, ent.region_code):
        raise ValidationFailed({"uscc": check.error if not check.ok else _(
            "No enterprise with this credit code is registered in your jurisdiction.")})
    if trigger not in {t.value for t in CASE_TRIGGERS}:
        raise ValidationFailed({"trigger": _("Choose what triggered the check.")})
    if inspected_on is None or inspected_on > china_today():
        raise ValidationFailed({"inspected_on": _("Give the inspection day (not in the future).")})
    if len((basis or "").strip()) < 5 or len((result or "").strip()) < 5:
        raise ValidationFailed({"basis": _("Give the basis (the complaint or alert) and the result, at least 5 "
                                           "characters each.")})
    inspectors = _inspectors_for(ent, certificates, inspected_on)
    inspection = _with_code(Inspection(
        enterprise_id=ent.id, kind=InspectionKind.CASE, trigger=InspectionTrigger(trigger), counts_against_cap=False,
        year=inspected_on.year, authority_code=actor.jurisdiction_code, basis=basis.strip(),
        inspected_on=inspected_on, result=result.strip(), recorded_by_id=actor.id, inspectors=inspectors))
    db.session.add(inspection)
    db.session.flush()
    record(actor, "credit_inspection.case", inspection, enterprise_id=ent.id)
    return inspection


def get_in_jurisdiction(actor, inspection_id: int) -> Inspection:
    inspection = db.session.get(Inspection, inspection_id)
    if inspection is None or not in_jurisdiction(actor.jurisdiction_code, inspection.enterprise.region_code):
        raise NotFound(_("No such inspection in your jurisdiction."))
    return inspection


def record_result(actor, inspection: Inspection, inspected_on: date | None, result: str) -> None:
    if inspection.inspected_on is not None:
        raise Conflict(_("The result of this inspection is already recorded."))
    if inspected_on is None or inspected_on > china_today() or inspected_on.year != inspection.year:
        raise ValidationFailed({"inspected_on": _("Give the inspection day: in the inspection's year and not in "
                                                  "the future.")})
    if len((result or "").strip()) < 5:
        raise ValidationFailed({"result": _("Describe the result (at least 5 characters).")})
    inspection.inspected_on, inspection.result, inspection.recorded_by_id = inspected_on, result.strip(), actor.id
    db.session.flush()
    record(actor, "credit_inspection.result", inspection, enterprise_id=inspection.enterprise_id,
           after={"inspected_on": inspected_on, "result": inspection.result})


def inspections_in(jurisdiction: str, year: int) -> list[Inspection]:
    stmt = (sa.select(Inspection).join(Enterprise, Enterprise.id == Inspection.enterprise_id)
            .where(Enterprise.region_code.startswith(jurisdiction or "\x00", autoescape=True), Inspection.year == year)
            .order_by(Inspection.inspected_on.is_not(None), Inspection.id.desc()).limit(500))
    return list(db.session.scalars(stmt))


# --- the enterprise's side --------------------------------------------------------------------------------------------

def is_public(inspection: Inspection) -> bool:
    """A drawn inspection is confidential until its draw is published or it has taken place (DOMAIN §8.2)."""
    return inspection.kind == InspectionKind.CASE or inspection.inspected_on is not None or (
        inspection.draw is not None and inspection.draw.published_at is not None)


def verify_code(raw: str) -> Inspection:
    code = normalise_code(raw)
    inspection = db.session.scalar(sa.select(Inspection).where(Inspection.code == code)) if code else None
    if inspection is None or not is_public(inspection):
        raise NotFound(_("No inspection has this code. Check it against the inspectors' notice."))
    return inspection


def inspections_of(enterprise_id: int) -> list[Inspection]:
    stmt = (sa.select(Inspection).where(Inspection.enterprise_id == enterprise_id)
            .order_by(Inspection.year.desc(), Inspection.id.desc()))
    return [i for i in db.session.scalars(stmt) if is_public(i)]


def rate(user, inspection: Inspection, score: int | None, comment: str) -> None:
    if user.enterprise_id is None or inspection.enterprise_id != user.enterprise_id:
        raise NotFound(_("No such inspection of your enterprise."))
    if inspection.inspected_on is None:
        raise InvalidTransition(_("An inspection can be rated once its result is recorded."))
    if inspection.rating is not None:
        raise InvalidTransition(_("This inspection has already been rated."))
    if score is None or not 1 <= score <= 5:
        raise ValidationFailed({"score": _("Choose a rating from 1 to 5.")})
    inspection.rating, inspection.rating_comment = score, (comment or "").strip()[:1000]
    inspection.rated_at, inspection.rated_by_id = utcnow(), user.id
    db.session.flush()
    record(user, "credit_inspection.rate", inspection, enterprise_id=inspection.enterprise_id,
           after={"rating": score, "comment": inspection.rating_comment})
