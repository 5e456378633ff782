"""Complaint services: intake, tracking, the handling workflow, extensions, merging, evidence, escalation."""
from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from portal.auth.models import Role
from portal.complaints import services, statistics
from portal.complaints.models import Complaint, Findings, RejectionCode, Status
from portal.credit.models import Evidence, EvidenceKind
from portal.errors import InvalidTransition, NotAllowed, NotFound, ValidationFailed
from portal.mail.models import OutboxMessage
from portal.mail.services import body_of, recipient
from tests.factories import make_complaint, make_enterprise, make_user

REPORTER = {"name": "李四", "phone": "13800000000", "email": "lisi@example.cn", "id_no": ""}


@pytest.fixture
def officers(db):
    return {"handler": make_user(Role.REGULATOR, jurisdiction_code="3208"),
            "county": make_user(Role.REGULATOR, jurisdiction_code="320826"),
            "lead": make_user(Role.REGULATOR_LEAD, jurisdiction_code="3208"),
            "foreign": make_user(Role.REGULATOR, jurisdiction_code="2101")}


def _mails(to: str) -> list[SimpleNamespace]:
    """Outbox messages to this address, opened as the mail job would (reporter mails are stored sealed)."""
    rows = services.db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id))
    return [SimpleNamespace(subject=m.subject, body_text=body_of(m), row=m) for m in rows if recipient(m) == to]


def test_intake_stores_the_reporter_encrypted_and_the_code_hashed(db):
    c, code = make_complaint(identity=REPORTER)
    raw = db.session.execute(sa.text("SELECT reporter_token, query_code_hash FROM complaints")).one()
    assert "李四" not in raw[0] and "13800000000" not in raw[0] and raw[0]
    assert code not in raw[1]
    assert c.case_no.startswith("12369-") and c.case_no.endswith(f"{c.id:06d}")
    assert c.status == Status.RECEIVED and c.accept_due > c.received_at.date()
    (mail,) = _mails("lisi@example.cn")
    assert c.case_no in mail.body_text and code[:4] in mail.body_text


def test_a_registered_enterprise_gives_the_district_and_location(db):
    ent = make_enterprise(latitude=33.78, longitude=119.26)
    c, _ = make_complaint(ent)
    assert c.enterprise_id == ent.id and c.region_code == ent.region_code
    assert (c.latitude, c.longitude) == (pytest.approx(33.78), pytest.approx(119.26))


@pytest.mark.parametrize("changes, field", [
    ({"description": "短"}, "description"),
    ({"reported_name": ""}, "reported_name"),
    ({"latitude": 33.1}, "latitude"),
    ({"enterprise_uscc": "91320826MA1XXXXXXX"}, "enterprise_uscc"),
])
def test_bad_intake_names_the_field(db, changes, field):
    with pytest.raises(ValidationFailed) as info:
        make_complaint(**changes)
    assert field in info.value.errors


def test_a_named_report_needs_a_phone_or_email(db):
    with pytest.raises(ValidationFailed) as info:
        make_complaint(identity={"name": "李四"})
    assert "phone" in info.value.errors


def test_the_reporter_finds_the_case_only_with_the_right_code(db):
    c, code = make_complaint()
    assert services.find_for_reporter(c.case_no, code.lower()) is c
    with pytest.raises(NotFound):
        services.find_for_reporter(c.case_no, "AAAABBBBCCCC")
    with pytest.raises(NotFound):
        services.find_for_reporter("12369-20260101-999999", code)


def test_the_whole_workflow_from_acceptance_to_rating(db, officers):
    ent = make_enterprise()
    c, _ = make_complaint(ent, identity=REPORTER)
    services.accept_complaint(c, officers["handler"])
    assert c.close_due is not None and c.handler_id == officers["handler"].id
    services.dispatch_complaint(c, officers["handler"], officers["county"].id)
    assert c.status == Status.ASSIGNED and c.assigned_region_code == "320826"
    services.start_investigation(c, officers["county"])
    services.add_note(c, officers["county"], "现场检查：排污口有黑水")
    services.report_result(c, officers["county"], Findings.SUBSTANTIATED, "现场核实超标排放，已立案处罚。")
    evidence = db.session.scalar(sa.select(Evidence).where(Evidence.source_ref == f"complaint:{c.id}"))
    # the handler recorded the finding; a second regulator must confirm it before it scores
    assert evidence.kind == EvidenceKind.COMPLAINT_SUBSTANTIATED and not evidence.is_verified
    assert evidence.recorded_by_id == officers["county"].id
    assert evidence.enterprise_id == ent.id
    services.reply_complaint(c, officers["county"], "经查属实，已责令整改并处罚款。")
    services.rate_satisfaction(c, 4)
    services.close_complaint(c, officers["county"])
    assert c.status == Status.CLOSED and c.satisfaction == 4
    assert [e.kind for e in c.events if e.is_public] == ["received", "accepted", "assigned", "investigating",
                                                         "replied", "rated", "closed"]
    subjects = " ".join(m.subject for m in _mails("lisi@example.cn"))
    assert c.case_no in subjects and len(_mails("lisi@example.cn")) == 3


