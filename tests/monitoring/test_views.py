"""Monitoring routes: HJ 212 intake, public API/CSV/section, regulator devices and incidents, enterprise explanations."""
from __future__ import annotations

import io
import re
from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from portal.audit.models import AuditRecord
from portal.auth.models import Role
from portal.monitoring import services
from portal.monitoring.models import Device, ExceedanceIncident, IncidentState, MonitoringValue
from tests.factories import make_enterprise, make_outlet, make_user
from tests.monitoring.helpers import packet, water_setup


def _incident(db, device, day="20261101"):
    body = b"".join(packet(device.mn, 2061, f"{day}{h:02d}0000", {"w01018": "Avg=150"}) for h in range(2))
    services.ingest_hj212(body, now=datetime(2026, 11, 5, tzinfo=timezone.utc))
    db.session.commit()
    return db.session.scalar(sa.select(ExceedanceIncident).where(ExceedanceIncident.outlet_id == device.outlet_id))


# --- HJ 212 intake ------------------------------------------------------------------------------------------------

def test_devices_post_packets_anonymously_and_get_one_result_per_line(client, db):
    _, _, device = water_setup(db)
    db.session.commit()
    body = packet(device.mn, 2061, "20261101090000", {"w01018": "Avg=35"}, qn="20261101100000001") + b"##0001x\r\n"
    response = client.post("/api/v1/monitoring/hj212", data=body, content_type="text/plain")
    assert response.status_code == 200
    assert [r["result"] for r in response.json["results"]] == ["accepted", "bad_length"]
    assert response.json["meta"] == {"packets": 2, "accepted": 1}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MonitoringValue)) == 1


def test_the_intake_needs_no_csrf_token_even_when_csrf_is_on(app, client, db):
    _, _, device = water_setup(db)
    db.session.commit()
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = client.post("/api/v1/monitoring/hj212", data=packet(device.mn, 2061, "20261101090000",
                                                                        {"w01018": "Avg=35"}))
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert response.json["results"][0]["result"] == "accepted"


def test_an_empty_intake_body_is_a_json_400(client):
    response = client.post("/api/v1/monitoring/hj212", data=b"  \r\n")
    assert response.status_code == 400
    assert response.json["error"]["code"] == "invalid_parameter"


# --- public ----------------------------------------------------------------------------------------------------------

def test_the_public_api_returns_roll_ups_with_limit_and_exceedance_marks(client, db):
    ent, _, device = water_setup(db)
    _incident(db, device)
    response = client.get(f"/api/v1/enterprises/{ent.uscc}/monitoring?outlet=DW001&pollutant=w01018"
                          "&from=2026-11-01&to=2026-11-01&resolution=day")
    assert response.status_code == 200
    [series] = response.json["data"]
    assert (series["limit_value"], series["unit"]) == (100.0, "mg/L")
    assert series["points"] == [{"period": "2026-11-01T00:00:00+08:00", "mean": 150.0, "min": 150.0, "max": 150.0,
                                 "valid": 2, "total": 2, "exceeds": True}]
    assert series["incidents"][0]["basis"] == "daily_mean"


def test_every_series_gets_its_own_points_and_incidents(client, db):
    ent, _, device = water_setup(db)
    _incident(db, device)  # w01018 exceeds its daily limit on 2026-11-01
    body = packet(device.mn, 2061, "20261102080000", {"w01001": "Avg=7.1"})
    services.ingest_hj212(body, now=datetime(2026, 11, 5, tzinfo=timezone.utc))
    db.session.commit()
    response = client.get(f"/api/v1/enterprises/{ent.uscc}/monitoring?from=2026-11-01&to=2026-11-02&resolution=day")
    by_code = {s["pollutant"]: s for s in response.json["data"]}
    assert [p["period"][:10] for p in by_code["w01018"]["points"]] == ["2026-11-01"]
    assert [p["period"][:10] for p in by_code["w01001"]["points"]] == ["2026-11-02"]
    assert len(by_code["w01018"]["incidents"]) == 1 and by_code["w01001"]["incidents"] == []


@pytest.mark.parametrize("query, name", [("resolution=week", "resolution"), ("from=2026-13-01", "from"),
                                         ("from=2026-11-02&to=2026-11-01", "from"),
                                         ("resolution=hour&from=2020-01-01&to=2026-01-01", "from"),
                                         ("pollutant=a99999", "pollutant"), ("colour=red", "colour")])
def test_bad_api_parameters_are_400s_naming_the_parameter(client, db, query, name):
    ent, _, _ = water_setup(db)
    db.session.commit()
    response = client.get(f"/api/v1/enterprises/{ent.uscc}/monitoring?{query}")
    assert response.status_code == 400
    assert name in response.json["error"]["message"]


