from portal.auth.models import Role
from tests.factories import make_enterprise, make_user


def test_home_page_renders_in_chinese_by_default(client):
    response = client.get("/")
    assert response.status_code == 200
    assert 'lang="zh-CN"' in response.get_data(as_text=True)


def test_security_headers_forbid_inline_script_and_framing(client):
    response = client.get("/")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_factories_make_valid_rows(db):
    ent = make_enterprise()
    user = make_user(Role.ENTERPRISE_STAFF, enterprise=ent)
    assert user.enterprise_id == ent.id
    assert len(ent.uscc) == 18
