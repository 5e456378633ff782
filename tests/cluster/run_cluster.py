"""`make cluster-test`: the portal as several hosts on one machine, with parts of it killed under load (issue 23).

Starts: a PostgreSQL primary and its streaming replica (tests/cluster/pgpair.py), Redis (the machine's, databases 14
and 15), an S3-protocol server (moto) when the storage setting supports it, two app instances (gunicorn, 2 workers
each, on distinct ports, each with its own instance directory: nothing shared on disk), two schedulers, two queue
workers and two HJ 212 listeners; drives for --seconds a mixed load (search, enterprise pages and API reads on both
instances, complaints with photos on both, HJ 212 minute frames to both listeners, queued mails); meanwhile kills the
leading scheduler, one worker, one app instance mid-request and one listener (SIGKILL); then checks and prints one
table. Every line can fail; the exit status is 1 when one does.

Not part of `make test` (it takes a few minutes and starts a dozen processes); CI does not run it.
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.complaints import make_photo  # noqa: E402
from portal.monitoring.hj212 import build_frame  # noqa: E402
from tests.cluster import pgpair  # noqa: E402
from tests.faults.procs import PYTHON, base_env, free_port, get  # noqa: E402
from tests.faults.smtpsink import SmtpSink  # noqa: E402
from tests.faults.test_worker_kill import submit  # noqa: E402

RATE_LIMIT = 30  # complaints per minute per address, shared by both instances through Redis
DEVICES = 8
PASSWORD = "cluster-pw-123"


class Proc:
    def __init__(self, name: str, args: list[str], env: dict[str, str], log_dir: Path):
        self.name, self.args, self.env = name, args, env
        self.log = (log_dir / f"{name}.log").open("a")
        self.proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()

    def stop(self) -> None:
        if self.alive():
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=20)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                self.kill()
        self.log.close()


def flask(*args: str) -> list[str]:
    return [PYTHON, "-m", "flask", "--app", "wsgi", *args]


def wait_http(port: int, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if get(port, "/healthz", timeout=2)[0] in (200, 503):
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"nothing answers on port {port}")


def wait_tcp(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"nothing listens on port {port}")


def run(env: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(flask(*args), cwd=ROOT, env=env, capture_output=True, text=True, check=check)


def python(env: dict[str, str], code: str) -> str:
    script = ("from portal import create_app\nfrom portal.extensions import db\nimport sqlalchemy as sa\n"
              "app = create_app()\nwith app.app_context():\n" + "".join(f"    {line}\n" for line in code.splitlines()))
    return subprocess.run([PYTHON, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                          check=True).stdout


class Load:
    """The traffic, from threads of this process; counts what each instance acknowledged."""

    def __init__(self, apps: list[int], listeners: list[int], devices: list[str], photo: bytes):
        self.apps, self.listeners, self.devices, self.photo = apps, listeners, devices, photo
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.complaints_ok: dict[str, int] = {}  # submission key -> port that answered 302
        self.complaint_status: Counter = Counter()
        self.reads: Counter = Counter()
        self.frames_acked: set[tuple[str, str]] = set()
        self.frames_sent = 0
        self.dead_apps: set[int] = set()
        self.dead_listeners: set[int] = set()
        self.seconds = 0

    def _app(self, n: int) -> int:
        live = [p for p in self.apps if p not in self.dead_apps]
        return live[n % len(live)]

    def reader(self, seed: int) -> None:
        rnd, n = random.Random(seed), 0
        paths = ["/api/v1/enterprises?q=%E5%8C%96%E5%B7%A5", "/search?q=%E5%8C%96%E5%B7%A5",
                 "/api/v1/enterprises?region=320826", "/"]
        while not self.stop.is_set():
            n += 1
            port = self._app(n + seed)
            try:
                status, _ = get(port, rnd.choice(paths), timeout=10)
                self.reads[status] += 1
            except OSError:
                self.reads["error"] += 1

    def complainer(self, seed: int) -> None:
        n = seed * 100000
        while not self.stop.is_set():
            n += 1
            port = self._app(n)
            key, status = submit(port, self.photo, n)  # the phone flow of the worker-kill fault test
            with self.lock:
                self.complaint_status[status] += 1
                if status == 302 and key:
                    self.complaints_ok[key] = port
            time.sleep(0.2)

    def logger(self, index: int) -> None:
        """One data logger: a minute frame every 0.5 s (time compressed), waiting for the 9014 before the next;
        on a broken connection it reconnects to any live listener and resends (what a logger does)."""
        mn = self.devices[index]
        minute, sock, pending = 0, None, None
        base = time.time() - 3 * 86400 + index * 7  # inside the back-fill window: stored, no incidents
        while not self.stop.is_set():
            if pending is None:
                stamp = time.strftime("%Y%m%d%H%M00", time.localtime(base + minute * 60))
                qn = f"{stamp}{index:03d}"
                cp = f"DataTime={stamp};w01018-Avg={20 + minute % 9},w01018-Flag=N;w01001-Avg=7.2,w01001-Flag=N"
                pending = (qn, build_frame(f"QN={qn};ST=32;CN=2051;PW={PASSWORD};MN={mn};Flag=5;CP=&&{cp}&&"))
                minute += 1
            try:
                if sock is None:
                    live = [p for p in self.listeners if p not in self.dead_listeners] or self.listeners
                    sock = socket.create_connection(("127.0.0.1", live[(index + minute) % len(live)]), timeout=10)
                sock.sendall(pending[1])
                with self.lock:
                    self.frames_sent += 1
                reply = sock.recv(4096)
                if not reply:
                    raise OSError("closed")
                if b"CN=9014" in reply:
                    with self.lock:
                        self.frames_acked.add((mn, pending[0]))
                    pending = None
                time.sleep(0.5)
            except OSError:
                if sock is not None:
                    sock.close()
                sock = None
                time.sleep(0.5)
        if sock is not None:
            sock.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=90, help="load duration (default 90)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, databases)")
    args = parser.parse_args()
    if pgpair.pg_bin() is None:
        print("PostgreSQL server binaries are missing (Debian package postgresql): cannot run.")
        return 2
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        print("Redis does not answer on 127.0.0.1:6379: cannot run.")
        return 2
    work = Path(tempfile.mkdtemp(prefix="portal-cluster-"))
    logs = work / "logs"
    logs.mkdir()
    procs: list[Proc] = []
    pair = pgpair.start()
    sink = SmtpSink(delay=0.01)
    storage_env = storage_settings(work, procs, logs)
    try:
        import redis

        for db_index in (14, 15):
            redis.Redis.from_url(f"redis://127.0.0.1:6379/{db_index}").flushdb()
        common = {"PORTAL_DATABASE_URL": pair.url("primary"), "PORTAL_DATABASE_REPLICA_URL": pair.url("replica"),
                  "PORTAL_RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/14",
                  "PORTAL_CACHE_REDIS_URL": "redis://127.0.0.1:6379/15", "PORTAL_JOBS_QUEUE": "procrastinate",
                  "PORTAL_QUEUE_STALLED_SECONDS": "8", "PORTAL_SCHEDULER_LEASE_SECONDS": "8",
                  "PORTAL_SCHEDULER_RENEW_SECONDS": "2", "PORTAL_MAIL_SERVER": "127.0.0.1",
                  "PORTAL_MAIL_PORT": str(sink.port), "PORTAL_COMPLAINT_RATE_LIMIT": f"{RATE_LIMIT} per minute",
                  **storage_env}

        def host_env(name: str) -> dict[str, str]:
            home = work / name
            home.mkdir(exist_ok=True)
            return base_env(**common, PORTAL_COMPLAINT_UPLOAD_DIR=str(home / "uploads"),
                            PORTAL_MONITORING_UPLOAD_DIR=str(home / "monitoring"),
                            PORTAL_CREDIT_UPLOAD_DIR=str(home / "credit"), PORTAL_OPENDATA_DIR=str(home / "opendata"),
                            PORTAL_MAIL_DIR=str(home / "mail"))

        env_a, env_b = host_env("host-a"), host_env("host-b")
        print("== schema and data on the primary")
        run(env_a, "db", "upgrade")
        run(env_a, "load-reference", check=False)
        devices, usccs = seed(env_a)
        print("== starting: 2 app instances, 2 schedulers, 2 workers, 2 HJ 212 listeners")
        app_ports, listener_ports = [free_port(), free_port()], [free_port(), free_port()]
        apps = [Proc(f"app-{c}", [PYTHON, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}", "--timeout", "60",
                                  "wsgi:app"], env, logs)
                for c, port, env in (("a", app_ports[0], env_a), ("b", app_ports[1], env_b))]
        schedulers = [Proc(f"scheduler-{i}", flask("jobs", "scheduler"), env, logs)
                      for i, env in ((1, env_a), (2, env_b))]
        workers = [Proc(f"worker-{i}", flask("jobs", "worker", "--name", f"worker-{i}"), env, logs)
                   for i, env in ((1, env_a), (2, env_b))]
        listeners = [Proc(f"listener-{i}", flask("devices", "listen", "--host", "127.0.0.1", "--port", str(port)),
                          env, logs) for i, port, env in ((1, listener_ports[0], env_a), (2, listener_ports[1], env_b))]
        procs.extend(apps + schedulers + workers + listeners)
        for port in app_ports:
            wait_http(port)
        for port in listener_ports:
            wait_tcp(port)
        mails = queue_mails(env_a, 40)
        import_ids = queue_imports(env_a, usccs[0], 2, 30)
        load = Load(app_ports, listener_ports, devices, make_photo(target=120_000))
        load.seconds = args.seconds
        threads = ([threading.Thread(target=load.reader, args=(i,)) for i in range(3)]
                   + [threading.Thread(target=load.complainer, args=(i,)) for i in range(3)]
                   + [threading.Thread(target=load.logger, args=(i,)) for i in range(len(devices))])
        for t in threads:
            t.start()
        kills = []
        started = time.monotonic()

        def at(fraction: float) -> None:
            time.sleep(max(0.0, started + args.seconds * fraction - time.monotonic()))

        at(0.25)
        leader = leading_scheduler(env_a, schedulers)
        if leader is not None:
            leader.kill()
            kills.append(f"leading scheduler {leader.name}")
        at(0.4)
        workers[0].kill()
        kills.append("worker-1")
        at(0.5)
        load.dead_apps.add(app_ports[1])
        apps[1].kill()
        kills.append("app-b (gunicorn master and workers, mid-request)")
        at(0.6)
        load.dead_listeners.add(listener_ports[1])
        listeners[1].kill()
        kills.append("listener-2")
        at(1.0)
        load.stop.set()
        for t in threads:
            t.join(timeout=60)
        print("== killed: " + "; ".join(kills))
        print("== load over; restarting app-b for the read-back checks, waiting for the queue and the replica")
        apps[1] = Proc("app-b-again", apps[1].args, env_b, logs)
        procs.append(apps[1])
        wait_http(app_ports[1])
        import_states = finish_imports(env_a, import_ids)
        if any(st != "done" for st in import_states):  # say what the database is waiting on
            print(pair.psql("primary", "SELECT string_agg(format('%s %s %s/%s %s [%s]', pid, state, wait_event_type, "
                                       "wait_event, now() - xact_start, left(query, 70)), E'\\n') "
                                       "FROM pg_stat_activity WHERE backend_type = 'client backend'"))
        results = check(pair, env_a, env_b, load, sink, mails, app_ports)
        manual_rows = python(env_a, "from portal.monitoring.models import MonitoringValue\n"
                                    "print(db.session.scalar(sa.select(sa.func.count()).select_from(MonitoringValue)"
                                    ".where(MonitoringValue.period == 'manual')))\n").strip()
        results.insert(3, ("each background import checked and written once", f"{len(import_ids)} done, 60 rows",
                           f"{', '.join(import_states)}; {manual_rows} rows",
                           all(s == "done" for s in import_states) and manual_rows == "60"))
    finally:
        for p in procs:
            p.stop()
        sink.close()
        pair.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"kept: {work}")
    width = max(len(r[0]) for r in results)
    print(f"\n{'check'.ljust(width)} | expected | observed | ok")
    for name, expected, observed, ok in results:
        print(f"{name.ljust(width)} | {expected} | {observed} | {'yes' if ok else 'NO'}")
    failed = [r for r in results if not r[3]]
    print(f"\n{len(results) - len(failed)} of {len(results)} checks hold")
    return 1 if failed else 0


def storage_settings(work: Path, procs: list[Proc], logs: Path) -> dict[str, str]:
    """The shared file store both instances use: an S3-protocol server (moto) and one bucket."""
    port = free_port()
    procs.append(Proc("s3", [PYTHON, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], base_env(), logs))
    wait_tcp(port)
    import boto3

    boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", aws_access_key_id="cluster",
                 aws_secret_access_key="cluster", region_name="us-east-1").create_bucket(Bucket="portal-cluster")
    return {"PORTAL_STORAGE": "s3", "PORTAL_STORAGE_S3_ENDPOINT": f"http://127.0.0.1:{port}",
            "PORTAL_STORAGE_S3_BUCKET": "portal-cluster", "PORTAL_STORAGE_S3_ACCESS_KEY": "cluster",
            "PORTAL_STORAGE_S3_SECRET_KEY": "cluster", "PORTAL_STORAGE_S3_REGION": "us-east-1"}


def seed(env: dict[str, str]) -> list[str]:
    """A few enterprises to read and their HJ 212 devices (registered through the CLI, as an operator does)."""
    out = python(env, (
        "from tests.factories import make_enterprise, make_outlet, make_limit\n"
        "from portal.enterprises.models import Averaging\n"
        "for i in range(8):\n"
        "    e = make_enterprise(name=f'集群测试化工有限公司{i}')\n"
        "    o = make_outlet(e, 'DW001')\n"
        "    make_limit(o, 'w01018', '100', Averaging.DAILY)\n"
        "    print(e.uscc)\n"
        "db.session.commit()\n"))
    devices = []
    for i, uscc in enumerate(out.split()[:DEVICES]):
        mn = f"CLUSTER{i:05d}"
        run(env, "devices", "add", "--mn", mn, "--password", PASSWORD, "--uscc", uscc, "--outlet", "DW001")
        devices.append(mn)
    return devices, out.split()


def queue_mails(env: dict[str, str], n: int) -> list[str]:
    subjects = [f"cluster-mail-{i}" for i in range(n)]
    python(env, "from portal.mail.services import queue_mail\n"
                f"for s in {subjects!r}:\n"
                "    queue_mail('someone@example.cn', s, 'body', dedupe_key=s)\n"
                "db.session.commit()\n")
    return subjects


IMPORT_HEADER = "排放口编码,污染物编码,采样时间,监测结果,监测完成日期,检测机构,监测方法,数据标记,生产负荷(%),治理设施运行状态\n"


def queue_imports(env: dict[str, str], uscc: str, n: int, rows: int) -> list[int]:
    """Manual-result files waiting in the shared store, queued as background imports: the per-minute job, run by
    whichever queue worker takes it, checks them; after the commit is requested, it writes them."""
    ids = python(env, (
        "import secrets\nfrom datetime import datetime, timedelta\n"
        "from portal.enterprises.models import Enterprise\nfrom portal.monitoring import imports, manual\n"
        f"ent = db.session.scalar(sa.select(Enterprise).where(Enterprise.uscc == {uscc!r}))\n"
        f"for k in range({n}):\n"
        f"    text = {IMPORT_HEADER!r}\n"
        f"    for i in range({rows}):\n"
        "        at = datetime(2026, 9, 1 + k) + timedelta(minutes=10 * i)\n"
        "        text += f'DW001,w01018,{at:%Y-%m-%d %H:%M},{20 + i % 7},2026-10-05,淮安检测,HJ 828-2017,N,85,正常运行\\n'\n"
        "    token = secrets.token_urlsafe(16)\n"
        "    manual.upload_store().put(token, text.encode('utf-8'))\n"
        "    print(imports.queue(None, ent, token, f'cluster-{k}.csv').id)\n"
        "db.session.commit()\n"))
    return [int(x) for x in ids.split()]


def _import_states(env: dict[str, str], ids: list[int]) -> list[str]:
    return python(env, "from portal.monitoring.models import ImportJob\n"
                       f"for j in db.session.scalars(sa.select(ImportJob).where(ImportJob.id.in_({ids!r}))"
                       ".order_by(ImportJob.id)):\n"
                       "    print(str(j.status))\n").split()


def finish_imports(env: dict[str, str], ids: list[int], timeout: float = 180) -> list[str]:
    """Wait for the checks, request the commits (what the enterprise's button does), wait for the writes (each step
    is taken by the per-minute job on whichever worker runs it: allow a few minutes for each)."""
    deadline = time.monotonic() + timeout
    states = _import_states(env, ids)
    while time.monotonic() < deadline and any(s not in ("checked", "rejected", "failed") for s in states):
        time.sleep(3)
        states = _import_states(env, ids)
    python(env, "from portal.monitoring import imports\nfrom portal.monitoring.models import ImportJob\n"
                f"for j in db.session.scalars(sa.select(ImportJob).where(ImportJob.id.in_({ids!r}))):\n"
                "    if str(j.status) == 'checked':\n"
                "        imports.request_commit(j)\n"
                "db.session.commit()\n")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(s not in ("done", "rejected", "failed") for s in states):
        time.sleep(3)
        states = _import_states(env, ids)
    return states


def leading_scheduler(env: dict[str, str], schedulers: list[Proc]) -> Proc | None:
    for _ in range(60):
        holder = python(env, "from portal.jobs import lease\nstate = lease.current()\n"
                             "print(state.holder if state else '')\n").strip()
        pid = int(holder.split(":")[1]) if holder.count(":") >= 2 else None
        for p in schedulers:
            if pid is not None and p.proc.pid == pid:
                return p
        time.sleep(1)
    return None


def check(pair, env_a, env_b, load: Load, sink: SmtpSink, mails: list[str], app_ports: list[int]) -> list[tuple]:
    results = []
    deadline = time.monotonic() + 150
    sent = Counter()
    while time.monotonic() < deadline:  # the outbox is sent by the per-minute job through the queue workers
        sent = Counter(s for s in sink.delivered if s.startswith("cluster-mail-"))
        if len(sent) >= len(mails):
            break
        time.sleep(2)
    time.sleep(3)
    sent = Counter(s for s in sink.delivered if s.startswith("cluster-mail-"))
    results.append(("each queued mail sent once", f"{len(mails)} mails ×1",
                    f"{len(sent)} distinct, {sum(sent.values())} messages",
                    len(sent) == len(mails) and all(v == 1 for v in sent.values())))

    keys = sorted(load.complaints_ok)
    stored = python(env_a, "from portal.complaints.models import Complaint\n"
                           f"keys = {keys!r}\n"
                           "rows = db.session.execute(sa.select(Complaint.submission_key, Complaint.id)"
                           ".where(Complaint.submission_key.in_(keys))).all() if keys else []\n"
                           "print(len(rows))\n").strip()
    results.append(("complaints acknowledged = stored", f"{len(keys)}", stored, stored == str(len(keys))))

    # Fixed one-minute windows start at an address's first hit, so a run of D seconds spans at most ceil(D/60)+1
    # windows; per-process counters (two instances × two workers) would let four times as many through.
    windows = -(-load.seconds // 60) + 1
    accepted, limited = len(load.complaints_ok), load.complaint_status.get(429, 0)
    results.append(("rate limit held across instances", f"≤ {RATE_LIMIT * windows} accepted, some 429",
                    f"{accepted} accepted, {limited} × 429", accepted <= RATE_LIMIT * windows and limited > 0))

    readable = {}
    for name, env in (("a", env_a), ("b", env_b)):
        readable[name] = python(env, (
            "from portal.complaints.models import ComplaintAttachment\n"
            "from portal.core import storage\n"
            "store = storage.files('complaints')\n"
            "ok = bad = 0\n"
            "for a in db.session.scalars(sa.select(ComplaintAttachment)):\n"
            "    for key in filter(None, (a.original_path, a.public_path)):\n"
            "        if store.get(key) is None:\n"
            "            bad += 1\n"
            "        else:\n"
            "            ok += 1\n"
            "print(ok, bad)\n")).strip()
    files_ok = all(v.endswith(" 0") and not v.startswith("0 ") for v in readable.values())
    results.append(("every file readable on both instances", "all, 0 missing",
                    f"A: {readable['a']}; B: {readable['b']}", files_ok))

    acked = sorted(load.frames_acked)
    stored_packets = python(env_a, (
        "from portal.monitoring.models import ReceivedPacket, MonitoringValue\n"
        "dups = db.session.execute(sa.select(ReceivedPacket.mn, ReceivedPacket.qn).group_by(ReceivedPacket.mn, "
        "ReceivedPacket.qn, ReceivedPacket.pno).having(sa.func.count() > 1)).all()\n"
        "packets = set(db.session.execute(sa.select(ReceivedPacket.mn, ReceivedPacket.qn)"
        ".where(ReceivedPacket.mn.like('CLUSTER%'))).all())\n"
        f"acked = {[list(a) for a in acked]!r}\n"
        "missing = [a for a in acked if tuple(a) not in packets]\n"
        "values = db.session.scalar(sa.select(sa.func.count()).select_from(MonitoringValue)"
        ".where(MonitoringValue.period == 'minute'))\n"
        "print(len(packets), len(missing), len(dups), values)\n")).split()
    n_packets, n_missing, n_dups, n_values = (int(x) for x in stored_packets)
    results.append(("each acknowledged HJ 212 packet stored once", f"{len(acked)} acked, 0 missing, 0 dup",
                    f"{n_packets} stored, {n_missing} missing, {n_dups} dup",
                    n_missing == 0 and n_dups == 0 and n_packets >= len(acked)))
    results.append(("each stored packet's values stored once", f"{2 * n_packets} values", f"{n_values}",
                    n_values == 2 * n_packets))

    runs = python(env_a, (
        "from portal.jobs.models import JobRun\n"
        "dup = db.session.execute(sa.select(JobRun.name, JobRun.slot).where(JobRun.slot.isnot(None))"
        ".group_by(JobRun.name, JobRun.slot).having(sa.func.count() > 1)).all()\n"
        "outbox = db.session.scalar(sa.select(sa.func.count()).select_from(JobRun)"
        ".where(JobRun.name == 'send-outbox', JobRun.status == 'ok'))\n"
        "left = db.session.execute(sa.text(\"SELECT count(*) FROM procrastinate_jobs WHERE status = 'doing'\"))"
        ".scalar()\n"
        "print(len(dup), outbox, left)\n")).split()
    results.append(("each job slot run once; no job stuck with a dead worker", "0 dup, ≥1 outbox run, 0 doing",
                    f"{runs[0]} dup, {runs[1]} outbox runs, {runs[2]} doing",
                    runs[0] == "0" and int(runs[1]) >= 1 and runs[2] == "0"))

    caught = False
    for _ in range(60):
        target = pair.psql("primary", "SELECT pg_current_wal_insert_lsn()")
        if pair.psql("replica", f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn") == "t":
            caught = True
            break
        time.sleep(0.5)
    results.append(("replica caught up", "replay ≥ primary", "yes" if caught else "behind", caught))

    reads = sum(v for k, v in load.reads.items() if k == 200)
    results.append(("reads answered on both instances", "> 0, errors only from the killed one",
                    f"{reads} × 200, {load.reads.get('error', 0)} errors, {load.reads.get(500, 0)} × 500",
                    reads > 0 and load.reads.get(500, 0) == 0))
    verify = run(env_a, "audit", "verify", check=False)
    results.append(("flask audit verify", "exit 0", f"exit {verify.returncode}", verify.returncode == 0))
    return results



if __name__ == "__main__":
    sys.exit(main())
