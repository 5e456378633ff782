"""Home page and /search (public, GET only)."""
import pytest

from portal.auth.models import Role
from tests.factories import make_enterprise, make_limit, make_outlet, make_permit, make_user


@pytest.fixture
def registry(db):
    a = make_enterprise("华能化工有限公司", region_code="320826")
    b = make_enterprise("<script>alert(1)</script>化工厂", region_code="210100", industry_code="4411")
    permit = make_permit(a)
    outlet = make_outlet(a, permit=permit)
    make_limit(outlet)
    db.session.commit()
    return a, b


def text(response):
    return response.get_data(as_text=True)


def test_home_shows_registry_counts_and_popular_regions(client, registry):
    page = text(client.get("/"))
    assert 'action="/search"' in page
    # 2 enterprises, 1 permit, 1 outlet, 2 counties
    assert page.count('<dd class="stat">2</dd>') == 2
    assert page.count('<dd class="stat">1</dd>') == 2
    assert "淮安市" in page and "沈阳市" in page
    assert "/search?region=320800" in page


def test_home_works_on_an_empty_registry(client, db):
    response = client.get("/")
    assert response.status_code == 200
    assert text(response).count('<dd class="stat">0</dd>') == 4


def test_search_page_without_parameters_shows_the_form_only(client, registry):
    page = text(client.get("/search"))
    assert 'name="q"' in page and 'name="region"' in page and 'name="industry"' in page
    assert 'class="results"' not in page


def test_search_highlights_the_match_and_escapes_html_in_names(client, registry):
    page = text(client.get("/search?q=化工"))
    assert "<mark>化工</mark>" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;<mark>化工</mark>厂" in page
    assert "<script>alert(1)" not in page
    assert f'href="/enterprises/{registry[0].uscc}"' in page
    assert "涟水县" in page and "有机化学原料制造" in page


def test_search_escapes_the_query_itself(client, registry):
    page = text(client.get('/search?q=<img src=x onerror=alert(1)>化工'))
    assert "<img src=x" not in page


def test_filters_restrict_results(client, registry):
    page = text(client.get("/search?q=化工&region=210100"))
    assert "alert(1)" in page and "华能<mark>化工</mark>有限公司" not in page
    assert "华能<mark>化工</mark>有限公司" in text(client.get("/search?q=化工&region=320800"))


def test_unknown_region_choice_is_a_field_error_not_a_crash(client, registry):
    response = client.get("/search?q=化工&region=999999")
    assert response.status_code == 200
    assert 'id="region-error"' in text(response)


def test_invalid_credit_code_says_which_check_character_is_expected(client, registry):
    code = registry[0].uscc
    wrong = code[:17] + ("0" if code[17] != "0" else "1")
    page = text(client.get(f"/search?q={wrong}"))
    assert 'id="q-error"' in page
    assert f"“{code[17]}”" in page


def test_credit_code_search_finds_the_enterprise(client, registry):
    page = text(client.get(f"/search?q={registry[1].uscc}"))
    assert f'href="/enterprises/{registry[1].uscc}"' in page
    assert f'href="/enterprises/{registry[0].uscc}"' not in page


def test_empty_result_explains_what_to_try(client, registry):
    page = text(client.get("/search?q=不存在的名字"))
    assert 'class="card empty"' in page


def test_next_and_previous_links_carry_cursors_and_filters(client, db):
    for i in range(25):
        make_enterprise(f"化工{i:02d}厂")
    db.session.commit()
    first = text(client.get("/search?q=化工&sort=name"))
    assert 'rel="next"' in first and 'rel="prev"' not in first
    next_url = first.split('rel="next" href="')[1].split('"')[0].replace("&amp;", "&")
    assert "sort=name" in next_url and "cursor=" in next_url
    second = text(client.get(next_url))
    assert 'rel="prev"' in second and 'rel="next"' not in second
    assert "<mark>化工</mark>24厂" in second and "<mark>化工</mark>00厂" not in second


def test_bad_cursor_shows_a_message_and_a_way_back(client, registry):
    response = client.get("/search?q=化工&cursor=garbage")
    assert response.status_code == 200
    page = text(response)
    assert 'role="alert"' in page and "/search?q=" in page


def test_capped_total_is_shown_as_more_than_the_cap(client, db, monkeypatch):
    from portal.search import queries

    monkeypatch.setattr(queries, "TOTAL_CAP", 1)
    make_enterprise("化工一厂")
    make_enterprise("化工二厂")
    db.session.commit()
    page = text(client.get("/search?q=化工&lang=en"))
    assert "More than 1 enterprises found" in page


def test_english_page_uses_english_industry_names(client, registry):
    page = text(client.get("/search?q=华能&lang=en"))
    assert "Organic chemical raw materials" in page


@pytest.mark.parametrize("role", [None, Role.ENTERPRISE_STAFF, Role.REGULATOR])
def test_search_is_public_and_the_same_for_every_user(client, registry, login, role):
    if role is not None:
        login(make_user(role, enterprise=registry[0] if role == Role.ENTERPRISE_STAFF else None,
                        jurisdiction_code="21" if role == Role.REGULATOR else None))
    page = text(client.get("/search?q=化工"))
    assert "华能<mark>化工</mark>有限公司" in page and "alert(1)" in page


def test_search_is_get_only(client):
    assert client.post("/search", data={"q": "化工"}).status_code == 405


def test_too_many_matches_are_explained(client, db, monkeypatch):
    monkeypatch.setattr("portal.search.queries.TOTAL_CAP", 1)
    make_enterprise("化工一厂")
    make_enterprise("化工二厂")
    db.session.commit()
    page = text(client.get("/search?q=化工&lang=en"))
    assert "registration order" in page


def test_home_counts_are_cached_when_a_ttl_is_set(client, app, db):
    from portal.search import reference

    make_enterprise("化工一厂")
    db.session.commit()
    previous = app.config["HOME_STATS_TTL"]
    app.config["HOME_STATS_TTL"] = 60
    try:
        reference._home_cache.clear()
        assert text(client.get("/")).count('<dd class="stat">1</dd>') == 2
        make_enterprise("化工二厂")
        db.session.commit()
        assert text(client.get("/")).count('<dd class="stat">1</dd>') == 2  # still the cached totals
    finally:
        app.config["HOME_STATS_TTL"] = previous
        reference._home_cache.clear()
    assert '<dd class="stat">2</dd>' in text(client.get("/"))
