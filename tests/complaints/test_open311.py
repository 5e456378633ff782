"""Open311 GeoReport v2 conformance, written from the spec (wiki.open311.org/GeoReport_v2): resources, formats,
filters, POST with and without api_key, tokens, and errors as a list of {code, description}."""
from __future__ import annotations

from datetime import datetime
from xml.etree import ElementTree as ET

import pytest
import sqlalchemy as sa

from portal.auth.models import Role
from portal.complaints import services
from portal.complaints.models import Category, Channel, Complaint, Findings
from tests.factories import ensure_reference, make_complaint, make_user

BASE = "/open311/v2"
KEY = "partner-key-123"


@pytest.fixture(autouse=True)
def partner_key(app):
    app.config["OPEN311_API_KEYS"] = {KEY: "12345-huaian"}
    yield
    app.config["OPEN311_API_KEYS"] = {}


@pytest.fixture
def regions(db):
    ensure_reference()
    db.session.commit()


def _post(client, **extra):
    data = {"service_code": "air", "lat": "33.78", "long": "119.26", "description": "工厂烟囱夜间冒黑烟，气味刺鼻。",
            "attribute[region_code]": "320826", "email": "wang@example.cn", "first_name": "五", "last_name": "王"}
    data.update(extra)
    return client.post(f"{BASE}/requests.json", data=data)


def test_services_list_every_category_with_the_required_fields(client):
    body = client.get(f"{BASE}/services.json").get_json()
    assert {s["service_code"] for s in body} >= {"air", "water", "noise", "solid_waste"}
    for service in body:
        assert set(service) >= {"service_code", "service_name", "description", "metadata", "type", "keywords",
                                "group"}
        assert service["type"] in ("realtime", "batch", "blackbox") and isinstance(service["metadata"], bool)


def test_services_are_also_xml_with_a_utf8_declaration(client):
    response = client.get(f"{BASE}/services.xml")
    assert response.mimetype == "text/xml" and response.data.startswith(b"<?xml")
    root = ET.fromstring(response.data)
    assert root.tag == "services" and root.find("service/service_code") is not None


def test_a_service_definition_lists_its_attributes(client):
    definition = client.get(f"{BASE}/services/water.json").get_json()
    assert isinstance(definition, dict) and definition["service_code"] == "water"
    codes = {a["code"]: a for a in definition["attributes"]}
    assert codes["region_code"]["required"] is True and codes["region_code"]["variable"] is True
    assert all({"datatype", "order", "description"} <= set(a) for a in codes.values())


def test_unknown_service_is_a_404_in_the_error_format(client):
    response = client.get(f"{BASE}/services/lava.json")
    assert response.status_code == 404
    (error,) = response.get_json()
    assert error["code"] == 404 and error["description"]


def test_anonymous_post_creates_a_request_and_returns_its_id(client, db, regions):
    response = _post(client)
    assert response.status_code == 200, response.get_data(as_text=True)
    (created,) = response.get_json()
    c = db.session.scalar(sa.select(Complaint))
    assert created["service_request_id"] == c.case_no and "service_notice" in created
    assert c.channel == Channel.WEB and not c.anonymous and c.latitude == pytest.approx(33.78)
    token = client.get(f"{BASE}/tokens/{created['token']}.json").get_json()
    assert token == [{"service_request_id": c.case_no, "token": created["token"]}]


@pytest.mark.parametrize("changes, status", [
    ({"service_code": ""}, 400), ({"service_code": "lava"}, 400), ({"lat": "", "long": ""}, 400),
    ({"attribute[region_code]": ""}, 400), ({"description": "短"}, 400), ({"lat": "north"}, 400),
    ({"api_key": "wrong"}, 403),
])
def test_bad_posts_answer_with_code_and_description(client, db, regions, changes, status):
    response = _post(client, **changes)
    assert response.status_code == status
    body = response.get_json()
    assert isinstance(body, list) and body[0]["code"] == status and body[0]["description"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Complaint)) == 0


def test_errors_are_xml_on_xml_resources(client, regions):
    response = client.post(f"{BASE}/requests.xml", data={"service_code": "air"})
    root = ET.fromstring(response.data)
    assert response.status_code == 400 and root.tag == "errors" and root.find("error/code").text == "400"


