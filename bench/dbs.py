"""Bench databases: every bench works on databases of its own name and never drops one it did not create.

A run's name defaults to bench_<script>_<pid> (unique on the machine while the run lives); `--db-name` chooses
another (e.g. to keep seeded data with `--keep` and reuse it in a later run). `create` refuses a name that already
exists (PostgreSQL database or SQLite file in bench/out/), so two people, or two benches, can run side by side; the
databases a run created are dropped when it exits, unless `--keep`. `open_existing` uses a kept database as it is
and never drops it.

PostgreSQL: 127.0.0.1:5432, user postgres (or BENCH_PG_USER).
"""
from __future__ import annotations

import atexit
import os
import socket
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
PG_HOST, PG_PORT, PG_USER = "127.0.0.1", 5432, os.environ.get("BENCH_PG_USER", "postgres")
SQLITE_SUFFIXES = ("", "-wal", "-shm")

_created: list[tuple[str, str]] = []  # (kind, name) this process created, in order
_keep = False


def default_name(script: str) -> str:
    return f"bench_{script}_{os.getpid()}"


def add_arguments(parser, script: str) -> None:
    parser.add_argument("--db-name", default=default_name(script),
                        help=f"database (SQLite file) name for this run, default bench_{script}_<pid>; a name that "
                             "exists is refused (never dropped)")
    parser.add_argument("--keep", action="store_true", help="keep the databases this run created")


def configure(args) -> None:
    global _keep
    _keep = bool(getattr(args, "keep", False))


def pg_answers() -> bool:
    try:
        with socket.create_connection((PG_HOST, PG_PORT), timeout=1):
            return True
    except OSError:
        return False


def sqlite_path(name: str) -> Path:
    return OUT / f"{name}.sqlite3"


def url(kind: str, name: str) -> str:
    if kind == "sqlite":
        return f"sqlite:///{sqlite_path(name)}"
    return f"postgresql+psycopg://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"


def _admin():
    import sqlalchemy as sa

    return sa.create_engine(url("postgresql", "postgres"), isolation_level="AUTOCOMMIT")


def _check_name(name: str) -> None:
    if not name.replace("_", "").isalnum() or not name[0].isalpha() or len(name) > 60:
        raise SystemExit(f"--db-name {name!r}: use letters, digits and _ (start with a letter, at most 60)")


def exists(kind: str, name: str) -> bool:
    if kind == "sqlite":
        return sqlite_path(name).exists()
    import sqlalchemy as sa

    engine = _admin()
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first() is not None
    finally:
        engine.dispose()


def create(kind: str, name: str) -> str:
    """A new empty database (or SQLite file path) called `name`; refuses a name that exists. Returns its URL."""
    _check_name(name)
    if (kind, name) in _created:
        drop(kind, name)
    elif exists(kind, name):
        raise SystemExit(f"{kind} database {name!r} already exists and this run did not create it: choose another "
                         "--db-name (benches never drop a database they did not create)")
    if kind == "sqlite":
        OUT.mkdir(parents=True, exist_ok=True)
    else:
        engine = _admin()
        try:
            with engine.connect() as conn:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}" ENCODING \'UTF8\' TEMPLATE template0')
        finally:
            engine.dispose()
    _created.append((kind, name))
    return url(kind, name)


def open_existing(kind: str, name: str) -> str:
    """The URL of a database kept by an earlier run; it stays (it is not this run's to drop)."""
    _check_name(name)
    if not exists(kind, name):
        raise SystemExit(f"{kind} database {name!r} does not exist (keep one with --keep --db-name {name})")
    return url(kind, name)


def drop(kind: str, name: str) -> None:
    """Drop a database this run created (anything else is refused)."""
    if (kind, name) not in _created:
        raise RuntimeError(f"refusing to drop {kind} database {name!r}: this run did not create it")
    if kind == "sqlite":
        for suffix in SQLITE_SUFFIXES:
            Path(f"{sqlite_path(name)}{suffix}").unlink(missing_ok=True)
    else:
        engine = _admin()
        try:
            with engine.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            engine.dispose()
    _created.remove((kind, name))


@atexit.register
def _drop_created() -> None:
    if _keep:
        for kind, name in _created:
            print(f"kept {kind} database {name}")
        return
    for kind, name in list(reversed(_created)):
        try:
            drop(kind, name)
        except Exception as exc:  # report, never hide: the name is the bench's own
            print(f"could not drop {kind} database {name}: {exc}")
