"""Monthly range partitions of monitoring_values on PostgreSQL (issue 4: storage for 10 million values and more).

On PostgreSQL monitoring_values is PARTITION BY RANGE (measured_at) with one partition per China-local month
(monitoring_values_y2026m01 holds [2026-01-01 00:00+08, 2026-02-01 00:00+08)) and a DEFAULT partition as a safety
net. PostgreSQL wants the partition key in every unique key, so the primary key there is (id, measured_at); the
ORM keeps `id` as its identity (the sequence makes it unique) and SQLite keeps `id INTEGER PRIMARY KEY`.

The ingest path calls ensure_months() before it writes a batch; the daily job "monitoring-partitions" keeps the
next months ready and sweeps rows that reached the default partition into partitions of their own. A missing month
is created without locking the parent for writes: CREATE TABLE ... (LIKE ...) + CHECK, then ATTACH PARTITION, which
takes SHARE UPDATE EXCLUSIVE on the parent (inserts and reads go on) and ACCESS EXCLUSIVE on the new table and on the
default partition until the caller's transaction ends (PostgreSQL 15 ALTER TABLE docs).
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Iterable
from weakref import WeakKeyDictionary
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session

from portal.core.clock import DEFAULT_TIMEZONE
from portal.extensions import db

TABLE = "monitoring_values"
DEFAULT = f"{TABLE}_default"
PREFIX = f"{TABLE}_"  # every partition's name starts with this (autogenerate must skip them: see the report)
KEY = "measured_at"
TZ = ZoneInfo(DEFAULT_TIMEZONE)  # partition bounds are fixed China-local months, whatever PORTAL_TIMEZONE says
LOCK_KEY = 4_212_000_001  # pg_advisory_xact_lock key serialising partition creation
COLUMNS = ("id", "enterprise_id", "outlet_id", "pollutant_code", "period", "measured_at", "value", "value_min",
           "value_max", "value_converted", "flag", "source", "packet_id", "submission_id")
MAX_SPAN = 24  # months_of: wider batches are converted row by row
_PENDING = "monitoring_partitions_pending"

# engine -> {(year, month)} known to exist as committed partitions; filled after commits only.
_known: WeakKeyDictionary[sa.Engine, set[tuple[int, int]]] = WeakKeyDictionary()


# ------------------------------------------------------------------------------------------------ pure helpers

def month_of(moment: datetime) -> tuple[int, int]:
    local = moment.astimezone(TZ)
    return local.year, local.month


def months_of(moments: Iterable[datetime]) -> set[tuple[int, int]]:
    """The China-local (year, month) of a batch's instants (measured_at). Usually every month from the earliest to
    the latest: min/max take ~7 ms per 100,000 rows where converting every row takes ~200 ms, and an empty month in
    between just gets its partition early. A span over MAX_SPAN months (a logger with a wrong clock) is converted
    row by row, so it never creates hundreds of empty partitions."""
    moments = list(moments)
    if not moments:
        return set()
    first, last = month_of(min(moments)), month_of(max(moments))
    count = (last[0] - first[0]) * 12 + last[1] - first[1]
    if count > MAX_SPAN:
        return {month_of(m) for m in moments}
    return {add_months(*first, n) for n in range(count + 1)}


def bounds(year: int, month: int) -> tuple[datetime, datetime]:
    """[start, end) of a China-local month as aware datetimes in Asia/Shanghai."""
    start = datetime(year, month, 1, tzinfo=TZ)
    end = datetime(year + 1, 1, 1, tzinfo=TZ) if month == 12 else datetime(year, month + 1, 1, tzinfo=TZ)
    return start, end


def month_bounds(moment: datetime) -> tuple[datetime, datetime]:
    """[start, end) of the China-local month that contains an aware instant."""
    return bounds(*month_of(moment))


def add_months(year: int, month: int, n: int) -> tuple[int, int]:
    index = year * 12 + month - 1 + n
    return index // 12, index % 12 + 1


def partition_name(year: int, month: int) -> str:
    return f"{PREFIX}y{year:04d}m{month:02d}"


def _literal(moment: datetime) -> str:
    return f"'{moment.isoformat(sep=' ')}'"  # e.g. '2026-01-01 00:00:00+08:00': an explicit offset, no session TZ


# ------------------------------------------------------------------------------------------------ DDL of the table

@compiles(sa.PrimaryKeyConstraint, "postgresql")
def _primary_key(constraint: sa.PrimaryKeyConstraint, compiler, **kw) -> str:
    """On PostgreSQL the partitioned monitoring_values has PRIMARY KEY (id, measured_at); the metadata (and SQLite,
    where id stays the rowid alias) keep PRIMARY KEY (id). Only a table declared partitioned is touched."""
    table = constraint.table
    if (table is None or table.name != TABLE or not table.dialect_options["postgresql"].get("partition_by")
            or KEY in constraint.columns):
        return compiler.visit_primary_key_constraint(constraint, **kw)
    name = compiler.preparer.format_constraint(constraint)
    columns = ", ".join(compiler.preparer.quote(c.name) for c in [*constraint.columns, table.c[KEY]])
    return f"{f'CONSTRAINT {name} ' if name else ''}PRIMARY KEY ({columns})"


def declare(table: sa.Table) -> None:
    """Called by models.py for monitoring_values: create_all() also creates the default partition on PostgreSQL."""
    event.listen(table, "after_create",
                 sa.DDL(f"CREATE TABLE {DEFAULT} PARTITION OF {TABLE} DEFAULT").execute_if(dialect="postgresql"))


# ------------------------------------------------------------------------------------------------ per-process cache

def _cache_key(bind) -> sa.Engine:
    return bind.engine


@event.listens_for(Session, "after_commit")
def _promote_pending(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    for key, months in (pending or {}).items():
        _known.setdefault(key, set()).update(months)


@event.listens_for(Session, "after_soft_rollback")
def _drop_pending(session: Session, previous_transaction) -> None:
    session.info.pop(_PENDING, None)


def forget() -> None:
    """Empty the cache (tests that drop partitions; nothing else needs it)."""
    _known.clear()


# ------------------------------------------------------------------------------------------------ creating months

def ensure_months(months: set[tuple[int, int]]) -> None:
    """Make sure a partition exists for every China-local (year, month), in the caller's transaction, before the
    caller writes rows of those months. No-op on SQLite and, once a month is known in this process, on PostgreSQL."""
    if not months:
        return
    bind = db.session.get_bind()
    if bind.dialect.name != "postgresql":
        return
    key = _cache_key(bind)
    missing = set(months) - _known.get(key, set())
    if not missing:
        return
    present = create_months(db.session.connection(), missing)
    db.session.info.setdefault(_PENDING, {}).setdefault(key, set()).update(present)


def create_months(conn: sa.Connection, months: set[tuple[int, int]]) -> set[tuple[int, int]]:
    """Create the partitions among `months` that do not exist yet (rows of those months waiting in the default
    partition move in); returns `months`. One advisory lock for all months: creations serialise on the parent's
    SHARE UPDATE EXCLUSIVE lock anyway, and one key cannot deadlock two transactions that each add a month."""
    names = {partition_name(y, m): (y, m) for y, m in months}
    if not names.keys() - attached(conn, names):
        return set(months)
    conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})
    existing = attached(conn, names)
    for name in sorted(names.keys() - existing):
        _create_month(conn, name, *names[name])
    return set(months)


def attached(conn: sa.Connection, names: Iterable[str] | None = None) -> set[str]:
    """Names of monitoring_values' partitions (all of them, or those among `names`)."""
    rows = conn.execute(sa.text(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = CAST(:t AS regclass)"), {"t": TABLE}).scalars()
    found = set(rows)
    return found if names is None else found & set(names)


def _create_month(conn: sa.Connection, name: str, year: int, month: int) -> None:
    if conn.execute(sa.text("SELECT to_regclass(:n)"), {"n": name}).scalar() is not None:
        raise RuntimeError(f"table {name} exists but is not a partition of {TABLE}; attach or drop it by hand")
    start, end = bounds(year, month)
    lo, hi = _literal(start), _literal(end)
    cols = ", ".join(COLUMNS)
    conn.exec_driver_sql(f"CREATE TABLE {name} (LIKE {TABLE} INCLUDING DEFAULTS, "
                         f"CONSTRAINT {name}_range CHECK ({KEY} >= {lo} AND {KEY} < {hi}))")
    conn.exec_driver_sql(f"WITH moved AS (DELETE FROM {DEFAULT} WHERE {KEY} >= {lo} AND {KEY} < {hi} "
                         f"RETURNING {cols}) INSERT INTO {name} ({cols}) SELECT {cols} FROM moved")
    conn.exec_driver_sql(f"ALTER TABLE {TABLE} ATTACH PARTITION {name} FOR VALUES FROM ({lo}) TO ({hi})")
    conn.exec_driver_sql(f"ALTER TABLE {name} DROP CONSTRAINT {name}_range")  # the partition bound says it now


def ensure_ahead(months_ahead: int = 3, now: datetime | None = None) -> set[tuple[int, int]]:
    """Partitions for the current China-local month and the next `months_ahead`; returns the months checked."""
    year, month = month_of(now or datetime.now(timezone.utc))
    months = {add_months(year, month, n) for n in range(months_ahead + 1)}
    ensure_months(months)
    return months


def default_months(conn: sa.Connection) -> dict[tuple[int, int], int]:
    """(year, month) -> row count of the rows held by the default partition."""
    rows = conn.execute(sa.text(
        f"SELECT CAST(date_part('year', t) AS int), CAST(date_part('month', t) AS int), n FROM ("
        f"SELECT date_trunc('month', {KEY} AT TIME ZONE :tz) AS t, count(*) AS n FROM {DEFAULT} GROUP BY 1) s"),
        {"tz": DEFAULT_TIMEZONE})
    return {(y, m): n for y, m, n in rows}


def sweep_default() -> int:
    """Move the rows of the default partition into partitions of their months; returns how many moved."""
    if db.session.get_bind().dialect.name != "postgresql":
        return 0
    conn = db.session.connection()
    waiting = default_months(conn)
    if waiting:
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})
        create_months(conn, set(waiting))
    return sum(waiting.values())


