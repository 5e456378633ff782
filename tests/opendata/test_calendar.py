"""The compliance calendar (iCalendar): every upcoming obligation of one enterprise, parsed back with icalendar."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from icalendar import Calendar

from portal.core.clock import china_today
from portal.credit import services as credit_services
from portal.credit.evidence import add_evidence
from portal.credit.models import CreditListEntry, EvidenceKind, EvidenceSource, LedgerEntry, ListKind, ListStatus
from portal.disclosures.models import Obligation, ObligationKind, ObligationStatus, TemporaryReport, Trigger
from portal.monitoring.models import Frequency, MonitoringPlan, MonitoringPlanItem, PlanMode, PlanStatus
from portal.workdays.services import add_working_days, is_provisional
from tests.factories import make_enterprise, make_outlet, make_permit



@pytest.fixture
def obligations(db):
    today = china_today()  # the calendar counts in China time (CI may run after 16:00 UTC)
    # National scheme (Liaoning): repair by application is offered (Jiangsu's scheme has none, DOMAIN §2.3).
    ent = make_enterprise("华能化工有限公司", region_code="210100")
    make_permit(ent, 1, valid_from=today - timedelta(days=1000), valid_to=today + timedelta(days=100))
    make_permit(ent, 2, valid_from=today - timedelta(days=2000), valid_to=today - timedelta(days=10))  # expired
    make_permit(ent, 3, valid_from=today - timedelta(days=1000), valid_to=today + timedelta(days=30))  # renew late
    temp = TemporaryReport(enterprise_id=ent.id, trigger=Trigger.ADMIN_PENALTY)
    db.session.add(temp)
    db.session.flush()
    db.session.add_all([
        Obligation(ref=f"annual:{ent.id}:{today.year}", enterprise_id=ent.id, kind=ObligationKind.ANNUAL,
                   year=today.year, due_on=today + timedelta(days=40), status=ObligationStatus.PENDING),
        Obligation(ref=f"temporary:{temp.id}", enterprise_id=ent.id, kind=ObligationKind.TEMPORARY,
                   temporary_report_id=temp.id, due_on=today + timedelta(days=3), status=ObligationStatus.PENDING),
        Obligation(ref=f"annual:{ent.id}:{today.year - 1}", enterprise_id=ent.id, kind=ObligationKind.ANNUAL,
                   year=today.year - 1, due_on=today - timedelta(days=300), status=ObligationStatus.ON_TIME),
    ])
    credit_services.seed_schemes()
    version = credit_services.version_for_region(ent.region_code)
    penalty = add_evidence(enterprise_id=ent.id, kind=EvidenceKind.PENALTY, source=EvidenceSource.REGULATOR,
                           source_ref="pen:cal", occurred_on=today - timedelta(days=20), title="超标排放",
                           verified=True)
    db.session.add(LedgerEntry(enterprise_id=ent.id, evidence_id=penalty.id, scheme_version_id=version.id,
                               rule_code="penalty", rule_label="行政处罚", points=-3, counts_from=penalty.occurred_on))
    db.session.add(CreditListEntry(enterprise_id=ent.id, kind=ListKind.BLACK, status=ListStatus.LISTED,
                                   basis="veto", reason="篡改监测数据", listed_on=today - timedelta(days=30),
                                   min_until=today + timedelta(days=335), max_until=today + timedelta(days=1065)))
    db.session.commit()
    return ent, penalty


def parse(response) -> Calendar:
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/calendar")
    cal = Calendar.from_ical(response.data)
    assert cal.name == "VCALENDAR"
    assert str(cal["VERSION"]) == "2.0" and cal["PRODID"]
    return cal


def events_of(cal) -> list:
    events = list(cal.walk("VEVENT"))
    for ev in events:
        for prop in ("UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY"):
            assert prop in ev, prop
        assert ev.decoded("DTEND") == ev.decoded("DTSTART") + timedelta(days=1)  # all-day
        alarms = ev.walk("VALARM")
        assert alarms and alarms[0].decoded("TRIGGER") == timedelta(days=-7)
    assert len({str(ev["UID"]) for ev in events}) == len(events)
    return events


def test_calendar_has_every_upcoming_obligation_in_date_order(client, obligations):
    ent, _penalty = obligations
    today = china_today()
    cal = parse(client.get(f"/enterprises/{ent.uscc}/calendar.ics?lang=en"))
    got = [(ev.decoded("DTSTART"), str(ev["SUMMARY"])) for ev in events_of(cal)]
    p1, p3 = f"{ent.uscc}001P", f"{ent.uscc}003P"
    expected = [
        (today + timedelta(days=3), "Temporary disclosure report due: Administrative penalty"),
        (today + timedelta(days=30), f"Discharge permit {p3} expires"),
        (today + timedelta(days=40), f"Annual disclosure report {today.year} due"),
        (today + timedelta(days=40), f"Apply to renew discharge permit {p1}"),
        (today + timedelta(days=100), f"Discharge permit {p1} expires"),
        (today + timedelta(days=335), "Earliest removal from the black list"),
    ]
    repair = [g for g in got if g[1].startswith("Credit repair may be applied for")]
    assert len(repair) == 1 and repair[0][0] > today  # the 3-month (general) or 1-year minimum period
    assert "超标排放" in repair[0][1]
    assert [g for g in got if g not in repair] == expected
    assert [g[0] for g in got] == sorted(g[0] for g in got)


def test_calendar_is_stable_between_requests_so_clients_can_use_its_etag(client, obligations):
    ent, _p = obligations
    first = client.get(f"/enterprises/{ent.uscc}/calendar.ics")
    second = client.get(f"/enterprises/{ent.uscc}/calendar.ics")
    assert first.data == second.data
    assert client.get(f"/enterprises/{ent.uscc}/calendar.ics",
                      headers={"If-None-Match": first.headers["ETag"]}).status_code == 304


def test_confirmed_manual_monitoring_lines_give_a_publication_deadline_per_frequency(client, db):
    ent = make_enterprise("华能化工有限公司")
    outlet = make_outlet(ent, "DW001")
    plan = MonitoringPlan(enterprise_id=ent.id, status=PlanStatus.CONFIRMED, effective_from=date(2024, 1, 1))
    db.session.add(plan)
    db.session.flush()
    for code, mode, frequency in (("w01018", PlanMode.MANUAL, Frequency.QUARTERLY),
                                  ("w21003", PlanMode.MANUAL, Frequency.QUARTERLY),
                                  ("w01001", PlanMode.AUTO, Frequency.CONTINUOUS)):
        db.session.add(MonitoringPlanItem(plan_id=plan.id, outlet_id=outlet.id, pollutant_code=code, mode=mode,
                                          frequency=frequency, averaging="daily"))
    db.session.commit()
    today = china_today()
    quarter_start = date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
    last = (quarter_start + timedelta(days=95)).replace(day=1) - timedelta(days=1)
    cal = parse(client.get(f"/enterprises/{ent.uscc}/calendar.ics?lang=en"))
    events = events_of(cal)
    assert len(events) == 1  # one per frequency; automatic lines have no publication deadline here
    event = events[0]
    due = add_working_days(last, 5)
    mark = " (provisional)" if is_provisional(due) else ""  # a year without official holidays (portal/workdays)
    assert str(event["SUMMARY"]) == f"Publish self-monitoring results ({quarter_start} to {last}){mark}"
    assert event.decoded("DTSTART") == due > last
    assert "DW001 w01018" in str(event["DESCRIPTION"]) and "DW001 w21003" in str(event["DESCRIPTION"])
    assert "w01001" not in str(event["DESCRIPTION"])


def test_a_filed_obligation_leaves_the_calendar(client, obligations, db):
    ent, _p = obligations
    ob = db.session.query(Obligation).filter_by(kind=ObligationKind.TEMPORARY).one()
    ob.status = ObligationStatus.ON_TIME
    db.session.commit()
    cal = parse(client.get(f"/enterprises/{ent.uscc}/calendar.ics?lang=en"))
    assert not any("Temporary disclosure" in str(ev["SUMMARY"]) for ev in cal.walk("VEVENT"))


def test_an_enterprise_with_no_obligations_gets_an_empty_valid_calendar(client, db):
    ent = make_enterprise("无义务企业")
    db.session.commit()
    cal = parse(client.get(f"/enterprises/{ent.uscc}/calendar.ics"))
    assert list(cal.walk("VEVENT")) == []


def test_unknown_enterprise_calendar_is_404(client, db):
    assert client.get("/enterprises/123/calendar.ics").status_code == 404
