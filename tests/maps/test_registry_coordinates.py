"""Registry coordinates (enterprises and outlets): range checks name the field, in the user's language, and nothing is
written; and the demo places enterprises and outlets inside their county's vendored boundary."""
import csv
from datetime import date, datetime
from pathlib import Path

import pytest
from flask_babel import force_locale

from portal.enterprises import services
from portal.errors import ValidationFailed
from portal.maps import boundaries
from portal.seed.generator import DemoGenerator
from tests.factories import make_enterprise, make_permit, make_user, make_uscc


@pytest.fixture
def regulator(db):
    return make_user()


@pytest.mark.parametrize("lat, lon, bad", [("91", "119", "latitude"), ("33", "-180.5", "longitude"),
                                           ("北纬33", "119", "latitude")])
def test_enterprise_coordinates_out_of_range_name_the_field(db, regulator, lat, lon, bad):
    make_enterprise()  # reference data
    data = {"uscc": make_uscc(), "name": "坐标测试化工有限公司", "region_code": "320826", "industry_code": "2614",
            "latitude": lat, "longitude": lon}
    with pytest.raises(ValidationFailed) as exc:
        services.create_enterprise(regulator, data)
    assert set(exc.value.errors) == {bad}


def test_outlet_coordinates_out_of_range_name_the_field_in_both_languages(db, regulator):
    ent = make_enterprise()
    for locale, word in (("zh_CN", "纬度"), ("en", "Latitude")):
        with force_locale(locale), pytest.raises(ValidationFailed) as exc:
            services.create_outlet(regulator, ent, {"code": "DW009", "name": "总排口", "outlet_type": "main",
                                                    "latitude": "-95", "longitude": "119.2"})
        assert word in exc.value.errors["latitude"]


def test_the_demo_places_enterprises_and_outlets_inside_their_county():
    path = Path(__file__).resolve().parents[2] / "portal" / "reference" / "data" / "regions.csv"
    with path.open(encoding="utf-8") as fh:
        regions = [dict(r, level=int(r["level"]), parent_code=r["parent_code"] or None) for r in csv.DictReader(fh)]
    by_code = {r["code"]: r for r in regions}
    gen = DemoGenerator(42, regions, {}, date(2026, 12, 7), datetime(2026, 12, 7, 8))
    gen.units = type("Units", (dict,), {"__missing__": lambda self, key: "mg/L"})()
    again = DemoGenerator(42, regions, {}, date(2026, 12, 7), datetime(2026, 12, 7, 8))
    again.units = gen.units
    counties = set()
    for bundle, twin in zip(gen.bundles(300), again.bundles(300)):
        ent = bundle.enterprise
        assert (ent["latitude"], ent["longitude"]) == (twin.enterprise["latitude"], twin.enterprise["longitude"])
        code = ent["region_code"]
        prefecture = by_code.get(code[:4] + "00", by_code[code])
        inside = boundaries.sampler(code, by_code[code]["name"], prefecture["name"])
        assert inside is not None, code
        counties.add(code)
        for item in [ent, *bundle.outlets]:
            assert inside.contains(float(item["latitude"]), float(item["longitude"])), (code, item["latitude"],
                                                                                         item["longitude"])
    assert len(counties) > 20
