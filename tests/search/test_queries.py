"""search_enterprises on the real database (SQLite FTS5 or PostgreSQL tsvector, whichever the suite runs on)."""
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from portal.enterprises.models import KeyUnitType, KeyUnitYear
from portal.errors import DomainError
from portal.extensions import db as _db
from portal.search.queries import SearchParams, search_enterprises
from tests.factories import make_enterprise, make_permit, make_uscc


def names(result):
    return [e.name for e in result.items]


def search(**kw):
    return search_enterprises(SearchParams(**kw))


@pytest.fixture
def req(app):
    with app.test_request_context("/"):
        yield


@pytest.fixture
def registry(db):
    ents = {
        "huaneng": make_enterprise("华能化工有限公司"),
        "nenghua": make_enterprise("能源化学工业集团", region_code="210100", industry_code="4411"),
        "huahua": make_enterprise("华华化工厂", region_code="320803"),
        "3m": make_enterprise("3M中国有限公司", region_code="210200"),
        "script": make_enterprise("<script>alert(1)</script>污水处理厂"),
        "renamed": make_enterprise("新名称环保科技有限公司", former_names=["旧名称印染有限公司"]),
    }
    db.session.commit()
    return ents


def test_two_characters_find_every_name_containing_them(registry):
    result = search(q="化工")
    assert set(names(result)) == {"华能化工有限公司", "华华化工厂"}
    assert result.mode == "fulltext"
    assert result.total == 2


def test_search_is_substring_exact_not_character_bag(registry):
    assert names(search(q="能化工")) == ["华能化工有限公司"]
    assert "能源化学工业集团" not in names(search(q="能化工"))
    assert search(q="化工业").total == 0


def test_repeated_characters_match_exactly(registry):
    assert names(search(q="华华化")) == ["华华化工厂"]
    assert search(q="华华华").total == 0


def test_every_run_and_latin_word_must_match(registry):
    assert names(search(q="3m 中国")) == ["3M中国有限公司"]
    assert names(search(q="３Ｍ")) == ["3M中国有限公司"]
    assert search(q="3m 化工").total == 0


def test_former_names_are_searched(registry):
    assert names(search(q="旧名称印染")) == ["新名称环保科技有限公司"]


def test_a_phrase_never_spans_two_runs_of_a_name_or_a_name_and_a_former_name(db):
    # found by the property test: "鑫鑫能" matched "工鑫鑫(鑫能鑫华公", whose runs "工鑫鑫" and "鑫能鑫华公" are apart
    make_enterprise("工鑫鑫（鑫能鑫华公司")
    make_enterprise("蓝天环保有限公司", former_names=["江南化工"])
    db.session.commit()
    assert search(q="鑫鑫能").total == 0
    assert search(q="公司江南").total == 0 and search(q="司江").total == 0
    assert names(search(q="鑫能鑫")) == ["工鑫鑫（鑫能鑫华公司"]
    assert names(search(q="鑫鑫 鑫能")) == ["工鑫鑫（鑫能鑫华公司"]  # two runs typed apart: both must match


def test_one_character_uses_the_index_and_combines_with_phrases(registry):
    result = search(q="厂")
    assert result.mode == "fulltext"
    assert set(names(result)) == {"华华化工厂", "<script>alert(1)</script>污水处理厂"}
    combined = search(q="化工 厂")
    assert combined.mode == "fulltext"
    assert names(combined) == ["华华化工厂"]


@pytest.mark.parametrize("typed", ['"化工', "化工*", "化工 AND", "NEAR(化工", "-化工", "化工 OR 印染", "化工)", "化工:x"])
def test_fts_syntax_typed_by_users_is_harmless(registry, typed):
    result = search(q=typed)
    assert result.mode == "fulltext"
    assert result.total >= 0  # no syntax error reached the database


def test_fts_operator_words_are_searched_as_plain_words(registry):
    assert search(q="化工 OR 印染").total == 0  # "or" is a word that must match, not an operator


def test_credit_code_is_an_exact_lookup(registry, req):
    ent = registry["nenghua"]
    result = search(q=ent.uscc.lower())
    assert (result.mode, names(result)) == ("uscc", ["能源化学工业集团"])


