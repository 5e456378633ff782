from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.audit.models import AuditRecord
from portal.auth.models import Role
from portal.enterprises import proposals, services
from portal.enterprises.models import ChangeProposal, Enterprise, KeyUnitType, OutletLimit, Permit, ProposalStatus
from portal.errors import InvalidTransition, ValidationFailed
from tests.factories import ensure_reference, make_enterprise, make_limit, make_outlet, make_permit, make_user, \
    make_uscc


def _data(**kw):
    data = {"uscc": make_uscc(), "name": "淮安绿源化工有限公司", "region_code": "320826", "industry_code": "2614",
            "legal_rep": "李四", "address": "涟水县工业园区8号", "former_names": ""}
    data.update(kw)
    return data


def _audit(action):
    return list(db_scalars(sa.select(AuditRecord).where(AuditRecord.action == action)))


def db_scalars(stmt):
    from portal.extensions import db
    return db.session.scalars(stmt)


@pytest.fixture
def regulator(db):
    ensure_reference()
    return make_user(Role.REGULATOR, jurisdiction_code="3208")


def test_create_enterprise_stores_normalised_code_and_writes_an_audit_record(db, regulator):
    uscc = make_uscc()
    ent = services.create_enterprise(regulator, _data(uscc=uscc.lower()))
    assert ent.uscc == uscc
    [rec] = _audit("enterprise.create")
    assert rec.before is None and rec.after["uscc"] == uscc and rec.enterprise_id == ent.id


def test_duplicate_credit_code_names_the_existing_enterprise(db, regulator):
    existing = make_enterprise(name="已登记化工有限公司")
    with pytest.raises(ValidationFailed) as exc:
        services.create_enterprise(regulator, _data(uscc=existing.uscc))
    assert "已登记化工有限公司" in exc.value.errors["uscc"]


def test_wrong_check_character_error_names_the_expected_character(db, regulator):
    uscc = make_uscc()
    wrong = uscc[:17] + ("0" if uscc[17] != "0" else "1")
    with pytest.raises(ValidationFailed) as exc:
        services.create_enterprise(regulator, _data(uscc=wrong))
    assert f"“{uscc[17]}”" in exc.value.errors["uscc"]


def test_all_field_errors_are_reported_together_and_nothing_is_written(db, regulator):
    with pytest.raises(ValidationFailed) as exc:
        services.create_enterprise(regulator, _data(uscc="123", name="", region_code="999999", industry_code="0000",
                                                    latitude="abc"))
    assert {"uscc", "name", "region_code", "industry_code", "latitude"} <= exc.value.errors.keys()
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Enterprise)) == 0
    assert _audit("enterprise.create") == []


def test_update_records_before_and_after_and_keeps_the_old_name(db, regulator):
    ent = make_enterprise(name="旧名称有限公司")
    services.update_enterprise(regulator, ent, {"name": "新名称有限公司"})
    assert ent.former_names == ["旧名称有限公司"]
    [rec] = _audit("enterprise.update")
    assert rec.before["name"] == "旧名称有限公司" and rec.after["name"] == "新名称有限公司"


def test_permit_number_must_start_with_the_enterprise_code_and_be_unique(db, regulator):
    ent, other = make_enterprise(), make_enterprise()
    good = {"permit_no": f"{ent.uscc}001P", "management_class": "key", "valid_from": "2024-01-01",
            "valid_to": "2029-01-01"}
    permit = services.create_permit(regulator, ent, good)
    assert permit.valid_to == date(2029, 1, 1)
    with pytest.raises(ValidationFailed) as exc:
        services.create_permit(regulator, ent, {**good, "permit_no": f"{other.uscc}001P"})
    assert ent.uscc in exc.value.errors["permit_no"]
    with pytest.raises(ValidationFailed) as exc:
        services.create_permit(regulator, ent, good)
    assert "permit_no" in exc.value.errors


def test_permit_dates_must_be_ordered(db, regulator):
    ent = make_enterprise()
    with pytest.raises(ValidationFailed) as exc:
        services.create_permit(regulator, ent, {"permit_no": f"{ent.uscc}001P", "management_class": "key",
                                                "valid_from": "2024-01-01", "valid_to": "2023-01-01"})
    assert set(exc.value.errors) == {"valid_to"}


def test_outlet_code_format_and_uniqueness_per_enterprise(db, regulator):
    ent = make_enterprise()
    services.create_outlet(regulator, ent, {"code": "dw001", "name": "总排口", "outlet_type": "main"})
    with pytest.raises(ValidationFailed) as exc:
        services.create_outlet(regulator, ent, {"code": "DW001", "name": "重复", "outlet_type": "main"})
    assert "DW001" in exc.value.errors["code"]
    with pytest.raises(ValidationFailed) as exc:
        services.create_outlet(regulator, ent, {"code": "DX001", "name": "错", "outlet_type": "main"})
    assert "code" in exc.value.errors
    services.create_outlet(regulator, make_enterprise(), {"code": "DW001", "name": "另一家", "outlet_type": "main"})


def test_limit_defaults_unit_and_accepts_a_ph_range(db, regulator):
    outlet = make_outlet(make_enterprise(), "DW001")
    cod = services.create_limit(regulator, outlet, {"pollutant_code": "w01018", "limit_value": "50",
                                                    "averaging": "daily", "unit": ""})
    assert cod.unit == "mg/L" and cod.limit_value == Decimal("50")
    ph = services.create_limit(regulator, outlet, {"pollutant_code": "w01001", "limit_min": "6", "limit_max": "9",
                                                   "averaging": "instant"})
    assert (ph.limit_min, ph.limit_max) == (Decimal("6"), Decimal("9"))
    rec = _audit("outlet_limit.create")[0]
    assert rec.enterprise_id == outlet.enterprise_id


