"""PDF rendering: restricted fetcher, embedded CJK font, the public enterprise summary."""
from __future__ import annotations

import shutil
import subprocess
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from portal.auth.models import Role
from portal.reports import services
from portal.reports.pdf import RefusedURL, StaticOnlyFetcher, css_page_counter, html_to_pdf
from tests.factories import make_enterprise, make_limit, make_outlet, make_permit, make_user

needs_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")


@pytest.fixture
def static_dir(app) -> Path:
    return Path(app.static_folder).resolve()


def test_the_fetcher_serves_files_under_static(static_dir):
    response = StaticOnlyFetcher(static_dir).fetch((static_dir / "css" / "pdf.css").as_uri())
    assert b"WenQuanYi Micro Hei" in response.read() and response.content_type == "text/css"


@pytest.mark.parametrize("url", [
    "file:///etc/passwd",
    "http://example.com/x.png",
    "https://example.com/x.css",
    "ftp://example.com/x",
    "file://otherhost/etc/passwd",
])
def test_the_fetcher_refuses_everything_else(static_dir, url):
    with pytest.raises((RefusedURL, ValueError)):
        StaticOnlyFetcher(static_dir).fetch(url)


def test_the_fetcher_refuses_escaping_static_with_dot_dot(static_dir):
    escape = static_dir.as_uri() + "/../portal/config.py"
    with pytest.raises(RefusedURL):
        StaticOnlyFetcher(static_dir).fetch(escape)


def test_the_fetcher_serves_data_urls(static_dir):
    assert StaticOnlyFetcher(static_dir).fetch("data:text/plain,hello").read() == b"hello"


@needs_poppler
def test_a_document_pointing_at_local_files_does_not_include_them(app, tmp_path):
    with app.test_request_context():
        pdf = html_to_pdf('<p>x</p><img src="file:///etc/passwd"><link rel="stylesheet" href="file:///etc/passwd">'
                          '<img src="http://127.0.0.1:9/x.png"><object data="file:///etc/passwd"></object>')
    text = _pdftotext(pdf, tmp_path)
    assert "root:" not in text


def test_css_page_counter_quotes_text_and_places_counters():
    assert css_page_counter("第 %(page)s 页 / 共 %(pages)s 页") == '"第 " counter(page) " 页 / 共 " counter(pages) " 页"'
    assert css_page_counter('a"b</style>') == '"a\\"b\\3c /style>"'


def _pdftotext(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True,
                          text=True).stdout


def _pdffonts(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "fonts.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdffonts", str(path)], capture_output=True, check=True, text=True).stdout


def _enterprise(db):
    ent = make_enterprise(name="涟水绿源化工有限公司")
    permit = make_permit(ent, valid_from=date(2023, 1, 1), valid_to=date(2028, 1, 1))
    outlet = make_outlet(ent, "DW001", permit)
    make_limit(outlet, "w01018", "100")
    make_limit(outlet, "w01001", None, limit_min="6", limit_max="9")
    db.session.commit()
    return ent


@needs_poppler
def test_the_summary_pdf_is_public_and_has_chinese_text_and_an_embedded_cjk_font(db, client, tmp_path):
    ent = _enterprise(db)
    response = client.get(f"/enterprises/{ent.uscc}/summary.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("inline;") and "filename*=UTF-8''" in disposition and ".pdf" in disposition
    text = _pdftotext(response.data, tmp_path)
    assert "企业环境信息概况" in text and "涟水绿源化工有限公司" in text
    assert ent.uscc in text and "DW001" in text and "化学需氧量" in text and "6–9" in text
    assert "内容摘要" in text and "第1页/共" in text.replace(" ", "")  # the summary may take a second page
    fonts = _pdffonts(response.data, tmp_path)
    cjk = [line for line in fonts.splitlines() if "WenQuanYi" in line or "NotoSansCJK" in line]
    assert cjk and all(" yes " in line for line in cjk)          # embedded


@needs_poppler
def test_the_summary_follows_the_chosen_language(db, client, tmp_path):
    ent = _enterprise(db)
    text = _pdftotext(client.get(f"/enterprises/{ent.uscc}/summary.pdf?lang=en").data, tmp_path)
    assert "Enterprise environmental information summary" in text and "Page 1 of" in text


@pytest.mark.parametrize("code", ["91320826MA1XXXXXX1", "not-a-code", "913208260000000000"])
def test_unknown_or_malformed_codes_are_404(db, client, code):
    assert client.get(f"/enterprises/{code}/summary.pdf").status_code == 404


def test_a_lower_case_code_finds_the_enterprise(db, client):
    ent = _enterprise(db)
    assert client.get(f"/enterprises/{ent.uscc.lower()}/summary.pdf").status_code == 200


@pytest.mark.parametrize("role", [Role.REGULATOR, Role.ENTERPRISE_STAFF, Role.ADMIN])
def test_signed_in_users_of_any_role_get_the_same_public_document(db, login, role):
    ent = _enterprise(db)
    other = make_enterprise()
    user = make_user(role, enterprise=other if role.is_enterprise else None, jurisdiction_code="21" if
                     role.is_regulator else None)
    response = login(user).get(f"/enterprises/{ent.uscc}/summary.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")


def test_the_context_digest_depends_on_content_not_on_time(db, app):
    ent = _enterprise(db)
    with app.test_request_context():
        a = services.enterprise_summary_context(ent, datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc))
        b = services.enterprise_summary_context(ent, datetime(2026, 3, 3, 1, 0, tzinfo=timezone.utc))
        ent.legal_rep = "李四"
        c = services.enterprise_summary_context(ent, datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc))
    assert a["digest"] == b["digest"] != c["digest"] and len(a["digest"]) == 64
    assert a["generated_at"].hour == 9 and str(a["generated_at"].tzinfo) == "Asia/Shanghai"
    assert a["public_url"].endswith(f"/enterprises/{ent.uscc}")
    assert a["public_url"].startswith(app.config["PUBLIC_BASE_URL"])
    assert a["qr_uri"].startswith("data:image/svg+xml")


@pytest.mark.parametrize("value, text", [("100.0000", "100"), ("6.5000", "6.5"), ("0.0050", "0.005"), (None, "")])
def test_plain_number(value, text):
    from decimal import Decimal

    assert services.plain_number(Decimal(value) if value else None) == text
