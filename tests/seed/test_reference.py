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
            parent = rows[r["parent_code"]]
            # Districts of the four municipalities (110101 东城区) sit directly under their province-level unit.
            assert parent["level"] == r["level"] - 1 or (parent["level"], r["level"]) == (1, 3), r
            assert r["code"].startswith(r["parent_code"][: 2 * parent["level"]])
        else:
            assert r["level"] == 1, r


def test_liaoning_has_all_fourteen_prefecture_cities():
    cities = [r for r in region_rows() if r["parent_code"] == "210000"]
    assert sorted(r["code"] for r in cities) == [f"21{i:02d}00" for i in range(1, 15)]


def test_industry_codes_keep_leading_zeros_and_pollutant_units_are_set():
    load_reference()
    assert db.session.get(Industry, "0313").name == "猪的饲养"
    classes = [r for r in industry_rows() if r["level"] == 4]
    assert all(len(r["code"]) == 4 and r["code"].isdigit() and r["name"] for r in classes)
    so2 = db.session.get(Pollutant, "a21026")
    assert (so2.name, so2.unit, so2.medium) == ("二氧化硫", "mg/m³", "gas")
    assert all(r["unit"] and r["medium"] in {"water", "gas", "noise", "ambient"} for r in pollutant_rows())


def test_the_full_tables_are_loaded_with_the_totals_of_their_standards():
    regions, industries = region_rows(), industry_rows()
    by_level = {lv: sum(1 for r in regions if r["level"] == lv) for lv in (1, 2, 3)}
    assert by_level[1] == 34 and by_level[2] > 330 and by_level[3] > 2800  # GB/T 2260: every county-level unit
    assert {lv: sum(1 for r in industries if r["level"] == lv) for lv in (1, 2, 3, 4)} == {
        1: 20, 2: 97, 3: 473, 4: 1380}  # GB/T 4754-2017: sections, divisions, groups, classes
    assert len(pollutant_rows()) > 190
    assert all(r["name_en"] for r in regions) and all(r["name_en"] for r in pollutant_rows())
    codes = {r["code"]: r for r in industries}
    for row in industries:  # every entry hangs under an entry one level up
        assert (row["parent_code"] is None) == (row["level"] == 1)
        if row["parent_code"]:
            assert codes[row["parent_code"]]["level"] == row["level"] - 1


KNOWN = [
    (Region, "110101", "东城区", "Dongcheng District"),
    (Region, "320826", "涟水县", "Lianshui County"),
    (Region, "340100", "合肥市", "Hefei City"),
    (Region, "433100", "湘西土家族苗族自治州", "Xiangxi Tujia Miao Autonomous Prefecture"),
    (Region, "610100", "西安市", "Xi'an City"),
    (Industry, "C", "制造业", "Manufacturing"),
    (Industry, "26", "化学原料和化学制品制造业", "Manufacture of raw chemical materials and chemical products"),
    (Industry, "2614", "有机化学原料制造", "Organic chemical raw materials manufacturing"),
    (Pollutant, "w01018", "化学需氧量", "Chemical oxygen demand (COD)"),
    (Pollutant, "a25003", "甲苯", "Toluene"),
    (Pollutant, "w20117", "六价铬", "Hexavalent chromium"),
]


def test_known_codes_carry_both_languages():
    load_reference()  # one load (5,384 rows) for all of them
    for model, code, name, name_en in KNOWN:
        row = db.session.get(model, code)
        assert (row.name, row.name_en) == (name, name_en), code


def test_a_code_in_use_is_never_dropped_by_a_refresh():
    """The demo's units win over the code table's (w00000 m³/h, not L/s), and the portal's own rows stay."""
    rows = {r["code"]: r for r in pollutant_rows()}
    assert rows["w00000"]["unit"] == "m³/h" and rows["a05024"]["medium"] == "ambient"
    assert {"LA", "Leq", "Ld", "Ln"} <= set(rows)


def test_the_public_search_filters_stay_short_with_the_full_tables(client):
    """3,217 regions and 1,970 industries: the public form offers provinces and prefectures, and the 97 divisions
    (a division filters its classes by code prefix), never a flat select of thousands."""
    import re

    load_reference()
    db.session.commit()
    page = client.get("/search?lang=en").get_data(as_text=True)

    def options(name):
        select = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', page, re.S).group(1)
        return re.findall(r'<option[^>]*value="([^"]*)"[^>]*>([^<]*)</option>', select)

    regions, industries = options("region"), options("industry")
    assert 300 < len(regions) < 400 and all(len(code) != 6 or code.endswith("00") for code, _ in regions)
    assert len(industries) == 98 and ("26", "26 Manufacture of raw chemical materials and chemical products") \
        in industries
    assert client.get("/search?industry=26&region=32").status_code == 200
