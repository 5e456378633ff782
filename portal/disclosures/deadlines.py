"""Per-jurisdiction annual-report deadlines (DOMAIN §1.4): a regulator lead of a province or prefecture sets the day
for one report year; the longest matching region prefix applies, else the configured default (15 March, inclusive).

Changing a deadline re-dates only PENDING obligations (each audited); obligations already ON_TIME, LATE or MISSING
keep their grade. Services flush; views commit."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from portal.audit.services import record, snapshot
from portal.auth.models import Role, User
from portal.disclosures import rules
from portal.disclosures.models import AnnualDeadline, Obligation, ObligationKind, ObligationStatus
from portal.enterprises.models import Enterprise
from portal.errors import NotAllowed, ValidationFailed
from portal.extensions import db

LATEST_MONTH_DAY = (3, 15)  # Art. 19: by 15 March; a local bureau may set an earlier day, not a later one


def default_due(region_code: str, year: int) -> date:
    """The configured default (DISCLOSURE_ANNUAL_DEADLINE, per-prefix DISCLOSURE_ANNUAL_DEADLINES)."""
    config = current_app.config
    return rules.annual_due_date(year, region_code, config.get("DISCLOSURE_ANNUAL_DEADLINE", "03-15"),
                                 config.get("DISCLOSURE_ANNUAL_DEADLINES") or {})


def configured(region_code: str, year: int) -> AnnualDeadline | None:
    """The most specific deadline row whose jurisdiction contains the region."""
    prefixes = [region_code[:n] for n in (2, 4, 6) if len(region_code) >= n]
    stmt = (sa.select(AnnualDeadline).where(AnnualDeadline.year == year, AnnualDeadline.region_code.in_(prefixes))
            .order_by(sa.func.length(AnnualDeadline.region_code).desc()).limit(1))
    return db.session.scalar(stmt)


def annual_due(region_code: str, year: int) -> date:
    """When the annual report for `year` of an enterprise in `region_code` is due."""
    row = configured(region_code, year)
    return row.due_on if row is not None else default_due(region_code, year)


def check_due(year: int | None, raw: str, today: date) -> tuple[date | None, dict[str, str]]:
    """Parse and check a deadline for the reports of `year`: a real date between 1 January and 15 March of the next
    year, and not in the past."""
    if year is None or not 2021 <= year <= today.year + 1:
        return None, {"year": _("Choose a report year from the list.")}
    try:
        due = date.fromisoformat((raw or "").strip())
    except ValueError:
        return None, {"due_on": _("Enter the deadline as a date, e.g. %(d)s.", d=date(year + 1, 3, 15).isoformat())}
    latest = date(year + 1, *LATEST_MONTH_DAY)
    if not date(year + 1, 1, 1) <= due <= latest:
        return None, {"due_on": _("The annual reports for %(y)d are due between %(a)s and %(b)s (order 24 Art. 19 "
                                  "allows an earlier day, not a later one).", y=year,
                                  a=date(year + 1, 1, 1).isoformat(), b=latest.isoformat())}
    if due < today:
        return None, {"due_on": _("The deadline cannot be in the past: choose %(d)s or a later day.",
                                  d=today.isoformat())}
    return due, {}


def can_set(actor: User) -> bool:
    """A regulator lead of a province or prefecture (the bureaus that run the disclosure system, Art. 21)."""
    return actor.role == Role.REGULATOR_LEAD and len(actor.jurisdiction_code or "") in (2, 4)


def set_deadline(actor: User, year: int | None, raw: str, today: date) -> tuple[AnnualDeadline, int, int]:
    """Set the actor's jurisdiction's deadline for `year`. Returns the row, how many pending obligations were
    re-dated, and how many already graded obligations kept their date and status."""
    if not can_set(actor):
        raise NotAllowed(_("Only the lead of a province or prefecture bureau sets the annual deadline."))
    due, errors = check_due(year, raw, today)
    if errors:
        raise ValidationFailed(errors)
    region = actor.jurisdiction_code
    row = db.session.scalar(sa.select(AnnualDeadline).where(AnnualDeadline.region_code == region,
                                                            AnnualDeadline.year == year))
    before = snapshot(row) if row is not None else None
    if row is None:
        row = AnnualDeadline(region_code=region, year=year, due_on=due, set_by_id=actor.id)
        db.session.add(row)
    else:
        row.due_on, row.set_by_id = due, actor.id
    db.session.flush()
    record(actor, "disclosure_deadline.set", row, before=before)
    redated, kept = _redate(actor, region, year)
    return row, redated, kept


def _redate(actor: User, region: str, year: int) -> tuple[int, int]:
    stmt = (sa.select(Obligation).join(Obligation.enterprise)
            .where(Obligation.kind == ObligationKind.ANNUAL, Obligation.year == year,
                   Enterprise.region_code.startswith(region, autoescape=True)).order_by(Obligation.id))
    redated = kept = 0
    for ob in db.session.scalars(stmt):
        due = annual_due(ob.enterprise.region_code, year)
        if ob.due_on == due:
            continue
        if ob.status != ObligationStatus.PENDING:
            kept += 1
            continue
        before = snapshot(ob)
        ob.due_on = due
        record(actor, "disclosure_obligation.redate", ob, before=before)
        redated += 1
    return redated, kept


def deadlines_in(jurisdiction: str | None) -> list[AnnualDeadline]:
    """Deadlines set for the jurisdiction, above it and below it, newest year first."""
    jurisdiction = jurisdiction or "\x00"
    stmt = (sa.select(AnnualDeadline)
            .where(sa.or_(AnnualDeadline.region_code.startswith(jurisdiction, autoescape=True),
                          sa.literal(jurisdiction).startswith(AnnualDeadline.region_code)))
            .order_by(AnnualDeadline.year.desc(), AnnualDeadline.region_code))
    return list(db.session.scalars(stmt))
