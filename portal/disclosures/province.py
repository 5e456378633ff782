"""Reports from the prefecture to the province (DOMAIN §1.3, §1.10): the published enterprise list within 10 working
days after publication (Art. 9), and the report on the previous year's disclosure work by the end of March (Art. 23),
generated from the portal's obligations, reviews and list and frozen when submitted. Services flush; views commit."""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.audit.services import record, snapshot
from portal.auth.models import User
from portal.core.clock import china_tz
from portal.disclosures import province_rules as pr
from portal.disclosures import rules
from portal.disclosures.models import (DisclosureList, DisclosureListEntry, ListReport, ListStatus, Obligation,
                                       ObligationKind, ObligationStatus, Review, ReviewFlag, WorkReport,
                                       WorkReportStatus)
from portal.enterprises.models import Enterprise
from portal.errors import Conflict, InvalidTransition, NotAllowed, ValidationFailed
from portal.extensions import db
from portal.reference.models import Region
from portal.workdays import services as workdays

MAX_TEXT = 20000


def _is_prefecture_bureau(actor: User) -> bool:
    return actor.role.is_regulator and len(actor.jurisdiction_code or "") == 4


def can_view_region(actor: User, region: str) -> bool:
    """The prefecture itself, its province above it and its counties below it."""
    jurisdiction = actor.jurisdiction_code or ""
    return bool(actor.role.is_regulator and jurisdiction and (region.startswith(jurisdiction)
                                                             or jurisdiction.startswith(region)))


def can_submit(actor: User, region: str) -> bool:
    return _is_prefecture_bureau(actor) and actor.jurisdiction_code == region


# --- the published list -----------------------------------------------------------------------------------------

def list_report_due(lst: DisclosureList) -> date | None:
    return pr.list_report_due(lst.published_on, workdays.is_workday) if lst.published_on else None


def list_report_of(list_id: int) -> ListReport | None:
    return db.session.scalar(sa.select(ListReport).where(ListReport.list_id == list_id))


def list_report_state(lst: DisclosureList, today: date) -> dict | None:
    """For a published list: when the report to the province is due, the report if made, and its timeliness."""
    due = list_report_due(lst)
    if lst.status != ListStatus.PUBLISHED or due is None:
        return None
    report = list_report_of(lst.id)
    return {"due_on": due, "report": report,
            "timeliness": pr.timeliness(due, report.reported_on if report else None, today)}


def report_list(actor: User, lst: DisclosureList, today: date) -> ListReport:
    """Record that the prefecture reported its published list to the province; the entries are frozen."""
    if not can_submit(actor, lst.region_code):
        raise NotAllowed(_("Only the prefecture bureau that drew up the list reports it to the province."))
    if lst.status != ListStatus.PUBLISHED:
        raise InvalidTransition(_("Publish the list before reporting it to the province."))
    existing = list_report_of(lst.id)
    if existing is not None:
        raise Conflict(_("This list was already reported to the province on %(d)s.", d=existing.reported_on.isoformat()))
    entries = db.session.scalars(sa.select(DisclosureListEntry).where(DisclosureListEntry.list_id == lst.id)
                                 .order_by(DisclosureListEntry.id)).all()
    content = {"region_code": lst.region_code, "year": lst.year, "published_on": lst.published_on.isoformat(),
               "entries": [{"uscc": e.enterprise.uscc, "name": e.enterprise.name, "bases": e.bases,
                            "triggers": e.triggers} for e in entries]}
    text = rules.canonical_json(content)
    report = ListReport(list_id=lst.id, region_code=lst.region_code, year=lst.year, due_on=list_report_due(lst),
                        reported_on=today, reported_by_id=actor.id, content_json=text, sha256=rules.sha256_hex(text))
    db.session.add(report)
    db.session.flush()
    record(actor, "disclosure_list.report_to_province", report)
    return report


# --- the yearly work report -------------------------------------------------------------------------------------

def _year_bounds(year: int) -> tuple[datetime, datetime]:
    tz = china_tz()
    return datetime(year, 1, 1, tzinfo=tz), datetime(year + 1, 1, 1, tzinfo=tz)


def work_figures(region: str, year: int, today: date) -> dict:
    """What the portal knows about the prefecture's disclosure work in `year`: obligations due in the year by kind
    and status, the regulators' reviews and their findings, and the year's enterprise list."""
    in_region = Enterprise.region_code.startswith(region, autoescape=True)
    stmt = (sa.select(Obligation.kind, Obligation.status, sa.func.count()).join(Obligation.enterprise)
            .where(in_region, Obligation.due_on >= date(year, 1, 1), Obligation.due_on <= date(year, 12, 31))
            .group_by(Obligation.kind, Obligation.status))
    obligations = {k.value: {s.value: 0 for s in ObligationStatus} for k in ObligationKind}
    for kind, status, n in db.session.execute(stmt):
        obligations[ObligationKind(kind).value][ObligationStatus(status).value] = n
    for counts in obligations.values():
        counts["total"] = sum(counts.values())
    start, end = _year_bounds(year)
    stmt = (sa.select(Review.flag, sa.func.count()).join(Enterprise, Enterprise.id == Review.enterprise_id)
            .where(in_region, Review.created_at >= start, Review.created_at < end).group_by(Review.flag))
    flags = {f.value: 0 for f in ReviewFlag}
    for flag, n in db.session.execute(stmt):
        flags[ReviewFlag(flag).value] = n
    lst = db.session.scalar(sa.select(DisclosureList).where(DisclosureList.region_code == region,
                                                            DisclosureList.year == year))
    list_info = None
    if lst is not None:
        state = list_report_state(lst, today)
        list_info = {"status": lst.status.value, "entries": len(lst.entries),
                     "published_on": lst.published_on.isoformat() if lst.published_on else None,
                     "reported_on": state["report"].reported_on.isoformat() if state and state["report"] else None,
                     "report_timeliness": state["timeliness"] if state else None}
    late_or_missing = sum(c[ObligationStatus.LATE.value] + c[ObligationStatus.MISSING.value]
                          for c in obligations.values())
    return {"region_code": region, "year": year, "obligations": obligations,
            "reviews": {"total": sum(flags.values()), "flags": flags}, "list": list_info,
            "enforcement_candidates": late_or_missing}