@pytest.mark.parametrize("data, field", [
    ({"pollutant_code": "w01001", "limit_min": "9", "limit_max": "6"}, "limit_max"),
    ({"pollutant_code": "w01018"}, "limit_value"),
    ({"pollutant_code": "a21026", "limit_value": "35"}, "pollutant_code"),
    ({"pollutant_code": "w01018", "limit_value": "35", "reference_o2": "6"}, "reference_o2"),
    ({"pollutant_code": "nope", "limit_value": "35"}, "pollutant_code"),
])
def test_bad_limits_are_refused_with_the_field_named(db, regulator, data, field):
    outlet = make_outlet(make_enterprise(), "DW001")
    with pytest.raises(ValidationFailed) as exc:
        services.create_limit(regulator, outlet, {"averaging": "daily", **data})
    assert field in exc.value.errors


def test_a_pollutant_is_limited_once_per_outlet(db, regulator):
    outlet = make_outlet(make_enterprise(), "DW001")
    make_limit(outlet, "w01018")
    with pytest.raises(ValidationFailed) as exc:
        services.create_limit(regulator, outlet, {"pollutant_code": "w01018", "limit_value": "10",
                                                  "averaging": "daily"})
    assert "pollutant_code" in exc.value.errors


def test_removing_a_limit_keeps_it_in_the_audit_record(db, regulator):
    outlet = make_outlet(make_enterprise(), "DW001")
    limit = make_limit(outlet, "w01018", "100")
    services.remove_limit(regulator, limit)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutletLimit)) == 0
    [rec] = _audit("outlet_limit.delete")
    assert rec.before["limit_value"] == "100" and rec.after is None


def test_key_unit_types_replace_the_years_list(db, regulator):
    ent = make_enterprise()
    services.set_key_unit_types(regulator, ent, "2025", ["water", "air"])
    services.set_key_unit_types(regulator, ent, 2025, ["air"])
    assert ent.key_unit_types(2025) == [KeyUnitType.AIR]
    rec = _audit("enterprise.key_units")[-1]
    assert rec.before["key_unit_types"] == ["air", "water"] and rec.after["key_unit_types"] == ["air"]
    with pytest.raises(ValidationFailed):
        services.set_key_unit_types(regulator, ent, "25", ["air"])


def test_public_profile_has_region_path_days_left_and_no_phone(db):
    ent = make_enterprise(contact_phone="0517-1234567")
    make_permit(ent, valid_to=date(2026, 3, 1))
    make_limit(make_outlet(ent, "DW001"), "w01018", "60")
    profile = services.public_profile(ent, today=date(2026, 1, 1))
    assert profile["region_path_text"] == "江苏省 淮安市 涟水县"
    assert profile["permits"][0]["days_left"] == 59 and not profile["permits"][0]["expired"]
    assert profile["outlets"][0]["limits"][0]["pollutant_name"] == "化学需氧量"
    assert "0517-1234567" not in str(profile)


def test_proposal_is_validated_when_made(db):
    ent = make_enterprise()
    user = make_user(Role.ENTERPRISE_STAFF, enterprise=ent)
    with pytest.raises(ValidationFailed) as exc:
        proposals.propose_change(user, ent, "permit", None, {"permit_no": "X", "management_class": "key",
                                                            "valid_from": "2024-01-01", "valid_to": "2029-01-01"},
                                 "新证")
    assert "permit_no" in exc.value.errors


def test_approving_a_proposal_applies_it_audited_as_the_regulator(db, regulator):
    ent = make_enterprise()
    user = make_user(Role.ENTERPRISE_STAFF, enterprise=ent)
    proposal = proposals.propose_change(user, ent, "permit", None,
                                        {"permit_no": f"{ent.uscc}001P", "management_class": "simplified",
                                         "valid_from": date(2024, 1, 1), "valid_to": date(2029, 1, 1)}, "新证")
    assert proposals.proposal_diff(proposal)[0][0] in proposal.payload
    permit = proposals.approve_proposal(regulator, proposal, "核实无误")
    assert isinstance(permit, Permit) and proposal.status == ProposalStatus.APPROVED
    [rec] = _audit("permit.create")
    assert rec.actor_id == regulator.id and f"#{proposal.id}" in rec.after["_note"]
    with pytest.raises(InvalidTransition):
        proposals.reject_proposal(regulator, proposal, "太晚")


def test_enterprise_users_cannot_propose_a_new_credit_code(db, regulator):
    ent = make_enterprise()
    user = make_user(Role.ENTERPRISE_STAFF, enterprise=ent)
    proposal = proposals.propose_change(user, ent, "enterprise", ent.id,
                                        {"uscc": make_uscc(), "legal_rep": "王五"}, "法人变更")
    assert proposal.payload == {"legal_rep": "王五"}
    proposals.approve_proposal(regulator, proposal)
    assert ent.legal_rep == "王五"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ChangeProposal)) == 1


def test_sending_the_same_proposal_twice_keeps_one(db):
    ent = make_enterprise()
    user = make_user(Role.ENTERPRISE_STAFF, enterprise=ent)
    first = proposals.propose_change(user, ent, "enterprise", ent.id, {"legal_rep": "王五"}, "变更")
    again = proposals.propose_change(user, ent, "enterprise", ent.id, {"legal_rep": "王五"}, "变更")
    assert first.id == again.id
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ChangeProposal)) == 1