def test_rating_needs_a_reply_and_happens_once(db, officers):
    c, _ = make_complaint()
    with pytest.raises(InvalidTransition):
        services.rate_satisfaction(c, 5)
    _to_replied(c, officers["handler"])
    services.rate_satisfaction(c, 5)
    with pytest.raises(InvalidTransition):
        services.rate_satisfaction(c, 1)


def _to_replied(c, officer):
    services.accept_complaint(c, officer)
    services.start_investigation(c, officer)
    services.report_result(c, officer, Findings.NOT_SUBSTANTIATED, "现场检查未发现违法排放行为。")
    services.reply_complaint(c, officer, "经现场核查，未发现违法行为。")


def test_a_reporter_may_ask_for_review_within_thirty_days_and_the_case_reopens(db, officers):
    c, _ = make_complaint()
    _to_replied(c, officers["handler"])
    services.request_review(c, "答复与事实不符，夜间仍在排放。")
    assert c.status == Status.REOPENED and c.reopened_count == 1
    services.start_investigation(c, officers["handler"])
    assert c.status == Status.INVESTIGATING


def test_review_after_thirty_days_is_refused(db, officers):
    c, _ = make_complaint()
    _to_replied(c, officers["handler"])
    c.replied_at = c.replied_at - timedelta(days=45)
    with pytest.raises(InvalidTransition):
        services.request_review(c, "答复与事实不符，夜间仍在排放。")


def test_one_extension_approved_by_the_lead_and_told_to_the_reporter(db, officers):
    c, _ = make_complaint(identity=REPORTER)
    services.accept_complaint(c, officers["handler"])
    services.start_investigation(c, officers["handler"])
    services.request_extension(c, officers["handler"], 20, "需要委托第三方监测")
    with pytest.raises(NotAllowed):
        services.decide_extension(c, officers["handler"], approve=True)
    services.decide_extension(c, officers["lead"], approve=True)
    assert c.status == Status.EXTENDED and c.extended_until >= c.close_due + timedelta(days=20)
    assert any("需要委托第三方监测" in m.body_text for m in _mails("lisi@example.cn"))
    with pytest.raises(InvalidTransition):
        services.request_extension(c, officers["handler"], 5, "还需要更多时间")


def test_a_refused_extension_leaves_the_dates_alone(db, officers):
    c, _ = make_complaint()
    services.accept_complaint(c, officers["handler"])
    services.start_investigation(c, officers["handler"])
    services.request_extension(c, officers["handler"], 10, "需要委托第三方监测")
    services.decide_extension(c, officers["lead"], approve=False)
    assert c.extended_until is None and c.status == Status.INVESTIGATING and c.extension_requested_days is None


def test_rejection_needs_a_referral_and_is_final(db, officers):
    c, _ = make_complaint()
    with pytest.raises(ValidationFailed):
        services.reject_complaint(c, officers["handler"], RejectionCode.NOT_COMPETENT, "")
    services.reject_complaint(c, officers["handler"], RejectionCode.NOT_COMPETENT, "请向市场监管部门反映。")
    assert c.status == Status.REJECTED
    with pytest.raises(InvalidTransition):
        services.accept_complaint(c, officers["handler"])


def test_dispatch_only_to_a_unit_covering_the_place_inside_the_jurisdiction(db, officers):
    c, _ = make_complaint()
    services.accept_complaint(c, officers["county"])
    with pytest.raises(ValidationFailed):
        services.dispatch_complaint(c, officers["county"], officers["foreign"].id)
    with pytest.raises(ValidationFailed):  # the county may not dispatch up to the city
        services.dispatch_complaint(c, officers["county"], officers["handler"].id)


