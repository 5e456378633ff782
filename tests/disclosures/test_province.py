"""Reports to the province: the published list within 10 working days (Art. 9) and the yearly work report by
31 March (Art. 23), with their timeliness as the province sees it."""
from __future__ import annotations

import json
from datetime import date, datetime, timezone

import chinese_calendar
import pytest
import sqlalchemy as sa

from portal.audit.models import AuditRecord
from portal.auth.models import Role
from portal.disclosures import lists, province
from portal.disclosures import province_rules as pr
from portal.disclosures.models import (ListReport, Obligation, ObligationKind, ObligationStatus, Review, ReviewFlag,
                                       WorkReport, WorkReportStatus)
from portal.errors import Conflict, InvalidTransition, NotAllowed, ValidationFailed
from tests.factories import make_enterprise, make_user


@pytest.mark.parametrize("published, due", [
    (date(2026, 3, 20), date(2026, 4, 3)),    # Friday: two full weeks, the publication day not counted
    (date(2026, 3, 25), date(2026, 4, 9)),    # across Qingming (4–6 April 2026)
    (date(2026, 9, 25), date(2026, 10, 15)),  # across National Day
])
def test_the_list_report_is_due_ten_working_days_after_publication(published, due):
    assert pr.list_report_due(published, chinese_calendar.is_workday) == due


@pytest.mark.parametrize("due, done, today, result", [
    (date(2026, 3, 31), date(2026, 3, 31), date(2026, 4, 5), pr.ON_TIME),
    (date(2026, 3, 31), date(2026, 4, 1), date(2026, 4, 5), pr.LATE),
    (date(2026, 3, 31), None, date(2026, 3, 31), pr.PENDING),
    (date(2026, 3, 31), None, date(2026, 4, 1), pr.OVERDUE),
])
def test_timeliness(due, done, today, result):
    assert pr.timeliness(due, done, today) == result


def test_the_work_report_on_a_year_is_due_at_the_end_of_march_of_the_next():
    assert pr.work_report_due(2025) == date(2026, 3, 31)


@pytest.fixture
def prefecture(db):
    return make_user(Role.REGULATOR, jurisdiction_code="3208", display_name="淮安市局")


@pytest.fixture
def published(db, prefecture):
    ent = make_enterprise(name="涟水名单企业")
    lst = lists.create_list(prefecture, 2026)
    lists.add_entry(prefecture, lst, ent.uscc, ["key_unit"], [])
    lists.start_notice(prefecture, lst, date(2026, 3, 2))
    lists.publish_list(prefecture, lst, date(2026, 3, 20))
    return lst


def test_only_a_published_list_is_reported_once_by_its_prefecture(db, prefecture):
    lst = lists.create_list(prefecture, 2026)
    with pytest.raises(InvalidTransition):
        province.report_list(prefecture, lst, date(2026, 3, 20))
    with pytest.raises(NotAllowed):
        province.report_list(make_user(Role.REGULATOR, jurisdiction_code="32"), lst, date(2026, 3, 20))


def test_reporting_the_list_freezes_its_entries_and_is_audited(db, prefecture, published):
    state = province.list_report_state(published, date(2026, 4, 3))
    assert state["due_on"] == date(2026, 4, 3) and state["report"] is None and state["timeliness"] == pr.PENDING
    assert province.list_report_state(published, date(2026, 4, 4))["timeliness"] == pr.OVERDUE
    report = province.report_list(prefecture, published, date(2026, 4, 3))
    assert json.loads(report.content_json)["entries"][0]["name"] == "涟水名单企业" and len(report.sha256) == 64
    assert province.list_report_state(published, date(2026, 5, 1))["timeliness"] == pr.ON_TIME
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditRecord)
                             .where(AuditRecord.action == "disclosure_list.report_to_province")) == 1
    with pytest.raises(Conflict):
        province.report_list(prefecture, published, date(2026, 4, 7))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ListReport)) == 1


def test_a_list_reported_after_ten_working_days_is_late(db, prefecture, published):
    province.report_list(prefecture, published, date(2026, 4, 7))
    assert province.list_report_state(published, date(2026, 4, 7))["timeliness"] == pr.LATE


def _obligation(ent, kind, status, due_on, n=[0]):
    n[0] += 1
    ob = Obligation(ref=f"test:{n[0]}", enterprise_id=ent.id, kind=kind, year=due_on.year - 1, due_on=due_on,
                    status=status)
    return ob


