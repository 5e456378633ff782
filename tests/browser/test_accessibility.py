"""Accessibility: axe-core (vendored from npm: tests/browser/vendor/axe-core, v4.14.1, MPL-2.0) run inside Debian's
Chromium on the main public pages and forms, in Chinese and in English: no serious or critical violation. Pages
with a form are also checked after a bad submission, so the error states are covered too."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.factories import make_enterprise, make_limit, make_outlet, make_permit

pytestmark = pytest.mark.browser

AXE = (Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js").read_text(encoding="utf-8")
BLOCKING = ("serious", "critical")


def _violations(page) -> list[str]:
    page.evaluate(AXE)
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ['violations']});
        return r.violations.map(v => ({id: v.id, impact: v.impact,
                                       targets: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
    }""")
    return [f"{v['id']} ({v['impact']}): {', '.join(v['targets'])}" for v in result if v["impact"] in BLOCKING]


@pytest.fixture
def public_world(db):
    ent = make_enterprise(name="涟水华能精细化工有限公司")
    make_limit(make_outlet(ent, "DW001", make_permit(ent)), "w01018", "100")
    db.session.commit()
    return ent


def _pages(ent) -> list[str]:
    return ["/", "/search?q=华能", "/search?q=华", f"/enterprises/{ent.uscc}", "/complaints/new", "/complaints/track",
            "/complaints/statistics", "/verify", "/credit/lists/black", "/credit/lists/white", "/credit/results",
            "/disclosure-lists", "/auth/login", "/auth/register"]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_public_pages_have_no_serious_or_critical_violations(public_world, live_server, browser, lang):
    context = browser.new_context(locale="zh-CN" if lang == "zh" else "en-US", bypass_csp=True)
    page = context.new_page()
    found = {}
    try:
        for path in _pages(public_world):
            sep = "&" if "?" in path else "?"
            response = page.goto(f"{live_server}{path}{sep}lang={lang}")
            assert response.status < 400, path
            problems = _violations(page)
            if problems:
                found[path] = problems
    finally:
        context.close()
    assert found == {}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_forms_in_their_error_state_stay_accessible(public_world, live_server, browser, lang):
    context = browser.new_context(locale="zh-CN" if lang == "zh" else "en-US", bypass_csp=True)
    page = context.new_page()
    found = {}
    try:
        for path, submit in (("/complaints/new", "main form [type=submit]"), ("/auth/login", "main form [type=submit]"),
                             ("/complaints/track", "main form [type=submit]")):
            page.goto(f"{live_server}{path}?lang={lang}")
            with page.expect_navigation():  # the error page itself, not the form before it
                page.locator(submit).first.click()
            page.wait_for_load_state()
            problems = _violations(page)
            if problems:
                found[path + " (after a bad submission)"] = problems
    finally:
        context.close()
    assert found == {}
