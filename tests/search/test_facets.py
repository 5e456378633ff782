"""Search filters and sorts over other capabilities' data: grade, lists, open exceedances, disclosure status, latest
penalty (on the real database of the run: SQLite or PostgreSQL)."""
from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from portal.core.clock import china_today
from portal.credit.evidence import add_evidence
from portal.credit.models import (CreditListEntry, CreditSchemeVersion, CreditStanding, EvidenceKind, EvidenceSource,
                                  ListKind, ListStatus)
from portal.credit.services import seed_schemes
from portal.disclosures.models import Obligation, ObligationKind, ObligationStatus
from portal.errors import DomainError
from portal.monitoring.models import Basis, ExceedanceIncident, IncidentState
from portal.search.queries import SearchParams, search_enterprises
from tests.factories import make_incident, make_enterprise, make_outlet


def search(**kw):
    return search_enterprises(SearchParams(**kw))


def names(result):
    return [e.name for e in result.items]


@pytest.fixture
def req(app):
    with app.test_request_context("/"):
        yield


@pytest.fixture
def world(db):
    seed_schemes()
    version = db.session.scalars(sa.select(CreditSchemeVersion)).first()
    ents = {key: make_enterprise(name) for key, name in [
        ("green", "绿源化工有限公司"), ("red", "红星化工有限公司"), ("yellow", "黄河化工有限公司"),
        ("none", "无评化工有限公司"), ("other", "蓝天纺织有限公司")]}
    db.session.flush()
    now = datetime.now(timezone.utc)
    today = china_today()  # within a year: a general penalty is published for 1 year at most (NDRC Order 36)
    for key, day, public in (("yellow", today - timedelta(days=300), True), ("none", today - timedelta(days=200), True),
                             ("green", today - timedelta(days=100), False)):
        add_evidence(enterprise_id=ents[key].id, kind=EvidenceKind.PENALTY, source=EvidenceSource.REGULATOR,
                     source_ref=f"penalty-doc:{key}", occurred_on=day, title="罚款", verified=True, is_public=public)
    db.session.flush()
    # The grades are set after the evidence (whose listeners recompute standings) so each is exactly as named.
    db.session.execute(sa.delete(CreditStanding))
    for key in ("green", "red", "yellow"):
        db.session.add(CreditStanding(enterprise_id=ents[key].id, scheme_version_id=version.id, score=90,
                                      grade=key, as_of=date(2026, 1, 1), computed_at=now))
    db.session.add(CreditListEntry(enterprise_id=ents["red"].id, kind=ListKind.BLACK, status=ListStatus.LISTED,
                                   basis="veto", reason="test"))
    db.session.add(CreditListEntry(enterprise_id=ents["yellow"].id, kind=ListKind.BLACK,
                                   status=ListStatus.PRIOR_NOTICE, basis="veto", reason="not yet listed"))
    db.session.add(CreditListEntry(enterprise_id=ents["green"].id, kind=ListKind.WHITE, status=ListStatus.LISTED,
                                   basis="proposal", reason="test"))
    outlet = make_outlet(ents["yellow"])
    closed_outlet = make_outlet(ents["green"])
    db.session.flush()
    make_incident(ents["yellow"], outlet, value=120.0)  # confirmed: only confirmed incidents move the code
    db.session.add(ExceedanceIncident(enterprise_id=ents["green"].id, outlet_id=closed_outlet.id,
                                      pollutant_code="w01018", basis=Basis.DAILY_MEAN, period_start=now, value=120.0,
                                      limit_value=100.0, state=IncidentState.CLOSED))
    year = china_today().year - 1
    for key, status in (("red", ObligationStatus.MISSING), ("green", ObligationStatus.ON_TIME)):
        db.session.add(Obligation(ref=f"annual:{ents[key].id}:{year}", enterprise_id=ents[key].id,
                                  kind=ObligationKind.ANNUAL, year=year, due_on=date(year + 1, 3, 15), status=status))
    db.session.add(Obligation(ref=f"annual:{ents['none'].id}:{year - 1}", enterprise_id=ents["none"].id,
                              kind=ObligationKind.ANNUAL, year=year - 1, due_on=date(year, 3, 15),
                              status=ObligationStatus.MISSING))  # an older year: not last year's report
    db.session.commit()
    return ents