def _work_data(db, prefecture):
    ent, foreign = make_enterprise(), make_enterprise(region_code="210100")
    A, T = ObligationKind.ANNUAL, ObligationKind.TEMPORARY
    S = ObligationStatus
    db.session.add_all([
        _obligation(ent, A, S.ON_TIME, date(2025, 3, 15)), _obligation(ent, A, S.ON_TIME, date(2025, 3, 15)),
        _obligation(ent, A, S.LATE, date(2025, 3, 15)), _obligation(ent, A, S.MISSING, date(2025, 3, 15)),
        _obligation(ent, T, S.ON_TIME, date(2025, 6, 9)), _obligation(ent, T, S.MISSING, date(2025, 12, 31)),
        _obligation(ent, A, S.PENDING, date(2026, 3, 15)),       # due in 2026: not part of 2025's work
        _obligation(foreign, A, S.MISSING, date(2025, 3, 15)),   # another prefecture
    ])
    db.session.add_all([
        Review(report_sha256="a" * 64, enterprise_id=ent.id, reviewer_id=prefecture.id, flag=ReviewFlag.NONE,
               created_at=datetime(2025, 5, 1, tzinfo=timezone.utc)),
        Review(report_sha256="b" * 64, enterprise_id=ent.id, reviewer_id=prefecture.id, flag=ReviewFlag.UNTRUE,
               created_at=datetime(2025, 7, 1, tzinfo=timezone.utc)),
        Review(report_sha256="c" * 64, enterprise_id=ent.id, reviewer_id=prefecture.id, flag=ReviewFlag.UNTRUE,
               created_at=datetime(2026, 1, 2, tzinfo=timezone.utc)),   # 2026: not counted
        Review(report_sha256="d" * 64, enterprise_id=foreign.id, reviewer_id=prefecture.id,
               flag=ReviewFlag.INACCURATE, created_at=datetime(2025, 7, 1, tzinfo=timezone.utc)),
    ])
    db.session.flush()
    return ent


def test_the_work_figures_come_from_the_prefectures_obligations_and_reviews(db, prefecture):
    _work_data(db, prefecture)
    figures = province.work_figures("3208", 2025, date(2026, 3, 1))
    assert figures["obligations"]["annual"] == {"pending": 0, "on_time": 2, "late": 1, "missing": 1, "total": 4}
    assert figures["obligations"]["temporary"] == {"pending": 0, "on_time": 1, "late": 0, "missing": 1, "total": 2}
    assert figures["enforcement_candidates"] == 3
    assert figures["reviews"] == {"total": 2, "flags": {"none": 1, "non_compliant": 0, "untrue": 1, "inaccurate": 0}}
    assert figures["list"] is None


def test_the_work_report_is_written_submitted_and_frozen(db, prefecture):
    ent = _work_data(db, prefecture)
    with pytest.raises(ValidationFailed) as exc:
        province.open_work_report(prefecture, 2026, date(2026, 3, 1))  # not a past year
    assert "year" in exc.value.errors
    with pytest.raises(NotAllowed):
        province.open_work_report(make_user(Role.REGULATOR, jurisdiction_code="32"), 2025, date(2026, 3, 1))
    report = province.open_work_report(prefecture, 2025, date(2026, 3, 1))
    assert province.open_work_report(prefecture, 2025, date(2026, 3, 2)).id == report.id
    assert report.due_on == date(2026, 3, 31)
    with pytest.raises(ValidationFailed) as exc:
        province.submit_work_report(prefecture, report, "  ", "", datetime(2026, 3, 30, 2, tzinfo=timezone.utc))
    assert "supervision_text" in exc.value.errors and report.status == WorkReportStatus.DRAFT
    with pytest.raises(NotAllowed):
        province.save_work_report(make_user(Role.REGULATOR, jurisdiction_code="2101"), report, "x", "")
    province.submit_work_report(prefecture, report, "全年双随机抽查披露情况 12 家。", "无",
                                datetime(2026, 3, 31, 15, 59, tzinfo=timezone.utc))  # 23:59 on 31 March in China
    assert report.status == WorkReportStatus.SUBMITTED and report.submitted_on == date(2026, 3, 31)
    frozen = json.loads(report.content_json)
    assert frozen["figures"]["obligations"]["annual"]["missing"] == 1 and frozen["supervision"].startswith("全年")
    # later data do not change the frozen report, and it cannot be edited any more
    db.session.add(_obligation(ent, ObligationKind.ANNUAL, ObligationStatus.MISSING, date(2025, 3, 15)))
    db.session.flush()
    assert json.loads(report.content_json)["figures"]["obligations"]["annual"]["missing"] == 1
    with pytest.raises(InvalidTransition):
        province.save_work_report(prefecture, report, "改写", "")
    with pytest.raises(InvalidTransition):
        province.submit_work_report(prefecture, report, "改写", "", datetime(2026, 4, 1, tzinfo=timezone.utc))
    assert pr.timeliness(report.due_on, report.submitted_on, date(2026, 5, 1)) == pr.ON_TIME
    actions = set(db.session.scalars(sa.select(AuditRecord.action)
                                     .where(AuditRecord.object_type == "disclosure_work_reports")))
    assert actions == {"disclosure_work_report.create", "disclosure_work_report.save", "disclosure_work_report.submit"}


