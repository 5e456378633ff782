"""Signing asks for the second factor at the moment of signing (issue 20, NetDMR/CROMERR): the signature binds
signer, time, content digest and factor used, and the copy of record prints them."""
from __future__ import annotations

import json
import subprocess

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from portal.audit.models import AuditRecord
from portal.auth import factors
from portal.auth.models import Role
from portal.disclosures import rules, services
from portal.errors import ValidationFailed
from tests.factories import DEFAULT_PASSWORD, make_user, totp_code


def test_a_stolen_password_alone_does_not_sign(db, draft, signatory):
    with pytest.raises(ValidationFailed) as exc:
        services.submit_annual(signatory, draft, DEFAULT_PASSWORD, [])
    assert "code" in exc.value.errors
    with pytest.raises(ValidationFailed):
        services.submit_annual(signatory, draft, DEFAULT_PASSWORD, [], code="12345")
    assert draft.is_draft


def test_a_signatory_without_a_factor_is_told_to_set_one_up(db, ent, draft):
    bare = make_user(Role.ENTERPRISE_SIGNATORY, enterprise=ent, second_factor=False)
    with force_locale("en"), pytest.raises(ValidationFailed) as exc:
        services.submit_annual(bare, draft, DEFAULT_PASSWORD, [], code="123456")
    assert "Set one up under Your account" in exc.value.errors["code"]


def test_a_code_signs_once(db, draft, signatory, ent, staff):
    code = totp_code(signatory)
    services.submit_annual(signatory, draft, DEFAULT_PASSWORD, [], code=code)
    second = services.create_annual_draft(staff, ent, 2024)
    second.sections = draft.sections
    with pytest.raises(ValidationFailed) as exc:
        services.submit_annual(signatory, second, DEFAULT_PASSWORD, [], code=code)  # replayed
    assert "code" in exc.value.errors


def test_the_digest_binds_signer_time_and_factor(db, draft, signatory):
    report = services.submit_annual(signatory, draft, DEFAULT_PASSWORD, [], code=totp_code(signatory))
    content = json.loads(report.content_json)
    assert content["signer"] == {"name": signatory.display_name, "user_id": signatory.id, "factor": factors.TOTP}
    assert content["submitted_at"] == report.submitted_at.isoformat()
    assert report.sha256 == rules.sha256_hex(report.content_json)
    forged = dict(content, signer=dict(content["signer"], factor=factors.RECOVERY))
    assert rules.sha256_hex(rules.canonical_json(forged)) != report.sha256
    audit = db.session.scalar(sa.select(AuditRecord).where(AuditRecord.action == "annual_report.submit"))
    assert audit.after["factor"] == factors.TOTP and audit.after["sha256"] == report.sha256


def test_a_recovery_code_signs_and_is_named_as_such(db, draft, signatory):
    codes = factors.regenerate_recovery_codes(signatory)
    report = services.submit_annual(signatory, draft, DEFAULT_PASSWORD, [], code=codes[3])
    assert json.loads(report.content_json)["signer"]["factor"] == factors.RECOVERY


def test_the_report_page_and_the_copy_of_record_print_the_factor(client, db, draft, signatory, tmp_path):
    report = services.submit_annual(signatory, draft, DEFAULT_PASSWORD, [], code=totp_code(signatory))
    db.session.commit()
    page = client.get(f"/disclosures/{report.sha256}?lang=en").get_data(as_text=True)
    assert "Signature confirmed with" in page and "authenticator-app code (TOTP)" in page
    path = tmp_path / "copy.pdf"
    path.write_bytes(client.get(f"/disclosures/{report.sha256}/copy.pdf").data)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    flat = "".join(text.split())
    assert "TOTP" in flat and "张签署" in flat and report.sha256 in flat
