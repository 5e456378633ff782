"""End to end in Chromium, in Chinese: a signatory fills the annual report, runs the dry run, fixes the error,
signs with the password and the second factor, downloads the copy of record and verifies it by upload; the report fits a phone."""
from __future__ import annotations

import pytest

from portal.auth.models import Role
from portal.core.clock import china_today
from tests.browser.helpers import log_in, next_code
from tests.factories import DEFAULT_PASSWORD, make_enterprise, make_limit, make_outlet, make_permit, make_user, totp_code

pytestmark = pytest.mark.browser


def _seed(db):
    ent = make_enterprise(name="涟水华能精细化工有限公司", contact_phone="0517-82345678")
    make_limit(make_outlet(ent, "DW001", make_permit(ent)), "w01018", "100")
    make_user(Role.ENTERPRISE_SIGNATORY, username="hn_sign", display_name="华能签署人", enterprise=ent)
    db.session.commit()
    return ent


def _save_not_applicable(page, reason="本年度未产生"):
    page.check("input[name=state][value=not_applicable]")
    page.fill("#na_reason", reason)
    page.locator("button[name=next]").click()
    page.wait_for_load_state()


def test_fill_dry_run_fix_sign_and_verify_the_copy_of_record(db, live_server, page, tmp_path):
    ent = _seed(db)
    log_in(page, live_server, "hn_sign")  # password, then the second factor

    page.goto(f"{live_server}/my/disclosures")
    page.select_option("select[name=year]", str(china_today().year - 1))
    page.get_by_role("button", name="新建或打开年度报告").click()
    page.wait_for_load_state()
    assert "企业基本信息" in page.inner_text("main")
    page.get_by_role("link", name="1. 关键环境信息提要").click()

    page.fill("#f-summary", "全年污染物达标排放，未发生突发环境事件。")
    page.locator("button[name=next]").click()
    page.wait_for_load_state()
    assert page.input_value("#f-uscc") == ent.uscc  # pre-filled from the registry
    assert "企业登记信息" in page.inner_text("main")
    page.fill("#f-contact_person", "李四")
    page.fill("#f-main_products", "有机化学原料 5万吨/年")
    page.locator("button[name=next]").click()
    page.wait_for_load_state()
    for _ in range(7):  # management … cleaner production
        _save_not_applicable(page)
    # the environmental manager's statement (格式准则 title page) may not be declared not applicable
    page.fill("#f-manager_name", "王五")
    page.fill("#f-statement", "本人保证本报告所载环境信息真实、准确、完整。")
    page.locator("button[name=next]").click()
    page.wait_for_load_state()
    # the last section ("other") is left empty: the dry run must catch it
    page.goto(page.url.rsplit("/sections/", 1)[0] + "/check")
    main = page.inner_text("main")
    assert "错误（1 项）" in main and "法律法规规定的其他环境信息" in main

    page.get_by_role("link", name="法律法规规定的其他环境信息").first.click()
    page.check("input[name=state][value=not_applicable]")
    page.fill("#na_reason", "无其他应披露信息")
    page.get_by_role("button", name="保存本部分").click()
    page.wait_for_load_state()
    page.goto(page.url.rsplit("/sections/", 1)[0] + "/check")
    assert "没有错误" in page.inner_text("main")

    page.goto(page.url.rsplit("/check", 1)[0] + "/sign")
    assert "企业负责人保证年度报告内容的真实、准确、完整" in page.inner_text("main")
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.fill("input[name=code]", next_code("hn_sign"))  # the second factor, at the moment of signing
    page.get_by_role("button", name="签署并公开").click()
    page.wait_for_load_state()
    assert "报告已签署并公开" in page.inner_text("body")
    digest = page.url.rsplit("/", 1)[1]
    assert digest in page.inner_text("main")

    pdf = page.request.get(f"{live_server}/disclosures/{digest}/copy.pdf").body()
    good = tmp_path / "copy.pdf"
    good.write_bytes(pdf)
    page.goto(f"{live_server}/verify")
    page.set_input_files("input[name=pdf]", str(good))
    page.get_by_role("button", name="核验").click()
    page.wait_for_load_state()
    assert "该 PDF 是未经改动的存档副本" in page.inner_text("main")
    assert page.console_errors == []

    bad = tmp_path / "bad.pdf"
    bad.write_bytes(pdf + b"\n%altered\n")
    page.goto(f"{live_server}/verify")
    page.set_input_files("input[name=pdf]", str(bad))
    page.get_by_role("button", name="核验").click()
    page.wait_for_load_state()
    assert "没有与之相符的已公开报告" in page.inner_text("main")
    assert all("404" in e for e in page.console_errors)  # the failed verification page answers 404


def test_the_published_report_fits_a_phone_screen(db, live_server, browser):
    from portal.disclosures import services
    from tests.disclosures.helpers import valid_sections
    ent = _seed(db)
    user = make_user(Role.ENTERPRISE_SIGNATORY, enterprise=ent)
    report = services.create_annual_draft(user, ent, 2025)
    report.sections = valid_sections(ent.uscc)
    services.submit_annual(user, report, DEFAULT_PASSWORD, [], code=totp_code(user))
    db.session.commit()
    context = browser.new_context(locale="zh-CN", viewport={"width": 375, "height": 740})
    phone = context.new_page()
    phone.goto(f"{live_server}/disclosures/{report.sha256}")
    assert "废活性炭" in phone.inner_text("main")
    width = phone.evaluate("document.documentElement.scrollWidth")
    context.close()
    assert width <= 375 + 1, f"page is {width}px wide on a 375px screen"
