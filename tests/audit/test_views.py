import pytest

from portal.auth.models import Role
from portal.enterprises import services
from tests.factories import make_enterprise, make_limit, make_outlet, make_user


@pytest.fixture
def changed(db):
    """An enterprise whose legal representative was changed once by a regulator."""
    ent = make_enterprise(legal_rep="张三")
    actor = make_user(Role.REGULATOR, jurisdiction_code="3208")
    services.update_enterprise(actor, ent, {"legal_rep": "李四"})
    db.session.commit()
    return ent


def test_history_needs_login(client, changed):
    r = client.get(f"/regulator/history/enterprises/{changed.id}")
    assert r.status_code == 302 and "/auth/login" in r.headers["Location"]


def test_history_shows_a_field_by_field_diff_to_the_jurisdictions_regulator(login, changed):
    html = login(make_user(Role.REGULATOR, jurisdiction_code="320826")).get(
        f"/regulator/history/enterprises/{changed.id}").get_data(as_text=True)
    assert 'class="diff-old">张三' in html and 'class="diff-new">李四' in html


def test_history_is_hidden_from_other_jurisdictions_and_enterprise_users(login, client, changed):
    login(make_user(Role.REGULATOR, jurisdiction_code="2101"))
    assert client.get(f"/regulator/history/enterprises/{changed.id}").status_code == 404
    assert client.get(f"/regulator/enterprises/{changed.id}/history").status_code == 404
    login(make_user(Role.ENTERPRISE_STAFF, enterprise=changed))
    assert client.get(f"/regulator/history/enterprises/{changed.id}").status_code == 403


def test_admins_see_every_history(login, changed):
    client = login(make_user(Role.ADMIN, jurisdiction_code=None))
    assert client.get(f"/regulator/history/enterprises/{changed.id}").status_code == 200
    assert client.get(f"/regulator/enterprises/{changed.id}/history").status_code == 200


def test_unknown_objects_have_no_history_page(login, db):
    client = login(make_user(Role.REGULATOR))
    assert client.get("/regulator/history/enterprises/999").status_code == 404


def test_enterprise_history_lists_changes_of_its_limits_too(login, changed, db):
    regulator = make_user(Role.REGULATOR, jurisdiction_code="3208")
    limit = make_limit(make_outlet(changed, "DW001"), "w01018", "100")
    services.update_limit(regulator, limit, {"limit_value": "80"})
    db.session.commit()
    html = login(regulator).get(f"/regulator/enterprises/{changed.id}/history").get_data(as_text=True)
    assert 'class="diff-old">100' in html and 'class="diff-new">80' in html and "李四" in html
    html = login(regulator).get(f"/regulator/history/outlet_limits/{limit.id}").get_data(as_text=True)
    assert 'class="diff-new">80' in html and "李四" not in html
