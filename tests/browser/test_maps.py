"""Maps in Debian's Chromium, desktop and phone, Chinese and English: the public map and the regulators' case map
draw on a canvas without console errors; the complaint form's picker fills latitude and longitude from "use my
location" and from a tap on the map; axe-core finds nothing serious or critical on the map pages."""
from __future__ import annotations

from decimal import Decimal

import pytest
expect = pytest.importorskip("playwright.sync_api").expect

from portal.auth.models import Role
from tests.browser.helpers import log_in
from tests.browser.test_accessibility import _violations
from tests.factories import make_complaint, make_enterprise, make_user

pytestmark = pytest.mark.browser
SCREENS = {"desktop": {"viewport": {"width": 1366, "height": 900}},
           "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}}


@pytest.fixture
def map_world(db):
    for i, (lat, lon) in enumerate([("33.78", "119.26"), ("33.60", "119.00"), ("33.00", "118.60")]):
        make_enterprise(f"地图浏览器测试企业{i}", latitude=Decimal(lat), longitude=Decimal(lon))
    make_complaint(latitude=33.7812, longitude=119.2623)
    regulator = make_user(Role.REGULATOR, jurisdiction_code="3208")
    db.session.commit()
    return regulator


def _context(browser, screen, lang, **kw):
    return browser.new_context(locale="zh-CN" if lang == "zh" else "en-US", **SCREENS[screen], **kw)


def _errors(page):
    errors = []
    page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return errors


@pytest.mark.parametrize("screen", ["desktop", "phone"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_public_map_draws_with_its_legend_and_lists(map_world, live_server, browser, screen, lang):
    context = _context(browser, screen, lang)
    page = context.new_page()
    errors = _errors(page)
    try:
        page.goto(f"{live_server}/map?lang={lang}")
        page.wait_for_selector("#public-map.is-ready canvas", timeout=15000)
        assert page.locator("#public-map canvas").count() >= 1
        legend = page.locator(".map-legend").inner_text()
        assert ("未评价" if lang == "zh" else "Not evaluated") in legend
        assert "地图浏览器测试企业0" in page.locator("main table").first.inner_text()
        width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1]
    finally:
        context.close()
    assert errors == []


@pytest.mark.parametrize("screen", ["desktop", "phone"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_picker_fills_the_fields_from_a_tap_and_from_my_location(map_world, live_server, browser, screen, lang):
    context = _context(browser, screen, lang, permissions=["geolocation"],
                       geolocation={"latitude": 33.7712, "longitude": 119.2543})
    page = context.new_page()
    errors = _errors(page)
    try:
        page.goto(f"{live_server}/complaints/new?lang={lang}")
        page.wait_for_selector("[data-picker-map].is-ready canvas", timeout=15000)
        box = page.locator("[data-picker-map]")
        box.scroll_into_view_if_needed()
        if screen == "phone":
            box.tap()
        else:
            box.click()
        lat, lon = float(page.input_value("#latitude")), float(page.input_value("#longitude"))
        assert 30 < lat < 36 and 116 < lon < 122, (lat, lon)  # somewhere in 江苏
        page.locator("[data-use-location]").click()
        expect(page.locator("#latitude")).to_have_value("33.771200")
        expect(page.locator("#longitude")).to_have_value("119.254300")
        assert page.locator("[data-picker-status]").inner_text() != ""
    finally:
        context.close()
    assert errors == []


@pytest.mark.parametrize("screen", ["desktop", "phone"])
def test_regulators_see_their_cases_on_the_map(map_world, live_server, browser, screen):
    context = _context(browser, screen, "zh")
    page = context.new_page()
    errors = _errors(page)
    try:
        log_in(page, live_server, map_world.username)
        page.goto(f"{live_server}/console/complaints?lang=zh")
        page.get_by_role("link", name="在地图上查看案件").click()
        page.wait_for_selector("#cases-map.is-ready canvas", timeout=15000)
        assert "33.78120" in page.locator("main table").inner_text()
    finally:
        context.close()
    assert errors == []


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_map_pages_have_no_serious_or_critical_violations(map_world, live_server, browser, lang):
    context = browser.new_context(locale="zh-CN" if lang == "zh" else "en-US", bypass_csp=True)
    page = context.new_page()
    found = {}
    try:
        for path in ("/map", "/complaints/new"):
            page.goto(f"{live_server}{path}?lang={lang}")
            page.wait_for_selector(".is-ready canvas", timeout=15000)
            problems = _violations(page)
            if problems:
                found[path] = problems
        log_in(page, live_server, map_world.username)
        page.goto(f"{live_server}/console/complaints/map?lang={lang}")
        page.wait_for_selector("#cases-map.is-ready canvas", timeout=15000)
        problems = _violations(page)
        if problems:
            found["/console/complaints/map"] = problems
    finally:
        context.close()
    assert found == {}
