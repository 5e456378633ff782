"""The Order 24 / 格式准则 blocks added in 2026: toxic and hazardous substances, criminal cases and detentions beside
penalties, the insurance's indemnity limit, the environmental manager's statement; range values (pH) pre-filled as
ranges; the blocks in the form and in the copy of record."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from portal.disclosures import rules, services
from portal.disclosures.models import ReportStatus, TemporaryReport, Trigger
from portal.enterprises.models import Averaging
from portal.monitoring.models import MonitoringRollup, Resolution
from tests.disclosures.helpers import filled
from tests.factories import DEFAULT_PASSWORD, make_limit, totp_code

TZ = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize("value, ok", [("6-9", True), ("6～9", True), ("7.2", True), ("6.5 - 8.5", True),
                                       ("9-6", False), ("abc", False), ("6-x", False), ("-3", False)])
def test_a_range_field_takes_a_number_or_an_ordered_range(value, ok):
    field = rules.SECTION_BY_CODE["pollution"].tables[1].columns[4]
    assert field.name == "limit" and field.kind == "range"
    assert (rules.check_value(field, value) is None) is ok


def test_ph_is_prefilled_as_ranges(db, ent, staff):
    outlet = ent.outlets[0]
    make_limit(outlet, "w01001", None, Averaging.INSTANT, limit_min=6, limit_max=9, unit="无量纲")
    for month, low, high in ((5, 6.8, 7.9), (6, 6.5, 8.1)):
        db.session.add(MonitoringRollup(outlet_id=outlet.id, pollutant_code="w01001", resolution=Resolution.MONTH,
                                        period_start=datetime(2025, month, 1, tzinfo=TZ), n_all=10, n_valid=10,
                                        sum_valid=72.0, min_valid=low, max_valid=high))
    db.session.flush()
    report = services.create_annual_draft(staff, ent, 2025)
    row = next(r for r in report.sections["pollution"]["data"]["emissions"] if "w01001" in r["pollutant"])
    assert row["limit"] == "6-9" and row["avg_conc"] == "6.5-8.1" and row["max_conc"] == "8.1"
    cod = next(r for r in report.sections["pollution"]["data"]["emissions"] if "w01018" in r["pollutant"])
    assert cod["limit"] == "100"  # an ordinary limit stays a number


def _published_temporary(db, ent, trigger, data, doc_no):
    report = TemporaryReport(enterprise_id=ent.id, trigger=trigger, legal_doc_no=doc_no, data=data, changes=[],
                             status=ReportStatus.PUBLISHED, submitted_at=datetime(2025, 8, 1, 10, tzinfo=TZ),
                             sha256=f"{len(doc_no):064d}"[:60] + f"{trigger.value[:4]:>4}")
    db.session.add(report)
    db.session.flush()


def test_criminal_cases_and_detentions_are_prefilled_from_the_years_temporary_reports(db, ent, staff):
    _published_temporary(db, ent, Trigger.CRIMINAL, {"case_no": "(2025)苏0826刑初88号", "court": "涟水县人民法院",
                                                     "judgment": "污染环境罪，罚金10万元"}, "(2025)苏0826刑初88号")
    _published_temporary(db, ent, Trigger.DETENTION, {"position": "车间主任", "case": "非法排放",
                                                      "decided_on": "2025-07-20"}, "涟公拘〔2025〕3号")
    report = services.create_annual_draft(staff, ent, 2025)
    violations = report.sections["violations"]
    assert violations["data"]["criminal"] == [{"case_no": "(2025)苏0826刑初88号", "court": "涟水县人民法院",
                                               "judgment": "污染环境罪，罚金10万元", "decided_on": ""}]
    assert violations["data"]["detentions"] == [{"position": "车间主任", "case": "非法排放",
                                                 "decided_on": "2025-07-20"}]
    assert violations["prefill"]["criminal"]["source"] == "temporary_reports"


def test_the_statement_of_the_environmental_manager_cannot_be_declared_not_applicable(db, draft):
    draft.sections = {**draft.sections, "statement": {"state": "not_applicable", "reason": "无", "data": {},
                                                      "prefill": {}, "overrides": {}}}
    assert any(issue.section == "statement" for issue in services.check_annual(draft).errors)


def test_the_new_blocks_are_in_the_form_and_the_copy_of_record(db, login, ent, draft, staff, signatory):
    sections = dict(draft.sections)  # a new dict: the JSON column tracks assignment, not mutation
    sections["management"] = filled({"insured": "yes", "insurer": "人保财险 2025-01-01至2025-12-31",
                                           "insurance_limit_yuan": "5000000"})
    pollution = dict(draft.sections["pollution"]["data"])
    pollution["toxic"] = [{"name": "苯", "register": "有毒有害大气污染物名录", "outlet_code": "DA001",
                           "annual_kg": "12.5", "measures": "活性炭吸附"}]
    sections["pollution"] = filled(pollution)
    sections["violations"] = filled({
        "penalties": [], "criminal": [{"case_no": "(2025)苏0826刑初88号", "court": "涟水县人民法院",
                                       "judgment": "污染环境罪", "decided_on": "2025-09-01"}],
        "detentions": [{"position": "车间主任", "case": "非法排放", "decided_on": "2025-07-20"}]})
    draft.sections = sections
    db.session.commit()
    client = login(staff)
    form = client.get(f"/my/disclosures/annual/{draft.id}/sections/pollution?lang=en").get_data(as_text=True)
    assert "Toxic and hazardous substances emitted" in form and "苯" in form
    form = client.get(f"/my/disclosures/annual/{draft.id}/sections/statement?lang=en").get_data(as_text=True)
    assert "Statement of the person in charge of environmental work" in form
    assert services.check_annual(draft).ok, services.check_annual(draft).errors
    published = services.submit_annual(signatory, draft, DEFAULT_PASSWORD, [], code=totp_code(signatory))
    db.session.commit()
    page = client.get(f"/disclosures/{published.sha256}?lang=en").get_data(as_text=True)
    for text in ("Toxic and hazardous substances emitted", "苯", "Criminal cases", "(2025)苏0826刑初88号",
                 "Administrative detentions of responsible persons", "车间主任", "Indemnity limit of the insurance",
                 "5000000", "Statement of the person in charge of environmental work", "王五"):
        assert text in page, text


def test_a_correction_turns_a_not_applicable_section_into_content(db, login, ent, draft, staff, signatory):
    assert draft.sections["carbon"]["state"] == "not_applicable"
    published = services.submit_annual(signatory, draft, DEFAULT_PASSWORD, [], code=totp_code(signatory))
    db.session.commit()
    client = login(staff)
    form = client.get(f"/my/disclosures/change/{published.sha256}?lang=en").get_data(as_text=True)
    assert "Declared not applicable: 本年度未产生" in form and 'name="new-carbon.co2_t"' in form
    assert 'name="new-financing.climate_info"' not in form  # not a financing enterprise: not offered
    response = client.post(f"/my/disclosures/change/{published.sha256}", data={
        "new-carbon.co2_t": "1200", "reason-carbon.co2_t": "漏报：本年度已纳入全国碳市场", "basis": "碳排放核查报告"})
    assert response.status_code == 302
    change = db.session.scalar(sa.select(TemporaryReport).where(TemporaryReport.trigger == Trigger.CHANGE))
    assert change.changes == [{"key": "carbon.co2_t", "old": "", "new": "1200",
                               "reason": "漏报：本年度已纳入全国碳市场"}]
    services.submit_temporary(signatory, change, DEFAULT_PASSWORD, code=totp_code(signatory))
    db.session.commit()
    assert published.status == ReportStatus.CORRECTED
