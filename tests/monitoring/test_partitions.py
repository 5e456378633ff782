"""Monthly partitions of monitoring_values on PostgreSQL (partitions.py); SQLite keeps a plain table."""
from __future__ import annotations

import os
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from portal.jobs.registry import JOBS
from portal.monitoring import partitions, services
from portal.monitoring.models import MonitoringRollup, MonitoringValue
from portal.search.ddl import UNMANAGED_COLUMNS, UNMANAGED_INDEXES, UNMANAGED_TABLE_PREFIXES
from tests.conftest import TEST_DB_URL, is_postgres
from tests.monitoring.helpers import packet, water_setup

UTC = timezone.utc
NOW = datetime(2026, 2, 3, tzinfo=UTC)
pg_only = pytest.mark.skipif(not TEST_DB_URL, reason="partitions exist on PostgreSQL only")


# ------------------------------------------------------------------------------------------------ pure helpers

def test_a_month_runs_from_china_midnight_to_china_midnight():
    start, end = partitions.month_bounds(datetime(2026, 1, 31, 16, 30, tzinfo=UTC))  # 2026-02-01 00:30 +08
    assert start == datetime(2026, 1, 31, 16, 0, tzinfo=UTC) and end == datetime(2026, 2, 28, 16, 0, tzinfo=UTC)
    assert partitions.month_of(datetime(2026, 1, 31, 15, 59, 59, tzinfo=UTC)) == (2026, 1)
    assert partitions.month_bounds(datetime(2026, 12, 31, 16, 0, tzinfo=UTC))[1] == datetime(2027, 1, 31, 16,
                                                                                             tzinfo=UTC)
    assert partitions.months_of([datetime(2025, 12, 31, 16, tzinfo=UTC), datetime(2025, 12, 31, 15, tzinfo=UTC)]) \
        == {(2026, 1), (2025, 12)}
    assert partitions.months_of([datetime(2026, 3, 5, tzinfo=UTC), datetime(2025, 11, 5, tzinfo=UTC)]) \
        == {(2025, 11), (2025, 12), (2026, 1), (2026, 2), (2026, 3)}
    assert partitions.months_of([]) == set()
    assert partitions.months_of([datetime(2000, 1, 5, tzinfo=UTC), datetime(2026, 3, 5, tzinfo=UTC)]) \
        == {(2000, 1), (2026, 3)}  # a logger with a wrong clock: no 300 empty months in between
    assert partitions.partition_name(2026, 1) == "monitoring_values_y2026m01"
    assert partitions.add_months(2026, 11, 3) == (2027, 2) and partitions.add_months(2026, 1, -1) == (2025, 12)


def test_sqlite_keeps_a_plain_table_and_every_call_is_a_no_op(db):
    if is_postgres():
        pytest.skip("SQLite only")
    partitions.ensure_months({(2026, 1)})
    assert partitions.describe() == [] and partitions.sweep_default() == 0
    assert partitions.convert_to_partitioned(db.session.connection()) == 0
    ddl = db.session.execute(sa.text("SELECT sql FROM sqlite_master WHERE name = 'monitoring_values'")).scalar()
    assert "PRIMARY KEY (id)" in ddl and "PARTITION" not in ddl


def test_the_daily_job_is_registered():
    job = JOBS["monitoring-partitions"]
    assert job.func is partitions.run_maintenance and job.cron == "50 2 * * *"


# ------------------------------------------------------------------------------------------------ PostgreSQL

@pytest.fixture
def months(db):
    """Start and end without month partitions (they outlive the per-test TRUNCATE) and with an empty cache."""
    def drop():
        db.session.rollback()
        if not is_postgres():
            return
        with db.engine.begin() as conn:
            for name in partitions.attached(conn) - {partitions.DEFAULT}:
                conn.exec_driver_sql(f"DROP TABLE {name}")
        partitions.forget()

    drop()
    yield
    drop()


def _where(db) -> dict[str, int]:
    rows = db.session.execute(sa.text("SELECT CAST(tableoid::regclass AS text), count(*) FROM monitoring_values "
                                      "GROUP BY 1"))
    return dict(rows.all())


def _ingest(db, device, when: str, value: str = "35.2", qn: str | None = None):
    results = services.ingest_hj212(packet(device.mn, 2061, when, {"w01018": f"Avg={value},Flag=N"}, qn=qn), now=NOW)
    db.session.commit()
    return results


