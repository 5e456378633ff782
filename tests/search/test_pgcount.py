"""The PostgreSQL page-sample that lets huge name searches skip their exact count (portal/search/pgcount.py)."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.extensions import db as _db
from portal.search import pgcount, queries
from portal.search.queries import SearchParams, search_enterprises
from tests.factories import make_enterprise


@pytest.fixture
def postgres(db):
    if _db.engine.dialect.name != "postgresql":
        pytest.skip("the page sample is PostgreSQL's (SQLite counts through its FTS index)")
    return db


@pytest.fixture
def sampled(app, postgres, monkeypatch):
    """A registry of 60 enterprises, 40 of them 化工, analysed so reltuples is known; the sample takes every page."""
    monkeypatch.setitem(app.config, "SEARCH_PG_SAMPLE_MIN_ROWS", 1)
    monkeypatch.setitem(app.config, "SEARCH_PG_SAMPLE_FACTOR", 2)
    for i in range(30):
        make_enterprise(f"江苏化工{i}号厂")
    for i in range(10):
        make_enterprise(f"盐城化工{i}号厂")
    for i in range(20):
        make_enterprise(f"淮安印染{i}号厂")
    _db.session.commit()
    _db.session.execute(sa.text("ANALYZE enterprises"))
    pgcount.forget_rows()  # the row count is cached per process
    calls = []
    real = pgcount.sample_says_more_than
    monkeypatch.setattr(pgcount, "sample_says_more_than", lambda *a: calls.append(real(*a)) or calls[-1])
    with app.test_request_context("/"):
        yield calls


def test_a_search_the_sample_finds_huge_is_reported_capped_without_an_exact_count(sampled, monkeypatch):
    monkeypatch.setattr(queries, "TOTAL_CAP", 15)  # 40 matches > 2 x 15
    result = search_enterprises(SearchParams(q="化工", per_page=10))
    assert sampled == [True]
    assert (result.total, result.total_is_capped, result.sort) == (15, True, "id")
    assert len(result.items) == 10 and all("化工" in e.name for e in result.items)


def test_a_search_near_the_cap_is_counted_exactly(sampled, monkeypatch):
    monkeypatch.setattr(queries, "TOTAL_CAP", 25)  # 40 matches < 2 x 25: the sample says "count"
    result = search_enterprises(SearchParams(q="化工", per_page=10))
    assert sampled == [False]
    assert (result.total, result.total_is_capped) == (25, True)
    assert search_enterprises(SearchParams(q="印染")).total == 20


def test_the_sample_reads_the_same_conditions_as_the_search(sampled, monkeypatch):
    monkeypatch.setattr(queries, "TOTAL_CAP", 4)
    result = search_enterprises(SearchParams(q="盐城化工", per_page=50))  # 10 matches > 2 x 4
    assert sampled == [True] and result.total_is_capped
    assert sorted(e.name for e in result.items) == sorted(f"盐城化工{i}号厂" for i in range(10))
    sampled.clear()
    monkeypatch.setattr(queries, "TOTAL_CAP", 5)  # 10 matches = 2 x 5: not more, so counted exactly
    result = search_enterprises(SearchParams(q="盐城化工", per_page=50))
    assert sampled == [False] and (result.total, result.total_is_capped) == (5, True)


def test_small_or_unanalysed_tables_are_never_sampled(app, postgres, monkeypatch):
    for i in range(30):
        make_enterprise(f"江苏化工{i}号厂")
    _db.session.commit()
    pgcount.forget_rows()
    with app.test_request_context("/"):
        monkeypatch.setattr(queries, "TOTAL_CAP", 5)
        assert pgcount.sample_says_more_than([], 5) is False  # default minimum: 200,000 rows
        monkeypatch.setitem(app.config, "SEARCH_PG_SAMPLE_FACTOR", 0)
        monkeypatch.setitem(app.config, "SEARCH_PG_SAMPLE_MIN_ROWS", 1)
        assert pgcount.sample_says_more_than([], 5) is False  # factor 0 turns it off


def test_a_small_result_is_read_by_primary_key_with_its_exact_count(app, postgres):
    for i in range(3):
        make_enterprise(f"盱眙龙虾{i}号厂")
    make_enterprise("无关企业")
    _db.session.commit()
    with app.test_request_context("/"):
        n, ids = pgcount.count_with_ids(sa.select(queries.Enterprise.id).where(
            queries.Enterprise.name.like("盱眙%")), 10)
        assert n == 3 and len(ids) == 3
        first = search_enterprises(SearchParams(q="龙虾", per_page=2))
        assert first.total == 3 and len(first.items) == 2 and first.next_cursor
        rest = search_enterprises(SearchParams(q="龙虾", per_page=2, after=first.next_cursor))
        assert sorted(e.name for e in [*first.items, *rest.items]) == [f"盱眙龙虾{i}号厂" for i in range(3)]
