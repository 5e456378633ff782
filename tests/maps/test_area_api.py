"""Search by area on GET /api/v1/enterprises: bbox and near (inside, outside, edges, invalid, paging), on SQLite and
PostgreSQL; on PostgreSQL the plan of a bbox query uses the (longitude, latitude) index."""
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.maps import rules
from tests.factories import make_enterprise

# Around 涟水县 (33.78 N, 119.26 E): 0.01 degree of latitude is about 1.11 km.
POINTS = {"centre": ("33.780000", "119.260000"), "north_1km": ("33.789000", "119.260000"),
          "east_3km": ("33.780000", "119.292000"), "far": ("34.500000", "120.500000"),
          "edge": ("33.900000", "119.400000")}


@pytest.fixture
def placed(db):
    ents = {}
    for key, (lat, lon) in POINTS.items():
        ents[key] = make_enterprise(f"区域测试企业{key}", latitude=Decimal(lat), longitude=Decimal(lon))
    ents["nowhere"] = make_enterprise("没有坐标的企业")
    db.session.commit()
    return ents


def names(body):
    return [e["name"].removeprefix("区域测试企业") for e in body["data"]]


def error_of(response):
    assert response.status_code == 400, response.get_data(as_text=True)
    err = response.get_json()["error"]
    assert err["code"] == "invalid_parameter"
    return err["message"]


def test_bbox_returns_what_is_inside_with_edges_included_in_registry_order(client, placed):
    body = client.get("/api/v1/enterprises?bbox=119.2,33.7,119.4,33.9").get_json()
    assert names(body) == ["centre", "north_1km", "east_3km", "edge"]  # edge sits on the max corner
    assert body["meta"]["mode"] == "bbox" and body["meta"]["sort"] == "id" and body["meta"]["total"] == 4
    assert body["meta"]["area"] == {"bbox": [119.2, 33.7, 119.4, 33.9]}
    first = body["data"][0]
    assert first["location"] == {"latitude": "33.780000", "longitude": "119.260000"}
    assert first["links"]["html"].endswith("/enterprises/" + first["uscc"])


def test_bbox_outside_everything_is_empty(client, placed):
    body = client.get("/api/v1/enterprises?bbox=100,20,101,21").get_json()
    assert body["data"] == [] and body["meta"]["total"] == 0


def test_bbox_just_past_the_edge_leaves_the_edge_out(client, placed):
    body = client.get("/api/v1/enterprises?bbox=119.2,33.7,119.399999,33.9").get_json()
    assert "edge" not in names(body)


def test_near_is_exact_haversine_nearest_first(client, placed):
    body = client.get("/api/v1/enterprises?near=33.78,119.26&radius_km=2").get_json()
    assert names(body) == ["centre", "north_1km"]  # east_3km is inside the prefilter box of 5 km, not of 2 km
    assert body["data"][0]["distance_km"] == 0
    assert body["data"][1]["distance_km"] == pytest.approx(1.0, abs=0.01)
    assert body["meta"]["sort"] == "distance"
    wide = client.get("/api/v1/enterprises?near=33.78,119.26&radius_km=3.5").get_json()
    assert names(wide) == ["centre", "north_1km", "east_3km"]
    assert wide["data"][2]["distance_km"] == pytest.approx(rules.haversine_km(33.78, 119.26, 33.78, 119.292), abs=1e-3)


def test_near_leaves_out_the_corner_of_its_prefilter_box(client, db):
    # A point inside the box around a 5 km circle but about 6.6 km away diagonally.
    box = rules.bbox_around(33.78, 119.26, 5)
    corner = make_enterprise("角落企业", latitude=Decimal(f"{box.max_lat - 0.001:.6f}"),
                             longitude=Decimal(f"{box.max_lon - 0.001:.6f}"))
    db.session.commit()
    assert rules.haversine_km(33.78, 119.26, float(corner.latitude), float(corner.longitude)) > 5
    assert client.get("/api/v1/enterprises?near=33.78,119.26&radius_km=5").get_json()["data"] == []
    assert len(client.get("/api/v1/enterprises?bbox={},{},{},{}".format(
        box.min_lon, box.min_lat, box.max_lon, box.max_lat)).get_json()["data"]) == 1


def test_area_pages_like_the_list(client, placed):
    first = client.get("/api/v1/enterprises?bbox=119,33,121,35&per_page=2").get_json()
    assert names(first) == ["centre", "north_1km"] and first["links"]["prev"] is None
    second = client.get(first["links"]["next"]).get_json()
    assert names(second) == ["east_3km", "far"]
    third = client.get(second["links"]["next"]).get_json()
    assert names(third) == ["edge"] and third["links"]["next"] is None
    back = client.get(third["links"]["prev"]).get_json()
    assert names(back) == ["east_3km", "far"]
    near1 = client.get("/api/v1/enterprises?near=33.78,119.26&radius_km=50&per_page=2").get_json()
    near2 = client.get(near1["links"]["next"]).get_json()
    assert names(near1) + names(near2) == ["centre", "north_1km", "east_3km", "edge"]
    assert client.get(near2["links"]["prev"]).get_json()["data"] == near1["data"]