def test_duplicates_are_suggested_and_merging_keeps_the_reporter_informed(db, officers):
    ent = make_enterprise()
    first, _ = make_complaint(ent)
    second, _ = make_complaint(ent, identity=REPORTER)
    other, _ = make_complaint(region_code="320803")
    assert services.duplicate_candidates(second) == [first]
    services.accept_complaint(first, officers["handler"])
    services.merge_complaint(second, first, officers["handler"])
    assert second.status == Status.MERGED and second.merged_into_id == first.id
    assert services.tracked_view(second) is first
    services.start_investigation(first, officers["handler"])
    services.report_result(first, officers["handler"], Findings.NOT_SUBSTANTIATED, "现场检查未发现违法排放行为。")
    services.reply_complaint(first, officers["handler"], "经现场核查，未发现违法行为。")
    assert any(second.case_no in m.body_text and "未发现" in m.body_text for m in _mails("lisi@example.cn"))
    assert other not in services.duplicate_candidates(first)


def test_the_queue_shows_only_the_jurisdictions_cases(db, officers):
    mine, _ = make_complaint()
    theirs, _ = make_complaint(region_code="210100")
    assert services.queue(officers["handler"]) == [mine]
    assert services.queue(officers["foreign"]) == [theirs]
    with pytest.raises(NotFound):
        services.get_for_handler(officers["foreign"], mine.id)


def test_only_the_handler_and_the_lead_decrypt_the_reporter(db, officers):
    c, _ = make_complaint(identity=REPORTER)
    services.accept_complaint(c, officers["handler"])
    other = make_user(Role.REGULATOR, jurisdiction_code="3208")
    assert services.reporter_identity(officers["handler"], c)["name"] == "李四"
    assert services.reporter_identity(officers["lead"], c)["phone"] == "13800000000"
    assert services.reporter_identity(other, c) is None
    assert services.reporter_identity(officers["foreign"], c) is None


def test_overdue_cases_escalate_once(db, officers):
    c, _ = make_complaint()
    c.accept_due = c.accept_due - timedelta(days=30)
    officers["lead"].email = "lead@example.cn"
    assert services.escalate_overdue() == 1
    assert services.escalate_overdue() == 0
    assert len(_mails("lead@example.cn")) == 1
    assert [e.kind for e in c.events].count("escalated") == 1


def test_enterprise_counts_cover_twelve_months(db, officers):
    ent = make_enterprise()
    a, _ = make_complaint(ent)
    b, _ = make_complaint(ent)
    old, _ = make_complaint(ent)
    old.received_at = old.received_at - timedelta(days=400)
    services.accept_complaint(a, officers["handler"])
    services.start_investigation(a, officers["handler"])
    services.report_result(a, officers["handler"], Findings.SUBSTANTIATED, "现场核实超标排放，已立案处罚。")
    db.session.flush()
    assert statistics.enterprise_counts(ent.id) == {"received": 2, "accepted": 1, "substantiated": 1}
    assert b.status == Status.RECEIVED


def test_attachments_keep_the_original_and_a_public_copy(db, app):
    c, _ = make_complaint(photo=True)
    (att,) = c.attachments
    root = services.upload_root()
    assert root.exists(att.original_path) and root.exists(att.public_path)
    assert att.kind == "image" and att.content_type == "image/jpeg"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Complaint)) == 1


def test_a_province_dispatches_to_the_city_and_the_city_then_sees_the_case(db, officers):
    province = make_user(Role.REGULATOR, jurisdiction_code="32")
    c, _ = make_complaint()
    services.accept_complaint(c, province)
    services.dispatch_complaint(c, province, officers["handler"].id)
    db.session.flush()
    assert c.assigned_region_code == "3208" and c.handler_id == officers["handler"].id
    assert services.get_for_handler(officers["handler"], c.id) is c


def test_the_complaint_sla_job_runs_the_escalation(db, runner):
    from portal.jobs.registry import JOBS

    assert JOBS["complaint-sla"].func is services.escalate_overdue
    c, _ = make_complaint()
    c.accept_due = c.accept_due - timedelta(days=30)
    db.session.commit()
    result = runner.invoke(args=["jobs", "run", "complaint-sla"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.get(Complaint, c.id).escalated_on is not None


def test_query_codes_survive_a_reporter_key_rotation_and_need_the_key(app, db):
    c, code = make_complaint()
    old_key = app.config["REPORTER_KEY"]
    try:
        app.config["REPORTER_KEY"] = "bmV3LWtleS1mb3Itcm90YXRpb24tdGVzdHMtMzJieXQ=," + old_key
        assert services.find_for_reporter(c.case_no, code) is c
        app.config["REPORTER_KEY"] = "bmV3LWtleS1mb3Itcm90YXRpb24tdGVzdHMtMzJieXQ="
        with pytest.raises(NotFound):
            services.find_for_reporter(c.case_no, code)
    finally:
        app.config["REPORTER_KEY"] = old_key
