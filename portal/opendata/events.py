"""Public events of an enterprise or a region, newest first: what the Atom feeds and the e-mail digests carry.

Four kinds (PRODUCT §2.7): published disclosure reports, monitoring exceedances, penalties and other regulator
sanctions (credit evidence that is verified, public, not withdrawn and not repaired: DOMAIN §3.3 says repaired
details are no longer published) and credit grade changes. Each query is bounded by `limit` and uses the
enterprise/date indexes; the region feeds filter on the region-code prefix.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app
from flask_babel import get_locale
from flask_babel import gettext as _

from portal.core.clock import china_tz
from portal.core.links import public_enterprise_url, public_url
from portal.credit import services as credit_services
from portal.credit.forms import KIND_LABELS
from portal.credit.models import CreditSchemeVersion, Evidence, EvidenceKind, GradeChange
from portal.disclosures.catalogue import TRIGGER_LABELS
from portal.disclosures.models import AnnualReport, ReportStatus, TemporaryReport
from portal.enterprises.models import Enterprise, Outlet
from portal.extensions import db
from portal.monitoring.models import ExceedanceIncident
from portal.reference.models import Pollutant

SANCTION_KINDS = (EvidenceKind.PENALTY, EvidenceKind.DAILY_PENALTY, EvidenceKind.PRODUCTION_LIMIT,
                  EvidenceKind.PRODUCTION_STOP, EvidenceKind.PERMIT_REVOKED, EvidenceKind.DETENTION,
                  EvidenceKind.CRIMINAL, EvidenceKind.SUPERVISED_LISTING)
KINDS = ("disclosure", "exceedance", "penalty", "grade")
DEFAULT_LIMIT = 50


@dataclass(frozen=True)
class Event:
    key: str  # stable: "<kind>/<id>", the base of the Atom id and the digest de-duplication
    kind: str  # one of KINDS
    at: datetime  # aware; when it became public
    uscc: str
    enterprise_name: str
    title: str
    summary: str
    link: str


@dataclass(frozen=True)
class Scope:
    """Either one enterprise or every enterprise whose region code starts with a prefix."""

    enterprise_id: int | None = None
    region_prefix: str | None = None

    def where(self, column_enterprise_id) -> sa.ColumnElement[bool]:
        if self.enterprise_id is not None:
            return column_enterprise_id == self.enterprise_id
        return Enterprise.region_code.startswith(self.region_prefix or "", autoescape=True)


def tag_uri(key: str) -> str:
    """RFC 4151 tag URI: stable across feed URLs and host moves within the portal's domain."""
    host = urlsplit(current_app.config["PUBLIC_BASE_URL"]).hostname or "localhost"
    return f"tag:{host},2026:{key}"


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=china_tz()).astimezone(timezone.utc)


def _disclosures(scope: Scope, since: datetime | None, limit: int) -> list[Event]:
    events = []
    for model in (AnnualReport, TemporaryReport):
        stmt = (sa.select(model, Enterprise).join(Enterprise, Enterprise.id == model.enterprise_id)
                .where(scope.where(model.enterprise_id),
                       model.status.in_((ReportStatus.PUBLISHED, ReportStatus.CORRECTED)),
                       model.sha256.is_not(None), model.submitted_at.is_not(None))
                .order_by(model.submitted_at.desc()).limit(limit))
        if since is not None:
            stmt = stmt.where(model.submitted_at >= since)
        for report, ent in db.session.execute(stmt):
            if model is AnnualReport:
                title = _("Annual disclosure report %(year)s published", year=report.year)
                kind = f"annual/{report.id}"
            else:
                title = _("Temporary disclosure report published: %(trigger)s",
                          trigger=TRIGGER_LABELS.get(report.trigger, report.trigger))
                kind = f"temporary/{report.id}"
            events.append(Event(f"disclosure/{kind}", "disclosure", report.submitted_at, ent.uscc, ent.name, title,
                                _("Content digest (SHA-256): %(digest)s", digest=report.sha256),
                                public_url("disclosures.report", digest=report.sha256)))
    return events


