"""The preview of an upload (inline or background) and of one entered result shows what publishing will create:
values over their limits, the late-publication finding, new or continued exceedance incidents."""
from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import sqlalchemy as sa

from portal.auth.models import Role
from portal.core.clock import china_today
from portal.monitoring import imports, manual, services
from portal.monitoring.importers import ManualRow
from portal.monitoring.models import Basis, ExceedanceIncident, ImportJob, MonitoringValue
from portal.monitoring.rules import Verdict
from tests.factories import make_user
from tests.monitoring.helpers import water_setup

HEADER = "排放口编码,污染物编码,采样时间,监测结果,监测完成日期,检测机构,监测方法,数据标记\n"


def _file(tmp_path, rows: list[tuple[str, str, str]]):
    """rows: (day, time, value) of w01018 at DW001, completed on the sampling day."""
    path = tmp_path / "r.csv"
    path.write_text(HEADER + "".join(f"DW001,w01018,{d} {t},{v},{d},检测公司,HJ 828-2017,N\n" for d, t, v in rows),
                    encoding="utf-8")
    return path


def test_the_check_counts_values_over_the_limit_incident_episodes_and_one_late_finding(tmp_path, db):
    ent, outlet, _ = water_setup(db)
    old = china_today() - timedelta(days=40)
    recent = china_today() - timedelta(days=1)
    rows = [(old, "09:00", "150"), (old + timedelta(days=1), "09:00", "130"), (old + timedelta(days=5), "09:00", "120"),
            (old + timedelta(days=9), "09:00", "20"), (recent, "09:00", "30")]
    impact = manual.check_upload(ent, _file(tmp_path, rows)).impact
    assert impact.over_limit == 3 and [e[3] for e in impact.examples] == [150, 130, 120]
    assert (impact.new_incidents, impact.extended_incidents) == (2, 0)  # days 0-1 one episode, day 5 another
    assert (impact.late_findings, impact.late_groups, impact.late_rows) == (1, 4, 4)
    # an episode already open on the day before the first sample is continued, not opened again
    start = datetime.combine(old - timedelta(days=1), datetime.min.time()).replace(tzinfo=timezone.utc)
    services.open_incident(ent.id, outlet.id, "w01018", Basis.DAILY_MEAN, start, Verdict(140, 100, None, None, 0.4))
    impact = manual.check_upload(ent, _file(tmp_path, rows)).impact
    assert (impact.new_incidents, impact.extended_incidents) == (1, 1)
    result = manual.commit_upload(None, ent, _file(tmp_path, rows), "r.csv")
    assert result.incidents == 1 and db.session.scalar(sa.select(sa.func.count()).select_from(ExceedanceIncident)) == 2


def test_a_compliant_on_time_upload_creates_nothing(tmp_path, db):
    ent, _, _ = water_setup(db)
    impact = manual.check_upload(ent, _file(tmp_path, [(china_today() - timedelta(days=1), "09:00", "30")])).impact
    assert (impact.over_limit, impact.late_findings, impact.new_incidents) == (0, 0, 0)


def test_the_upload_preview_page_shows_the_consequences_before_the_confirmation(client, db, login, tmp_path):
    ent, _, _ = water_setup(db)
    login(make_user(Role.ENTERPRISE_STAFF, enterprise=ent))
    db.session.commit()
    old = china_today() - timedelta(days=40)
    text = HEADER + f"DW001,w01018,{old} 09:00,150,{old},检测公司,HJ 828-2017,N\n"
    response = client.post("/monitoring/my/results/upload", data={"file": (io.BytesIO(text.encode()), "r.csv")},
                           content_type="multipart/form-data", headers={"Accept-Language": "en"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "impact-h" in body
    assert "1 late-publication finding" in body or "1 条逾期公开发现" in body
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MonitoringValue)) == 0


def test_a_background_import_keeps_its_impact_for_the_preview(client, db, login, app, monkeypatch):
    monkeypatch.setitem(app.config, "MONITORING_IMPORT_INLINE_BYTES", 0)
    ent, _, _ = water_setup(db)
    login(make_user(Role.ENTERPRISE_STAFF, enterprise=ent))
    db.session.commit()
    old = china_today() - timedelta(days=40)
    text = HEADER + f"DW001,w01018,{old} 09:00,150,{old},检测公司,HJ 828-2017,N\n"
    client.post("/monitoring/my/results/upload", data={"file": (io.BytesIO(text.encode()), "r.csv")},
                content_type="multipart/form-data")
    imports.run_pending()
    job = db.session.scalar(sa.select(ImportJob))
    db.session.refresh(job)
    assert job.impact["over_limit"] == 1 and job.impact["new_incidents"] == 1 and job.impact["late_findings"] == 1
    page = client.get(f"/monitoring/my/imports/{job.id}").get_data(as_text=True)
    assert "impact-h" in page and "150" in page


def test_one_entered_result_is_previewed_then_published_only_with_the_same_values(client, db, login):
    ent, _, _ = water_setup(db)
    login(make_user(Role.ENTERPRISE_STAFF, enterprise=ent))
    db.session.commit()
    day = china_today() - timedelta(days=40)
    data = {"outlet": "DW001|w01018", "sampled_at": f"{day}T09:30", "value": "180", "completed_on": day.isoformat(),
            "production_load": "85", "facility_status": "running"}
    preview = client.post("/monitoring/my/results", data=data).get_data(as_text=True)
    assert "impact-h" in preview and "180" in preview
    digest = preview.split('name="preview_of" value="')[1].split('"')[0]
    changed = client.post("/monitoring/my/results", data={**data, "value": "181", "preview_of": digest})
    assert changed.status_code == 200 and "181" in changed.get_data(as_text=True)  # previewed again, not saved
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MonitoringValue)) == 0
    client.post("/monitoring/my/results", data={**data, "preview_of": digest})
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MonitoringValue)) == 1
    impact = manual.preview_one(ent, ManualRow(line=0, outlet="DW001", pollutant="w01018",
                                               sampled_at=datetime.combine(day, datetime.min.time()), value=5.0,
                                               completed_on=day, production_load=Decimal("85"),
                                               facility_status="running"))
    assert (impact.over_limit, impact.late_findings, impact.extended_incidents) == (0, 1, 0)
