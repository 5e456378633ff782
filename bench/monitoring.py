"""Monitoring ingest benchmark (PRODUCT §4): values/s through the HJ 212 path and the CSV path, each with exceedance
detection and roll-ups, beside a bare driver insert of the same rows; memory sampled per batch; then the public
enterprise page on the ingested data.

  .venv/bin/python bench/monitoring.py                       # 657,000 values (3 outlets x 5 pollutants x 5 years hourly)
  .venv/bin/python bench/monitoring.py --values 100000 --dbs sqlite
  .venv/bin/python bench/monitoring.py --values 10000000     # the issue's full size
  .venv/bin/python bench/monitoring.py --values 10000000 --paths hj212 --dbs sqlite   # one path, one database
  .venv/bin/python bench/monitoring.py --values 100000 --dbs sqlite --keep --db-name mon1   # keep the data
  .venv/bin/python bench/monitoring.py --page-only --dbs sqlite --db-name mon1             # the pages on it again
  .venv/bin/python bench/monitoring.py --values 300000 --dbs postgresql --paths backfill --no-floor   # back-fill only

The HJ 212 bodies are generated before timing (that is the devices' work); the timed part is
services.ingest_hj212(body) + commit per request of --packets packets. The CSV path writes a file of the same rows
first, then times manual.commit_upload (check pass + insert pass). The bare insert is a DB-API executemany of the
same value rows into a plain table with the same unique key (no foreign keys, no other index, 8 columns), committed
per batch; the yardstick has stayed the same since the first run, so figures compare across sessions.

Back-fill (issue 19): the same HJ 212 bodies, --backfill-packets (10,000) packets a request, for data ending 30 days
ago, arriving now (older than the back-fill window: stored and rolled up, never judged), into a database of its own
(<name>_bf); timed as the live path. Its yardstick is a bare COPY of the same value rows into an unindexed table
(no key, no index), 50,000 rows per transaction (SQLite: executemany, it has no COPY); printed with the ratio, the
RSS before, after the first request and after the last (flat memory: no growth after the first), and on PostgreSQL
whether the 50,000 values/s goal is met.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
import dbs  # noqa: E402  (per-run database names; never drops what it did not create)

OUTLETS = {"DW001": ("w01018", "w21003", "w21001", "w21011", "w01001"),
           "DW002": ("w01018", "w21003", "w21001", "w21011", "w01001"),
           "DA001": ("a21026", "a21002", "a34013", "a19001", "a00000")}
LIMITS = {"w01018": ("100", "daily"), "w21003": ("15", "daily"), "w21001": ("30", "daily"),
          "w21011": ("1.5", "daily"), "a21026": ("50", "hourly"), "a21002": ("100", "hourly"),
          "a34013": ("10", "hourly")}


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def make_app(kind: str, name: str, keep: bool = False):
    """An app on a new database `name` (bench/dbs.py: refused if it exists, dropped at exit unless --keep), or with
    keep=True on the database a kept earlier run left (--page-only), used as it is."""
    os.environ.setdefault("PORTAL_LOG_LEVEL", "WARNING")
    from portal import create_app

    OUT.mkdir(parents=True, exist_ok=True)  # also the CSV path's file on a PostgreSQL-only run
    url = dbs.open_existing(kind, name) if keep else dbs.create(kind, name)
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False})


CHINA = ZoneInfo("Asia/Shanghai")  # the generated DataTimes are China local


def setup(app) -> dict:
    """Schema, reference data, one enterprise with 3 outlets x 5 pollutants and a device per outlet."""
    from decimal import Decimal

    from portal.enterprises.models import Averaging, Enterprise, Outlet, OutletLimit, OutletType
    from portal.enterprises.rules import uscc_check_char
    from portal.extensions import db
    from portal.monitoring import services
    from portal.reference.services import load_reference

    with app.app_context():
        db.create_all()
        load_reference()
        body = "91320826MA1BENCH0"
        ent = Enterprise(uscc=body + uscc_check_char(body), name="基准测试化工有限公司", region_code="320826",
                         industry_code=db.session.execute(db.text("SELECT code FROM industries LIMIT 1")).scalar())
        db.session.add(ent)
        db.session.flush()
        devices = {}
        for code, pollutants in OUTLETS.items():
            outlet = Outlet(enterprise_id=ent.id, code=code, name=f"{code}排放口", outlet_type=OutletType.MAIN)
            db.session.add(outlet)
            db.session.flush()
            for p in pollutants:
                if p == "w01001":
                    db.session.add(OutletLimit(outlet_id=outlet.id, pollutant_code=p, limit_min=Decimal(6),
                                               limit_max=Decimal(9), unit="无量纲", averaging=Averaging.INSTANT))
                elif p in LIMITS:
                    value, averaging = LIMITS[p]
                    db.session.add(OutletLimit(outlet_id=outlet.id, pollutant_code=p, limit_value=Decimal(value),
                                               unit="mg/L", averaging=Averaging(averaging),
                                               reference_o2=Decimal(6) if code.startswith("DA") else None))
            devices[code] = services.add_device("bench", mn=f"MNBENCH{code}", password="123456", uscc=ent.uscc,
                                                outlet_code=code).mn
        db.session.commit()
        return {"uscc": ent.uscc, "devices": devices}


def hours(n_values: int, start: datetime):
    """Hourly timestamps so that 3 outlets x 5 pollutants x len(hours) = n_values."""
    count = n_values // 15
    return [start + timedelta(hours=h) for h in range(count)]


def _value(code: str, h: int) -> float:
    """Deterministic values well inside the limits, with a spike about once in 2,000 hours (realistic rates)."""
    base = {"w01001": 7.2, "a19001": 9.0, "a00000": 52000.0, "w21011": 0.4, "w21003": 3.0, "a34013": 5.0}.get(code,
                                                                                                           20.0)
    wave = (h * 7919) % 97 / 97
    if code in ("w01001", "a19001"):
        return round(base * (0.95 + wave * 0.1), 3)
    spike = 3.0 if h % 1999 == 1000 and code != "a00000" else 1.0
    return round(base * (0.8 + wave * 0.3) * spike, 3)


def hj212_bodies(setup_info: dict, times: list[datetime], packets_per_body: int):
    from portal.monitoring.hj212 import build_frame

    frames, latest = [], None
    for h, t in enumerate(times):
        latest = t
        stamp = t.strftime("%Y%m%d%H%M%S")
        for code, pollutants in OUTLETS.items():
            items = ";".join(f"{p}-Avg={_value(p, h)},{p}-Flag=N" for p in pollutants)
            qn = t.strftime("%Y%m%d%H%M%S") + f"{list(OUTLETS).index(code):03d}"
            frames.append(build_frame(f"QN={qn};ST=32;CN=2061;PW=123456;MN={setup_info['devices'][code]};Flag=4;"
                                      f"CP=&&DataTime={stamp};{items}&&"))
            if len(frames) >= packets_per_body:
                yield b"".join(frames), latest
                frames = []
    if frames:
        yield b"".join(frames), latest


def run_hj212(app, setup_info: dict, times, packets: int) -> dict:
    from portal.extensions import db
    from portal.monitoring import services

    elapsed, rss, accepted = 0.0, [], 0
    with app.app_context():
        for body, latest in hj212_bodies(setup_info, times, packets):
            # Each request arrives an hour after its newest DataTime, as live data does: the channel treats data
            # older than its back-fill window as back-fill (no incidents), which would skip exceedance detection.
            t0 = time.perf_counter()
            results = services.ingest_hj212(body, now=latest.replace(tzinfo=CHINA) + timedelta(hours=1))
            db.session.commit()
            elapsed += time.perf_counter() - t0
            accepted += sum(r.get("values", 0) for r in results if r["result"] == "accepted")
            rss.append(rss_mb())
    return {"values": accepted, "seconds": elapsed, "rss_first": rss[0], "rss_max": max(rss), "rss_last": rss[-1]}


def run_backfill(app, setup_info: dict, times, packets: int) -> dict:
    """Back-fill through the batch HTTP path: the same HJ 212 bodies, --backfill-packets packets each (10,000 =
    the API's MONITORING_HJ212_MAX_LINES), arriving now for data older than the back-fill window: stored and rolled
    up, never judged (no incidents). Timed: services.ingest_hj212(body) + commit per request."""
    from portal.extensions import db
    from portal.monitoring import services

    elapsed, rss, accepted = 0.0, [rss_mb()], 0
    with app.app_context():
        for body, _latest in hj212_bodies(setup_info, times, packets):
            t0 = time.perf_counter()
            results = services.ingest_hj212(body)
            db.session.commit()
            elapsed += time.perf_counter() - t0
            assert all(r.get("backfill") for r in results if r["result"] == "accepted"), "not back-fill"
            accepted += sum(r.get("values", 0) for r in results if r["result"] == "accepted")
            rss.append(rss_mb())
    # rss[1]: after the first request (its working set: ~50,000 value rows as dicts); flat memory = no growth after it
    return {"values": accepted, "seconds": elapsed, "rss_first": rss[0], "rss_warm": rss[min(1, len(rss) - 1)],
            "rss_max": max(rss), "rss_last": rss[-1], "requests": len(rss) - 1}


def run_copy(app, times, batch: int) -> dict:
    """The back-fill yardstick: the same value rows into an unindexed table (no key, no index, no constraint),
    `batch` rows per transaction, by the fastest bare way of the driver: COPY on PostgreSQL, executemany on SQLite
    (which has no COPY). Only the driver calls and the commit are timed (the rows are built before)."""
    from portal.extensions import db

    with app.app_context():
        kind = db.engine.dialect.name
        raw = db.engine.raw_connection()
        cur = raw.cursor()
        cur.execute("DROP TABLE IF EXISTS bare_copy")
        cur.execute("CREATE TABLE bare_copy (enterprise_id INTEGER, outlet_id INTEGER, pollutant_code VARCHAR(16), "
                    f"period VARCHAR(10), measured_at {'TIMESTAMP' if kind == 'sqlite' else 'TIMESTAMPTZ'}, "
                    "value FLOAT, flag VARCHAR(2), source VARCHAR(8))")
        raw.commit()
        rows = [(1, o, p, "hour", t.isoformat(sep=" ") if kind == "sqlite" else t.replace(tzinfo=CHINA), _value(p, h),
                 "N", "auto")
                for h, t in enumerate(times) for o, (code, pollutants) in enumerate(OUTLETS.items(), start=1)
                for p in pollutants]
        elapsed = 0.0
        for start in range(0, len(rows), batch):
            part = rows[start:start + batch]
            t0 = time.perf_counter()
            if kind == "sqlite":
                cur.executemany("INSERT INTO bare_copy VALUES (?, ?, ?, ?, ?, ?, ?, ?)", part)
            else:
                with cur.copy("COPY bare_copy FROM STDIN") as copy:
                    for row in part:
                        copy.write_row(row)
            raw.commit()
            elapsed += time.perf_counter() - t0
        cur.execute("DROP TABLE bare_copy")
        raw.commit()
        raw.close()
    return {"values": len(rows), "seconds": elapsed}


def run_csv(app, setup_info: dict, times) -> dict:
    from portal.enterprises.models import Enterprise
    from portal.extensions import db
    from portal.monitoring import manual

    path = OUT / f"bench_monitoring_{os.getpid()}.csv"
    with path.open("w", encoding="utf-8") as fh:
        fh.write("排放口编码,污染物编码,采样时间,监测结果,监测完成日期\n")
        for h, t in enumerate(times):
            done = t.date().isoformat()
            for code, pollutants in OUTLETS.items():
                for p in pollutants:
                    fh.write(f"{code},{p},{t:%Y-%m-%d %H:%M},{_value(p, h)},{done}\n")
    with app.test_request_context():
        ent = db.session.scalar(db.select(Enterprise).where(Enterprise.uscc == setup_info["uscc"]))
        before = rss_mb()
        t0 = time.perf_counter()
        result = manual.commit_upload(None, ent, path, path.name)
        db.session.commit()
        seconds = time.perf_counter() - t0
    path.unlink(missing_ok=True)
    return {"values": result.inserted, "seconds": seconds, "rss_first": before, "rss_max": rss_mb(),
            "rss_last": rss_mb()}


def run_bare(app, setup_info: dict, times) -> dict:
    """The same value rows through the DB-API driver alone: executemany into an empty copy of the table."""
    from portal.extensions import db

    with app.app_context():
        engine = db.engine
        kind = engine.dialect.name
        raw = engine.raw_connection()
        cur = raw.cursor()
        cur.execute("DROP TABLE IF EXISTS bare_values")
        cur.execute("CREATE TABLE bare_values (id INTEGER PRIMARY KEY, enterprise_id INTEGER, outlet_id INTEGER, "
                    "pollutant_code VARCHAR(16), period VARCHAR(10), measured_at TIMESTAMP, value FLOAT, "
                    "flag VARCHAR(2), source VARCHAR(8), UNIQUE (outlet_id, pollutant_code, period, measured_at))"
                    if kind == "sqlite" else
                    "CREATE TABLE bare_values (id BIGSERIAL PRIMARY KEY, enterprise_id INTEGER, outlet_id INTEGER, "
                    "pollutant_code VARCHAR(16), period VARCHAR(10), measured_at TIMESTAMPTZ, value FLOAT, "
                    "flag VARCHAR(2), source VARCHAR(8), UNIQUE (outlet_id, pollutant_code, period, measured_at))")
        raw.commit()
        mark = "?" if kind == "sqlite" else "%s"
        sql = (f"INSERT INTO bare_values (enterprise_id, outlet_id, pollutant_code, period, measured_at, value, flag, "
               f"source) VALUES ({', '.join([mark] * 8)})")
        rows = ((1, o, p, "hour", t.isoformat(sep=" ") if kind == "sqlite" else t, _value(p, h), "N", "auto")
                for h, t in enumerate(times) for o, (code, pollutants) in enumerate(OUTLETS.items(), start=1)
                for p in pollutants)
        result = _timed_executemany(raw, cur, sql, rows)
        cur.execute("DROP TABLE bare_values")
        raw.commit()
        raw.close()
    return result


def _timed_executemany(raw, cur, sql: str, rows) -> dict:
    """executemany + commit of the rows in batches of 15,000; only the driver calls are timed (not making rows)."""
    elapsed, total, batch = 0.0, 0, []
    for row in rows:
        batch.append(row)
        if len(batch) == 15000:
            elapsed, total, batch = elapsed + _timed_batch(raw, cur, sql, batch), total + len(batch), []
    if batch:
        elapsed, total = elapsed + _timed_batch(raw, cur, sql, batch), total + len(batch)
    return {"values": total, "seconds": elapsed}


def _timed_batch(raw, cur, sql: str, batch: list) -> float:
    t0 = time.perf_counter()
    cur.executemany(sql, batch)
    raw.commit()
    return time.perf_counter() - t0


def run_table(kind: str, name: str, times) -> dict:
    """The floor under any ingest path: the same value rows, already built, executemany'd straight into the portal's
    own monitoring_values table (its columns, unique key, enterprise/time index, foreign keys; PostgreSQL: its monthly
    partitions) of a fresh database, committed per batch. No parsing, no packet records, no roll-ups, no detection."""
    from portal.extensions import db
    from portal.monitoring.bulk_sql import VALUE_COLUMNS
    from portal.monitoring.sqlitebulk import stamp

    app = make_app(kind, name)
    setup(app)
    tz = ZoneInfo("Asia/Shanghai")  # the generated DataTimes are China local, as in hj212_bodies
    instants = [t.replace(tzinfo=tz).astimezone(timezone.utc) for t in times]
    with app.app_context():
        outlets = {code: (ent, oid) for ent, oid, code in
                   db.session.execute(db.text("SELECT enterprise_id, id, code FROM outlets"))}
        if kind == "postgresql":
            from portal.monitoring import partitions
            partitions.ensure_months(partitions.months_of(instants))
            db.session.commit()
        raw = db.engine.raw_connection()
        cur = raw.cursor()
        mark = "?" if kind == "sqlite" else "%s"
        sql = (f"INSERT INTO monitoring_values ({', '.join(VALUE_COLUMNS)}) VALUES ({', '.join([mark] * 13)}) "
               "ON CONFLICT DO NOTHING")
        rows = ((*outlets[code], p, "hour", stamp(t) if kind == "sqlite" else t, _value(p, h), None, None, None, "N",
                 "auto", None, None)
                for h, t in enumerate(instants) for code, pollutants in OUTLETS.items() for p in pollutants)
        result = _timed_executemany(raw, cur, sql, rows)
        raw.close()
    return result


def run_page(app, setup_info: dict, repeat: int = 30) -> dict:
    """The public enterprise page (default range: 90 days daily) and a 5-year monthly API call."""
    client = app.test_client()
    timings = {}
    for label, url in (("page", f"/enterprises/{setup_info['uscc']}"),
                       ("api 5y monthly", f"/api/v1/enterprises/{setup_info['uscc']}/monitoring?resolution=month"
                                          "&from=2021-01-01&to=2025-12-31")):
        samples = []
        for i in range(repeat + 3):
            t0 = time.perf_counter()
            response = client.get(url)
            if i >= 3:
                samples.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        samples.sort()
        timings[label] = (statistics.median(samples), samples[int(len(samples) * 0.95) - 1])
    return timings


def page_only(kind: str, name: str) -> None:
    from portal.extensions import db

    app = make_app(kind, name, keep=True)
    with app.app_context():
        uscc = db.session.scalar(db.text("SELECT uscc FROM enterprises LIMIT 1"))
        values = db.session.scalar(db.text("SELECT count(*) FROM monitoring_values"))
    print(f"\n== {kind}: pages on the last run's {values:,} values")
    for label, (p50, p95) in run_page(app, {"uscc": uscc}).items():
        print(f"{label:15} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--values", type=int, default=657_000)
    parser.add_argument("--dbs", default="sqlite,postgresql")
    parser.add_argument("--packets", type=int, default=500, help="HJ 212 packets per request body")
    parser.add_argument("--page-only", action="store_true", help="time the pages on the last run's data")
    parser.add_argument("--paths", default="hj212,csv,backfill",
                        help="ingest paths to time: hj212 (live), csv, backfill (the bare inserts always run)")
    parser.add_argument("--backfill-packets", type=int, default=10000,
                        help="HJ 212 packets per back-fill request body (the API takes at most 10,000)")
    parser.add_argument("--no-floor", action="store_true",
                        help="skip the 'table' line (the value insert alone into the portal's own table)")
    dbs.add_arguments(parser, "monitoring")  # the CSV run uses <name>_csv, back-fill <name>_bf, the floor <name>_table
    args = parser.parse_args()
    dbs.configure(args)
    if args.page_only and args.db_name == dbs.default_name("monitoring"):
        parser.error("--page-only needs the --db-name of an earlier run kept with --keep")
    for kind in args.dbs.split(","):
        if args.page_only:
            page_only(kind, args.db_name)
            continue
        app = make_app(kind, args.db_name)
        info = setup(app)
        end = datetime.combine(date.today().replace(day=1), datetime.min.time())
        start = end - timedelta(hours=args.values // 15)
        times = hours(args.values, start)
        paths = args.paths.split(",")
        timed = []
        if "hj212" in paths:
            timed.append(("HJ 212", run_hj212(app, info, times, args.packets)))
        bare = run_bare(app, info, times)
        table = run_table(kind, f"{args.db_name}_table", times) if not args.no_floor else None
        page = run_page(app, info) if "hj212" in paths else {}
        if "csv" in paths:
            csv_app = make_app(kind, f"{args.db_name}_csv")
            timed.append(("CSV", run_csv(csv_app, setup(csv_app), times)))
        backfill = copy = None
        if "backfill" in paths:  # data ending 30 days ago: older than the back-fill window (HJ212_BACKFILL_DAYS)
            bf_app = make_app(kind, f"{args.db_name}_bf")
            bf_times = hours(args.values, end - timedelta(days=30, hours=args.values // 15))
            backfill = run_backfill(bf_app, setup(bf_app), bf_times, args.backfill_packets)
            copy = run_copy(bf_app, bf_times, args.backfill_packets * 5)
        bare_rate = bare["values"] / bare["seconds"]
        print(f"\n== {kind}: {args.values:,} values ({len(times):,} hours x 3 outlets x 5 pollutants)")
        for name, r in timed:
            rate = r["values"] / r["seconds"]
            print(f"{name:7} {r['values']:>11,} values {r['seconds']:8.1f} s {rate:>10,.0f} values/s "
                  f"({rate / bare_rate:5.1%} of bare)  RSS {r['rss_first']:.0f} -> max {r['rss_max']:.0f} MB")
        print(f"bare    {bare['values']:>11,} values {bare['seconds']:8.1f} s {bare_rate:>10,.0f} values/s")
        if table:
            rate = table["values"] / table["seconds"]
            print(f"table   {table['values']:>11,} values {table['seconds']:8.1f} s {rate:>10,.0f} values/s "
                  f"({rate / bare_rate:5.1%} of bare)  the value insert alone, into the portal's own table")
        if backfill:
            rate, copy_rate = backfill["values"] / backfill["seconds"], copy["values"] / copy["seconds"]
            yardstick = "bare COPY" if kind == "postgresql" else "bare executemany"
            print(f"back-fill {backfill['values']:>9,} values {backfill['seconds']:8.1f} s {rate:>10,.0f} values/s "
                  f"({rate / copy_rate:5.1%} of {yardstick}, unindexed)  RSS {backfill['rss_first']:.0f} before, "
                  f"{backfill['rss_warm']:.0f} after request 1, {backfill['rss_last']:.0f} after request "
                  f"{backfill['requests']} MB (max {backfill['rss_max']:.0f})"
                  + ("  goal 50,000/s " + ("met" if rate >= 50000 else "NOT met") if kind == "postgresql" else ""))
            print(f"{yardstick:9} {copy['values']:>9,} values {copy['seconds']:8.1f} s {copy_rate:>10,.0f} values/s "
                  f"into an unindexed table, {args.backfill_packets * 5:,} rows per transaction")
        for label, (p50, p95) in page.items():
            print(f"{label:15} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms")


if __name__ == "__main__":
    main()