def test_a_work_report_submitted_in_april_is_late(db, prefecture):
    report = province.open_work_report(prefecture, 2025, date(2026, 3, 1))
    province.submit_work_report(prefecture, report, "检查情况", "", datetime(2026, 3, 31, 16, tzinfo=timezone.utc))
    assert report.submitted_on == date(2026, 4, 1)
    assert pr.timeliness(report.due_on, report.submitted_on, date(2026, 4, 1)) == pr.LATE


def test_the_province_sees_its_prefectures_reports_with_their_timeliness(login, db, prefecture, published):
    province.report_list(prefecture, published, date(2026, 4, 7))  # late
    report = province.open_work_report(prefecture, 2025, date(2026, 3, 1))
    province.submit_work_report(prefecture, report, "检查情况", "", datetime(2026, 3, 30, tzinfo=timezone.utc))
    rows = {r["region"]: r for r in province.overview("32", 2026, date(2026, 4, 10))}
    assert set(rows) == {"3208"}
    assert rows["3208"]["list_state"]["timeliness"] == pr.LATE and rows["3208"]["work_timeliness"] == pr.ON_TIME
    assert {r["region"] for r in province.overview("21", 2026, date(2026, 4, 10))} == {"2101", "2102"}
    assert province.overview("21", 2026, date(2026, 4, 10))[0]["work_timeliness"] == pr.OVERDUE
    leader = make_user(Role.REGULATOR_LEAD, jurisdiction_code="32")
    outsider = make_user(Role.REGULATOR, jurisdiction_code="21")
    county = make_user(Role.REGULATOR, jurisdiction_code="320826")
    db.session.commit()
    page = login(leader).get("/regulator/disclosure-province-reports?year=2026").get_data(as_text=True)
    assert "淮安市" in page and "2026-04-07" in page and f"/regulator/disclosure-work-reports/{report.id}" in page
    assert "淮安市" not in login(outsider).get("/regulator/disclosure-province-reports?year=2026").get_data(as_text=True)
    assert login(leader).get(f"/regulator/disclosure-work-reports/{report.id}").status_code == 200
    assert login(outsider).get(f"/regulator/disclosure-work-reports/{report.id}").status_code == 404
    assert login(county).post(f"/regulator/disclosure-work-reports/{report.id}",
                              data={"supervision_text": "x", "action": "save"}).status_code == 403


def test_the_prefecture_pages_report_the_list_and_write_the_work_report(login, db, prefecture, published):
    db.session.commit()
    web = login(prefecture)
    assert "2026-04-03" in web.get(f"/regulator/disclosure-lists/{published.id}").get_data(as_text=True)
    web.post(f"/regulator/disclosure-lists/{published.id}/report-to-province")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ListReport)) == 1
    again = web.post(f"/regulator/disclosure-lists/{published.id}/report-to-province", follow_redirects=True)
    assert again.status_code == 200 and db.session.scalar(sa.select(sa.func.count()).select_from(ListReport)) == 1
    year = date.today().year - 1
    response = web.post("/regulator/disclosure-work-reports", data={"year": str(year)})
    report = db.session.scalar(sa.select(WorkReport))
    assert response.headers["Location"].endswith(f"/regulator/disclosure-work-reports/{report.id}")
    web.post(f"/regulator/disclosure-work-reports/{report.id}", data={"supervision_text": "", "action": "submit"})
    db.session.refresh(report)
    assert report.status == WorkReportStatus.DRAFT
    web.post(f"/regulator/disclosure-work-reports/{report.id}", data={"supervision_text": "抽查 8 家",
                                                                       "other_text": "无", "action": "submit"})
    db.session.refresh(report)
    assert report.status == WorkReportStatus.SUBMITTED and report.sha256
    page = web.get(f"/regulator/disclosure-work-reports/{report.id}").get_data(as_text=True)
    assert "抽查 8 家" in page and report.sha256 in page and "<textarea" not in page
