"""One active scheduler: the lease goes to one holder at a time and passes on when the holder dies (expiry) or
stops (release); scheduled runs are recorded once per slot; two real scheduler processes elect one leader and the
other takes over when the leader is SIGKILLed."""
from __future__ import annotations

import os
import signal
import subprocess
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_PAUSED, STATE_RUNNING

from portal.jobs import lease, registry, scheduler
from portal.jobs.models import JobRun, SchedulerLease
from portal.jobs.runner import prune_runs, run_job
from tests.faults.procs import PYTHON, ROOT, base_env, wait_for

T0 = datetime(2026, 12, 7, 8, 0, tzinfo=timezone.utc)
TTL = timedelta(seconds=20)


def _acquire(db, holder, at):
    held = lease.try_acquire(holder, TTL, now=at)
    db.session.commit()
    return held


def test_the_lease_has_one_holder_until_it_expires_or_is_released(db):
    assert _acquire(db, "a", T0) is True
    assert _acquire(db, "b", T0 + timedelta(seconds=1)) is False
    assert _acquire(db, "a", T0 + timedelta(seconds=15)) is True             # renewed: expires at +35 s
    assert _acquire(db, "b", T0 + timedelta(seconds=30)) is False
    assert _acquire(db, "b", T0 + timedelta(seconds=36)) is True             # a stopped renewing: b takes over
    assert _acquire(db, "a", T0 + timedelta(seconds=37)) is False            # and a cannot take it back
    state = lease.current()
    assert state.holder == "b" and state.acquired_at == T0 + timedelta(seconds=36)
    assert lease.release("a") is False and lease.release("b", now=T0 + timedelta(seconds=40)) is True
    db.session.commit()
    assert _acquire(db, "c", T0 + timedelta(seconds=41)) is True             # released: no wait
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SchedulerLease)) == 1


def _loop(app, holder):
    sched = scheduler.build_scheduler(app, BackgroundScheduler, jobstore=MemoryJobStore(), register=False)
    loop = scheduler.LeaderLoop(app, sched, holder=holder)
    sched.start(paused=True)
    return loop


def test_only_the_leaders_scheduler_runs_and_a_standby_takes_over_when_the_leader_stops_renewing(db, app):
    a, b = _loop(app, "a"), _loop(app, "b")
    try:
        assert a.step(T0) is True and b.step(T0 + timedelta(seconds=1)) is False
        assert a.scheduler.state == STATE_RUNNING and b.scheduler.state == STATE_PAUSED
        assert {j.id for j in a.scheduler.get_jobs()} == set(registry.JOBS)
        # a dies (no more renewals); once its lease has expired b leads, and a, if it ever wakes, pauses.
        assert b.step(T0 + TTL + timedelta(seconds=1)) is True and b.scheduler.state == STATE_RUNNING
        assert a.step(T0 + TTL + timedelta(seconds=2)) is False and a.scheduler.state == STATE_PAUSED
    finally:
        for loop in (a, b):
            loop.scheduler.shutdown(wait=False)


def test_a_scheduler_that_cannot_reach_the_database_pauses_its_jobs(db, app, monkeypatch):
    a = _loop(app, "a")
    try:
        assert a.step(T0) is True

        def unreachable(*args, **kwargs):
            raise sa.exc.OperationalError("SELECT 1", {}, Exception("connection refused"))

        monkeypatch.setattr(lease, "try_acquire", unreachable)
        assert a.step(T0 + timedelta(seconds=5)) is False and a.scheduler.state == STATE_PAUSED
    finally:
        a.scheduler.shutdown(wait=False)


