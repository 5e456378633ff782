"""Disclosure services: pre-filled drafts, signing, timeliness, deadline job, corrections, review."""
from __future__ import annotations

import json
from datetime import date, datetime, timezone

import pytest
import sqlalchemy as sa

from portal.audit.models import AuditRecord
from portal.core.clock import china_tz
from portal.credit.models import Evidence, EvidenceKind
from portal.disclosures import prefill, rules, services, supervision
from portal.disclosures.models import (AnnualReport, Obligation, ObligationStatus, ReportStatus, Review,
                                       TemporaryReport, Trigger)
from portal.enterprises.models import KeyUnitType, KeyUnitYear
from portal.errors import InvalidTransition, NotAllowed, ValidationFailed
from portal.mail.models import OutboxMessage
from tests.factories import DEFAULT_PASSWORD, make_enterprise, totp_code

ON_TIME = datetime(2026, 3, 15, 15, 59, tzinfo=timezone.utc)  # 23:59 on 15 March in China
LATE = datetime(2026, 3, 15, 16, 0, tzinfo=timezone.utc)  # 00:00 on 16 March in China


def _count(db, model, *where):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def test_a_new_draft_is_prefilled_from_the_registry_with_sources(db, ent, staff):
    report = services.create_annual_draft(staff, ent, 2025)
    basic = report.sections["basic"]
    assert basic["data"]["name"] == "涟水绿源化工有限公司"
    assert basic["prefill"]["uscc"] == {"value": ent.uscc, "source": "registry"}
    assert report.sections["management"]["data"]["permits"][0]["permit_no"] == f"{ent.uscc}001P"
    emission = report.sections["pollution"]["data"]["emissions"][0]
    assert emission["outlet_code"] == "DW001" and emission["unit"] == "mg/L" and emission["limit"] == "100"
    assert services.create_annual_draft(staff, ent, 2025).id == report.id
    assert _count(db, AnnualReport) == 1
    assert db.session.scalar(sa.select(Obligation)).due_on == date(2026, 3, 15)


def test_verified_penalties_of_the_year_are_prefilled_and_unverified_ones_are_not(db, ent, staff):
    from portal.credit.evidence import add_evidence
    from portal.credit.models import EvidenceSource
    for ref, day, verified in (("p1", date(2025, 5, 6), True), ("p2", date(2025, 7, 1), False),
                               ("p3", date(2024, 12, 31), True)):
        add_evidence(enterprise_id=ent.id, kind=EvidenceKind.PENALTY, source=EvidenceSource.REGULATOR,
                     source_ref=ref, occurred_on=day, title="超标排放", verified=verified,
                     document_no=f"淮环罚〔2025〕{ref}号", authority="淮安市生态环境局", amount_yuan=120000)
    report = services.create_annual_draft(staff, ent, 2025)
    penalties = report.sections["violations"]["data"]["penalties"]
    assert penalties == [{"decision_no": "淮环罚〔2025〕p1号", "decided_on": "2025-05-06", "authority": "淮安市生态环境局",
                          "facts": "超标排放", "amount_yuan": "120000", "rectified": ""}]
    assert report.sections["violations"]["prefill"]["penalties"]["source"] == "penalties"


def test_changing_a_prefilled_value_records_an_override_that_needs_a_reason(db, ent, staff):
    report = services.create_annual_draft(staff, ent, 2025)
    data = dict(report.sections["basic"]["data"], legal_rep="李新")
    services.save_section(staff, report, "basic", "filled", "", data, {})
    assert "basic.legal_rep.override" in {i.code for i in services.check_annual(report).errors}
    services.save_section(staff, report, "basic", "filled", "", data, {"legal_rep": "2025年12月法定代表人变更"})
    entry = report.sections["basic"]
    assert entry["overrides"]["legal_rep"] == {"value": "李新", "reason": "2025年12月法定代表人变更",
                                               "source": "registry"}
    assert "basic.legal_rep.override" not in {i.code for i in services.check_annual(report).errors}
    assert _count(db, AuditRecord, AuditRecord.action == "annual_report.save_section") == 2


