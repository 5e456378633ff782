"""Real processes for the fault tests: a fresh SQLite portal database, gunicorn serving it, and /proc helpers to find
and kill its workers. Nothing here is mocked: the tests SIGKILL real processes and read the database afterwards."""
from __future__ import annotations

import base64
import http.client
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYTHON = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable


def create_database(path: Path) -> str:
    """A new SQLite portal database at `path`: create_all + the search DDL + the reference tables (regions,
    pollutants, industries). Built in a child process so the test process keeps its own app and engine."""
    url = f"sqlite:///{path}"
    script = ("import sys\n"
              "from portal import create_app\nfrom portal.extensions import db\nfrom portal.search import ddl\n"
              "from portal.reference.services import load_reference\n"
              "app = create_app({'SQLALCHEMY_DATABASE_URI': sys.argv[1], 'RATELIMIT_ENABLED': False})\n"
              "with app.app_context():\n"
              "    db.create_all()\n"
              "    with db.engine.begin() as conn:\n"
              "        ddl.create(conn)\n"
              "    load_reference()\n"
              "    db.session.commit()\n")
    subprocess.run([PYTHON, "-c", script, url], cwd=ROOT, check=True, env=base_env(),
                   stdout=subprocess.DEVNULL)
    return url


FAULT_SECRET_KEY = secrets.token_urlsafe(48)  # the app refuses a weak key
FAULT_REPORTER_KEY = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()  # a Fernet key
FAULT_AUDIT_KEY = secrets.token_urlsafe(48)


def base_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env.update({"PORTAL_LOG_LEVEL": "WARNING", "PORTAL_SECRET_KEY": FAULT_SECRET_KEY,
                "PORTAL_REPORTER_KEY": FAULT_REPORTER_KEY, "PORTAL_AUDIT_KEY": FAULT_AUDIT_KEY, **extra})
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port: int, path: str, timeout: float = 10) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


class Gunicorn:
    """`python -m gunicorn -w N wsgi:app` on a free port (as `make run` and bench/run.py start it)."""

    def __init__(self, env: dict[str, str], workers: int = 2, log: Path | None = None):
        self.port = free_port()
        self.log = (log or Path(os.devnull)).open("w")
        self.proc = subprocess.Popen([PYTHON, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{self.port}",
                                      "--timeout", "60", "--graceful-timeout", "5", "wsgi:app"],
                                     cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self.wait_ready()

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("gunicorn exited during start-up")
            try:
                if get(self.port, "/healthz", timeout=2)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("gunicorn did not answer /healthz")

    def workers(self) -> list[int]:
        return children(self.proc.pid)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def children(pid: int) -> list[int]:
    """Live direct children of `pid`, from /proc (zombies excluded)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return sorted(found)


def sigkill(pid: int) -> None:
    os.kill(pid, signal.SIGKILL)


def wait_for(predicate, timeout: float = 30, interval: float = 0.05, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}")


TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def form_value(html: str, name: str) -> str | None:
    pattern = re.compile(rf'name="{name}"[^>]*value="([^"]*)"|value="([^"]*)"[^>]*name="{name}"')
    match = pattern.search(html)
    return (match.group(1) or match.group(2)) if match else None


def _socket_inodes(port_a: int, port_b: int) -> set[str]:
    """Inodes of TCP sockets (IPv4 and IPv6) whose local port is port_a and remote port is port_b."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, remote, inode = fields[1], fields[2], fields[9]
            if int(local.rsplit(":", 1)[1], 16) == port_a and int(remote.rsplit(":", 1)[1], 16) == port_b:
                found.add(inode)
    return found


def owner_of_connection(pids: list[int], server_port: int, client_port: int) -> int | None:
    """Which of `pids` holds the server end of the connection from client_port (the worker serving it)."""
    inodes = {f"socket:[{i}]" for i in _socket_inodes(server_port, client_port)}
    for pid in pids:
        try:
            fds = list(Path(f"/proc/{pid}/fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(fd) in inodes:
                    return pid
            except OSError:
                continue
    return None


def run_in_app(url: str, code: str, **env: str) -> str:
    """Run `code` in a child process inside an app context on `url` (with `db` imported); returns its stdout."""
    script = ("import sys\nfrom portal import create_app\nfrom portal.extensions import db\n"
              "app = create_app({'SQLALCHEMY_DATABASE_URI': sys.argv[1], 'RATELIMIT_ENABLED': False})\n"
              "with app.app_context():\n" + "".join(f"    {line}\n" for line in code.splitlines()))
    return subprocess.run([PYTHON, "-c", script, url], cwd=ROOT, check=True, env=base_env(**env),
                          capture_output=True, text=True).stdout
