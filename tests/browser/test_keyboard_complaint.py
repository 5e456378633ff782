"""A keyboard-only walk through complaint intake (issue 8): from the top of the page, Tab reaches every field in
reading order, arrow keys choose radio buttons, the enterprise suggestion is picked with the keyboard, Enter
sends the report, and focus is always visible. No mouse event is used."""
from __future__ import annotations

import re

import pytest

from tests.factories import make_enterprise

pytestmark = pytest.mark.browser

MAX_TABS = 80


def _tab_to(page, selector: str, trail: list[str]) -> None:
    """Press Tab until the focused element matches `selector`; remember the order in which fields were reached."""
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement && document.activeElement.matches(s)", selector):
            outline = page.evaluate("""() => { const s = getComputedStyle(document.activeElement);
                return s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0 || s.boxShadow !== 'none'; }""")
            assert outline, f"{selector} has no visible focus indicator"
            trail.append(selector)
            return
    raise AssertionError(f"{selector} cannot be reached with the Tab key (after {trail})")


def test_report_a_complaint_with_the_keyboard_only(db, live_server, browser):
    ent = make_enterprise(name="涟水华能精细化工有限公司")
    db.session.commit()
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    page.goto(f"{live_server}/complaints/new")
    trail: list[str] = []

    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.classList.contains('skip-link')"), "the first Tab stop is the skip link"
    _tab_to(page, "input[name=category]", trail)
    page.keyboard.press("ArrowDown")  # radio group: arrows move and select
    chosen = page.evaluate("document.querySelector('input[name=category]:checked').value")
    assert chosen
    _tab_to(page, "input[name=reported_name]", trail)
    page.keyboard.type("华能")
    page.wait_for_selector("#enterprise-suggestions button")
    _tab_to(page, "#enterprise-suggestions button", trail)
    page.keyboard.press("Enter")
    assert page.input_value("input[name=enterprise_uscc]") == ent.uscc
    _tab_to(page, "textarea[name=description]", trail)
    page.keyboard.type("夜间有黑色污水从暗管排入河道，气味刺鼻。")
    _tab_to(page, "form.complaint-form button[type=submit]", trail)
    with page.expect_navigation():  # Enter submits asynchronously: wait for the receipt page itself
        page.keyboard.press("Enter")
    page.wait_for_load_state()
    receipt = page.inner_text("main")
    assert re.search(r"12369-\d{8}-\d{6}", receipt), receipt[:300]
    assert re.search(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", receipt)
    context.close()
