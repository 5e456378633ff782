"""Silent devices (issue 19, 监测条例 Art. 23): silence past HJ212_SILENCE_HOURS opens one unconfirmed finding per
episode in the hourly job; a timely Art. 23 report proposes nothing; a report filed later is shown beside the open
finding on the device page; no public verdict moves until two regulators confirm."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import sqlalchemy as sa

from portal.credit import findings as credit_findings
from portal.credit.models import Evidence, EvidenceKind
from portal.integrity.anomaly_rules import AnomalyCause
from portal.integrity.models import TransmissionAnomalyReport
from portal.monitoring import jobs, silence
from portal.monitoring.models import MonitoringFinding
from tests.factories import make_user
from tests.monitoring.helpers import water_setup

T0 = datetime(2026, 11, 1, 1, 0, tzinfo=timezone.utc)  # 09:00 China time


def _silent_since(db, device, when=T0):
    device.last_data_at = device.last_heartbeat_at = when
    db.session.flush()


def _report(db, ent, device, noticed, reported, repaired=None):
    report = TransmissionAnomalyReport(
        enterprise_id=ent.id, region_code=ent.region_code, device_id=device.id, noticed_at=noticed,
        reported_at=reported, report_due_at=noticed + timedelta(hours=12), repair_due_on=noticed.date(),
        cause=AnomalyCause.NETWORK, description="4G router failed", manual_substitute="manual sampling daily",
        repaired_at=repaired)
    db.session.add(report)
    db.session.flush()
    return report


def _evidence(db):
    return db.session.scalars(sa.select(Evidence).where(Evidence.kind == EvidenceKind.MONITORING_GAP)).all()


def test_a_silence_past_the_threshold_opens_one_unconfirmed_finding_however_often_the_job_runs(db, app):
    _, _, device = water_setup(db)
    _silent_since(db, device)
    assert silence.find_silences(T0 + timedelta(hours=4)) == 0  # not past 4 h yet
    assert silence.find_silences(T0 + timedelta(hours=5)) == 1
    assert silence.find_silences(T0 + timedelta(hours=6)) == 0  # the same episode
    assert "0 new silences" in jobs.hourly_checks(T0 + timedelta(hours=7))
    [finding] = db.session.scalars(sa.select(MonitoringFinding).where(MonitoringFinding.kind == "silence")).all()
    assert finding.since == T0
    [ev] = _evidence(db)
    assert ev.source_ref == finding.ref and ev.details["reason"] == "silence"
    assert not ev.is_verified and ev.recorded_by_id is None  # a finding: nothing scores until two people confirm
    assert credit_findings.status_of(ev) == credit_findings.Status.DETECTED


def test_the_threshold_is_a_setting_and_inactive_devices_are_ignored(db, app, monkeypatch):
    _, _, device = water_setup(db)
    _silent_since(db, device)
    monkeypatch.setitem(app.config, "HJ212_SILENCE_HOURS", 10)
    assert silence.find_silences(T0 + timedelta(hours=9)) == 0
    device.is_active = False
    assert silence.find_silences(T0 + timedelta(hours=11)) == 0
    device.is_active = True
    assert silence.find_silences(T0 + timedelta(hours=11)) == 1


def test_a_new_silence_after_the_device_spoke_again_is_a_new_episode(db, app):
    _, _, device = water_setup(db)
    _silent_since(db, device)
    assert silence.find_silences(T0 + timedelta(hours=5)) == 1
    _silent_since(db, device, T0 + timedelta(hours=8))
    assert silence.find_silences(T0 + timedelta(hours=10)) == 0
    assert silence.find_silences(T0 + timedelta(hours=13)) == 1
    assert len(_evidence(db)) == 2


def test_a_silence_covered_by_a_timely_art23_report_proposes_nothing(db, app):
    ent, _, device = water_setup(db)
    _silent_since(db, device)
    _report(db, ent, device, noticed=T0 + timedelta(minutes=30), reported=T0 + timedelta(hours=2))
    assert silence.find_silences(T0 + timedelta(hours=5)) == 0
    assert silence.find_silences(T0 + timedelta(hours=30)) == 0
    assert _evidence(db) == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MonitoringFinding)) == 0


def test_a_late_report_does_not_prevent_the_finding(db, app):
    ent, _, device = water_setup(db)
    _silent_since(db, device)
    _report(db, ent, device, noticed=T0, reported=T0 + timedelta(hours=20))  # 12 h allowed
    assert silence.find_silences(T0 + timedelta(hours=21)) == 1


def test_a_report_filed_in_time_after_the_finding_is_shown_beside_it_on_the_device_page(client, db, login):
    ent, _, device = water_setup(db)
    _silent_since(db, device)
    assert silence.find_silences(T0 + timedelta(hours=5)) == 1
    report = _report(db, ent, device, noticed=T0 + timedelta(hours=1), reported=T0 + timedelta(hours=6))
    [(finding, linked)] = silence.device_silences(device)
    assert linked is report
    db.session.commit()
    regulator = make_user(jurisdiction_code="3208")
    db.session.commit()
    page = login(regulator).get(f"/monitoring/devices/{device.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="silences"' in html and f"#{report.id}" in html


def test_the_enterprise_sees_its_open_silence_finding_and_what_it_must_do(client, db, login):
    from portal.auth.models import Role

    ent, _, device = water_setup(db)
    _silent_since(db, device)
    assert silence.find_silences(T0 + timedelta(hours=5)) == 1
    user = make_user(Role.ENTERPRISE_STAFF, enterprise=ent)
    db.session.commit()
    page = login(user).get(f"/monitoring/my/devices/{device.id}")
    assert page.status_code == 200 and "no-store" in page.headers["Cache-Control"]
    html = page.get_data(as_text=True)
    section = html.split('id="silences"')[1].split("</table>")[0]
    assert "/my/integrity/anomalies" in section  # where to file the Art. 23 report
