"""A throw-away PostgreSQL primary and its streaming replica, made with PostgreSQL's own tools (initdb,
pg_basebackup -R, pg_ctl) in a temporary directory on free ports. Used by the replica tests and `make cluster-test`.

The system's own PostgreSQL (port 5432) is never touched: its pg_hba.conf admits no replication connections, and a
test must not change a server it did not create. Runs as the `postgres` system user when started by root."""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


def pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class PgPair:
    root: Path
    primary_port: int
    replica_port: int
    bin: Path

    def url(self, which: str, database: str = "postgres") -> str:
        port = self.primary_port if which == "primary" else self.replica_port
        return f"postgresql+psycopg://postgres@127.0.0.1:{port}/{database}"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        cmd = [str(self.bin / args[0]), *args[1:]]
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, check=check, capture_output=True, text=True, timeout=120)

    def psql(self, which: str, sql: str, database: str = "postgres") -> str:
        """The first column of the last row of `sql`, as psql -At would print it ('t'/'f' for booleans)."""
        import psycopg

        port = self.primary_port if which == "primary" else self.replica_port
        with psycopg.connect(host="127.0.0.1", port=port, user="postgres", dbname=database,
                             autocommit=True) as conn:
            cur = conn.execute(sql)
            row = cur.fetchall()[-1] if cur.description else None
        if row is None:
            return ""
        value = row[0]
        return {True: "t", False: "f"}.get(value, str(value)) if isinstance(value, bool) else str(value)

    def wait_replayed(self, timeout: float = 30.0) -> None:
        """Until the replica has replayed everything the primary has written so far."""
        target = self.psql("primary", "SELECT pg_current_wal_insert_lsn()")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.psql("replica", f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn") == "t":
                return
            time.sleep(0.02)
        raise TimeoutError("the replica did not catch up")

    def stop(self) -> None:
        for name in ("replica", "primary"):
            if (self.root / name / "postmaster.pid").exists():
                self._run("pg_ctl", "-D", str(self.root / name), "-m", "immediate", "stop", check=False)
        shutil.rmtree(self.root, ignore_errors=True)


def start(root: Path | None = None) -> PgPair:
    binary = pg_bin()
    if binary is None:
        raise RuntimeError("PostgreSQL server binaries are not installed")
    root = root or Path(tempfile.mkdtemp(prefix="portal-pgpair-"))
    pair = PgPair(root=root, primary_port=_free_port(), replica_port=_free_port(), bin=binary)
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chown(root, user.pw_uid, user.pw_gid)
    primary = root / "primary"
    pair._run("initdb", "-D", str(primary), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8",
              "--locale=C.UTF-8")
    conf = (f"port = {pair.primary_port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{root}'\n"
            "wal_level = replica\nmax_wal_senders = 4\nhot_standby = on\nfsync = off\n"
            "full_page_writes = off\nshared_buffers = 32MB\nmax_connections = 60\n")
    with open(primary / "postgresql.conf", "a", encoding="utf-8") as fh:
        fh.write(conf)
    with open(primary / "pg_hba.conf", "a", encoding="utf-8") as fh:
        fh.write("host all all 127.0.0.1/32 trust\nhost replication all 127.0.0.1/32 trust\n")
    pair._run("pg_ctl", "-D", str(primary), "-l", str(root / "primary.log"), "-w", "start")
    replica = root / "replica"
    pair._run("pg_basebackup", "-h", "127.0.0.1", "-p", str(pair.primary_port), "-U", "postgres", "-D",
              str(replica), "-R", "-X", "stream", "--no-sync")
    with open(replica / "postgresql.conf", "a", encoding="utf-8") as fh:
        fh.write(f"port = {pair.replica_port}\n")
    pair._run("pg_ctl", "-D", str(replica), "-l", str(root / "replica.log"), "-w", "start")
    return pair
