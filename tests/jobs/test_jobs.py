"""Jobs: permit renewal reminders are idempotent, failures roll back and are recorded, the scheduler registers
every job with its trigger, and the CLI runs jobs by name."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from portal.auth.models import Role
from portal.jobs import registry, scheduler
from portal.jobs.models import JobRun
from portal.jobs.runner import UnknownJob, run_job
from portal.mail import services as mail
from portal.mail.models import OutboxMessage
from tests.factories import make_enterprise, make_permit, make_user

TODAY = date(2026, 3, 2)


def _messages(db) -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))


def _setup(db):
    ent = make_enterprise(name="涟水绿源化工有限公司")
    soon = make_permit(ent, 1, valid_from=date(2021, 4, 1), valid_to=TODAY + timedelta(days=30))
    make_permit(ent, 2, valid_from=date(2021, 1, 1), valid_to=TODAY - timedelta(days=1))     # expired
    make_permit(ent, 3, valid_from=date(2024, 1, 1), valid_to=TODAY + timedelta(days=61))    # too far
    edge = make_permit(ent, 4, valid_from=date(2021, 1, 1), valid_to=TODAY + timedelta(days=60))
    staff = make_user(Role.ENTERPRISE_STAFF, enterprise=ent, email="staff@example.cn")
    signer = make_user(Role.ENTERPRISE_SIGNATORY, enterprise=ent, email="sign@example.cn", locale="en")
    make_user(Role.ENTERPRISE_STAFF, enterprise=ent, email=None)                  # no address: skipped
    make_user(Role.ENTERPRISE_STAFF, email="unbound@example.cn")                  # not bound: skipped
    make_user(Role.REGULATOR, email="reg@example.cn")
    other = make_enterprise()
    make_permit(other, 1, valid_from=date(2021, 1, 1), valid_to=TODAY + timedelta(days=10))  # nobody to tell
    db.session.commit()
    return soon, edge, staff, signer


def test_renewal_reminders_go_once_to_each_bound_user_even_when_run_twice(db, app):
    soon, edge, staff, signer = _setup(db)
    first = run_job(app, "permit-renewal-reminders", today=TODAY)
    second = run_job(app, "permit-renewal-reminders", today=TODAY)
    assert first.ok and second.ok and "queued 4" in first.detail and "queued 0" in second.detail
    messages = _messages(db)
    keys = sorted(m.dedupe_key for m in messages)
    assert keys == sorted(f"permit-renewal:{p.id}:{p.valid_to}:{u.id}" for p in (soon, edge) for u in (staff, signer))
    assert {m.to_address for m in messages} == {"staff@example.cn", "sign@example.cn"}
    chinese = next(m for m in messages if m.to_address == "staff@example.cn" and soon.permit_no in m.subject)
    assert "排污许可证" in chinese.subject and "涟水绿源化工有限公司" in chinese.body_text
    assert "/enterprises/" in chinese.body_text and "30" in chinese.body_text
    english = next(m for m in messages if m.to_address == "sign@example.cn")
    assert english.subject.startswith("Pollutant discharge permit")


def test_a_changed_expiry_date_gets_a_new_reminder(db, app):
    soon, _edge, _staff, _signer = _setup(db)
    run_job(app, "permit-renewal-reminders", today=TODAY)
    soon = db.session.merge(soon)
    soon.valid_to = TODAY + timedelta(days=20)
    db.session.commit()
    assert "queued 2" in run_job(app, "permit-renewal-reminders", today=TODAY).detail


def test_send_outbox_job_delivers_and_records_the_run(db, app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_DIR", str(tmp_path))
    mail.queue_mail("a@example.cn", "主题", "正文")
    db.session.commit()
    outcome = run_job(app, "send-outbox")
    assert outcome.ok and outcome.detail == "sent 1, failed 0"
    assert len(list(tmp_path.glob("*.eml"))) == 1
    run = db.session.get(JobRun, outcome.run_id)
    assert (run.name, run.trigger, run.status) == ("send-outbox", "manual", "ok") and run.finished_at


def test_a_failing_job_rolls_back_its_work_and_records_the_failure(db, app, monkeypatch):
    def boom():
        mail.queue_mail("a@example.cn", "half-written", "x")
        raise RuntimeError("disk on fire")

    monkeypatch.setitem(registry.JOBS, "boom", registry.Job("boom", boom, "0 3 * * *", "fails"))
    outcome = run_job(app, "boom")
    assert outcome.status == "failed" and "RuntimeError: disk on fire" in outcome.detail
    assert _messages(db) == []
    run = db.session.get(JobRun, outcome.run_id)
    assert run.status == "failed" and run.finished_at is not None


def test_unknown_jobs_are_refused(app):
    with pytest.raises(UnknownJob):
        run_job(app, "no-such-job")


def test_every_job_has_a_valid_crontab_in_china_time():
    assert {"send-outbox", "permit-renewal-reminders"} <= set(registry.JOBS)
    for job in registry.JOBS.values():
        trigger = job.trigger()
        assert isinstance(trigger, CronTrigger) and str(trigger.timezone) == "Asia/Shanghai"


def test_the_scheduler_registers_every_job_with_its_trigger_and_defaults(app):
    sched = scheduler.build_scheduler(app, BackgroundScheduler, jobstore=MemoryJobStore())
    sched.start(paused=True)
    try:
        jobs = {j.id: j for j in sched.get_jobs()}
        assert set(jobs) == set(registry.JOBS)
        daily = jobs["permit-renewal-reminders"]
        assert daily.func_ref == scheduler.ENTRY_POINT and daily.args == ("permit-renewal-reminders",)
        assert str(daily.trigger) == str(registry.JOBS["permit-renewal-reminders"].trigger())
        assert daily.coalesce is True and daily.max_instances == 1 and daily.misfire_grace_time == 300
        nxt = daily.trigger.get_next_fire_time(None, daily.trigger.start_date or _shanghai(2026, 3, 2, 9))
        assert (nxt.hour, nxt.minute, str(nxt.tzinfo)) == (8, 0, "Asia/Shanghai")
        assert str(sched.timezone) == "Asia/Shanghai"
    finally:
        sched.shutdown(wait=False)


def _shanghai(*args):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return datetime(*args, tzinfo=ZoneInfo("Asia/Shanghai"))


def test_the_default_jobstore_uses_the_portal_database(app):
    store = scheduler.default_jobstore(app)
    assert store.jobs_t.name == "apscheduler_jobs"


def test_the_scheduled_entry_point_runs_the_job_as_scheduler(db, app, monkeypatch):
    monkeypatch.setattr(scheduler, "_app", app)
    scheduler.run_scheduled("send-outbox")
    db.session.expire_all()
    run = db.session.scalars(sa.select(JobRun)).one()
    assert run.trigger == "scheduler" and run.status == "ok"


def test_cli_lists_and_runs_jobs(db, runner):
    listed = runner.invoke(args=["jobs", "list"])
    assert "send-outbox" in listed.output and "0 8 * * *" in listed.output
    result = runner.invoke(args=["jobs", "run", "send-outbox"])
    assert result.exit_code == 0 and "send-outbox: ok sent 0, failed 0" in result.output
    bad = runner.invoke(args=["jobs", "run", "nope"])
    assert bad.exit_code != 0 and "unknown job" in bad.output


def test_cli_exits_non_zero_when_a_job_fails(db, runner, monkeypatch):
    def boom():
        raise ValueError("bad data")

    monkeypatch.setitem(registry.JOBS, "boom", registry.Job("boom", boom, "0 3 * * *", "fails"))
    result = runner.invoke(args=["jobs", "run", "boom"])
    assert result.exit_code == 1 and "failed ValueError: bad data" in result.output


def test_a_run_killed_mid_work_is_marked_interrupted_by_the_next_run(db, app):
    from portal.db import utcnow

    killed = JobRun(name="send-outbox", trigger="scheduler", started_at=utcnow() - timedelta(hours=2),
                    status="running")
    recent = JobRun(name="send-outbox", trigger="manual", started_at=utcnow(), status="running")
    other = JobRun(name="credit-refresh", trigger="scheduler", started_at=utcnow() - timedelta(hours=2),
                   status="running")
    db.session.add_all([killed, recent, other])
    db.session.commit()
    ids = killed.id, recent.id, other.id
    assert run_job(app, "send-outbox").ok
    db.session.expire_all()
    statuses = [db.session.get(JobRun, i).status for i in ids]
    assert statuses == ["interrupted", "running", "running"]  # recent may still be working; other job untouched
    assert db.session.get(JobRun, ids[0]).finished_at is not None
