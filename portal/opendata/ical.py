"""One compliance calendar per enterprise (RFC 5545, built with icalendar): every upcoming obligation as an
all-day event with a reminder a week ahead.

- disclosure obligations still pending: the annual report (15 March, Order 24 art. 14) and temporary reports
  (5 working days after the legal document, art. 17; 10 after the list, art. 20), from disclosure_obligations;
- self-monitoring (confirmed plan, manual lines): for each frequency, the current period's last day to monitor and
  the publication deadline 5 working days later (环办监测〔2023〕5号, DOMAIN §5.3);
- permits: the last day to apply for renewal (60 days before expiry, 排污许可管理条例 art. 14) and the expiry;
- permit execution reports still due (排污许可管理办法; portal/permits): annual, half-year, quarterly or monthly per the
  permit's class, on the deadline moved to the next working day (provisional in a year without holiday data);
- credit repair: the first day an application may be made for each public deducting item (minimum publication
  period, 信用修复管理办法) and the earliest removal date of a black listing.
Events are derived from stored rows only (UIDs and DTSTAMPs are stable), so the body and its ETag change only when
an obligation does.

A deadline counted in working days that falls in a year whose official holidays the calendar does not have yet is
*provisional* (portal/workdays): its event is STATUS:TENTATIVE, its summary says so and X-PORTAL-PROVISIONAL is TRUE;
once the year's schedule is imported it becomes exact (and CONFIRMED) on the next fetch.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from icalendar import Alarm, Calendar, Event

from portal.core.clock import china_today
from portal.core.links import public_enterprise_url
from portal.credit import evidence_repair
from portal.credit.models import CreditListEntry, ListKind, ListStatus
from portal.disclosures.catalogue import TRIGGER_LABELS
from portal.disclosures.models import Obligation, ObligationKind, ObligationStatus, TemporaryReport
from portal.enterprises.models import Enterprise, Permit, PermitStatus
from portal.extensions import db
from portal.monitoring import plan as monitoring_plan
from portal.monitoring import plan_rules
from portal.monitoring.models import PlanMode
from portal.workdays.services import add_working_days, is_provisional

RENEWAL_LEAD_DAYS = 60
ALARM_DAYS = 7
PRODID = "-//Enterprise Environmental Credit and Disclosure Portal//Compliance calendar//ZH"


@dataclass(frozen=True)
class Deadline:
    key: str  # stable, the base of the UID
    category: str  # disclosure / monitoring / permit / credit
    on: date
    summary: str
    description: str
    stamp: datetime  # when the underlying row last changed (DTSTAMP)
    provisional: bool = False  # counted in working days of a year without official holiday data

    def as_dict(self) -> dict:
        return {"key": self.key, "category": self.category, "due_on": self.on.isoformat(), "summary": self.summary,
                "description": self.description, "provisional": self.provisional}


def _disclosures(ent: Enterprise) -> list[Deadline]:
    stmt = (sa.select(Obligation, TemporaryReport.trigger)
            .join(TemporaryReport, TemporaryReport.id == Obligation.temporary_report_id, isouter=True)
            .where(Obligation.enterprise_id == ent.id, Obligation.status == ObligationStatus.PENDING)
            .order_by(Obligation.due_on))
    items = []
    for ob, trigger in db.session.execute(stmt):
        if ob.kind == ObligationKind.ANNUAL:
            summary = _("Annual disclosure report %(year)s due", year=ob.year)
            about = _("Order 24 art. 14: the annual environmental information disclosure report is due by 15 March.")
        else:
            summary = _("Temporary disclosure report due: %(trigger)s",
                        trigger=TRIGGER_LABELS.get(trigger, trigger) if trigger else "")
            about = _("Order 24 art. 17: within 5 working days of receiving the legal document.")
        provisional = ob.kind != ObligationKind.ANNUAL and is_provisional(ob.due_on)
        items.append(Deadline(f"obligation/{ob.id}", "disclosure", ob.due_on, summary, about, ob.updated_at,
                              provisional))
    return items


def _monitoring(ent: Enterprise, today: date) -> list[Deadline]:
    """One deadline per manual frequency of the confirmed plan: this period's results, published within 5 working
    days of the period's last day at the latest."""
    plan = monitoring_plan.confirmed_plan(ent.id)
    if plan is None:
        return []
    lines: dict[str, list[str]] = {}
    for item in plan.items:
        if item.mode == PlanMode.MANUAL:
            lines.setdefault(str(getattr(item.frequency, "value", item.frequency)), []).append(
                f"{item.outlet.code if item.outlet else item.outlet_id} {item.pollutant_code}")
    items = []
    for frequency, what in sorted(lines.items()):
        start = plan_rules.period_start(today, frequency)
        last = plan_rules.next_period(start, frequency) - timedelta(days=1)
        publish_by = add_working_days(last, 5)
        items.append(Deadline(f"monitoring/{plan.id}/{frequency}/{start}", "monitoring", publish_by,
                              _("Publish self-monitoring results (%(from)s to %(to)s)", **{"from": start.isoformat(),
                                                                                           "to": last.isoformat()}),
                              _("Monitor by %(last)s and publish the results within 5 working days: %(lines)s",
                                last=last.isoformat(), lines=", ".join(sorted(what))), plan.updated_at,
                              is_provisional(publish_by)))
    return items


