"""JSON API v1: enterprises search and detail, reference lists, error contract, CORS, pagination links."""
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.factories import make_enterprise, make_limit, make_outlet, make_permit, make_uscc


@pytest.fixture
def registry(db):
    a = make_enterprise("华能化工有限公司", former_names=["华能化学品厂"])
    b = make_enterprise("沈阳鸿达精细化工股份有限公司", region_code="210100", industry_code="4411")
    permit = make_permit(a)
    outlet = make_outlet(a, code="DW001", permit=permit)
    make_limit(outlet, "w01018", "50.0")
    make_limit(outlet, "w01001", None, limit_min="6", limit_max="9", unit="无量纲")
    db.session.commit()
    return a, b


def error_of(response):
    assert response.is_json
    body = response.get_json()
    return body["error"]["code"], body["error"]["message"]


def test_search_returns_summaries_with_links(client, registry):
    response = client.get("/api/v1/enterprises?q=化工")
    assert response.status_code == 200
    body = response.get_json()
    assert [e["name"] for e in body["data"]] == ["华能化工有限公司", "沈阳鸿达精细化工股份有限公司"]
    first = body["data"][0]
    assert first["region"] == {"code": "320826", "name": "涟水县"}
    assert first["industry"]["code"] == "2614"
    assert first["links"]["html"].endswith(f"/enterprises/{first['uscc']}")
    assert first["links"]["self"].endswith(f"/api/v1/enterprises/{first['uscc']}")
    assert body["meta"] == {"total": 2, "total_is_capped": False, "mode": "fulltext", "sort": "relevance",
                            "per_page": 20}
    assert body["links"]["next"] is None and body["links"]["prev"] is None


def test_filters_work_through_the_api(client, registry):
    body = client.get("/api/v1/enterprises?region=21").get_json()
    assert [e["name"] for e in body["data"]] == ["沈阳鸿达精细化工股份有限公司"]
    body = client.get("/api/v1/enterprises?industry=2614&q=华能化学品").get_json()
    assert [e["name"] for e in body["data"]] == ["华能化工有限公司"]


def test_pagination_links_walk_every_row_once(client, db):
    for i in range(7):
        make_enterprise(f"化工{i}厂")
    db.session.commit()
    url, seen = "/api/v1/enterprises?q=化工&per_page=3&sort=name", []
    while url:
        body = client.get(url).get_json()
        seen += [e["uscc"] for e in body["data"]]
        url = body["links"]["next"]
        if url:
            query = parse_qs(urlsplit(url).query)
            assert query["per_page"] == ["3"] and query["sort"] == ["name"] and query["q"] == ["化工"]
    assert len(seen) == len(set(seen)) == 7


@pytest.mark.parametrize("query, param", [
    ("per_page=0", "per_page"), ("per_page=101", "per_page"), ("per_page=abc", "per_page"),
    ("per_page=-5", "per_page"), ("cursor=bad", "cursor"), ("region=3", "region"), ("sort=id", "sort"),
    ("key_unit=x", "key_unit"), ("industry=abc", "industry"), ("page=2", "page"), ("q=%22*", "q"),
])
def test_invalid_parameters_are_400_naming_the_parameter(client, registry, query, param):
    response = client.get(f"/api/v1/enterprises?{query}")
    assert response.status_code == 400
    code, message = error_of(response)
    assert code == "invalid_parameter"
    assert param in message


def test_per_page_up_to_the_maximum_is_accepted(client, registry, app):
    assert client.get(f"/api/v1/enterprises?per_page={app.config['API_MAX_PER_PAGE']}").status_code == 200


def test_search_by_wrong_check_character_is_400_with_the_expected_character(client, registry):
    code = registry[0].uscc
    wrong = code[:17] + ("0" if code[17] != "0" else "1")
    code_name, message = error_of(client.get(f"/api/v1/enterprises?q={wrong}"))
    assert code_name == "invalid_parameter" and f"“{code[17]}”" in message


def test_enterprise_detail_has_identity_region_path_permits_outlets_and_limits(client, registry):
    ent = registry[0]
    response = client.get(f"/api/v1/enterprises/{ent.uscc.lower()}")
    assert response.status_code == 200
    data = response.get_json()["data"]
    assert data["uscc"] == ent.uscc and data["name"] == "华能化工有限公司"
    assert data["former_names"] == ["华能化学品厂"]
    assert [r["code"] for r in data["region"]["path"]] == ["320000", "320800", "320826"]
    assert data["industry"]["name"] == "有机化学原料制造"
    assert data["permits"][0]["permit_no"] == f"{ent.uscc}001P"
    assert data["permits"][0]["valid_to"] == "2028-01-01"
    limits = {lim["pollutant_code"]: lim for lim in data["outlets"][0]["limits"]}
    assert limits["w01018"]["limit_value"] == "50.0000"  # exact decimal string, never a float
    assert (limits["w01001"]["limit_min"], limits["w01001"]["limit_max"]) == ("6.0000", "9.0000")
    assert limits["w01001"]["limit_value"] is None
    assert "contact_phone" not in data


def test_enterprise_detail_wrong_check_character_is_400(client, registry):
    code = registry[0].uscc
    wrong = code[:17] + ("0" if code[17] != "0" else "1")
    response = client.get(f"/api/v1/enterprises/{wrong}")
    assert response.status_code == 400
    code_name, message = error_of(response)
    assert code_name == "invalid_parameter" and f"“{code[17]}”" in message


@pytest.mark.parametrize("bad", ["123", "9132082612345678IE", "x" * 40])
def test_enterprise_detail_malformed_code_is_400(client, registry, bad):
    response = client.get(f"/api/v1/enterprises/{bad}")
    assert response.status_code == 400
    assert error_of(response)[0] == "invalid_parameter"


def test_enterprise_detail_unknown_code_is_404(client, registry):
    response = client.get(f"/api/v1/enterprises/{make_uscc(888_888)}")
    assert response.status_code == 404
    assert error_of(response)[0] == "not_found"


def test_reference_lists(client, registry):
    regions = client.get("/api/v1/regions").get_json()["data"]
    assert {"code": "320800", "name": "淮安市", "name_en": "", "level": 2, "parent_code": "320000",
            "prefix": "3208"} in regions
    counties = client.get("/api/v1/regions?level=3").get_json()["data"]
    assert {r["level"] for r in counties} == {3}
    assert client.get("/api/v1/regions?level=9").status_code == 400
    industries = client.get("/api/v1/industries").get_json()["data"]
    assert [i["code"] for i in industries] == ["2614", "4411"]


@pytest.mark.parametrize("url", ["/api/v1/enterprises", "/api/v1/regions", "/api/v1/industries",
                                 "/api/v1/openapi.json", "/api/v1/enterprises/123", "/api/v1/nothing-here"])
def test_get_responses_allow_any_origin(client, db, url):
    assert client.get(url).headers["Access-Control-Allow-Origin"] == "*"


def test_html_pages_do_not_get_the_cors_header(client, db):
    assert "Access-Control-Allow-Origin" not in client.get("/search").headers


def test_unknown_api_path_is_json_404(client, db):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert error_of(response)[0] == "not_found"


def test_post_is_405_json_and_needs_no_csrf_token(client, app, db):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = client.post("/api/v1/enterprises")
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code == 405
    assert error_of(response)[0] == "method_not_allowed"


def test_messages_follow_the_requested_language(client, registry):
    _code, message = error_of(client.get("/api/v1/enterprises?per_page=0&lang=en"))
    assert re.search(r"per_page.*1 to 100", message)
