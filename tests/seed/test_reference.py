"""Reference data: CSV files load by upsert, and loading twice changes nothing."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.reference.models import Industry, Pollutant, Region
from portal.reference.services import industry_rows, load_reference, pollutant_rows, region_rows


def test_loading_twice_inserts_once_and_then_reports_everything_unchanged():
    first = load_reference()
    db.session.commit()
    second = load_reference()
    db.session.commit()
    assert first["regions"].inserted == len(region_rows()) > 60
    assert second["regions"].inserted == second["regions"].updated == 0
    assert second["industries"].unchanged == len(industry_rows())
    assert second["pollutants"].unchanged == len(pollutant_rows())
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Region)) == len(region_rows())


def test_a_changed_name_is_updated_in_place():
    load_reference()
    db.session.get(Region, "320826").name = "旧名"
    db.session.flush()
    result = load_reference()
    assert result["regions"].updated == 1
    assert db.session.get(Region, "320826").name == "涟水县"


@pytest.mark.parametrize("code, name, parent", [
    ("320826", "涟水县", "320800"), ("320812", "清江浦区", "320800"), ("150525", "奈曼旗", "150500"),
    ("330603", "柯桥区", "330600"), ("211400", "葫芦岛市", "210000"), ("210106", "铁西区", "210100"),
])
def test_named_regions_have_their_gb_t_2260_code_and_parent(code, name, parent):
    load_reference()
    region = db.session.get(Region, code)
    assert (region.name, region.parent_code) == (name, parent)


def test_every_region_parent_exists_and_the_level_matches_the_code_shape():
    rows = {r["code"]: r for r in region_rows()}
    for r in rows.values():
        assert len(r["code"]) == 6 and r["code"].isdigit()
        expected_level = 1 if r["code"].endswith("0000") else 2 if r["code"].endswith("00") else 3
        assert r["level"] == expected_level, r
        if r["parent_code"]:
            assert rows[r["parent_code"]]["level"] == r["level"] - 1
            assert r["code"].startswith(r["parent_code"][: 2 * (r["level"] - 1)])


def test_liaoning_has_all_fourteen_prefecture_cities():
    cities = [r for r in region_rows() if r["parent_code"] == "210000"]
    assert sorted(r["code"] for r in cities) == [f"21{i:02d}00" for i in range(1, 15)]


def test_industry_codes_keep_leading_zeros_and_pollutant_units_are_set():
    load_reference()
    assert db.session.get(Industry, "0313").name == "猪的饲养"
    assert all(len(r["code"]) == 4 and r["code"].isdigit() and r["name"] and r["name_en"] for r in industry_rows())
    so2 = db.session.get(Pollutant, "a21026")
    assert (so2.name, so2.unit, so2.medium) == ("二氧化硫", "mg/m³", "gas")
    assert all(r["unit"] and r["medium"] in {"water", "gas", "noise", "ambient"} for r in pollutant_rows())
