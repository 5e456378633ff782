"""Monitoring routes: HJ 212 intake, public API/CSV/section, regulator devices and incidents, enterprise explanations."""
from __future__ import annotations

from datetime import date, datetime, timezone

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
    assert 'class="exceeds"' in html


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
