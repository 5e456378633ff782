"""Calendars that never silently guess: a working-day deadline in a year without official holidays is provisional
in the pages, the API and the iCalendar feed; an administrator imports the year's schedule as a table in one upload
(every bad row reported, nothing half-written) and the deadline becomes exact at once, audited."""
from __future__ import annotations

import io
from datetime import date

import pytest
import sqlalchemy as sa
from icalendar import Calendar
from openpyxl import Workbook

from portal.audit.models import AuditRecord
from portal.auth.models import Role
from portal.disclosures.models import Obligation, TemporaryReport, Trigger
from portal.workdays import importing, services
from portal.workdays.models import CalendarOverride, CalendarYear
from tests.factories import make_enterprise, make_user

YEAR = services.known_years().stop  # the first year the packaged calendar has no holidays for
RECEIVED = date(YEAR - 1, 12, 28)
SCHEDULE = f"日期,类型,说明\n{YEAR}-01-01,放假,元旦\n{YEAR}-02-06,调休上班,春节\n"


def _csv(text: str) -> tuple[io.BytesIO, str]:
    return io.BytesIO(text.encode("utf-8")), "schedule.csv"


@pytest.fixture
def pending(db):
    """A temporary report received late in December whose 5 working days end in the unknown year."""
    ent = make_enterprise()
    staff = make_user(Role.ENTERPRISE_STAFF, enterprise=ent)
    report = TemporaryReport(enterprise_id=ent.id, trigger=Trigger.ADMIN_PENALTY, created_by_id=staff.id,
                             legal_doc_no="淮环罚〔2026〕9号", legal_doc_received_on=RECEIVED, changes=[], data={})
    db.session.add(report)
    db.session.flush()
    report.due_on = services.add_working_days(RECEIVED, 5)
    ob = Obligation(ref=f"temporary:{report.id}", enterprise_id=ent.id, kind="temporary", year=RECEIVED.year,
                    temporary_report_id=report.id, due_on=report.due_on)
    db.session.add(ob)
    db.session.commit()
    return ent, staff, report, ob


def test_the_fallback_due_date_is_provisional_everywhere(db, client, login, pending):
    ent, staff, report, ob = pending
    assert ob.due_on == date(YEAR, 1, 4) and services.is_provisional(ob.due_on)
    assert not services.is_provisional(date(YEAR - 1, 12, 31))

    body = client.get(f"/api/v1/enterprises/{ent.uscc}/deadlines").get_json()["data"]
    item = next(d for d in body["deadlines"] if d["key"] == f"obligation/{ob.id}")
    assert item["due_on"] == f"{YEAR}-01-04" and item["provisional"] is True

    cal = Calendar.from_ical(client.get(f"/enterprises/{ent.uscc}/calendar.ics?lang=en").data)
    event = next(e for e in cal.walk("VEVENT") if str(e["UID"]).startswith(f"obligation-{ob.id}."))
    assert str(event["STATUS"]) == "TENTATIVE" and str(event["X-PORTAL-PROVISIONAL"]) == "TRUE"
    assert "(provisional)" in str(event["SUMMARY"])

    page = login(staff).get("/my/disclosures?lang=en").get_data(as_text=True)
    assert f"{YEAR}-01-04" in page and "provisional" in page


