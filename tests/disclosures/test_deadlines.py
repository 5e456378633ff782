"""Per-jurisdiction annual deadlines (DOMAIN §1.4): checks, resolution by region prefix, re-dating pending
obligations only, and the deadline job and filings using the configured day."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
import sqlalchemy as sa

from portal.audit.models import AuditRecord
from portal.auth.models import Role
from portal.core.clock import china_today
from portal.disclosures import deadlines, services, supervision
from portal.disclosures.models import AnnualDeadline, Obligation, ObligationKind, ObligationStatus
from portal.errors import NotAllowed, ValidationFailed
from tests.factories import make_enterprise, make_user

TODAY = date(2026, 1, 5)


@pytest.mark.parametrize("year, raw, field", [
    (None, "2026-03-01", "year"), (2019, "2020-03-01", "year"),
    (2025, "", "due_on"), (2025, "15/03/2026", "due_on"), (2025, "2026-02-30", "due_on"),
    (2025, "2026-03-16", "due_on"),   # later than Art. 19 allows
    (2025, "2025-12-31", "due_on"),   # not in the year after the report year
    (2025, "2026-01-04", "due_on"),   # in the past
])
def test_bad_deadlines_name_the_field(app_ctx, year, raw, field):
    due, errors = deadlines.check_due(year, raw, TODAY)
    assert due is None and field in errors


@pytest.mark.parametrize("raw, due", [("2026-03-15", date(2026, 3, 15)), (" 2026-01-05 ", date(2026, 1, 5)),
                                      ("2026-02-10", date(2026, 2, 10))])
def test_good_deadlines(app_ctx, raw, due):
    assert deadlines.check_due(2025, raw, TODAY) == (due, {})


@pytest.fixture
def lead(db):
    return make_user(Role.REGULATOR_LEAD, jurisdiction_code="3208")


def test_the_longest_prefix_wins_and_the_default_is_15_march(db, lead):
    huaian, shenyang = make_enterprise(region_code="320826"), make_enterprise(region_code="210100")
    assert deadlines.annual_due(huaian.region_code, 2025) == date(2026, 3, 15)
    deadlines.set_deadline(make_user(Role.REGULATOR_LEAD, jurisdiction_code="32"), 2025, "2026-03-01", TODAY)
    assert deadlines.annual_due("320826", 2025) == date(2026, 3, 1)
    deadlines.set_deadline(lead, 2025, "2026-02-10", TODAY)
    assert deadlines.annual_due("320826", 2025) == date(2026, 2, 10)
    assert deadlines.annual_due("320100", 2025) == date(2026, 3, 1)         # another prefecture of the province
    assert deadlines.annual_due(shenyang.region_code, 2025) == date(2026, 3, 15)
    assert deadlines.annual_due("320826", 2026) == date(2027, 3, 15)        # per report year
    assert services.ensure_annual_obligation(huaian, 2025).due_on == date(2026, 2, 10)


@pytest.mark.parametrize("role, jurisdiction", [(Role.REGULATOR, "3208"), (Role.REGULATOR_LEAD, "320826"),
                                                (Role.ENTERPRISE_SIGNATORY, None)])
def test_only_a_province_or_prefecture_lead_sets_a_deadline(db, role, jurisdiction):
    with pytest.raises(NotAllowed):
        deadlines.set_deadline(make_user(role, jurisdiction_code=jurisdiction), 2025, "2026-03-01", TODAY)


def _ob(ent, status, n=[0]):
    n[0] += 1
    ob = Obligation(ref=f"annual-test:{n[0]}", enterprise_id=ent.id, kind=ObligationKind.ANNUAL, year=2025,
                    due_on=date(2026, 3, 15), status=status)
    return ob


def test_a_new_deadline_re_dates_pending_obligations_only(db, lead):
    ent, foreign = make_enterprise(), make_enterprise(region_code="210100")
    pending, on_time, late, missing = (_ob(ent, s) for s in (ObligationStatus.PENDING, ObligationStatus.ON_TIME,
                                                              ObligationStatus.LATE, ObligationStatus.MISSING))
    elsewhere = _ob(foreign, ObligationStatus.PENDING)
    db.session.add_all([pending, on_time, late, missing, elsewhere])
    db.session.flush()
    row, redated, kept = deadlines.set_deadline(lead, 2025, "2026-02-10", TODAY)
    assert (redated, kept) == (1, 3) and row.due_on == date(2026, 2, 10)
    assert pending.due_on == date(2026, 2, 10) and pending.status == ObligationStatus.PENDING
    assert {o.due_on for o in (on_time, late, missing, elsewhere)} == {date(2026, 3, 15)}
    assert [o.status for o in (on_time, late, missing)] == [ObligationStatus.ON_TIME, ObligationStatus.LATE,
                                                             ObligationStatus.MISSING]
    redates = db.session.scalars(sa.select(AuditRecord).where(AuditRecord.action == "disclosure_obligation.redate"))
    assert [(r.object_id, r.before["due_on"], r.after["due_on"]) for r in redates] == [
        (str(pending.id), "2026-03-15", "2026-02-10")]
    deadlines.set_deadline(lead, 2025, "2026-03-05", TODAY)  # changed again: the same row, audited with before
    sets = db.session.scalars(sa.select(AuditRecord).where(AuditRecord.action == "disclosure_deadline.set")
                              .order_by(AuditRecord.seq)).all()
    assert len(sets) == 2 and sets[1].before["due_on"] == "2026-02-10" and sets[1].after["due_on"] == "2026-03-05"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AnnualDeadline)) == 1
    assert pending.due_on == date(2026, 3, 5)


def test_a_province_deadline_leaves_a_prefectures_own_deadline_alone(db, lead):
    ent = make_enterprise()
    deadlines.set_deadline(lead, 2025, "2026-02-10", TODAY)
    ob = services.ensure_annual_obligation(ent, 2025)
    _, redated, _ = deadlines.set_deadline(make_user(Role.REGULATOR_LEAD, jurisdiction_code="32"), 2025,
                                           "2026-03-01", TODAY)
    assert redated == 0 and ob.due_on == date(2026, 2, 10)


def test_the_deadline_job_and_filings_use_the_configured_day(db, lead):
    ent, other = make_enterprise(), make_enterprise()
    deadlines.set_deadline(lead, 2025, "2026-02-10", TODAY)
    missed = services.ensure_annual_obligation(ent, 2025)
    filed = services.ensure_annual_obligation(other, 2025)
    supervision.run_deadlines(date(2026, 2, 10))
    assert missed.status == ObligationStatus.PENDING  # the due day itself is still on time
    supervision.run_deadlines(date(2026, 2, 11))
    assert missed.status == ObligationStatus.MISSING
    supervision.settle_obligation(filed, datetime(2026, 2, 11, 1, tzinfo=timezone.utc))
    assert filed.status == ObligationStatus.LATE


def test_the_deadline_page(login, db, lead):
    year = china_today().year
    regulator = make_user(Role.REGULATOR, jurisdiction_code="3208")
    db.session.commit()
    assert login(regulator).get("/regulator/disclosure-deadlines").status_code == 403
    web = login(lead)
    bad = web.post("/regulator/disclosure-deadlines", data={"year": str(year), "due_on": f"{year + 1}-03-20"},
                   follow_redirects=True)
    assert f"{year + 1}-01-01" in bad.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AnnualDeadline)) == 0
    web.post("/regulator/disclosure-deadlines", data={"year": str(year), "due_on": f"{year + 1}-03-01"})
    row = db.session.scalar(sa.select(AnnualDeadline))
    assert (row.region_code, row.year, row.due_on) == ("3208", year, date(year + 1, 3, 1))
    assert f"{year + 1}-03-01" in web.get("/regulator/disclosure-deadlines").get_data(as_text=True)


def test_the_dashboard_shows_the_jurisdictions_deadline(login, db, lead):
    year = china_today().year - 1
    web = login(lead)
    db.session.commit()
    assert f"{year + 1}-03-15" in web.get("/regulator/disclosures").get_data(as_text=True)
    db.session.add(AnnualDeadline(region_code="3208", year=year, due_on=date(year + 1, 2, 1)))
    db.session.commit()
    page = web.get("/regulator/disclosures").get_data(as_text=True)
    assert f"{year + 1}-02-01" in page and "/regulator/disclosure-deadlines" in page
