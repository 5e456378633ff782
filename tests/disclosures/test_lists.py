"""The annual enterprise list (企业名单): rules, services and pages."""
from __future__ import annotations

from datetime import date

import chinese_calendar
import pytest
import sqlalchemy as sa

from portal.auth.models import Role
from portal.core.clock import china_today
from portal.disclosures import lists, rules
from portal.disclosures.models import DisclosureList, DisclosureListEntry, ListStatus, Obligation
from portal.enterprises.models import KeyUnitType, KeyUnitYear
from portal.errors import InvalidTransition, NotAllowed, ValidationFailed
from tests.factories import make_enterprise, make_user


@pytest.mark.parametrize("status, action, result", [
    ("draft", "edit", "draft"), ("public_notice", "edit", "public_notice"), ("draft", "start_notice", "public_notice"),
    ("public_notice", "publish", "published"),
])
def test_list_transitions(status, action, result):
    assert rules.list_transition(status, action) == result


@pytest.mark.parametrize("status, action", [("published", "edit"), ("draft", "publish"), ("published", "publish"),
                                            ("public_notice", "start_notice")])
def test_a_published_list_never_changes_and_steps_are_not_skipped(status, action):
    with pytest.raises(InvalidTransition):
        rules.list_transition(status, action)


@pytest.mark.parametrize("start, end", [
    (date(2026, 3, 2), date(2026, 3, 16)),   # Monday: ten working days later, the first day not counted
    (date(2026, 2, 13), date(2026, 3, 5)),   # across Spring Festival 2026, counting both make-up Saturdays
])
def test_the_public_notice_lasts_ten_working_days(start, end):
    assert rules.notice_end(start, chinese_calendar.is_workday) == end


@pytest.mark.parametrize("bases, triggers, field", [
    ([], [], "bases"), (["nonsense"], [], "bases"), (["listed"], [], "triggers"),
    (["key_unit"], ["criminal"], "triggers"),
    (["bond"], ["bogus"], "triggers"),
])
def test_entry_rules(bases, triggers, field):
    assert field in rules.check_entry(bases, triggers)


def test_a_listed_company_with_an_art8_event_is_a_valid_entry():
    assert rules.check_entry(["listed", "key_unit"], ["fine_ge_100k"]) == {}


@pytest.fixture
def prefecture(db):
    return make_user(Role.REGULATOR, jurisdiction_code="3208")


def test_only_a_prefecture_bureau_draws_up_a_list_and_only_once_a_year(db, prefecture):
    with pytest.raises(NotAllowed):
        lists.create_list(make_user(Role.REGULATOR, jurisdiction_code="320826"), 2026)
    first = lists.create_list(prefecture, 2026)
    assert lists.create_list(prefecture, 2026).id == first.id and first.region_code == "3208"


def test_entries_are_enterprises_of_the_prefecture_with_a_basis(db, prefecture):
    lst = lists.create_list(prefecture, 2026)
    ent = make_enterprise()
    foreign = make_enterprise(region_code="210100")
    with pytest.raises(ValidationFailed) as exc:
        lists.add_entry(prefecture, lst, foreign.uscc, ["key_unit"], [])
    assert "uscc" in exc.value.errors
    with pytest.raises(ValidationFailed):
        lists.add_entry(prefecture, lst, "123", ["key_unit"], [])
    entry = lists.add_entry(prefecture, lst, ent.uscc, ["key_unit"], [])
    again = lists.add_entry(prefecture, lst, ent.uscc, ["key_unit", "listed"], ["fine_ge_100k"],
                            document_no="淮环罚〔2025〕3号")
    assert again.id == entry.id and again.bases == ["key_unit", "listed"]


def test_key_units_are_added_once(db, prefecture):
    lst = lists.create_list(prefecture, 2026)
    ent = make_enterprise()
    other = make_enterprise(region_code="210100")
    for e in (ent, other):
        db.session.add(KeyUnitYear(enterprise_id=e.id, year=2026, unit_type=KeyUnitType.AIR))
    db.session.flush()
    assert lists.add_key_units(prefecture, lst) == 1 and lists.add_key_units(prefecture, lst) == 0


