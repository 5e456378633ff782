"""The public's main path on a phone: search → results → enterprise page, with the 12-quarter compliance grid; and
the enterprise page as printed (print stylesheet)."""
from __future__ import annotations

import re

import pytest

from portal.core.clock import china_today
from portal.disclosures.models import Obligation, ObligationKind, ObligationStatus
from tests.factories import make_enterprise, make_limit, make_outlet, make_permit

pytestmark = pytest.mark.browser
PHONE = {"width": 375, "height": 740}


def _seed(db):
    ent = make_enterprise(name="涟水华能精细化工有限公司")
    make_enterprise(name="淮安清源污水处理有限公司")
    make_limit(make_outlet(ent, "DW001", make_permit(ent)), "w01018", "100")
    db.session.add(Obligation(ref=f"annual:{ent.id}:phone", enterprise_id=ent.id, kind=ObligationKind.ANNUAL,
                              year=china_today().year - 1, due_on=china_today(), status=ObligationStatus.LATE))
    db.session.commit()
    return ent


def test_search_to_the_enterprise_page_on_a_phone_without_sideways_scrolling(db, live_server, browser):
    ent = _seed(db)
    # Not is_mobile: a mobile layout viewport widens to fit the content, which would hide sideways scrolling.
    context = browser.new_context(locale="zh-CN", viewport=PHONE, has_touch=True)
    phone = context.new_page()
    errors = []
    phone.on("pageerror", lambda exc: errors.append(str(exc)))
    phone.goto(f"{live_server}/")
    phone.fill("input[name=q]", "华能")
    phone.press("input[name=q]", "Enter")
    phone.wait_for_load_state()
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], "results page scrolls sideways"
    phone.locator(f"a[href='/enterprises/{ent.uscc}']").first.click()
    phone.wait_for_load_state()
    assert re.search(rf"/enterprises/{ent.uscc}$", phone.url)
    width = phone.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[1] == PHONE["width"]
    assert width[0] <= width[1], f"enterprise page is {width[0]}px wide on a {width[1]}px screen"

    grid = phone.locator("table.compliance-grid")
    assert grid.is_visible()
    assert grid.locator("tbody th[scope=row]").count() == 4
    assert grid.locator("td.cg-violation").count() == 1
    # The grid is wider than the phone, so its own container scrolls (and only it).
    box = phone.evaluate("""() => { const s = document.querySelector('.compliance-scroll');
        return {client: s.clientWidth, scroll: s.scrollWidth, overflow: getComputedStyle(s).overflowX,
                right: s.getBoundingClientRect().right}; }""")
    assert box["overflow"] in ("auto", "scroll") and box["right"] <= PHONE["width"] + 0.5
    assert box["scroll"] > box["client"]
    phone.evaluate("document.querySelector('.compliance-scroll').scrollLeft = 10000")
    current = grid.locator("th.cg-current")
    assert current.is_visible() and current.bounding_box()["x"] + current.bounding_box()["width"] <= PHONE["width"] + 1
    assert phone.evaluate("window.scrollX") == 0
    assert phone.get_by_role("link", name="报告数据错误").is_visible()
    context.close()
    assert errors == []


def test_the_printed_enterprise_page_hides_navigation_and_forms_and_prints_key_urls(db, live_server, browser):
    ent = _seed(db)
    context = browser.new_context(locale="zh-CN", viewport={"width": 800, "height": 1000})
    page = context.new_page()
    page.goto(f"{live_server}/enterprises/{ent.uscc}")
    page.emulate_media(media="print")
    hidden = page.evaluate("""() => ['.site-header', '.data-error-link', 'form', '.button'].map(sel => {
        const el = document.querySelector(sel); return el === null || getComputedStyle(el).display === 'none'; })""")
    assert hidden == [True, True, True, True]
    assert page.locator(".print-only").first.is_visible()
    assert f"/enterprises/{ent.uscc}" in page.locator(".print-only").first.inner_text()
    link_after = page.evaluate("getComputedStyle(document.querySelector('a.print-url'), '::after').content")
    assert f"/api/v1/enterprises/{ent.uscc}/compliance" in link_after
    grid = page.evaluate("""() => { const t = document.querySelector('table.compliance-grid');
        const v = document.querySelector('td.cg-violation');
        return {fits: t.scrollWidth <= document.querySelector('.compliance-section').clientWidth + 1,
                bg: getComputedStyle(v).backgroundColor, border: getComputedStyle(v).borderTopStyle,
                mark: getComputedStyle(v.querySelector('strong'), '::before').content}; }""")
    assert grid["fits"] and grid["bg"] in ("rgb(255, 255, 255)", "rgba(0, 0, 0, 0)")
    assert grid["border"] == "solid" and "■" in grid["mark"]
    context.close()