def test_unknown_and_malformed_credit_codes(client, db):
    assert client.get("/api/v1/enterprises/91320826MA1XXXXXX0/monitoring").status_code in (400, 404)
    assert client.get("/api/v1/enterprises/nonsense/monitoring").status_code == 400
    assert client.get("/enterprises/nonsense/monitoring.csv").status_code == 404


def test_the_enterprise_page_shows_the_section_with_chart_table_and_csv_link(client, db):
    ent, _, device = water_setup(db)
    _incident(db, device)
    html = client.get(f"/enterprises/{ent.uscc}?m_resolution=day&m_from=2026-11-01&m_to=2026-11-02").text
    assert 'class="monitoring-chart"' in html
    assert "vendor/echarts/echarts.min.js" in html
    assert f"/enterprises/{ent.uscc}/monitoring.csv?" in html
    assert "<caption>DW001" in html
    assert re.search(r'<tr class="exceeds"><td>2026-11-0[12] 00:00</td><td>[0-9.]+</td><td>[0-9.]+</td>'
                     r'<td>[0-9.]+</td><td>\d+ / \d+</td><td>是</td></tr>', html)  # a whole row, label translated


def test_a_bad_range_on_the_enterprise_page_falls_back_with_a_message(client, db):
    ent, _, _ = water_setup(db)
    db.session.commit()
    response = client.get(f"/enterprises/{ent.uscc}?m_resolution=week")
    assert response.status_code == 200
    assert 'role="alert"' in response.text


def test_csv_download_has_a_bom_and_one_row_per_period(client, db):
    ent, _, device = water_setup(db)
    _incident(db, device)
    response = client.get(f"/enterprises/{ent.uscc}/monitoring.csv?resolution=hour&from=2026-11-01&to=2026-11-01")
    assert response.status_code == 200
    text = response.data.decode("utf-8")
    assert text.startswith("\ufeff")
    lines = text.strip().splitlines()
    assert len(lines) == 1 + 2 + 0  # header + two hours of COD (pH has no data)
    assert lines[1].split(",")[:2] == ["DW001", "w01018"]


# --- regulator devices ------------------------------------------------------------------------------------------------

def test_anonymous_users_are_sent_to_log_in_for_devices(client):
    assert "/auth/login" in client.get("/monitoring/devices").headers["Location"]


def test_enterprise_users_may_not_manage_devices(client, db, login):
    ent, _, _ = water_setup(db)
    login(make_user(Role.ENTERPRISE_STAFF, enterprise=ent))
    db.session.commit()
    assert client.get("/monitoring/devices").status_code == 403


def test_a_regulator_sees_and_registers_devices_in_the_jurisdiction(client, db, login):
    ent, _, device = water_setup(db)
    regulator = make_user(Role.REGULATOR, jurisdiction_code="3208")
    db.session.commit()
    login(regulator)
    assert device.mn in client.get("/monitoring/devices").text
    response = client.post("/monitoring/devices", data={"mn": "MNNEW01", "password": "pw1", "uscc": ent.uscc,
                                                        "outlet": "dw001"})
    assert response.status_code == 302
    new = db.session.scalar(sa.select(Device).where(Device.mn == "MNNEW01"))
    assert new.password_hash != "pw1"
    assert db.session.scalar(sa.select(AuditRecord).where(AuditRecord.action == "monitoring.device.add",
                                                          AuditRecord.object_id == str(new.id))) is not None


def test_a_regulator_cannot_register_a_device_outside_the_jurisdiction(client, db, login):
    foreign = make_enterprise(region_code="210100")
    make_outlet(foreign, "DW001")
    login(make_user(Role.REGULATOR, jurisdiction_code="3208"))
    db.session.commit()
    response = client.post("/monitoring/devices", data={"mn": "MNX", "password": "pw", "uscc": foreign.uscc,
                                                        "outlet": "DW001"})
    assert response.status_code == 400
    assert db.session.scalar(sa.select(Device).where(Device.mn == "MNX")) is None


def test_duplicate_mn_and_unknown_outlet_are_field_errors(client, db, login):
    ent, _, device = water_setup(db)
    login(make_user(Role.REGULATOR, jurisdiction_code="3208"))
    db.session.commit()
    response = client.post("/monitoring/devices", data={"mn": device.mn, "password": "pw", "uscc": ent.uscc,
                                                        "outlet": "DW001"})
    assert response.status_code == 400
    response = client.post("/monitoring/devices", data={"mn": "MNY", "password": "pw", "uscc": ent.uscc,
                                                        "outlet": "DA009"})
    assert response.status_code == 400
    assert 'id="outlet-error"' in response.text


