"""seed-demo: deterministic, valid codes, idempotent, one account per role, searchable."""
from __future__ import annotations

import importlib.util
from datetime import date, datetime, timezone

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from portal.audit.models import AuditRecord
from portal.auth.models import BindingStatus, EnterpriseBinding, Role, User
from portal.enterprises.models import Enterprise, KeyUnitYear, Outlet, OutletLimit, Permit
from portal.enterprises.rules import check_permit_no, check_uscc
from portal.extensions import db
from portal.reference.services import pollutant_rows, region_rows
from portal.seed.generator import DemoGenerator
from tests.conftest import is_postgres

TODAY = date(2026, 6, 1)
NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)
PASSWORD = "demo-password-for-tests"


def _generator(seed: int) -> DemoGenerator:
    units = {p["code"]: p["unit"] for p in pollutant_rows()}
    return DemoGenerator(seed, region_rows(), units, TODAY, NOW)


def _seed(runner, n: int = 30, seed: int = 7, life: str = "none"):
    return runner.invoke(args=["seed-demo", "--enterprises", str(n), "--seed", str(seed), "--password", PASSWORD,
                               "--life", life])


def test_the_same_seed_gives_the_same_codes_and_names():
    first = [(b.enterprise["uscc"], b.enterprise["name"]) for b in _generator(7).bundles(50)]
    second = [(b.enterprise["uscc"], b.enterprise["name"]) for b in _generator(7).bundles(50)]
    other = [(b.enterprise["uscc"], b.enterprise["name"]) for b in _generator(8).bundles(50)]
    assert first == second
    assert first != other


def test_generated_codes_are_unique_and_valid_and_names_match_their_region():
    regions = {r["code"]: r for r in region_rows()}
    bundles = list(_generator(3).bundles(400))
    usccs = [b.enterprise["uscc"] for b in bundles]
    assert len(set(usccs)) == len(usccs)
    for b in bundles:
        ent = b.enterprise
        check = check_uscc(ent["uscc"])
        assert check.ok and not check.warnings, (ent["uscc"], check.error)
        assert ent["uscc"][2:8] == ent["region_code"]
        assert regions[ent["region_code"]]["name"] in ent["name"]
        assert ent["name"].endswith("公司")
        for p in b.permits:
            assert check_permit_no(p["permit_no"], ent["uscc"]).ok
            assert p["valid_from"] < p["valid_to"]


def test_some_permits_fall_due_for_renewal_within_sixty_days():
    valid_to = [p["valid_to"] for b in _generator(5).bundles(600) for p in b.permits]
    due = [d for d in valid_to if 0 <= (d - TODAY).days <= 60]
    assert due and len(due) < len(valid_to) / 4


def test_thermal_power_outlets_get_the_ultra_low_emission_limits_at_six_percent_oxygen():
    power = next(b for b in _generator(11).bundles(2000)
                 if b.enterprise["industry_code"] == "4411" and b.permits)
    stack = [lim for lim in power.limits if lim["outlet_id"] == power.outlets[0]["id"]]
    values = {lim["pollutant_code"]: (str(lim["limit_value"]), str(lim["reference_o2"]), lim["averaging"])
              for lim in stack}
    assert values == {"a21026": ("35", "6", "hourly"), "a21002": ("50", "6", "hourly"),
                      "a34013": ("10", "6", "hourly")}


def test_seed_demo_loads_enterprises_permits_outlets_and_limits(runner):
    result = _seed(runner)
    assert result.exit_code == 0, result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Enterprise)) == 30
    permits = db.session.scalars(sa.select(Permit)).all()
    assert permits and all(check_permit_no(p.permit_no, p.enterprise.uscc).ok for p in permits)
    assert all(check_uscc(e.uscc).ok for e in db.session.scalars(sa.select(Enterprise)))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Outlet)) > 0
    ph = db.session.scalars(sa.select(OutletLimit).where(OutletLimit.pollutant_code == "w01001")).first()
    assert ph is None or (ph.limit_min, ph.limit_max) == (6, 9)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(KeyUnitYear)) > 0


def test_seed_demo_loads_the_same_registry_again_into_an_emptied_database(runner):
    _seed(runner, seed=42)
    first = db.session.execute(sa.select(Enterprise.uscc, Enterprise.name).order_by(Enterprise.id)).all()
    from tests.conftest import _empty_tables

    _empty_tables()
    _seed(runner, seed=42)
    second = db.session.execute(sa.select(Enterprise.uscc, Enterprise.name).order_by(Enterprise.id)).all()
    assert first == second and len(first) == 30


