#!/usr/bin/env python3
"""Public-search benchmark (PRODUCT §4, first row): in-process p50/p95 and HTTP requests/s, SQLite and PostgreSQL.

    .venv/bin/python bench/run.py                      # sizes 100k and 1M, SQLite and (if it answers) PostgreSQL
    .venv/bin/python bench/run.py --sizes 10000 --dbs sqlite --http-seconds 3      # a quick smoke run

Each run seeds databases of its own (<db-name>_<size>, default bench_run_<pid>_<size>) and drops them at exit;
`--keep --db-name NAME` keeps them, and a later run with the same --db-name reuses a database that holds exactly the
requested number of enterprises (a database of that name holding anything else is refused, never dropped).
The HTTP ratio is measured interleaved: alternating short wrk slices of /healthz and of the search mix, so both see
the same machine load. Results: a table on stdout and bench/out/results.json. See bench/README.md.
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
sys.path.insert(0, str(ROOT / "bench"))

import area  # noqa: E402  (bench/area.py: search by area, beside the search figures)
import dbs  # noqa: E402  (bench/dbs.py: per-run database names, never drops what it did not create)
from dbs import PG_HOST, PG_PORT, pg_answers  # noqa: E402,F401  (other benches import them from here)

SEED = 2024
GOAL_P95_MS = 50.0
GOAL_RATIO = 0.5
SLICE_SECONDS = 2  # one wrk slice of the interleaved ratio


# ---------------------------------------------------------------- databases

def db_name(base: str, size: int) -> str:
    return f"{base}_{size}"


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


def seed(kind: str, size: int, name: str) -> dict:
    """Reuse a kept database `name` that holds exactly `size` enterprises; refuse one that holds anything else;
    otherwise create it and seed it with the seed-demo fast path."""
    if dbs.exists(kind, name) and (kind, name) not in dbs._created:
        app = make_app(dbs.open_existing(kind, name))
        found = enterprise_count(app)
        if found != size:
            raise SystemExit(f"{kind} database {name!r} exists with {found} enterprises, not {size}: choose another "
                             "--db-name (benches never drop a database they did not create)")
        print(f"  reusing {kind} database {name} with {size:,} enterprises (migrating it to the current schema)")
        build_schema(app)
        with app.app_context():
            from portal.extensions import db

            db.engine.dispose()
        return {"reused": True}
    app = make_app(dbs.create(kind, name))
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


def _ms(text: str | None) -> float | None:
    """A wrk duration ("850.00us", "1.23ms", "2.01s") in milliseconds."""
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text or "")
    if not match:
        return None
    return float(match.group(1)) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[match.group(2)]


def run_wrk(url: str, seconds: int, script: str | None = None) -> dict:
    cmd = ["wrk", "-t2", "-c8", f"-d{seconds}s", "--timeout", "30s", "--latency"]
    if script:
        cmd += ["-s", script]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout
    done = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", out)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    lat = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", out, re.M))
    return {"rps": round(rps, 1), "requests": int(done.group(1)),
            "seconds": _ms(done.group(2) + done.group(3)) / 1000, "non_2xx": int(bad.group(1)) if bad else 0,
            "socket_errors": errors.group(0) if errors else "", "p50_ms": _ms(lat.get("50")),
            "p99_ms": _ms(lat.get("99"))}


def combine(slices: list[dict]) -> dict:
    """One endpoint's figures over its slices: requests / seconds summed, the median slice p50, the worst p99."""
    requests, seconds = sum(s["requests"] for s in slices), sum(s["seconds"] for s in slices)
    p50s = [s["p50_ms"] for s in slices if s["p50_ms"] is not None]
    p99s = [s["p99_ms"] for s in slices if s["p99_ms"] is not None]
    return {"rps": round(requests / seconds, 1) if seconds else 0.0, "requests": requests,
            "seconds": round(seconds, 2), "slices": len(slices), "non_2xx": sum(s["non_2xx"] for s in slices),
            "socket_errors": "; ".join(s["socket_errors"] for s in slices if s["socket_errors"]),
            "p50": f"{statistics.median(p50s):.2f}ms" if p50s else None,
            "p99": f"{max(p99s):.2f}ms" if p99s else None}


def interleaved(trivial_url: str, measured_url: str, script: str, seconds: int,
                slice_seconds: int = SLICE_SECONDS) -> tuple[dict, dict, list[float]]:
    """Alternate short wrk slices of the trivial endpoint and the measured one (A B B A A B ...: each pair's order
    flips, so a drift in the machine's load weighs on both alike) until each had `seconds`. Returns both combined
    figures and each pair's ratio (their spread shows how steady the machine was)."""
    pairs = max(1, round(seconds / slice_seconds))
    trivial, measured, ratios = [], [], []
    for i in range(pairs):
        order = ("t", "m") if i % 2 == 0 else ("m", "t")
        got = {}
        for which in order:
            got[which] = (run_wrk(trivial_url, slice_seconds) if which == "t"
                          else run_wrk(measured_url, slice_seconds, script))
        trivial.append(got["t"])
        measured.append(got["m"])
        if got["t"]["rps"]:
            ratios.append(round(got["m"]["rps"] / got["t"]["rps"], 3))
    return combine(trivial), combine(measured), ratios


