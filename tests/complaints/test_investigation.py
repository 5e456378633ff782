"""Investigation notes linked to on-site inspections and penalty decisions: recorded by the handler, audited
without their text, seen only by the handler and the lead, and cited by a substantiated result."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from portal.audit.models import AuditRecord
from portal.auth.models import Role
from portal.complaints import services
from portal.complaints.models import ComplaintEvent, ComplaintNote, Findings, Status
from portal.credit.evidence import add_evidence
from portal.credit.models import Evidence, EvidenceKind, EvidenceSource
from portal.errors import InvalidTransition, NotAllowed, ValidationFailed
from tests.conftest import login_as
from tests.factories import make_complaint, make_enterprise, make_user

NOTE = "现场检查：雨水排口有黑色污水外排，已采样。"
PENALTY_NO = "涟环罚〔2026〕3号"


@pytest.fixture
def people(db):
    return {"handler": make_user(Role.REGULATOR, jurisdiction_code="3208"),
            "colleague": make_user(Role.REGULATOR, jurisdiction_code="3208"),
            "lead": make_user(Role.REGULATOR_LEAD, jurisdiction_code="3208"),
            "foreign": make_user(Role.REGULATOR_LEAD, jurisdiction_code="2101")}


@pytest.fixture
def case(db, people):
    ent = make_enterprise()
    c, _ = make_complaint(ent)
    services.accept_complaint(c, people["handler"])
    services.start_investigation(c, people["handler"])
    return c


def _evidence(ent_id: int, kind: EvidenceKind, doc: str, day: date) -> Evidence:
    return add_evidence(enterprise_id=ent_id, kind=kind, source=EvidenceSource.REGULATOR, source_ref=f"doc:{doc}",
                        occurred_on=day, title=f"记录 {doc}", verified=True, document_no=doc)


def test_a_note_keeps_the_inspection_and_penalty_documents_and_is_audited_without_its_text(db, people, case):
    day = date.today() - timedelta(days=3)
    note = services.add_investigation_note(case, people["handler"], NOTE, inspection_ref="涟环检〔2026〕17号",
                                           inspection_on=day, penalty_doc_no=PENALTY_NO, penalty_on=day)
    db.session.commit()
    stored = db.session.get(ComplaintNote, note.id)
    assert stored.text == NOTE and stored.inspection_ref == "涟环检〔2026〕17号" and stored.penalty_on == day
    audit = db.session.scalar(sa.select(AuditRecord).where(AuditRecord.action == "complaint.note"))
    assert audit.object_type == "complaint_notes" and audit.object_id == str(note.id)
    assert audit.after["penalty_doc_no"] == PENALTY_NO and NOTE not in str(audit.after)
    event = db.session.scalar(sa.select(ComplaintEvent).where(ComplaintEvent.kind == "note"))
    assert not event.is_public and NOTE not in event.text and PENALTY_NO in event.text


def test_linking_an_evidence_record_fills_the_number_and_date(db, people, case):
    day = date(2026, 1, 5)
    inspection = _evidence(case.enterprise_id, EvidenceKind.INSPECTION_FINDING, "检查记录-88", day)
    penalty = _evidence(case.enterprise_id, EvidenceKind.PENALTY, PENALTY_NO, day)
    note = services.add_investigation_note(case, people["handler"], NOTE, inspection_evidence_id=inspection.id,
                                           penalty_evidence_id=penalty.id)
    assert (note.inspection_ref, note.inspection_on, note.inspection_evidence_id) == ("检查记录-88", day, inspection.id)
    assert (note.penalty_doc_no, note.penalty_on, note.penalty_evidence_id) == (PENALTY_NO, day, penalty.id)


def test_a_penalty_number_already_in_the_evidence_links_by_itself(db, people, case):
    penalty = _evidence(case.enterprise_id, EvidenceKind.PENALTY, PENALTY_NO, date(2026, 1, 5))
    note = services.add_investigation_note(case, people["handler"], NOTE, penalty_doc_no=PENALTY_NO,
                                           penalty_on=date(2026, 1, 5))
    assert note.penalty_evidence_id == penalty.id


@pytest.mark.parametrize("kwargs, field", [
    ({"inspection_ref": "涟环检〔2026〕17号"}, "inspection_on"),
    ({"penalty_on": date(2026, 1, 5)}, "penalty_doc_no"),
    ({"inspection_ref": "x", "inspection_on": date.today() + timedelta(days=3)}, "inspection_on"),
    ({"penalty_doc_no": "x" * 101, "penalty_on": date(2026, 1, 5)}, "penalty_doc_no"),
])
def test_a_document_needs_its_number_and_a_past_date(db, people, case, kwargs, field):
    with pytest.raises(ValidationFailed) as err:
        services.add_investigation_note(case, people["handler"], NOTE, **kwargs)
    assert field in err.value.errors


def test_only_the_enterprise_s_own_records_of_the_right_kind_can_be_linked(db, people, case):
    other = make_enterprise()
    foreign_penalty = _evidence(other.id, EvidenceKind.PENALTY, "外罚1号", date(2026, 1, 5))
    inspection = _evidence(case.enterprise_id, EvidenceKind.INSPECTION_FINDING, "检查记录-88", date(2026, 1, 5))
    with pytest.raises(ValidationFailed) as err:
        services.add_investigation_note(case, people["handler"], NOTE, penalty_evidence_id=foreign_penalty.id)
    assert "penalty_evidence_id" in err.value.errors
    with pytest.raises(ValidationFailed) as err:
        services.add_investigation_note(case, people["handler"], NOTE, penalty_evidence_id=inspection.id)
    assert "penalty_evidence_id" in err.value.errors
    with pytest.raises(ValidationFailed):
        services.add_investigation_note(case, people["handler"], "")


def test_a_case_without_a_registered_enterprise_keeps_numbers_but_links_nothing(db, people):
    c, _ = make_complaint()
    services.accept_complaint(c, people["handler"])
    ent = make_enterprise()
    penalty = _evidence(ent.id, EvidenceKind.PENALTY, PENALTY_NO, date(2026, 1, 5))
    with pytest.raises(ValidationFailed):
        services.add_investigation_note(c, people["handler"], NOTE, penalty_evidence_id=penalty.id)
    note = services.add_investigation_note(c, people["handler"], NOTE, penalty_doc_no=PENALTY_NO,
                                           penalty_on=date(2026, 1, 5))
    assert note.penalty_evidence_id is None and note.penalty_doc_no == PENALTY_NO


def test_only_the_handler_and_the_lead_read_and_write_notes(db, people, case):
    services.add_investigation_note(case, people["handler"], NOTE)
    services.add_investigation_note(case, people["lead"], "组长复核：同意立案。")
    with pytest.raises(NotAllowed):
        services.add_investigation_note(case, people["colleague"], NOTE)
    with pytest.raises(NotAllowed):
        services.add_investigation_note(case, people["foreign"], NOTE)
    assert [n.text for n in services.notes_for(people["handler"], case)] == [NOTE, "组长复核：同意立案。"]
    assert len(services.notes_for(people["lead"], case)) == 2
    assert services.notes_for(people["colleague"], case) is None
    assert services.notes_for(people["foreign"], case) is None


def test_no_notes_on_a_closed_case(db, people):
    c, _ = make_complaint()
    services.reject_complaint(c, people["handler"], "REJECTED_NOT_COMPETENT", "请向公安机关反映。")
    c.handler_id = people["handler"].id
    with pytest.raises(InvalidTransition):
        services.add_investigation_note(c, people["handler"], NOTE)


def test_a_substantiated_result_cites_the_inspections_and_penalties(db, people, case):
    services.add_investigation_note(case, people["handler"], "电话联系企业负责人。")  # no document: not cited
    inspection = services.add_investigation_note(case, people["handler"], NOTE, inspection_ref="涟环检〔2026〕17号",
                                                 inspection_on=date(2026, 1, 4))
    penalty = services.add_investigation_note(case, people["handler"], "作出处罚决定。", penalty_doc_no=PENALTY_NO,
                                              penalty_on=date(2026, 1, 20))
    services.report_result(case, people["handler"], Findings.SUBSTANTIATED, "现场核实超标排放，已立案处罚。")
    evidence = db.session.scalar(sa.select(Evidence).where(Evidence.source_ref == f"complaint:{case.id}"))
    cited = evidence.details["investigation"]
    assert [r["note_id"] for r in cited] == [inspection.id, penalty.id]
    assert cited[0]["inspection_ref"] == "涟环检〔2026〕17号" and cited[1]["penalty_on"] == "2026-01-20"
    assert evidence.document_no == PENALTY_NO
    audit = db.session.scalar(sa.select(AuditRecord).where(AuditRecord.action == "complaint.result"))
    assert [r["note_id"] for r in audit.after["cites"]] == [inspection.id, penalty.id]
    result = [e for e in case.events if e.kind == "result_reported"][0]
    assert "涟环检〔2026〕17号" in result.text and PENALTY_NO in result.text


def test_a_result_without_violation_cites_nothing(db, people, case):
    services.add_investigation_note(case, people["handler"], NOTE, inspection_ref="涟环检〔2026〕17号",
                                    inspection_on=date(2026, 1, 4))
    services.report_result(case, people["handler"], Findings.NOT_SUBSTANTIATED, "现场检查未发现违法排放行为。")
    assert case.status == Status.RESULT_REPORTED
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Evidence)
                             .where(Evidence.kind == EvidenceKind.COMPLAINT_SUBSTANTIATED)) == 0


def test_the_console_records_and_shows_notes_to_the_handler_only(client, db, people, case):
    penalty = _evidence(case.enterprise_id, EvidenceKind.PENALTY, PENALTY_NO, date(2026, 1, 5))
    db.session.commit()
    login_as(client, people["handler"])
    page = client.get(f"/console/complaints/{case.id}").get_data(as_text=True)
    assert 'name="penalty_evidence_id"' in page and PENALTY_NO in page
    response = client.post(f"/console/complaints/{case.id}/act", data={
        "action": "note", "text": NOTE, "inspection_ref": "涟环检〔2026〕17号", "inspection_on": "2026-01-04",
        "penalty_evidence_id": str(penalty.id)})
    assert response.status_code == 302
    note = db.session.scalar(sa.select(ComplaintNote))
    assert note.penalty_evidence_id == penalty.id and note.inspection_on == date(2026, 1, 4)
    assert NOTE in client.get(f"/console/complaints/{case.id}").get_data(as_text=True)
    bad = client.post(f"/console/complaints/{case.id}/act", data={"action": "note", "text": NOTE,
                                                                  "inspection_ref": "只有编号"})
    assert bad.status_code == 400

    login_as(client, people["colleague"])
    page = client.get(f"/console/complaints/{case.id}").get_data(as_text=True)
    assert NOTE not in page and "investigation-notes" not in page
    assert client.post(f"/console/complaints/{case.id}/act", data={"action": "note", "text": NOTE}).status_code == 403
    login_as(client, people["lead"])
    assert NOTE in client.get(f"/console/complaints/{case.id}").get_data(as_text=True)
