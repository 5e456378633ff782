"""End to end in Debian's Chromium: a proposed credit result on public notice, the enterprise objects on a phone, the
regulator answers in writing, the enterprise reads the answer; the public page shows the ledger rule by rule."""
from __future__ import annotations

from datetime import date

import pytest

from portal.auth.models import Role
from portal.core.clock import china_today
from portal.credit import evaluation, services
from portal.credit.evidence import add_evidence
from portal.credit.models import EvidenceKind, EvidenceSource
from tests.browser.helpers import log_in
from tests.factories import make_enterprise, make_user

pytestmark = pytest.mark.browser


def _login(page, base, username):
    log_in(page, base, username)  # password, then the second factor where the role has one


def test_an_objection_from_the_phone_is_answered_in_writing(db, live_server, browser):
    services.seed_schemes()
    ent = make_enterprise(name="涟水信用测试化工有限公司")
    regulator = make_user(Role.REGULATOR, username="credit_reg", jurisdiction_code="3208")
    make_user(Role.ENTERPRISE_STAFF, username="credit_owner", enterprise=ent)
    year = china_today().year - 1
    add_evidence(enterprise_id=ent.id, kind=EvidenceKind.PENALTY, source=EvidenceSource.REGULATOR,
                 source_ref="browser:1", occurred_on=date(year, 12, 30), title="废水超标排放罚款", verified=True,
                 document_no="淮环罚〔%d〕77号" % year, authority="淮安市生态环境局", amount_yuan=60000)
    run = evaluation.compute_run(year, "3208", regulator)
    evaluation.start_notice(run, regulator, 15)
    db.session.commit()

    phone = browser.new_context(locale="zh-CN", viewport={"width": 375, "height": 740}).new_page()
    errors = []
    phone.on("pageerror", lambda exc: errors.append(str(exc)))
    phone.goto(f"{live_server}/enterprises/{ent.uscc}")
    phone.locator("#credit > summary").click()  # the credit details are folded below the verdict
    ledger = phone.inner_text("section.credit-section")
    assert "罚款并责令改正" in ledger and "-3" in ledger and "淮环罚" in ledger
    assert phone.evaluate("document.documentElement.scrollWidth") <= 376

    _login(phone, live_server, "credit_owner")
    phone.goto(f"{live_server}/credit/my")
    phone.locator("a:text-is('对此结果提出异议')").click()
    phone.wait_for_load_state()
    phone.fill("textarea[name=grounds]", "该罚款决定已于复议中撤销。")
    phone.fill("textarea[name=supporting_evidence]", "淮安市人民政府行政复议决定书 淮复〔2026〕5号")
    phone.locator("main form button[type=submit]").click()
    phone.wait_for_load_state()
    assert "异议已提交" in phone.inner_text("main")

    officer = browser.new_context(locale="zh-CN").new_page()
    _login(officer, live_server, "credit_reg")
    officer.goto(f"{live_server}/credit/regulator/runs/{run.id}")
    assert "该罚款决定已于复议中撤销" in officer.inner_text("main")
    officer.select_option("main form select[name=decision]", "dismiss")
    officer.fill("main form textarea[name=reply]", "经核实，复议维持原处罚决定，异议不成立。")
    officer.locator("button:text-is('发送答复')").click()
    officer.wait_for_load_state()
    assert "异议已答复" in officer.inner_text("main")

    phone.goto(f"{live_server}/credit/my")
    mine = phone.inner_text("main")
    assert "不予支持" in mine and "复议维持原处罚决定" in mine
    assert errors == []
