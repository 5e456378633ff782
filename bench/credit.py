#!/usr/bin/env python3
"""Credit benchmark (issue 5): full re-evaluation of N enterprises with M evidence items, the annual evaluation run,
and the incremental update after one new penalty.

    .venv/bin/python bench/credit.py                                   # 150,000 enterprises, 1,000,000 evidence, SQLite
    .venv/bin/python bench/credit.py --enterprises 20000 --evidence 130000 --dbs sqlite,postgresql

Goals: full re-evaluation ≤ 60 s, incremental update ≤ 50 ms. The first recompute after seeding writes every ledger
line (initial_build_s); the re-evaluation (full_recompute_s) recomputes every enterprise and writes what changed. Each run builds fresh databases of its own
(<db-name>_sq / <db-name>_po, default bench_credit_<pid>_…, SQLite files in bench/out/, PostgreSQL on 127.0.0.1:5432,
dropped at exit unless --keep) with the registry seeded by the
demo generator and evidence inserted with Core; results go to stdout and bench/out/credit.json.
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import dbs  # noqa: E402  (per-run database names; never drops what it did not create)
from run import make_app, pg_answers  # noqa: E402

OUT = ROOT / "bench" / "out"
KINDS = [("penalty", 40), ("inspection_finding", 20), ("monitoring_exceedance", 15), ("disclosure_late", 8),
         ("complaint_substantiated", 7), ("production_limit", 3), ("production_stop", 2), ("daily_penalty", 1),
         ("incident", 2), ("commendation", 2)]


def seed(n_ent: int, n_ev: int, today: date) -> dict:
    import sqlalchemy as sa

    from portal.credit.models import Evidence
    from portal.credit.services import seed_schemes
    from portal.enterprises.models import Enterprise
    from portal.extensions import db
    from portal.reference.services import load_reference
    from portal.seed.demo import bulk_insert_registry

    load_reference()
    seed_schemes()
    db.session.commit()
    started = time.perf_counter()
    bulk_insert_registry(n_ent, 2024, today)
    registry_s = time.perf_counter() - started
    ids = list(db.session.scalars(sa.select(Enterprise.id)))
    rng = random.Random(2024)
    kinds = [k for k, w in KINDS for _ in range(w)]
    started = time.perf_counter()
    rows = []
    for i in range(n_ev):
        kind = rng.choice(kinds)
        rows.append(dict(enterprise_id=rng.choice(ids), kind=kind, source="regulator", source_ref=f"bench:{i}",
                         occurred_on=today - timedelta(days=rng.randrange(730)), title="bench", document_no="",
                         authority="",
                         amount_yuan=rng.choice((None, 20000, 80000, 300000)) if kind == "penalty" else None,
                         details={"level": rng.choice(("general", "general", "larger"))} if kind == "incident" else {},
                         is_verified=True, is_public=True, withdrawn_reason=""))
        if len(rows) == 20000 or i == n_ev - 1:
            db.session.execute(sa.insert(Evidence), rows)
            db.session.commit()
            rows = []
    with db.engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
    return {"registry_s": round(registry_s, 1), "evidence_s": round(time.perf_counter() - started, 1)}


def measure(kind: str, name: str, n_ent: int, n_ev: int) -> dict:
    url = dbs.create(kind, name)
    app = make_app(url)
    with app.app_context():
        from portal.extensions import db as _db
        from portal.search import ddl

        _db.create_all()  # the models' schema (the credit tables may be newer than the migrations)
        with _db.engine.begin() as conn:
            ddl.create(conn)
        from portal.core.clock import china_today
        from portal.credit.evaluation import compute_run, grade_counts
        from portal.credit.evidence import add_evidence
        from portal.credit.models import EvidenceKind, EvidenceSource
        from portal.credit.services import recompute_all
        from portal.extensions import db

        today = china_today()
        out = {"db": kind, "enterprises": n_ent, "evidence": n_ev, **seed(n_ent, n_ev, today)}
        started = time.perf_counter()
        out["standings"] = recompute_all()  # cold: every ledger line is written
        db.session.commit()
        out["initial_build_s"] = round(time.perf_counter() - started, 2)
        started = time.perf_counter()
        recompute_all()  # the re-evaluation the goal is about: everything recomputed, only changes written
        db.session.commit()
        out["full_recompute_s"] = round(time.perf_counter() - started, 2)
        started = time.perf_counter()
        run = compute_run(today.year - 1, "32", "bench")
        db.session.commit()
        out["run_32_s"] = round(time.perf_counter() - started, 2)
        out["run_32_results"] = sum(grade_counts(run).values())
        timings = []
        for i in range(30):
            started = time.perf_counter()
            add_evidence(enterprise_id=1 + (i * 7) % n_ent, kind=EvidenceKind.PENALTY,
                         source=EvidenceSource.REGULATOR,
                         source_ref=f"bench-incremental:{i}", occurred_on=today, title="罚款", verified=True,
                         amount_yuan=50000, document_no=f"B{i}", authority="bench")
            db.session.commit()
            timings.append((time.perf_counter() - started) * 1000)
        out["incremental_ms_p50"] = round(statistics.median(timings), 1)
        out["incremental_ms_max"] = round(max(timings), 1)
    out["full_ok"] = out["full_recompute_s"] <= 60
    out["incremental_ok"] = out["incremental_ms_p50"] <= 50
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--enterprises", type=int, default=150_000)
    parser.add_argument("--evidence", type=int, default=1_000_000)
    parser.add_argument("--dbs", default="sqlite")
    dbs.add_arguments(parser, "credit")
    args = parser.parse_args()
    dbs.configure(args)
    OUT.mkdir(parents=True, exist_ok=True)
    results = []
    for kind in args.dbs.split(","):
        if kind == "postgresql" and not pg_answers():
            print("PostgreSQL does not answer on 127.0.0.1:5432; skipped.")
            continue
        result = measure(kind, f"{args.db_name}_{kind[:2]}", args.enterprises, args.evidence)
        results.append(result)
        print(json.dumps(result, ensure_ascii=False))
    (OUT / "credit.json").write_text(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
