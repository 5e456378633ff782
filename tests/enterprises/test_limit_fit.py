"""Limits that fit their pollutant and outlet (issue 18): pH needs both bounds; the unit is the pollutant's (mg/m³
for flue gases, mg/L for water, dB(A) for noise); the pollutant's medium is the outlet's — in the registry and in
the monitoring plan alike."""
from __future__ import annotations

from decimal import Decimal

import pytest

from portal.auth.models import Role
from portal.enterprises import rules, services
from portal.errors import ValidationFailed
from portal.monitoring import plan as plan_services
from portal.monitoring.models import MonitoringPlan
from tests.factories import make_enterprise, make_outlet, make_user


@pytest.mark.parametrize("code, medium, unit, given, outlet, value, low, high, fields", [
    ("w01018", "water", "mg/L", "mg/l", "water", Decimal(50), None, None, set()),  # spelling accepted
    ("a21026", "gas", "mg/m³", "mg/m3", "gas", Decimal(35), None, None, set()),
    ("a21026", "gas", "mg/m³", "mg/L", "gas", Decimal(35), None, None, {"unit"}),
    ("w01018", "water", "mg/L", "mg/m³", "water", Decimal(50), None, None, {"unit"}),
    ("w01018", "water", "mg/L", "", "gas", Decimal(50), None, None, {"pollutant_code"}),
    ("LA", "noise", "dB(A)", "dB(A)", "gas", Decimal(60), None, None, {"pollutant_code"}),
    ("a21004", "ambient", "µg/m³", "", "gas", Decimal(40), None, None, {"pollutant_code"}),
    ("w01001", "water", "无量纲", "", "water", Decimal(9), None, None, {"limit_min"}),
    ("w01001", "water", "无量纲", "", "water", None, None, Decimal(9), {"limit_min"}),
    ("w01001", "water", "无量纲", "pH", "water", None, Decimal(6), Decimal(9), set()),
])
def test_limit_fit_rules(code, medium, unit, given, outlet, value, low, high, fields):
    assert set(rules.limit_fit_problems(code, medium, unit, given, outlet, value, low, high)) == fields


def test_the_registry_refuses_a_gas_limit_in_mg_per_litre_and_a_ph_maximum_alone(db, app_ctx):
    regulator = make_user(Role.REGULATOR)
    gas = make_outlet(make_enterprise(), "DA001")
    with pytest.raises(ValidationFailed) as exc:
        services.create_limit(regulator, gas, {"pollutant_code": "a21026", "limit_value": "35", "unit": "mg/L",
                                               "averaging": "hourly"})
    assert "mg/m³" in exc.value.errors["unit"]
    water = make_outlet(make_enterprise(), "DW001")
    with pytest.raises(ValidationFailed) as exc:
        services.create_limit(regulator, water, {"pollutant_code": "w01001", "limit_value": "9",
                                                 "averaging": "instant"})
    assert "limit_min" in exc.value.errors
    with pytest.raises(ValidationFailed) as exc:
        services.create_limit(regulator, gas, {"pollutant_code": "LA", "limit_value": "60", "averaging": "hourly"})
    assert "pollutant_code" in exc.value.errors
    ok = services.create_limit(regulator, gas, {"pollutant_code": "a21026", "limit_value": "35", "unit": "mg/m3",
                                                "averaging": "hourly"})
    assert ok.unit == "mg/m³"


def test_the_monitoring_plan_applies_the_same_rules(db, app_ctx):
    ent = make_enterprise()
    gas = make_outlet(ent, "DA001")
    plan = MonitoringPlan(enterprise_id=ent.id)
    db.session.add(plan)
    db.session.flush()
    with pytest.raises(ValidationFailed) as exc:
        plan_services.validate_item(plan, {"outlet_id": str(gas.id), "pollutant_code": "a21026", "mode": "manual",
                                           "frequency": "quarterly", "limit_value": "35", "unit": "mg/L",
                                           "averaging": "hourly"})
    assert "unit" in exc.value.errors
