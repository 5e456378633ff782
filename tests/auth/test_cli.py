"""`flask users create-admin` and `flask users create`."""
import sqlalchemy as sa

from portal.auth.models import Role, User
from tests.factories import ensure_reference, make_enterprise


def _user(db, name):
    return db.session.scalar(sa.select(User).where(User.username == name))


def test_create_admin_with_a_password_option(runner, db):
    result = runner.invoke(args=["users", "create-admin", "--password", "granite harbour lamp"])
    assert result.exit_code == 0, result.output
    admin = _user(db, "admin")
    assert admin.role == Role.ADMIN and admin.password_hash.startswith("$argon2id$")


def test_create_admin_prompts_for_the_password(runner, db):
    result = runner.invoke(args=["users", "create-admin", "--username", "root2"],
                           input="granite harbour lamp\ngranite harbour lamp\n")
    assert result.exit_code == 0, result.output
    assert _user(db, "root2").role == Role.ADMIN


def test_create_admin_refuses_a_weak_password(runner, db):
    result = runner.invoke(args=["users", "create-admin", "--password", "qwerty123"])
    assert result.exit_code == 1
    assert "commonly used" in result.output
    assert _user(db, "admin") is None


def test_create_admin_twice_fails_without_changing_the_first(runner, db):
    runner.invoke(args=["users", "create-admin", "--password", "granite harbour lamp"])
    first_hash = _user(db, "admin").password_hash
    result = runner.invoke(args=["users", "create-admin", "--password", "another long phrase"])
    assert result.exit_code == 1
    assert "already taken" in result.output
    db.session.expire_all()
    assert _user(db, "admin").password_hash == first_hash
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1


def test_create_regulator_needs_a_known_jurisdiction(runner, db):
    ensure_reference()
    db.session.commit()
    bad = runner.invoke(args=["users", "create", "--username", "zhou", "--role", "regulator", "--jurisdiction", "3299",
                              "--password", "granite harbour lamp"])
    assert bad.exit_code == 1 and _user(db, "zhou") is None
    assert "not a known region prefix" in bad.output
    ok = runner.invoke(args=["users", "create", "--username", "zhou", "--role", "regulator", "--jurisdiction", "3208",
                             "--password", "granite harbour lamp"])
    assert ok.exit_code == 0, ok.output
    assert _user(db, "zhou").jurisdiction_code == "3208"


def test_create_enterprise_user_bound_by_credit_code(runner, db):
    enterprise = make_enterprise()
    db.session.commit()
    result = runner.invoke(args=["users", "create", "--username", "sign", "--role", "enterprise_signatory",
                                 "--uscc", enterprise.uscc, "--password", "granite harbour lamp"])
    assert result.exit_code == 0, result.output
    assert _user(db, "sign").enterprise_id == enterprise.id
    wrong = runner.invoke(args=["users", "create", "--username", "sign2", "--role", "enterprise_staff",
                                "--uscc", enterprise.uscc[:17] + "?", "--password", "granite harbour lamp"])
    assert wrong.exit_code == 1 and _user(db, "sign2") is None
    assert "--uscc" in wrong.output
