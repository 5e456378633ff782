"""End to end in Debian's Chromium: log in, search two Chinese characters, open an enterprise page."""
from __future__ import annotations

import re

import pytest

from portal.auth.models import Role
from tests.browser.helpers import log_in
from tests.factories import make_enterprise, make_limit, make_outlet, make_permit, make_user

pytestmark = pytest.mark.browser


def _seed(db):
    ent = make_enterprise(name="涟水华能精细化工有限公司")
    make_enterprise(name="淮安清源污水处理有限公司")
    permit = make_permit(ent)
    make_limit(make_outlet(ent, "DW001", permit), "w01018", "100")
    make_user(Role.REGULATOR, username="huaian_reg", display_name="淮安监管员")
    db.session.commit()
    return ent, permit


def test_log_in_search_two_chinese_characters_and_open_the_enterprise_page(db, live_server, page):
    ent, permit = _seed(db)
    log_in(page, live_server, "huaian_reg")  # password, then the second factor
    assert "淮安监管员" in page.inner_text("header")

    page.goto(f"{live_server}/")
    page.fill("input[name=q]", "华能")
    page.press("input[name=q]", "Enter")
    page.wait_for_load_state()
    results = page.locator(f"a[href='/enterprises/{ent.uscc}']")
    assert results.count() >= 1
    assert "污水处理" not in page.inner_text("main")
    results.first.click()
    page.wait_for_load_state()
    assert re.search(rf"/enterprises/{ent.uscc}$", page.url)
    body = page.inner_text("main")
    assert ent.name in body and ent.uscc in body and permit.permit_no in body and "DW001" in body
    assert page.console_errors == []


def test_the_public_pages_fit_a_phone_screen_in_english(db, live_server, browser):
    ent, _ = _seed(db)
    context = browser.new_context(locale="en-US", viewport={"width": 375, "height": 740})
    phone = context.new_page()
    errors = []
    phone.on("pageerror", lambda exc: errors.append(str(exc)))
    phone.goto(f"{live_server}/lang/en?next=/enterprises/{ent.uscc}")
    assert "Enterprise Environmental Credit and Disclosure Portal" in phone.inner_text("header")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 375 + 1, f"page is {width}px wide on a 375px screen"
    context.close()
    assert errors == []
