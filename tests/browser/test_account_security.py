"""End to end in Chromium (issue 20): a new signatory is led through second-factor enrolment with the QR page, signs
a disclosure with a code from the authenticator, and later resets a forgotten password through the link in the mail
file (instance/mail/), after which the old password no longer works."""
from __future__ import annotations

import email
import re
import shutil
from email import policy
from pathlib import Path

import pyotp
import pytest

from portal.auth.models import Role
from portal.disclosures import services
from portal.mail.services import send_pending
from tests.browser.helpers import log_in, next_code
from tests.disclosures.helpers import valid_sections
from tests.factories import DEFAULT_PASSWORD, make_enterprise, make_limit, make_outlet, make_permit, make_user

pytestmark = pytest.mark.browser
NEW_PASSWORD = "willow river morning bell"


def _seed(db):
    ent = make_enterprise(name="涟水清源化工有限公司", contact_phone="0517-82345678")
    make_limit(make_outlet(ent, "DW001", make_permit(ent)), "w01018", "100")
    staff = make_user(Role.ENTERPRISE_STAFF, enterprise=ent)
    make_user(Role.ENTERPRISE_SIGNATORY, username="qy_sign", display_name="清源签署人", enterprise=ent,
              email="qy_sign@example.cn", second_factor=False)
    draft = services.create_annual_draft(staff, ent, 2025)
    draft.sections = valid_sections(ent.uscc)
    db.session.commit()
    return draft


def _mail_link(app, to: str) -> str:
    send_pending()  # what the send-outbox job does
    for path in sorted(Path(app.config["MAIL_DIR"]).glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        if message["To"] == to:
            return re.search(r"https?://\S+/auth/reset/\S+", message.get_content()).group(0)
    raise AssertionError(f"no mail to {to}")


def test_enrol_a_factor_sign_with_it_and_reset_a_forgotten_password(app, db, live_server, page):
    draft = _seed(db)
    shutil.rmtree(app.config["MAIL_DIR"], ignore_errors=True)
    log_in(page, live_server, "qy_sign")
    assert page.url.endswith("/auth/factor")  # a signatory must enrol before anything else
    page.goto(f"{live_server}/my/disclosures")
    assert "/auth/factor" in page.url

    assert page.locator(".totp-qr svg").count() == 1
    secret = page.inner_text("#totp-secret").strip()
    authenticator = pyotp.TOTP(secret)  # what the phone app does after scanning
    page.fill("input[name=code]", authenticator.now())
    page.get_by_role("button", name="确认并启用").click()
    page.wait_for_load_state()
    codes = page.locator(".recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    page.get_by_role("link", name="我已保存，继续").click()
    page.wait_for_load_state()

    page.goto(f"{live_server}/my/disclosures/annual/{draft.id}/sign")
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.fill("input[name=code]", "000000")
    page.get_by_role("button", name="签署并公开").click()
    page.wait_for_load_state()
    assert "验证码不正确" in page.inner_text("main")  # a password alone does not sign
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.fill("input[name=code]", next_code("qy_sign"))
    page.get_by_role("button", name="签署并公开").click()
    page.wait_for_load_state()
    assert "报告已签署并公开" in page.inner_text("body")
    main = page.inner_text("main")
    assert "签署确认方式" in main and "TOTP" in main

    page.get_by_role("button", name=re.compile("退出")).first.click()
    page.wait_for_load_state()
    page.goto(f"{live_server}/auth/login")
    page.get_by_role("link", name="忘记密码？").click()
    page.fill("input[name=identifier]", "qy_sign")
    page.get_by_role("button", name="发送链接").click()
    page.wait_for_load_state()
    assert "如有匹配且登记了电子邮箱的账号" in page.inner_text("body")

    link = _mail_link(app, "qy_sign@example.cn")
    page.goto(link.replace(app.config["PUBLIC_BASE_URL"].rstrip("/"), live_server))
    page.fill("input[name=new_password]", NEW_PASSWORD)
    page.fill("input[name=confirm]", NEW_PASSWORD)
    page.get_by_role("button", name="设置新密码").click()
    page.wait_for_load_state()
    assert "密码已更改" in page.inner_text("body")

    page.fill("input[name=username]", "qy_sign")
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.locator("main form [type=submit]").click()
    page.wait_for_load_state()
    assert "用户名或密码不正确" in page.inner_text("main")
    # then the second factor, which the reset did not remove (a recovery code: the authenticator's next two codes
    # were spent by enrolment and signing within this minute)
    log_in(page, live_server, "qy_sign", NEW_PASSWORD, code=codes[0])
    assert "清源签署人" in page.inner_text("header")
    page.goto(link.replace(app.config["PUBLIC_BASE_URL"].rstrip("/"), live_server))
    assert "此链接已失效" in page.inner_text("main")  # single use
    assert all("404" in e or "401" in e for e in page.console_errors)  # the refused login and the spent link