def _into_default(db, outlet, when: datetime, value: float = 1.0) -> None:
    """A row written before its month had a partition, or by a path that does not call ensure_months."""
    db.session.execute(sa.text(
        f"INSERT INTO {partitions.DEFAULT} (enterprise_id, outlet_id, pollutant_code, period, measured_at, value, "
        "flag, source) VALUES (:e, :o, 'w01018', 'hour', :m, :v, 'N', 'auto')"),
        {"e": outlet.enterprise_id, "o": outlet.id, "m": when, "v": value})
    db.session.commit()


@pg_only
def test_create_all_builds_a_partitioned_table_with_a_default_partition(db):
    conn = db.session.connection()
    assert conn.execute(sa.text("SELECT pg_get_partkeydef(CAST('monitoring_values' AS regclass))")).scalar() \
        == "RANGE (measured_at)"
    assert conn.execute(sa.text("SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                                "WHERE conname = 'pk_monitoring_values'")).scalar() == "PRIMARY KEY (id, measured_at)"
    assert partitions.DEFAULT in partitions.attached(conn)
    assert conn.execute(sa.text("SELECT pg_get_serial_sequence('monitoring_values', 'id')")).scalar() \
        == "public.monitoring_values_id_seq"


@pg_only
def test_rows_land_in_the_partition_of_their_china_local_month(db, months):
    _, _, device = water_setup(db)
    # 2026-02-01 00:30 +08 is 2026-01-31 16:30 UTC: February in China
    partitions.ensure_months(partitions.months_of([datetime(2026, 1, 31, 16, 30, tzinfo=UTC),
                                                   datetime(2026, 1, 20, tzinfo=UTC)]))
    _ingest(db, device, "20260201003000", qn="20260201003000001")
    _ingest(db, device, "20260120100000", qn="20260120100000001")
    assert _where(db) == {"monitoring_values_y2026m02": 1, "monitoring_values_y2026m01": 1}
    stored = db.session.scalars(sa.select(MonitoringValue.measured_at).order_by(MonitoringValue.id)).all()
    assert stored[0] == datetime(2026, 1, 31, 16, 30, tzinfo=UTC)
    db.session.execute(sa.text("SET LOCAL TimeZone = 'Asia/Shanghai'"))  # bounds show in the session's zone
    bounds = {name: bound for name, bound, _ in partitions.describe()}
    assert bounds["monitoring_values_y2026m02"] == \
        "FOR VALUES FROM ('2026-02-01 00:00:00+08') TO ('2026-03-01 00:00:00+08')"
    assert list(bounds) == ["monitoring_values_y2026m01", "monitoring_values_y2026m02", partitions.DEFAULT]


@pg_only
def test_ingest_creates_the_month_it_writes_so_nothing_reaches_default(db, months):
    _, _, device = water_setup(db)
    _ingest(db, device, "20250315080000", qn="20250315080000001")  # no partition for March 2025 beforehand
    assert _where(db) == {"monitoring_values_y2025m03": 1}


@pg_only
def test_a_second_ensure_costs_no_query_and_finds_nothing_to_do(db, months):
    partitions.ensure_months({(2026, 3)})
    db.session.commit()
    statements: list[str] = []

    def spy(conn, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", spy)
    try:
        partitions.ensure_months({(2026, 3)})
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", spy)
    assert statements == []
    partitions.forget()  # another process: one catalog query, no DDL
    partitions.ensure_months({(2026, 3)})
    db.session.commit()
    assert sorted(partitions.attached(db.session.connection())) == [partitions.DEFAULT, "monitoring_values_y2026m03"]


@pg_only
def test_a_rolled_back_creation_is_not_remembered(db, months):
    partitions.ensure_months({(2026, 4)})
    db.session.rollback()
    assert "monitoring_values_y2026m04" not in partitions.attached(db.session.connection())
    partitions.ensure_months({(2026, 4)})  # not cached: created again
    db.session.commit()
    assert "monitoring_values_y2026m04" in partitions.attached(db.session.connection())


@pg_only
def test_rows_first_put_in_the_default_partition_move_to_their_month(db, months):
    _, outlet, _ = water_setup(db)
    _into_default(db, outlet, datetime(2026, 1, 31, 16, 30, tzinfo=UTC))
    _into_default(db, outlet, datetime(2026, 1, 5, 2, tzinfo=UTC))
    assert _where(db) == {partitions.DEFAULT: 2}
    assert partitions.default_has_rows()
    ids = db.session.scalars(sa.select(MonitoringValue.id).order_by(MonitoringValue.id)).all()
    partitions.ensure_months({(2026, 2)})  # the ingest path: February moves in with its partition
    db.session.commit()
    assert _where(db) == {partitions.DEFAULT: 1, "monitoring_values_y2026m02": 1}
    assert partitions.sweep_default() == 1  # the daily job: whatever is left
    db.session.commit()
    assert _where(db) == {"monitoring_values_y2026m01": 1, "monitoring_values_y2026m02": 1}
    assert db.session.scalars(sa.select(MonitoringValue.id).order_by(MonitoringValue.id)).all() == ids
    assert not partitions.default_has_rows()


@pg_only
def test_duplicates_are_refused_whether_the_first_copy_is_in_default_or_in_its_month(db, months):
    _, outlet, device = water_setup(db)
    _into_default(db, outlet, datetime(2026, 1, 20, 2, tzinfo=UTC), value=5)  # 2026-01-20 10:00 +08
    _ingest(db, device, "20260120100000", value="55")  # the stored copy waits in default (or moves first)
    _ingest(db, device, "20260201003000", value="10")
    _ingest(db, device, "20260201003000", value="99")
    partitions.sweep_default()
    db.session.commit()
    _ingest(db, device, "20260201003000", value="98")  # February's partition exists now
    _ingest(db, device, "20260120100000", value="56")
    values = db.session.execute(sa.select(MonitoringValue.measured_at, MonitoringValue.value)
                                .order_by(MonitoringValue.measured_at)).all()
    assert [v for _, v in values] == [5, 10]
    assert _where(db) == {"monitoring_values_y2026m01": 1, "monitoring_values_y2026m02": 1}
    day = db.session.scalar(sa.select(MonitoringRollup).where(MonitoringRollup.resolution == "day",
                                                              MonitoringRollup.n_all > 0))
    assert (day.n_all, day.sum_valid) == (1, 10)  # the repeats never counted


@pg_only
def test_the_daily_job_prepares_the_next_months_and_empties_default(db, months):
    _, outlet, _ = water_setup(db)
    _into_default(db, outlet, datetime(2025, 11, 5, 2, tzinfo=UTC))
    detail = partitions.run_maintenance()
    db.session.commit()
    now = partitions.month_of(datetime.now(UTC))
    expected = {partitions.partition_name(*partitions.add_months(*now, n)) for n in range(4)}
    names = partitions.attached(db.session.connection())
    assert expected | {"monitoring_values_y2025m11", partitions.DEFAULT} <= names
    assert "1 rows moved" in detail and not partitions.default_has_rows()


@pg_only
def test_creating_a_month_leaves_writes_and_reads_of_other_months_unblocked(db, months):
    _, outlet, _ = water_setup(db)
    db.session.commit()
    with db.engine.begin() as conn:
        partitions.create_months(conn, {(2026, 2)})
    insert = ("INSERT INTO monitoring_values (enterprise_id, outlet_id, pollutant_code, period, measured_at, flag, "
              f"source) SELECT {outlet.enterprise_id}, {outlet.id}, 'w01018', 'hour', m, 'N', 'auto' FROM "
              "probe_in ON CONFLICT DO NOTHING RETURNING id")
    with db.engine.connect() as creator, db.engine.connect() as other:
        creating = creator.begin()  # an ingest transaction that has just added January and goes on working
        try:
            partitions.create_months(creator, {(2026, 1)})
            with other.begin():
                other.exec_driver_sql("SET LOCAL lock_timeout = '200ms'")  # waiting would fail, not hang
                # staging as pgcopy does (its own name: a pooled connection may already hold pgcopy's session table)
                other.exec_driver_sql("CREATE TEMP TABLE probe_in ON COMMIT DROP AS "
                                      "SELECT measured_at AS m FROM monitoring_values WITH NO DATA")
                other.exec_driver_sql("INSERT INTO probe_in VALUES ('2026-02-10 10:00+08')")
                assert len(other.exec_driver_sql(insert).all()) == 1
                assert other.exec_driver_sql(
                    "SELECT count(*) FROM monitoring_values WHERE measured_at >= '2026-02-01 00:00+08' "
                    "AND measured_at < '2026-03-01 00:00+08'").scalar() == 1
        finally:
            creating.rollback()


def test_the_cli_lists_partitions_and_says_whether_default_holds_rows(runner, db, months):
    if not is_postgres():
        assert "plain table" in runner.invoke(args=["monitoring-storage", "partitions"]).output
        return
    _, outlet, _ = water_setup(db)
    _into_default(db, outlet, datetime(2025, 11, 5, 2, tzinfo=UTC))
    listing = runner.invoke(args=["monitoring-storage", "partitions"])
    assert listing.exit_code == 0 and "monitoring_values_default" in listing.output
    assert "default partition: HOLDS ROWS" in listing.output
    ensured = runner.invoke(args=["monitoring-storage", "partitions", "--ensure"])
    assert ensured.exit_code == 0, ensured.output
    assert "1 rows moved from default" in ensured.output and "monitoring_values_y2025m11" in ensured.output
    assert "default partition: empty" in ensured.output


# ------------------------------------------------------------------------------------------------ migration 0004

def _old_shape(metadata: sa.MetaData) -> sa.Table:
    """monitoring_values as migration 0002 creates it (PK (id)), with stand-ins for the referenced tables."""
    for name in ("enterprises", "outlets", "monitoring_manual_submissions"):
        sa.Table(name, metadata, sa.Column("id", sa.Integer, primary_key=True))
    big = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    return sa.Table(
        "monitoring_values", metadata,
        sa.Column("id", big, nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("outlet_id", sa.Integer(), nullable=False),
        sa.Column("pollutant_code", sa.String(length=16), nullable=False),
        sa.Column("period", sa.Enum("realtime", "minute", "hour", "day", "manual", name="period", native_enum=False,
                                    length=10), nullable=False),
        sa.Column("measured_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("value_min", sa.Float(), nullable=True),
        sa.Column("value_max", sa.Float(), nullable=True),
        sa.Column("value_converted", sa.Float(), nullable=True),
        sa.Column("flag", sa.String(length=2), nullable=False),
        sa.Column("source", sa.Enum("auto", "manual", name="source", native_enum=False, length=8), nullable=False),
        sa.Column("packet_id", big, nullable=True),
        sa.Column("submission_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["enterprise_id"], ["enterprises.id"],
                                name="fk_monitoring_values_enterprise_id_enterprises"),
        sa.ForeignKeyConstraint(["outlet_id"], ["outlets.id"], name="fk_monitoring_values_outlet_id_outlets"),
        sa.ForeignKeyConstraint(["submission_id"], ["monitoring_manual_submissions.id"],
                                name="fk_monitoring_values_submission_id_monitoring_manual_su_37b7"),
        sa.PrimaryKeyConstraint("id", name="pk_monitoring_values"),
        sa.UniqueConstraint("outlet_id", "pollutant_code", "period", "measured_at",
                            name="uq_monitoring_values_outlet_id_pollutant_code_period_me_0b3a"),
        sa.Index("ix_monitoring_values_enterprise_time", "enterprise_id", "measured_at"),
    )


def _shape(conn: sa.Connection) -> dict:
    """What defines monitoring_values in the catalog: columns, constraints, indexes, partition key, sequence."""
    q = lambda sql: sorted(tuple(r) for r in conn.execute(sa.text(sql)))  # noqa: E731
    return {
        "columns": q("SELECT attname, format_type(atttypid, atttypmod), attnotnull, "
                     "pg_get_expr(d.adbin, d.adrelid) FROM pg_attribute a LEFT JOIN pg_attrdef d "
                     "ON d.adrelid = a.attrelid AND d.adnum = a.attnum WHERE attrelid = 'monitoring_values'::regclass "
                     "AND attnum > 0 AND NOT attisdropped"),
        "constraints": q("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                         "WHERE conrelid = 'monitoring_values'::regclass"),
        "indexes": q("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'monitoring_values'"),
        "partition_key": q("SELECT pg_get_partkeydef('monitoring_values'::regclass)"),
        "sequence": q("SELECT pg_get_serial_sequence('monitoring_values', 'id')"),
    }


@pytest.fixture
def scratch_url():
    if not TEST_DB_URL:
        pytest.skip("PostgreSQL only")
    admin = sa.create_engine(TEST_DB_URL, isolation_level="AUTOCOMMIT")
    name = f"portal_partitions_{os.getpid()}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
        conn.exec_driver_sql(f"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8'")
    yield sa.engine.make_url(TEST_DB_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin.dispose()


def test_an_existing_plain_table_converts_keeping_rows_ids_sequence_and_names(db, scratch_url):
    engine = sa.create_engine(scratch_url)
    try:
        metadata = sa.MetaData()
        old = _old_shape(metadata)
        metadata.create_all(engine)
        when = [datetime(2025, 12, 31, 16, 30, tzinfo=UTC),  # 2026-01-01 00:30 +08: January
                datetime(2026, 1, 15, tzinfo=UTC), datetime(2026, 2, 28, 15, 59, tzinfo=UTC),
                datetime(2026, 3, 1, tzinfo=UTC)]
        with engine.begin() as conn:
            for name in ("enterprises", "outlets"):
                conn.execute(metadata.tables[name].insert(), [{"id": 1}])
            conn.execute(old.insert(), [
                {"enterprise_id": 1, "outlet_id": 1, "pollutant_code": "w01018", "period": "hour", "measured_at": m,
                 "value": float(i), "flag": "N", "source": "auto"} for i, m in enumerate(when)])
            conn.exec_driver_sql("DELETE FROM monitoring_values WHERE value = 1")  # a hole in the ids
            before = conn.execute(sa.text("SELECT id, measured_at, value FROM monitoring_values ORDER BY id")).all()
        with engine.begin() as conn:
            assert partitions.convert_to_partitioned(conn) == 3
            assert partitions.convert_to_partitioned(conn) == 0  # already done
        with engine.begin() as conn:
            assert conn.execute(sa.text("SELECT id, measured_at, value FROM monitoring_values ORDER BY id")).all() \
                == before
            where = dict(conn.execute(sa.text("SELECT id, CAST(tableoid::regclass AS text) FROM monitoring_values")
                                      ).all())
            assert where == {1: "monitoring_values_y2026m01", 3: "monitoring_values_y2026m02",
                             4: "monitoring_values_y2026m03"}
            new_id = conn.execute(sa.text(
                "INSERT INTO monitoring_values (enterprise_id, outlet_id, pollutant_code, period, measured_at, flag, "
                "source) VALUES (1, 1, 'w01018', 'hour', '2026-03-02 00:00+08', 'N', 'auto') RETURNING id")).scalar()
            assert new_id == 5
            converted = _shape(conn)
            names = partitions.attached(conn)
            assert {partitions.DEFAULT, "monitoring_values_y2026m01", "monitoring_values_y2026m03"} <= names
        assert converted == _shape(db.session.connection())  # exactly what create_all makes
        with engine.begin() as conn:
            assert partitions.convert_to_plain(conn) == 4
            assert _relkind(conn) == "r" and "monitoring_values_y2026m01" not in _tables(conn)
            assert conn.execute(sa.text("SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                                        "WHERE conname = 'pk_monitoring_values'")).scalar() == "PRIMARY KEY (id)"
            assert conn.execute(sa.text("SELECT nextval('monitoring_values_id_seq')")).scalar() == 6
    finally:
        engine.dispose()


def _relkind(conn) -> str:
    return conn.execute(sa.text("SELECT relkind FROM pg_class WHERE relname = 'monitoring_values'")).scalar()


def _tables(conn) -> set[str]:
    return set(conn.execute(sa.text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars())


@pg_only
def test_autogenerate_sees_no_difference_once_partitions_are_skipped(db, months):
    """What migrations/env.py needs: skip tables named monitoring_values_* (the partitions), nothing else."""
    partitions.ensure_months({(2026, 1)})
    db.session.commit()

    def include_name(name, type_, parent_names):
        if type_ == "table":
            return not (name or "").startswith(UNMANAGED_TABLE_PREFIXES + (partitions.PREFIX,))
        if type_ == "index":
            return name not in UNMANAGED_INDEXES
        if type_ == "column":
            return (parent_names.get("table_name"), name) not in UNMANAGED_COLUMNS
        return True

    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": include_name, "compare_type": True})
        assert compare_metadata(context, db.metadata) == []
