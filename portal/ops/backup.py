"""Backups that are consistent while the portal runs.

SQLite: the online backup API copies a live database page by page (writers keep working; WAL is respected).
PostgreSQL: pg_dump in its custom format (a consistent snapshot). A restore pipes pg_restore's SQL script into one
psql transaction that first empties the schema: `pg_restore --clean` cannot drop the constraints a partition
inherits (monitoring_values is partitioned by month), and the single transaction means a failed restore changes
nothing.
"""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy.engine import URL, make_url


class BackupError(RuntimeError):
    pass


def default_backup_path(instance_path: str, url: URL) -> Path:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    suffix = "sqlite3" if url.get_backend_name() == "sqlite" else "pgdump"
    return Path(instance_path) / "backups" / f"portal-{stamp}.{suffix}"


def _sqlite_file(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(url.database)


def _pg_env_and_args(url: URL) -> tuple[dict, list[str]]:
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    args = ["-h", url.host or "127.0.0.1", "-p", str(url.port or 5432), "-U", url.username or "postgres"]
    return env, args


def backup(database_url: str, target: Path) -> Path:
    url = make_url(database_url)
    target.parent.mkdir(parents=True, exist_ok=True)
    if url.get_backend_name() == "sqlite":
        source = sqlite3.connect(_sqlite_file(url))
        dest = sqlite3.connect(target)
        try:
            with dest:
                source.backup(dest)
        finally:
            dest.close()
            source.close()
        return target
    env, args = _pg_env_and_args(url)
    result = subprocess.run(["pg_dump", *args, "-Fc", "-f", str(target), url.database or ""], env=env,
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(f"pg_dump failed: {result.stderr.strip()}")
    return target


def restore(database_url: str, source: Path) -> None:
    """Replace the database's content with a backup. Stop the web workers and the scheduler first."""
    if not source.is_file():
        raise BackupError(f"no backup file at {source}")
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        src = sqlite3.connect(source)
        dest = sqlite3.connect(_sqlite_file(url))
        try:
            src.execute("PRAGMA quick_check")
            with dest:
                src.backup(dest)
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{source} is not a readable SQLite backup: {exc}") from exc
        finally:
            dest.close()
            src.close()
        return
    _pg_restore(url, source)


_EMPTY_SCHEMA = "DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;"


def _pg_restore(url: URL, source: Path) -> None:
    """Stream `pg_restore -f -` into `psql --single-transaction`. psql's input stays open until pg_restore has
    succeeded; if it fails (a truncated or foreign file), psql is killed before COMMIT and the server rolls back."""
    env, args = _pg_env_and_args(url)
    env["PGOPTIONS"] = "-c client_min_messages=warning"  # no NOTICE per object dropped
    with tempfile.TemporaryFile() as dump_err, tempfile.TemporaryFile() as load_err:
        dump = subprocess.Popen(["pg_restore", "--no-owner", "-f", "-", str(source)], stdout=subprocess.PIPE,
                                stderr=dump_err, env=env)
        load = subprocess.Popen(["psql", *args, "-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction",
                                 "-c", _EMPTY_SCHEMA, "-f", "-", "-d", url.database or ""],
                                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=load_err, env=env)
        assert dump.stdout is not None and load.stdin is not None
        try:
            shutil.copyfileobj(dump.stdout, load.stdin, 1 << 20)
        except BrokenPipeError:  # psql stopped on an error; its message says which
            dump.kill()
        finally:
            dump.stdout.close()
        if dump.wait() != 0:
            load.kill()  # before COMMIT: nothing of the partial script stays
        try:
            load.stdin.close()  # end of input: psql commits
        except BrokenPipeError:
            pass
        loaded = load.wait()
        if dump.returncode != 0:
            raise BackupError(f"pg_restore failed: {_text(dump_err)}")
        if loaded != 0:
            raise BackupError(f"restore failed, nothing was changed: {_text(load_err)}")


def _text(handle) -> str:
    handle.seek(0)
    return handle.read().decode("utf-8", "replace").strip()
