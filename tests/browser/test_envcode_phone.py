"""Scanning the enterprise environmental code: the QR code's URL opened on a phone-sized screen shows the colour
and the reasons in one screen, without sideways scrolling."""
from __future__ import annotations

import pytest

from tests.factories import make_enterprise, make_incident

pytestmark = pytest.mark.browser
PHONE = {"width": 375, "height": 740}


def _seed(app, db):
    ent = make_enterprise(name="涟水华能精细化工股份有限公司第二生产基地")
    make_incident(ent)  # its finding confirmed: only confirmed incidents move the code
    db.session.commit()
    from portal.envcode.signs import code_url

    with app.test_request_context():
        return ent, code_url(ent)


def test_the_qr_link_opens_a_one_screen_phone_page_with_colour_and_reasons(app, db, live_server, browser):
    ent, qr_url = _seed(app, db)
    assert qr_url.endswith(f"/code/{ent.uscc}")  # what the QR code encodes; the live server has its own host
    context = browser.new_context(locale="zh-CN", viewport=PHONE, is_mobile=True, has_touch=True)
    phone = context.new_page()
    errors = []
    phone.on("pageerror", lambda exc: errors.append(str(exc)))
    phone.goto(live_server + qr_url[qr_url.index("/code/"):])
    band = phone.locator(".envcode-band")
    assert band.is_visible() and "黄码" in band.inner_text()
    assert "rgb(154, 116, 0)" == phone.evaluate("getComputedStyle(document.querySelector('.envcode-band')).backgroundColor")
    why = phone.locator(".envcode-why")
    assert "尚未说明的超标事件" in why.inner_text()
    # colour and reasons fit the first screen
    for locator in (band, why.locator("li").first):
        box = locator.bounding_box()
        assert box["y"] + box["height"] <= PHONE["height"], box
    width = phone.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"the code page is {width[0]}px wide on a {width[1]}px screen"
    assert phone.evaluate("window.scrollX") == 0
    context.close()
    assert errors == []
