"""Backups that are consistent while the portal runs.

SQLite: the online backup API copies a live database page by page (writers keep working; WAL is respected).
PostgreSQL: pg_dump in its custom format (a consistent snapshot), restored with pg_restore --clean.
"""
from __future__ import annotations

import os
import sqlite3
import subprocess
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
    env, args = _pg_env_and_args(url)
    result = subprocess.run(["pg_restore", *args, "--clean", "--if-exists", "--no-owner", "-d", url.database or "",
                             str(source)], env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(f"pg_restore failed: {result.stderr.strip()}")
