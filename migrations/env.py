"""Alembic environment (Flask-Migrate). Full-text objects managed by raw DDL (portal/search/ddl.py) and the
APScheduler job table are hidden from autogenerate, so `alembic check` compares only the ORM metadata."""
import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

from portal.db import UTCDateTime
from portal.monitoring import partitions
from portal.search.ddl import UNMANAGED_COLUMNS, UNMANAGED_INDEXES, UNMANAGED_TABLE_PREFIXES

config = context.config
if config.config_file_name and not config.attributes.get("skip_logging_config"):
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")


def get_engine():
    return current_app.extensions["migrate"].db.engine


def get_engine_url():
    return get_engine().url.render_as_string(hide_password=False).replace("%", "%%")


config.set_main_option("sqlalchemy.url", get_engine_url())
target_db = current_app.extensions["migrate"].db


def include_name(name, type_, parent_names):
    if type_ == "table":  # monthly partitions of monitoring_values are made at run time (monitoring/partitions.py)
        return not (name or "").startswith((*UNMANAGED_TABLE_PREFIXES, partitions.PREFIX))
    if type_ == "index":
        return name not in UNMANAGED_INDEXES
    if type_ == "column":
        return (parent_names.get("table_name"), name) not in UNMANAGED_COLUMNS
    return True


def render_item(type_, obj, autogen_context):
    """Render the app's column types as plain SQLAlchemy types, so migrations never import portal code."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_migrations_offline():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_db.metadata,
                      literal_binds=True, include_name=include_name, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    def process_revision_directives(context, revision, directives):
        if getattr(config.cmd_opts, "autogenerate", False):
            script = directives[0]
            if script.upgrade_ops.is_empty():
                directives[:] = []
                logger.info("No changes in schema detected.")

    conf_args = dict(current_app.extensions["migrate"].configure_args)
    conf_args.setdefault("process_revision_directives", process_revision_directives)
    conf_args["include_name"] = include_name
    conf_args["render_item"] = render_item

    with get_engine().connect() as connection:
        context.configure(connection=connection, target_metadata=target_db.metadata, **conf_args)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