def work_report_of(region: str, year: int) -> WorkReport | None:
    return db.session.scalar(sa.select(WorkReport).where(WorkReport.region_code == region, WorkReport.year == year))


def open_work_report(actor: User, year: int | None, today: date) -> WorkReport:
    """The prefecture's report on `year` (a past year); asking twice returns the same report."""
    if not _is_prefecture_bureau(actor):
        raise NotAllowed(_("Only a prefecture-level bureau reports its disclosure work to the province."))
    if year is None or not 2022 <= year < today.year:
        raise ValidationFailed({"year": _("Choose a past year from %(first)d to %(last)d.", first=2022,
                                          last=today.year - 1)})
    region = actor.jurisdiction_code
    report = work_report_of(region, year)
    if report is not None:
        return report
    report = WorkReport(region_code=region, year=year, due_on=pr.work_report_due(year), created_by_id=actor.id)
    db.session.add(report)
    db.session.flush()
    record(actor, "disclosure_work_report.create", report)
    return report


def _check_texts(supervision: str, other: str) -> dict[str, str]:
    errors = {}
    if len(supervision) > MAX_TEXT:
        errors["supervision_text"] = _("The text is at most %(n)d characters.", n=MAX_TEXT)
    if len(other) > MAX_TEXT:
        errors["other_text"] = _("The text is at most %(n)d characters.", n=MAX_TEXT)
    return errors


def save_work_report(actor: User, report: WorkReport, supervision: str, other: str) -> WorkReport:
    if not can_submit(actor, report.region_code):
        raise NotAllowed(_("Only the prefecture bureau edits its own work report."))
    if report.status != WorkReportStatus.DRAFT:
        raise InvalidTransition(_("This work report was submitted and can no longer change."))
    supervision, other = (supervision or "").strip(), (other or "").strip()
    errors = _check_texts(supervision, other)
    if errors:
        raise ValidationFailed(errors)
    before = snapshot(report)
    report.supervision_text, report.other_text = supervision, other
    record(actor, "disclosure_work_report.save", report, before=before)
    return report


def submit_work_report(actor: User, report: WorkReport, supervision: str, other: str, now: datetime) -> WorkReport:
    """Freeze the figures as they stand and the bureau's text; the submission day decides on time or late."""
    save_work_report(actor, report, supervision, other)
    if not report.supervision_text:
        raise ValidationFailed({"supervision_text": _("Describe the supervision and inspection of disclosure in "
                                                      "the year before submitting.")})
    submitted_on = now.astimezone(china_tz()).date()
    content = {"region_code": report.region_code, "year": report.year, "due_on": report.due_on.isoformat(),
               "figures": work_figures(report.region_code, report.year, submitted_on),
               "supervision": report.supervision_text, "other": report.other_text,
               "submitted_by": actor.display_name, "submitted_at": now.isoformat()}
    text = rules.canonical_json(content)
    before = snapshot(report)
    report.status, report.content_json, report.sha256 = WorkReportStatus.SUBMITTED, text, rules.sha256_hex(text)
    report.submitted_at, report.submitted_on, report.submitted_by_id = now, submitted_on, actor.id
    record(actor, "disclosure_work_report.submit", report, before=before)
    return report


# --- the province's view ----------------------------------------------------------------------------------------

def prefectures_in(jurisdiction: str) -> list[tuple[str, str]]:
    """(prefix, name) of the prefectures a regulator sees: those of its province, or its own prefecture."""
    stmt = sa.select(Region).where(Region.level == 2).order_by(Region.code)
    if len(jurisdiction) <= 2:
        stmt = stmt.where(Region.code.startswith(jurisdiction, autoescape=True))
    else:
        stmt = stmt.where(Region.code.startswith(jurisdiction[:4], autoescape=True))
    found = {r.prefix: r.name for r in db.session.scalars(stmt)}
    for model in (DisclosureList, WorkReport):
        codes = db.session.scalars(sa.select(model.region_code).distinct())
        found.update({c: c for c in codes if c not in found and (c.startswith(jurisdiction)
                                                               or jurisdiction.startswith(c))})
    return sorted(found.items())


def overview(jurisdiction: str | None, year: int, today: date) -> list[dict]:
    """One row per prefecture: the list of `year` and its report to the province, and the work report on year-1
    (due 31 March of `year`), each with its timeliness."""
    rows = []
    for prefix, name in prefectures_in(jurisdiction or "\x00"):
        lst = db.session.scalar(sa.select(DisclosureList).where(DisclosureList.region_code == prefix,
                                                                DisclosureList.year == year))
        work = work_report_of(prefix, year - 1)
        work_due = pr.work_report_due(year - 1)
        rows.append({"region": prefix, "name": name, "list": lst,
                     "list_state": list_report_state(lst, today) if lst is not None else None,
                     "work": work, "work_due": work_due,
                     "work_timeliness": pr.timeliness(work_due, work.submitted_on if work else None, today)})
    return rows
