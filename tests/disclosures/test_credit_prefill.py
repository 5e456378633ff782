"""The annual report pre-fills the enterprise's environmental credit grade from the latest final evaluation result,
with its source (run, final date), overridable with a reason; without a final evaluation it says so."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from portal.credit import services as credit
from portal.credit.models import EvaluationResult, EvaluationRun, RunStatus
from portal.disclosures import services
from tests.disclosures.helpers import valid_sections
from tests.factories import DEFAULT_PASSWORD, totp_code

FINALISED = datetime(2026, 2, 9, 17, tzinfo=timezone.utc)  # 10 February 2026, 01:00 in China


def _result(db, ent, year: int, grade: str, status: RunStatus = RunStatus.FINAL, prefix: str = "3208"):
    run = EvaluationRun(year=year, jurisdiction_prefix=prefix, status=status, computed_at=FINALISED,
                        finalised_at=FINALISED if status == RunStatus.FINAL else None)
    db.session.add(run)
    db.session.flush()
    db.session.add(EvaluationResult(run_id=run.id, enterprise_id=ent.id, score=8, grade=grade, explanation=[],
                                    scheme_version_id=credit.version_for_region(ent.region_code).id))
    db.session.flush()
    return run


@pytest.fixture
def schemes(db):
    credit.seed_schemes()


def test_without_a_final_evaluation_the_grade_is_empty_and_says_so(db, ent, staff, schemes):
    _result(db, ent, 2025, "green", status=RunStatus.PUBLIC_NOTICE)  # proposed only: not a grade received
    management = services.create_annual_draft(staff, ent, 2025).sections["management"]
    assert management["data"]["credit_grade"] == "" and management["data"]["credit_authority"] == ""
    assert management["prefill"]["credit_grade"] == {"value": "", "source": "credit_none"}


def test_the_latest_final_grade_up_to_the_report_year_is_prefilled_with_its_source(db, ent, staff, schemes):
    _result(db, ent, 2023, "red")
    run = _result(db, ent, 2024, "blue")
    _result(db, ent, 2026, "green")  # a later period: not the grade held in 2025
    management = services.create_annual_draft(staff, ent, 2025).sections["management"]
    assert management["data"]["credit_grade"] == "蓝色（良好）"
    assert management["data"]["credit_authority"] == "淮安市生态环境局，2024年度评价"
    assert management["prefill"]["credit_grade"] == {"value": "蓝色（良好）", "source": "credit_evaluation",
                                                     "run_id": run.id, "as_of": "2026-02-10"}


def test_changing_the_prefilled_grade_needs_a_reason(db, ent, staff, schemes):
    _result(db, ent, 2024, "blue")
    report = services.create_annual_draft(staff, ent, 2025)
    data = dict(report.sections["management"]["data"], credit_grade="绿色（诚信）")
    services.save_section(staff, report, "management", "filled", "", data, {})
    assert "management.credit_grade.override" in {i.code for i in services.check_annual(report).errors}
    services.save_section(staff, report, "management", "filled", "", data, {"credit_grade": "2025年修复后升级"})
    assert report.sections["management"]["overrides"]["credit_grade"] == {
        "value": "绿色（诚信）", "reason": "2025年修复后升级", "source": "credit_evaluation"}
    assert "management.credit_grade.override" not in {i.code for i in services.check_annual(report).errors}


def test_the_form_and_the_published_report_show_the_grade_source_date_and_link(login, db, ent, staff, signatory,
                                                                                schemes):
    run = _result(db, ent, 2024, "blue")
    report = services.create_annual_draft(staff, ent, 2025)
    management = report.sections["management"]
    db.session.commit()
    page = login(staff).get(f"/my/disclosures/annual/{report.id}/sections/management").get_data(as_text=True)
    assert "蓝色（良好）" in page and "2026-02-10" in page and f"/credit/results/{run.id}" in page

    sections = valid_sections(ent.uscc)
    sections["management"] = dict(management, state="filled")
    report.sections = sections
    services.submit_annual(signatory, report, DEFAULT_PASSWORD, [], code=totp_code(signatory))
    db.session.commit()
    frozen = json.loads(report.content_json)["sections"]["management"]
    assert frozen["data"]["credit_grade"] == "蓝色（良好）"
    assert frozen["sources"]["credit_grade"] == "credit_evaluation"
    assert frozen["source_refs"]["credit_grade"] == {"run_id": run.id, "as_of": "2026-02-10"}
    public = login(staff).get(f"/disclosures/{report.sha256}").get_data(as_text=True)
    assert "蓝色（良好）" in public and "2026-02-10" in public and f"/credit/results/{run.id}" in public


def test_without_a_final_evaluation_the_form_says_no_evaluation_yet(login, db, ent, staff, schemes):
    report = services.create_annual_draft(staff, ent, 2025)
    db.session.commit()
    page = login(staff).get(f"/my/disclosures/annual/{report.id}/sections/management").get_data(as_text=True)
    assert "本平台尚无本企业已审定的环境信用评价结果" in page