@pytest.mark.parametrize("query, field", [
    ("bbox=119,33,120", "bbox"), ("bbox=a,33,120,34", "bbox"), ("bbox=119,33,200,34", "bbox"),
    ("bbox=119,-95,120,34", "bbox"), ("bbox=120,33,119,34", "bbox"), ("bbox=119,33,nan,34", "bbox"),
    ("bbox=119,33,120,34&near=33,119", "bbox"), ("near=33.78", "near"), ("near=95,119&radius_km=1", "near"),
    ("near=33,119", "radius_km"), ("near=33,119&radius_km=0", "radius_km"), ("near=33,119&radius_km=51", "radius_km"),
    ("near=33,119&radius_km=abc", "radius_km"), ("radius_km=5", "near"), ("bbox=119,33,120,34&q=化工", "q"),
    ("bbox=119,33,120,34&cursor=xyz", "cursor"), ("bbox=119,33,120,34&per_page=0", "per_page"),
])
def test_bad_area_parameters_are_400_naming_the_field(client, placed, query, field):
    message = error_of(client.get("/api/v1/enterprises?" + query))
    assert f"“{field}”" in message


def test_messages_follow_the_language(client, placed):
    assert "纬度" in error_of(client.get("/api/v1/enterprises?near=95,119&radius_km=1&lang=zh_CN"))
    assert "latitude" in error_of(client.get("/api/v1/enterprises?near=95,119&radius_km=1&lang=en"))


def test_a_near_cursor_is_refused_for_a_bbox(client, placed):
    near = client.get("/api/v1/enterprises?near=33.78,119.26&radius_km=50&per_page=1").get_json()
    token = near["links"]["next"].split("cursor=")[1].split("&")[0]
    assert "“cursor”" in error_of(client.get(f"/api/v1/enterprises?bbox=119,33,121,35&cursor={token}"))


def test_postgresql_plans_a_bbox_on_the_lon_lat_index(app, db, placed):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL plan")
    from portal.maps.area import box_condition
    from portal.enterprises.models import Enterprise

    stmt = sa.select(Enterprise.id).where(box_condition(rules.BBox(119.2, 33.7, 119.4, 33.9)))
    sql = str(stmt.compile(db.engine, compile_kwargs={"literal_binds": True}))
    db.session.execute(sa.text("SET LOCAL enable_seqscan = off"))  # a handful of rows: force the choice of index
    plan = "\n".join(r[0] for r in db.session.execute(sa.text("EXPLAIN " + sql)))
    assert "ix_enterprises_lon_lat" in plan


def test_sqlite_plans_a_bbox_on_the_lon_lat_index(app, db, placed):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite plan")
    from portal.maps.area import box_condition
    from portal.enterprises.models import Enterprise

    stmt = sa.select(Enterprise.id).where(box_condition(rules.BBox(119.2, 33.7, 119.4, 33.9)))
    sql = str(stmt.compile(db.engine, compile_kwargs={"literal_binds": True}))
    plan = " ".join(str(r[-1]) for r in db.session.execute(sa.text("EXPLAIN QUERY PLAN " + sql)))
    assert "ix_enterprises_lon_lat" in plan


def test_openapi_documents_the_area_parameters_and_fields(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    params = {p["name"]: p for p in doc["paths"]["/api/v1/enterprises"]["get"]["parameters"]}
    assert {"bbox", "near", "radius_km"} <= set(params)
    assert params["radius_km"]["schema"]["maximum"] == rules.MAX_RADIUS_KM
    summary = doc["components"]["schemas"]["EnterpriseSummary"]["properties"]
    assert {"location", "distance_km"} <= set(summary)
    meta = doc["components"]["schemas"]["EnterprisePage"]["properties"]["meta"]["properties"]
    assert "bbox" in meta["mode"]["enum"] and "distance" in meta["sort"]["enum"] and "area" in meta


def test_above_the_cap_pages_come_in_registry_order_by_a_primary_key_walk(client, placed, monkeypatch):
    from portal.maps import area

    monkeypatch.setattr(area, "TOTAL_CAP", 2)
    first = client.get("/api/v1/enterprises?near=33.78,119.26&radius_km=50&per_page=2").get_json()
    assert first["meta"]["total_is_capped"] is True and first["meta"]["total"] == 2
    assert first["meta"]["sort"] == "id"  # too many to rank by distance: registry order, as the list
    second = client.get(first["links"]["next"]).get_json()
    assert names(first) + names(second) == ["centre", "north_1km", "east_3km", "edge"]
    box = client.get("/api/v1/enterprises?bbox=119,33,121,35&per_page=3").get_json()
    assert names(box) == ["centre", "north_1km", "east_3km"] and box["meta"]["total_is_capped"] is True
    assert names(client.get(box["links"]["next"]).get_json()) == ["far", "edge"]
