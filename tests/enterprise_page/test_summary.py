"""The public enterprise page opens with the verdict (issue 21): standing, 环保码, lists, open incidents, the last
disclosure and the 12-quarter grid, before any detail; the summary PDF says the same."""
from __future__ import annotations

import re
import shutil
import subprocess
from datetime import datetime, timedelta, timezone

import pytest
from flask import url_for

from portal.auth.models import Role
from portal.core.clock import china_today
from portal.credit import services as credit
from portal.credit.evidence import add_evidence
from portal.credit.models import CreditListEntry, EvidenceKind, EvidenceSource, ListKind, ListStatus
from portal.disclosures import services as disclosures
from portal.monitoring.models import Basis, ExceedanceIncident, IncidentState
from tests.disclosures.helpers import valid_sections
from tests.factories import (DEFAULT_PASSWORD, make_enterprise, make_limit, make_outlet, make_permit, make_user,
                             totp_code)

needs_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")


@pytest.fixture
def world(db):
    credit.seed_schemes()
    never = make_enterprise(name="从未评价化工有限公司")
    graded = make_enterprise(name="动态扣分化工有限公司")
    outlet = make_outlet(graded, "DW001", make_permit(graded))
    make_limit(outlet, "w01018", "100")
    db.session.flush()
    for n in (1, 2):
        add_evidence(enterprise_id=graded.id, kind=EvidenceKind.PENALTY, source=EvidenceSource.REGULATOR,
                     source_ref=f"fine:{n}", occurred_on=china_today() - timedelta(days=40 + n), title=f"罚款{n}",
                     verified=True, amount_yuan=20000, document_no=f"淮环罚〔2026〕{n}号", authority="淮安市生态环境局")
    today = china_today()
    db.session.add(CreditListEntry(enterprise_id=graded.id, kind=ListKind.BLACK, status=ListStatus.LISTED,
                                   basis="veto", reason="一票否决事项", listed_on=today - timedelta(days=10),
                                   max_until=today + timedelta(days=355)))
    for day, state in ((1, IncidentState.OPEN), (2, IncidentState.OPEN), (3, IncidentState.CLOSED)):
        db.session.add(ExceedanceIncident(enterprise_id=graded.id, outlet_id=outlet.id, pollutant_code="w01018",
                                          basis=Basis.DAILY_MEAN, value=150.0, limit_value=100.0, multiple=0.5,
                                          period_start=datetime(2026, 11, day, tzinfo=timezone.utc), state=state))
    staff = make_user(Role.ENTERPRISE_STAFF, enterprise=graded)
    signatory = make_user(Role.ENTERPRISE_SIGNATORY, enterprise=graded, display_name="张签署")
    draft = disclosures.create_annual_draft(staff, graded, 2025)
    draft.sections = valid_sections(graded.uscc)
    db.session.flush()
    report = disclosures.submit_annual(signatory, draft, DEFAULT_PASSWORD, [],
                                       now=datetime(2026, 3, 1, 2, tzinfo=timezone.utc), code=totp_code(signatory))
    db.session.commit()
    return {"never": never, "graded": graded, "report": report}


def _verdict(html: str) -> str:
    start = html.index('id="verdict"')
    return html[start:html.index("</section>", html.index('id="compliance"'))]


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_a_never_evaluated_enterprise_opens_with_not_evaluated_and_nothing_open(client, world):
    html = client.get(f"/enterprises/{world['never'].uscc}?lang=zh").get_data(as_text=True)
    verdict = _text(_verdict(html))
    assert "概要" in verdict and "未评价" in verdict and "没有信用等级" in verdict
    assert "绿码" in verdict  # the 环保码 of a clean, never-evaluated enterprise
    assert "未列入严重失信名单" in verdict and "无未处理事件" in verdict
    assert "本平台尚未公开该企业的披露报告" in verdict
    assert "近12个季度合规情况" in verdict  # the grid is part of the verdict


def test_the_verdict_states_grade_code_lists_incidents_and_last_disclosure_before_any_detail(client, world):
    ent = world["graded"]
    html = client.get(f"/enterprises/{ent.uscc}?lang=zh").get_data(as_text=True)
    verdict = _text(_verdict(html))
    assert "黄色（警示）" in verdict and "得分 3 / 12" in verdict and "记分台账" in verdict
    assert "红码" in verdict  # black-listed: red code, with its reason beside it
    assert "严重失信名单" in verdict and "水环境" not in verdict
    assert "2 起未处理的超标事件" in verdict
    assert "2025年度报告" in verdict and "已公开" in verdict
    assert f"/disclosures/{world['report'].sha256}" in _verdict(html)
    # Details come after the verdict, folded.
    assert html.index('id="verdict"') < html.index('id="monitoring"') < html.index('id="credit"')
    assert re.search(r'<details class="page-section" id="credit">', html)


def test_the_verdict_is_complete_in_english(client, world):
    verdict = _text(_verdict(client.get(f"/enterprises/{world['graded'].uscc}?lang=en").get_data(as_text=True)))
    assert "At a glance" in verdict and "Red code" in verdict and "Black list" in verdict
    assert "2 open incidents" in verdict and "Annual report 2025" in verdict
    never = _text(_verdict(client.get(f"/enterprises/{world['never'].uscc}?lang=en").get_data(as_text=True)))
    assert "Not evaluated" in never and "None open" in never


def test_the_old_endpoint_name_still_builds_the_page_url(app, client, world):
    with app.test_request_context():
        assert url_for("enterprises.public", uscc="X") == url_for("enterprise_page.public", uscc="X") \
            == "/enterprises/X"
    assert client.get(f"/enterprises/{world['never'].uscc.lower()}").status_code == 301


@needs_poppler
def test_the_summary_pdf_carries_the_same_verdict(client, world, tmp_path):
    pdf = client.get(f"/enterprises/{world['graded'].uscc}/summary.pdf?lang=zh").data
    (tmp_path / "s.pdf").write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(tmp_path / "s.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout
    flat = text.replace("\n", "")
    assert "概要" in text and "黄色（警示）" in flat and "红码" in flat and "严重失信名单" in flat
    assert "2 起未处理的超标事件" in flat and "近12个季度合规情况" in flat and "行政处罚" in flat
    never = client.get(f"/enterprises/{world['never'].uscc}/summary.pdf?lang=zh").data
    (tmp_path / "n.pdf").write_bytes(never)
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(tmp_path / "n.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "未评价" in text and "绿码" in text


def test_the_summary_digest_changes_with_the_verdict(app, db, world):
    from portal.reports import services

    ent = world["never"]
    with app.test_request_context():
        before = services.enterprise_summary_context(ent)["digest"]
        db.session.add(CreditListEntry(enterprise_id=ent.id, kind=ListKind.WHITE, status=ListStatus.LISTED,
                                       basis="proposal", reason="守法记录良好", listed_on=china_today()))
        db.session.flush()
        after = services.enterprise_summary_context(ent)["digest"]
    assert before != after
