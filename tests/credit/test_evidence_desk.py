"""The regulator's evidence desk at scale (issue 21): server-side paging and filters, bulk confirm or withdraw with
each item checked on its own, and actions the rules forbid right now drawn disabled with the reason (and still
refused by the server). Also the run page's finalise button during the public notice."""
from __future__ import annotations

import html
import re
from datetime import date

import pytest
import sqlalchemy as sa

from portal.audit.models import AuditRecord
from portal.auth.models import Role
from portal.credit import evaluation, evidence_desk, rules, services
from portal.credit.evidence import add_evidence
from portal.credit.models import Evidence, EvidenceKind, EvidenceSource
from portal.core.clock import china_today
from tests.conftest import login_as
from tests.factories import make_enterprise, make_user


@pytest.fixture
def en(client):
    with client.session_transaction() as sess:
        sess["lang"] = "en"
    return client


def _penalty(ent, n: int, recorder, **kw) -> Evidence:
    return add_evidence(enterprise_id=ent.id, kind=kw.pop("kind", EvidenceKind.PENALTY),
                        source=EvidenceSource.REGULATOR, source_ref=f"penalty-doc:desk-{ent.id}-{n}",
                        occurred_on=date(2026, 1, 1 + n % 28), title=f"处罚{n}", verified=False, actor=recorder,
                        document_no=f"淮环罚〔2026〕{n}号", **kw)


@pytest.mark.parametrize("recorded_by, verified, withdrawn, requested_by, role, expected", [
    (2, False, False, None, Role.REGULATOR, {"confirm": None, "withdraw": None}),
    (1, False, False, None, Role.REGULATOR, {"confirm": "own_record", "withdraw": None}),
    (1, False, False, None, Role.REGULATOR_LEAD, {"confirm": None, "withdraw": None}),
    (None, False, False, None, Role.REGULATOR, {"confirm": None, "withdraw": None}),  # a detected finding
    (2, True, False, 1, Role.REGULATOR, {"confirm": "verified", "withdraw": "own_withdrawal"}),
    (2, True, False, 2, Role.REGULATOR, {"confirm": "verified", "withdraw": None}),
    (2, True, True, None, Role.REGULATOR, {"confirm": "withdrawn", "withdraw": "withdrawn"}),
])
def test_which_desk_actions_a_regulator_may_take_now(recorded_by, verified, withdrawn, requested_by, role, expected):
    assert rules.evidence_action_refusals(role, 1, "3208", "320826", recorded_by_id=recorded_by,
                                          is_verified=verified, is_withdrawn=withdrawn,
                                          withdrawal_requested_by_id=requested_by) == expected
    assert rules.evidence_action_refusals(role, 1, "3201", "320826", recorded_by_id=recorded_by,
                                          is_verified=verified, is_withdrawn=withdrawn,
                                          withdrawal_requested_by_id=requested_by)["confirm"] == "jurisdiction"


def test_the_desk_pages_and_filters_on_the_server(db, en):
    ent, other = make_enterprise(), make_enterprise()
    far = make_enterprise(region_code="210100")
    recorder = make_user(Role.REGULATOR)
    for n in range(evidence_desk.PER_PAGE + 5):
        _penalty(ent, n, recorder)
    _penalty(other, 900, recorder, kind=EvidenceKind.INSPECTION_FINDING)
    _penalty(far, 901, recorder)
    reg = make_user(Role.REGULATOR)
    db.session.commit()
    login_as(en, reg)
    first = en.get("/credit/regulator/evidence")
    assert first.status_code == 200 and first.headers["Cache-Control"] == "no-store"
    body = first.get_data(as_text=True)
    assert "56 records; page 1 of 2." in body and body.count('name="ids"') == evidence_desk.PER_PAGE
    assert "淮环罚〔2026〕901号" not in body  # another jurisdiction
    second = en.get("/credit/regulator/evidence?page=2").get_data(as_text=True)
    assert second.count('name="ids"') == 6 and 'rel="prev"' in second
    by_kind = en.get("/credit/regulator/evidence?kind=inspection_finding").get_data(as_text=True)
    assert "1 records; page 1 of 1." in by_kind and "淮环罚〔2026〕900号" in by_kind
    by_ent = en.get(f"/credit/regulator/evidence?enterprise={other.uscc}").get_data(as_text=True)
    assert "淮环罚〔2026〕900号" in by_ent and "淮环罚〔2026〕1号" not in by_ent
    from sqlalchemy import event

    from portal.extensions import db as _db

    seen = []
    listener = lambda *a, **k: seen.append(1)  # noqa: E731
    event.listen(_db.engine, "before_cursor_execute", listener)
    try:
        en.get("/credit/regulator/evidence")
    finally:
        event.remove(_db.engine, "before_cursor_execute", listener)
    assert len(seen) < 15  # a page of 50 costs a fixed number of queries, not one per row
    bad = en.get("/credit/regulator/evidence?status=nonsense&kind=nope").get_data(as_text=True)
    assert "Choose one of the listed states." in bad and "Choose one of the listed kinds." in bad


