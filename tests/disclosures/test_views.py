"""Disclosure pages: enterprise drafting and signing, public report and verification, regulator dashboard/review."""
from __future__ import annotations

import subprocess
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa

from portal.auth.models import Role
from portal.credit.models import Evidence, EvidenceKind
from portal.disclosures import services
from portal.disclosures.models import AnnualReport, Obligation, ReportStatus, TemporaryReport
from tests.factories import DEFAULT_PASSWORD, make_enterprise, make_user, totp_code

NOW = datetime(2026, 3, 1, 2, tzinfo=timezone.utc)


@pytest.fixture
def published(db, draft, signatory):
    report = services.submit_annual(signatory, draft, DEFAULT_PASSWORD, [], now=NOW, code=totp_code(signatory))
    db.session.commit()
    return report


@pytest.fixture
def foreign(db):
    ent = make_enterprise(region_code="210100")
    staff = make_user(Role.ENTERPRISE_STAFF, enterprise=ent)
    report = services.create_annual_draft(staff, ent, 2025)
    db.session.commit()
    return report


def test_anonymous_users_are_sent_to_log_in(client, draft, db):
    db.session.commit()
    for url in ("/my/disclosures", f"/my/disclosures/annual/{draft.id}", "/regulator/disclosures"):
        response = client.get(url)
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_the_index_lists_deadlines_and_starts_a_prefilled_draft(login, db, ent, staff):
    db.session.commit()
    client = login(staff)
    page = client.get("/my/disclosures")
    assert page.status_code == 200
    response = client.post("/my/disclosures/annual", data={"year": "2025"})
    report = db.session.scalar(sa.select(AnnualReport))
    assert response.headers["Location"].endswith(f"/my/disclosures/annual/{report.id}")
    client.post("/my/disclosures/annual", data={"year": "2025"})
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AnnualReport)) == 1
    overview = client.get(f"/my/disclosures/annual/{report.id}").get_data(as_text=True)
    assert "Basic information" in overview or "企业基本信息" in overview
    section = client.get(f"/my/disclosures/annual/{report.id}/sections/basic").get_data(as_text=True)
    assert ent.uscc in section and 'name="reason-legal_rep"' in section


def test_a_year_outside_the_list_is_refused_with_a_message(login, db, ent, staff):
    db.session.commit()
    response = login(staff).post("/my/disclosures/annual", data={"year": "1999"}, follow_redirects=True)
    assert response.status_code == 200 and db.session.scalar(sa.select(sa.func.count()).select_from(AnnualReport)) == 0


def test_saving_a_section_keeps_table_rows_and_overrides(login, db, draft, staff):
    db.session.commit()
    client = login(staff)
    form = {"state": "filled", "f-co2_t": "1200.5", "f-co2_prev_t": "1100", "f-allowance_surrendered": "yes",
            "f-accounting_method": "核算指南", "next": "1"}
    response = client.post(f"/my/disclosures/annual/{draft.id}/sections/carbon", data=form)
    assert response.status_code == 302 and response.headers["Location"].endswith("/sections/emergency")
    db.session.refresh(draft)
    assert draft.sections["carbon"]["data"]["co2_t"] == "1200.5"
    rows = {"state": "filled", "rows-penalties": "2", "t-penalties-0-decision_no": "淮环罚〔2025〕3号",
            "t-penalties-0-decided_on": "2025-04-01", "t-penalties-0-amount_yuan": "50000"}
    client.post(f"/my/disclosures/annual/{draft.id}/sections/violations", data=rows)
    db.session.refresh(draft)
    assert draft.sections["violations"]["data"]["penalties"] == [
        {"decision_no": "淮环罚〔2025〕3号", "decided_on": "2025-04-01", "authority": "", "facts": "",
         "amount_yuan": "50000", "rectified": ""}]


def test_completing_prefilled_emission_rows_needs_no_reason(login, db, ent, staff):
    report = services.create_annual_draft(staff, ent, 2025)
    db.session.commit()
    row = report.sections["pollution"]["data"]["emissions"][0]
    form = {"state": "filled", "rows-emissions": "1", **{f"t-emissions-0-{k}": v for k, v in row.items()},
            "t-emissions-0-avg_conc": "35", "t-emissions-0-max_conc": "80", "t-emissions-0-annual_t": "3"}
    login(staff).post(f"/my/disclosures/annual/{report.id}/sections/pollution", data=form)
    db.session.refresh(report)
    assert report.sections["pollution"]["data"]["emissions"][0]["avg_conc"] == "35"
    assert report.sections["pollution"]["overrides"] == {}
    assert not [i for i in services.check_annual(report).errors if i.section == "pollution"]


