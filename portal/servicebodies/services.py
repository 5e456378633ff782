"""Service-body use cases: registration (USCC checked like enterprises), the enterprises served, findings recorded
by one regulator and confirmed by another, the standing from the active scheme, and the scheme as data.
Services flush; views commit. Every write is audited."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.core.jsondata import load_json_field
from portal.audit.services import record, snapshot
from portal.core.clock import china_today
from portal.credit import rules as credit_rules
from portal.credit import scoring
from portal.credit.models import SchemeStatus
from portal.db import utcnow
from portal.enterprises.models import Enterprise
from portal.enterprises.rules import check_uscc
from portal.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from portal.extensions import db
from portal.reference.models import Region
from portal.servicebodies import rules
from portal.servicebodies.models import (BodyEvidenceKind, BodyKind, ServiceBody, ServiceBodyEvidence,
                                         ServiceBodySchemeVersion, ServiceEngagement)
from portal.servicebodies.presets import SERVICE_BODY_DEFAULT


# --- the scheme ---------------------------------------------------------------------------------------------------

def active_version() -> ServiceBodySchemeVersion | None:
    return db.session.scalar(sa.select(ServiceBodySchemeVersion)
                             .where(ServiceBodySchemeVersion.status == SchemeStatus.ACTIVE))


def active_rules() -> tuple[int, dict]:
    """(version number, rules); the shipped preset (version 0) until a lead saves a version."""
    version = active_version()
    return (version.number, version.rules) if version else (0, SERVICE_BODY_DEFAULT)


def save_scheme(actor, text: str) -> ServiceBodySchemeVersion:
    """A provincial lead replaces the scheme: the text becomes the next active version, the previous retires;
    standings are computed on read, so they follow at once."""
    if not credit_rules.can_edit_schemes(actor.role, actor.jurisdiction_code):
        raise NotAllowed(_("Only a provincial lead edits the service-body scheme."))
    data = load_json_field(text, "rules", scoring.parse_rules, (scoring.SchemeError,))
    previous = active_version()
    if previous is not None:
        before = snapshot(previous)
        previous.status = SchemeStatus.RETIRED
        record(actor, "servicebody_scheme.retire", previous, before=before)
    number = (db.session.scalar(sa.select(sa.func.max(ServiceBodySchemeVersion.number))) or 0) + 1
    version = ServiceBodySchemeVersion(number=number, status=SchemeStatus.ACTIVE, rules=data, activated_at=utcnow(),
                                       activated_by_id=actor.id)
    db.session.add(version)
    db.session.flush()
    record(actor, "servicebody_scheme.activate", version)
    return version


# --- standing -----------------------------------------------------------------------------------------------------

@dataclass
class BodyStanding:
    scheme_number: int
    scheme: scoring.SchemeRules
    result: scoring.Result
    list_status: str | None

    @property
    def grade(self) -> scoring.Grade:
        return self.scheme.grade(self.result.standing.grade)


def _evidence_rows(body_ids: list[int]) -> dict[int, list[rules.EvidenceRow]]:
    rows: dict[int, list[rules.EvidenceRow]] = {i: [] for i in body_ids}
    stmt = sa.select(ServiceBodyEvidence).where(ServiceBodyEvidence.body_id.in_(body_ids))
    for e in db.session.scalars(stmt):
        rows[e.body_id].append(rules.EvidenceRow(id=e.id, kind=e.kind.value, occurred_on=e.occurred_on,
                                                 is_confirmed=e.is_confirmed, is_withdrawn=e.withdrawn_at is not None))
    return rows


def standings(body_ids: list[int], today: date | None = None) -> dict[int, BodyStanding]:
    number, data = active_rules()
    scheme = scoring.parse_rules(data)
    today = today or china_today()
    out = {}
    for body_id, rows in _evidence_rows(body_ids).items():
        result = scoring.evaluate(scheme, rules.scoring_facts(rows), today)
        out[body_id] = BodyStanding(number, scheme, result, rules.list_status(result.standing))
    return out


def standing_of(body: ServiceBody, today: date | None = None) -> BodyStanding:
    return standings([body.id], today)[body.id]


def serving(enterprise_id: int, today: date | None = None) -> list[tuple[ServiceEngagement, BodyStanding]]:
    """The bodies serving the enterprise today (for its public page), with their standing."""
    today = today or china_today()
    stmt = (sa.select(ServiceEngagement).where(ServiceEngagement.enterprise_id == enterprise_id,
                                               ServiceEngagement.starts_on <= today,
                                               sa.or_(ServiceEngagement.ends_on.is_(None),
                                                      ServiceEngagement.ends_on >= today))
            .order_by(ServiceEngagement.starts_on))
    engagements = list(db.session.scalars(stmt))
    found = standings(sorted({e.body_id for e in engagements}), today) if engagements else {}
    return [(e, found[e.body_id]) for e in engagements]


# --- registry -----------------------------------------------------------------------------------------------------

def get_body(body_id: int) -> ServiceBody:
    body = db.session.get(ServiceBody, body_id)
    if body is None:
        raise NotFound(_("No such service body."))
    return body


def get_for_regulator(user, body_id: int) -> ServiceBody:
    body = db.session.get(ServiceBody, body_id)
    if body is None or not rules.can_manage(user.role, user.jurisdiction_code, body.region_code):
        raise NotFound(_("No such service body in your jurisdiction."))
    return body


def search(text: str = "", kind: BodyKind | None = None, limit: int = 100) -> list[ServiceBody]:
    stmt = sa.select(ServiceBody)
    text = text.strip()
    if text:
        stmt = stmt.where(sa.or_(ServiceBody.name.contains(text, autoescape=True), ServiceBody.uscc == text.upper()))
    if kind is not None:
        stmt = stmt.where(ServiceBody.kind == kind)
    return list(db.session.scalars(stmt.order_by(ServiceBody.name).limit(limit)))


def jurisdiction_bodies(user, limit: int = 300) -> list[ServiceBody]:
    prefix = user.jurisdiction_code or "\x00"
    return list(db.session.scalars(sa.select(ServiceBody).where(ServiceBody.region_code.startswith(prefix,
                                                                                                 autoescape=True))
                                   .order_by(ServiceBody.name).limit(limit)))


def register_body(actor, *, uscc: str, name: str, kind: str, region_code: str, address: str = "",
                  qualification_no: str = "") -> ServiceBody:
    """Registered like an enterprise: a valid 统一社会信用代码 (GB 32100 check character), unique."""
    errors: dict[str, str] = {}
    check = check_uscc(uscc)
    if check.error:
        errors["uscc"] = check.error
    if len(name.strip()) < 2:
        errors["name"] = _("Give the body's registered name.")
    if kind not in {k.value for k in BodyKind}:
        errors["kind"] = _("Choose the kind of service body.")
    if db.session.get(Region, region_code or "") is None:
        errors["region_code"] = _("Choose the county or city where the body is registered.")
    elif not rules.can_manage(actor.role, actor.jurisdiction_code, region_code):
        errors["region_code"] = _("You register bodies of your own jurisdiction only.")
    if errors:
        raise ValidationFailed(errors)
    if db.session.scalar(sa.select(ServiceBody.id).where(ServiceBody.uscc == check.value)) is not None:
        raise ValidationFailed({"uscc": _("A service body with this credit code is already registered.")})
    body = ServiceBody(uscc=check.value, name=name.strip(), kind=BodyKind(kind), region_code=region_code,
                       address=address.strip(), qualification_no=qualification_no.strip(), registered_by_id=actor.id)
    db.session.add(body)
    db.session.flush()
    record(actor, "service_body.register", body)
    return body


def add_engagement(actor, body: ServiceBody, *, enterprise_uscc: str, service: str, starts_on: date | None,
                   ends_on: date | None) -> ServiceEngagement:
    errors = rules.engagement_problems(starts_on, ends_on)
    enterprise = _enterprise(enterprise_uscc)
    if enterprise is None:
        errors["enterprise_uscc"] = _("No registered enterprise has this credit code.")
    if errors:
        raise ValidationFailed(errors)
    engagement = ServiceEngagement(body_id=body.id, enterprise_id=enterprise.id, service=service.strip(),
                                   starts_on=starts_on, ends_on=ends_on, recorded_by_id=actor.id)
    db.session.add(engagement)
    db.session.flush()
    record(actor, "service_engagement.add", engagement, enterprise_id=enterprise.id)
    return engagement


def _enterprise(uscc: str) -> Enterprise | None:
    code = check_uscc(uscc).value if uscc else ""
    return db.session.scalar(sa.select(Enterprise).where(Enterprise.uscc == code)) if code else None


def record_evidence(actor, body: ServiceBody, *, kind: str, title: str, document_no: str,
                    occurred_on: date | None, authority: str = "", enterprise_uscc: str = "") -> ServiceBodyEvidence:
    """One regulator records a finding with its document; it does not score until another confirms it."""
    errors = rules.evidence_problems(title, document_no, occurred_on, china_today())
    if kind not in {k.value for k in BodyEvidenceKind}:
        errors["kind"] = _("Choose what was found.")
    enterprise = _enterprise(enterprise_uscc) if enterprise_uscc.strip() else None
    if enterprise_uscc.strip() and enterprise is None:
        errors["enterprise_uscc"] = _("No registered enterprise has this credit code.")
    if errors:
        raise ValidationFailed(errors)
    duplicate = db.session.scalar(sa.select(ServiceBodyEvidence.id).where(
        ServiceBodyEvidence.body_id == body.id, ServiceBodyEvidence.kind == BodyEvidenceKind(kind),
        ServiceBodyEvidence.document_no == document_no.strip()))
    if duplicate is not None:
        raise Conflict(_("This document is already recorded for this body."), field="document_no")
    evidence = ServiceBodyEvidence(body_id=body.id, kind=BodyEvidenceKind(kind), title=title.strip(),
                                   document_no=document_no.strip(), occurred_on=occurred_on,
                                   authority=authority.strip(), enterprise_id=enterprise.id if enterprise else None,
                                   recorded_by_id=actor.id)
    db.session.add(evidence)
    db.session.flush()
    record(actor, "service_body_evidence.record", evidence)
    return evidence


def confirm_evidence(actor, evidence: ServiceBodyEvidence) -> ServiceBodyEvidence:
    refusal = rules.confirm_refusal(actor.role, actor.id, actor.jurisdiction_code, evidence.body.region_code,
                                    evidence.recorded_by_id, evidence.is_confirmed, evidence.withdrawn_at is not None)
    if refusal:
        raise NotAllowed(refusal)
    before = snapshot(evidence)
    evidence.is_confirmed, evidence.confirmed_by_id, evidence.confirmed_at = True, actor.id, utcnow()
    db.session.flush()
    record(actor, "service_body_evidence.confirm", evidence, before=before)
    return evidence


def public_view(body: ServiceBody, today: date | None = None) -> dict[str, Any]:
    standing = standing_of(body, today)
    confirmed = [e for e in body.evidence if e.is_confirmed and e.withdrawn_at is None]
    entries = {entry.evidence_id: entry for entry in standing.result.entries}
    return {"standing": standing, "ledger": [(e, entries.get(e.id)) for e in confirmed],
            "engagements": body.engagements}