def test_a_scheduled_slot_is_run_once_however_many_schedulers_reach_it(db, app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_DIR", str(tmp_path))
    slot = T0
    first = run_job(app, "send-outbox", trigger="scheduler", slot=slot)
    second = run_job(app, "send-outbox", trigger="scheduler", slot=slot)
    nxt = run_job(app, "send-outbox", trigger="scheduler", slot=slot + timedelta(minutes=1))
    assert (first.status, second.status, nxt.status) == ("ok", "skipped", "ok")
    runs = db.session.execute(sa.select(JobRun.slot, JobRun.status).order_by(JobRun.id)).all()
    assert runs == [(slot, "ok"), (slot + timedelta(minutes=1), "ok")]
    manual = [run_job(app, "send-outbox").status for _ in range(2)]  # by hand: no slot, never skipped
    assert manual == ["ok", "ok"]


def test_the_slot_of_a_scheduled_run_is_the_latest_fire_time_before_it():
    shanghai_8am = datetime(2026, 12, 7, 0, 0, tzinfo=timezone.utc)   # 08:00 Asia/Shanghai
    late = shanghai_8am + timedelta(seconds=42)
    assert scheduler.current_slot("permit-renewal-reminders", late) == shanghai_8am
    assert scheduler.current_slot("send-outbox", late) == shanghai_8am
    assert scheduler.current_slot("send-outbox", late + timedelta(minutes=3)) == shanghai_8am + timedelta(minutes=3)
    assert scheduler.current_slot("disclosure-copies", shanghai_8am + timedelta(minutes=3, seconds=5)) == \
        shanghai_8am + timedelta(minutes=2)


def test_old_finished_job_runs_are_pruned_but_the_newest_of_each_job_stays(db, app):
    now = datetime(2026, 12, 7, tzinfo=timezone.utc)
    old = now - timedelta(days=app.config["JOB_RUN_RETENTION_DAYS"] + 1)
    for name, started, status in [("send-outbox", old, "ok"), ("send-outbox", old, "failed"),
                                  ("send-outbox", now, "ok"), ("credit-refresh", old, "ok"),
                                  ("opendata-export", old, "running")]:
        db.session.add(JobRun(name=name, started_at=started, status=status))
    db.session.commit()
    assert prune_runs(now=now) == "deleted 2 runs older than 90 days"
    db.session.commit()
    left = db.session.execute(sa.select(JobRun.name, JobRun.status).order_by(JobRun.id)).all()
    assert left == [("send-outbox", "ok"), ("credit-refresh", "ok"), ("opendata-export", "running")]
    assert "job-runs-prune" in registry.JOBS


@pytest.mark.slow
def test_two_scheduler_processes_one_leads_and_the_other_takes_over_when_it_is_killed(db, app, tmp_path):
    env = base_env(PORTAL_DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"], PORTAL_MAIL_DIR=str(tmp_path),
                   PORTAL_SCHEDULER_LEASE_SECONDS="4", PORTAL_SCHEDULER_RENEW_SECONDS="1")
    logs = [(tmp_path / f"scheduler{n}.log").open("w") for n in (1, 2)]
    procs = [subprocess.Popen([PYTHON, "-m", "flask", "--app", "wsgi", "jobs", "scheduler"], cwd=ROOT, env=env,
                              stdout=log, stderr=subprocess.STDOUT) for log in logs]
    pids = {p.pid: p for p in procs}

    def leader_pid() -> int | None:
        db.session.rollback()  # a fresh snapshot each time
        state = lease.current()
        if state is None or not state.held():
            return None
        pid = int(state.holder.split(":")[1])
        return pid if pid in pids and pids[pid].poll() is None else None

    try:
        first = wait_for(leader_pid, timeout=90, interval=0.2, what="a leader")
        wait_for(lambda: all(p.poll() is None for p in procs) and _started(tmp_path), timeout=90,
                 interval=0.2, what="both schedulers running")
        assert leader_pid() == first, "the lease stays with one holder while it renews"
        os.kill(first, signal.SIGKILL)
        pids[first].wait(30)
        try:
            second = wait_for(leader_pid, timeout=90, interval=0.2, what="the standby to take over")
        except AssertionError:
            raise AssertionError(f"no take-over; lease {lease.current()}; logs:\n" + "\n".join(
                (tmp_path / f"scheduler{n}.log").read_text()[-3000:] for n in (1, 2))) from None
        assert second != first and pids[second].poll() is None
        pids[second].send_signal(signal.SIGTERM)  # a clean stop releases the lease at once
        assert pids[second].wait(60) == 0
        db.session.rollback()
        assert not lease.current().held()
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(30)
        for log in logs:
            log.close()
        db.session.rollback()
        db.session.execute(sa.text("DROP TABLE IF EXISTS apscheduler_jobs"))
        db.session.commit()


def _started(tmp_path) -> bool:
    return all("started" in (tmp_path / f"scheduler{n}.log").read_text() for n in (1, 2))
