"""Permit execution reports in Debian's Chromium: an enterprise user records a filing, sees the error state first,
and the page stays accessible (axe-core, no serious or critical violation) in both states."""
from __future__ import annotations

from datetime import date

import pytest

from portal.auth.models import Role
from portal.core.clock import china_today
from portal.permits import services
from tests.browser.test_accessibility import _violations
from tests.factories import DEFAULT_PASSWORD, make_user
from tests.permits.helpers import registered_permit

pytestmark = pytest.mark.browser


def test_an_enterprise_user_records_a_filing_on_an_accessible_page(db, live_server, page):
    ent, permit = registered_permit(db, on=date(2026, 1, 20))
    services.run_deadlines(china_today())
    make_user(Role.ENTERPRISE_STAFF, username="permit_clerk", enterprise=ent)
    db.session.commit()
    page.goto(f"{live_server}/auth/login")
    page.fill("input[name=username]", "permit_clerk")
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.locator("main form [type=submit]").click()
    page.wait_for_load_state()
    page.goto(f"{live_server}/my/permit-reports")
    assert _violations(page) == []
    form = page.locator("main table form").first
    form.locator("[type=submit]").click()  # nothing filled in: the errors name the fields
    page.wait_for_load_state()
    assert page.locator(".field-error, [id$=-error]").count() >= 2
    assert _violations(page) == []
    form = page.locator("main table form").first
    form.locator("input[type=date]").fill(china_today().isoformat())
    form.locator("input[name$=receipt_no]").fill("QG-2026-7")
    form.locator("[type=submit]").click()
    page.wait_for_load_state()
    assert "QG-2026-7" in page.inner_text("main table")
    # The only console message is the browser noting the 400 status of the deliberate error page.
    assert [e for e in page.console_errors if "status of 400" not in e] == []
