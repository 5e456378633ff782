"""`Cache-Control: no-store` (ASVS 8.2.1) swept over the route matrix: every page a logged-in user gets, and every
page under a private or personal path for anyone, is never stored by a browser or a proxy (issue 20)."""
from __future__ import annotations

import pytest

from portal.auth.models import Role
from portal.core.security import NO_STORE_PREFIXES, NO_STORE_SUFFIXES
from tests.conftest import login_as
from tests.test_route_authorisation import _rules, _url, world  # noqa: F401  (fixture)

BRIEF_PATHS = ("/console/", "/complaints/track/", "/monitoring/", "/credit/my", "/complaints/receipt",
               "/regulator/", "/my/", "/admin/", "/auth/")


def _private_path(path: str) -> bool:
    return path.startswith(NO_STORE_PREFIXES) or path.endswith(NO_STORE_SUFFIXES)


def _get_routes(app):
    return [rule for rule, method in _rules(app) if method == "GET" and rule.endpoint != "static"]


def test_the_private_paths_include_every_area_the_issue_names():
    assert all(_private_path(p) for p in BRIEF_PATHS)
    assert not _private_path("/search") and not _private_path("/enterprises/91320826MA1X/summary.pdf")


def test_anonymous_visitors_get_no_store_on_every_private_path_and_caching_elsewhere(app, client, world):  # noqa: F811
    objects, _ = world
    checked, public = [], []
    for rule in _get_routes(app):
        url = _url(app, rule, objects["own"])
        response = client.get(url)
        stored = "no-store" not in response.headers.get("Cache-Control", "")
        if _private_path(url):
            assert not stored, (url, response.status_code, response.headers.get("Cache-Control"))
            checked.append(url)
        elif response.status_code == 200:
            public.append((url, stored))
    assert any(u.startswith("/complaints/track/") for u in checked) and any(u.startswith("/console/") for u in checked)
    assert ("/search", True) in public  # the mechanism is targeted: public pages stay cacheable


@pytest.mark.parametrize("role", [Role.ENTERPRISE_STAFF, Role.ENTERPRISE_SIGNATORY, Role.REGULATOR,
                                  Role.REGULATOR_LEAD, Role.ADMIN])
def test_every_page_a_logged_in_user_gets_is_no_store(app, client, world, role):  # noqa: F811
    objects, users = world
    for rule in _get_routes(app):
        login_as(client, users[role])
        url = _url(app, rule, objects["own"])
        response = client.get(url)
        assert "no-store" in response.headers.get("Cache-Control", ""), (role, url, response.status_code)


def test_static_files_stay_cacheable_for_logged_in_users(app, client, world):  # noqa: F811
    _, users = world
    login_as(client, users[Role.REGULATOR])
    response = client.get("/static/css/portal.css")
    response.close()
    assert response.status_code == 200 and "no-store" not in response.headers.get("Cache-Control", "")
