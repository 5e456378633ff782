"""Self-registration, binding requests and the regulator's binding queue."""
from portal.audit.models import AuditRecord
from portal.auth.models import BindingStatus, EnterpriseBinding, Role, User
from portal.enterprises.rules import normalise_code
from tests.factories import DEFAULT_PASSWORD, make_enterprise, make_user

import shutil

import pytest
import sqlalchemy as sa

from tests.auth.helpers import registration_paths


@pytest.fixture(autouse=True)
def clean_mail(app):
    yield
    shutil.rmtree(app.config["MAIL_DIR"], ignore_errors=True)


def _register(client, **overrides):
    """Both steps, as a person would: the address, then the mailed link (asked for once per address)."""
    email = overrides.pop("email", "li@example.cn")
    paths = registration_paths(email)
    if not paths:
        assert client.post("/auth/register", data={"email": email}).status_code == 302
        paths = registration_paths(email)
    data = {"username": "li.wei", "display_name": "李伟", "password": DEFAULT_PASSWORD, "confirm": DEFAULT_PASSWORD,
            **overrides}
    return client.post(paths[-1], data=data)


def _binding(db, enterprise, user=None, role=Role.ENTERPRISE_SIGNATORY):
    user = user or make_user(Role.ENTERPRISE_STAFF)
    binding = EnterpriseBinding(user_id=user.id, enterprise_id=enterprise.id, requested_role=role, note="经理")
    db.session.add(binding)
    db.session.commit()
    return binding


def _actions(db):
    return [r.action for r in db.session.scalars(sa.select(AuditRecord).order_by(AuditRecord.seq))]


# --- registration -----------------------------------------------------------------------------------------------

def test_registration_creates_an_unbound_staff_account_and_logs_in(en, db):
    response = _register(en)
    assert response.status_code == 302 and response.headers["Location"] == "/auth/binding"
    user = db.session.scalar(sa.select(User).where(User.username == "li.wei"))
    assert user.role == Role.ENTERPRISE_STAFF and user.enterprise_id is None
    assert user.password_hash.startswith("$argon2id$")
    assert "user.create" in _actions(db)
    assert en.get("/auth/binding").status_code == 200


def test_registration_refuses_a_common_password_with_the_reason(en, db):
    response = _register(en, password="password123", confirm="password123")
    assert response.status_code == 400
    assert "commonly used" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_registration_refuses_a_password_containing_the_username(en, db):
    response = _register(en, password="li.wei-strong-phrase", confirm="li.wei-strong-phrase")
    assert "must not contain the username" in response.get_data(as_text=True)


def test_registration_refuses_a_taken_username_in_any_case(en, db):
    make_user(Role.REGULATOR, username="li.wei")
    db.session.commit()
    response = _register(en, username="LI.WEI")
    assert "already taken" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1


def test_registration_refuses_mismatched_passwords_and_bad_usernames(en, db):
    assert "not the same" in _register(en, confirm="something else entirely").get_data(as_text=True)
    assert "letters, digits" in _register(en, username="x y").get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


# --- binding requests -------------------------------------------------------------------------------------------

def test_binding_request_page_needs_login_and_an_enterprise_role(client, login, db):
    assert client.get("/auth/binding").status_code == 302
    login(make_user(Role.REGULATOR))
    assert client.get("/auth/binding").status_code == 403


def test_enterprise_user_requests_a_binding_and_sees_it_pending(en, login, db):
    enterprise = make_enterprise()
    user = make_user(Role.ENTERPRISE_STAFF)
    db.session.commit()
    login(user)
    response = en.post("/auth/binding", data={"uscc": enterprise.uscc.lower(), "requested_role": "enterprise_signatory",
                                              "note": "法定代表人"})
    assert response.status_code == 302
    binding = db.session.scalar(sa.select(EnterpriseBinding))
    assert (binding.user_id, binding.enterprise_id, binding.status) == (user.id, enterprise.id, BindingStatus.PENDING)
    assert binding.requested_role == Role.ENTERPRISE_SIGNATORY
    page = en.get("/auth/binding").get_data(as_text=True)
    assert enterprise.name in page and "Pending" in page
    assert db.session.get(User, user.id).enterprise_id is None  # nothing granted yet


def test_binding_request_with_a_wrong_check_character_names_it(en, login, db):
    enterprise = make_enterprise()
    login(make_user(Role.ENTERPRISE_STAFF))
    db.session.commit()
    wrong = enterprise.uscc[:17] + ("0" if enterprise.uscc[17] != "0" else "1")
    html = en.post("/auth/binding", data={"uscc": wrong, "requested_role": "enterprise_staff"}).get_data(as_text=True)
    assert "Check character 18" in html and f"should be “{enterprise.uscc[17]}”" in html
    assert db.session.scalar(sa.select(EnterpriseBinding)) is None


def test_binding_request_for_an_unknown_enterprise_says_so(en, login, db):
    make_enterprise()
    login(make_user(Role.ENTERPRISE_STAFF))
    db.session.commit()
    from tests.factories import make_uscc
    unknown = make_uscc(999_999)
    html = en.post("/auth/binding", data={"uscc": unknown, "requested_role": "enterprise_staff"}).get_data(as_text=True)
    assert f"No enterprise with the credit code {normalise_code(unknown)}" in html
    assert db.session.scalar(sa.select(EnterpriseBinding)) is None


def test_duplicate_pending_request_is_refused(en, login, db):
    enterprise = make_enterprise()
    login(make_user(Role.ENTERPRISE_STAFF))
    db.session.commit()
    data = {"uscc": enterprise.uscc, "requested_role": "enterprise_staff"}
    en.post("/auth/binding", data=data)
    html = en.post("/auth/binding", data=data).get_data(as_text=True)
    assert "already have a pending request" in html
    assert db.session.scalar(sa.select(sa.func.count()).select_from(EnterpriseBinding)) == 1