def run_maintenance() -> str:
    """The daily job: the current and next 3 months exist, and the default partition is empty."""
    if db.session.get_bind().dialect.name != "postgresql":
        return "SQLite: monitoring_values is not partitioned"
    months = ensure_ahead(3)
    moved = sweep_default()
    first, last = min(months), max(months)
    return f"partitions {first[0]}-{first[1]:02d} to {last[0]}-{last[1]:02d} present; {moved} rows moved from default"


def describe() -> list[tuple[str, str, int | None]]:
    """(name, bounds, approximate rows) of every partition, months first in order, the default last."""
    if db.session.get_bind().dialect.name != "postgresql":
        return []
    rows = db.session.execute(sa.text(
        "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid), c.reltuples FROM pg_inherits i "
        "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = CAST(:t AS regclass)"), {"t": TABLE}).all()
    out = [(name, bound, int(n) if n is not None and n >= 0 else None) for name, bound, n in rows]
    return sorted(out, key=lambda r: (r[0] == DEFAULT, r[0]))


def default_has_rows() -> bool:
    if db.session.get_bind().dialect.name != "postgresql":
        return False
    return bool(db.session.execute(sa.text(f"SELECT EXISTS (SELECT 1 FROM {DEFAULT})")).scalar())


# ------------------------------------------------------------------------------------------------ migration 0004

