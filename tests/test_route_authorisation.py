"""Authorisation matrix generated from the URL map: every route × every role, with own and foreign objects.

A new route fails these tests until it is either public, login-only, or declares its permissions with @require,
and until its URL parameters are known to OBJECT_PARAMS below (so the foreign-object pass covers it).
"""
from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from portal.audit.models import AuditRecord
from portal.audit.services import record
from portal.credit.evidence import add_evidence
from portal.credit.models import EvidenceKind, EvidenceSource
from portal.auth.models import BindingStatus, EnterpriseBinding, Role
from portal.auth.permissions import ROLE_PERMISSIONS
from portal.enterprises.models import ChangeProposal
from tests.conftest import login_as
from tests.credit.draw_world import draw_inspection_objects
from tests.credit.world import credit_objects
from tests.dataerrors.world import dataerror_objects
from tests.disclosures.world import disclosure_objects
from tests.integrity.world import integrity_objects
from tests.monitoring.world import monitoring_objects
from tests.rewards.world import reward_objects
from tests.servicebodies.world import servicebody_objects
from tests.opendays.world import opendays_objects
from tests.permits.world import permit_objects
from tests.factories import make_complaint, make_enterprise, make_limit, make_outlet, make_permit, make_user

PUBLIC = {
    "static", "core.health", "core.set_language", "search.home", "search.search", "enterprises.public",
    "enterprise_page.public",
    "reports.enterprise_summary", "auth.login", "auth.logout", "auth.register", "enterprises_api.compliance",
    "enterprises_api.deadlines", "credit.schemes", "monitoring.enterprise_csv", "monitoring.lab_report",
}
PUBLIC |= {"disclosures.report", "disclosures.report_pdf", "disclosures.verify", "disclosures.verify_form"}
PUBLIC |= {"disclosures_api.enterprise_disclosures", "disclosures_api.disclosure"}
PUBLIC |= {"disclosures.list_public", "disclosures.list_public_index"}
PUBLIC |= {"credit.public_runs", "credit.public_run", "credit_lists.blacklist", "credit_lists.whitelist",
           "credit_repair.public_notices", "credit_draws.public", "credit.report_pdf",
           "credit_files.download"}  # public evidence only; checked inside
PUBLIC |= {"credit_draws.public_index", "credit_draws.verify_inspection"}  # published draws; code verification
# Credit scheme versions are global data (not an enterprise's): any regulator may read them, leads edit them.
GLOBAL_OBJECTS = {"credit_schemes.edit", "credit_schemes.new_draft", "credit_schemes.activate"}
PUBLIC |= {"opendays.public_index", "opendays.detail", "opendays.registered"}  # registration needs no account
PUBLIC_PREFIXES = ("api.", "credit_api.", "monitoring_api.", "complaints.", "open311.", "opendata.", "feeds.",
                   "subscriptions.", "dataerrors.", "envcode.", "audit_public.")
PUBLIC |= {"rewards.statistics", "servicebodies.index", "servicebodies.public", "servicebodies.scheme"}
PUBLIC |= {"maps.index", "maps.data_json"}  # the public map: standings, exceedances, complaint density (issue 21)
LOGIN_ONLY = {"auth.account", "auth.account_language", "auth.account_password"}
LOGIN_ONLY |= {"home.index"}  # each role's home (issue 21): counts inside the user's own scope
# Accounts (issue 20): the second step of a login and the password reset are public (they check their own state);
# second-factor enrolment is the account holder's; forced resets are the administrator's.
PUBLIC |= {"auth.login_factor", "auth.forgot_password", "auth.reset_password", "auth.register_finish"}
LOGIN_ONLY |= {"auth.factor_setup", "auth.factor_recovery_codes", "auth.factor_remove", "auth.account_end_sessions"}
ADMIN_GLOBAL = {"auth.admin_users", "auth.admin_user_edit", "auth.admin_user_deactivate", "auth.admin_user_reactivate",
                "auth.admin_user_unlock", "auth.admin_user_new", "auth.admin_user_reset_password",
                "auth.admin_user_reset_factor", "workdays.admin_calendar", "workdays.save_override",
                "workdays.delete_override", "workdays.import_schedule", "workdays.schedule_template"}
