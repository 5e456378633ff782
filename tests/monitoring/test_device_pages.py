"""The device page (issue 19): the regulator and the enterprise see liveness, edition, where to send and the refused
packets by reason; a 2025 device's SM4 key is shown once at registration and rotation."""
from __future__ import annotations

import re
from datetime import datetime, timezone

import sqlalchemy as sa

from portal.auth.models import Role
from portal.monitoring import devicekeys, services
from portal.monitoring.models import Device
from tests.factories import make_user
from tests.monitoring.hj212_device import upload
from tests.monitoring.helpers import PASSWORD, water_setup

CP = "DataTime=20261101090000;w01018-Avg=35.2,w01018-Flag=N"


def _english(client):
    with client.session_transaction() as session:
        session["lang"] = "en"


def _traffic(db, device):
    now = datetime(2026, 11, 3, tzinfo=timezone.utc)
    services.ingest_hj212(upload(device.mn, PASSWORD, "2061", CP, qn="20261101100000001"), now=now)
    services.ingest_hj212(upload(device.mn, "guess", "2061", CP, qn="20261101100000002")
                          + upload(device.mn, PASSWORD, "2061", "DataTime=20301101090000;w01018-Avg=1",
                                   qn="20261101100000003"), address="198.51.100.4")
    db.session.commit()


def test_the_regulator_sees_liveness_where_to_send_and_refusals_by_reason(client, db, login):
    _, _, device = water_setup(db)
    _traffic(db, device)
    login(make_user(Role.REGULATOR, jurisdiction_code="3208"))
    _english(client)
    page = client.get(f"/monitoring/devices/{device.id}")
    assert page.status_code == 200 and page.headers["Cache-Control"].startswith("no-store")
    text = page.text
    assert "9212" in text and "/api/v1/monitoring/hj212" in text and "HJ 212-2017" in text
    assert "Wrong password" in text and "Implausible DataTime" in text  # rejections by reason
    assert "198.51.100.4" in text  # the regulator sees where refused packets came from
    assert "never" not in text.split("Last accepted data")[1][:200]
    assert f'href="/monitoring/devices/{device.id}"' in client.get("/monitoring/devices").text


def test_the_enterprise_sees_its_own_device_but_not_others_nor_addresses(client, db, login):
    ent, _, device = water_setup(db)
    _, _, other = water_setup(db, mn="MNOTHER1", region_code="210100")
    _traffic(db, device)
    login(make_user(Role.ENTERPRISE_STAFF, enterprise=ent))
    _english(client)
    db.session.commit()
    listing = client.get("/monitoring/my/devices").text
    assert device.mn in listing and other.mn not in listing and "9212" in listing
    page = client.get(f"/monitoring/my/devices/{device.id}")
    assert page.status_code == 200 and "Wrong password" in page.text and "198.51.100.4" not in page.text
    assert client.get(f"/monitoring/my/devices/{other.id}").status_code == 404
    assert client.get(f"/monitoring/devices/{device.id}").status_code == 403


def test_a_foreign_regulator_gets_404(client, db, login):
    _, _, device = water_setup(db)
    login(make_user(Role.REGULATOR, jurisdiction_code="2101"))
    _english(client)
    db.session.commit()
    assert client.get(f"/monitoring/devices/{device.id}").status_code == 404


def test_registering_a_2025_device_shows_its_key_once_and_rotation_replaces_it(client, db, login):
    ent, _, _ = water_setup(db)
    login(make_user(Role.REGULATOR, jurisdiction_code="3208"))
    _english(client)
    db.session.commit()
    response = client.post("/monitoring/devices", data={"mn": "NM100000_0005", "password": "pw1", "uscc": ent.uscc,
                                                        "outlet": "DW001", "protocol": "2025", "sm4_key": ""})
    assert response.status_code == 200 and response.headers["Cache-Control"].startswith("no-store")
    shown = re.search(r'<p class="code">([0-9A-F]{32})</p>', response.text).group(1)
    device = db.session.scalar(sa.select(Device).where(Device.mn == "NM100000_0005"))
    assert devicekeys.open_sm4_key(device.sm4_key) == bytes.fromhex(shown)
    assert shown not in client.get(f"/monitoring/devices/{device.id}").text  # never shown again
    bad = client.post(f"/monitoring/devices/{device.id}/sm4-key", data={"sm4_key": "not-hex"})
    assert bad.status_code == 400 and "32 hexadecimal digits" in bad.text
    rotated = client.post(f"/monitoring/devices/{device.id}/sm4-key", data={"sm4_key": ""})
    new = re.search(r'<p class="code">([0-9A-F]{32})</p>', rotated.text).group(1)
    db.session.expire_all()
    assert new != shown and devicekeys.open_sm4_key(db.session.get(Device, device.id).sm4_key) == bytes.fromhex(new)


def test_a_bad_registration_names_the_field(client, db, login):
    ent, _, _ = water_setup(db)
    login(make_user(Role.REGULATOR, jurisdiction_code="3208"))
    _english(client)
    db.session.commit()
    response = client.post("/monitoring/devices", data={"mn": "MN 1", "password": "pw1", "uscc": ent.uscc,
                                                        "outlet": "DW001", "protocol": "2017", "sm4_key": "ABC"})
    assert response.status_code == 400
    assert "letters, digits" in response.text and "SM4" in response.text