def test_a_second_run_reports_already_seeded_and_changes_nothing(runner):
    _seed(runner)
    before = (db.session.scalar(sa.select(sa.func.count()).select_from(Enterprise)),
              db.session.scalar(sa.select(sa.func.count()).select_from(User)),
              db.session.scalar(sa.select(sa.func.count()).select_from(AuditRecord)))
    result = _seed(runner, n=50, seed=9)
    assert result.exit_code == 0
    assert "already seeded" in result.output
    after = (db.session.scalar(sa.select(sa.func.count()).select_from(Enterprise)),
             db.session.scalar(sa.select(sa.func.count()).select_from(User)),
             db.session.scalar(sa.select(sa.func.count()).select_from(AuditRecord)))
    assert before == after


def test_one_account_per_role_with_the_given_password_and_bound_enterprise_users(runner):
    result = _seed(runner)
    users = {u.username: u for u in db.session.scalars(sa.select(User))}
    assert {u.role for u in users.values()} == set(Role)
    assert (users["huaian_regulator"].jurisdiction_code, users["huaian_lead"].role) == ("3208", Role.REGULATOR_LEAD)
    assert users["lianshui_regulator"].jurisdiction_code == "320826"
    assert users["liaoning_regulator"].jurisdiction_code == "21"
    staff, signatory = users["ent_staff"], users["ent_signatory"]
    assert staff.enterprise_id == signatory.enterprise_id is not None
    assert staff.enterprise.region_code == "320826"
    bindings = db.session.scalars(sa.select(EnterpriseBinding)).all()
    assert {(b.user_id, b.status) for b in bindings} == {(staff.id, BindingStatus.APPROVED),
                                                          (signatory.id, BindingStatus.APPROVED)}
    assert PasswordHasher().verify(users["admin"].password_hash, PASSWORD)
    assert "huaian_lead" in result.output


def test_without_a_password_each_account_gets_its_own_random_password_printed_once(runner):
    result = runner.invoke(args=["seed-demo", "--enterprises", "5", "--life", "none"])
    assert result.exit_code == 0, result.output
    users = db.session.scalars(sa.select(User)).all()
    lines = {line.split()[0]: line.split()[-1] for line in result.output.splitlines()
             if line.strip() and line.split()[0] in {u.username for u in users}}
    assert len(set(lines.values())) == len(users) == 7
    hasher = PasswordHasher()
    for u in users:
        assert hasher.verify(u.password_hash, lines[u.username])
    again = runner.invoke(args=["seed-demo", "--enterprises", "5", "--life", "none"])
    assert not any(pw in again.output for pw in lines.values())


def test_the_load_is_audited_once(runner):
    _seed(runner)
    records = db.session.scalars(sa.select(AuditRecord)).all()
    assert [r.action for r in records] == ["seed.demo"]
    assert records[0].after["enterprises"] == 30


def test_seeded_enterprises_are_in_the_full_text_index(runner):
    _seed(runner)
    name = db.session.scalar(sa.select(Enterprise.name).order_by(Enterprise.id).limit(1))
    brand = name[3:5]  # 涟水县 + brand: the first enterprise is always in 涟水县
    if is_postgres():
        hits = db.session.scalar(sa.text("SELECT count(*) FROM enterprises WHERE search_tsv @@ "
                                         "phraseto_tsquery('simple', :q)"), {"q": brand})
        indexed = db.session.scalar(sa.text("SELECT count(*) FROM enterprises WHERE search_tsv IS NOT NULL"))
    else:
        hits = db.session.scalar(sa.text("SELECT count(*) FROM enterprise_fts WHERE enterprise_fts MATCH :q"),
                                 {"q": f'"{brand}"'})
        indexed = db.session.scalar(sa.text("SELECT count(*) FROM enterprise_fts WHERE enterprise_fts MATCH :q"),
                                    {"q": '"公司"'})
    assert hits >= 1
    assert indexed == 30


@pytest.mark.skipif(importlib.util.find_spec("portal.search.queries") is None,
                    reason="portal.search.queries is not built yet")
def test_seeded_enterprises_are_found_by_the_search_queries(runner):
    from portal.search.queries import SearchParams, search_enterprises

    _seed(runner)
    ent = db.session.scalar(sa.select(Enterprise).order_by(Enterprise.id).limit(1))
    result = search_enterprises(SearchParams(q=ent.name, per_page=20))
    items = getattr(result, "items", result)
    assert ent.uscc in [getattr(i, "uscc", None) for i in items]


def test_seed_demo_refuses_politely_without_tables(app, monkeypatch):
    from portal.seed import demo

    monkeypatch.setattr(demo, "schema_ready", lambda: False)
    result = app.test_cli_runner().invoke(args=["seed-demo", "--enterprises", "3", "--life", "none"])
    assert result.exit_code != 0
    assert "db upgrade" in result.output
