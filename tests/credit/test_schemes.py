"""Scheme versions: draft, edit, activate (the previous retires, its standings become due), jurisdiction mapping."""
import json

import pytest
import sqlalchemy as sa

from portal.auth.models import Role
from portal.core.clock import china_today
from portal.credit import rules, schemes, services
from portal.credit.evidence import add_evidence
from portal.credit.models import (CreditScheme, CreditSchemeVersion, CreditStanding, EvidenceKind, EvidenceSource,
                                  JurisdictionScheme, SchemeStatus)
from portal.errors import Conflict, InvalidTransition, NotAllowed, ValidationFailed
from tests.factories import make_enterprise, make_user


@pytest.mark.parametrize("role, jurisdiction, edit, map_", [
    (Role.REGULATOR_LEAD, "32", True, True), (Role.REGULATOR_LEAD, "3208", False, True),
    (Role.REGULATOR, "32", False, False), (Role.ADMIN, None, False, False),
])
def test_who_edits_and_who_maps_schemes(role, jurisdiction, edit, map_):
    assert rules.can_edit_schemes(role, jurisdiction) is edit
    assert rules.can_map_scheme(role, jurisdiction) is map_


@pytest.fixture
def setup(db):
    services.seed_schemes()
    ent = make_enterprise()
    add_evidence(enterprise_id=ent.id, kind=EvidenceKind.PENALTY, source=EvidenceSource.REGULATOR, source_ref="p:1",
                 occurred_on=china_today(), title="罚款", verified=True, amount_yuan=10000)
    jiangsu = db.session.scalar(sa.select(CreditScheme).where(CreditScheme.code == "jiangsu-12"))
    db.session.commit()
    return {"ent": ent, "jiangsu": jiangsu, "active": jiangsu.versions[0],
            "province_lead": make_user(Role.REGULATOR_LEAD, jurisdiction_code="32"),
            "city_lead": make_user(Role.REGULATOR_LEAD, jurisdiction_code="3208")}


def test_a_draft_is_edited_then_activated_and_the_old_version_retires(db, setup):
    lead, active = setup["province_lead"], setup["active"]
    draft = schemes.new_draft(lead, active)
    assert (draft.number, draft.status) == (2, SchemeStatus.DRAFT)
    with pytest.raises(Conflict):
        schemes.new_draft(lead, active)
    data = json.loads(schemes.rules_text(draft))
    data["start_score"] = 10
    schemes.update_draft(lead, draft, json.dumps(data))
    assert draft.rules["start_score"] == 10 and active.rules["start_score"] == 9
    due = schemes.activate(lead, draft)
    assert (active.status, draft.status, due) == (SchemeStatus.RETIRED, SchemeStatus.ACTIVE, 1)
    assert services.refresh_due_standings() == 1
    standing = db.session.scalar(sa.select(CreditStanding))
    assert (standing.score, standing.scheme_version_id) == (7, draft.id)
    with pytest.raises(InvalidTransition):
        schemes.update_draft(lead, draft, json.dumps(data))


@pytest.mark.parametrize("text, message", [("{", "JSON"), ('{"start_score": 9}', "grades")])
def test_a_malformed_draft_is_refused_with_the_place_at_fault(db, setup, text, message):
    draft = schemes.new_draft(setup["province_lead"], setup["active"])
    with pytest.raises(ValidationFailed) as err:
        schemes.update_draft(setup["province_lead"], draft, text)
    assert message in err.value.errors["rules"]


def test_only_a_provincial_lead_edits_schemes(db, setup):
    with pytest.raises(NotAllowed):
        schemes.new_draft(setup["city_lead"], setup["active"])


def test_a_lead_maps_its_jurisdiction_and_the_standings_become_due(db, setup):
    national = db.session.scalar(sa.select(CreditScheme).where(CreditScheme.code == "national-2013"))
    assert schemes.map_jurisdiction(setup["city_lead"], national) == 1
    assert db.session.scalar(sa.select(JurisdictionScheme).where(JurisdictionScheme.jurisdiction_prefix == "3208"))
    services.refresh_due_standings()
    standing = db.session.scalar(sa.select(CreditStanding))
    assert (standing.score, standing.grade) == (85, "blue")  # national: any penalty zeroes M11 (15 %)
    assert schemes.map_jurisdiction(setup["city_lead"], national) == 0


def test_the_scheme_pages(db, login, setup):
    page = login(setup["province_lead"])
    assert page.get("/credit/regulator/schemes").status_code == 200
    response = page.post(f"/credit/regulator/schemes/versions/{setup['active'].id}/draft")
    draft = db.session.scalar(sa.select(CreditSchemeVersion).where(CreditSchemeVersion.status == SchemeStatus.DRAFT))
    assert response.headers["Location"].endswith(f"/credit/regulator/schemes/versions/{draft.id}")
    bad = page.post(f"/credit/regulator/schemes/versions/{draft.id}", data={"rules": "{"})
    assert bad.status_code == 400 and 'id="rules-error"' in bad.get_data(as_text=True)
    data = dict(draft.rules, max_score=11)
    assert page.post(f"/credit/regulator/schemes/versions/{draft.id}",
                     data={"rules": json.dumps(data)}).status_code == 302
    page.post(f"/credit/regulator/schemes/versions/{draft.id}/activate")
    db.session.refresh(draft)
    assert draft.status == SchemeStatus.ACTIVE and draft.rules["max_score"] == 11
    city = login(setup["city_lead"])
    assert city.post(f"/credit/regulator/schemes/versions/{draft.id}/draft").status_code == 403
    regulator = login(make_user(Role.REGULATOR))
    assert regulator.get(f"/credit/regulator/schemes/versions/{draft.id}").status_code == 200
    assert "<textarea" not in regulator.get(f"/credit/regulator/schemes/versions/{draft.id}").get_data(as_text=True)


def test_anonymous_users_cannot_open_the_scheme_pages(client, setup):
    assert client.get("/credit/regulator/schemes").status_code == 302
    assert client.post(f"/credit/regulator/schemes/versions/{setup['active'].id}/activate").status_code == 302