def test_the_dry_run_shows_errors_and_saves_nothing(login, db, draft, staff):
    draft.sections = dict(draft.sections, carbon={"state": "empty", "data": {}})
    db.session.commit()
    page = login(staff).get(f"/my/disclosures/annual/{draft.id}/check")
    assert page.status_code == 200 and "carbon" in page.get_data(as_text=True)
    assert draft.status == ReportStatus.DRAFT


def test_staff_cannot_open_the_signing_page(login, db, draft, staff):
    db.session.commit()
    client = login(staff)
    assert client.get(f"/my/disclosures/annual/{draft.id}/sign").status_code == 403
    sign = client.post(f"/my/disclosures/annual/{draft.id}/sign", data={"password": DEFAULT_PASSWORD})
    assert sign.status_code == 403
    assert draft.status == ReportStatus.DRAFT


def test_other_enterprises_never_see_a_draft(login, db, draft, foreign):
    other_staff = make_user(Role.ENTERPRISE_SIGNATORY, enterprise=foreign.enterprise)
    db.session.commit()
    client = login(other_staff)
    for url in (f"/my/disclosures/annual/{draft.id}", f"/my/disclosures/annual/{draft.id}/sections/basic",
                f"/my/disclosures/annual/{draft.id}/check", f"/my/disclosures/annual/{draft.id}/sign"):
        assert client.get(url).status_code == 404, url
    sign = client.post(f"/my/disclosures/annual/{draft.id}/sign", data={"password": DEFAULT_PASSWORD})
    assert sign.status_code == 404


def test_the_signing_page_shows_the_whole_report_and_the_commitment_then_publishes(login, db, draft, signatory):
    db.session.commit()
    client = login(signatory)
    page = client.get(f"/my/disclosures/annual/{draft.id}/sign").get_data(as_text=True)
    assert "企业负责人保证年度报告内容的真实、准确、完整" in page and "废活性炭" in page
    bad = client.post(f"/my/disclosures/annual/{draft.id}/sign", data={"password": "nope"})
    assert bad.status_code == 200 and draft.status == ReportStatus.DRAFT
    no_code = client.post(f"/my/disclosures/annual/{draft.id}/sign", data={"password": DEFAULT_PASSWORD})
    assert no_code.status_code == 200 and draft.status == ReportStatus.DRAFT  # the second factor is required
    response = client.post(f"/my/disclosures/annual/{draft.id}/sign",
                           data={"password": DEFAULT_PASSWORD, "code": totp_code(signatory)})
    db.session.refresh(draft)
    assert draft.status == ReportStatus.PUBLISHED
    assert response.headers["Location"].endswith(f"/disclosures/{draft.sha256}")
    again = client.post(f"/my/disclosures/annual/{draft.id}/sign", data={"password": DEFAULT_PASSWORD})
    assert again.status_code == 302 and db.session.scalar(sa.select(sa.func.count()).select_from(AnnualReport)) == 1


def test_a_post_without_a_csrf_token_is_refused(app, login, db, draft, signatory):
    db.session.commit()
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = login(signatory).post(f"/my/disclosures/annual/{draft.id}/sign", data={"password": DEFAULT_PASSWORD})
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code == 400 and draft.status == ReportStatus.DRAFT


def test_the_public_report_page_and_enterprise_page_list_the_disclosure(client, published):
    page = client.get(f"/disclosures/{published.sha256}").get_data(as_text=True)
    assert published.sha256 in page and "涟水绿源化工有限公司" in page and "张签署" in page
    ent_page = client.get(f"/enterprises/{published.enterprise.uscc}").get_data(as_text=True)
    assert f"/disclosures/{published.sha256}" in ent_page


def test_drafts_are_not_public(client, db, draft):
    db.session.commit()
    assert client.get("/disclosures/" + "0" * 64).status_code == 404
    assert client.get("/verify/" + "0" * 64).status_code == 404