# An unregistered MN belongs to no region: its list is for administrators and province-level regulators only
# (the matrix regulators are city-level; tests/monitoring/test_unknown_senders.py covers who opens it).
PROVINCE_ONLY = {"monitoring.unknown_devices"}
ROLES = [None, Role.ENTERPRISE_STAFF, Role.ENTERPRISE_SIGNATORY, Role.REGULATOR, Role.REGULATOR_LEAD, Role.ADMIN]


def _is_public(endpoint: str) -> bool:
    return endpoint in PUBLIC or endpoint.startswith(PUBLIC_PREFIXES)


def _rules(app):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield rule, method


@pytest.fixture
def world(db):
    """Own enterprise A in 涟水县 (jurisdiction 3208) and foreign enterprise B in 沈阳市, each with every object kind."""
    objects = {}
    for key, region in (("own", "320826"), ("foreign", "210100")):
        ent = make_enterprise(region_code=region)
        record(None, "enterprise.create", ent)
        permit = make_permit(ent)
        outlet = make_outlet(ent, "DW001", permit)
        limit = make_limit(outlet)
        owner = make_user(Role.ENTERPRISE_STAFF, enterprise=ent)
        proposal = ChangeProposal(enterprise_id=ent.id, proposer_id=owner.id, target_type="enterprise",
                                  target_id=ent.id, payload={"legal_rep": "王五"}, reason="法定代表人变更")
        applicant = make_user(Role.ENTERPRISE_STAFF)
        binding = EnterpriseBinding(user_id=applicant.id, enterprise_id=ent.id,
                                    requested_role=Role.ENTERPRISE_SIGNATORY, status=BindingStatus.PENDING)
        db.session.add_all([proposal, binding])
        db.session.flush()
        evidence = add_evidence(enterprise_id=ent.id, kind=EvidenceKind.PENALTY, source=EvidenceSource.REGULATOR,
                                source_ref=f"world:{key}", occurred_on=date(2026, 3, 1), title="罚款", verified=False,
                                document_no=f"环罚〔2026〕{ent.id}号", authority="生态环境局", amount_yuan=20000)
        objects[key] = {"enterprise_id": ent.id, "permit_id": permit.id, "outlet_id": outlet.id,
                        "limit_id": limit.id, "proposal_id": proposal.id, "binding_id": binding.id,
                        "user_id": applicant.id, "uscc": ent.uscc, "object_type": "enterprises",
                        "object_id": ent.id, "target_type": "permit", "target_id": permit.id, "day": "2026-10-01",
                        "lang": "en", "filename": "css/portal.css",
                        "evidence_id": evidence.id, "incident_id": _incident(db, ent, outlet)}
        complaint, _code = make_complaint(ent, photo=True)
        objects[key].update(complaint_id=complaint.id, case_no=complaint.case_no,
                            attachment_id=complaint.attachments[0].id, service_code="water",
                            service_request_id=complaint.case_no, token="open311:unknown")
        objects[key].update(disclosure_objects(db, ent))
        objects[key].update(credit_objects(db, ent, owner))
        objects[key].update(draw_inspection_objects(db, ent))
        objects[key].update(monitoring_objects(db, ent, owner))
        objects[key].update(name="enterprises", region=region)  # open data: bulk file name, region feed
        objects[key].update(dataerror_objects(db, ent))
        objects[key].update(servicebody_objects(db, ent))
        objects[key].update(opendays_objects(db, ent, owner))
        objects[key].update(integrity_objects(db, ent))
        objects[key].update(permit_objects(db, ent))
    own_ent_id = objects["own"]["enterprise_id"]
    users = {role: make_user(role, enterprise=_ent(db, own_ent_id) if role and role.is_enterprise else None,
                             jurisdiction_code="3208" if role and role.is_regulator else None)
             for role in ROLES if role}
    # Reward data is seen by the case's handler and the lead only: the own case is handled by the matrix regulator.
    objects["own"].update(reward_objects(db, _ent(db, own_ent_id), users[Role.REGULATOR]))
    objects["foreign"].update(reward_objects(db, _ent(db, objects["foreign"]["enterprise_id"])))
    db.session.commit()
    return objects, users


