"""Transmission-anomaly reports (监测条例 Art. 23): the form, deadlines, states and who may move them, the
regulators' view, R12 quiet when a timely report covers a silence, and the Art. 26 retention minimum."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from portal import InvalidConfiguration, create_app
from portal.audit.models import AuditRecord
from portal.auth.models import Role
from portal.config import TestConfig
from portal.core.clock import china_tz
from portal.db import utcnow
from portal.errors import InvalidTransition, NotFound, ValidationFailed
from portal.integrity import anomalies, anomaly_rules, scanning
from portal.integrity.anomaly_rules import AnomalyState
from portal.integrity.models import IntegrityFlag, TransmissionAnomalyReport
from portal.workdays import services as workdays
from tests.factories import make_enterprise, make_outlet, make_user
from tests.integrity.series import T0, clean, copy
from tests.integrity.world import add_device, make_anomaly_report, store


@pytest.fixture
def setup(db):
    ent = make_enterprise(region_code="320826")
    outlet = make_outlet(ent, "DW001")
    device = add_device(ent, outlet, "MNANOM0001")
    staff = make_user(Role.ENTERPRISE_STAFF, enterprise=ent)
    other = make_enterprise(region_code="320826")
    other_staff = make_user(Role.ENTERPRISE_STAFF, enterprise=other)
    regulator = make_user(Role.REGULATOR, jurisdiction_code="3208")
    stranger = make_user(Role.REGULATOR, jurisdiction_code="2101")
    db.session.commit()
    return ent, device, staff, other_staff, regulator, stranger


def _local(dt: datetime) -> str:
    return dt.astimezone(china_tz()).strftime("%Y-%m-%dT%H:%M")


def test_deadlines_are_twelve_hours_and_five_working_days():
    noticed = datetime(2025, 9, 30, 10, 0, tzinfo=china_tz())
    assert anomaly_rules.report_due(noticed) == noticed + timedelta(hours=12)
    # Noticed on 30 September 2025: the National Day holiday (1–8 October) is not counted, the make-up Saturday
    # 11 October is: 9, 10, 11, 13, 14 October.
    assert anomaly_rules.repair_due(noticed.date(), workdays.is_workday) == datetime(2025, 10, 14).date()
    assert anomaly_rules.is_report_late(noticed + timedelta(hours=13), anomaly_rules.report_due(noticed))
    assert not anomaly_rules.is_report_late(noticed + timedelta(hours=12), anomaly_rules.report_due(noticed))


def test_the_enterprise_reports_repairs_and_the_regulator_closes(db, client, login, setup):
    ent, device, staff, _other, regulator, _stranger = setup
    page = login(staff).get("/my/integrity/anomalies?lang=en")
    assert page.status_code == 200 and "MNANOM0001" in page.get_data(as_text=True)
    noticed = utcnow() - timedelta(hours=2)
    response = client.post("/my/integrity/anomalies", data={
        "r-device_id": str(device.id), "r-noticed_at": _local(noticed), "r-cause": "network",
        "r-description": "数采仪网络模块故障，数据中断", "r-manual_substitute": "每6小时手工采样监测"})
    assert response.status_code == 302, response.get_data(as_text=True)
    report = db.session.scalar(sa.select(TransmissionAnomalyReport))
    assert report.state == AnomalyState.REPORTED and report.reported_by_id == staff.id
    assert report.report_due_at == report.noticed_at + timedelta(hours=12)
    assert not anomalies.timeliness(report)["report_late"]

    response = client.post(f"/my/integrity/anomalies/{report.id}/repair", data={
        f"p{report.id}-repaired_at": _local(utcnow() - timedelta(minutes=10)),
        f"p{report.id}-note": "更换网络模块，恢复传输"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(TransmissionAnomalyReport, report.id).state == AnomalyState.REPAIRED

    listing = login(regulator).get("/regulator/integrity/anomalies?lang=en").get_data(as_text=True)
    assert ent.name in listing and "on time" in listing
    response = client.post(f"/regulator/integrity/anomalies/{report.id}/close",
                           data={f"c{report.id}-note": "已核实，恢复正常"})
    assert response.status_code == 302
    db.session.expire_all()
    closed = db.session.get(TransmissionAnomalyReport, report.id)
    assert closed.state == AnomalyState.CLOSED and closed.closed_by_id == regulator.id
    actions = set(db.session.scalars(sa.select(AuditRecord.action).where(
        AuditRecord.object_type == "integrity_anomaly_reports")))
    assert actions == {"integrity.anomaly.report", "integrity.anomaly.repair", "integrity.anomaly.close"}


def test_bad_input_names_the_field_and_writes_nothing(db, client, login, setup):
    _ent, device, staff, _other, _reg, _stranger = setup
    login(staff)
    response = client.post("/my/integrity/anomalies?lang=en", data={
        "r-device_id": str(device.id), "r-noticed_at": _local(utcnow() + timedelta(days=2)), "r-cause": "network",
        "r-description": "断", "r-manual_substitute": "每6小时手工采样监测"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "cannot be in the future" in page and "at least 5 characters" in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TransmissionAnomalyReport)) == 0


def test_another_enterprises_device_cannot_be_reported(db, setup):
    _ent, device, _staff, other_staff, _reg, _stranger = setup
    with pytest.raises(ValidationFailed) as exc:
        anomalies.file_report(other_staff, other_staff.enterprise_id, device_id=device.id,
                              noticed_at=utcnow() - timedelta(hours=1), cause="power", description="停电导致中断",
                              manual_substitute="手工监测替代")
    assert "device_id" in exc.value.errors


def test_states_and_permissions(db, client, login, setup):
    ent, device, staff, other_staff, regulator, stranger = setup
    report = make_anomaly_report(db, ent, device)
    db.session.commit()
    with pytest.raises(InvalidTransition):  # the repair must be recorded before a regulator closes it
        anomalies.close(report, regulator, note="提前关闭尝试")
    with pytest.raises(NotFound):
        anomalies.get_for_enterprise(other_staff, report.id)
    with pytest.raises(NotFound):
        anomalies.get_for_regulator(stranger, report.id)
    with pytest.raises(NotFound):
        anomalies.get_for_regulator(staff, report.id)
    login(other_staff)
    response = client.post(f"/my/integrity/anomalies/{report.id}/repair", data={
        f"p{report.id}-repaired_at": _local(utcnow()), f"p{report.id}-note": "不是我们的设备"})
    assert response.status_code == 404
    login(staff)
    assert client.post(f"/regulator/integrity/anomalies/{report.id}/close",
                       data={f"c{report.id}-note": "企业不能关闭"}).status_code == 403
    anomalies.record_repair(report, staff, repaired_at=utcnow(), note="已修复传输链路")
    with pytest.raises(InvalidTransition):
        anomalies.record_repair(report, staff, repaired_at=utcnow(), note="再次修复传输链路")
    with pytest.raises(ValidationFailed):
        anomalies.close(report, regulator, note="")
    anomalies.close(report, regulator, note="核实无误，传输已恢复")
    assert report.state == AnomalyState.CLOSED
    assert stranger.jurisdiction_code and anomalies.for_regulator(stranger) == []


def test_a_repair_before_the_anomaly_is_refused(db, setup):
    ent, device, staff, _other, _reg, _stranger = setup
    report = make_anomaly_report(db, ent, device)
    with pytest.raises(ValidationFailed) as exc:
        anomalies.record_repair(report, staff, repaired_at=report.noticed_at - timedelta(hours=1), note="时间写错了")
    assert "repaired_at" in exc.value.errors


@pytest.fixture
def silent(db):
    """An outlet whose device goes silent for ten hours at T0 + 400 h."""
    ent = make_enterprise(region_code="320826")
    outlet = make_outlet(ent, "DW001")
    device = add_device(ent, outlet, "MNSILENT01")
    device.created_at = T0 - timedelta(days=1)
    series = copy(clean(level=40.0, seed=5))
    for i in range(400, 410):
        series.values[i], series.flags[i] = None, ""
    store(outlet, "w01018", series)
    db.session.commit()
    return ent, device, T0 + timedelta(hours=400)


def _r12(db, ent) -> list[IntegrityFlag]:
    scanning.scan(ent.uscc, T0, T0 + timedelta(days=30))
    return list(db.session.scalars(sa.select(IntegrityFlag).where(IntegrityFlag.enterprise_id == ent.id,
                                                                  IntegrityFlag.rule_id == "R12")))


def test_r12_is_raised_on_an_unreported_silence(db, silent):
    ent, _device, _start = silent
    assert len(_r12(db, ent)) == 1


def test_r12_is_quiet_when_a_timely_report_covers_the_silence(db, silent):
    ent, device, start = silent
    report = make_anomaly_report(db, ent, device, noticed_at=start + timedelta(hours=1))
    report.reported_at = start + timedelta(hours=3)
    db.session.commit()
    assert _r12(db, ent) == []


def test_r12_still_flags_a_silence_reported_too_late(db, silent):
    ent, device, start = silent
    report = make_anomaly_report(db, ent, device, noticed_at=start + timedelta(hours=1))
    report.reported_at = start + timedelta(hours=20)  # 19 hours after noticing: not timely
    db.session.commit()
    assert len(_r12(db, ent)) == 1


@pytest.mark.parametrize("years", [4, 0, "three"])
def test_the_app_refuses_to_start_with_less_than_five_years_of_raw_records(years):
    settings = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    with pytest.raises(InvalidConfiguration, match="RAW_RECORD_RETENTION_YEARS"):
        create_app({**settings, "RAW_RECORD_RETENTION_YEARS": years})


def test_five_or_more_years_are_accepted(app):
    assert app.config["RAW_RECORD_RETENTION_YEARS"] >= 5
