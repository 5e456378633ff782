"""双随机 that respect the rules: inspectors only from the roster, only where their authority has jurisdiction and
while certified; the yearly cap of routine checks (case checks do not count); inspection codes the enterprise
verifies and rates; public pages with names, not login names, raw class codes or CLI commands."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from portal.audit.models import AuditRecord
from portal.auth.models import Role
from portal.core.clock import china_today
from portal.credit import draw as D
from portal.credit import draw_inspections as I
from portal.credit import draws
from portal.credit.draw_models import Inspection, InspectionKind, InspectionTrigger, Inspector
from portal.errors import InvalidTransition, NotAllowed, NotFound, ValidationFailed
from tests.factories import make_enterprise, make_user



def _year() -> int:
    return china_today().year


def _inspector(db, cert: str, jurisdiction: str, *, valid_from=date(2020, 1, 1), valid_until=date(2099, 12, 31),
               name: str | None = None) -> Inspector:
    inspector = Inspector(name=name or f"检查员{cert}", jurisdiction_code=jurisdiction, certificate_no=cert,
                          certificate_valid_from=valid_from, certificate_valid_until=valid_until)
    db.session.add(inspector)
    db.session.flush()
    return inspector


@pytest.fixture
def city(app, db):
    """淮安市 with two county bureaus, two certified inspectors each, one expired and one expiring today; the
    draw takes every enterprise of the pool (ratio 1 in every class)."""
    app.config["CREDIT_DRAW_CONFIG"] = {**D.DEFAULT_CONFIG, "ratios": {"special": 1.0, "key": 1.0, "general": 1.0}}
    lead = make_user(Role.REGULATOR_LEAD, jurisdiction_code="3208", username="huaian_lead_login")
    roster = {"lianshui": [_inspector(db, "LS-001", "320826", name="王检"), _inspector(db, "LS-002", "320826")],
              "huaian": [_inspector(db, "HA-001", "320803"), _inspector(db, "HA-002", "320803")],
              "expired": _inspector(db, "LS-009", "320826", valid_until=china_today() - timedelta(days=1)),
              "expiring": _inspector(db, "HA-009", "320803", valid_until=china_today())}
    ents = {"lianshui": [make_enterprise(region_code="320826") for _ in range(3)],
            "huaian": [make_enterprise(region_code="320803") for _ in range(3)]}
    db.session.commit()
    yield {"lead": lead, "roster": roster, "ents": ents}
    app.config.pop("CREDIT_DRAW_CONFIG", None)


def _quarter_ending_after_today() -> int:
    today = china_today()
    return (today.month - 1) // 3 + 1


def test_a_draw_assigns_only_certified_roster_inspectors_whose_jurisdiction_covers_the_enterprise(db, city):
    entry = draws.make_draw(city["lead"], "3208", _year(), _quarter_ending_after_today())
    counties = {e.uscc: "320826" for e in city["ents"]["lianshui"]} | {e.uscc: "320803" for e in city["ents"]["huaian"]}
    assert {r["uscc"] for r in entry.result} == set(counties)
    jurisdiction = {i.certificate_no: i.jurisdiction_code for i in city["roster"]["lianshui"] + city["roster"]["huaian"]}
    for row in entry.result:
        assert len(row["inspectors"]) == 2 and "short" not in row
        assert {jurisdiction[c] for c in row["inspectors"]} == {counties[row["uscc"]]}
    drawn = {c for r in entry.result for c in r["inspectors"]}
    assert "LS-009" not in drawn and "LS-009" not in entry.pool["inspectors"]  # expired certificate
    if china_today() < draws.quarter_bounds(_year(), _quarter_ending_after_today())[1]:
        assert "HA-009" not in entry.pool["inspectors"]  # expires before the quarter ends
    assert draws.verify(entry)
    entry.pool["inspector_jurisdictions"]["LS-001"] = "320803"  # tampering breaks the seal
    assert not draws.verify(entry)


def test_regulator_accounts_are_not_inspectors(db):
    make_enterprise(region_code="320826")
    lead = make_user(Role.REGULATOR_LEAD, jurisdiction_code="3208")
    make_user(Role.REGULATOR, jurisdiction_code="3208")
    db.session.commit()
    with pytest.raises(ValidationFailed):
        draws.make_draw(lead, "3208", _year(), 1)


def test_the_pure_draw_never_crosses_an_inspectors_jurisdiction():
    pool = [D.PoolItem(f"A{i:02d}", "special", 1.0) for i in range(10)]
    territory = {"inspector_jurisdictions": {"a1": "320826", "a2": "320826", "b1": "320803"},
                 "regions": {f"A{i:02d}": "320826" if i < 5 else "320803" for i in range(10)}}
    snap = D.pool_snapshot(pool, ["a1", "a2", "b1"], [], [], 1, territory)
    for row in D.draw("ab" * 32, snap, D.DEFAULT_CONFIG):
        if row["uscc"] < "A05":
            assert set(row["inspectors"]) == {"a1", "a2"}
        else:
            assert row["inspectors"] == ["b1"] and row["short"] == 1


def test_the_yearly_cap_leaves_enterprises_out_and_case_checks_do_not_count(db, city):
    capped, case_checked = city["ents"]["lianshui"][0], city["ents"]["lianshui"][1]
    lianshui = city["roster"]["lianshui"]
    for n in range(2):
        db.session.add(Inspection(code=f"ROUTINE{n}", enterprise_id=capped.id, kind=InspectionKind.ROUTINE,
                                  trigger=InspectionTrigger.DRAW, counts_against_cap=True, year=_year(),
                                  authority_code="3208", inspectors=lianshui))
    for trigger in ("complaint", "data_anomaly", "referral"):
        I.record_case_inspection(city["lead"], uscc=case_checked.uscc, trigger=trigger,
                                 certificates=["LS-001", "LS-002"], inspected_on=china_today(),
                                 basis="举报件 12369-20260101-000001", result="现场检查未发现问题")
    db.session.commit()
    assert I.cap_status(capped, _year()) == (2, 2) and I.cap_status(case_checked, _year()) == (0, 2)
    entry = draws.make_draw(city["lead"], "3208", _year(), _quarter_ending_after_today())
    drawn = {r["uscc"] for r in entry.result}
    assert capped.uscc not in drawn and capped.uscc in entry.pool["at_cap"]
    assert case_checked.uscc in drawn
    assert I.cap_status(case_checked, _year()) == (1, 2)  # the drawn routine check counts


def test_the_cap_is_per_province_configuration(app, db, city):
    ent = city["ents"]["huaian"][0]
    db.session.add(Inspection(code="ROUTINEX", enterprise_id=ent.id, kind=InspectionKind.ROUTINE,
                              trigger=InspectionTrigger.DRAW, counts_against_cap=True, year=_year(),
                              authority_code="3208"))
    db.session.commit()
    app.config["CREDIT_ROUTINE_INSPECTION_CAPS"] = {"32": 1, "default": 2}
    try:
        assert I.cap_status(ent, _year()) == (1, 1)
        entry = draws.make_draw(city["lead"], "3208", _year(), _quarter_ending_after_today())
        assert ent.uscc in entry.pool["at_cap"]
    finally:
        app.config.pop("CREDIT_ROUTINE_INSPECTION_CAPS")


def test_a_case_check_needs_two_covering_certified_inspectors(db, city):
    ent = city["ents"]["lianshui"][0]
    for certificates in (["LS-001"], ["LS-001", "HA-001"], ["LS-001", "LS-009"]):
        with pytest.raises(ValidationFailed) as info:
            I.record_case_inspection(city["lead"], uscc=ent.uscc, trigger="complaint", certificates=certificates,
                                     inspected_on=china_today(), basis="举报件核查", result="未发现问题")
        assert "certificates" in info.value.errors
    with pytest.raises(ValidationFailed) as info:
        I.record_case_inspection(city["lead"], uscc=ent.uscc, trigger="draw", certificates=["LS-001", "LS-002"],
                                 inspected_on=china_today(), basis="举报件核查", result="未发现问题")
    assert "trigger" in info.value.errors


def test_each_inspection_has_a_code_the_enterprise_verifies_then_rates(db, city, client, login):
    entry = draws.make_draw(city["lead"], "3208", _year(), _quarter_ending_after_today())
    ent = city["ents"]["lianshui"][2]
    inspection = db.session.scalar(sa.select(Inspection).where(Inspection.enterprise_id == ent.id,
                                                               Inspection.draw_id == entry.id))
    assert inspection.counts_against_cap and len(inspection.code) == I.CODE_LENGTH
    assert {i.certificate_no for i in inspection.inspectors} == set(
        next(r for r in entry.result if r["uscc"] == ent.uscc)["inspectors"])
    db.session.commit()
    code = I.format_code(inspection.code)
    assert client.get("/credit/inspections/verify", query_string={"code": code}).status_code == 404  # confidential
    draws.publish(city["lead"], entry)
    db.session.commit()
    page = client.get("/credit/inspections/verify", query_string={"code": code.lower()})
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and ent.name in text
    assert all(i.certificate_no in text and i.name in text for i in inspection.inspectors)
    staff = make_user(Role.ENTERPRISE_STAFF, enterprise=ent)
    other = make_user(Role.ENTERPRISE_STAFF, enterprise=city["ents"]["lianshui"][0])
    db.session.commit()
    with pytest.raises(InvalidTransition):
        I.rate(staff, inspection, 5, "")  # no result yet
    I.record_result(city["lead"], inspection, china_today(), "现场检查，治污设施正常运行")
    with pytest.raises(NotFound):
        I.rate(other, inspection, 1, "")
    db.session.commit()
    own = login(staff)
    assert inspection.code[:4] in own.get("/credit/enterprise/inspections").get_data(as_text=True)
    assert own.post(f"/credit/enterprise/inspections/{inspection.id}/rating",
                    data={"score": "4", "comment": "检查规范"}).status_code == 302
    db.session.refresh(inspection)
    assert inspection.rating == 4 and inspection.rating_comment == "检查规范"
    assert login(other).post(f"/credit/enterprise/inspections/{inspection.id}/rating",
                             data={"score": "1"}).status_code == 404
    actions = set(db.session.scalars(sa.select(AuditRecord.action)))
    assert {"credit_inspection.result", "credit_inspection.rate"} <= actions


def test_public_pages_name_companies_and_inspectors_without_logins_class_codes_or_commands(db, city, client):
    entry = draws.make_draw(city["lead"], "3208", _year(), _quarter_ending_after_today())
    hidden = draws.make_draw(city["lead"], "3208", _year() - 1, 1)
    draws.publish(city["lead"], entry)
    db.session.commit()
    index = client.get("/credit/draws").get_data(as_text=True)
    assert f"/credit/draws/{entry.id}" in index and f"/credit/draws/{hidden.id}" not in index
    page = client.get(f"/credit/draws/{entry.id}").get_data(as_text=True)
    assert city["ents"]["lianshui"][0].name in page and "王检" in page
    assert "huaian_lead_login" not in page and "flask" not in page and "draw-verify" not in page
    assert ">special<" not in page and ">general<" not in page and ">key<" not in page
    assert "LS-001" not in page  # certificate numbers are on the verification page, names here


def test_the_roster_is_kept_by_the_lead_with_field_messages(db, login):
    lead = make_user(Role.REGULATOR_LEAD, jurisdiction_code="3208")
    regulator = make_user(Role.REGULATOR, jurisdiction_code="3208")
    db.session.commit()
    good = {"name": "李检", "jurisdiction_code": "320826", "certificate_no": "JS-0001",
            "valid_from": date(2025, 1, 1), "valid_until": date(2030, 12, 31)}
    with pytest.raises(NotAllowed):
        I.add_inspector(regulator, **good)
    for change, field in (({"jurisdiction_code": "2101"}, "jurisdiction_code"), ({"certificate_no": "x"},
                          "certificate_no"), ({"valid_until": date(2024, 1, 1)}, "certificate_valid_until"),
                          ({"username": "nobody"}, "username")):
        with pytest.raises(ValidationFailed) as info:
            I.add_inspector(lead, **{**good, **change})
        assert field in info.value.errors
    page = login(lead)
    response = page.post("/credit/regulator/draws/inspectors", data={
        "name": "李检", "jurisdiction_code": "320826", "certificate_no": "JS-0001",
        "certificate_valid_from": "2025-01-01", "certificate_valid_until": "2030-12-31"})
    assert response.status_code == 302
    assert "JS-0001" in page.get("/credit/regulator/draws/inspectors").get_data(as_text=True)
    assert db.session.scalar(sa.select(AuditRecord).where(AuditRecord.action == "credit_inspector.add"))
    duplicate = page.post("/credit/regulator/draws/inspectors", data={
        "name": "李检", "jurisdiction_code": "320826", "certificate_no": "JS-0001",
        "certificate_valid_from": "2025-01-01", "certificate_valid_until": "2030-12-31"})
    assert duplicate.status_code == 400
    assert login(regulator).post("/credit/regulator/draws/inspectors", data={
        "name": "赵检", "jurisdiction_code": "320826", "certificate_no": "JS-0002",
        "certificate_valid_from": "2025-01-01", "certificate_valid_until": "2030-12-31"}).status_code == 403


def test_the_inspections_page_shows_the_cap(db, city, login):
    ent = city["ents"]["lianshui"][0]
    I.record_case_inspection(city["lead"], uscc=ent.uscc, trigger="complaint", certificates=["LS-001", "LS-002"],
                             inspected_on=china_today(), basis="举报件核查", result="未发现问题")
    db.session.commit()
    page = login(city["lead"]).get("/credit/regulator/inspections")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    text = page.get_data(as_text=True)
    assert ent.name in text and ("0 of 2" in text or "0 / 2" in text)