def test_own_record_is_drawn_disabled_with_the_reason_and_refused_by_the_server(db, en):
    ent = make_enterprise()
    reg = make_user(Role.REGULATOR)
    mine = _penalty(ent, 1, reg)
    db.session.commit()
    login_as(en, reg)
    body = en.get("/credit/regulator/evidence").get_data(as_text=True)
    button = re.search(rf'action="/credit/regulator/evidence/{mine.id}/confirm".*?</form>', body, re.S).group(0)
    assert "disabled" in button and "another regulator must confirm it" in html.unescape(button)
    response = en.post(f"/credit/regulator/evidence/{mine.id}/confirm")
    assert response.status_code == 403  # NotAllowed, as before the button was drawn disabled
    db.session.refresh(mine)
    assert not mine.is_verified


def test_bulk_confirm_does_the_allowed_ones_and_lists_the_refused_with_why(db, en):
    ent = make_enterprise()
    reg, colleague = make_user(Role.REGULATOR), make_user(Role.REGULATOR)
    theirs = [_penalty(ent, n, colleague) for n in range(3)]
    mine = _penalty(ent, 10, reg)
    far = _penalty(make_enterprise(region_code="210100"), 11, colleague)
    db.session.commit()
    login_as(en, reg)
    ids = [e.id for e in theirs] + [mine.id, far.id]
    response = en.post("/credit/regulator/evidence/bulk", data={"ids": ids, "action": "confirm",
                                                                "back": "/credit/regulator/evidence?status=open"})
    assert response.status_code == 302 and response.headers["Location"] == "/credit/regulator/evidence?status=open"
    page = en.get("/credit/regulator/evidence").get_data(as_text=True)
    assert "Done: 3 records." in page
    assert f"Record {mine.id}: Another regulator must confirm evidence you recorded yourself." in html.unescape(page)
    assert f"Record {far.id}: No such record in your jurisdiction." in page
    verified = dict(db.session.execute(sa.select(Evidence.id, Evidence.is_verified).where(Evidence.id.in_(ids))).all())
    assert [verified[e.id] for e in theirs] == [True, True, True] and not verified[mine.id] and not verified[far.id]
    audited = db.session.scalar(sa.select(sa.func.count()).select_from(AuditRecord)
                                .where(AuditRecord.action == "evidence.verify"))
    assert audited == 3


def test_bulk_withdraw_needs_a_reason_and_changes_nothing_without_one(db, en):
    ent = make_enterprise()
    reg = make_user(Role.REGULATOR)
    ev = _penalty(ent, 1, reg)
    db.session.commit()
    login_as(en, reg)
    en.post("/credit/regulator/evidence/bulk", data={"ids": [ev.id], "action": "withdraw", "reason": " "})
    db.session.refresh(ev)
    assert ev.withdrawn_at is None
    en.post("/credit/regulator/evidence/bulk", data={"ids": [ev.id], "action": "withdraw", "reason": "决定已撤销"})
    db.session.refresh(ev)
    assert ev.withdrawn_at is not None and ev.withdrawn_reason == "决定已撤销"


def test_finalise_is_disabled_with_the_reason_while_the_notice_runs(db, en):
    services.seed_schemes()
    ent = make_enterprise()
    lead = make_user(Role.REGULATOR_LEAD)
    db.session.commit()
    run = evaluation.compute_run(china_today().year - 1, "3208", lead)
    evaluation.start_notice(run, lead, 15)
    db.session.commit()
    login_as(en, lead)
    body = en.get(f"/credit/regulator/runs/{run.id}").get_data(as_text=True)
    form = re.search(r'action="/credit/regulator/runs/\d+/finalise".*?</form>', body, re.S).group(0)
    assert "disabled" in form and "The public notice runs until" in form
    en.post(f"/credit/regulator/runs/{run.id}/finalise")
    db.session.refresh(run)
    assert run.status.value == "public_notice"
    assert ent  # the enterprise evaluated
