"""Child process for tests/faults/test_ingest_kill.py (not a test module).

    python -m tests.faults.ingest_child setup  DB_URL INFO.json         # schema, one enterprise, 3 devices
    python -m tests.faults.ingest_child ingest DB_URL INFO.json HOURS PACKETS_PER_REQUEST

`ingest` feeds the HJ 212 packets of HOURS hours (3 packets per hour, 5 values each) through
portal.monitoring.services.ingest_hj212 and commits after each request body, exactly as the API view does, printing
"committed <n> <accepted> <duplicate>" after each commit and a JSON summary of all result codes at the end.
"""
from __future__ import annotations

import json
import os
import sys
from collections import Counter
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
START = datetime(2026, 1, 1)


def main(argv: list[str]) -> int:
    os.environ.setdefault("PORTAL_LOG_LEVEL", "WARNING")
    from bench import monitoring as bench_monitoring
    from portal import create_app
    from portal.extensions import db

    mode, url, info_path = argv[:3]
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False})
    if mode == "setup":
        Path(info_path).write_text(json.dumps(bench_monitoring.setup(app)))
        return 0
    from portal.monitoring import services

    info = json.loads(Path(info_path).read_text())
    hours, per_request = int(argv[3]), int(argv[4])
    totals: Counter = Counter()
    with app.app_context():
        for n, (body, _latest) in enumerate(bench_monitoring.hj212_bodies(info, bench_monitoring.hours(hours * 15, START),
                                                               per_request), start=1):
            results = services.ingest_hj212(body)
            db.session.commit()
            counts = Counter(r["result"] for r in results)
            totals.update(counts)
            print(f"committed {n} {counts['accepted']} {counts['duplicate']}", flush=True)
    print(json.dumps(dict(totals)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