def test_device_registration_without_a_csrf_token_is_refused(app, client, db, login):
    ent, _, _ = water_setup(db)
    login(make_user(Role.REGULATOR, jurisdiction_code="3208"))
    db.session.commit()
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = client.post("/monitoring/devices", data={"mn": "MNZ", "password": "pw", "uscc": ent.uscc,
                                                            "outlet": "DW001"})
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code == 400
    assert db.session.scalar(sa.select(Device).where(Device.mn == "MNZ")) is None


# --- incidents ----------------------------------------------------------------------------------------------------

def test_regulators_see_incidents_of_their_jurisdiction_only(client, db, login):
    _, _, device = water_setup(db)
    _, _, foreign_device = water_setup(db, mn="MNFOREIGN", region_code="210100")
    own, foreign = _incident(db, device), _incident(db, foreign_device)
    login(make_user(Role.REGULATOR, jurisdiction_code="3208"))
    db.session.commit()
    page = client.get("/monitoring/incidents").text
    assert f"#{own.id}<" in page and f"#{foreign.id}<" not in page
    assert client.get(f"/monitoring/incidents/{own.id}").status_code == 200
    assert client.get(f"/monitoring/incidents/{foreign.id}").status_code == 404
    assert client.post(f"/monitoring/incidents/{foreign.id}/close").status_code == 404


def test_the_enterprise_explains_and_the_regulator_closes(client, db, login):
    ent, _, device = water_setup(db)
    incident = _incident(db, device)
    staff = make_user(Role.ENTERPRISE_STAFF, enterprise=ent)
    regulator = make_user(Role.REGULATOR, jurisdiction_code="3208")
    db.session.commit()
    login(regulator)
    client.post(f"/monitoring/incidents/{incident.id}/close")
    assert db.session.get(ExceedanceIncident, incident.id).state == IncidentState.OPEN  # not explained yet
    login(staff)
    assert f"#{incident.id}<" in client.get("/monitoring/my/incidents").text
    response = client.post(f"/monitoring/my/incidents/{incident.id}",
                           data={"cause": "", "measures": "检修", "reported_on": "2026-11-02"})
    assert response.status_code == 400
    response = client.post(f"/monitoring/my/incidents/{incident.id}",
                           data={"cause": "曝气池故障", "measures": "更换风机", "reported_on": "2026-11-02"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(ExceedanceIncident, incident.id).state == IncidentState.EXPLAINED
    login(regulator)
    assert client.post(f"/monitoring/incidents/{incident.id}/close").status_code == 302
    db.session.expire_all()
    assert db.session.get(ExceedanceIncident, incident.id).state == IncidentState.CLOSED


def test_a_future_report_date_is_refused(client, db, login):
    ent, _, device = water_setup(db)
    incident = _incident(db, device)
    login(make_user(Role.ENTERPRISE_STAFF, enterprise=ent))
    db.session.commit()
    response = client.post(f"/monitoring/my/incidents/{incident.id}",
                           data={"cause": "a", "measures": "b", "reported_on": date(2999, 1, 1).isoformat()})
    assert response.status_code == 400
    assert 'id="reported_on-error"' in response.text


def test_another_enterprises_incident_is_not_found(client, db, login):
    _, _, device = water_setup(db)
    incident = _incident(db, device)
    other = make_enterprise()
    login(make_user(Role.ENTERPRISE_STAFF, enterprise=other))
    db.session.commit()
    assert client.get(f"/monitoring/my/incidents/{incident.id}").status_code == 404
    assert client.post(f"/monitoring/my/incidents/{incident.id}", data={"cause": "x", "measures": "y",
                                                                         "reported_on": "2026-11-02"}).status_code == 404


def test_regulators_may_not_use_the_enterprise_incident_pages(client, db, login):
    login(make_user(Role.REGULATOR, jurisdiction_code="3208"))
    db.session.commit()
    assert client.get("/monitoring/my/incidents").status_code == 403


# --- manual results -----------------------------------------------------------------------------------------------

def _upload(client, text: str, name: str = "r.csv"):
    return client.post("/monitoring/my/results/upload", data={"file": (io.BytesIO(text.encode("utf-8")), name)},
                       content_type="multipart/form-data")


def _rows(days_ago: int = 1) -> str:
    day = date.today() - timedelta(days=days_ago)
    return ("排放口编码,污染物编码,采样时间,监测结果,监测完成日期\n"
            f"DW001,w01018,{day} 09:30,35.6,{day}\nDW001,w21003,{day} 09:30,1.2,{day}\n")


def test_anonymous_and_regulators_cannot_open_manual_results(client, db, login):
    assert "/auth/login" in client.get("/monitoring/my/results").headers["Location"]
    login(make_user(Role.REGULATOR, jurisdiction_code="3208"))
    db.session.commit()
    assert client.get("/monitoring/my/results").status_code == 403
    assert client.post("/monitoring/my/results/commit", data={"token": "x"}).status_code == 403


def test_the_template_is_chinese_csv_with_a_bom(client, db, login):
    ent, _, _ = water_setup(db)
    login(make_user(Role.ENTERPRISE_STAFF, enterprise=ent))
    db.session.commit()
    response = client.get("/monitoring/my/results/template.csv")
    assert response.data.decode("utf-8").startswith("\ufeff排放口编码,污染物编码,采样时间")


def test_upload_preview_then_commit_publishes_every_row(client, db, login):
    ent, _, _ = water_setup(db)
    login(make_user(Role.ENTERPRISE_STAFF, enterprise=ent))
    db.session.commit()
    preview = _upload(client, _rows())
    assert preview.status_code == 200
    assert "DW001" in preview.text and db.session.scalar(sa.select(sa.func.count()).select_from(MonitoringValue)) == 0
    token = re.search(r'name="token"[^>]*value="([^"]+)"', preview.text).group(1)
    response = client.post("/monitoring/my/results/commit", data={"token": token})
    assert response.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MonitoringValue)) == 2
    again = client.post("/monitoring/my/results/commit", data={"token": token})  # a second click publishes nothing
    assert again.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MonitoringValue)) == 2