def test_staff_cannot_submit(db, draft, staff):
    with pytest.raises(NotAllowed):
        services.submit_annual(staff, draft, DEFAULT_PASSWORD, [], code=totp_code(staff))
    assert draft.status == ReportStatus.DRAFT


def test_a_signatory_of_another_enterprise_cannot_submit(db, draft):
    from portal.auth.models import Role
    from tests.factories import make_user
    other = make_user(Role.ENTERPRISE_SIGNATORY, enterprise=make_enterprise())
    with pytest.raises(NotAllowed):
        services.submit_annual(other, draft, DEFAULT_PASSWORD, [], code=totp_code(other))


def test_signing_needs_the_password(db, draft, signatory):
    with pytest.raises(ValidationFailed) as exc:
        services.submit_annual(signatory, draft, "wrong password", [], code=totp_code(signatory))
    assert "password" in exc.value.errors


def test_hard_errors_block_signing_and_the_report_stays_a_draft(db, draft, signatory):
    sections = json.loads(json.dumps(draft.sections))
    sections["carbon"] = {"state": "empty", "data": {}}
    draft.sections = sections
    with pytest.raises(ValidationFailed):
        services.submit_annual(signatory, draft, DEFAULT_PASSWORD, [], code=totp_code(signatory))
    assert draft.status == ReportStatus.DRAFT and draft.sha256 is None


def test_every_warning_must_be_acknowledged(db, draft, signatory):
    sections = json.loads(json.dumps(draft.sections))
    sections["pollution"]["data"]["emissions"][0]["annual_t"] = "25"
    draft.sections = sections
    with pytest.raises(ValidationFailed) as exc:
        services.submit_annual(signatory, draft, DEFAULT_PASSWORD, [], code=totp_code(signatory))
    assert "warnings" in exc.value.errors
    report = services.submit_annual(signatory, draft, DEFAULT_PASSWORD, ["pollution.emissions.1.above_permitted"],
                                    now=ON_TIME, code=totp_code(signatory))
    assert report.acknowledged_warnings == ["pollution.emissions.1.above_permitted"]


def test_signing_freezes_hashes_publishes_and_settles_on_time(db, draft, signatory):
    report = services.submit_annual(signatory, draft, DEFAULT_PASSWORD, [], now=ON_TIME, code=totp_code(signatory))
    assert report.status == ReportStatus.PUBLISHED
    assert report.sha256 == rules.sha256_hex(report.content_json)
    content = json.loads(report.content_json)
    assert content["commitment"] == rules.COMMITMENT and content["signer"]["name"] == "张签署"
    assert content["sections"]["basic"]["data"]["uscc"] == draft.enterprise.uscc
    ob = db.session.scalar(sa.select(Obligation))
    assert ob.status == ObligationStatus.ON_TIME and ob.submitted_at == ON_TIME
    assert _count(db, AuditRecord, AuditRecord.action == "annual_report.submit") == 1
    assert _count(db, AuditRecord, AuditRecord.action == "disclosure_obligation.status") == 1


def test_a_repeated_submit_never_duplicates_and_nothing_is_edited_after_submission(db, draft, signatory, staff):
    report = services.submit_annual(signatory, draft, DEFAULT_PASSWORD, [], now=ON_TIME, code=totp_code(signatory))
    digest = report.sha256
    with pytest.raises(InvalidTransition):
        services.submit_annual(signatory, report, DEFAULT_PASSWORD, [], code=totp_code(signatory))
    with pytest.raises(InvalidTransition):
        services.save_section(staff, report, "other", "filled", "", {"other_info": "改"}, {})
    assert report.sha256 == digest and _count(db, AnnualReport) == 1
    assert _count(db, AuditRecord, AuditRecord.action == "annual_report.submit") == 1


