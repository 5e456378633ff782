"""/healthz: the scheduler leader's heartbeat (ok, stale, none) and the queue depths, never cached."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.db import utcnow
from portal.jobs import lease
from portal.jobs.models import JobRun
from portal.mail import services as mail
from portal.mail.models import OutboxMessage


@pytest.fixture(autouse=True)
def fresh_figures(app, monkeypatch):
    monkeypatch.setitem(app.config, "HEALTHZ_DETAIL_SECONDS", 0)


def test_healthz_without_a_scheduler_says_none_and_counts_the_queues(db, client):
    for i in range(3):
        mail.queue_mail(f"p{i}@example.cn", "s", "b")
    db.session.flush()
    db.session.execute(sa.update(OutboxMessage).where(OutboxMessage.id == 1).values(attempts=mail.MAX_ATTEMPTS))
    db.session.add(JobRun(name="send-outbox", status="running"))
    db.session.commit()
    response = client.get("/healthz")
    body = response.get_json()
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert body["status"] == "ok" and body["scheduler"] == {"status": "none", "heartbeat_at": None,
                                                            "age_seconds": None}
    assert body["queues"] == {"outbox": 2, "outbox_given_up": 1, "monitoring_imports": 0, "jobs_running": 1}


def test_healthz_reports_the_leaders_heartbeat_and_calls_an_old_one_stale(db, app, client):
    beat = utcnow() - timedelta(seconds=3)
    lease.try_acquire("host:1:ab", timedelta(seconds=20), now=beat)
    db.session.commit()
    scheduler = client.get("/healthz").get_json()["scheduler"]
    assert scheduler["status"] == "ok" and scheduler["heartbeat_at"] == beat.isoformat()
    assert 3 <= scheduler["age_seconds"] < app.config["SCHEDULER_STALE_SECONDS"]
    assert "host" not in str(scheduler)  # the holder's host name is not published

    old = utcnow() - timedelta(seconds=app.config["SCHEDULER_STALE_SECONDS"] + 5)
    lease.release("host:1:ab", now=old)
    lease.try_acquire("host:2:cd", timedelta(seconds=600), now=old)
    db.session.commit()
    assert client.get("/healthz").get_json()["scheduler"]["status"] == "stale"


def test_healthz_figures_are_reused_for_a_moment_under_a_probe_storm(db, app, client, monkeypatch):
    monkeypatch.setitem(app.config, "HEALTHZ_DETAIL_SECONDS", 3600)
    first = client.get("/healthz").get_json()["queues"]["outbox"]
    mail.queue_mail("late@example.cn", "s", "b")
    db.session.commit()
    assert client.get("/healthz").get_json()["queues"]["outbox"] == first
    monkeypatch.setitem(app.config, "HEALTHZ_DETAIL_SECONDS", 0)
    assert client.get("/healthz").get_json()["queues"]["outbox"] == first + 1
