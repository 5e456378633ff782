"""工况 at manual sampling (生态环境监测条例 Art. 24): production load and treatment-facility status in the form, the
CSV/XLSX template and the importer; stored once per sample, refused with the column's name when invalid, and shown
with the published results."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.auth.models import Role
from portal.core.clock import china_today
from portal.errors import ValidationFailed
from portal.monitoring import conditions, importers, manual
from portal.monitoring.conditions import SamplingCondition
from portal.monitoring.models import MonitoringValue
from tests.factories import make_user
from tests.monitoring.helpers import water_setup

HEADER = "排放口编码,污染物编码,采样时间,监测结果,监测完成日期,检测机构,监测方法,数据标记,生产负荷(%),治理设施运行状态\n"


def _csv(tmp_path, text):
    path = tmp_path / "r.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_parse_load_and_facility_accept_the_template_words_and_refuse_the_rest():
    assert conditions.parse_load("85%") == (Decimal("85.0"), None)
    assert conditions.parse_load(" 102.35 ")[0] == Decimal("102.4")
    for bad in ("", "abc", "-1", "150.1", "NaN", True):
        assert conditions.parse_load(bad)[0] is None and conditions.parse_load(bad)[1]
    assert conditions.parse_facility("正常运行") == ("running", None)
    assert conditions.parse_facility("停运")[0] == "stopped" and conditions.parse_facility("故障")[0] == "abnormal"
    assert conditions.parse_facility("开着")[0] is None


def test_the_template_has_the_columns_and_a_file_with_them_must_fill_them(tmp_path, app_ctx):
    assert importers.TEMPLATE_HEADER[-2:] == ["生产负荷(%)", "治理设施运行状态"]
    path = _csv(tmp_path, HEADER + "DW001,w01018,2026-11-02 09:30,35.6,2026-11-04,,,N,85,正常运行\n"
                                   "DW001,w01018,2026-11-02 10:30,35.6,2026-11-04,,,N,,正常运行\n"
                                   "DW001,w01018,2026-11-02 11:30,35.6,2026-11-04,,,N,180,开着\n")
    ok, empty, wrong = list(importers.read_rows(path))
    assert (ok.production_load, ok.facility_status) == (Decimal("85.0"), "running")
    assert [e.column for e in empty] == ["生产负荷(%)"]
    assert [e.column for e in wrong] == ["生产负荷(%)", "治理设施运行状态"]


def test_an_import_stores_the_conditions_once_per_sample_and_refuses_contradictions(tmp_path, db):
    ent, outlet, _ = water_setup(db)
    day = china_today() - timedelta(days=2)
    text = (f"DW001,w01018,{day} 09:30,35.6,{day},,,N,85,正常运行\n"
            f"DW001,w01001,{day} 09:30,7.1,{day},,,N,85,正常运行\n")
    check = manual.check_upload(ent, _csv(tmp_path, HEADER + text))
    assert check.error_count == 0
    manual.commit_upload(None, ent, _csv(tmp_path, HEADER + text), "r.csv")
    [stored] = db.session.scalars(sa.select(SamplingCondition)).all()
    assert (stored.outlet_id, stored.production_load, stored.facility_status) == (outlet.id, Decimal("85.0"),
                                                                                  "running")
    assert stored.sampled_at == datetime.combine(day, datetime.min.time()).replace(hour=1, minute=30,
                                                                                   tzinfo=timezone.utc)
    conflict = f"DW001,w01018,{day} 14:00,1,{day},,,N,85,正常运行\nDW001,w01001,{day} 14:00,7,{day},,,N,60,停运\n"
    check = manual.check_upload(ent, _csv(tmp_path, HEADER + conflict))
    assert [(e.line, e.column) for e in check.errors] == [(3, "生产负荷(%)")]
    later = f"DW001,w01001,{day} 09:30,7.1,{day},,,N,40,停运\n"  # the same sample as above, other conditions
    with pytest.raises(ValidationFailed) as info:
        manual.commit_upload(None, ent, _csv(tmp_path, HEADER + later), "r.csv")
    assert "production_load" in info.value.errors
    db.session.rollback()


def test_the_form_requires_the_conditions_and_the_results_page_shows_them(client, db, login):
    ent, _, _ = water_setup(db)
    login(make_user(Role.ENTERPRISE_STAFF, enterprise=ent))
    db.session.commit()
    day = china_today() - timedelta(days=1)
    data = {"outlet": "DW001|w01018", "sampled_at": f"{day}T09:30", "value": "20", "completed_on": day.isoformat()}
    missing = client.post("/monitoring/my/results", data=data)
    assert missing.status_code == 400
    assert 'id="production_load-error"' in missing.text and 'id="facility_status-error"' in missing.text
    wrong = client.post("/monitoring/my/results", data={**data, "production_load": "300", "facility_status": "running"})
    assert wrong.status_code == 400 and 'id="production_load-error"' in wrong.text
    full = {**data, "production_load": "92.5", "facility_status": "abnormal"}
    preview = client.post("/monitoring/my/results", data=full)
    digest = preview.text.split('name="preview_of" value="')[1].split('"')[0]
    assert client.post("/monitoring/my/results", data={**full, "preview_of": digest}).status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MonitoringValue)) == 1
    stored = db.session.scalar(sa.select(SamplingCondition))
    assert (stored.production_load, stored.facility_status) == (Decimal("92.5"), "abnormal")
    page = client.get("/monitoring/my/results").text
    assert "92.5" in page and ("异常" in page or "abnormal" in page)
    template = client.get("/monitoring/my/results/template.csv").data.decode("utf-8")
    assert template.splitlines()[0].endswith("生产负荷(%),治理设施运行状态")


def test_the_api_lists_samples_with_their_conditions_and_names_bad_parameters(client, db):
    ent, _, _ = water_setup(db)
    day = china_today() - timedelta(days=3)
    manual.submit_one(None, ent, importers.ManualRow(0, "DW001", "w01018", datetime.combine(day, datetime.min.time())
                                                     .replace(hour=9), 20.0, day, production_load=Decimal("75"),
                                                     facility_status="stopped"))
    db.session.commit()
    body = client.get(f"/api/v1/enterprises/{ent.uscc}/monitoring/samples").get_json()
    [sample] = body["data"]
    assert (sample["outlet"], sample["production_load"], sample["facility_status"]) == ("DW001", 75.0, "stopped")
    assert sample["sampled_at"].endswith("+08:00") and sample["results"][0]["pollutant"] == "w01018"
    bad = client.get(f"/api/v1/enterprises/{ent.uscc}/monitoring/samples?from=2026-13-01")
    assert bad.status_code == 400 and "from" in bad.get_json()["error"]["message"]
    long = client.get(f"/api/v1/enterprises/{ent.uscc}/monitoring/samples?from=2020-01-01&to=2026-01-01")
    assert long.status_code == 400
    assert client.get(f"/api/v1/enterprises/{ent.uscc}/monitoring/samples?x=1").status_code == 400
