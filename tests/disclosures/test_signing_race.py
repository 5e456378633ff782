"""Two signing requests for the same draft at the same moment (a double click, two tabs): exactly one publishes,
with one digest; the other stops with a clear message. Real threads with their own sessions and connections, on
the suite's database (a SQLite file or PostgreSQL), with the checks slowed down so both are inside signing at
once: without a real lock both would publish, under two different digests."""
from __future__ import annotations

import threading
import time

import sqlalchemy as sa

from portal.audit.models import AuditRecord
from portal.auth.models import User
from portal.disclosures import services
from portal.disclosures.models import AnnualReport, ReportStatus
from portal.errors import DomainError
from tests.factories import DEFAULT_PASSWORD, totp_code


def test_a_race_publishes_once(app, db, draft, signatory, monkeypatch):
    if db.engine.url.database in (None, "", ":memory:"):
        return  # one in-memory connection cannot race
    db.session.commit()
    report_id, user_id = draft.id, signatory.id
    real_check = services.check_annual

    def slow_check(report):
        time.sleep(0.4)  # both requests are now past their own reading of the draft
        return real_check(report)

    monkeypatch.setattr(services, "check_annual", slow_check)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def sign():
        with app.app_context():
            try:
                user = db.session.get(User, user_id)
                report = db.session.get(AnnualReport, report_id)
                barrier.wait(timeout=10)
                services.submit_annual(user, report, DEFAULT_PASSWORD, [], code=totp_code(user))
                db.session.commit()
                outcomes.append("published")
            except DomainError as exc:
                db.session.rollback()
                outcomes.append(f"refused: {exc.message}")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=sign) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    db.session.expire_all()
    assert sorted(o.split(":")[0] for o in outcomes) == ["published", "refused"], outcomes
    report = db.session.get(AnnualReport, report_id)
    assert report.status == ReportStatus.PUBLISHED and len(report.sha256) == 64
    submits = db.session.scalars(sa.select(AuditRecord).where(AuditRecord.action == "annual_report.submit")).all()
    assert len(submits) == 1 and submits[0].after["sha256"] == report.sha256