# The table as of migration 0004, frozen here so the migration never depends on the live model; names are what
# create_all() makes (naming convention in portal/db.py, long names shortened by SQLAlchemy's hash suffix).
_COLUMNS_DDL = """
    id BIGINT NOT NULL DEFAULT nextval('monitoring_values_id_seq'::regclass),
    enterprise_id INTEGER NOT NULL,
    outlet_id INTEGER NOT NULL,
    pollutant_code VARCHAR(16) NOT NULL,
    period VARCHAR(10) NOT NULL,
    measured_at TIMESTAMP WITH TIME ZONE NOT NULL,
    value FLOAT,
    value_min FLOAT,
    value_max FLOAT,
    value_converted FLOAT,
    flag VARCHAR(2) NOT NULL,
    source VARCHAR(8) NOT NULL,
    packet_id BIGINT,
    submission_id INTEGER"""
_SEQUENCE = f"{TABLE}_id_seq"
_PK = f"pk_{TABLE}"
_UQ = "uq_monitoring_values_outlet_id_pollutant_code_period_me_0b3a"
_IX = "ix_monitoring_values_enterprise_time"
_FKS = (("fk_monitoring_values_enterprise_id_enterprises", "enterprise_id", "enterprises"),
        ("fk_monitoring_values_outlet_id_outlets", "outlet_id", "outlets"),
        ("fk_monitoring_values_submission_id_monitoring_manual_su_37b7", "submission_id",
         "monitoring_manual_submissions"))