def test_an_upload_with_errors_lists_line_and_column_and_offers_no_commit(client, db, login):
    ent, _, _ = water_setup(db)
    login(make_user(Role.ENTERPRISE_STAFF, enterprise=ent))
    db.session.commit()
    response = _upload(client, _rows() + "DW001,w01018,bad,1,2026-11-01\n")
    assert response.status_code == 400
    assert "<td>4</td><td>采样时间</td>" in response.text
    assert 'name="token"' not in response.text


def test_a_file_that_is_not_csv_or_xlsx_is_refused_on_the_form(client, db, login):
    ent, _, _ = water_setup(db)
    login(make_user(Role.ENTERPRISE_STAFF, enterprise=ent))
    db.session.commit()
    response = client.post("/monitoring/my/results/upload",
                           data={"file": (io.BytesIO(b"\x00\x01binary"), "x.pdf")}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert 'id="file-error"' in response.text


def test_a_token_from_another_session_commits_nothing(client, db, login):
    ent, _, _ = water_setup(db)
    login(make_user(Role.ENTERPRISE_STAFF, enterprise=ent))
    db.session.commit()
    assert client.post("/monitoring/my/results/commit", data={"token": "forged"}).status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MonitoringValue)) == 0


def test_one_result_by_form_and_a_late_warning(client, db, login):
    ent, _, _ = water_setup(db)
    login(make_user(Role.ENTERPRISE_STAFF, enterprise=ent))
    db.session.commit()
    day = date.today() - timedelta(days=40)
    data = {"outlet": "DW001|w01018", "sampled_at": f"{day}T09:30", "value": "20", "completed_on": day.isoformat(),
            "production_load": "85", "facility_status": "running"}
    preview = client.post("/monitoring/my/results", data=data)
    assert preview.status_code == 200 and "preview_of" in preview.text  # first what it will create
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MonitoringValue)) == 0
    digest = preview.text.split('name="preview_of" value="')[1].split('"')[0]
    response = client.post("/monitoring/my/results", data={**data, "preview_of": digest}, follow_redirects=True)
    assert response.status_code == 200
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MonitoringValue)) == 1
    assert "late" in response.text or "逾期" in response.text


def test_the_result_form_names_the_bad_field(client, db, login):
    ent, _, _ = water_setup(db)
    login(make_user(Role.ENTERPRISE_STAFF, enterprise=ent))
    db.session.commit()
    response = client.post("/monitoring/my/results", data={"outlet": "DW001|w01018", "sampled_at": "2999-01-01T09:30",
                                                           "value": "x", "completed_on": "2999-01-02"})
    assert response.status_code == 400
    assert 'id="value-error"' in response.text


def test_an_enterprise_user_without_an_enterprise_is_refused(client, db, login):
    login(make_user(Role.ENTERPRISE_STAFF))
    db.session.commit()
    assert client.get("/monitoring/my/results").status_code == 403


def test_an_upload_without_a_csrf_token_is_refused(app, client, db, login):
    ent, _, _ = water_setup(db)
    login(make_user(Role.ENTERPRISE_STAFF, enterprise=ent))
    db.session.commit()
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = _upload(client, _rows())
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code == 400
    assert 'name="token"' not in response.text
