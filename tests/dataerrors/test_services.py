"""Data-error services: intake with encrypted contact and a due date, the jurisdiction queue, audited decisions."""
import pytest
import sqlalchemy as sa

from portal.audit.models import AuditRecord
from portal.auth.models import Role
from portal.complaints.crypto import decrypt_identity
from portal.core.clock import china_today
from portal.dataerrors import services
from portal.dataerrors.models import DataErrorEvent, DataErrorReport, Section, Status
from portal.errors import InvalidTransition, NotFound, ValidationFailed
from portal.workdays.services import add_working_days
from tests.factories import make_enterprise, make_user

TEXT = "排污许可证有效期写错了，应为2030年。"


@pytest.fixture
def ent(db):
    return make_enterprise(region_code="320826")


def _audits(action):
    from portal.extensions import db

    return db.session.scalars(sa.select(AuditRecord).where(AuditRecord.action == action)).all()


def test_a_report_gets_a_due_date_an_event_an_audit_and_an_encrypted_contact(db, ent):
    report = services.submit_report(ent, Section.PERMITS, TEXT, contact="13812345678", contact_name="李四",
                                    submission_key="k1")
    assert report.status is Status.RECEIVED and report.region_code == "320826"
    assert report.due_on == add_working_days(china_today(), 15)
    assert "13812345678" not in report.contact_token and "李四" not in report.contact_token
    assert decrypt_identity(report.contact_token) == {"name": "李四", "phone": "13812345678", "email": "",
                                                      "id_no": ""}
    assert [e.status for e in report.events] == [Status.RECEIVED]
    (audit,) = _audits("dataerror.submit")
    assert audit.actor_label == "public" and audit.enterprise_id == ent.id
    assert "contact_token" not in audit.after and "tracking_code" not in audit.after
    assert services.existing_submission("k1") is report


def test_no_contact_stores_nothing_and_bad_input_names_the_field(db, ent):
    assert services.submit_report(ent, Section.OTHER, TEXT).contact_token == ""
    with pytest.raises(ValidationFailed) as exc:
        services.submit_report(ent, Section.OTHER, "太短", contact="abc")
    assert set(exc.value.errors) == {"description", "contact"}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(DataErrorReport)) == 1


def test_the_queue_holds_the_jurisdictions_open_reports_only(db, ent):
    far_ent = make_enterprise(region_code="210100")
    mine = services.submit_report(ent, Section.CREDIT, TEXT)
    services.submit_report(far_ent, Section.CREDIT, TEXT)
    done = services.submit_report(ent, Section.IDENTITY, TEXT)
    reg = make_user(Role.REGULATOR, jurisdiction_code="3208")
    services.change_status(done, Status.REJECTED, reg, "数据与登记机关一致。")
    assert services.queue(reg) == [mine]
    assert services.queue(reg, status=Status.REJECTED) == [done]
    assert services.queue(make_user(Role.REGULATOR, jurisdiction_code="3301")) == []
    with pytest.raises(NotFound):
        services.get_for_handler(make_user(Role.REGULATOR, jurisdiction_code="2101"), mine.id)


def test_acknowledge_then_correct_is_audited_with_before_and_after(db, ent):
    report = services.submit_report(ent, Section.PERMITS, TEXT)
    reg = make_user(Role.REGULATOR, jurisdiction_code="3208")
    services.change_status(report, Status.ACKNOWLEDGED, reg)
    services.change_status(report, Status.CORRECTED, reg, "已按许可证正本更正有效期。")
    assert report.status is Status.CORRECTED and report.resolution_note == "已按许可证正本更正有效期。"
    assert report.acknowledged_at is not None and report.resolved_at is not None
    assert [e.status for e in db.session.scalars(sa.select(DataErrorEvent).order_by(DataErrorEvent.id))] == [
        Status.RECEIVED, Status.ACKNOWLEDGED, Status.CORRECTED]
    (ack,) = _audits("dataerror.acknowledged")
    (fix,) = _audits("dataerror.corrected")
    assert ack.before["status"] == "received" and ack.after["status"] == "acknowledged"
    assert fix.before["status"] == "acknowledged" and fix.after["status"] == "corrected"
    assert fix.actor_id == reg.id


def test_decisions_need_a_reason_a_valid_state_and_the_right_regulator(db, ent):
    report = services.submit_report(ent, Section.PERMITS, TEXT)
    reg = make_user(Role.REGULATOR, jurisdiction_code="3208")
    with pytest.raises(ValidationFailed) as exc:
        services.change_status(report, Status.REJECTED, reg, " ")
    assert "note" in exc.value.errors
    with pytest.raises(NotFound):
        services.change_status(report, Status.ACKNOWLEDGED, make_user(Role.REGULATOR, jurisdiction_code="2101"))
    services.change_status(report, Status.REJECTED, reg, "登记信息无误。")
    with pytest.raises(InvalidTransition):
        services.change_status(report, Status.CORRECTED, reg, "又改了一次。")
    assert len(_audits("dataerror.rejected")) == 1 and _audits("dataerror.corrected") == []


def test_only_handlers_read_the_contact(db, ent):
    report = services.submit_report(ent, Section.PERMITS, TEXT, contact="li@example.cn")
    assert services.contact_of(make_user(Role.REGULATOR, jurisdiction_code="3208"), report)["email"] == "li@example.cn"
    assert services.contact_of(make_user(Role.REGULATOR, jurisdiction_code="2101"), report) == {}
    assert services.find_by_code(report.tracking_code.lower()) is report
    with pytest.raises(NotFound):
        services.find_by_code("ABCD")