def test_grade_filter_and_grade_shown(req, world):
    result = search(q="化工", grade="red")
    assert names(result) == ["红星化工有限公司"]
    assert result.grades == {world["red"].id: "red"}


def test_the_not_evaluated_filter_finds_exactly_the_enterprises_without_a_standing(req, world, client):
    assert names(search(q="有限公司", grade="not_evaluated")) == ["无评化工有限公司", "蓝天纺织有限公司"]
    assert names(search(q="化工", grade="not_evaluated")) == ["无评化工有限公司"]
    page = client.get("/search?q=化工&grade=not_evaluated").get_data(as_text=True)
    assert world["none"].uscc in page and world["red"].uscc not in page
    api = client.get("/api/v1/enterprises?q=化工&grade=not_evaluated").get_json()
    assert [e["name"] for e in api["data"]] == ["无评化工有限公司"]


def test_list_filter_counts_only_listed_entries(req, world):
    assert names(search(q="化工", list="black")) == ["红星化工有限公司"]
    assert names(search(list="white")) == ["绿源化工有限公司"]


def test_open_exceedance_filter_ignores_closed_incidents(req, world):
    assert names(search(exceedance="open")) == ["黄河化工有限公司"]


def test_disclosure_filter_reads_last_years_annual_obligation(req, world):
    assert names(search(disclosure="missing")) == ["红星化工有限公司"]
    assert names(search(disclosure="on_time")) == ["绿源化工有限公司"]


def test_filters_combine(req, world):
    assert names(search(q="化工", grade="green", list="white", disclosure="on_time")) == ["绿源化工有限公司"]
    assert names(search(q="纺织", grade="green")) == []


def test_sort_by_grade_best_first_ungraded_last(req, world):
    result = search(q="化工", sort="grade")
    assert result.sort == "grade"
    assert names(result) == ["绿源化工有限公司", "黄河化工有限公司", "红星化工有限公司", "无评化工有限公司"]


def test_sort_by_latest_public_penalty(req, world):
    result = search(q="有限公司", sort="penalty")
    # none (200 days ago) before yellow (300 days ago); green's penalty is not public: it ranks with the unpenalised.
    assert names(result)[:2] == ["无评化工有限公司", "黄河化工有限公司"]
    assert set(names(result)[2:]) == {"绿源化工有限公司", "红星化工有限公司", "蓝天纺织有限公司"}


@pytest.mark.parametrize("sort", ["grade", "penalty"])
def test_ranked_sorts_page_with_cursors_without_gaps_or_repeats(req, world, sort):
    whole = names(search(q="有限公司", sort=sort, per_page=10))
    seen, after = [], ""
    while True:
        page = search(q="有限公司", sort=sort, per_page=2, after=after)
        seen += names(page)
        if not page.next_cursor:
            break
        after = page.next_cursor
    assert seen == whole and len(seen) == 5
    back = search(q="有限公司", sort=sort, per_page=2, after=page.prev_cursor)
    assert names(back) == whole[2:4]


def test_browse_by_grade_without_a_query(req, world):
    assert search(sort="grade").sort == "grade"


@pytest.mark.parametrize("field,value", [("grade", "purple"), ("list", "grey"), ("exceedance", "closed"),
                                         ("disclosure", "done"), ("sort", "score")])
def test_unknown_facet_values_are_named(req, world, field, value):
    with pytest.raises(DomainError) as info:
        search(**{field: value})
    assert info.value.field == field and value in info.value.message


def test_api_and_page_take_the_facets(client, world):
    body = client.get("/api/v1/enterprises?q=化工&grade=red&list=black").get_json()
    assert [d["name"] for d in body["data"]] == ["红星化工有限公司"]
    assert body["data"][0]["grade"] == "red"
    bad = client.get("/api/v1/enterprises?grade=purple")
    assert bad.status_code == 400 and "grade" in bad.get_json()["error"]["message"]
    page = client.get("/search?q=化工&exceedance=open&lang=zh")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "黄河" in html and "红星" not in html  # names are highlighted around 化工
