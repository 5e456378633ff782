"""The copy of record (issue 21): a label never parts from its value when it wraps, and coded values print as names."""
from __future__ import annotations

import re
import shutil
import subprocess
from datetime import datetime, timezone

import pytest
from flask_babel import force_locale

from portal.disclosures import copies, services
from tests.factories import DEFAULT_PASSWORD, totp_code

needs_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
DEPARTMENT = "安环部"


@pytest.fixture
def coded(db, draft, signatory):
    """A published report whose tables and key-unit field hold codes (as prefilled)."""
    sections = {k: dict(v) for k, v in draft.sections.items()}
    sections["basic"] = dict(sections["basic"], data=dict(sections["basic"]["data"], env_department=DEPARTMENT,
                                                          env_manager="李明", key_unit_types="water、air"))
    sections["management"] = {"state": "filled", "reason": "", "prefill": {}, "overrides": {}, "data": {
        "env_tax_yuan": "1200", "insured": "no", "insurer": "", "insurance_limit_yuan": "", "credit_grade": "",
        "credit_authority": "", "eia": [],
        "permits": [{"permit_no": draft.enterprise.permits[0].permit_no, "management_class": "key",
                     "valid_from": "2024-01-01", "valid_to": "2028-12-31"}]}}
    draft.sections = sections
    report = services.submit_annual(signatory, draft, DEFAULT_PASSWORD, [],
                                    now=datetime(2026, 3, 1, 2, tzinfo=timezone.utc), code=totp_code(signatory))
    db.session.commit()
    return report


def test_coded_values_print_as_names_in_the_readers_language(app):
    with app.test_request_context(), force_locale("zh_CN"):
        assert copies.code_name("management_class", "key") == "重点管理"
        assert copies.code_name("trigger", "admin_penalty") != "admin_penalty"
        assert copies.code_name("key_unit_types", "water、air") == "水环境重点排污单位、大气环境重点排污单位"
        assert copies.code_name("permit_no", "key") == "key"  # other columns keep what was signed
    with app.test_request_context(), force_locale("en"):
        assert copies.code_name("management_class", "key") == "Key management"


def test_the_public_report_pairs_every_label_with_its_value(client, coded):
    html = client.get(f"/disclosures/{coded.sha256}?lang=zh").get_data(as_text=True)
    body = html[html.index("<main"):]
    pairs = re.findall(r"<div><dt>(.*?)</dt>\s*<dd[^>]*>(.*?)</dd>\s*</div>", body, re.S)
    assert pairs and len(pairs) == body.count("<dt>")  # every label sits in one group with its value
    values = {label.strip(): re.sub(r"<[^>]+>", "", value).strip() for label, value in pairs}
    assert values["环保工作负责人"] == "李明" and values["环境保护工作部门"] == DEPARTMENT
    assert "重点管理" in body and ">key<" not in body and "水环境重点排污单位" in body


def _layout_text(client, report, lang, tmp_path) -> list[str]:
    pdf = client.get(f"/disclosures/{report.sha256}/copy.pdf?lang={lang}").data
    path = tmp_path / f"copy-{lang}.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-enc", "UTF-8", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout.splitlines()


@needs_poppler
def test_the_copy_of_record_keeps_a_wrapping_label_beside_its_own_value(client, coded, tmp_path):
    # English labels wrap in the label column ("Environmental protection department" takes two lines); the value
    # after it must start on its own label's first line, not beside the wrapped tail of the label before.
    lines = _layout_text(client, coded, "en", tmp_path)
    manager = next(i for i, line in enumerate(lines) if "李明" in line)
    assert re.search(r"Person\s+in", lines[manager]), lines[manager - 2:manager + 2]
    department = next(i for i, line in enumerate(lines) if "安环部" in line)
    assert "Environmental" in lines[department] and department < manager
    text = "\n".join(lines)
    assert "Key management" in text and not re.search(r"\bkey\b", text)


@needs_poppler
def test_the_chinese_copy_of_record_prints_names_not_codes(client, coded, tmp_path):
    text = "\n".join(_layout_text(client, coded, "zh", tmp_path))
    assert "重点管理" in text and not re.search(r"\bkey\b", text)
    assert "水环境重点排污单位" in text and not re.search(r"\bwater\b", text)
    manager = next(line for line in text.splitlines() if "李明" in line)
    assert "环保工作负责人" in manager
