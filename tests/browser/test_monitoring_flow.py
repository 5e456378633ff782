"""Self-monitoring in Debian's Chromium: the enterprise page draws the chart from the API (CSP intact, no console
errors), and an enterprise user uploads a CSV, sees the preview and publishes it."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from portal.auth.models import Role
from portal.monitoring import services
from tests.factories import DEFAULT_PASSWORD, make_user
from tests.monitoring.helpers import packet, water_setup

pytestmark = pytest.mark.browser


def test_the_enterprise_page_draws_a_chart_against_the_limit(db, live_server, page):
    ent, _, device = water_setup(db)
    day = date.today() - timedelta(days=3)
    body = b"".join(packet(device.mn, 2061, f"{day:%Y%m%d}{h:02d}0000", {"w01018": f"Avg={80 + h * 3}"})
                    for h in range(24))
    services.ingest_hj212(body)
    db.session.commit()
    page.goto(f"{live_server}/enterprises/{ent.uscc}")
    page.locator("#monitoring > summary").click()  # the section is folded; its chart draws when opened
    page.wait_for_selector(".monitoring-chart.is-ready canvas", timeout=10000)
    assert page.locator(".monitoring-series details table").count() >= 1
    assert page.console_errors == []


def test_an_enterprise_user_uploads_previews_and_publishes_results(db, live_server, page, tmp_path):
    ent, _, _ = water_setup(db)
    make_user(Role.ENTERPRISE_STAFF, username="lab_clerk", enterprise=ent)
    db.session.commit()
    day = date.today() - timedelta(days=1)
    csv_path = tmp_path / "results.csv"
    csv_path.write_text("排放口编码,污染物编码,采样时间,监测结果,监测完成日期\n"
                        f"DW001,w01018,{day} 09:30,35.6,{day}\n", encoding="utf-8-sig")
    page.goto(f"{live_server}/auth/login")
    page.fill("input[name=username]", "lab_clerk")
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.locator("main form [type=submit]").click()
    page.wait_for_load_state()
    page.goto(f"{live_server}/monitoring/my/results")
    page.set_input_files("input[name=file]", str(csv_path))
    page.locator("form[enctype] [type=submit]").click()
    page.wait_for_load_state()
    assert "35.6" in page.inner_text("main")
    page.locator("main form [type=submit]").click()
    page.wait_for_load_state()
    assert "/monitoring/my/results" in page.url
    assert day.isoformat() in page.inner_text("main table")
    assert page.console_errors == []
