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


def test_pages_are_chinese_first_and_the_switch_gives_complete_english(client):
    assert "企业环境信用与信息披露平台" in client.get("/").get_data(as_text=True)
    response = client.get("/lang/en?next=/", follow_redirects=True)
    text = response.get_data(as_text=True)
    assert "Enterprise Environmental Credit and Disclosure Portal" in text
    assert 'lang="en"' in text
    assert "中文" in text  # the way back


def test_language_switch_never_redirects_off_site(client):
    response = client.get("/lang/en?next=//evil.example/x")
    assert response.status_code == 302
    assert "evil.example" not in response.headers["Location"]


def test_every_chinese_catalog_is_complete():
    import subprocess
    import sys

    from portal import ROOT

    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "i18n.py"), "check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_unknown_api_path_gets_a_json_404(client):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_health_endpoint_reports_the_database(client):
    assert client.get("/healthz").get_json()["status"] == "ok"  # the rest: tests/jobs/test_health.py


def test_an_english_browser_still_gets_chinese_until_the_switch_is_used(client):
    response = client.get("/", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert "企业环境信用与信息披露平台" in response.get_data(as_text=True)