def test_a_partner_posts_a_dispatched_ticket_once_and_sees_the_reply(client, db, regions):
    first = _post(client, api_key=KEY, **{"attribute[external_ticket]": "HA-2026-0001",
                                          "attribute[due_date]": "2026-12-31"})
    again = _post(client, api_key=KEY, **{"attribute[external_ticket]": "HA-2026-0001"})
    assert first.get_json()[0]["service_request_id"] == again.get_json()[0]["service_request_id"]
    c = db.session.scalar(sa.select(Complaint))
    assert c.channel == Channel.DISPATCH_12345 and c.external_ticket == "HA-2026-0001"
    assert c.partner == "12345-huaian" and str(c.external_due_on) == "2026-12-31"
    officer = make_user(Role.REGULATOR, jurisdiction_code="3208")
    services.accept_complaint(c, officer)
    services.start_investigation(c, officer)
    services.report_result(c, officer, Findings.SUBSTANTIATED, "现场核实超标排放，已立案处罚。")
    services.reply_complaint(c, officer, "经查属实，已责令整改。")
    db.session.commit()
    partner_view = client.get(f"{BASE}/requests/{c.case_no}.json", headers={"X-Api-Key": KEY}).get_json()[0]
    in_url = client.get(f"{BASE}/requests/{c.case_no}.json?api_key={KEY}")
    assert in_url.status_code == 400 and "X-Api-Key" in in_url.get_json()[0]["description"]
    public_view = client.get(f"{BASE}/requests/{c.case_no}.json").get_json()[0]
    assert partner_view["status_notes"] == "经查属实，已责令整改。" and partner_view["description"]
    assert public_view["status_notes"] != "经查属实，已责令整改。" and public_view["description"] is None


def test_a_request_shows_status_and_the_expected_datetime_from_the_sla(client, db):
    c, _ = make_complaint(identity={"name": "李四", "phone": "13800000000", "email": "", "id_no": ""})
    db.session.commit()
    (shown,) = client.get(f"{BASE}/requests/{c.case_no}.json").get_json()
    assert shown["status"] == "open" and shown["service_code"] == "water"
    assert shown["expected_datetime"].startswith(c.accept_due.isoformat())
    assert datetime.fromisoformat(shown["requested_datetime"]).tzinfo is not None
    assert "李四" not in str(shown) and "13800000000" not in str(shown)
    assert client.get(f"{BASE}/requests/12369-20000101-000000.json").status_code == 404


def test_requests_filter_by_id_code_status_and_dates(client, db):
    officer = make_user(Role.REGULATOR, jurisdiction_code="3208")
    water, _ = make_complaint()
    noise, _ = make_complaint(category=Category.NOISE)
    services.reject_complaint(noise, officer, "REJECTED_NOT_COMPETENT", "请向公安机关反映社会生活噪声。")
    db.session.commit()

    def ids(query):
        return {r["service_request_id"] for r in client.get(f"{BASE}/requests.json?{query}").get_json()}

    assert ids("") == {water.case_no, noise.case_no}
    assert ids(f"service_request_id={water.case_no},{noise.case_no}") == {water.case_no, noise.case_no}
    assert ids("service_code=noise") == {noise.case_no}
    assert ids("status=open") == {water.case_no}
    assert ids("status=closed") == {noise.case_no}
    assert ids("start_date=2000-01-01T00:00:00Z&end_date=2000-02-01T00:00:00Z") == set()
    assert client.get(f"{BASE}/requests.json?status=pending").status_code == 400
    assert client.get(f"{BASE}/requests.json?start_date=yesterday").status_code == 400


def test_requests_are_xml_too(client, db):
    c, _ = make_complaint()
    db.session.commit()
    root = ET.fromstring(client.get(f"{BASE}/requests.xml").data)
    assert root.tag == "service_requests" and root.find("request/service_request_id").text == c.case_no


def test_a_wrong_jurisdiction_id_is_refused(client):
    assert client.get(f"{BASE}/services.json?jurisdiction_id=elsewhere.example").status_code == 404


# --- errors in the spec's format for anything under /open311/ ------------------------------------------------------

