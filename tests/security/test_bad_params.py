"""Every GET route, fed a newline in `next=` and absurd `page=` numbers, answers a clear 4xx or a redirect to a
same-site path, never a 500 (issue 20)."""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from portal.auth.models import Role
from portal.core.views import safe_next
from tests.conftest import login_as
from tests.test_route_authorisation import _rules, _url, world  # noqa: F401  (fixture)

BAD_QUERIES = ("page=99999999999999999999999", "page=-3", "page=9223372036854775808", "per_page=99999999999999999999",
               "next=/x%0D%0ASet-Cookie:%20a=b", "next=/%5Cevil.example")


@pytest.mark.parametrize("role", [None, Role.REGULATOR_LEAD, Role.ADMIN])
def test_no_get_route_answers_500_to_bad_page_or_next(app, client, world, role):  # noqa: F811
    objects, users = world
    for rule, method in _rules(app):
        if method != "GET" or rule.endpoint == "static":
            continue
        base = _url(app, rule, objects["own"])
        for query in BAD_QUERIES:
            if role is not None:
                login_as(client, users[role])
            response = client.get(f"{base}?{query}")
            assert response.status_code < 500, (role, base, query, response.status_code)
            location = response.headers.get("Location", "")
            parts = urlsplit(location)
            assert "\n" not in location and "\r" not in location, (base, query, location)
            assert parts.netloc in ("", "localhost") and not parts.path.startswith(("//", "/\\")), (base, query)


@pytest.mark.parametrize("target", ["/x\r\nSet-Cookie: a=b", "\n/evil", "/\\evil.example", "/\t/evil.example",
                                    "//evil.example", "https://evil.example/", "/ok\x7f"])
def test_safe_next_refuses_control_characters_and_backslashes(target):
    assert safe_next(target, "/home") == "/home"


def test_safe_next_keeps_ordinary_paths():
    assert safe_next("/regulator/enterprises?page=2", "/") == "/regulator/enterprises?page=2"


def test_a_page_number_out_of_range_is_a_clear_400(client, db):
    response = client.get("/search?q=化工&page=99999999999999999999999")
    assert response.status_code == 400


def test_sql_parameters_never_reach_an_error_message_or_the_log(app, db, caplog):
    """hide_parameters on the engine: an error's text (what log.exception writes) names the SQL, not the values."""
    import logging

    import sqlalchemy as sa

    with caplog.at_level(logging.INFO, logger="sqlalchemy.engine"):
        with pytest.raises(sa.exc.DBAPIError) as caught:
            db.session.execute(sa.text("SELECT no_such_column FROM users WHERE username = :u"),
                               {"u": "李四-13800000000"})
    db.session.rollback()
    assert "13800000000" not in str(caught.value) and "13800000000" not in caplog.text
    assert not app.config.get("SQLALCHEMY_ECHO")
