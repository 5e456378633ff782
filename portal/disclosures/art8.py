"""Art. 8 events of listed companies and bond issuers and the list periods they open (Art. 10, periods.py).

A regulator records each event (trigger, year, legal document number) for an enterprise of its jurisdiction; the
enterprise list of year Y then includes every enterprise inside an active period. Services flush; views commit."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.audit.services import record
from portal.auth.models import User
from portal.auth.rules import in_jurisdiction
from portal.disclosures import periods, rules
from portal.disclosures.models import Art8Event
from portal.enterprises.models import Enterprise
from portal.enterprises.rules import check_uscc
from portal.errors import NotAllowed, ValidationFailed
from portal.extensions import db

FIRST_EVENT_YEAR = 2021  # events of 2021 put enterprises on the first lists under order 24 (effective 8 Feb 2022)
ART8_BASES = ("listed", "bond")


def check_event(basis: str, trigger: str, year: int | None, document_no: str, today: date) -> dict[str, str]:
    errors = {}
    if basis not in ART8_BASES:
        errors["basis"] = _("Choose listed company or bond issuer.")
    if trigger not in rules.ART8_TRIGGERS:
        errors["trigger"] = _("Choose the Art. 8 event.")
    if year is None or not FIRST_EVENT_YEAR <= year <= today.year:
        errors["year"] = _("Enter the year of the event, from %(first)d to %(last)d.", first=FIRST_EVENT_YEAR,
                           last=today.year)
    if not document_no:
        errors["document_no"] = _("Enter the number of the legal document (e.g. the penalty decision).")
    elif len(document_no) > 100:
        errors["document_no"] = _("The document number is at most 100 characters.")
    return errors


def _store(actor: User, ent: Enterprise, basis: str, trigger: str, year: int, document_no: str) -> Art8Event:
    existing = db.session.scalar(sa.select(Art8Event).where(
        Art8Event.enterprise_id == ent.id, Art8Event.trigger == trigger, Art8Event.year == year,
        Art8Event.document_no == document_no))
    if existing is not None:
        return existing
    event = Art8Event(enterprise_id=ent.id, basis=basis, trigger=trigger, year=year, document_no=document_no,
                      recorded_by_id=actor.id)
    db.session.add(event)
    db.session.flush()
    record(actor, "disclosure_art8.create", event)
    return event


def record_event(actor: User, raw_uscc: str, basis: str, trigger: str, year: int | None, document_no: str,
                 today: date) -> Art8Event:
    """Record one Art. 8 event of an enterprise in the actor's jurisdiction; recording it twice returns the first."""
    if not actor.role.is_regulator:
        raise NotAllowed(_("Only regulators record Art. 8 events."))
    document_no = (document_no or "").strip()
    errors = check_event(basis, trigger, year, document_no, today)
    check = check_uscc(raw_uscc or "")
    ent = None
    if not check.ok:
        errors["uscc"] = check.error
    else:
        ent = db.session.scalar(sa.select(Enterprise).where(Enterprise.uscc == check.value))
        if ent is None or not in_jurisdiction(actor.jurisdiction_code, ent.region_code):
            errors["uscc"] = _("No enterprise with this credit code is registered in your jurisdiction.")
    if errors:
        raise ValidationFailed(errors)
    return _store(actor, ent, basis, trigger, year, document_no)


def record_entry_events(actor: User, ent: Enterprise, bases: list[str], triggers: list[str], year: int,
                        document_no: str) -> list[Art8Event]:
    """The Art. 8 events ticked on a list entry (events of the year before the list year)."""
    basis = "listed" if "listed" in bases else "bond"
    return [_store(actor, ent, basis, t, year, document_no) for t in sorted(set(triggers))]


def _as_event(row: Art8Event) -> periods.Event:
    return periods.Event(row.trigger, row.year, row.document_no)


def events_by_enterprise(enterprise_ids) -> dict[int, list[Art8Event]]:
    ids = list(enterprise_ids)
    result: dict[int, list[Art8Event]] = {}
    if not ids:
        return result
    stmt = sa.select(Art8Event).where(Art8Event.enterprise_id.in_(ids)).order_by(Art8Event.year, Art8Event.id)
    for row in db.session.scalars(stmt):
        result.setdefault(row.enterprise_id, []).append(row)
    return result


def periods_of(rows: list[Art8Event]) -> list[periods.Period]:
    return periods.art8_periods(_as_event(r) for r in rows)


def in_period(enterprise_id: int, year: int) -> bool:
    rows = events_by_enterprise([enterprise_id]).get(enterprise_id, [])
    return periods.period_for(periods_of(rows), year) is not None


def list_basis(enterprise_ids, year: int) -> dict[int, dict]:
    """For the list pages: each enterprise's Art. 8 period covering `year`, the year it stays on the list until,
    and the events behind the period."""
    info = {}
    for ent_id, rows in events_by_enterprise(enterprise_ids).items():
        spans = periods_of(rows)
        current = periods.period_for(spans, year)
        if current is None:
            continue
        info[ent_id] = {"period": current, "until": periods.listed_until(spans, year),
                        "events": [r for r in rows if any(e.trigger == r.trigger and e.year == r.year
                                                          and e.document_no == r.document_no
                                                          for e in current.events)]}
    return info


def in_period_enterprises(region_code: str, year: int) -> list[tuple[Enterprise, list[Art8Event]]]:
    """Enterprises of the region with an Art. 8 period covering `year`, with all their events."""
    with_events = sa.select(Art8Event.enterprise_id).where(Art8Event.year < year)
    stmt = (sa.select(Enterprise).where(Enterprise.id.in_(with_events),
                                        Enterprise.region_code.startswith(region_code, autoescape=True))
            .order_by(Enterprise.id))
    ents = list(db.session.scalars(stmt))
    rows = events_by_enterprise(e.id for e in ents)
    return [(e, rows[e.id]) for e in ents if periods.period_for(periods_of(rows[e.id]), year) is not None]


def events_in(jurisdiction: str | None, limit: int = 300) -> list[Art8Event]:
    stmt = (sa.select(Art8Event).join(Art8Event.enterprise)
            .where(Enterprise.region_code.startswith(jurisdiction or "\x00", autoescape=True))
            .order_by(Art8Event.year.desc(), Art8Event.id.desc()).limit(limit))
    return list(db.session.scalars(stmt))
