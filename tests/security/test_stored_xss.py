"""Stored XSS (issue 8): every free-text column of every table (Text, and String of 100+ characters that is not a
code, hash, path or address of a file) gets a markup payload; then every GET route is fetched as every role, with
the authorisation matrix's world of own and foreign objects. No HTML, XML or Atom response may carry the payload
unescaped."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from portal.audit import ddl as audit_ddl
from portal.extensions import db as _db
from tests.conftest import login_as
from tests.test_route_authorisation import ROLES, _rules, _url, world  # noqa: F401 - the fixture is reused

PAYLOAD = '"><img src=x onerror=alert(1)>'
RAW = "<img src=x onerror=alert(1)>"
SKIP_COLUMN = re.compile(r"(^|_)(code|codes|uscc|hash|digest|sha256|path|filename|content_type|token|ref|refs|"
                         r"password|email|phone|locale|mn|permit_no|case_no|url|mime|encrypted|key|cipher|json|tokens|to_address)($|_)")
MARKUP_TYPES = ("text/html", "application/xhtml", "application/atom+xml", "application/xml", "text/xml",
                "image/svg+xml")


def _poison(db) -> int:
    """Append the payload to every free-text value; returns how many columns were poisoned. The append-only audit
    tables are rewritten too (their triggers set aside inside this transaction), since audit pages render them."""
    with audit_ddl.without_triggers(db.session.connection()):
        count = _poison_tables(db)
    db.session.commit()
    return count


def _poison_tables(db) -> int:
    count = 0
    with audit_ddl.without_triggers(db.session.connection()):  # the audit log is append-only; an attacker with
        count = _poison_tables(db)                              # the owner's rights is what this test plays
    db.session.commit()
    return count


def _poison_tables(db) -> int:
    count = 0
    for table in _db.metadata.sorted_tables:
        for column in table.columns:
            kind = column.type
            if column.primary_key or column.foreign_keys or SKIP_COLUMN.search(column.name):
                continue
            is_text = isinstance(kind, sa.Text) or (type(kind) is sa.String and (kind.length or 0) >= 100)
            if not is_text:
                continue
            length = getattr(kind, "length", None)
            value = (sa.func.substr(column, 1, length - len(PAYLOAD)) if length else column) + PAYLOAD
            db.session.execute(table.update().where(column.is_not(None)).values({column.name: value}))
            count += 1
    return count


@pytest.mark.slow
def test_no_free_text_reaches_a_page_unescaped(app, client, world):  # noqa: F811
    objects, users = world
    poisoned = _poison(_db)
    assert poisoned >= 20
    found = []
    fetched = 0
    for role in ROLES:
        if role is not None:
            login_as(client, users[role])
        for rule, method in _rules(app):
            if method != "GET" or rule.endpoint == "static":
                continue
            for key in ("own", "foreign"):
                response = client.get(_url(app, rule, objects[key]))
                fetched += 1
                assert response.status_code < 500, (rule.rule, role, response.status_code)
                mimetype = response.mimetype or ""
                if mimetype.startswith(MARKUP_TYPES) and RAW in response.get_data(as_text=True):
                    found.append((rule.rule, str(role), key))
        client.get("/auth/logout")
        with client.session_transaction() as sess:
            sess.clear()
    assert fetched > 200
    assert found == []
