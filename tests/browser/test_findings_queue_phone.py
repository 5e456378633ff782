"""The regulator's findings queue on a phone (390x844): counts by kind, a filter, selecting findings and a bulk
decision with a reason; a second regulator confirms, and only then does the finding count."""
from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from portal.auth.models import Role
from portal.credit import services
from portal.credit.evidence import add_evidence
from portal.credit.models import Evidence, EvidenceKind, EvidenceSource, LedgerEntry
from tests.browser.helpers import log_in
from tests.factories import make_enterprise, make_user

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


def _seed(db):
    services.seed_schemes()
    ent = make_enterprise(name="涟水华能精细化工股份有限公司第二生产基地")
    make_user(Role.REGULATOR, username="reg_first")
    make_user(Role.REGULATOR, username="reg_second")
    for i in range(3):
        add_evidence(enterprise_id=ent.id, kind=EvidenceKind.MONITORING_EXCEEDANCE, source=EvidenceSource.MONITORING,
                     source_ref=f"exceedance:{i}", occurred_on=date(2026, 11, 2 + i), title=f"w01018 日均值超标{i}",
                     verified=False, finding=True)
    add_evidence(enterprise_id=ent.id, kind=EvidenceKind.MONITORING_LATE, source=EvidenceSource.MONITORING,
                 source_ref="manual-late:1", occurred_on=date(2026, 11, 20), title="手工监测结果逾期公开",
                 verified=False, finding=True)
    db.session.commit()
    return ent


def _log_in(phone, live_server, username):
    log_in(phone, live_server, username)  # password, then the regulator's second factor


def _fits(phone):
    width = phone.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"the queue is {width[0]}px wide on a {width[1]}px screen"


def test_a_regulator_walks_the_findings_queue_on_a_phone(db, live_server, browser):
    _seed(db)
    context = browser.new_context(locale="zh-CN", viewport=PHONE, is_mobile=True, has_touch=True)
    phone = context.new_page()
    errors = []
    phone.on("pageerror", lambda exc: errors.append(str(exc)))
    _log_in(phone, live_server, "reg_first")
    phone.goto(f"{live_server}/credit/regulator/findings")
    main = phone.locator("main")
    assert "待确认的系统发现" in main.inner_text()
    counts = phone.locator("#counts-h + ul").inner_text()
    assert "3" in counts and "1" in counts
    _fits(phone)
    phone.select_option("#f-kind", "monitoring_exceedance")
    phone.locator("form[role=search] [type=submit]").click()
    phone.wait_for_load_state()
    assert "逾期公开" not in phone.locator("ul.results").inner_text()
    boxes = phone.locator("input[name=ids]")
    assert boxes.count() == 3
    boxes.nth(0).check()
    boxes.nth(1).check()
    phone.select_option("#action", "confirm")
    phone.fill("#reason", "现场核实，超标属实")
    phone.locator("#bulk fieldset [type=submit]").click()
    phone.wait_for_load_state()
    assert "已完成" in main.inner_text()
    assert "kind=monitoring_exceedance" in phone.url  # back to the same filtered page
    _fits(phone)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LedgerEntry)) == 0  # one person: nothing counts

    context.close()
    context = browser.new_context(locale="zh-CN", viewport=PHONE, is_mobile=True, has_touch=True)
    phone = context.new_page()  # the second regulator, on their own phone
    phone.on("pageerror", lambda exc: errors.append(str(exc)))
    main = phone.locator("main")
    _log_in(phone, live_server, "reg_second")
    phone.goto(f"{live_server}/credit/regulator/findings?status=recorded")
    assert phone.locator("input[name=ids]").count() == 2
    phone.locator("input[name=ids]").nth(0).check()
    phone.select_option("#action", "confirm")
    phone.fill("#reason", "复核同意")
    phone.locator("#bulk fieldset [type=submit]").click()
    phone.wait_for_load_state()
    assert "已完成" in main.inner_text()
    db.session.expire_all()
    confirmed = db.session.scalars(sa.select(Evidence).where(Evidence.is_verified.is_(True))).all()
    assert len(confirmed) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LedgerEntry)) == 1
    context.close()
    assert errors == []