def _permits(ent: Enterprise, today: date) -> list[Deadline]:
    items = []
    for permit in db.session.scalars(sa.select(Permit).where(  # a revoked or cancelled permit is not renewed
            Permit.enterprise_id == ent.id, Permit.valid_to >= today,
            Permit.status.not_in((PermitStatus.REVOKED, PermitStatus.CANCELLED)))):
        apply_by = permit.valid_to - timedelta(days=RENEWAL_LEAD_DAYS)
        if apply_by >= today:
            items.append(Deadline(f"permit/{permit.id}/{permit.valid_to}/renew", "permit", apply_by,
                                  _("Apply to renew discharge permit %(no)s", no=permit.permit_no),
                                  _("Regulations on Pollutant Discharge Permits art. 14: apply at least 60 days "
                                    "before the permit expires on %(day)s.", day=permit.valid_to.isoformat()),
                                  permit.updated_at))
        items.append(Deadline(f"permit/{permit.id}/{permit.valid_to}/expiry", "permit", permit.valid_to,
                              _("Discharge permit %(no)s expires", no=permit.permit_no),
                              _("Valid from %(start)s to %(end)s.", start=permit.valid_from.isoformat(),
                                end=permit.valid_to.isoformat()), permit.updated_at))
    return items


def _permit_reports(ent: Enterprise) -> list[Deadline]:
    from portal.permits import services as permit_services
    from portal.permits.rules import period_label

    items = []
    for report in permit_services.open_reports(ent.id):
        label = period_label(report.frequency, report.period_start)
        items.append(Deadline(f"permit-report/{report.id}", "permit", permit_services.effective_due(report),
                              _("Permit execution report %(period)s due (%(no)s)", period=label,
                                no=report.permit.permit_no),
                              _("File the execution report for %(start)s to %(end)s on the national pollutant "
                                "discharge permit platform, then record its receipt number on the portal.",
                                start=report.period_start.isoformat(), end=report.period_end.isoformat()),
                              report.updated_at, permit_services.provisional(report)))
    return items


def _credit(ent: Enterprise, today: date) -> list[Deadline]:
    items = []
    for item in evidence_repair.repairable_items(ent.id):
        if not item.is_public or item.repaired_on is not None:
            continue
        reasons = evidence_repair.ineligibility(item)
        waits = [day for code, day in reasons if code in ("min_period", "list_min_period") and day]
        if not waits or len(waits) != len(reasons):
            continue  # eligible already, or blocked by something a date does not end
        items.append(Deadline(f"repair/{item.id}", "credit", max(waits),
                              _("Credit repair may be applied for: %(title)s", title=item.title),
                              _("The minimum publication period of this item ends; an application for credit repair "
                                "may be made from this day."), item.updated_at))
    listings = db.session.scalars(sa.select(CreditListEntry).where(
        CreditListEntry.enterprise_id == ent.id, CreditListEntry.kind == ListKind.BLACK,
        CreditListEntry.status == ListStatus.LISTED, CreditListEntry.min_until >= today))
    for entry in listings:
        items.append(Deadline(f"blacklist/{entry.id}/{entry.min_until}", "credit", entry.min_until,
                              _("Earliest removal from the black list"),
                              _("Listed on %(day)s: %(reason)s", day=entry.listed_on.isoformat() if entry.listed_on
                                else "", reason=entry.reason), entry.updated_at))
    return items


def deadlines(ent: Enterprise, today: date | None = None) -> list[Deadline]:
    today = today or china_today()
    items = (_disclosures(ent) + _monitoring(ent, today) + _permits(ent, today) + _permit_reports(ent)
             + _credit(ent, today))
    return sorted(items, key=lambda d: (d.on, d.key))


def enterprise_calendar(ent: Enterprise, today: date | None = None) -> bytes:
    host = urlsplit(current_app.config["PUBLIC_BASE_URL"]).hostname or "localhost"
    page = public_enterprise_url(ent.uscc)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", _("%(name)s: compliance calendar", name=ent.name))
    cal.add("x-wr-timezone", "Asia/Shanghai")
    for item in deadlines(ent, today):
        event = Event()
        event.add("uid", f"{item.key.replace('/', '-')}.{ent.uscc}@{host}")
        event.add("dtstamp", (item.stamp or ent.created_at).astimezone(timezone.utc))
        event.add("dtstart", item.on)
        event.add("dtend", item.on + timedelta(days=1))
        summary, description = item.summary, item.description
        if item.provisional:
            summary = _("%(summary)s (provisional)", summary=summary)
            description = "\n\n".join([description, _(
                "Provisional: the official holidays of %(year)d are not in the portal's calendar yet; this working-"
                "day deadline was counted Monday to Friday and may move.", year=item.on.year)])
        event.add("status", "TENTATIVE" if item.provisional else "CONFIRMED")
        event.add("x-portal-provisional", "TRUE" if item.provisional else "FALSE")
        event.add("summary", summary)
        event.add("description", description)
        event.add("categories", [item.category])
        event.add("url", page)
        event.add("transp", "TRANSPARENT")
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", summary)
        alarm.add("trigger", timedelta(days=-ALARM_DAYS))
        event.add_component(alarm)
        cal.add_component(event)
    return cal.to_ical()