def test_the_copy_of_record_pdf_carries_chinese_text_and_the_hash_and_verifies(client, db, published, tmp_path):
    response = client.get(f"/disclosures/{published.sha256}/copy.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    pdf = response.data
    path = tmp_path / "copy.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "涟水绿源化工有限公司" in text and published.sha256 in text and "张签署" in text
    assert client.get(f"/disclosures/{published.sha256}/copy.pdf").data == pdf  # kept, not re-rendered
    ok = client.post("/verify", data={"pdf": (path.open("rb"), "copy.pdf")}, content_type="multipart/form-data")
    assert ok.status_code == 302
    assert client.get(ok.headers["Location"]).status_code == 200
    tampered = pdf.replace(published.sha256[:8].encode(), b"00000000", 1) if published.sha256[:8].encode() in pdf \
        else pdf[:-10] + b"%tampered\n"
    assert tampered != pdf
    (tmp_path / "bad.pdf").write_bytes(tampered)
    bad = client.post("/verify", data={"pdf": ((tmp_path / "bad.pdf").open("rb"), "bad.pdf")},
                      content_type="multipart/form-data", follow_redirects=True)
    assert bad.status_code == 404


def test_verify_accepts_a_pasted_hash_and_names_a_malformed_one(client, published):
    response = client.post("/verify", data={"digest": published.sha256.upper()}, follow_redirects=True)
    assert response.status_code == 200 and published.enterprise.name in response.get_data(as_text=True)
    assert client.post("/verify", data={"digest": "abc"}).status_code == 400
    assert client.get("/verify").status_code == 200


def test_temporary_report_flow_and_change_report_with_diff(login, db, ent, staff, signatory, published):
    client = login(staff)
    assert client.get("/my/disclosures/temporary/new").status_code == 200
    form = {"trigger": "admin_penalty", "legal_doc_no": "淮环罚〔2026〕3号", "legal_doc_received_on": "2026-02-13",
            "f-decided_on": "2026-02-10", "f-authority": "淮安市生态环境局", "f-facts": "超标排放",
            "f-legal_basis": "第九十九条", "f-penalty_type": "罚款", "f-amount_yuan": "150000"}
    response = client.post("/my/disclosures/temporary/new", data=form)
    temp = db.session.scalar(sa.select(TemporaryReport))
    assert response.status_code == 302 and temp.due_on.isoformat() == "2026-02-27"
    assert "2026-02-27" in client.get(f"/my/disclosures/temporary/{temp.id}").get_data(as_text=True)
    bad = client.post("/my/disclosures/temporary/new", data=dict(form, legal_doc_no=""))
    assert bad.status_code == 200 and db.session.scalar(sa.select(sa.func.count()).select_from(TemporaryReport)) == 1

    page = client.get(f"/my/disclosures/change/{published.sha256}")
    assert page.status_code == 200
    client.post(f"/my/disclosures/change/{published.sha256}", data={
        "new-carbon.co2_t": "", "new-basic.legal_rep": "李新", "reason-basic.legal_rep": "登记错误", "basis": "营业执照"})
    change = db.session.scalar(sa.select(TemporaryReport).where(TemporaryReport.trigger == "change"))
    assert change.changes[0]["new"] == "李新"
    sign_page = login(signatory).get(f"/my/disclosures/temporary/{change.id}/sign").get_data(as_text=True)
    assert "本更正报告所更正的" in sign_page and published.sha256 in sign_page  # the commitment names the original
    login(signatory).post(f"/my/disclosures/temporary/{change.id}/sign",
                          data={"password": DEFAULT_PASSWORD, "code": totp_code(signatory)})
    db.session.refresh(published)
    assert published.status == ReportStatus.CORRECTED
    original_page = client.get(f"/disclosures/{published.sha256}").get_data(as_text=True)
    assert "李新" in original_page and "张三" in original_page and change.sha256 in original_page
    change_page = client.get(f"/disclosures/{change.sha256}").get_data(as_text=True)
    assert "<del>张三</del>" in change_page and "<ins>李新</ins>" in change_page
    assert "本更正报告所更正的" in change_page  # the copy of record carries the signed correction commitment


def test_the_regulator_sees_only_its_jurisdiction_and_exports_csv(login, db, published, foreign):
    regulator = make_user(Role.REGULATOR, jurisdiction_code="3208")
    db.session.commit()
    client = login(regulator)
    page = client.get("/regulator/disclosures").get_data(as_text=True)
    assert published.enterprise.name in page and foreign.enterprise.name not in page
    csv = client.get("/regulator/disclosures.csv?status=on_time").get_data(as_text=True)
    assert published.enterprise.uscc in csv and foreign.enterprise.uscc not in csv
    assert foreign.enterprise.uscc not in client.get("/regulator/disclosures.csv?status=pending").get_data(as_text=True)


def test_a_regulator_review_flag_records_evidence_and_foreign_reviews_are_refused(login, db, published):
    regulator = make_user(Role.REGULATOR, jurisdiction_code="3208")
    outsider = make_user(Role.REGULATOR, jurisdiction_code="2101")
    db.session.commit()
    assert login(outsider).get(f"/regulator/disclosures/review/{published.sha256}").status_code == 404
    client = login(regulator)
    assert client.get(f"/regulator/disclosures/review/{published.sha256}").status_code == 200
    missing_note = client.post(f"/regulator/disclosures/review/{published.sha256}", data={"flag": "untrue"})
    assert missing_note.status_code == 200
    client.post(f"/regulator/disclosures/review/{published.sha256}",
                data={"flag": "inaccurate", "note": "废物数量与转移联单不符", "units_present": "y"})
    evidence = db.session.scalar(sa.select(Evidence).where(Evidence.kind == EvidenceKind.DISCLOSURE_DEFECTIVE))
    assert evidence is not None and not evidence.is_verified
    assert db.session.scalar(sa.select(Obligation)).enterprise_id == published.enterprise_id


def test_the_api_lists_an_enterprises_disclosures_and_returns_the_signed_content(client, published):
    listing = client.get(f"/api/v1/enterprises/{published.enterprise.uscc}/disclosures").get_json()
    assert [d["sha256"] for d in listing["data"]] == [published.sha256] and listing["data"][0]["year"] == 2025
    detail = client.get(f"/api/v1/disclosures/{published.sha256}").get_json()["data"]
    from portal.disclosures import rules
    assert rules.sha256_hex(rules.canonical_json(detail["content"])) == published.sha256
    assert client.get("/api/v1/disclosures/xyz").get_json()["error"]["code"] == "invalid_parameter"
    assert client.get("/api/v1/disclosures/" + "a" * 64).status_code == 404
    assert client.get("/api/v1/enterprises/123/disclosures").status_code == 400


def test_drafts_never_appear_in_the_api(client, db, draft):
    db.session.commit()
    assert client.get(f"/api/v1/enterprises/{draft.enterprise.uscc}/disclosures").get_json()["data"] == []


def test_an_unbound_enterprise_user_is_asked_to_request_a_binding(login, db):
    user = make_user(Role.ENTERPRISE_STAFF)
    db.session.commit()
    response = login(user).get("/my/disclosures")
    assert response.status_code == 200 and "/auth/binding" in response.get_data(as_text=True)


def test_the_index_shows_a_notice_when_a_deadline_is_near(login, db, ent, staff, monkeypatch):
    from datetime import date

    import portal.disclosures.views as views
    monkeypatch.setattr(views, "china_today", lambda: date(2026, 3, 8))
    services.create_annual_draft(staff, ent, 2025)
    db.session.commit()
    page = login(staff).get("/my/disclosures").get_data(as_text=True)
    assert 'role="status"' in page and "2026-03-15" in page


def test_the_review_queue_lists_unreviewed_reports_of_the_jurisdiction_only(login, db, published, signatory):
    regulator = make_user(Role.REGULATOR, jurisdiction_code="3208")
    outsider = make_user(Role.REGULATOR, jurisdiction_code="2101")
    db.session.commit()
    assert published.sha256 in login(regulator).get("/regulator/disclosures/reviews").get_data(as_text=True)
    assert published.sha256 not in login(outsider).get("/regulator/disclosures/reviews").get_data(as_text=True)
    login(regulator).post(f"/regulator/disclosures/review/{published.sha256}",
                          data={"flag": "untrue", "note": "与监测数据不符"})
    assert published.sha256 not in login(regulator).get("/regulator/disclosures/reviews").get_data(as_text=True)
    from portal.mail.models import OutboxMessage
    mail = db.session.scalars(sa.select(OutboxMessage)).all()
    assert "sign@example.cn" in {m.to_address for m in mail} and all("不真实" in m.subject for m in mail)


def test_the_deadline_job_runs_from_the_command_line(runner, db, published):
    result = runner.invoke(args=["jobs", "run", "disclosure-deadlines"])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("query", ["year=99999999999", "year=abc", "status=bogus", "kind=x&page=999"])
def test_odd_dashboard_filters_are_ignored_not_errors(login, db, published, query):
    regulator = make_user(Role.REGULATOR, jurisdiction_code="3208")
    db.session.commit()
    client = login(regulator)
    assert client.get(f"/regulator/disclosures?{query}").status_code == 200
    assert client.get(f"/regulator/disclosures.csv?{query}").status_code == 200


def test_the_copies_job_renders_each_new_copy_of_record_once(app, db, published):
    from portal.disclosures import copies
    assert copies.render_pending_copies() == 1
    db.session.commit()
    first = published.pdf_sha256
    assert first and copies.render_pending_copies() == 0
    assert rules_sha(published.pdf_bytes) == first


def rules_sha(data: bytes) -> str:
    from portal.disclosures import rules
    return rules.sha256_hex(data)