def test_the_import_makes_the_deadline_exact_and_is_audited(db, client, login, pending):
    ent, staff, report, ob = pending
    admin = make_user(Role.ADMIN)
    page = login(admin).get("/admin/calendar?lang=en").get_data(as_text=True)
    assert "no official holidays for" in page or YEAR > date.today().year + 1

    upload, name = _csv(SCHEDULE)
    response = client.post("/admin/calendar/import", data={"year": str(YEAR), "file": (upload, name)},
                           content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.expire_all()
    # 1 January is now a holiday: the fifth working day after 28 December is 5 January.
    assert db.session.get(Obligation, ob.id).due_on == date(YEAR, 1, 5)
    assert db.session.get(TemporaryReport, report.id).due_on == date(YEAR, 1, 5)
    assert db.session.get(CalendarYear, YEAR).holidays == 1
    assert db.session.get(CalendarOverride, date(YEAR, 2, 6)).is_workday is True
    audit = db.session.scalar(sa.select(AuditRecord).where(AuditRecord.action == "calendar_year.import"))
    assert audit.actor_id == admin.id and audit.after["recomputed"][0]["to"] == f"{YEAR}-01-05"

    body = client.get(f"/api/v1/enterprises/{ent.uscc}/deadlines").get_json()["data"]
    item = next(d for d in body["deadlines"] if d["key"] == f"obligation/{ob.id}")
    assert item == {**item, "due_on": f"{YEAR}-01-05", "provisional": False}
    cal = Calendar.from_ical(client.get(f"/enterprises/{ent.uscc}/calendar.ics").data)
    event = next(e for e in cal.walk("VEVENT") if str(e["UID"]).startswith(f"obligation-{ob.id}."))
    assert str(event["STATUS"]) == "CONFIRMED" and "provisional" not in str(event["SUMMARY"])
    page = login(staff).get("/my/disclosures?lang=en").get_data(as_text=True)
    assert f"{YEAR}-01-05" in page and "provisional" not in page


def test_an_xlsx_schedule_is_read(db, login):
    book = Workbook()
    sheet = book.active
    sheet.append(["date", "kind", "note"])
    sheet.append([date(YEAR, 10, 1), "holiday", "National Day"])
    sheet.append([f"{YEAR}-09-26", "makeup", ""])
    out = io.BytesIO()
    book.save(out)
    rows, errors = importing.parse(out.getvalue(), YEAR)
    assert errors == [] and [(r.day, r.is_workday) for r in rows] == [(date(YEAR, 10, 1), False),
                                                                       (date(YEAR, 9, 26), True)]


def test_every_bad_row_is_reported_and_nothing_is_written(db, login):
    client = login(make_user(Role.ADMIN))
    text = (f"日期,类型\n{YEAR}-01-01,放假\n{YEAR}-13-01,放假\n{YEAR - 1}-12-31,放假\n{YEAR}-01-01,放假\n"
            f"{YEAR}-02-08,调休上班\n{YEAR}-02-13,上课\n")
    upload, name = _csv(text)
    response = client.post("/admin/calendar/import?lang=en", data={"year": str(YEAR), "file": (upload, name)},
                           content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "Nothing was imported" in page
    for fragment in ("YYYY-MM-DD", f"is not in {YEAR}", "already on line 2", "Saturday or Sunday", "调休上班"):
        assert fragment in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CalendarOverride)) == 0
    assert db.session.get(CalendarYear, YEAR) is None


@pytest.mark.parametrize("content, message", [
    (b"", "The file is empty"),
    ("日期\n2027-01-01\n".encode(), "missing columns: 类型"),
    (b"\x00\x01binary", "neither CSV text nor an XLSX"),
    (b"PK\x03\x04broken", "may be damaged"),
])
def test_unreadable_files_are_refused_with_a_reason(db, login, content, message):
    client = login(make_user(Role.ADMIN))
    response = client.post("/admin/calendar/import?lang=en", data={"year": str(YEAR),
                                                                   "file": (io.BytesIO(content), "x.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert db.session.get(CalendarYear, YEAR) is None


def test_a_schedule_without_holidays_is_refused(db):
    rows, errors = importing.parse(f"日期,类型\n{YEAR}-02-06,调休上班\n".encode(), YEAR)
    assert errors and errors[0].line == 0 and ("no holiday" in errors[0].message or "没有放假日" in errors[0].message)


@pytest.mark.parametrize("role", [Role.REGULATOR_LEAD, Role.ENTERPRISE_STAFF])
def test_only_administrators_import(db, login, role):
    enterprise = make_enterprise() if role.is_enterprise else None
    client = login(make_user(role, enterprise=enterprise))
    upload, name = _csv(SCHEDULE)
    response = client.post("/admin/calendar/import", data={"year": str(YEAR), "file": (upload, name)},
                           content_type="multipart/form-data")
    assert response.status_code == 403 and db.session.get(CalendarYear, YEAR) is None
    assert client.get("/admin/calendar/template.csv").status_code == 403


def test_the_admin_sees_the_gap_on_every_page_and_the_template(db, login):
    client = login(make_user(Role.ADMIN))
    today = date.today()
    page = client.get("/admin/calendar?lang=en").get_data(as_text=True)
    gaps = services.gap_years(today)
    assert ("no official holidays for" in page) == bool(gaps)
    template = client.get("/admin/calendar/template.csv")
    assert template.status_code == 200 and "日期,类型,说明" in template.data.decode("utf-8-sig")


def test_gap_years_are_those_without_package_data_or_import(db):
    assert services.gap_years(date(YEAR - 1, 6, 1)) == [YEAR]
    db.session.add(CalendarYear(year=YEAR, holidays=1))
    db.session.flush()
    services.forget_calendar()
    assert services.gap_years(date(YEAR - 1, 6, 1)) == []
    assert not services.is_provisional(date(YEAR, 1, 4))
