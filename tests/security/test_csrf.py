"""CSRF sweep (issue 8, input attacks): with CSRF protection on, as deployed, every state-changing route of the URL map
refuses a request without a token for a logged-in user whose role may use it — 400 with the "form expired" page —
except the documented token-less endpoints, whose credential is in the request itself.

The route list comes from the URL map, so a new POST/PUT/PATCH/DELETE route is swept without editing this file; a
route that must work without a form token has to be added to TOKENLESS below, with the reason.
"""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from portal import create_app
from portal.audit.models import AuditRecord
from portal.auth.models import Role
from portal.auth.permissions import ROLE_PERMISSIONS
from portal.extensions import db as _db
from tests.conftest import PortalTestClient, login_as
from tests.test_route_authorisation import LOGIN_ONLY, _is_public, _url, world  # noqa: F401  (world: fixture)

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
TOKENLESS = {
    "monitoring_api.hj212": "data loggers authenticate each packet by MN and password (HJ 212-2017)",
    "open311.create_json": "Open311 partners authenticate with api_key",
    "open311.create_xml": "Open311 partners authenticate with api_key",
    "subscriptions.unsubscribe": "RFC 8058 one-click unsubscribe: the signed token in the URL is the credential",
}
# The role that exercises a permission-guarded route: the first in this order that holds all its permissions.
PREFERENCE = [Role.ENTERPRISE_SIGNATORY, Role.ENTERPRISE_STAFF, Role.REGULATOR, Role.REGULATOR_LEAD, Role.ADMIN]
REFUSED = ("The form expired or was sent from elsewhere", "表单已过期或来源异常")  # English or Chinese (user locale)


@pytest.fixture(scope="module")
def csrf_app(app):
    """The test app's configuration and database, with CSRF protection on as in production."""
    config = dict(app.config)
    config.update(WTF_CSRF_ENABLED=True)
    csrf_app = create_app({k: v for k, v in config.items() if k.isupper()})
    csrf_app.test_client_class = PortalTestClient
    yield csrf_app
    with csrf_app.app_context():
        _db.session.remove()
        _db.engine.dispose()


def state_changing_routes(app):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        for method in sorted((rule.methods or set()) & STATE_CHANGING):
            yield rule, method


def actor(app, endpoint: str, users: dict):
    needed = set(getattr(app.view_functions[endpoint], "required_permissions", ()))
    if needed:
        return next((users[r] for r in PREFERENCE if needed <= ROLE_PERMISSIONS[r]), None)
    if endpoint in LOGIN_ONLY:
        return users[Role.ENTERPRISE_STAFF]
    assert _is_public(endpoint), endpoint
    return None  # public forms (login, registration, complaint intake, open-day registration): anonymous visitor


def test_every_state_changing_route_refuses_a_request_without_a_csrf_token(csrf_app, db, world):  # noqa: F811
    objects, users = world
    audit_before = db.session.scalar(sa.select(sa.func.count()).select_from(AuditRecord))
    swept, tokenless, wrong = [], [], []
    for rule, method in state_changing_routes(csrf_app):
        if rule.endpoint in TOKENLESS:
            tokenless.append(rule.endpoint)
            continue
        user = actor(csrf_app, rule.endpoint, users)
        client = csrf_app.test_client()
        if user is not None:
            login_as(client, user)
        response = client.open(_url(csrf_app, rule, objects["own"]), method=method,
                               data={"name": "x", "reason": "x", "text": "x"})
        body = response.get_data(as_text=True)
        if response.status_code != 400 or not any(text in body for text in REFUSED):
            wrong.append((method, rule.rule, response.status_code))
        swept.append((method, rule.rule))
    assert wrong == [], f"accepted or mis-answered without a CSRF token: {wrong}"
    assert sorted(tokenless) == sorted(TOKENLESS), "a documented token-less endpoint disappeared: update TOKENLESS"
    assert len(swept) >= 100, len(swept)
    audit_after = db.session.scalar(sa.select(sa.func.count()).select_from(AuditRecord))
    assert audit_after == audit_before, "a refused request changed nothing"


def test_the_same_request_with_the_token_from_the_page_gets_through(csrf_app, db, world):  # noqa: F811
    """Control: the sweep's 400 is the CSRF check, not something else. The account language form, with the token
    taken from the account page, is accepted."""
    _, users = world
    client = csrf_app.test_client()
    login_as(client, users[Role.ENTERPRISE_STAFF])
    page = client.get("/auth/account").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    without = client.post("/auth/account/language", data={"language": "en"})
    assert without.status_code == 400
    with_token = client.post("/auth/account/language", data={"language": "en", "csrf_token": token})
    assert with_token.status_code in (200, 302), with_token.status_code


def test_tokenless_endpoints_do_not_act_on_a_logged_in_session(csrf_app, db, world):  # noqa: F811
    """The exempt endpoints authenticate by what the request carries, never by the session cookie: a logged-in
    regulator's browser tricked into posting them gains nothing (no device password, no api_key, no signed token)."""
    objects, users = world
    client = csrf_app.test_client()
    login_as(client, users[Role.REGULATOR_LEAD])
    hj212 = client.post("/api/v1/monitoring/hj212", data=b"##0000garbage\r\n")
    assert hj212.status_code in (200, 400)
    assert all(r["result"] != "accepted" for r in (hj212.get_json() or {}).get("results", []))
    open311 = client.post("/open311/v2/requests.json", data={"service_code": "water", "description": "x"})
    assert open311.status_code in (400, 403), open311.status_code
    unsubscribe = client.post("/subscriptions/unsubscribe/forged-token")
    assert unsubscribe.status_code in (400, 404), unsubscribe.status_code
