#!/usr/bin/env python3
"""Public-search benchmark (PRODUCT §4, first row): in-process p50/p95 and HTTP requests/s, SQLite and PostgreSQL.

    .venv/bin/python bench/run.py                      # sizes 100k and 1M, SQLite and (if it answers) PostgreSQL
    .venv/bin/python bench/run.py --sizes 10000 --dbs sqlite --http-seconds 3      # a quick smoke run

Seeded databases are kept (bench/out/*.sqlite3, PostgreSQL databases bench_<size>) and reused when they hold exactly
the requested number of enterprises. Results: a table on stdout and bench/out/results.json. See bench/README.md.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from datetime import date, datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT))

PG_HOST, PG_PORT, PG_USER = "127.0.0.1", 5432, os.environ.get("BENCH_PG_USER", "postgres")
SEED = 2024
GOAL_P95_MS = 50.0
GOAL_RATIO = 0.5


# ---------------------------------------------------------------- databases

def pg_answers() -> bool:
    try:
        with socket.create_connection((PG_HOST, PG_PORT), timeout=1):
            return True
    except OSError:
        return False


def db_url(kind: str, size: int) -> str:
    if kind == "sqlite":
        return f"sqlite:///{OUT / f'bench_{size}.sqlite3'}"
    return f"postgresql+psycopg://{PG_USER}@{PG_HOST}:{PG_PORT}/bench_{size}"


def recreate_database(kind: str, size: int) -> None:
    if kind == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{OUT / f'bench_{size}.sqlite3'}{suffix}").unlink(missing_ok=True)
        return
    args = ["-h", PG_HOST, "-p", str(PG_PORT), "-U", PG_USER]
    subprocess.run(["dropdb", *args, "--if-exists", f"bench_{size}"], check=True)
    subprocess.run(["createdb", *args, "-E", "UTF8", "-T", "template0", f"bench_{size}"], check=True)


def make_app(url: str):
    os.environ.setdefault("PORTAL_LOG_LEVEL", "WARNING")
    from portal import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False})


def build_schema(app) -> None:
    """The migrations when there are any (what production runs), else create_all + the full-text DDL."""
    from portal.extensions import db
    from portal.search import ddl

    with app.app_context():
        if any((ROOT / "migrations" / "versions").glob("*.py")):
            from flask_migrate import upgrade

            upgrade(directory=str(ROOT / "migrations"))
        else:
            db.create_all()
            with db.engine.begin() as conn:
                ddl.create(conn)


def enterprise_count(app) -> int | None:
    import sqlalchemy as sa

    from portal.extensions import db

    with app.app_context():
        if not sa.inspect(db.engine).has_table("enterprises"):
            return None
        return db.session.scalar(sa.text("SELECT count(*) FROM enterprises"))


def seed(kind: str, size: int) -> dict:
    """Reuse a database that holds exactly `size` enterprises; otherwise rebuild it with the seed-demo fast path."""
    url = db_url(kind, size)
    if kind == "postgresql":
        exists = subprocess.run(["psql", "-h", PG_HOST, "-p", str(PG_PORT), "-U", PG_USER, "-tAc",
                                 f"SELECT 1 FROM pg_database WHERE datname = 'bench_{size}'", "postgres"],
                                capture_output=True, text=True).stdout.strip() == "1"
        if not exists:
            recreate_database(kind, size)
    app = make_app(url)
    if enterprise_count(app) == size:
        print(f"  reusing {kind} database with {size:,} enterprises (migrating it to the current schema)")
        build_schema(app)
        return {"reused": True}
    with app.app_context():
        from portal.extensions import db

        db.engine.dispose()
    recreate_database(kind, size)
    app = make_app(url)
    build_schema(app)
    from portal.extensions import db
    from portal.reference.services import load_reference
    from portal.seed.demo import bulk_insert_registry

    last = [time.perf_counter()]

    def progress(done: int, total: int) -> None:
        if done == total or time.perf_counter() - last[0] > 15:
            last[0] = time.perf_counter()
            print(f"    {done:>9,} / {total:,}", flush=True)

    with app.app_context():
        load_reference()
        db.session.commit()
        started = time.perf_counter()
        summary = bulk_insert_registry(size, SEED, date.today(), progress)
        seconds = time.perf_counter() - started
        with db.engine.connect() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            conn.exec_driver_sql("VACUUM ANALYZE" if kind == "postgresql" else "ANALYZE")
    rows = summary.enterprises + summary.permits + summary.outlets + summary.limits + summary.key_units
    print(f"  seeded {size:,} enterprises ({rows:,} rows) in {seconds:.0f} s = {size / seconds:,.0f} enterprises/s")
    return {"reused": False, "seconds": round(seconds, 1), "rows": rows, "enterprises_per_s": round(size / seconds)}


# ---------------------------------------------------------------- query mix

def query_mix(app) -> list[dict]:
    """Fixed fragments plus a rare full name and a USCC taken from the middle of the seeded data."""
    import sqlalchemy as sa

    from portal.extensions import db

    with app.app_context():
        mid = db.session.execute(sa.text("SELECT name, uscc FROM enterprises ORDER BY id LIMIT 1 OFFSET "
                                         "(SELECT count(*) / 2 FROM enterprises)")).one()
    return [
        {"label": "2-char common", "q": "化工", "region": ""},
        {"label": "2-char brand", "q": "华能", "region": ""},
        {"label": "4-char", "q": "精细化工", "region": ""},
        {"label": "3-char", "q": "热电有", "region": ""},
        {"label": "rare full name", "q": mid.name, "region": ""},
        {"label": "very common", "q": "有限公司", "region": ""},
        {"label": "USCC", "q": mid.uscc, "region": ""},
        {"label": "1-char", "q": "鑫", "region": ""},
        {"label": "2-char + city", "q": "化工", "region": "3208"},
        {"label": "2-char + province", "q": "热电", "region": "15"},
        {"label": "common + province", "q": "有限公司", "region": "21"},
        {"label": "county only", "q": "", "region": "320826"},
    ]


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))]


def bench_in_process(app, mix: list[dict], repeat: int) -> dict:
    from portal.extensions import db
    from portal.search.queries import SearchParams, search_enterprises

    rows, everything = [], []
    with app.app_context():
        for item in mix:
            params = SearchParams(q=item["q"], region=item["region"], per_page=20)
            result = None
            for _ in range(3):  # warm caches
                result = search_enterprises(params)
                db.session.rollback()
            samples = []
            for _ in range(repeat):
                t0 = time.perf_counter()
                result = search_enterprises(params)
                _ = [e.uscc for e in result.items]
                samples.append((time.perf_counter() - t0) * 1000)
                db.session.rollback()
            everything += samples
            rows.append({**item, "total": result.total, "capped": result.total_is_capped, "mode": result.mode,
                         "p50_ms": round(statistics.median(samples), 2), "p95_ms": round(percentile(samples, 95), 2)})
    return {"queries": rows, "p50_ms": round(statistics.median(everything), 2),
            "p95_ms": round(percentile(everything, 95), 2), "samples": len(everything)}


# ---------------------------------------------------------------- HTTP

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(port: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("gunicorn exited during start-up")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("gunicorn did not answer /healthz")


def stop_server(proc: subprocess.Popen) -> None:
    """Terminate a gunicorn master (and its workers), killing it when it does not stop within 15 s."""
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()


def run_wrk(url: str, seconds: int, script: str | None = None) -> dict:
    cmd = ["wrk", "-t2", "-c8", f"-d{seconds}s", "--timeout", "30s", "--latency"]
    if script:
        cmd += ["-s", script]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    lat = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", out, re.M))
    return {"rps": round(rps, 1), "non_2xx": int(bad.group(1)) if bad else 0,
            "socket_errors": errors.group(0) if errors else "", "p50": lat.get("50"), "p99": lat.get("99")}


def bench_http(kind: str, size: int, mix: list[dict], seconds: int, cache: bool = True) -> dict:
    """wrk against gunicorn -w 2. With cache=False the search API's response cache is off (PORTAL_SEARCH_CACHE_SIZE=0),
    so every request runs the query: the cold figure, reported next to the cached one."""
    if not shutil.which("wrk"):
        return {"skipped": "wrk is not installed (scripts/system-deps.sh bench installs it)"}
    port = free_port()
    env = {**os.environ, "PORTAL_DATABASE_URL": db_url(kind, size), "PORTAL_RATELIMIT_ENABLED": "false",
           "PORTAL_LOG_LEVEL": "WARNING", "PORTAL_SEARCH_CACHE_SIZE": "2048" if cache else "0"}
    paths = []
    for item in mix:
        query = {k: v for k, v in (("q", item["q"]), ("region", item["region"])) if v}
        paths.append("/api/v1/enterprises?" + urllib.parse.urlencode({**query, "per_page": 20}))
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write("local paths = {" + ", ".join(json.dumps(p) for p in paths) + "}\n"
                  "local i = 0\nrequest = function()\n  i = i + 1\n"
                  "  return wrk.format('GET', paths[(i % #paths) + 1])\nend\n")
    log = (OUT / f"gunicorn_{kind}_{size}{'' if cache else '_nocache'}.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}", "wsgi:app"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_ready(port, proc)
        base = f"http://127.0.0.1:{port}"
        status = urllib.request.urlopen(base + paths[0], timeout=30).status  # raises on 4xx/5xx
        trivial = run_wrk(base + "/healthz", seconds)  # first, so no queued slow search can hold it up
        if cache:  # fill both workers' caches: each path several times (a worker misses each URL once)
            for _ in range(4):
                for path in paths:
                    urllib.request.urlopen(base + path, timeout=120).read()
        run_wrk(base + "/", 2, lua.name)  # warm-up, not recorded
        search = run_wrk(base + "/", seconds, lua.name)
    except urllib.error.HTTPError as exc:
        return {"skipped": f"/api/v1/enterprises answered {exc.code}"}
    finally:
        stop_server(proc)
        os.unlink(lua.name)
        log.close()
    return {"status": status, "search": search, "healthz": trivial,
            "ratio": round(search["rps"] / trivial["rps"], 3) if trivial["rps"] else None}


# ---------------------------------------------------------------- report

def print_report(runs: list[dict]) -> None:
    print()
    print(f"{'db':<11}{'enterprises':>12}  {'query':<19}{'q':<24}{'region':<8}{'hits':>8}  {'p50 ms':>7} {'p95 ms':>7}")
    for run in runs:
        for row in run["search"]["queries"]:
            hits = f"{row['total']:,}{'+' if row['capped'] else ''}" if row["total"] is not None else "-"
            print(f"{run['db']:<11}{run['size']:>12,}  {row['label']:<19}{row['q'][:22]:<24}{row['region']:<8}"
                  f"{hits:>8}  {row['p50_ms']:>7.2f} {row['p95_ms']:>7.2f}")
    print()
    print(f"{'db':<11}{'enterprises':>12}  {'search p50':>10} {'p95':>7}  {'search req/s':>12} {'healthz req/s':>13} "
          f"{'ratio':>6} {'no-cache':>8}  goals (p95 <= {GOAL_P95_MS:.0f} ms, ratio >= {GOAL_RATIO:.0%}, cache on)")
    for run in runs:
        s, h = run["search"], run["http"]
        if "skipped" in h or not h.get("ratio"):
            http_cols, ok_ratio = f"{'-':>12} {'-':>13} {'-':>6}", None
            h = {"skipped": h.get("skipped") or "no completed requests (see results.json)"}
        else:
            http_cols = f"{h['search']['rps']:>12,.0f} {h['healthz']['rps']:>13,.0f} {h['ratio']:>6.2f}"
            ok_ratio = h["ratio"] >= GOAL_RATIO and h["search"]["non_2xx"] == 0
        verdict = ["p95 OK" if s["p95_ms"] <= GOAL_P95_MS else "p95 MISSED",
                   {True: "ratio OK", False: "ratio MISSED", None: "http " + h.get("skipped", "")}[ok_ratio]]
        cold = run.get("http_no_cache") or {}
        cold_col = f"{cold['ratio']:>8.2f}" if cold.get("ratio") else f"{'-':>8}"
        print(f"{run['db']:<11}{run['size']:>12,}  {s['p50_ms']:>10.2f} {s['p95_ms']:>7.2f}  {http_cols} {cold_col}  "
              + ", ".join(verdict))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100000,1000000", help="comma-separated enterprise counts")
    parser.add_argument("--dbs", default="sqlite,postgresql", help="sqlite and/or postgresql")
    parser.add_argument("--repeat", type=int, default=30, help="timed runs per query (in process)")
    parser.add_argument("--http-seconds", type=int, default=10, help="wrk duration per endpoint")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s]
    kinds = [k.strip() for k in args.dbs.split(",") if k.strip()]
    if "postgresql" in kinds and not pg_answers():
        print(f"PostgreSQL does not answer on {PG_HOST}:{PG_PORT}: SQLite only")
        kinds.remove("postgresql")
    runs = []
    for kind in kinds:
        for size in sizes:
            print(f"== {kind}, {size:,} enterprises")
            seeding = seed(kind, size)
            app = make_app(db_url(kind, size))
            mix = query_mix(app)
            search = bench_in_process(app, mix, args.repeat)
            with app.app_context():
                from portal.extensions import db

                db.engine.dispose()
            print(f"  in process: p50 {search['p50_ms']} ms, p95 {search['p95_ms']} ms over {search['samples']} runs")
            http = bench_http(kind, size, mix, args.http_seconds)
            cold = bench_http(kind, size, mix, args.http_seconds, cache=False)
            for label, h_run in (("http (cache on)", http), ("http (cache off)", cold)):
                if "skipped" in h_run:
                    print(f"  {label}: skipped, {h_run['skipped']}")
                    continue
                s, h = h_run["search"], h_run["healthz"]
                print(f"  {label}: search {s['rps']} req/s (p50 {s['p50']}, p99 {s['p99']}, non-2xx {s['non_2xx']}"
                      f"{', ' + s['socket_errors'] if s['socket_errors'] else ''}), healthz {h['rps']} req/s, "
                      f"ratio {h_run['ratio']}")
            runs.append({"db": kind, "size": size, "seed": seeding, "search": search, "http": http,
                         "http_no_cache": cold})
    result = {"run_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "python": platform.python_version(),
              "cpus": os.cpu_count(), "goals": {"p95_ms": GOAL_P95_MS, "http_ratio": GOAL_RATIO}, "runs": runs}
    (OUT / "results.json").write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    print_report(runs)
    print(f"\nwrote {OUT / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
