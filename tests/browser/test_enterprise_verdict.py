"""The public enterprise page in Debian's Chromium (issue 21): the verdict on the first screen, a page a few
screens tall even with a long ledger, folded sections that open (the chart draws when opened), desktop and phone,
Chinese and English, axe-core 0 serious/critical."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from portal.core.clock import china_today
from portal.credit import services as credit
from portal.credit.evidence import add_evidence
from portal.credit.models import CreditListEntry, EvidenceKind, EvidenceSource, ListKind, ListStatus
from portal.monitoring import services as monitoring
from tests.browser.test_accessibility import _violations
from tests.monitoring.helpers import packet, water_setup

pytestmark = pytest.mark.browser
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
ALIKE = 120  # lapsed findings with the same rule: one group row


@pytest.fixture
def busy(db):
    credit.seed_schemes()
    ent, _, device = water_setup(db)
    today = china_today()
    for n in range(ALIKE):
        add_evidence(enterprise_id=ent.id, kind=EvidenceKind.INSPECTION_FINDING, source=EvidenceSource.REGULATOR,
                     source_ref=f"finding:{n}", occurred_on=today - timedelta(days=800 + n), title=f"检查发现问题{n}",
                     verified=True, document_no=f"淮环检〔2024〕{n}号", authority="淮安市生态环境局")
    add_evidence(enterprise_id=ent.id, kind=EvidenceKind.PENALTY, source=EvidenceSource.REGULATOR,
                 source_ref="fine:1", occurred_on=today - timedelta(days=30), title="废水超标排放罚款", verified=True,
                 amount_yuan=60000, document_no="淮环罚〔2026〕77号", authority="淮安市生态环境局")
    db.session.add(CreditListEntry(enterprise_id=ent.id, kind=ListKind.BLACK, status=ListStatus.LISTED,
                                   basis="veto", reason="一票否决事项", listed_on=today - timedelta(days=5),
                                   max_until=today + timedelta(days=360)))
    day = date(2025, 3, 10)  # old data only: the charts must open on it, not on an empty last quarter
    body = b"".join(packet(device.mn, 2061, f"{day:%Y%m%d}{h:02d}0000", {"w01018": f"Avg={60 + h * 5}"})
                    for h in range(12))
    monitoring.ingest_hj212(body, now=datetime(2025, 3, 11, tzinfo=timezone.utc))
    db.session.commit()
    return ent


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("device, viewport, max_screens", [("desktop", DESKTOP, 3), ("phone", PHONE, 5)])
def test_the_verdict_comes_first_and_the_page_stays_a_few_screens(busy, live_server, browser, lang, device, viewport,
                                                                  max_screens):
    context = browser.new_context(locale="zh-CN" if lang == "zh" else "en-US", viewport=viewport, bypass_csp=False)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{live_server}/enterprises/{busy.uscc}?lang={lang}")
    page.wait_for_load_state("networkidle")
    verdict = page.locator("#verdict")
    assert verdict.is_visible() and verdict.bounding_box()["y"] < viewport["height"] / 2
    text = verdict.inner_text()
    assert ("严重失信名单" in text and "红码" in text) if lang == "zh" else ("Black list" in text and "Red code" in text)
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height <= max_screens * viewport["height"], f"{device} {lang}: {height}px"
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    problems = _violations(page)
    assert problems == [], problems
    context.close()
    assert errors == []


def test_folded_sections_open_the_grouped_ledger_and_draw_the_chart_on_old_data(busy, live_server, page):
    page.set_viewport_size(DESKTOP)
    page.goto(f"{live_server}/enterprises/{busy.uscc}?lang=zh")
    assert not page.locator(".credit-ledger").is_visible()
    page.locator("#credit > summary").click()
    group = page.locator("tr.ledger-group")
    assert group.count() == 1 and f"{ALIKE} 条相同记录" in group.inner_text()
    assert not page.locator(f"#credit .ledger-group-lines li").first.is_visible()
    group.locator("summary").click()
    assert page.locator("#credit .ledger-group-lines li").count() == ALIKE
    assert page.locator("#credit .ledger-group-lines li").first.is_visible()
    page.locator("#monitoring > summary").click()
    page.wait_for_selector(".monitoring-chart.is-ready canvas", timeout=10000)
    assert "2025-03-10" in page.locator(".chart-range-note").inner_text()
    # A link to an anchor inside a folded section opens it.
    page.goto(f"{live_server}/enterprises/{busy.uscc}?lang=zh#disclosures-h")
    assert page.locator("#disclosures").get_attribute("open") is not None
    assert page.console_errors == []
    # Axe on the page with every section open (tables, the chart, the group's lines).
    page.goto(f"{live_server}/enterprises/{busy.uscc}?lang=en")
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    assert _violations(page) == []
