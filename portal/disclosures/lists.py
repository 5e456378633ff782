"""The annual enterprise list (企业名单, DOMAIN §1.2–1.3): a prefecture bureau drafts it, gives public notice for at
least 10 working days, then publishes it; publication creates the listed enterprises' annual obligations."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.audit.services import record, snapshot
from portal.auth.models import User
from portal.auth.rules import in_jurisdiction
from portal.disclosures import art8, rules
from portal.disclosures.models import DisclosureList, DisclosureListEntry, ListStatus
from portal.enterprises.models import Enterprise, KeyUnitYear
from portal.enterprises.rules import check_uscc
from portal.errors import InvalidTransition, NotAllowed, ValidationFailed
from portal.extensions import db
from portal.workdays import services as workdays


def can_draw_up(actor: User) -> bool:
    """Only a prefecture-level bureau (a 4-digit jurisdiction) draws up a list (Art. 9)."""
    return actor.role.is_regulator and len(actor.jurisdiction_code or "") == 4


def create_list(actor: User, year: int) -> DisclosureList:
    """The actor's prefecture list for `year`; asking twice returns the same list."""
    if not can_draw_up(actor):
        raise NotAllowed(_("Only a prefecture-level bureau draws up the enterprise list."))
    region = actor.jurisdiction_code
    existing = db.session.scalar(sa.select(DisclosureList).where(DisclosureList.region_code == region,
                                                                 DisclosureList.year == year))
    if existing is not None:
        return existing
    lst = DisclosureList(region_code=region, year=year, created_by_id=actor.id)
    db.session.add(lst)
    db.session.flush()
    record(actor, "disclosure_list.create", lst)
    add_period_enterprises(actor, lst)
    return lst


def _upsert(actor: User, lst: DisclosureList, ent: Enterprise, bases: list[str], triggers: list[str],
            note: str) -> DisclosureListEntry:
    entry = db.session.scalar(sa.select(DisclosureListEntry).where(DisclosureListEntry.list_id == lst.id,
                                                         DisclosureListEntry.enterprise_id == ent.id))
    before = snapshot(entry) if entry is not None else None
    if entry is None:
        entry = DisclosureListEntry(list_id=lst.id, enterprise_id=ent.id)
        db.session.add(entry)
    entry.bases, entry.triggers, entry.note = sorted(set(bases)), sorted(set(triggers)), note
    db.session.flush()
    record(actor, "disclosure_list.entry", entry, before=before, enterprise_id=ent.id)
    return entry


def add_entry(actor: User, lst: DisclosureList, raw_uscc: str, bases: list[str], triggers: list[str],
              note: str = "", document_no: str = "") -> DisclosureListEntry:
    """Put an enterprise of the list's prefecture on the list (or update its bases); never after publication.
    Art. 8 events ticked here are events of the previous year and are stored with their document number; a listed
    company or bond issuer needs no new event while an earlier one's 3-year period covers the list year."""
    rules.list_transition(lst.status, "edit")
    check = check_uscc(raw_uscc)
    if not check.ok:
        raise ValidationFailed({"uscc": check.error})
    ent = db.session.scalar(sa.select(Enterprise).where(Enterprise.uscc == check.value))
    if ent is None or not in_jurisdiction(lst.region_code, ent.region_code):
        raise ValidationFailed({"uscc": _("No enterprise with this credit code is registered in this prefecture.")})
    errors = rules.check_entry(bases, triggers, in_period=art8.in_period(ent.id, lst.year))
    document_no = (document_no or "").strip()
    if triggers and not 0 < len(document_no) <= 100:
        errors["document_no"] = _("Enter the number of the legal document (e.g. the penalty decision).")
    if errors:
        raise ValidationFailed(errors)
    if triggers:
        art8.record_entry_events(actor, ent, bases, triggers, lst.year - 1, document_no)
    return _upsert(actor, lst, ent, bases, triggers, (note or "").strip())


def add_period_enterprises(actor: User, lst: DisclosureList) -> int:
    """Put every enterprise of the prefecture inside an Art. 8 period covering the list year on the list (Art. 10),
    with the period's basis and the previous year's events; enterprises already listed on that basis are left as
    they are. Returns how many entries were added or changed."""
    rules.list_transition(lst.status, "edit")
    current = {e.enterprise_id: e for e in _entries(lst)}
    changed = 0
    for ent, rows in art8.in_period_enterprises(lst.region_code, lst.year):
        entry = current.get(ent.id)
        bases = sorted({r.basis for r in rows} | set(entry.bases if entry else []))
        triggers = sorted({r.trigger for r in rows if r.year == lst.year - 1} | set(entry.triggers if entry else []))
        if entry is not None and entry.bases == bases and entry.triggers == triggers:
            continue
        _upsert(actor, lst, ent, bases, triggers, entry.note if entry else "")
        changed += 1
    return changed