def _incident(db, ent, outlet) -> int:
    from datetime import datetime, timezone

    from portal.monitoring.models import Basis, ExceedanceIncident

    incident = ExceedanceIncident(enterprise_id=ent.id, outlet_id=outlet.id, pollutant_code="w01018",
                                  basis=Basis.DAILY_MEAN, period_start=datetime(2026, 11, 1, tzinfo=timezone.utc),
                                  value=150.0, limit_value=100.0, multiple=0.5)
    db.session.add(incident)
    db.session.flush()
    return incident.id


def _ent(db, ent_id):
    from portal.enterprises.models import Enterprise

    return db.session.get(Enterprise, ent_id)


def _url(app, rule, values):
    missing = [a for a in rule.arguments if a not in values]
    assert not missing, f"{rule.endpoint}: add {missing} to the world fixture so the matrix can cover it"
    return app.url_map.bind("localhost").build(rule.endpoint, {a: values[a] for a in rule.arguments})


def test_every_route_is_public_login_only_or_declares_its_permissions(app):
    unguarded = [rule.endpoint for rule, _ in _rules(app)
                 if not _is_public(rule.endpoint) and rule.endpoint not in LOGIN_ONLY
                 and not getattr(app.view_functions[rule.endpoint], "required_permissions", None)]
    assert unguarded == []


def test_anonymous_users_are_sent_to_log_in_on_every_private_route(app, client, world):
    objects, _ = world
    for rule, method in _rules(app):
        if _is_public(rule.endpoint):
            continue
        response = client.open(_url(app, rule, objects["own"]), method=method)
        assert response.status_code == 302, (rule.rule, method, response.status_code)
        assert "/auth/login" in response.headers["Location"], rule.rule


@pytest.mark.parametrize("role", [r for r in ROLES if r])
def test_roles_without_a_routes_permission_get_403_and_never_a_500(app, client, world, role):
    objects, users = world
    login_as(client, users[role])
    granted = ROLE_PERMISSIONS[role]
    for rule, method in _rules(app):
        needed = getattr(app.view_functions[rule.endpoint], "required_permissions", ())
        if rule.endpoint == "static":
            continue
        login_as(client, users[role])  # a route visited before (logout, a password change) may have ended the session
        response = client.open(_url(app, rule, objects["own"]), method=method)
        assert response.status_code < 500, (role, rule.rule, method, response.status_code)
        if needed and not set(needed) <= granted:
            assert response.status_code == 403, (role, rule.rule, method, response.status_code)


@pytest.mark.parametrize("role", [Role.ENTERPRISE_STAFF, Role.ENTERPRISE_SIGNATORY, Role.REGULATOR,
                                  Role.REGULATOR_LEAD])
def test_foreign_objects_are_refused_and_left_unchanged(app, client, db, world, role):
    objects, users = world
    login_as(client, users[role])
    granted = ROLE_PERMISSIONS[role]
    audit_before = db.session.scalar(sa.select(sa.func.count()).select_from(AuditRecord))
    for rule, method in _rules(app):
        needed = getattr(app.view_functions[rule.endpoint], "required_permissions", ())
        if _is_public(rule.endpoint) or not needed or not set(needed) <= granted:
            continue
        if rule.endpoint in ADMIN_GLOBAL or rule.endpoint in GLOBAL_OBJECTS or not rule.arguments:
            continue
        login_as(client, users[role])
        response = client.open(_url(app, rule, objects["foreign"]), method=method)
        assert response.status_code in (403, 404), (role, rule.rule, method, response.status_code)
    audit_after = db.session.scalar(sa.select(sa.func.count()).select_from(AuditRecord))
    assert audit_after == audit_before


@pytest.mark.parametrize("role", [Role.ENTERPRISE_STAFF, Role.REGULATOR, Role.REGULATOR_LEAD, Role.ADMIN])
def test_own_objects_open_for_the_roles_that_may_see_them(app, client, world, role):
    objects, users = world
    granted = ROLE_PERMISSIONS[role]
    opened = []
    for rule, method in _rules(app):
        needed = getattr(app.view_functions[rule.endpoint], "required_permissions", ())
        if method != "GET" or not needed or not set(needed) <= granted:
            continue
        if rule.endpoint in PROVINCE_ONLY and role.is_regulator:
            continue
        login_as(client, users[role])
        response = client.get(_url(app, rule, objects["own"]))
        assert response.status_code == 200, (role, rule.rule, response.status_code)
        opened.append(rule.endpoint)
    assert len(opened) >= 2, opened
