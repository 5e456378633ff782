"""The Alembic migrations build, from an empty database, exactly the schema the models describe (STYLE.md §6.5)."""
from __future__ import annotations

import os

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from portal import ROOT, create_app
from portal.config import TestConfig
from tests.conftest import TEST_DB_URL


@pytest.fixture
def empty_database_url(tmp_path):
    if not TEST_DB_URL:
        yield f"sqlite:///{tmp_path / 'migrated.sqlite3'}"
        return
    admin = sa.create_engine(TEST_DB_URL, isolation_level="AUTOCOMMIT")
    name = f"portal_migrations_{os.getpid()}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
        conn.exec_driver_sql(f"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8'")
    yield sa.engine.make_url(TEST_DB_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin.dispose()


def _alembic_config() -> Config:
    cfg = Config(str(ROOT / "migrations" / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.attributes["skip_logging_config"] = True
    return cfg


def test_migrations_have_a_single_head():
    heads = ScriptDirectory.from_config(_alembic_config()).get_heads()
    assert len(heads) == 1, f"several heads: {heads}"


def test_upgrade_from_empty_matches_the_models_and_indexes_names(empty_database_url):
    settings = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    app = create_app({**settings, "SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        cfg = _alembic_config()
        command.upgrade(cfg, "head")
        command.check(cfg)  # raises if autogenerate would find any difference
        _assert_partitioned_on_postgres()
        from portal.extensions import db
        from portal.search.queries import SearchParams, search_enterprises
        from tests.factories import make_enterprise

        make_enterprise(name="涟水华能精细化工有限公司")
        db.session.commit()
        found = search_enterprises(SearchParams(q="华能化工"))
        assert found.items == []
        found = search_enterprises(SearchParams(q="精细化工"))
        assert [e.name for e in found.items] == ["涟水华能精细化工有限公司"]
        db.session.remove()
        command.downgrade(cfg, "base")
        db.engine.dispose()


def _assert_partitioned_on_postgres() -> None:
    """Alembic compares neither partitioning nor primary keys, so migration 0004 is checked here."""
    from portal.extensions import db

    if db.engine.dialect.name != "postgresql":
        return
    with db.engine.connect() as conn:
        key = conn.exec_driver_sql("SELECT pg_get_partkeydef('monitoring_values'::regclass)").scalar()
        pk = conn.exec_driver_sql("SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                                  "WHERE conname = 'pk_monitoring_values'").scalar()
        default = conn.exec_driver_sql("SELECT to_regclass('monitoring_values_default')").scalar()
    assert key == "RANGE (measured_at)" and pk == "PRIMARY KEY (id, measured_at)" and default