def _relkind(conn: sa.Connection, name: str) -> str | None:
    return conn.execute(sa.text("SELECT relkind FROM pg_class WHERE oid = to_regclass(:n)"), {"n": name}).scalar()


def _rebuild(conn: sa.Connection, partitioned: bool) -> int:
    """Copy monitoring_values into a new table of the other kind, keeping rows, ids, the sequence and every name.
    The constraints and the index are added after the copy (one bulk build per partition, no per-row checks)."""
    old = f"{TABLE}_old"
    cols = ", ".join(COLUMNS)
    conn.exec_driver_sql(f"LOCK TABLE {TABLE} IN ACCESS EXCLUSIVE MODE")
    conn.exec_driver_sql(f"ALTER TABLE {TABLE} RENAME TO {old}")
    conn.exec_driver_sql(f"ALTER TABLE {old} DROP CONSTRAINT {_PK}, DROP CONSTRAINT {_UQ}")
    conn.exec_driver_sql(f"DROP INDEX {_IX}")
    conn.exec_driver_sql(f"ALTER SEQUENCE {_SEQUENCE} OWNED BY NONE")
    conn.exec_driver_sql(f"CREATE TABLE {TABLE} ({_COLUMNS_DDL})"
                         + (f" PARTITION BY RANGE ({KEY})" if partitioned else ""))
    conn.exec_driver_sql(f"ALTER SEQUENCE {_SEQUENCE} OWNED BY {TABLE}.id")
    if partitioned:
        conn.exec_driver_sql(f"CREATE TABLE {DEFAULT} PARTITION OF {TABLE} DEFAULT")
        stored = conn.execute(sa.text(f"SELECT DISTINCT date_trunc('month', {KEY} AT TIME ZONE :tz) FROM {old}"),
                              {"tz": DEFAULT_TIMEZONE}).scalars()
        year, month = month_of(datetime.now(timezone.utc))
        months = {(t.year, t.month) for t in stored} | {add_months(year, month, n) for n in range(4)}
        for y, m in sorted(months):
            lo, hi = (_literal(b) for b in bounds(y, m))
            conn.exec_driver_sql(f"CREATE TABLE {partition_name(y, m)} PARTITION OF {TABLE} "
                                 f"FOR VALUES FROM ({lo}) TO ({hi})")
    copied = conn.exec_driver_sql(f"INSERT INTO {TABLE} ({cols}) SELECT {cols} FROM {old}").rowcount
    key = f"id, {KEY}" if partitioned else "id"
    conn.exec_driver_sql(f"ALTER TABLE {TABLE} ADD CONSTRAINT {_PK} PRIMARY KEY ({key}), "
                         f"ADD CONSTRAINT {_UQ} UNIQUE (outlet_id, pollutant_code, period, {KEY}), "
                         + ", ".join(f"ADD CONSTRAINT {name} FOREIGN KEY ({col}) REFERENCES {ref} (id)"
                                     for name, col, ref in _FKS))
    conn.exec_driver_sql(f"CREATE INDEX {_IX} ON {TABLE} (enterprise_id, {KEY})")
    conn.exec_driver_sql(f"DROP TABLE {old}")
    conn.exec_driver_sql(f"ANALYZE {TABLE}")
    return copied


def convert_to_partitioned(connection: sa.Connection) -> int:
    """Migration 0004 upgrade on PostgreSQL: turn the plain monitoring_values of migration 0002 into the
    partitioned table create_all() makes, with partitions for every stored month and the next 3. Returns the rows
    copied; does nothing (0) on SQLite or when the table is partitioned already. Holds ACCESS EXCLUSIVE on the
    table for the copy, so run it with ingest stopped (10 M rows: minutes, not hours)."""
    if connection.dialect.name != "postgresql" or _relkind(connection, TABLE) == "p":
        return 0
    return _rebuild(connection, partitioned=True)


def convert_to_plain(connection: sa.Connection) -> int:
    """Migration 0004 downgrade: back to the plain table of migration 0002 (PK (id)), keeping rows and ids."""
    if connection.dialect.name != "postgresql" or _relkind(connection, TABLE) != "p":
        return 0
    return _rebuild(connection, partitioned=False)
