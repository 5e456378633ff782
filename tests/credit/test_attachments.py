"""Evidence attachments: type sniffed from content, name checked, size capped, stored under the upload root,
audited; public evidence shows its documents to everyone, the rest only to regulators of the jurisdiction."""
import io
from datetime import date

import pytest
import sqlalchemy as sa
from PIL import Image

from portal.audit.models import AuditRecord
from portal.auth.models import Role
from portal.credit import attachments, rules, services
from portal.credit.models import EvidenceAttachment, EvidenceKind
from portal.errors import NotAllowed, ValidationFailed
from tests.factories import make_enterprise, make_user

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buf, format="PNG")
    return buf.getvalue()


@pytest.mark.parametrize("data, kind", [
    (PDF, "application/pdf"), (b"\xff\xd8\xff\xe0rest", "image/jpeg"), (b"\x89PNG\r\n\x1a\nrest", "image/png"),
    (b"<html>%PDF-", None), (b"GIF89a", None), (b"", None),
])
def test_the_type_comes_from_the_content(data, kind):
    assert rules.sniff_attachment(data) == kind


@pytest.mark.parametrize("is_public, repaired, withdrawn, public", [
    (True, False, False, True), (False, False, False, False), (True, True, False, False), (True, False, True, False)])
def test_an_attachment_is_public_exactly_when_its_evidence_details_are(is_public, repaired, withdrawn, public):
    assert rules.attachment_public(is_public, repaired, withdrawn) is public


def test_prepare_rejects_wrong_names_other_types_damaged_images_and_large_files(app):
    with app.test_request_context():
        assert attachments.prepare("决定书.PDF", io.BytesIO(PDF), 1000).content_type == "application/pdf"
        for name, data, limit in (("a.jpg", PDF, 1000), ("a.pdf", b"MZ\x90\x00", 1000), ("a.exe", PDF, 1000),
                                  ("a.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, 1000), ("a.pdf", PDF, 10),
                                  ("a.pdf", b"", 10)):
            with pytest.raises(ValidationFailed) as err:
                attachments.prepare(name, io.BytesIO(data), limit)
            assert "file" in err.value.errors


@pytest.fixture
def setup(db, app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "CREDIT_UPLOAD_DIR", str(tmp_path / "credit"))
    monkeypatch.setitem(app.config, "CREDIT_ATTACHMENT_MAX_BYTES", 2000)
    services.seed_schemes()
    ent = make_enterprise(region_code="320826")
    regulator = make_user(Role.REGULATOR, jurisdiction_code="3208")
    lead = make_user(Role.REGULATOR_LEAD, jurisdiction_code="3208")
    public, _ = services.record_regulator_evidence(regulator, ent, kind=EvidenceKind.PENALTY,
                                                   occurred_on=date(2026, 3, 1), title="罚款 2 万元",
                                                   document_no="涟环罚〔2026〕7号", authority="涟水县生态环境局",
                                                   amount_yuan=20000, penalty_type="fine")
    private, _ = services.record_regulator_evidence(regulator, ent, kind=EvidenceKind.INSPECTION_FINDING,
                                                    occurred_on=date(2026, 3, 2), title="现场检查",
                                                    document_no="涟环检〔2026〕8号", authority="涟水县生态环境局",
                                                    findings="雨污分流不到位", is_public=False)
    services.confirm_evidence(lead, public)
    services.confirm_evidence(lead, private)
    db.session.commit()
    return {"ent": ent, "regulator": regulator, "lead": lead, "public": public, "private": private,
            "root": tmp_path / "credit"}


def _upload(client, evidence, name, data):
    return client.post(f"/credit/regulator/evidence/{evidence.id}/attachments",
                       data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def test_a_regulator_attaches_documents_stored_under_the_root_and_audited(db, setup, app):
    with app.test_request_context():
        prepared = attachments.prepare("决定书.pdf", io.BytesIO(PDF), 2000)
        att = attachments.attach(setup["regulator"], setup["public"], prepared)
        assert (setup["root"] / att.path).read_bytes() == PDF and att.size_bytes == len(PDF)
        audit = db.session.scalar(sa.select(AuditRecord).where(AuditRecord.action == "evidence.attach"))
        assert audit.object_id == str(att.id) and audit.enterprise_id == setup["ent"].id
        with pytest.raises(NotAllowed):
            attachments.attach(make_user(Role.REGULATOR, jurisdiction_code="2101"), setup["public"], prepared)


def test_public_evidence_documents_are_public_and_the_rest_regulator_only(db, setup, login, client, app):
    regulator = login(setup["regulator"])
    assert _upload(regulator, setup["public"], "决定书.pdf", PDF).status_code == 302
    assert _upload(regulator, setup["private"], "现场照片.png", _png()).status_code == 302
    rejected = _upload(regulator, setup["private"], "脚本.pdf", b"#!/bin/sh\nrm -rf /\n")
    assert rejected.status_code == 302 and db.session.scalar(sa.select(sa.func.count()).select_from(
        EvidenceAttachment)) == 2
    too_big = _upload(regulator, setup["public"], "大.pdf", PDF + b"0" * 3000)
    assert too_big.status_code == 302
    pub, priv = (db.session.scalar(sa.select(EvidenceAttachment).where(EvidenceAttachment.evidence_id == e.id))
                 for e in (setup["public"], setup["private"]))
    pub_url = f"/credit/evidence/{setup['public'].id}/files/{pub.id}"
    priv_url = f"/credit/evidence/{setup['private'].id}/files/{priv.id}"
    queue = regulator.get("/credit/regulator/evidence").get_data(as_text=True)
    assert pub_url in queue and priv_url in queue
    inside = regulator.get(priv_url)
    assert inside.status_code == 200 and inside.mimetype == "image/png"
    assert inside.headers["X-Content-Type-Options"] == "nosniff" and "attachment" in inside.headers[
        "Content-Disposition"]

    anonymous = app.test_client()
    assert anonymous.get(pub_url).data == PDF
    assert anonymous.get(priv_url).status_code == 404
    assert anonymous.get(f"/credit/evidence/{setup['private'].id}/files/{pub.id}").status_code == 404
    page = anonymous.get(f"/enterprises/{setup['ent'].uscc}").get_data(as_text=True)
    assert pub_url in page and priv_url not in page
    ledger = anonymous.get(f"/api/v1/enterprises/{setup['ent'].uscc}/credit").get_json()["data"]["ledger"]
    files = {line["evidence"]["id"]: line["evidence"]["attachments"] for line in ledger}
    assert files[setup["private"].id] == [] and files[setup["public"].id][0]["url"].endswith(pub_url)
    owner = login(make_user(Role.ENTERPRISE_STAFF, enterprise=setup["ent"]))
    assert owner.get(priv_url).status_code == 404
    outsider = login(make_user(Role.REGULATOR, jurisdiction_code="2101"))
    assert outsider.get(priv_url).status_code == 404
    assert _upload(outsider, setup["public"], "x.pdf", PDF).status_code == 404
