"""Public pages of the code: the phone page, the rules, the QR code, the badge and the gate signs (PDF)."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.factories import make_enterprise, make_incident

needs_poppler = pytest.mark.skipif(shutil.which("pdfinfo") is None, reason="poppler-utils not installed")


def _yellow(db):
    ent = make_enterprise(name="涟水绿源化工有限公司")
    make_incident(ent)  # its finding confirmed: only confirmed incidents move the code
    db.session.commit()
    return ent


def test_the_phone_page_shows_colour_why_since_and_history(db, client):
    ent = _yellow(db)
    html = client.get(f"/code/{ent.uscc}").get_data(as_text=True)
    assert "envcode-band envcode-yellow" in html and "黄码" in html
    assert "尚未说明的超标事件：1" in html.replace(" ", "")
    assert "起为此颜色" in html or "此颜色自" in html
    assert html.count("envcode-h-") == 1  # one change so far


def test_the_phone_page_in_english(db, client):
    ent = _yellow(db)
    html = client.get(f"/code/{ent.uscc}?lang=en").get_data(as_text=True)
    assert "Yellow code" in html and "Exceedance incidents not yet explained: 1" in html


def test_an_enterprise_without_a_code_gets_one_on_first_view(db, client):
    ent = make_enterprise()
    db.session.commit()
    response = client.get(f"/code/{ent.uscc.lower()}")
    assert response.status_code == 200 and "envcode-green" in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/code/91320826MA1XXXXXX1", "/code/nonsense/qr.svg", "/code/x/sign-a4.pdf",
                                  "/code/x/badge.svg"])
def test_unknown_codes_are_404(db, client, path):
    assert client.get(path).status_code == 404


def test_the_rules_page_shows_the_mapping_in_force_in_both_languages(app, db, client, monkeypatch):
    monkeypatch.setitem(app.config, "ENVCODE_RULES", {"open_incidents": [{"at_least": 5, "colour": "red"}]})
    zh = client.get("/code/rules").get_data(as_text=True)
    assert "尚未说明的超标事件: 5 个及以上" in zh
    assert '"at_least": 5' in zh
    en = client.get("/code/rules?lang=en").get_data(as_text=True)
    assert "How the environmental code is decided" in en and "not yet explained: at least 5" in en


def test_the_qr_code_is_an_svg_encoding_the_phone_page(db, client):
    ent = _yellow(db)
    response = client.get(f"/code/{ent.uscc}/qr.svg")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert response.data.startswith(b"<?xml") and b"<svg" in response.data


def test_the_qr_code_opens_the_phone_page(app, db):
    import segno  # noqa: F401  (the url is what the QR code is made from)
    from portal.envcode.signs import code_url

    ent = _yellow(db)
    with app.test_request_context():
        assert code_url(ent) == f"{app.config['PUBLIC_BASE_URL']}/code/{ent.uscc}"


def test_the_badge_is_a_small_svg_with_colour_name_and_code(db, client):
    ent = _yellow(db)
    response = client.get(f"/code/{ent.uscc}/badge.svg")
    svg = response.get_data(as_text=True)
    assert response.mimetype == "image/svg+xml" and 'width="300" height="100"' in svg
    assert "企业环保码 · 黄码" in svg and ent.uscc in svg and "#9a7400" in svg and "data:image/svg+xml" in svg


def test_the_enterprise_page_includes_the_code_and_its_links(db, client):
    ent = _yellow(db)
    html = client.get(f"/enterprises/{ent.uscc}").get_data(as_text=True)
    assert "envcode-yellow" in html and f"/code/{ent.uscc}/sign-a3.pdf" in html and f"/code/{ent.uscc}/badge.svg" in html


def _run(tool: list[str], pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "sign.pdf"
    path.write_bytes(pdf)
    return subprocess.run([*tool, str(path), *([] if tool[0] == "pdfinfo" else ["-"])], capture_output=True,
                          check=True, text=True).stdout


@needs_poppler
@pytest.mark.parametrize("size, points", [("a4", (595, 842)), ("a3", (842, 1191))])
def test_the_gate_sign_is_a_one_page_chinese_pdf_of_the_chosen_size(db, client, tmp_path, size, points):
    ent = _yellow(db)
    response = client.get(f"/code/{ent.uscc}/sign-{size}.pdf?lang=en")  # always Chinese, whatever the language
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    info = _run(["pdfinfo"], response.data, tmp_path)
    width, height = (round(float(x)) for x in re.search(r"Page size:\s+([\d.]+) x ([\d.]+)", info).groups())
    assert (width, height) == points and re.search(r"Pages:\s+1\n", info)
    text = _run(["pdftotext", "-enc", "UTF-8"], response.data, tmp_path).replace(" ", "")
    assert "企业环保码" in text and "涟水绿源化工有限公司" in text and "黄码" in text
    assert "尚未说明的超标事件：1" in text and ent.uscc in text and "扫码" in text
