"""Art. 10 list periods: pure rules (periods.py), the stored Art. 8 events and the list draft that follows them."""
from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from portal.audit.models import AuditRecord
from portal.auth.models import Role
from portal.disclosures import art8, lists
from portal.disclosures.models import Art8Event
from portal.disclosures.periods import Event, Period, art8_periods, clean_prod_period, listed_until, period_for
from portal.errors import NotAllowed, ValidationFailed
from tests.factories import make_enterprise, make_user


def spans(*years: int) -> list[tuple[int, int, bool]]:
    return [(p.start, p.end, p.chained) for p in art8_periods(Event("fine_ge_100k", y) for y in years)]


@pytest.mark.parametrize("years, expected", [
    ((), []),
    ((2024,), [(2025, 2027, False)]),                                   # event year E: lists E+1 … E+3
    ((2024, 2024), [(2025, 2027, False)]),                              # two events in one year: one period
    ((2024, 2025), [(2025, 2027, False), (2028, 2030, True)]),         # event in the first listed year chains
    ((2024, 2027), [(2025, 2027, False), (2028, 2030, True)]),         # ... and in the last listed year
    ((2024, 2025, 2026, 2027), [(2025, 2027, False), (2028, 2030, True)]),  # several events: one more period
    ((2024, 2026, 2029), [(2025, 2027, False), (2028, 2030, True), (2031, 2033, True)]),  # chain of chains
    ((2024, 2028), [(2025, 2027, False), (2029, 2031, False)]),        # after the period: a fresh one, 2028 off
    ((2025, 2024), [(2025, 2027, False), (2028, 2030, True)]),         # the order of input does not matter
    ((2024, 2025, 2028), [(2025, 2027, False), (2028, 2030, True), (2031, 2033, True)]),  # event in the chained one
])
def test_art8_periods(years, expected):
    assert spans(*years) == expected


def test_a_period_keeps_the_events_that_opened_it():
    events = [Event("criminal", 2024, "A"), Event("detention", 2025, "B"), Event("fine_ge_100k", 2026, "C")]
    first, second = art8_periods(events)
    assert first.events == (events[0],) and second.events == (events[1], events[2])


@pytest.mark.parametrize("years, year, until", [
    ((2024,), 2024, None), ((2024,), 2025, 2027), ((2024,), 2027, 2027), ((2024,), 2028, None),
    ((2024, 2025), 2026, 2030), ((2024, 2025), 2029, 2030),
    ((2024, 2028), 2026, 2027), ((2024, 2028), 2028, None), ((2024, 2028), 2030, 2031),
])
def test_listed_until_is_the_end_of_the_run_covering_the_year(years, year, until):
    assert listed_until(art8_periods(Event("criminal", y) for y in years), year) == until


def test_the_longest_period_of_several_bases_wins():
    art8_spans = art8_periods([Event("criminal", 2024)])                   # 2025–2027
    audit = clean_prod_period(2023, accepted_year=2026)                     # 2023–2029
    assert (audit.start, audit.end) == (2023, 2029)
    assert listed_until(art8_spans + [audit], 2025) == 2029
    assert listed_until(art8_spans + [Period(2028, 2028)], 2026) == 2028   # an adjoining key-unit year joins the run
    assert listed_until(art8_spans + [Period(2029, 2029)], 2026) == 2027   # a gap ends the run
    assert clean_prod_period(2025, None).end == 9999 and period_for([audit], 2030) is None


# --- stored events and the list ------------------------------------------------------------------------------------

@pytest.fixture
def prefecture(db):
    return make_user(Role.REGULATOR, jurisdiction_code="3208")


def test_an_event_is_stored_with_its_document_once_and_audited(db, prefecture):
    ent = make_enterprise(is_listed=True)
    first = art8.record_event(prefecture, ent.uscc, "listed", "fine_ge_100k", 2024, " 淮环罚〔2024〕7号 ",
                              date(2026, 2, 1))
    again = art8.record_event(prefecture, ent.uscc, "listed", "fine_ge_100k", 2024, "淮环罚〔2024〕7号",
                              date(2026, 2, 1))
    assert again.id == first.id and first.document_no == "淮环罚〔2024〕7号"
    audits = db.session.scalars(sa.select(AuditRecord).where(AuditRecord.action == "disclosure_art8.create")).all()
    assert len(audits) == 1 and audits[0].after["trigger"] == "fine_ge_100k"


@pytest.mark.parametrize("field, kwargs", [
    ("uscc", {"uscc": "123"}), ("basis", {"basis": "key_unit"}), ("trigger", {"trigger": "bogus"}),
    ("year", {"year": 2027}), ("year", {"year": 2019}), ("year", {"year": None}), ("document_no", {"doc": "  "}),
])
def test_bad_events_name_the_field(db, prefecture, field, kwargs):
    ent = make_enterprise()
    values = {"uscc": ent.uscc, "basis": "bond", "trigger": "criminal", "year": 2025, "doc": "X1"} | kwargs
    with pytest.raises(ValidationFailed) as exc:
        art8.record_event(prefecture, values["uscc"], values["basis"], values["trigger"], values["year"],
                          values["doc"], date(2026, 2, 1))
    assert field in exc.value.errors
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Art8Event)) == 0


def test_events_only_in_the_own_jurisdiction_and_only_by_regulators(db, prefecture):
    foreign = make_enterprise(region_code="210100")
    with pytest.raises(ValidationFailed):
        art8.record_event(prefecture, foreign.uscc, "bond", "criminal", 2025, "X", date(2026, 2, 1))
    ent = make_enterprise()
    with pytest.raises(NotAllowed):
        art8.record_event(make_user(Role.ENTERPRISE_STAFF, enterprise=ent), ent.uscc, "bond", "criminal", 2025, "X",
                          date(2026, 2, 1))


