"""Storage per minute value before and after compaction (issue 23 goal: ≤ 40 bytes per stored minute value on disk).

Seeds --outlets outlets × --pollutants pollutants × --days days of minute data (CN 2051, 1,440 a day, realistic
noise with 3 decimals, min/max, flags) straight into monitoring_values of a bench database of its own, measures the
table's on-disk size with its indexes per value (PostgreSQL: pg_total_relation_size over the monthly partitions;
SQLite: dbstat), runs the compaction job, and measures monitoring_minute_packs the same way. It also checks that the
public monitoring API answers the same before and after, and prints the compaction rate.

    .venv/bin/python bench/compaction.py --dbs postgresql,sqlite --outlets 40 --days 3
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import dbs  # noqa: E402
from run import make_app, pg_answers  # noqa: E402

CODES = ("w01018", "w21003", "w21011", "w21001", "w01001", "w00000", "a21026", "a21002", "a34013", "a19001")


def _size(db, table: str) -> int:
    import sqlalchemy as sa

    if db.engine.dialect.name == "postgresql":
        return int(db.session.scalar(sa.text(
            "SELECT COALESCE(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
            "WHERE c.relname = :t OR c.oid IN (SELECT inhrelid FROM pg_inherits "
            "WHERE inhparent = CAST(:t AS regclass))"), {"t": table}))
    names = [table] + list(db.session.scalars(sa.text(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = :t"), {"t": table}))
    return int(sum(db.session.scalar(sa.text("SELECT sum(pgsize) FROM dbstat WHERE name = :n"), {"n": n}) or 0
                   for n in names))


def measure(kind: str, name: str, n_outlets: int, n_codes: int, n_days: int) -> dict:
    url = dbs.create(kind, name)
    app = make_app(url)
    with app.app_context():
        import sqlalchemy as sa

        from portal.extensions import db
        from portal.monitoring import compaction, partitions
        from portal.monitoring.models import MonitoringValue
        from portal.search import ddl
        from tests.factories import make_enterprise, make_outlet

        db.create_all()
        with db.engine.begin() as conn:
            ddl.create(conn)
        day0 = datetime(2026, 9, 30, 16, 0, tzinfo=timezone.utc)  # 2026-10-01 00:00 China time
        now = day0 + timedelta(days=n_days + 40)
        if kind == "postgresql":
            partitions.ensure_months({(2026, 10)})
        rnd = random.Random(20261207)
        outlets = []
        for i in range(n_outlets):
            ent = make_enterprise(name=f"压缩基准企业{i}有限公司")
            outlets.append((ent.id, make_outlet(ent, f"DW{i:03d}").id))
        db.session.commit()
        started = time.perf_counter()
        rows, packet = [], 0
        table = MonitoringValue.__table__
        total = 0
        for ent_id, outlet_id in outlets:
            for code in CODES[:n_codes]:
                base = rnd.uniform(5, 80)
                for minute in range(1440 * n_days):
                    value = round(base * (1 + 0.2 * ((minute % 1440) / 1440)) + rnd.gauss(0, base * 0.03), 3)
                    packet += 1
                    rows.append({"enterprise_id": ent_id, "outlet_id": outlet_id, "pollutant_code": code,
                                 "period": "minute", "measured_at": day0 + timedelta(minutes=minute),
                                 "value": value, "value_min": round(value - abs(rnd.gauss(0, 0.4)), 3),
                                 "value_max": round(value + abs(rnd.gauss(0, 0.4)), 3), "value_converted": None,
                                 "flag": "N" if rnd.random() > 0.01 else "D", "source": "auto",
                                 "packet_id": packet})
                    if len(rows) == 20_000:
                        db.session.execute(sa.insert(table), rows)
                        total += len(rows)
                        rows = []
        if rows:
            db.session.execute(sa.insert(table), rows)
            total += len(rows)
        db.session.commit()
        seed_s = time.perf_counter() - started
        if kind == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE monitoring_values")
        else:
            db.session.execute(sa.text("ANALYZE"))
        before = _size(db, "monitoring_values")
        client = app.test_client()
        from portal.enterprises.models import Enterprise

        uscc = db.session.get(Enterprise, outlets[0][0]).uscc
        api = f"/api/v1/enterprises/{uscc}/monitoring?resolution=day&from=2026-10-01&to=2026-10-05"
        api_before = client.get(api).get_data()
        app.config["MONITORING_COMPACT_MAX_ROWS"] = total + 1
        started = time.perf_counter()
        result = compaction.compact(now=now)
        compact_s = time.perf_counter() - started
        if kind == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE monitoring_minute_packs")
        after = _size(db, "monitoring_minute_packs")
        left = db.session.scalar(sa.select(sa.func.count()).select_from(MonitoringValue))
        same_api = client.get(api).get_data() == api_before
    return {"db": kind, "values": total, "outlets": n_outlets, "pollutants": n_codes, "days": n_days,
            "seed_s": round(seed_s, 1), "bytes_per_value_rows": round(before / total, 1),
            "bytes_per_value_packed": round(after / total, 1), "packed_rows": result["rows"],
            "rows_left": left, "compaction_values_per_s": round(result["rows"] / compact_s),
            "api_unchanged": same_api, "goal_ok": after / total <= 40}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--outlets", type=int, default=40)
    parser.add_argument("--pollutants", type=int, default=5)
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--dbs", default="postgresql,sqlite")
    dbs.add_arguments(parser, "compaction")
    args = parser.parse_args()
    dbs.configure(args)
    for kind in args.dbs.split(","):
        if kind == "postgresql" and not pg_answers():
            print("PostgreSQL does not answer on 127.0.0.1:5432; skipped.")
            continue
        print(json.dumps(measure(kind, f"{args.db_name}_{kind[:2]}", args.outlets, args.pollutants, args.days),
                         ensure_ascii=False))


if __name__ == "__main__":
    main()