def test_a_submission_after_the_due_day_is_late_and_becomes_credit_evidence(db, draft, signatory):
    services.submit_annual(signatory, draft, DEFAULT_PASSWORD, [], now=LATE, code=totp_code(signatory))
    assert db.session.scalar(sa.select(Obligation)).status == ObligationStatus.LATE
    evidence = db.session.scalar(sa.select(Evidence))
    # a finding: it scores only once two regulators confirm it (DOMAIN §2.6)
    assert evidence.kind == EvidenceKind.DISCLOSURE_LATE
    assert not evidence.is_verified and evidence.recorded_by_id is None
    assert evidence.occurred_on == date(2026, 3, 16)


def test_the_deadline_job_marks_missing_once_then_a_late_filing_replaces_it(db, ent, draft, signatory):
    counts = supervision.run_deadlines(date(2026, 3, 16))
    assert counts["missing"] == 1
    assert supervision.run_deadlines(date(2026, 3, 17))["missing"] == 0  # idempotent
    ob = db.session.scalar(sa.select(Obligation))
    assert ob.status == ObligationStatus.MISSING
    missing = db.session.scalar(sa.select(Evidence).where(Evidence.kind == EvidenceKind.DISCLOSURE_MISSING))
    assert not missing.is_verified and missing.withdrawn_at is None
    services.submit_annual(signatory, draft, DEFAULT_PASSWORD, [], now=datetime(2026, 3, 20, tzinfo=timezone.utc), code=totp_code(signatory))
    assert ob.status == ObligationStatus.LATE
    assert missing.withdrawn_at is not None
    assert _count(db, Evidence, Evidence.kind == EvidenceKind.DISCLOSURE_LATE) == 1


def test_the_deadline_job_creates_key_unit_obligations_and_sends_reminders_once(db, ent, signatory):
    db.session.add(KeyUnitYear(enterprise_id=ent.id, year=2025, unit_type=KeyUnitType.WATER))
    db.session.flush()
    db.session.expire(ent, ["key_units"])
    assert prefill.prefill_sections(ent, 2025)["basic"]["data"]["key_unit_types"] == "水环境重点排污单位"
    counts = supervision.run_deadlines(date(2026, 2, 13))  # 30 days before 15 March
    assert counts == {"created": 1, "missing": 0, "reminders": 1}
    supervision.run_deadlines(date(2026, 2, 13))
    messages = db.session.scalars(sa.select(OutboxMessage)).all()
    assert len(messages) == 1 and messages[0].to_address == "sign@example.cn" and "30" in messages[0].subject
    assert supervision.run_deadlines(date(2026, 2, 14))["reminders"] == 0


def test_a_temporary_report_is_due_five_working_days_after_receipt(db, ent, staff, signatory):
    report = services.save_temporary(staff, ent, Trigger.ADMIN_PENALTY, "淮环罚〔2026〕3号", date(2026, 2, 13), {
        "decided_on": "2026-02-10", "authority": "淮安市生态环境局", "facts": "超标排放", "legal_basis": "大气污染防治法第九十九条",
        "penalty_type": "罚款", "amount_yuan": "150000"})
    assert report.due_on == date(2026, 2, 27)
    ob = db.session.scalar(sa.select(Obligation).where(Obligation.ref == f"temporary:{report.id}"))
    assert ob.due_on == date(2026, 2, 27)
    services.submit_temporary(signatory, report, DEFAULT_PASSWORD, now=datetime(2026, 2, 27, 9, tzinfo=timezone.utc), code=totp_code(signatory))
    assert ob.status == ObligationStatus.ON_TIME and report.status == ReportStatus.PUBLISHED