def _exceedances(scope: Scope, since: datetime | None, limit: int) -> list[Event]:
    stmt = (sa.select(ExceedanceIncident, Enterprise, Outlet.code, Pollutant.name, Pollutant.unit)
            .join(Enterprise, Enterprise.id == ExceedanceIncident.enterprise_id)
            .join(Outlet, Outlet.id == ExceedanceIncident.outlet_id)
            .join(Pollutant, Pollutant.code == ExceedanceIncident.pollutant_code, isouter=True)
            .where(scope.where(ExceedanceIncident.enterprise_id))
            .order_by(ExceedanceIncident.created_at.desc()).limit(limit))
    if since is not None:
        stmt = stmt.where(ExceedanceIncident.created_at >= since)
    events = []
    for inc, ent, outlet, pname, unit in db.session.execute(stmt):
        pollutant = pname or inc.pollutant_code
        title = _("Exceedance: %(pollutant)s at outlet %(outlet)s", pollutant=pollutant, outlet=outlet)
        limit_text = (f"{inc.limit_value:g}" if inc.limit_value is not None else
                      f"{inc.limit_min if inc.limit_min is not None else ''}–"
                      f"{inc.limit_max if inc.limit_max is not None else ''}")
        summary = _("%(period)s: %(value)s %(unit)s against the limit %(limit)s (%(basis)s).",
                    period=inc.period_start.astimezone(china_tz()).strftime("%Y-%m-%d %H:%M"),
                    value=f"{inc.value:g}", unit=unit or "", limit=limit_text, basis=inc.basis.value)
        events.append(Event(f"exceedance/{inc.id}", "exceedance", inc.created_at, ent.uscc, ent.name, title,
                            summary, public_enterprise_url(ent.uscc) + "#monitoring"))
    return events


def _penalties(scope: Scope, since: datetime | None, limit: int) -> list[Event]:
    stmt = (sa.select(Evidence, Enterprise).join(Enterprise, Enterprise.id == Evidence.enterprise_id)
            .where(scope.where(Evidence.enterprise_id), Evidence.kind.in_(SANCTION_KINDS),
                   Evidence.is_verified.is_(True), Evidence.is_public.is_(True), Evidence.withdrawn_at.is_(None),
                   Evidence.repaired_on.is_(None))
            .order_by(Evidence.occurred_on.desc(), Evidence.id.desc()).limit(limit))
    if since is not None:
        stmt = stmt.where(Evidence.verified_at >= since)
    events = []
    for ev, ent in db.session.execute(stmt):
        label = str(KIND_LABELS.get(ev.kind, ev.kind.value))
        parts = [ev.title, ev.document_no, ev.authority]
        if ev.amount_yuan:
            parts.append(_("%(amount)s yuan", amount=f"{ev.amount_yuan:,}"))
        summary = "; ".join(p for p in parts if p) + " · " + ev.occurred_on.isoformat()
        at = ev.verified_at or _start_of(ev.occurred_on)
        events.append(Event(f"penalty/{ev.id}", "penalty", at, ent.uscc, ent.name, f"{label}: {ev.title}", summary,
                            public_enterprise_url(ent.uscc) + "#credit"))
    return events


def _grades(scope: Scope, since: datetime | None, limit: int) -> list[Event]:
    stmt = (sa.select(GradeChange, Enterprise, CreditSchemeVersion)
            .join(Enterprise, Enterprise.id == GradeChange.enterprise_id)
            .join(CreditSchemeVersion, CreditSchemeVersion.id == GradeChange.scheme_version_id)
            .where(scope.where(GradeChange.enterprise_id))
            .order_by(GradeChange.recorded_at.desc()).limit(limit))
    if since is not None:
        stmt = stmt.where(GradeChange.recorded_at >= since)
    english = str(get_locale() or "zh_CN").startswith("en")
    events = []
    for change, ent, version in db.session.execute(stmt):
        scheme = credit_services.parsed(version)
        grade = scheme.grade(change.grade) if change.grade in scheme.grade_codes else None
        label = (grade.label_en if english else grade.label) if grade else change.grade
        title = _("Credit grade: %(grade)s (score %(score)s)", grade=label, score=change.score)
        summary = _("Effective %(day)s.", day=change.effective_on.isoformat()) + (
            f" {change.reason}" if change.reason else "")
        events.append(Event(f"grade/{change.id}", "grade", change.recorded_at, ent.uscc, ent.name, title, summary,
                            public_enterprise_url(ent.uscc) + "#credit"))
    return events


SOURCES = {"disclosure": _disclosures, "exceedance": _exceedances, "penalty": _penalties, "grade": _grades}


def recent(scope: Scope, *, since: datetime | None = None, limit: int = DEFAULT_LIMIT,
           kinds: tuple[str, ...] = KINDS) -> list[Event]:
    """The newest `limit` public events in scope (optionally only those since a time), newest first."""
    events: list[Event] = []
    for kind in kinds:
        events += SOURCES[kind](scope, since, limit)
    events.sort(key=lambda e: (e.at, e.key), reverse=True)
    return events[:limit]