def bench_http(kind: str, size: int, url: str, mix: list[dict], seconds: int, cache: bool = True) -> dict:
    """wrk against gunicorn -w 2. With cache=False the search API's response cache is off (PORTAL_SEARCH_CACHE_SIZE=0),
    so every request runs the query: the cold figure, reported next to the cached one."""
    if not shutil.which("wrk"):
        return {"skipped": "wrk is not installed (scripts/system-deps.sh bench installs it)"}
    port = free_port()
    env = {**os.environ, "PORTAL_DATABASE_URL": url, "PORTAL_RATELIMIT_ENABLED": "false",
           "PORTAL_LOG_LEVEL": "WARNING", "PORTAL_SEARCH_CACHE_SIZE": "2048" if cache else "0"}
    paths = []
    for item in mix:
        query = {k: v for k, v in (("q", item["q"]), ("region", item["region"])) if v}
        paths.append("/api/v1/enterprises?" + urllib.parse.urlencode({**query, "per_page": 20}))
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write("local paths = {" + ", ".join(json.dumps(p) for p in paths) + "}\n"
                  "local i = 0\nrequest = function()\n  i = i + 1\n"
                  "  return wrk.format('GET', paths[(i % #paths) + 1])\nend\n")
    log = (OUT / f"gunicorn_{url.rsplit('/', 1)[1].split('.')[0]}{'' if cache else '_nocache'}.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}", "wsgi:app"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_ready(port, proc)
        base = f"http://127.0.0.1:{port}"
        status = urllib.request.urlopen(base + paths[0], timeout=30).status  # raises on 4xx/5xx
        if cache:  # fill both workers' caches: each path several times (a worker misses each URL once)
            for _ in range(4):
                for path in paths:
                    urllib.request.urlopen(base + path, timeout=120).read()
        run_wrk(base + "/", 2, lua.name)  # warm-up, not recorded
        trivial, search, ratios = interleaved(base + "/healthz", base + "/", lua.name, seconds)
    except urllib.error.HTTPError as exc:
        return {"skipped": f"/api/v1/enterprises answered {exc.code}"}
    finally:
        stop_server(proc)
        os.unlink(lua.name)
        log.close()
    return {"status": status, "search": search, "healthz": trivial, "slice_ratios": ratios,
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
    parser.add_argument("--http-seconds", type=int, default=10,
                        help=f"wrk time per endpoint, in alternating {SLICE_SECONDS}-second slices; 0 skips HTTP")
    dbs.add_arguments(parser, "run")
    args = parser.parse_args()
    dbs.configure(args)
    OUT.mkdir(parents=True, exist_ok=True)
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s]
    kinds = [k.strip() for k in args.dbs.split(",") if k.strip()]
    if "postgresql" in kinds and not pg_answers():
        print(f"PostgreSQL does not answer on {PG_HOST}:{PG_PORT}: SQLite only")
        kinds.remove("postgresql")
    runs = []
    for kind in kinds:
        for size in sizes:
            name = db_name(args.db_name, size)
            print(f"== {kind}, {size:,} enterprises (database {name})")
            seeding = seed(kind, size, name)
            url = dbs.url(kind, name)
            app = make_app(url)
            mix = query_mix(app)
            search = bench_in_process(app, mix, args.repeat)
            with app.app_context():
                from portal.extensions import db

                db.engine.dispose()
            print(f"  in process: p50 {search['p50_ms']} ms, p95 {search['p95_ms']} ms over {search['samples']} runs")
            area_app = make_app(url)
            area_result = area.bench_area(area_app, args.repeat, percentile)  # search by area (bench/area.py)
            with area_app.app_context():
                from portal.extensions import db

                db.engine.dispose()
            print(f"  area search: p50 {area_result['p50_ms']} ms, p95 {area_result['p95_ms']} ms over "
                  f"{area_result['samples']} runs")
            if args.http_seconds > 0:
                http = bench_http(kind, size, url, mix, args.http_seconds)
                cold = bench_http(kind, size, url, mix, args.http_seconds, cache=False)
            else:
                http = cold = {"skipped": "--http-seconds 0"}
            for label, h_run in (("http (cache on)", http), ("http (cache off)", cold)):
                if "skipped" in h_run:
                    print(f"  {label}: skipped, {h_run['skipped']}")
                    continue
                s, h = h_run["search"], h_run["healthz"]
                print(f"  {label}: search {s['rps']} req/s (p50 {s['p50']}, p99 {s['p99']}, non-2xx {s['non_2xx']}"
                      f"{', ' + s['socket_errors'] if s['socket_errors'] else ''}), healthz {h['rps']} req/s, "
                      f"ratio {h_run['ratio']} (slice pairs {min(h_run['slice_ratios'], default=0)}-"
                      f"{max(h_run['slice_ratios'], default=0)})")
            runs.append({"db": kind, "size": size, "seed": seeding, "search": search, "area": area_result,
                         "http": http, "http_no_cache": cold})
    result = {"run_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "python": platform.python_version(),
              "cpus": os.cpu_count(), "goals": {"p95_ms": GOAL_P95_MS, "http_ratio": GOAL_RATIO}, "runs": runs}
    (OUT / "results.json").write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    print_report(runs)
    area.print_area(runs, GOAL_P95_MS)
    print(f"\nwrote {OUT / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