def _json_error(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert isinstance(body, list) and len(body) == 1 and set(body[0]) == {"code", "description"}
    assert body[0]["code"] == status and body[0]["description"]
    return body[0]["description"]


def _xml_error(response, status):
    assert response.status_code == status and response.mimetype == "text/xml"
    assert response.data.startswith(b"<?xml") and b"utf-8" in response.data[:60].lower()
    root = ET.fromstring(response.data)
    assert root.tag == "errors" and [e.tag for e in root] == ["error"]
    assert root.find("error/code").text == str(status) and root.find("error/description").text
    return root.find("error/description").text


@pytest.mark.parametrize("path", [f"{BASE}/nothing.json", f"{BASE}/requests/extra/path.json", f"{BASE}/",
                                  "/open311/v3/services.json", "/open311/"])
def test_an_unknown_url_is_a_404_in_the_json_error_format(client, path):
    _json_error(client.get(path), 404)


def test_an_unknown_url_ending_in_xml_answers_in_xml(client):
    _xml_error(client.get(f"{BASE}/nothing.xml"), 404)


@pytest.mark.parametrize("path", [f"{BASE}/services.csv", f"{BASE}/services.html", f"{BASE}/requests.rss",
                                  f"{BASE}/services/air.yaml"])
def test_an_unsupported_format_is_a_404_that_names_the_formats(client, path):
    description = _json_error(client.get(path), 404)
    assert ".json" in description and ".xml" in description


def test_a_wrong_method_is_a_405_with_allow(client):
    response = client.delete(f"{BASE}/requests.json")
    _json_error(response, 405)
    assert "GET" in response.headers["Allow"] and "POST" in response.headers["Allow"]
    _xml_error(client.put(f"{BASE}/services.xml"), 405)


def test_an_unknown_service_code_is_a_404_in_either_format(client):
    assert "lava" in _json_error(client.get(f"{BASE}/services/lava.json"), 404)
    _xml_error(client.get(f"{BASE}/services/lava.xml"), 404)
    _json_error(client.get(f"{BASE}/requests.json?service_code=air,lava"), 404)
    _xml_error(client.get(f"{BASE}/requests.xml?service_code=lava"), 404)


def test_an_unknown_service_code_on_post_is_a_400_in_either_format(client, regions):
    _json_error(_post(client, service_code="lava"), 400)
    _xml_error(client.post(f"{BASE}/requests.xml", data={"service_code": "lava", "lat": "33.7", "long": "119.2"}),
               400)


def test_unknown_request_and_token_are_404s_in_the_error_format(client, db):
    _json_error(client.get(f"{BASE}/requests/12369-20000101-000000.json"), 404)
    _xml_error(client.get(f"{BASE}/requests/12369-20000101-000000.xml"), 404)
    _json_error(client.get(f"{BASE}/tokens/open311:nothing.json"), 404)


def test_a_failure_inside_a_resource_is_a_500_in_the_error_format(client, monkeypatch):
    from portal.complaints import open311

    def boom(category):
        raise RuntimeError("boom")

    monkeypatch.setattr(open311, "_service", boom)
    description = _json_error(client.get(f"{BASE}/services.json"), 500)
    assert "boom" not in description


def test_pages_outside_open311_keep_the_portal_error_pages(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404 and response.mimetype == "text/html"


# --- service discovery (wiki.open311.org/Service_discovery) -----------------------------------------------------------

def test_discovery_names_the_v2_endpoint_and_its_formats(client):
    doc = client.get("/open311/discovery.json").get_json()
    assert set(doc) >= {"changeset", "contact", "key_service", "endpoints"}
    (endpoint,) = doc["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2" and endpoint["type"] == "production"
    assert set(endpoint["formats"]) == {"text/xml", "application/json"}
    assert endpoint["url"].endswith(BASE)
    datetime.fromisoformat(doc["changeset"])
    # a client follows the url it was given
    path = endpoint["url"].split("://", 1)[1].split("/", 1)[1]
    assert client.get(f"/{path}/services.json").status_code == 200


def test_discovery_is_also_xml(client):
    response = client.get("/open311/discovery.xml")
    assert response.mimetype == "text/xml" and response.data.startswith(b"<?xml")
    root = ET.fromstring(response.data)
    assert root.tag == "discovery" and root.find("endpoints/endpoint/url").text.endswith(BASE)
    assert {f.text for f in root.findall("endpoints/endpoint/formats/format")} == {"text/xml", "application/json"}