def test_a_temporary_report_needs_the_legal_document_and_its_fields(db, ent, staff):
    with pytest.raises(ValidationFailed) as exc:
        services.save_temporary(staff, ent, Trigger.ADMIN_PENALTY, "", None, {"amount_yuan": "-5"})
    assert {"legal_doc_no", "legal_doc_received_on"} <= set(exc.value.errors)
    with pytest.raises(ValidationFailed) as exc:
        services.save_temporary(staff, ent, Trigger.ADMIN_PENALTY, "x", date(2026, 1, 5), {"amount_yuan": "-5"})
    assert "amount_yuan" in exc.value.errors and "facts" in exc.value.errors
    assert _count(db, TemporaryReport) == 0


def test_a_change_report_corrects_the_original_without_editing_it(db, draft, staff, signatory):
    original = services.submit_annual(signatory, draft, DEFAULT_PASSWORD, [], now=ON_TIME, code=totp_code(signatory))
    frozen = (original.content_json, original.sha256)
    with pytest.raises(ValidationFailed):
        services.save_change(staff, original.enterprise, original, {"basic.legal_rep": "李新"}, {}, "")
    change = services.save_change(staff, original.enterprise, original, {"basic.legal_rep": "李新"},
                                  {"basic.legal_rep": "登记错误"}, "营业执照")
    assert change.changes == [{"key": "basic.legal_rep", "old": "张三", "new": "李新", "reason": "登记错误"}]
    assert original.status == ReportStatus.PUBLISHED
    services.submit_temporary(signatory, change, DEFAULT_PASSWORD, code=totp_code(signatory))
    assert original.status == ReportStatus.CORRECTED
    assert (original.content_json, original.sha256) == frozen
    assert services.corrections_of(original) == [change]
    assert json.loads(change.content_json)["corrects"] == {"kind": "annual", "sha256": original.sha256}
    # The signed commitment names the corrected report: its title, publication day and fingerprint.
    commitment = json.loads(change.content_json)["commitment"]
    assert commitment != rules.COMMITMENT and original.sha256 in commitment
    assert f"{original.year}年度环境信息依法披露报告" in commitment
    assert ON_TIME.astimezone(china_tz()).date().isoformat() in commitment
    assert json.loads(original.content_json)["commitment"] == rules.COMMITMENT


def test_drafts_cannot_be_corrected_or_reviewed(db, draft, staff):
    from portal.auth.models import Role
    from tests.factories import make_user
    with pytest.raises(NotAllowed):
        services.save_change(staff, draft.enterprise, draft, {"basic.legal_rep": "x"}, {"basic.legal_rep": "y"}, "z")
    with pytest.raises(NotAllowed):
        supervision.review_report(make_user(Role.REGULATOR), draft, {}, "none", "")


def test_a_regulator_flag_records_unverified_defect_evidence(db, draft, signatory):
    from portal.auth.models import Role
    from tests.factories import make_user
    report = services.submit_annual(signatory, draft, DEFAULT_PASSWORD, [], now=ON_TIME, code=totp_code(signatory))
    regulator = make_user(Role.REGULATOR)
    with pytest.raises(ValidationFailed):
        supervision.review_report(regulator, report, {}, "untrue", "")
    review = supervision.review_report(regulator, report, {"units_present": True}, "untrue", "排放量与监测数据不符")
    evidence = db.session.scalar(sa.select(Evidence).where(Evidence.kind == EvidenceKind.DISCLOSURE_DEFECTIVE))
    assert not evidence.is_verified and evidence.source_ref == f"review:{review.id}"
    assert review.checklist["units_present"] is True and review.checklist["uscc_valid"] is False
    assert supervision.open_flags(report.enterprise_id) == [review]
    assert _count(db, Review) == 1


