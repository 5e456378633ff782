"""The job queue (Procrastinate on PostgreSQL): the leader queues each (job, slot) once, a worker process runs it,
and a worker killed mid-job gives the job back without the slot's work being done twice."""
from __future__ import annotations

import os
import signal
import subprocess
import time
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa

from portal.jobs import queue
from portal.jobs.models import JobRun
from tests.conftest import TEST_DB_URL
from tests.faults.procs import PYTHON, ROOT, base_env, wait_for

pytestmark = pytest.mark.skipif(not TEST_DB_URL, reason="the queue needs PostgreSQL (SQLite runs jobs in the scheduler)")


@pytest.fixture
def qapp(app, db):
    app.config["JOBS_QUEUE"] = "procrastinate"
    queue.ensure_schema(app)
    with db.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM procrastinate_jobs")
    yield app
    app.config["JOBS_QUEUE"] = ""
    with db.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM procrastinate_jobs")


def _jobs(db) -> list[tuple]:
    with db.engine.connect() as conn:
        return list(conn.execute(sa.text("SELECT task_name, status::text, args->>'name', args->>'slot' "
                                          "FROM procrastinate_jobs ORDER BY id")))


def test_schema_is_created_once_and_the_sqlite_default_has_no_queue(app, qapp):
    assert queue.ensure_schema(app) is False
    assert queue.enabled(app)
    app.config["JOBS_QUEUE"] = ""
    assert not queue.enabled(app)


def test_a_slot_is_queued_once_however_many_leaders_try(qapp, db):
    slot = datetime(2026, 12, 7, 12, 0, tzinfo=timezone.utc)
    assert queue.defer(qapp, "search-versions-prune", slot) is True
    assert queue.defer(qapp, "search-versions-prune", slot) is False  # a second scheduler, same slot
    assert queue.defer(qapp, "search-versions-prune", slot.replace(minute=1)) is True
    rows = _jobs(db)
    assert [(r[0], r[1], r[2]) for r in rows] == [(queue.TASK, "todo", "search-versions-prune")] * 2


def test_many_jobs_fired_in_the_same_second_are_all_queued(qapp, db):
    """APScheduler fires the per-minute jobs together from a thread pool: every deferral must land (the pool was
    once opened and closed around each deferral, and one thread closed it under another)."""
    import concurrent.futures

    slot = datetime(2026, 12, 7, 12, 30, tzinfo=timezone.utc)
    names = ["send-outbox", "monitoring-imports", "complaint-pending-sweep", "envcode-refresh",
             "opendata-digest-immediate", "disclosure-copies", "search-versions-prune", "job-runs-prune"]
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(names)) as pool:
        results = list(pool.map(lambda n: queue.defer(qapp, n, slot), names * 3))
    assert results.count(True) == len(names)  # each (job, slot) once, whatever the interleaving
    assert sorted(r[2] for r in _jobs(db)) == sorted(names)


def _worker(env_url: str, name: str) -> subprocess.Popen:
    env = base_env(PORTAL_DATABASE_URL=env_url, PORTAL_JOBS_QUEUE="procrastinate", PORTAL_QUEUE_STALLED_SECONDS="4")
    return subprocess.Popen([PYTHON, "-m", "flask", "--app", "wsgi", "jobs", "worker", "--name", name], cwd=ROOT,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_a_worker_process_runs_the_queued_job_once(qapp, db):
    slot = datetime(2026, 12, 7, 3, 40, tzinfo=timezone.utc)
    queue.defer(qapp, "search-versions-prune", slot)
    worker = _worker(TEST_DB_URL, "w1")
    try:
        wait_for(lambda: db.session.scalar(sa.select(sa.func.count()).select_from(JobRun)
                                           .where(JobRun.status == "ok")), timeout=60, what="the job run")
        db.session.expire_all()
        runs = db.session.scalars(sa.select(JobRun)).all()
        assert [(r.name, r.trigger, r.slot, r.status) for r in runs] == [
            ("search-versions-prune", "scheduler", slot, "ok")]
        wait_for(lambda: not _jobs(db), timeout=30, what="the finished job deleted from the queue")
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)


def test_the_job_of_a_killed_worker_goes_back_and_its_slot_is_not_run_twice(qapp, db):
    """A worker SIGKILLed while it holds a job (emulated: the first worker runs the job and is killed, then its
    queue row is put back to 'doing' under a worker whose heartbeat stopped an hour ago). The next worker gives the
    job back to the queue at its start and runs it; the retry finds the slot's run already recorded and does not do
    the work again."""
    slot = datetime(2026, 12, 7, 3, 41, tzinfo=timezone.utc)
    queue.defer(qapp, "search-versions-prune", slot)
    first = _worker(TEST_DB_URL, "doomed")
    try:
        wait_for(lambda: db.session.scalar(sa.select(sa.func.count()).select_from(JobRun)), timeout=60,
                 what="the first run")
    finally:
        first.kill()
        first.wait()
    # Make it look like the kill hit mid-job: the queue row back to 'doing' under the dead worker.
    with db.engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO procrastinate_jobs (queue_name, task_name, args, status, attempts) "
                             f"VALUES ('{queue.QUEUE}', '{queue.TASK}', "
                             f"'{{\"name\": \"search-versions-prune\", \"slot\": \"{slot.isoformat()}\"}}', "
                             "'doing', 0)")
        worker_id = conn.exec_driver_sql(
            "INSERT INTO procrastinate_workers (last_heartbeat) VALUES (now() - interval '1 hour') RETURNING id"
        ).scalar()
        conn.exec_driver_sql(f"UPDATE procrastinate_jobs SET worker_id = {worker_id} WHERE status = 'doing'")
    second = _worker(TEST_DB_URL, "survivor")
    try:
        wait_for(lambda: all(r[1] != "doing" for r in _jobs(db)), timeout=120, what="the stalled job retried")
        db.session.expire_all()
        runs = db.session.scalars(sa.select(JobRun).where(JobRun.slot == slot)).all()
        assert len(runs) == 1, "the slot's work is recorded once"
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=30)
