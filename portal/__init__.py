"""Application factory: create_app() and the register_* steps it runs."""
from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, Mapping

from flask import Flask

ROOT = Path(__file__).resolve().parent.parent

BLUEPRINTS = (
    "portal.core.views",
    "portal.auth.views",
    "portal.enterprises.views",
    "portal.enterprise_page.views",
    "portal.search.views",
    "portal.audit.views",
    "portal.audit.public_views",
    "portal.workdays.views",
    "portal.reports.views",
    "portal.api.views",
    "portal.disclosures.views",
    "portal.permits.views",
    "portal.disclosures.api",
    "portal.monitoring.views",
    "portal.monitoring.api",
    "portal.credit.views",
    "portal.credit.api",
    "portal.credit.list_views",
    "portal.credit.scheme_views",
    "portal.credit.repair_views",
    "portal.credit.draw_views",
    "portal.credit.attachment_views",
    "portal.credit.findings_views",
    "portal.complaints.views",
    "portal.complaints.console",
    "portal.maps.views",
    "portal.maps.console",
    "portal.complaints.open311",
    "portal.enterprises.api",
    "portal.dataerrors.views",
    "portal.dataerrors.console",
    "portal.opendata.views",
    "portal.opendata.feed_views",
    "portal.opendata.subscription_views",
    "portal.rewards.views",
    "portal.servicebodies.views",
    "portal.servicebodies.console",
    "portal.envcode.views",
    "portal.opendays.views",
    "portal.integrity.views",
    "portal.home.views",
)

CLI_MODULES = (
    "portal.auth.cli",
    "portal.audit.cli",
    "portal.jobs.cli",
    "portal.seed.cli",
    "portal.monitoring.cli",
    "portal.credit.cli",
    "portal.ops.cli",
    "portal.core.staticfiles",
)


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=str(ROOT / "instance"),
        instance_relative_config=True,
    )
    app.config.from_object("portal.config.Config")
    app.config.from_pyfile("portal.cfg", silent=True)
    app.config.from_prefixed_env("PORTAL")
    if config:
        app.config.update(config)
    _check_secret_key(app)
    _check_retention(app)
    _resolve_database_url(app, config or {})
    from portal.core import links

    links.init_app(app)
    configure_logging(app)
    register_extensions(app)
    register_security(app)
    register_templates(app)
    register_blueprints(app)
    from portal.core import ratelimits, staticfiles

    staticfiles.install(app)  # WhiteNoise: compressed, long-cached /static

    ratelimits.install(app)
    register_cli(app)
    from portal.errors import register_error_handlers

    register_error_handlers(app)
    return app


class InsecureConfiguration(RuntimeError):
    """The app refuses to start: a setting that protects every session is missing or weak."""


class InvalidConfiguration(RuntimeError):
    """The app refuses to start: a setting breaks a legal minimum."""


def _check_retention(app: Flask) -> None:
    from portal.config import check_retention

    problem = check_retention(app.config.get("RAW_RECORD_RETENTION_YEARS"))
    for data_type, years in dict(app.config.get("MONITORING_RETENTION_YEARS") or {}).items():
        if problem:
            break
        floor = app.config.get("RAW_RECORD_RETENTION_YEARS")
        if check_retention(years) or int(years) < int(floor):
            problem = (f"MONITORING_RETENTION_YEARS[{data_type!r}] is {years!r}: each data type is kept at least "
                       f"RAW_RECORD_RETENTION_YEARS ({floor}) whole years (监测条例 art. 26).")
    if problem:
        raise InvalidConfiguration(problem)


def _check_secret_key(app: Flask) -> None:
    from portal.config import check_data_keys, check_secret_key

    testing = bool(app.config.get("TESTING"))
    problem = (check_secret_key(app.config.get("SECRET_KEY"), testing=testing)
               or check_data_keys(app.config.get("REPORTER_KEY"), app.config.get("AUDIT_KEY"), testing=testing))
    if problem:
        raise InsecureConfiguration(problem)


def _resolve_database_url(app: Flask, overrides: Mapping[str, Any]) -> None:
    """PORTAL_DATABASE_URL (or DATABASE_URL in portal.cfg) is the documented setting; psycopg 3 must not auto-prepare
    statements, or PostgreSQL may switch the search queries to a generic plan (STACK.md §4)."""
    if "SQLALCHEMY_DATABASE_URI" not in overrides and app.config.get("DATABASE_URL"):
        app.config["SQLALCHEMY_DATABASE_URI"] = app.config["DATABASE_URL"]
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url[len("postgres://"):]
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    # SQL parameters are people's data (names, phone numbers, search text): never in an error message or a log line.
    options.setdefault("hide_parameters", True)
    if url.startswith("postgresql"):
        connect_args = dict(options.get("connect_args") or {})
        connect_args.setdefault("prepare_threshold", None)
        options["connect_args"] = connect_args
        options.setdefault("pool_pre_ping", True)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def configure_logging(app: Flask) -> None:
    from portal.core import logs

    logs.configure(os.environ.get("PORTAL_LOG_LEVEL", "INFO"), os.environ.get("PORTAL_LOG_FORMAT", "plain"))
    for noisy in ("alembic.runtime.plugins", "weasyprint", "weasyprint.progress", "fontTools"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def register_extensions(app: Flask) -> None:
    from portal import models  # noqa: F401  (all tables on the metadata)
    from portal.extensions import babel, csrf, db, limiter, login_manager, migrate
    from portal.core.i18n import select_locale, select_timezone

    db.init_app(app)
    from portal.core import replica

    replica.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), compare_type=True, render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(_translation_dirs())
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message_category = "info"
    from portal.auth.services import load_user

    login_manager.user_loader(load_user)
    from flask_babel import lazy_gettext as _l

    login_manager.login_message = _l("Please log in to see this page.")
    if app.config.get("PROXY_FIX"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]


def _translation_dirs() -> list[str]:
    dirs = [str(ROOT / "translations")]
    dirs += sorted(str(p) for p in (ROOT / "portal").glob("*/translations") if p.is_dir())
    return dirs


def register_security(app: Flask) -> None:
    from portal.core.security import add_security_headers, check_page_params, refuse_nul_bytes

    app.before_request(refuse_nul_bytes)
    app.before_request(check_page_params)
    app.after_request(add_security_headers)


def register_templates(app: Flask) -> None:
    from portal.core.templating import register_template_helpers

    register_template_helpers(app)


def register_blueprints(app: Flask) -> None:
    import importlib

    for name in BLUEPRINTS:
        app.register_blueprint(importlib.import_module(name).bp)


def register_cli(app: Flask) -> None:
    import importlib

    for name in CLI_MODULES:
        importlib.import_module(name).register(app)
