"""Open311 with real clients: the PyPI `georeport` client (0.3.1) reads our services, service definitions and
requests in JSON and XML; locations at the public precision; random tokens; the partner key in a header and
never in the access log."""
from __future__ import annotations

import re
import runpy
from datetime import timedelta
from types import SimpleNamespace
from xml.etree import ElementTree as ET

import pytest
import sqlalchemy as sa
from georeport import GeoReport

from portal import ROOT
from portal.complaints.models import Channel, Complaint
from tests.factories import ensure_reference

BASE = "/open311/v2"
KEY = "partner-key-456"


@pytest.fixture(autouse=True)
def partner_key(app):
    app.config["OPEN311_API_KEYS"] = {KEY: "12345-huaian"}
    yield
    app.config["OPEN311_API_KEYS"] = {}


@pytest.fixture
def regions(db):
    ensure_reference()
    db.session.commit()


@pytest.fixture
def georeport(client, monkeypatch):
    """The real client, its HTTP calls answered by the Flask test client instead of the network."""

    class Reply:
        def __init__(self, response):
            self.status_code, self.content = response.status_code, response.data
            self._response = response

        def raise_for_status(self):
            if self.status_code >= 400:
                raise RuntimeError(f"HTTP {self.status_code}")

        def json(self):
            return self._response.get_json()

    def get(url, params=None):
        return Reply(client.get(url.removeprefix("http://portal.test"), query_string=params or {}))

    import georeport.georeport as module

    monkeypatch.setattr(module, "requests", SimpleNamespace(get=get))
    return lambda fmt: GeoReport("http://portal.test" + BASE, output_format=fmt)


def _post(client, headers=None, **extra):
    data = {"service_code": "air", "lat": "33.781234", "long": "119.265678", "attribute[region_code]": "320826",
            "description": "工厂烟囱夜间冒黑烟，气味刺鼻。"}
    data.update(extra)
    return client.post(f"{BASE}/requests.json", data=data, headers=headers or {})


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_the_georeport_client_reads_services_and_a_definition(georeport, fmt):
    api = georeport(fmt)
    codes = [s["service_code"] for s in api.get_service_list()]
    assert "water" in codes
    definition = api.get_service_definition("water")  # KeyError/IndexError on a list of definitions
    assert definition["service_code"] == "water"
    attributes = definition["attributes"] if fmt == "json" else definition["attributes"]["attribute"]
    assert "region_code" in {a["code"] for a in attributes}


def test_a_service_definition_is_one_object_with_its_own_xml_root(client):
    root = ET.fromstring(client.get(f"{BASE}/services/air.xml").data)
    assert root.tag == "service_definition" and root.findtext("service_code") == "air"
    assert [a.findtext("code") for a in root.findall("attributes/attribute")][0] == "region_code"
    assert isinstance(client.get(f"{BASE}/services/air.json").get_json(), dict)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_requests_carry_the_location_at_the_public_precision(georeport, client, regions, fmt):
    (created,) = _post(client).get_json()
    request = georeport(fmt).get_service_request(created["service_request_id"])
    assert float(request["lat"]) == 33.781 and float(request["long"]) == 119.266
    listed = georeport(fmt).get_service_requests(service_request_id=created["service_request_id"])
    listed = listed if isinstance(listed, list) else [listed]
    assert float(listed[0]["lat"]) == 33.781


def test_tokens_are_random_and_resolve_to_the_case(client, db, regions):
    headers = {"X-Api-Key": KEY}
    (first,) = _post(client, headers, **{"attribute[external_ticket]": "HA-9"}).get_json()
    (again,) = _post(client, headers, **{"attribute[external_ticket]": "HA-9"}).get_json()
    (anonymous,) = _post(client).get_json()
    assert first == again and first["token"] != anonymous["token"]
    for token in (first["token"], anonymous["token"]):
        assert len(token) >= 32 and "open311" not in token and "HA-9" not in token and "12345" not in token
    c = db.session.scalar(sa.select(Complaint).where(Complaint.case_no == first["service_request_id"]))
    assert c.channel == Channel.DISPATCH_12345 and c.partner == "12345-huaian"
    (found,) = client.get(f"{BASE}/tokens/{first['token']}.json").get_json()
    assert found["service_request_id"] == c.case_no
    assert client.get(f"{BASE}/tokens/open311:12345-huaian:HA-9.json").status_code == 404


def test_the_partner_key_is_accepted_in_a_header_and_a_wrong_one_refused(client, db, regions):
    (created,) = _post(client, {"X-Api-Key": KEY}, **{"attribute[external_ticket]": "HA-10"}).get_json()
    c = db.session.scalar(sa.select(Complaint).where(Complaint.case_no == created["service_request_id"]))
    assert c.partner == "12345-huaian" and c.external_ticket == "HA-10"
    (shown,) = client.get(f"{BASE}/requests/{c.case_no}.json", headers={"X-Api-Key": KEY}).get_json()
    assert shown["description"] == "工厂烟囱夜间冒黑烟，气味刺鼻。"  # the partner sees its own case
    (public,) = client.get(f"{BASE}/requests/{c.case_no}.json").get_json()
    assert public["description"] is None
    assert _post(client, {"X-Api-Key": "wrong"}).status_code == 403


def test_the_access_log_never_holds_a_query_string_or_the_api_key():
    """gunicorn.conf.py (read by `make run`) formats access lines from the path without the query string."""
    from gunicorn.config import Config
    from gunicorn.glogging import Logger

    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    fmt = settings["access_log_format"]
    assert not re.search(r"%\((r|q|f|h|\{[^}]*\}i)\)s", fmt)
    environ = {"REQUEST_METHOD": "GET", "RAW_URI": f"/open311/v2/requests.json?api_key={KEY}",
               "PATH_INFO": "/open311/v2/requests.json", "QUERY_STRING": f"api_key={KEY}",
               "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "10.1.2.3", "HTTP_X_API_KEY": KEY}
    response = SimpleNamespace(status="200 OK", sent=12, response_length=12, headers=[])
    request = SimpleNamespace(headers=[("X-API-KEY", KEY)])
    config = Config()
    config.set("access_log_format", fmt)
    atoms = Logger(config).atoms(response, request, environ, timedelta(milliseconds=12))
    line = fmt % atoms
    assert "/open311/v2/requests.json" in line and KEY not in line and "10.1.2.3" not in line