def test_user_bound_to_one_enterprise_cannot_ask_for_another(en, login, db):
    mine, other = make_enterprise(), make_enterprise()
    login(make_user(Role.ENTERPRISE_STAFF, enterprise=mine))
    db.session.commit()
    html = en.post("/auth/binding", data={"uscc": other.uscc, "requested_role": "enterprise_staff"}).get_data(as_text=True)
    assert "another enterprise" in html
    assert db.session.scalar(sa.select(EnterpriseBinding)) is None


# --- regulator queue ----------------------------------------------------------------------------------------------

def test_binding_queue_refuses_anonymous_and_enterprise_users(client, login, db):
    binding = _binding(db, make_enterprise())
    assert client.get("/auth/bindings").status_code == 302
    assert client.post(f"/auth/bindings/{binding.id}", data={"approve": "1"}).status_code == 302
    login(make_user(Role.ENTERPRISE_SIGNATORY, enterprise=binding.enterprise))
    assert client.get("/auth/bindings").status_code == 403
    assert client.post(f"/auth/bindings/{binding.id}", data={"approve": "1"}).status_code == 403
    assert db.session.get(EnterpriseBinding, binding.id).status == BindingStatus.PENDING


def test_queue_lists_only_requests_in_the_regulators_jurisdiction(login, db):
    mine = _binding(db, make_enterprise(name="涟水甲化工", region_code="320826"))
    theirs = _binding(db, make_enterprise(name="沈阳乙化工", region_code="210100"))
    client = login(make_user(Role.REGULATOR, jurisdiction_code="3208"))
    html = client.get("/auth/bindings").get_data(as_text=True)
    assert mine.enterprise.name in html and theirs.enterprise.name not in html


def test_regulator_of_another_jurisdiction_cannot_decide(login, db):
    binding = _binding(db, make_enterprise(region_code="320826"))
    client = login(make_user(Role.REGULATOR, jurisdiction_code="21"))
    assert client.post(f"/auth/bindings/{binding.id}", data={"approve": "1"}).status_code == 404
    db.session.expire_all()
    assert db.session.get(EnterpriseBinding, binding.id).status == BindingStatus.PENDING
    assert db.session.get(User, binding.user_id).enterprise_id is None


def test_right_regulator_approves_binds_the_user_and_audits_both(login, db):
    binding = _binding(db, make_enterprise(region_code="320826"))
    regulator = make_user(Role.REGULATOR, jurisdiction_code="3208")
    client = login(regulator)
    response = client.post(f"/auth/bindings/{binding.id}", data={"approve": "1", "note": "电话核实"})
    assert response.status_code == 302
    db.session.expire_all()
    binding = db.session.get(EnterpriseBinding, binding.id)
    user = db.session.get(User, binding.user_id)
    assert binding.status == BindingStatus.APPROVED and binding.decided_by_id == regulator.id
    assert user.enterprise_id == binding.enterprise_id and user.role == Role.ENTERPRISE_SIGNATORY
    records = {r.action: r for r in db.session.scalars(sa.select(AuditRecord))}
    assert records["binding.approve"].before["status"] == "pending"
    assert records["binding.approve"].after["status"] == "approved"
    assert records["user.role"].before["role"] == "enterprise_staff"
    assert records["user.role"].after["role"] == "enterprise_signatory"
    assert records["user.role"].actor_id == regulator.id


def test_rejection_needs_a_note_and_grants_nothing(en, login, db):
    binding = _binding(db, make_enterprise(region_code="320826"))
    client = login(make_user(Role.REGULATOR, jurisdiction_code="320826"))
    db.session.commit()
    client.post(f"/auth/bindings/{binding.id}", data={"reject": "1", "note": ""})
    db.session.expire_all()
    assert db.session.get(EnterpriseBinding, binding.id).status == BindingStatus.PENDING
    client.post(f"/auth/bindings/{binding.id}", data={"reject": "1", "note": "非本企业员工"})
    db.session.expire_all()
    decided = db.session.get(EnterpriseBinding, binding.id)
    assert decided.status == BindingStatus.REJECTED and decided.decision_note == "非本企业员工"
    assert db.session.get(User, binding.user_id).enterprise_id is None
    assert "binding.reject" in _actions(db) and "user.role" not in _actions(db)


def test_a_decided_request_cannot_be_decided_again(login, db):
    binding = _binding(db, make_enterprise(region_code="320826"))
    client = login(make_user(Role.REGULATOR, jurisdiction_code="3208"))
    db.session.commit()
    client.post(f"/auth/bindings/{binding.id}", data={"approve": "1"})
    client.post(f"/auth/bindings/{binding.id}", data={"reject": "1", "note": "改主意"})
    db.session.expire_all()
    assert db.session.get(EnterpriseBinding, binding.id).status == BindingStatus.APPROVED
    assert _actions(db).count("binding.approve") == 1 and "binding.reject" not in _actions(db)


def test_approval_cannot_move_an_account_already_bound_elsewhere(login, db):
    first, second = make_enterprise(region_code="320826"), make_enterprise(region_code="320826")
    user = make_user(Role.ENTERPRISE_STAFF)
    one, two = _binding(db, first, user), _binding(db, second, user)
    client = login(make_user(Role.REGULATOR, jurisdiction_code="3208"))
    db.session.commit()
    client.post(f"/auth/bindings/{one.id}", data={"approve": "1"})
    client.post(f"/auth/bindings/{two.id}", data={"approve": "1"})
    db.session.expire_all()
    assert db.session.get(User, user.id).enterprise_id == first.id
    assert db.session.get(EnterpriseBinding, two.id).status == BindingStatus.PENDING