def test_unknown_but_valid_credit_code_finds_nothing(registry, req):
    result = search(q=make_uscc(999_999))
    assert (result.mode, result.total, result.items) == ("uscc", 0, [])


def test_wrong_check_character_says_which_it_should_be(registry, req):
    code = registry["huaneng"].uscc
    wrong = code[:17] + ("0" if code[17] != "0" else "1")
    with pytest.raises(DomainError) as exc:
        search(q=wrong)
    assert code[17] in exc.value.message


def test_permit_number_is_an_exact_lookup(registry, req):
    permit = make_permit(registry["huahua"])
    result = search(q=permit.permit_no)
    assert (result.mode, names(result)) == ("permit", ["华华化工厂"])


def test_region_prefix_filters_province_city_and_county(registry):
    assert set(names(search(region="21"))) == {"能源化学工业集团", "3M中国有限公司"}
    assert names(search(region="210100")) == ["能源化学工业集团"]
    assert names(search(region="2101")) == ["能源化学工业集团"]
    assert names(search(q="化工", region="320803")) == ["华华化工厂"]
    assert set(names(search(q="化工", region="320800"))) == {"华能化工有限公司", "华华化工厂"}


def test_industry_filter(registry):
    assert names(search(industry="4411")) == ["能源化学工业集团"]
    assert names(search(industry="44")) == ["能源化学工业集团"]


def test_key_unit_filter_uses_the_current_year(registry, db):
    year = datetime.now(ZoneInfo("Asia/Shanghai")).year
    db.session.add(KeyUnitYear(enterprise_id=registry["huaneng"].id, year=year, unit_type=KeyUnitType.WATER))
    db.session.add(KeyUnitYear(enterprise_id=registry["huahua"].id, year=year - 1, unit_type=KeyUnitType.WATER))
    db.session.commit()
    assert names(search(key_unit="water")) == ["华能化工有限公司"]
    assert search(key_unit="air").total == 0


def test_relevance_puts_shorter_names_first(registry):
    assert names(search(q="化工")) == ["华华化工厂", "华能化工有限公司"]


def test_an_empty_query_lists_everything_by_name(registry):
    result = search()
    assert result.mode == "all"
    assert result.sort == "name"
    assert names(result) == sorted(names(result))
    assert result.total == 6


