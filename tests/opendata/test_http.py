"""Open-data HTTP: strong ETags and Last-Modified with 304s, CORS for GET on /api/v1 and /open311, GET-only preflight."""
from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone

import pytest
from werkzeug.http import http_date, parse_date

from portal.opendata import http
from tests.factories import make_enterprise


@pytest.fixture
def ent(db):
    e = make_enterprise("华能化工有限公司")
    db.session.commit()
    return e


def test_api_get_has_a_strong_etag_that_is_the_hash_of_the_body(client, ent):
    response = client.get(f"/api/v1/enterprises/{ent.uscc}")
    assert response.status_code == 200
    etag = response.headers["ETag"]
    assert not etag.startswith("W/")
    assert etag == '"%s"' % hashlib.sha256(response.data).hexdigest()[:40]
    assert parse_date(response.headers["Last-Modified"]) is not None
    assert "public" in response.headers["Cache-Control"]


def test_if_none_match_with_the_current_etag_gives_304_without_a_body(client, ent):
    first = client.get(f"/api/v1/enterprises/{ent.uscc}")
    again = client.get(f"/api/v1/enterprises/{ent.uscc}", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == first.headers["ETag"]
    assert again.headers["Access-Control-Allow-Origin"] == "*"


def test_a_changed_record_changes_the_etag_and_the_old_one_gets_200(client, ent, db):
    first = client.get(f"/api/v1/enterprises/{ent.uscc}")
    ent.address = "江苏省淮安市涟水县新地址 1 号"
    db.session.commit()
    again = client.get(f"/api/v1/enterprises/{ent.uscc}", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 200
    assert again.headers["ETag"] != first.headers["ETag"]
    assert "新地址" in again.get_json()["data"]["address"]


def test_if_modified_since_is_honoured_and_if_none_match_wins_over_it(client, ent):
    first = client.get("/api/v1/regions")
    modified = first.headers["Last-Modified"]
    assert client.get("/api/v1/regions", headers={"If-Modified-Since": modified}).status_code == 304
    later = http_date(datetime.now(timezone.utc) + timedelta(days=1))
    assert client.get("/api/v1/regions", headers={"If-Modified-Since": later}).status_code == 304
    earlier = http_date(parse_date(modified) - timedelta(days=1))
    assert client.get("/api/v1/regions", headers={"If-Modified-Since": earlier}).status_code == 200
    stale = client.get("/api/v1/regions", headers={"If-Modified-Since": later, "If-None-Match": '"other"'})
    assert stale.status_code == 200


def test_last_modified_stays_put_while_the_body_does_not_change(client, ent):
    http.first_seen.clear()
    a = client.get("/api/v1/industries").headers["Last-Modified"]
    b = client.get("/api/v1/industries").headers["Last-Modified"]
    assert a == b


def test_errors_get_cors_but_no_etag(client, db):
    response = client.get("/api/v1/enterprises/123")
    assert response.status_code == 400
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "ETag" not in response.headers


@pytest.mark.parametrize("url", ["/api/v1/regions", "/open311/v2/services.json", "/open311/v2/services.xml"])
def test_get_is_open_to_any_origin_without_credentials(client, db, url):
    response = client.get(url, headers={"Origin": "https://example.org"})
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in response.headers
    assert "ETag" in response.headers["Access-Control-Expose-Headers"]
    assert response.headers["ETag"]


def test_open311_xml_answers_304_on_a_matching_etag(client, db):
    first = client.get("/open311/v2/services.xml")
    assert client.get("/open311/v2/services.xml",
                      headers={"If-None-Match": first.headers["ETag"]}).status_code == 304


def test_preflight_for_get_is_granted_with_the_safe_headers_only(client, db):
    response = client.options("/api/v1/enterprises", headers={
        "Origin": "https://example.org", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "If-None-Match, X-Secret"})
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "GET" in response.headers["Access-Control-Allow-Methods"]
    assert response.headers["Access-Control-Allow-Headers"] == "If-None-Match"
    assert int(response.headers["Access-Control-Max-Age"]) > 0
    assert "Access-Control-Allow-Credentials" not in response.headers


@pytest.mark.parametrize("url", ["/api/v1/monitoring/hj212", "/open311/v2/requests.json"])
def test_preflight_for_post_is_not_granted(client, db, url):
    response = client.options(url, headers={"Origin": "https://example.org",
                                            "Access-Control-Request-Method": "POST"})
    assert "Access-Control-Allow-Origin" not in response.headers


def test_post_responses_get_no_cors_header(client, db):
    response = client.post("/api/v1/monitoring/hj212", data="garbage", headers={"Origin": "https://example.org"})
    assert "Access-Control-Allow-Origin" not in response.headers
    assert "ETag" not in response.headers


def test_html_pages_get_neither_cors_nor_an_api_etag(client, db):
    response = client.get("/search")
    assert "Access-Control-Allow-Origin" not in response.headers
