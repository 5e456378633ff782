"""Each role's home and the phone complaint form in Debian's Chromium (issue 21): the login lands on the role's
work, the page fits a 390 px phone, the counts link to their lists; the complaint form keeps the photo across a
validation error and shows every error at once; axe-core finds nothing serious or critical, in Chinese and English,
on a desktop and a phone."""
from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from PIL import Image

from portal.auth.models import Role
from portal.core.clock import china_today
from portal.credit.evidence import add_evidence
from portal.credit.models import EvidenceKind, EvidenceSource
from portal.disclosures.models import Obligation, ObligationKind, ObligationStatus
from tests.browser.helpers import log_in
from tests.browser.test_accessibility import _violations
from tests.factories import ensure_reference, make_complaint, make_enterprise, make_incident, make_user

pytestmark = pytest.mark.browser
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1366, "height": 900}}


@pytest.fixture
def world(db):
    ent = make_enterprise(name="涟水华能精细化工股份有限公司")
    db.session.add(Obligation(ref=f"annual:{ent.id}:2025", enterprise_id=ent.id, kind=ObligationKind.ANNUAL,
                              year=2025, due_on=china_today() + timedelta(days=20), status=ObligationStatus.PENDING))
    make_incident(ent, confirmed=False)
    c, _code = make_complaint(ent)
    c.accept_due = china_today() - timedelta(days=1)
    recorder = make_user(Role.REGULATOR, username="home_recorder")
    add_evidence(enterprise_id=ent.id, kind=EvidenceKind.PENALTY, source=EvidenceSource.REGULATOR,
                 source_ref="penalty-doc:browser-1", occurred_on=date(2026, 10, 1), title="行政处罚",
                 verified=False, actor=recorder, document_no="淮环罚〔2026〕7号")
    make_user(Role.ENTERPRISE_STAFF, username="home_staff", enterprise=ent)
    make_user(Role.REGULATOR, username="home_regulator")
    make_user(Role.REGULATOR_LEAD, username="home_lead")
    make_user(Role.ADMIN, username="home_admin")
    db.session.commit()
    return ent


def _fits(page):
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"{page.url} is {width[0]}px wide on a {width[1]}px screen"


HEADINGS = {"zh": "我的工作", "en": "My work"}
FIRST_SECTION = {"home_staff": ("依法披露", "Disclosure"), "home_regulator": ("投诉（按办理时限）", "Complaints by deadline"),
                 "home_lead": ("待您审批", "Approvals waiting for you"), "home_admin": ("账号管理", "Accounts")}


@pytest.mark.parametrize("username", ["home_staff", "home_regulator", "home_lead", "home_admin"])
@pytest.mark.parametrize("lang, device", [("zh", "desktop"), ("en", "phone")])
def test_each_role_lands_on_its_home(world, live_server, browser, username, lang, device):
    context = browser.new_context(locale="zh-CN" if lang == "zh" else "en-US", bypass_csp=True,
                                  **(PHONE if device == "phone" else DESKTOP))
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(f"{live_server}/?lang={lang}")
        log_in(page, live_server, username)
        assert page.url.endswith("/home"), page.url
        page.goto(f"{live_server}/home?lang={lang}")  # the login starts a fresh session
        assert page.locator("h1").inner_text() == HEADINGS[lang]
        assert page.locator(".home-section h2").first.inner_text() == FIRST_SECTION[username][0 if lang == "zh" else 1]
        if device == "phone":
            _fits(page)
        assert _violations(page) == []
        first = page.locator(".home-items a").first
        with page.expect_navigation():
            first.click()
        assert page.url.startswith(live_server) and errors == []
    finally:
        context.close()


@pytest.mark.parametrize("lang, device", [("zh", "phone"), ("en", "desktop"), ("en", "phone"), ("zh", "desktop")])
def test_the_complaint_form_keeps_the_photo_and_shows_every_error_at_once(db, live_server, browser, tmp_path, lang,
                                                                          device):
    ensure_reference()
    db.session.commit()
    photo = tmp_path / "river.jpg"
    buf = io.BytesIO()
    Image.new("RGB", (80, 60), "green").save(buf, format="JPEG")
    photo.write_bytes(buf.getvalue())
    context = browser.new_context(locale="zh-CN" if lang == "zh" else "en-US", bypass_csp=True,
                                  **(PHONE if device == "phone" else DESKTOP))
    page = context.new_page()
    try:
        page.goto(f"{live_server}/complaints/new?lang={lang}")
        page.fill("#reported_name", "河边小作坊")
        page.fill("#description", "短")  # too short, and no category, address or district: all at once
        page.set_input_files("#photos", str(photo))
        with page.expect_navigation():
            page.locator("form.complaint-form [type=submit]").click()
        for field in ("category", "reported_address", "region_code", "description"):
            assert page.locator(f"#{field}-error").count() == 1, field
        assert page.locator(".kept-files").inner_text().count("river.jpg") == 1
        if device == "phone":
            _fits(page)
        assert _violations(page) == []
        page.check("input[name=category][value=water]")
        page.fill("#reported_address", "涟水县某村河边")
        page.select_option("#region_code", "320826")
        page.fill("#description", "夜间有黑色污水从暗管排入河道，气味刺鼻。")
        with page.expect_navigation():
            page.locator("form.complaint-form [type=submit]").click()
        assert page.url.endswith("/complaints/receipt"), page.url
    finally:
        context.close()
    from portal.complaints.models import Complaint
    from portal.extensions import db as _db

    _db.session.expire_all()
    newest = _db.session.scalars(_db.select(Complaint).order_by(Complaint.id.desc())).first()
    assert len(newest.attachments) == 1


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_evidence_desk_has_no_serious_violations_and_fits_a_phone(world, live_server, browser, lang):
    context = browser.new_context(locale="zh-CN" if lang == "zh" else "en-US", bypass_csp=True, **PHONE)
    page = context.new_page()
    try:
        page.goto(f"{live_server}/?lang={lang}")
        log_in(page, live_server, "home_recorder")
        page.goto(f"{live_server}/credit/regulator/evidence?status=unconfirmed&lang={lang}")
        assert page.locator("button[disabled][aria-describedby^=why-c]").count() == 1  # own record
        assert _violations(page) == []
    finally:
        context.close()