@pytest.mark.parametrize("sort", ["relevance", "name"])
@pytest.mark.parametrize("per_page", [1, 3, 7])
def test_cursor_pagination_returns_every_row_exactly_once(db, sort, per_page):
    for i in range(17):
        make_enterprise(f"{'测' * (i % 4)}化工{i:02d}号有限公司")
    db.session.commit()
    seen, cursor, pages = [], "", 0
    while True:
        result = search(q="化工", sort=sort, per_page=per_page, after=cursor)
        seen.extend(e.id for e in result.items)
        pages += 1
        if not result.next_cursor:
            break
        cursor = result.next_cursor
    assert len(seen) == len(set(seen)) == 17
    assert pages == -(-17 // per_page)


def test_previous_cursor_walks_back_to_the_same_pages(db):
    for i in range(9):
        make_enterprise(f"化工{i}厂")
    db.session.commit()
    first = search(q="化工", per_page=4)
    second = search(q="化工", per_page=4, after=first.next_cursor)
    third = search(q="化工", per_page=4, after=second.next_cursor)
    assert first.prev_cursor is None and third.next_cursor is None
    back = search(q="化工", per_page=4, after=third.prev_cursor)
    assert [e.id for e in back.items] == [e.id for e in second.items]
    back_again = search(q="化工", per_page=4, after=back.prev_cursor)
    assert [e.id for e in back_again.items] == [e.id for e in first.items]
    assert back_again.prev_cursor is None


def test_bad_cursor_is_a_domain_error_naming_the_cursor(registry, req):
    with pytest.raises(DomainError) as exc:
        search(q="化工", after="not-a-cursor")
    assert exc.value.field == "cursor"


def test_cursor_from_another_sort_is_refused(registry, req):
    cursor = search(q="化工", per_page=1).next_cursor
    with pytest.raises(DomainError):
        search(q="化工", sort="name", after=cursor)


def test_count_is_capped(db, monkeypatch):
    from portal.search import queries

    monkeypatch.setattr(queries, "TOTAL_CAP", 3)
    for i in range(5):
        make_enterprise(f"化工{i}厂")
    _db.session.commit()
    result = search(q="化工", per_page=2)
    assert (result.total, result.total_is_capped) == (3, True)
    assert search(q="化工0").total_is_capped is False


@pytest.mark.parametrize("field, kw", [("region", {"region": "abc"}), ("industry", {"industry": "x1"}),
                                       ("key_unit", {"key_unit": "plutonium"}), ("sort", {"sort": "id"}),
                                       ("q", {"q": "化" * 101})])
def test_bad_parameters_name_their_field(registry, req, field, kw):
    with pytest.raises(DomainError) as exc:
        search(**kw)
    assert exc.value.field == field


@pytest.mark.parametrize("q", ["化工", "化"])
def test_above_the_cap_matches_come_in_registry_order_and_paginate_exactly_once(db, monkeypatch, q):
    from portal.search import queries

    monkeypatch.setattr(queries, "TOTAL_CAP", 4)
    made = [make_enterprise(f"{'长' * (i % 3)}化工{i}厂").id for i in range(11)]
    make_enterprise("无关企业")
    db.session.commit()
    pages, cursor = [], ""
    while True:
        result = search(q=q, per_page=3, after=cursor)
        assert (result.sort, result.total_is_capped) == ("id", True)
        pages.append([e.id for e in result.items])
        if not result.next_cursor:
            break
        cursor = result.next_cursor
    assert [i for page in pages for i in page] == sorted(made)
    back = search(q=q, per_page=3, after=result.prev_cursor)
    assert [e.id for e in back.items] == pages[-2]


def test_registry_order_cursor_is_refused_once_the_set_is_small_again(db, monkeypatch, req):
    from portal.search import queries

    monkeypatch.setattr(queries, "TOTAL_CAP", 2)
    for i in range(4):
        make_enterprise(f"化工{i}厂")
    db.session.commit()
    cursor = search(q="化工", per_page=1).next_cursor
    monkeypatch.setattr(queries, "TOTAL_CAP", 100)
    with pytest.raises(DomainError):
        search(q="化工", per_page=1, after=cursor)


def test_retokenize_rebuilds_the_index_from_names(db, req):
    """What a migration runs when the token format changes: stale tokens are replaced and the index follows."""
    import sqlalchemy as sa

    from portal.search import ddl

    make_enterprise("鑫源化工有限公司")
    db.session.commit()
    with db.engine.begin() as conn:
        conn.execute(sa.text("UPDATE enterprises SET search_tokens = '鑫源 源化 化工'"))  # an older format
    assert search(q="鑫").total == 0
    with db.engine.begin() as conn:
        assert ddl.retokenize(conn, batch=1) == 1
    assert names(search(q="鑫")) == ["鑫源化工有限公司"]


def test_region_and_industry_filters_of_a_name_search_use_code_tokens_that_names_cannot_fake(db, req):
    inside = make_enterprise("淮安化工有限公司", region_code="320803", industry_code="2614")
    make_enterprise("区32业26化工厂", region_code="210100", industry_code="4411")  # name looks like the tokens
    db.session.commit()
    for kw in ({"region": "32"}, {"region": "3208"}, {"region": "320803"}, {"industry": "26"},
               {"industry": "261"}, {"industry": "2614"}, {"region": "32", "industry": "26"}):
        assert names(search(q="化工", **kw)) == [inside.name], kw
    assert names(search(q="化工", region="320826")) == []
    inside.region_code = "320826"  # moving the enterprise re-indexes it
    db.session.commit()
    assert names(search(q="化工", region="320826")) == [inside.name]
    assert names(search(q="化工", region="320803")) == []


def test_postgresql_counts_with_a_larger_work_mem(db, req, registry):
    """Lossy bitmaps re-check every row of a page; the count of a name search raises work_mem for its transaction."""
    import sqlalchemy as sa

    if db.engine.dialect.name != "postgresql":
        return
    search(q="化工")
    assert db.session.scalar(sa.text("SHOW work_mem")) == "32MB"