def test_notice_then_publication_creates_obligations_and_closes_the_list(db, prefecture):
    lst = lists.create_list(prefecture, 2026)
    with pytest.raises(ValidationFailed):
        lists.start_notice(prefecture, lst, date(2026, 3, 2))
    ent = make_enterprise()
    lists.add_entry(prefecture, lst, ent.uscc, ["clean_prod"], [])
    lists.start_notice(prefecture, lst, date(2026, 3, 2))
    assert lst.status == ListStatus.PUBLIC_NOTICE and lst.notice_ends_on == date(2026, 3, 16)
    with pytest.raises(InvalidTransition):
        lists.publish_list(prefecture, lst, date(2026, 3, 16))
    lists.publish_list(prefecture, lst, date(2026, 3, 17))
    ob = db.session.scalar(sa.select(Obligation))
    assert ob.enterprise_id == ent.id and ob.year == 2026 and ob.due_on == date(2027, 3, 15)
    with pytest.raises(InvalidTransition):
        lists.add_entry(prefecture, lst, make_enterprise().uscc, ["key_unit"], [])


def test_the_regulator_pages_and_the_public_list(login, client, db, prefecture):
    ent = make_enterprise()
    county = make_user(Role.REGULATOR, jurisdiction_code="320826")
    outsider = make_user(Role.REGULATOR, jurisdiction_code="2101")
    db.session.commit()
    web = login(prefecture)
    response = web.post("/regulator/disclosure-lists", data={"year": str(china_today().year)})
    lst = db.session.scalar(sa.select(DisclosureList))
    assert response.headers["Location"].endswith(f"/regulator/disclosure-lists/{lst.id}")
    web.post(f"/regulator/disclosure-lists/{lst.id}/entries", data={"uscc": ent.uscc, "bases": ["key_unit"]})
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DisclosureListEntry)) == 1
    bad = web.post(f"/regulator/disclosure-lists/{lst.id}/entries", data={"uscc": ent.uscc}, follow_redirects=True)
    assert bad.status_code == 200
    assert client.get(f"/disclosure-lists/{lst.id}").status_code == 404  # drafts are internal
    web.post(f"/regulator/disclosure-lists/{lst.id}/notice")
    db.session.refresh(lst)
    assert lst.status == ListStatus.PUBLIC_NOTICE
    assert ent.name in client.get(f"/disclosure-lists/{lst.id}").get_data(as_text=True)
    assert f"/disclosure-lists/{lst.id}" in client.get("/disclosure-lists").get_data(as_text=True)
    assert login(county).get(f"/regulator/disclosure-lists/{lst.id}").status_code == 200
    assert login(county).post(f"/regulator/disclosure-lists/{lst.id}/publish").status_code == 403
    assert login(outsider).get(f"/regulator/disclosure-lists/{lst.id}").status_code == 404
    early = login(prefecture).post(f"/regulator/disclosure-lists/{lst.id}/publish")
    db.session.refresh(lst)
    assert early.status_code == 302 and lst.status == ListStatus.PUBLIC_NOTICE


def test_the_enterprise_page_links_the_lists_it_is_on(client, db, prefecture):
    ent = make_enterprise()
    lst = lists.create_list(prefecture, 2026)
    lists.add_entry(prefecture, lst, ent.uscc, ["key_unit"], [])
    db.session.commit()
    assert f"/disclosure-lists/{lst.id}" not in client.get(f"/enterprises/{ent.uscc}").get_data(as_text=True)
    lists.start_notice(prefecture, lst, date(2026, 3, 2))
    db.session.commit()
    assert f"/disclosure-lists/{lst.id}" in client.get(f"/enterprises/{ent.uscc}").get_data(as_text=True)


def test_a_temporary_report_on_an_event_before_publication_is_due_ten_working_days_after_it(db, prefecture):
    from portal.disclosures import services
    from portal.disclosures.models import Trigger
    ent = make_enterprise()
    lst = lists.create_list(prefecture, 2026)
    lists.add_entry(prefecture, lst, ent.uscc, ["key_unit"], [])
    lists.start_notice(prefecture, lst, date(2026, 3, 2))
    lists.publish_list(prefecture, lst, date(2026, 3, 20))
    staff = make_user(Role.ENTERPRISE_STAFF, enterprise=ent)
    report = services.save_temporary(staff, ent, Trigger.DETENTION, "淮公拘〔2026〕2号", date(2026, 2, 2),
                                     {"position": "厂长", "case": "非法排放", "decided_on": "2026-01-30"})
    assert report.due_on == date(2026, 4, 3)
