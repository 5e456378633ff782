"""Test harness. The suite runs on SQLite by default and on PostgreSQL when PORTAL_TEST_DATABASE_URL is set.

The schema is built once per session (create_all + the search DDL; tests/test_migrations.py proves the Alembic
migrations build the same schema), and every test starts from empty tables.
"""
from __future__ import annotations

import os
import smtplib

import pytest
import sqlalchemy as sa
from flask import g, has_app_context
from flask.testing import FlaskClient

from portal import create_app
from portal.audit import ddl as audit_ddl
from portal.config import TestConfig
from portal.extensions import db as _db
from portal.search import cache as search_cache
from portal.search import ddl

TEST_DB_URL = os.environ.get("PORTAL_TEST_DATABASE_URL", "")


def pytest_report_header(config):
    return f"database: {TEST_DB_URL or 'SQLite (temporary file)'}"


def _config(tmp_path_factory) -> dict:
    base = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    instance = tmp_path_factory.mktemp("instance")
    url = TEST_DB_URL or f"sqlite:///{instance / 'test.sqlite3'}"
    base.update(SQLALCHEMY_DATABASE_URI=url, MAIL_DIR=str(instance / "mail"), TEST_INSTANCE=str(instance),
                SERVER_NAME=None, COMPLAINT_UPLOAD_DIR=str(instance / "uploads"),
                MONITORING_UPLOAD_DIR=str(instance / "monitoring-uploads"))
    base.update(ARGON2_TIME_COST=1, ARGON2_MEMORY_COST=1024, ARGON2_PARALLELISM=1)  # fast hashes, as in factories
    return base


class PortalTestClient(FlaskClient):
    """Tests push one app context that requests share (so they see the test's session); per-request caches that
    Flask-Login and Flask-Babel keep on `g` are dropped before each request, as a real request would start clean."""

    def open(self, *args, **kwargs):
        if has_app_context():
            for key in ("_login_user", "_flask_babel"):
                g.pop(key, None)
        return super().open(*args, **kwargs)


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    app = create_app(_config(tmp_path_factory))
    app.test_client_class = PortalTestClient
    with app.app_context():
        with _db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        _db.create_all()
        with _db.engine.begin() as conn:
            ddl.create(conn)
    yield app
    with app.app_context():
        _db.engine.dispose()


def _empty_tables() -> None:
    search_cache.clear()  # emptying tables behind the ORM is like restoring a backup: no version bump
    _db.session.rollback()
    _db.session.remove()
    tables = [t for t in reversed(_db.metadata.sorted_tables)]
    with _db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # TRUNCATE costs ~7 ms per table even when empty (new files for each table and index): ~0.5 s after
            # every test for all of them. The few tables holding rows are emptied by DELETE instead, children
            # first, and every sequence that was used starts again at 1, as TRUNCATE ... RESTART IDENTITY did.
            probe = " UNION ALL ".join(f'SELECT {i} WHERE EXISTS (SELECT 1 FROM "{t.name}")'
                                       for i, t in enumerate(tables))
            for (i,) in sorted(conn.exec_driver_sql(probe)):
                if tables[i].name in audit_ddl.TABLES:  # append-only: row triggers refuse DELETE, not TRUNCATE
                    conn.exec_driver_sql(f'TRUNCATE "{tables[i].name}"')
                else:
                    conn.execute(tables[i].delete())
            conn.exec_driver_sql("SELECT setval(quote_ident(schemaname) || '.' || quote_ident(sequencename), 1, "
                                 "false) FROM pg_sequences WHERE schemaname = 'public' AND last_value IS NOT NULL")
        else:
            with audit_ddl.without_triggers(conn):  # SQLite: the append-only triggers are re-created after
                for t in tables:
                    conn.execute(t.delete())


@pytest.fixture(autouse=True)
def app_ctx(app):
    """Every test runs inside an app context on empty tables."""
    with app.app_context():
        yield app
        _empty_tables()


@pytest.fixture
def db(app_ctx):
    return _db


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture(autouse=True)
def no_smtp(monkeypatch):
    """No test may talk to a mail server (Indico's disallow_emails)."""

    def refuse(*args, **kwargs):
        raise AssertionError("a test tried to open an SMTP connection")

    monkeypatch.setattr(smtplib, "SMTP", refuse)
    monkeypatch.setattr(smtplib, "SMTP_SSL", refuse)


def login_as(client, user) -> None:
    """Log a user in without the login form (the form itself is tested in tests/auth): a server-side session row as
    the form opens it, with the second factor done when the account has one (factories enrol one for the roles
    that need it)."""
    from portal.auth import factors, sessions

    sid = sessions.create(user, factors.TOTP if factors.has_factor(user) else None)
    _db.session.commit()  # a view's rollback must not take the login back
    with client.session_transaction() as sess:
        sess["_user_id"] = str(user.id)
        sess["_fresh"] = True
        sess.update(sessions.cookie_fields(sid))


@pytest.fixture
def login(client):
    def _login(user):
        login_as(client, user)
        return client

    return _login


def is_postgres() -> bool:
    return _db.engine.dialect.name == "postgresql"


__all__ = ["login_as", "is_postgres", "sa"]
