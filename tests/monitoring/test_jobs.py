"""The hourly monitoring job: gaps of automatic data and daily means of ended days; idempotent."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from portal.credit.models import Evidence, EvidenceKind
from portal.jobs.registry import JOBS
from portal.monitoring import jobs, services
from portal.monitoring.models import Basis, ExceedanceIncident, MonitoringFinding
from tests.monitoring.helpers import packet, water_setup

T0 = datetime(2026, 11, 1, 1, 0, tzinfo=timezone.utc)  # 09:00 China time


def _send(device, when_local: str, value: str = "Avg=30", now=T0):
    services.ingest_hj212(packet(device.mn, 2061, when_local, {"w01018": value, "w01001": "Avg=7"}), now=now)


def test_the_job_is_registered_hourly():
    assert JOBS["monitoring-gaps"].func is jobs.hourly_checks
    assert JOBS["monitoring-gaps"].cron.split()[1] == "*"


def test_a_gap_of_24_hours_becomes_one_finding_and_one_evidence_however_often_the_job_runs(db, app):
    _, _, device = water_setup(db)
    _send(device, "20261101090000")
    assert jobs.find_gaps(T0 + timedelta(hours=24)) == 0  # 23 whole hours without a value: not yet
    assert jobs.find_gaps(T0 + timedelta(hours=26)) == 2  # COD and pH
    assert jobs.find_gaps(T0 + timedelta(hours=30)) == 0
    findings = db.session.scalars(sa.select(MonitoringFinding).order_by(MonitoringFinding.pollutant_code)).all()
    assert [f.pollutant_code for f in findings] == ["w01001", "w01018"]
    assert findings[0].since == T0 + timedelta(hours=1)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Evidence).where(
        Evidence.kind == EvidenceKind.MONITORING_GAP)) == 2


def test_flagged_hours_do_not_end_a_gap(db):
    _, _, device = water_setup(db)
    _send(device, "20261101090000")
    services.ingest_hj212(packet(device.mn, 2061, "20261102080000", {"w01018": "Avg=30,Flag=D",
                                                                       "w01001": "Avg=7,Flag=D"}),
                           now=T0 + timedelta(hours=24))  # received when sent: a DataTime ahead of "now" is refused
    assert jobs.find_gaps(T0 + timedelta(hours=26)) == 2


def test_data_arriving_again_ends_the_gap_and_a_new_gap_is_a_new_finding(db):
    _, _, device = water_setup(db)
    _send(device, "20261101090000")
    jobs.find_gaps(T0 + timedelta(hours=26))
    _send(device, "20261102110000", now=T0 + timedelta(hours=26))
    assert jobs.find_gaps(T0 + timedelta(hours=27)) == 0
    assert jobs.find_gaps(T0 + timedelta(hours=60)) == 2


def test_a_device_that_never_sent_data_has_a_gap_from_its_registration(db):
    _, _, device = water_setup(db)
    db.session.flush()
    assert jobs.find_gaps(device.created_at + timedelta(hours=25)) == 2


def test_the_job_judges_daily_means_of_days_that_have_ended(db):
    _, _, device = water_setup(db)
    _send(device, "20261101090000", "Avg=180", now=T0)  # the day is still running at ingest
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ExceedanceIncident)) == 0
    assert jobs.judge_ended_days(T0 + timedelta(days=1)) == 1
    assert jobs.judge_ended_days(T0 + timedelta(days=1)) == 0
    assert db.session.scalar(sa.select(ExceedanceIncident.basis)) == Basis.DAILY_MEAN


def test_the_job_runs_through_the_runner(app, db, runner):
    water_setup(db)
    db.session.commit()
    result = runner.invoke(args=["jobs", "run", "monitoring-gaps"])
    assert result.exit_code == 0, result.output


def test_unconfirmed_uploads_older_than_a_day_are_removed(app, db):
    import os
    import time

    from portal.core.storage import files

    folder = files("monitoring-uploads").root
    assert str(folder).startswith(app.config["TEST_INSTANCE"])
    folder.mkdir(parents=True, exist_ok=True)
    old, fresh = folder / "old-token", folder / "fresh-token"
    old.write_bytes(b"x")
    fresh.write_bytes(b"y")
    two_days_ago = time.time() - 48 * 3600
    os.utime(old, (two_days_ago, two_days_ago))
    assert jobs.remove_stale_uploads() == 1
    assert not old.exists() and fresh.exists()
    fresh.unlink()
