"""End to end in Debian's Chromium on a phone screen: report with a photo (enterprise suggested as you type), keep
the query code, track the case, the regulator accepts, investigates and replies, the reporter rates."""
from __future__ import annotations

import io
import re

import pytest
from PIL import Image

from portal.auth.models import Role
from tests.browser.helpers import log_in
from tests.factories import make_enterprise, make_user

pytestmark = pytest.mark.browser


def _act(page, base, label):
    page.locator("form.console-action", has=page.locator(f"button:text-is('{label}')")).locator("button").click()
    page.wait_for_load_state()


def test_report_track_reply_and_rate(db, live_server, browser, tmp_path):
    ent = make_enterprise(name="涟水华能精细化工有限公司")
    make_user(Role.REGULATOR, username="lianshui_reg", display_name="涟水监管员", jurisdiction_code="3208")
    db.session.commit()
    photo = tmp_path / "river.jpg"
    buf = io.BytesIO()
    Image.new("RGB", (80, 60), "gray").save(buf, format="JPEG")
    photo.write_bytes(buf.getvalue())

    context = browser.new_context(locale="zh-CN", viewport={"width": 375, "height": 740})
    phone = context.new_page()
    errors = []
    phone.on("pageerror", lambda exc: errors.append(str(exc)))
    phone.goto(f"{live_server}/complaints/new")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 376
    assert not phone.is_visible("input[name=phone]")  # anonymous by default: contact fields hidden
    phone.check("input[name=identity][value=named]")
    phone.fill("input[name=phone]", "13800000000")
    phone.check("input[name=category][value=water]")
    phone.fill("input[name=reported_name]", "华能")
    phone.locator("#enterprise-suggestions button").first.click()
    assert phone.input_value("input[name=enterprise_uscc]") == ent.uscc
    phone.fill("textarea[name=description]", "夜间有黑色污水从暗管排入河道，气味刺鼻。")
    phone.set_input_files("input[name=photos]", str(photo))
    phone.locator("form.complaint-form button[type=submit]").click()
    phone.wait_for_load_state()
    receipt = phone.inner_text("main")
    case_no = re.search(r"12369-\d{8}-\d{6}", receipt).group(0)
    code = re.search(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", receipt).group(0)

    officer = browser.new_context(locale="zh-CN").new_page()
    log_in(officer, live_server, "lianshui_reg")  # password, then the second factor
    officer.goto(f"{live_server}/console/complaints")
    officer.locator(f"a:text-is('{case_no}')").click()
    officer.wait_for_load_state()
    _act(officer, live_server, "予以受理")
    _act(officer, live_server, "开始调查")
    result = officer.locator("form.console-action", has=officer.locator("button:text-is('登记调查结果')"))
    result.locator("select[name=findings]").select_option("substantiated")
    result.locator("textarea[name=text]").fill("现场核实暗管排放，已立案查处。")
    _act(officer, live_server, "登记调查结果")
    officer.locator("form.console-action textarea[name=text]").first.fill("经查属实，已责令拆除暗管并立案处罚。")
    _act(officer, live_server, "答复举报人")
    assert "已答复" in officer.inner_text("main")

    phone.goto(f"{live_server}/complaints/track")
    phone.fill("input[name=case_no]", case_no)
    phone.fill("input[name=code]", code)
    phone.locator("main form button[type=submit]").click()
    phone.wait_for_load_state()
    body = phone.inner_text("main")
    assert "已答复" in body and "已责令拆除暗管" in body
    phone.check("input[name=score][value='5']")
    phone.locator("form[action$='/rating'] button").click()
    phone.wait_for_load_state()
    assert "5 分" in phone.inner_text("main")
    assert errors == []
    context.close()