def add_key_units(actor: User, lst: DisclosureList) -> int:
    """Add every key unit of the prefecture for the year (重点排污单位名录) that is not on the list yet."""
    rules.list_transition(lst.status, "edit")
    on_list = sa.select(DisclosureListEntry.enterprise_id).where(DisclosureListEntry.list_id == lst.id)
    key_units = sa.select(KeyUnitYear.enterprise_id).where(KeyUnitYear.year == lst.year)
    stmt = (sa.select(Enterprise).where(Enterprise.id.in_(key_units), Enterprise.id.not_in(on_list),
                                        Enterprise.region_code.startswith(lst.region_code, autoescape=True))
            .order_by(Enterprise.id))
    added = 0
    for ent in db.session.scalars(stmt).all():
        _upsert(actor, lst, ent, ["key_unit"], [], "")
        added += 1
    return added


def remove_entry(actor: User, lst: DisclosureList, entry: DisclosureListEntry) -> None:
    """Drafts and lists under notice may still drop an enterprise (e.g. after a comment); the removal is audited."""
    rules.list_transition(lst.status, "edit")
    if entry.list_id != lst.id:
        raise NotAllowed(_("This entry belongs to another list."))
    before = snapshot(entry)
    record(actor, "disclosure_list.entry_delete", entry, before=before, enterprise_id=entry.enterprise_id)
    db.session.delete(entry)
    db.session.flush()


def _entries(lst: DisclosureList) -> list[DisclosureListEntry]:
    stmt = (sa.select(DisclosureListEntry).where(DisclosureListEntry.list_id == lst.id)
            .order_by(DisclosureListEntry.id))
    return list(db.session.scalars(stmt))


def start_notice(actor: User, lst: DisclosureList, today: date) -> DisclosureList:
    if not _entries(lst):
        raise ValidationFailed({"entries": _("Put at least one enterprise on the list first.")})
    before = snapshot(lst)
    lst.status = ListStatus(rules.list_transition(lst.status, "start_notice"))
    lst.notice_started_on = today
    lst.notice_ends_on = rules.notice_end(today, workdays.is_workday)
    record(actor, "disclosure_list.start_notice", lst, before=before)
    return lst


def publish_list(actor: User, lst: DisclosureList, today: date) -> DisclosureList:
    """Publish after the notice has run its ≥ 10 working days; each listed enterprise owes the year's report."""
    rules.list_transition(lst.status, "publish")
    if lst.notice_ends_on is None or today <= lst.notice_ends_on:
        raise InvalidTransition(_("The public notice runs until %(d)s; publish the list after that day.",
                                  d=lst.notice_ends_on.isoformat() if lst.notice_ends_on else "—"))
    before = snapshot(lst)
    lst.status, lst.published_on = ListStatus.PUBLISHED, today
    record(actor, "disclosure_list.publish", lst, before=before)
    from portal.disclosures.services import ensure_annual_obligation
    for entry in _entries(lst):
        ensure_annual_obligation(entry.enterprise, lst.year)
    return lst


def can_view(actor: User, lst: DisclosureList) -> bool:
    """Regulators of the prefecture, of its province and of its counties see the list while it is drafted."""
    jurisdiction = actor.jurisdiction_code or ""
    return bool(actor.role.is_regulator and jurisdiction
                and (lst.region_code.startswith(jurisdiction) or jurisdiction.startswith(lst.region_code)))


def can_edit(actor: User, lst: DisclosureList) -> bool:
    return can_draw_up(actor) and actor.jurisdiction_code == lst.region_code


def lists_for(jurisdiction: str | None) -> list[DisclosureList]:
    jurisdiction = jurisdiction or "\x00"
    stmt = (sa.select(DisclosureList)
            .where(sa.or_(DisclosureList.region_code.startswith(jurisdiction, autoescape=True),
                          sa.literal(jurisdiction).startswith(DisclosureList.region_code)))
            .order_by(DisclosureList.year.desc(), DisclosureList.region_code))
    return list(db.session.scalars(stmt))


def public_lists_of(enterprise_id: int) -> list[DisclosureList]:
    """Lists under notice or published that name this enterprise (for its public page)."""
    stmt = (sa.select(DisclosureList).join(DisclosureListEntry, DisclosureListEntry.list_id == DisclosureList.id)
            .where(DisclosureListEntry.enterprise_id == enterprise_id, DisclosureList.status != ListStatus.DRAFT)
            .order_by(DisclosureList.year.desc()))
    return list(db.session.scalars(stmt))


def list_published_on(enterprise_id: int, year: int) -> date | None:
    """When the enterprise's list for `year` was published (None while it is on no published list)."""
    stmt = (sa.select(DisclosureList.published_on).join(DisclosureListEntry,
                                                        DisclosureListEntry.list_id == DisclosureList.id)
            .where(DisclosureListEntry.enterprise_id == enterprise_id, DisclosureList.year == year,
                   DisclosureList.status == ListStatus.PUBLISHED)
            .order_by(DisclosureList.published_on))
    return db.session.scalar(stmt)