def test_a_new_list_includes_enterprises_inside_a_period(db, prefecture):
    chained = make_enterprise(is_listed=True)      # 2023 → 2024–2026; 2024 → 2027–2029
    lapsed = make_enterprise(is_bond_issuer=True)  # 2022 → 2023–2025: off the 2027 list
    fresh = make_enterprise(is_bond_issuer=True)   # 2026 → 2027–2029, first year
    too_new = make_enterprise()                    # 2027 event counts for 2028, not 2027
    foreign = make_enterprise(region_code="210100")
    today = date(2027, 1, 10)
    art8.record_event(prefecture, chained.uscc, "listed", "criminal", 2023, "A1", today)
    art8.record_event(prefecture, chained.uscc, "listed", "detention", 2024, "A2", today)
    art8.record_event(prefecture, lapsed.uscc, "bond", "criminal", 2022, "B1", today)
    art8.record_event(prefecture, fresh.uscc, "bond", "permit_revoked", 2026, "C1", today)
    art8.record_event(prefecture, too_new.uscc, "bond", "criminal", 2027, "D1", today)
    db.session.add(Art8Event(enterprise_id=foreign.id, basis="bond", trigger="criminal", year=2026, document_no="F"))
    db.session.flush()
    lst = lists.create_list(prefecture, 2027)
    entries = {e.enterprise_id: e for e in lst.entries}
    assert set(entries) == {chained.id, fresh.id}
    assert entries[chained.id].bases == ["listed"] and entries[chained.id].triggers == []
    assert entries[fresh.id].bases == ["bond"] and entries[fresh.id].triggers == ["permit_revoked"]
    info = art8.list_basis(entries, 2027)
    assert info[chained.id]["until"] == 2029 and info[chained.id]["period"].chained
    assert [e.document_no for e in info[chained.id]["events"]] == ["A2"]
    assert lists.add_period_enterprises(prefecture, lst) == 0  # idempotent


def test_a_listed_company_needs_no_new_event_while_a_period_runs(db, prefecture):
    ent = make_enterprise(is_listed=True)
    lst = lists.create_list(prefecture, 2026)
    with pytest.raises(ValidationFailed) as exc:
        lists.add_entry(prefecture, lst, ent.uscc, ["listed"], [])
    assert "triggers" in exc.value.errors
    with pytest.raises(ValidationFailed) as exc:
        lists.add_entry(prefecture, lst, ent.uscc, ["listed"], ["criminal"])  # the event needs its document
    assert "document_no" in exc.value.errors
    art8.record_event(prefecture, ent.uscc, "listed", "criminal", 2023, "淮环罚〔2023〕1号", date(2026, 1, 5))
    assert lists.add_entry(prefecture, lst, ent.uscc, ["listed"], []).bases == ["listed"]


def test_events_ticked_on_an_entry_are_stored_for_the_previous_year(db, prefecture):
    ent = make_enterprise(is_bond_issuer=True)
    lst = lists.create_list(prefecture, 2026)
    lists.add_entry(prefecture, lst, ent.uscc, ["bond"], ["daily_penalty", "fine_ge_100k"],
                    document_no="淮环罚〔2025〕9号")
    rows = db.session.scalars(sa.select(Art8Event).order_by(Art8Event.trigger)).all()
    assert [(r.trigger, r.year, r.basis, r.document_no) for r in rows] == [
        ("daily_penalty", 2025, "bond", "淮环罚〔2025〕9号"), ("fine_ge_100k", 2025, "bond", "淮环罚〔2025〕9号")]
    assert art8.list_basis([ent.id], 2028)[ent.id]["until"] == 2028


def test_the_list_pages_show_the_period_basis_and_until_year(login, client, db, prefecture):
    ent = make_enterprise(is_listed=True)
    art8.record_event(prefecture, ent.uscc, "listed", "criminal", 2024, "淮检刑〔2024〕3号", date(2026, 1, 5))
    art8.record_event(prefecture, ent.uscc, "listed", "detention", 2025, "淮公拘〔2025〕8号", date(2026, 1, 5))
    lst = lists.create_list(prefecture, 2026)
    lists.start_notice(prefecture, lst, date(2026, 3, 2))
    db.session.commit()
    internal = login(prefecture).get(f"/regulator/disclosure-lists/{lst.id}").get_data(as_text=True)
    assert "2025–2027" in internal and "2030" in internal and "淮检刑〔2024〕3号" in internal
    public = client.get(f"/disclosure-lists/{lst.id}").get_data(as_text=True)
    assert ent.name in public and "2030" in public and "淮检刑〔2024〕3号" not in public


def test_the_events_page_records_and_lists(login, db, prefecture):
    ent = make_enterprise(is_listed=True)
    db.session.commit()
    web = login(prefecture)
    bad = web.post("/regulator/disclosure-lists/art8-events", data={"uscc": ent.uscc, "basis": "listed",
                                                                    "trigger": "criminal", "year": "2025"},
                   follow_redirects=True)
    assert bad.status_code == 200 and db.session.scalar(sa.select(sa.func.count()).select_from(Art8Event)) == 0
    web.post("/regulator/disclosure-lists/art8-events", data={"uscc": ent.uscc, "basis": "listed",
                                                              "trigger": "criminal", "year": "2025",
                                                              "document_no": "淮检刑〔2025〕1号"})
    page = web.get("/regulator/disclosure-lists/art8-events").get_data(as_text=True)
    assert "淮检刑〔2025〕1号" in page and "2026–2028" in page
