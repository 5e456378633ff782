#!/usr/bin/env python3
"""Mixed load test (issue 8): gunicorn -w 2 on a seeded SQLite database, driven for a bounded time by client threads
mixing the search API, public enterprise pages, complaint intake (GET for the CSRF token, then POST) and HJ 212
ingest at once; then a second phase while a large manual-results import runs in the background.

    .venv/bin/python bench/load.py                                   # 20,000 enterprises, 20 s, then a 25,000-row import
    .venv/bin/python bench/load.py --seconds 10 --import-values 10000  # quicker
    .venv/bin/python bench/load.py --size 100000 --seconds 60

Reports per kind: requests, throughput, p50/p95/max latency and errors (non-expected status or socket error).
Results: a table on stdout and bench/out/load.json. See bench/README.md.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import threading
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import dbs  # noqa: E402  (per-run database names; never drops what it did not create)
from bench.complaints import Client as PhoneClient  # noqa: E402
from bench.complaints import free_port, multipart, stop_server, wait_ready  # noqa: E402
from bench.monitoring import OUTLETS  # noqa: E402

SEED = 2024
SEARCH_TERMS = ["化工", "华能", "精细化工", "热电有", "有限公司", "鑫", "电力", "科技", "水务", "材料"]
REGIONS = ["", "", "3208", "15", "21", "320826"]


# ---------------------------------------------------------------- database

def seeded_path(size: int) -> Path:
    return OUT / f"load_seed_{size}.sqlite3"


def seed(size: int) -> dict:
    """A database with `size` enterprises (bench/run.py's fast path) plus the monitoring bench enterprise with three
    devices; reused when it already holds them. Each run works on a copy, so writes never accumulate. The seed is
    built under a name of this process and renamed into place when complete, so two runs never write one file."""
    final = seeded_path(size)
    info_path = final.with_suffix(".json")
    if final.exists() and info_path.exists():
        return json.loads(info_path.read_text())
    path = final.with_name(f"{final.stem}.{os.getpid()}.building.sqlite3")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    os.environ.setdefault("PORTAL_LOG_LEVEL", "WARNING")
    from bench.monitoring import setup as monitoring_setup
    from bench.run import build_schema, make_app
    from portal.extensions import db
    from portal.reference.services import load_reference
    from portal.seed.demo import bulk_insert_registry

    app = make_app(f"sqlite:///{path}")
    build_schema(app)
    started = time.perf_counter()
    with app.app_context():
        load_reference()
        db.session.commit()
        bulk_insert_registry(size, SEED, date.today(), lambda done, total: None)
        usccs = [u for (u,) in db.session.execute(db.text("SELECT uscc FROM enterprises ORDER BY random() LIMIT 500"))]
    info = monitoring_setup(app)
    with app.app_context():
        # What the envcode-refresh job does in production: without it the first view of each enterprise page
        # writes its environmental code, and a GET that writes waits behind a long import on SQLite.
        from portal.envcode.services import refresh_all

        refresh_all()
        db.session.commit()
        with db.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
        db.engine.dispose()
    info.update(usccs=usccs, size=size, seed_seconds=round(time.perf_counter() - started, 1))
    os.replace(path, final)
    info_path.write_text(json.dumps(info))
    print(f"  seeded {size:,} enterprises in {info['seed_seconds']} s")
    return info


def working_copy(size: int, name: str) -> Path:
    """This run's own copy of the seed (bench/dbs.py: a name that exists is refused; dropped at exit)."""
    dbs.create("sqlite", name)
    work = dbs.sqlite_path(name)
    shutil.copyfile(seeded_path(size), work)
    return work


# ---------------------------------------------------------------- clients

class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.samples: dict[str, list[float]] = {}
        self.errors: dict[str, dict[str, int]] = {}

    def add(self, kind: str, seconds: float, error: str | None = None) -> None:
        with self.lock:
            if error:
                bucket = self.errors.setdefault(kind, {})
                bucket[error] = bucket.get(error, 0) + 1
            else:
                self.samples.setdefault(kind, []).append(seconds)

    def summary(self, wall: float) -> dict:
        out = {}
        for kind in sorted(set(self.samples) | set(self.errors)):
            values = sorted(self.samples.get(kind, []))
            errors = self.errors.get(kind, {})
            out[kind] = {"ok": len(values), "errors": sum(errors.values()), "error_kinds": errors,
                         "per_s": round(len(values) / wall, 1),
                         "p50_ms": round(statistics.median(values) * 1000, 1) if values else None,
                         "p95_ms": round(values[int(0.95 * (len(values) - 1))] * 1000, 1) if values else None,
                         "max_ms": round(values[-1] * 1000, 1) if values else None}
        return out


def timed_get(conn_box: list, port: int, path: str) -> tuple[int, float]:
    started = time.perf_counter()
    for attempt in (1, 2):
        try:
            conn_box[0].request("GET", path)
            response = conn_box[0].getresponse()
            response.read()
            return response.status, time.perf_counter() - started
        except (OSError, http.client.HTTPException):
            conn_box[0].close()
            conn_box[0] = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def search_client(port: int, stats: Stats, stop: threading.Event, rng: random.Random) -> None:
    box = [http.client.HTTPConnection("127.0.0.1", port, timeout=60)]
    while not stop.is_set():
        query = f"/api/v1/enterprises?q={rng.choice(SEARCH_TERMS)}&per_page=20"
        region = rng.choice(REGIONS)
        query += f"&region={region}" if region else ""
        query = query.replace("per_page=20", f"per_page={rng.choice((10, 20, 50))}")
        _record(stats, "search API", lambda: timed_get(box, port, http_path(query)), (200,))


def http_path(path: str) -> str:
    from urllib.parse import quote

    return quote(path, safe="/?&=")


def page_client(port: int, stats: Stats, stop: threading.Event, rng: random.Random, usccs: list[str]) -> None:
    box = [http.client.HTTPConnection("127.0.0.1", port, timeout=60)]
    while not stop.is_set():
        uscc = rng.choice(usccs)
        _record(stats, "enterprise page", lambda: timed_get(box, port, f"/enterprises/{uscc}"), (200,))


def _record(stats: Stats, kind: str, call, expected: tuple[int, ...]) -> None:
    try:
        status, seconds = call()
    except (OSError, http.client.HTTPException) as exc:
        stats.add(kind, 0, type(exc).__name__)
        return
    stats.add(kind, seconds, None if status in expected else str(status))


def complaint_client(port: int, stats: Stats, stop: threading.Event, rng: random.Random) -> None:
    phone = PhoneClient(port)
    n = 0
    while not stop.is_set():
        n += 1
        started = time.perf_counter()
        try:
            status, _, page = phone.request("GET", "/complaints/new")
            html = page.decode("utf-8", "replace")
            token, key = phone.TOKEN.search(html), phone.KEY.search(html)
            if status != 200 or not token or not key:
                stats.add("complaint intake", 0, f"GET {status}")
                continue
            fields = [("csrf_token", token.group(1) or token.group(2)), ("submission_key", key.group(1) or key.group(2)),
                      ("category", "water"), ("reported_name", f"无名小作坊{n}"), ("reported_address", "涟水县某村河边"),
                      ("region_code", "320826"), ("description", "夜间有黑色污水从暗管排入河道，气味刺鼻。"),
                      ("website", ""), ("identity", "anonymous")]
            body, content_type = multipart(fields, b"")  # no photo: bench/complaints.py measures uploads
            body = body.replace(b'filename="IMG_0001.jpg"', b'filename=""')
            status, location, _ = phone.request("POST", "/complaints/new", body, {"Content-Type": content_type})
        except (OSError, http.client.HTTPException) as exc:
            stats.add("complaint intake", 0, type(exc).__name__)
            continue
        ok = status == 302 and "/complaints/receipt" in location
        stats.add("complaint intake", time.perf_counter() - started, None if ok else str(status))


def hj212_client(port: int, stats: Stats, stop: threading.Event, info: dict, packets: int) -> None:
    from portal.monitoring.hj212 import build_frame

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    # Past hours (a DataTime ahead of now is refused as bad_time): a year of back-fill for each client.
    hour = datetime(2025, 1, 1) + timedelta(hours=random.randrange(8000))
    while not stop.is_set():
        frames = []
        for _ in range(packets):
            hour += timedelta(hours=1)
            code = list(OUTLETS)[len(frames) % len(OUTLETS)]
            items = ";".join(f"{p}-Avg=1.5,{p}-Flag=N" for p in OUTLETS[code])
            frames.append(build_frame(f"QN={hour:%Y%m%d%H%M%S}{len(frames):03d};ST=32;CN=2061;PW=123456;"
                                      f"MN={info['devices'][code]};Flag=4;CP=&&DataTime={hour:%Y%m%d%H%M%S};"
                                      f"{items}&&"))
        started = time.perf_counter()
        try:
            conn.request("POST", "/api/v1/monitoring/hj212", body=b"".join(frames),
                         headers={"Content-Type": "text/plain"})
            response = conn.getresponse()
            data = json.loads(response.read() or b"{}")
        except (OSError, http.client.HTTPException, ValueError) as exc:
            stats.add("HJ 212 ingest", 0, type(exc).__name__)
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            continue
        accepted = data.get("meta", {}).get("accepted")
        ok = response.status == 200 and accepted == packets
        stats.add("HJ 212 ingest", time.perf_counter() - started,
                  None if ok else f"{response.status} accepted {accepted}")


def run_phase(port: int, seconds: float, info: dict, kinds: set[str], packets: int) -> dict:
    stats, stop = Stats(), threading.Event()
    rng = random.Random(SEED)
    threads = []
    if "search" in kinds:
        threads += [threading.Thread(target=search_client, args=(port, stats, stop, random.Random(rng.random())))
                    for _ in range(2)]
    if "pages" in kinds:
        threads.append(threading.Thread(target=page_client, args=(port, stats, stop, random.Random(rng.random()),
                                                                  info["usccs"])))
    if "complaints" in kinds:
        threads.append(threading.Thread(target=complaint_client, args=(port, stats, stop, random.Random(1))))
    if "hj212" in kinds:
        threads.append(threading.Thread(target=hj212_client, args=(port, stats, stop, info, packets)))
    started = time.perf_counter()
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join(timeout=120)
    wall = time.perf_counter() - started
    return {"seconds": round(wall, 1), "clients": len(threads), "kinds": stats.summary(wall)}


# ---------------------------------------------------------------- background import

IMPORT_CHILD = r"""
import sys, time
from pathlib import Path
from portal import create_app
from portal.extensions import db
from portal.enterprises.models import Enterprise
from portal.monitoring import imports, manual
url, csv_path, uscc = sys.argv[1:4]
app = create_app({"SQLALCHEMY_DATABASE_URI": url, "MONITORING_UPLOAD_DIR": str(Path(csv_path).parent)})
with app.app_context():
    ent = db.session.scalar(db.select(Enterprise).where(Enterprise.uscc == uscc))
    job = imports.queue(None, ent, Path(csv_path).name, "load-bench.csv")
    db.session.commit()
    t0 = time.perf_counter()
    print("check", imports.process(job.id), flush=True)
    job = db.session.get(imports.ImportJob, job.id)
    imports.request_commit(job)
    db.session.commit()
    print("write", imports.process(job.id), flush=True)
    job = db.session.get(imports.ImportJob, job.id)
    print("result", job.rows_total, (job.result or {}).get("inserted"), round(time.perf_counter() - t0, 1), flush=True)
"""


def write_import_csv(path: Path, values: int) -> None:
    start = datetime(2020, 1, 1)
    per_hour = sum(len(p) for p in OUTLETS.values())
    with path.open("w", encoding="utf-8") as fh:
        fh.write("排放口编码,污染物编码,采样时间,监测结果,监测完成日期\n")
        for h in range(values // per_hour):
            t = start + timedelta(hours=h)
            for code, pollutants in OUTLETS.items():
                for p in pollutants:
                    fh.write(f"{code},{p},{t:%Y-%m-%d %H:%M},{1 + (h * 7919 + len(p)) % 50 / 10},{t.date()}\n")


def run_import_phase(port: int, url: str, info: dict, values: int, packets: int, max_seconds: float) -> dict:
    uploads = OUT / f"load_uploads_{os.getpid()}"
    shutil.rmtree(uploads, ignore_errors=True)
    uploads.mkdir(parents=True)
    csv_path = uploads / "load-import-token"
    write_import_csv(csv_path, values)
    env = {**os.environ, "PORTAL_LOG_LEVEL": "WARNING"}
    child = subprocess.Popen([sys.executable, "-c", IMPORT_CHILD, url, str(csv_path), info["uscc"]], cwd=ROOT, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    stats, stop = Stats(), threading.Event()
    threads = [threading.Thread(target=search_client, args=(port, stats, stop, random.Random(i))) for i in range(2)]
    threads.append(threading.Thread(target=page_client, args=(port, stats, stop, random.Random(9), info["usccs"])))
    started = time.perf_counter()
    for t in threads:
        t.start()
    try:
        out, _ = child.communicate(timeout=max_seconds)
        out = "\n".join(line for line in out.splitlines() if "WARNING" not in line)
    except subprocess.TimeoutExpired:
        child.kill()
        out, _ = child.communicate()
        out += "\n(import stopped: --import-max-seconds reached)"
    stop.set()
    for t in threads:
        t.join(timeout=120)
    wall = time.perf_counter() - started
    shutil.rmtree(uploads, ignore_errors=True)
    return {"seconds": round(wall, 1), "import_values": values, "import_output": out.strip().splitlines()[-4:],
            "kinds": stats.summary(wall)}


# ---------------------------------------------------------------- main

def print_table(title: str, phase: dict) -> None:
    print(f"\n{title} ({phase['seconds']} s, {phase.get('clients', 3)} client threads)")
    print(f"  {'kind':<18}{'ok':>7}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}{'errors':>8}")
    for kind, s in phase["kinds"].items():
        print(f"  {kind:<18}{s['ok']:>7}{s['per_s']:>8}{s['p50_ms'] or '-':>9}{s['p95_ms'] or '-':>9}"
              f"{s['max_ms'] or '-':>9}{s['errors']:>8}  {s['error_kinds'] or ''}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=20000, help="seeded enterprises (default 20,000)")
    parser.add_argument("--seconds", type=float, default=20, help="duration of the mixed phase (default 20)")
    parser.add_argument("--packets", type=int, default=10, help="HJ 212 packets per request (default 10)")
    parser.add_argument("--import-values", type=int, default=25000,
                        help="rows of the background manual-results import (default 25,000)")
    parser.add_argument("--import-max-seconds", type=float, default=90, help="cap on the import phase (default 90)")
    parser.add_argument("--workers", type=int, default=2)
    dbs.add_arguments(parser, "load")
    args = parser.parse_args()
    dbs.configure(args)
    OUT.mkdir(parents=True, exist_ok=True)
    print(f"== load test: {args.size:,} enterprises, gunicorn -w {args.workers}, SQLite")
    info = seed(args.size)
    work = working_copy(args.size, args.db_name)
    url = f"sqlite:///{work}"
    port = free_port()
    env = {**os.environ, "PORTAL_DATABASE_URL": url, "PORTAL_LOG_LEVEL": "WARNING",
           "PORTAL_COMPLAINT_RATE_LIMIT": "100000 per minute", "PORTAL_MONITORING_HJ212_RATE_LIMIT": "100000 per minute",
           "PORTAL_MAIL_DIR": str(OUT / f"{args.db_name}_mail"),
           "PORTAL_COMPLAINT_UPLOAD_DIR": str(OUT / f"{args.db_name}_complaints")}
    env.pop("PORTAL_RATELIMIT_ENABLED", None)  # the limiter stays on; the two public POST limits are raised
    log = (OUT / f"gunicorn_{args.db_name}.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", str(args.workers), "-b", f"127.0.0.1:{port}",
                             "--timeout", "120", "wsgi:app"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_ready(port, proc)
        run_phase(port, 2, info, {"search", "pages", "complaints", "hj212"}, args.packets)  # warm-up, not recorded
        mixed = run_phase(port, args.seconds, info, {"search", "pages", "complaints", "hj212"}, args.packets)
        print_table("Phase 1: mixed load", mixed)
        quiet = run_phase(port, min(args.seconds, 8), info, {"search", "pages"}, args.packets)
        print_table("Phase 2a: search + pages only (baseline for the import phase)", quiet)
        during = run_import_phase(port, url, info, args.import_values, args.packets, args.import_max_seconds)
        print_table(f"Phase 2b: search + pages while a {args.import_values:,}-row manual import runs", during)
        print("  import:", " | ".join(during["import_output"]))
    finally:
        stop_server(proc)
        log.close()
        shutil.rmtree(OUT / f"{args.db_name}_mail", ignore_errors=True)
        shutil.rmtree(OUT / f"{args.db_name}_complaints", ignore_errors=True)
    base, imp = quiet["kinds"].get("search API", {}), during["kinds"].get("search API", {})
    print(f"\nsearch p95: {base.get('p95_ms')} ms without the import, {imp.get('p95_ms')} ms during it; "
          f"errors in all phases: {sum(k['errors'] for p in (mixed, quiet, during) for k in p['kinds'].values())}")
    result = {"run_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "cpus": os.cpu_count(),
              "load_average": os.getloadavg()[0], "args": vars(args), "mixed": mixed, "baseline": quiet,
              "during_import": during}
    (OUT / "load.json").write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    print(f"wrote {OUT / 'load.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