def _monitoring(db, ent):
    from zoneinfo import ZoneInfo

    from portal.monitoring.models import Basis, ExceedanceIncident, MonitoringRollup, Resolution
    tz = ZoneInfo("Asia/Shanghai")
    outlet = ent.outlets[0]
    for month, total, n, peak in ((5, 3000.0, 100, 120.0), (6, 1000.0, 50, 60.0)):
        db.session.add(MonitoringRollup(outlet_id=outlet.id, pollutant_code="w01018", resolution=Resolution.MONTH,
                                        period_start=datetime(2025, month, 1, tzinfo=tz), n_all=n, n_valid=n,
                                        sum_valid=total, max_valid=peak))
    db.session.add(MonitoringRollup(outlet_id=outlet.id, pollutant_code="w01018", resolution=Resolution.MONTH,
                                    period_start=datetime(2024, 12, 1, tzinfo=tz), n_all=1, n_valid=1,
                                    sum_valid=999.0, max_valid=999.0))  # another year: ignored
    for day in (3, 4):
        db.session.add(ExceedanceIncident(enterprise_id=ent.id, outlet_id=outlet.id, pollutant_code="w01018",
                                          basis=Basis.DAILY_MEAN, period_start=datetime(2025, 5, day, tzinfo=tz),
                                          value=120.0, limit_value=100.0))
    db.session.flush()


def test_monitoring_data_prefill_the_emission_rows(db, ent, staff):
    _monitoring(db, ent)
    report = services.create_annual_draft(staff, ent, 2025)
    row = report.sections["pollution"]["data"]["emissions"][0]
    assert (row["avg_conc"], row["max_conc"], row["exceedances"]) == ("26.667", "120", "2")
    assert report.sections["pollution"]["prefill"]["emissions"]["source"] == "outlets_monitoring"


def test_declared_figures_below_the_portals_monitoring_data_are_warnings(db, ent, draft):
    _monitoring(db, ent)
    row = draft.sections["pollution"]["data"]["emissions"][0]
    assert (row["max_conc"], row["exceedances"]) == ("80", "0")
    codes = {w.code for w in services.check_annual(draft).warnings}
    assert {"pollution.emissions.1.monitoring_exceedances", "pollution.emissions.1.monitoring_max"} <= codes


def test_a_repeated_new_temporary_report_for_the_same_document_never_duplicates(db, ent, staff, signatory):
    data = {"position": "车间主任", "case": "非法排放", "decided_on": "2026-01-04"}
    first = services.save_temporary(staff, ent, Trigger.DETENTION, "淮公拘〔2026〕1号", date(2026, 1, 5), data)
    again = services.save_temporary(staff, ent, Trigger.DETENTION, "淮公拘〔2026〕1号", date(2026, 1, 5), data)
    assert again.id == first.id and _count(db, TemporaryReport) == 1 and _count(db, Obligation) == 1
    services.submit_temporary(signatory, first, DEFAULT_PASSWORD, code=totp_code(signatory))
    from portal.errors import Conflict
    with pytest.raises(Conflict):
        services.save_temporary(staff, ent, Trigger.DETENTION, "淮公拘〔2026〕1号", date(2026, 1, 5), data)
    with pytest.raises(ValidationFailed) as exc:
        services.save_temporary(staff, ent, Trigger.DETENTION, "号" * 101, date(2026, 1, 5), data)
    assert "legal_doc_no" in exc.value.errors


def test_a_repeated_new_change_for_the_same_original_continues_the_draft(db, draft, staff, signatory):
    original = services.submit_annual(signatory, draft, DEFAULT_PASSWORD, [], now=ON_TIME, code=totp_code(signatory))
    args = (staff, original.enterprise, original, {"basic.legal_rep": "李新"}, {"basic.legal_rep": "登记错误"}, "执照")
    assert services.save_change(*args).id == services.save_change(*args).id
    assert _count(db, TemporaryReport) == 1


def test_overlong_text_is_a_hard_error():
    assert rules.check_value(rules.SECTION_BY_CODE["other"].fields[0], "字" * 5000) is None
    error = rules.check_value(rules.Field("x", "X"), "字" * 501)
    assert error is not None and "500" in error
