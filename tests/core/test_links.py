"""Absolute links follow PORTAL_PUBLIC_BASE_URL, else the address the portal serves; never the Host header."""
from __future__ import annotations

import pytest

from portal import create_app
from portal.core.links import public_url, resolve_base_url, serving_base_url
from tests.conftest import _config
from tests.factories import make_enterprise

PUBLIC = "https://hb.example.gov.cn/portal"


def test_the_base_is_the_configured_url_or_the_serving_address():
    assert resolve_base_url("https://hb.example.gov.cn/portal/", {}) == PUBLIC
    assert resolve_base_url("", {"PORTAL_HOST": "10.0.0.5", "PORTAL_PORT": "8080"}) == "http://10.0.0.5:8080"
    assert resolve_base_url(None, {}) == "http://127.0.0.1:5000"
    assert serving_base_url({"PORTAL_HOST": "0.0.0.0", "PORTAL_PORT": "8000"}) == "http://localhost:8000"
    assert serving_base_url({"PORTAL_HOST": "::1", "PORTAL_PORT": "8000"}) == "http://[::1]:8000"
    with pytest.raises(ValueError):
        resolve_base_url("hb.example.gov.cn", {})


def test_an_app_started_on_another_port_links_to_that_port(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("PORTAL_PORT", "8123")
    monkeypatch.delenv("PORTAL_PUBLIC_BASE_URL", raising=False)
    config = {**_config(tmp_path_factory), "PUBLIC_BASE_URL": ""}
    app = create_app(config)
    assert app.config["PUBLIC_BASE_URL"] == "http://127.0.0.1:8123"
    with app.app_context():
        assert public_url("envcode.phone", uscc="X") == "http://127.0.0.1:8123/code/X"


def test_the_environment_variable_sets_the_base(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("PORTAL_PUBLIC_BASE_URL", PUBLIC)
    config = {k: v for k, v in _config(tmp_path_factory).items() if k != "PUBLIC_BASE_URL"}
    app = create_app(config)
    assert app.config["PUBLIC_BASE_URL"] == PUBLIC


@pytest.fixture
def public_base(app):
    old = app.config["PUBLIC_BASE_URL"]
    app.config["PUBLIC_BASE_URL"] = PUBLIC
    yield
    app.config["PUBLIC_BASE_URL"] = old


def test_api_open311_and_datapackage_links_use_the_public_base_not_the_host_header(client, db, public_base):
    ent = make_enterprise()
    db.session.commit()
    headers = {"Host": "attacker.example"}
    discovery = client.get("/open311/discovery.json", headers=headers)
    assert discovery.status_code == 200
    body = discovery.get_data(as_text=True)
    assert PUBLIC in body and "attacker.example" not in body
    listing = client.get("/api/v1/enterprises", headers=headers).get_json()
    assert listing["data"][0]["links"]["html"].startswith(PUBLIC + "/")
    compliance = client.get(f"/api/v1/enterprises/{ent.uscc}/compliance", headers=headers).get_json()
    assert compliance["data"]["links"]["html"] == f"{PUBLIC}/enterprises/{ent.uscc}#compliance" or \
        compliance["data"]["links"]["html"].startswith(PUBLIC + "/") and \
        compliance["data"]["links"]["html"].endswith("#compliance")
    package = client.get("/opendata/datapackage.json", headers=headers)
    assert package.status_code == 200
    assert all(r["path"].startswith(PUBLIC + "/") for r in package.get_json()["resources"])
    page = client.get(f"/enterprises/{ent.uscc}", headers=headers).get_data(as_text=True)
    assert "attacker.example" not in page
