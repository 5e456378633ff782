"""Browser steps shared by the end-to-end tests: logging in through both steps of the form."""
from __future__ import annotations

import pyotp

from portal.auth import factors
from portal.auth.models import TotpFactor
from portal.db import utcnow
from portal.extensions import db
from tests.factories import DEFAULT_PASSWORD


def next_code(username: str) -> str:
    """The code the account's authenticator shows now, or the next step's when this one was already spent (the
    portal accepts one step of clock drift and each step once), so a test never waits for the clock."""
    db.session.expire_all()
    factor = db.session.scalar(db.select(TotpFactor).where(TotpFactor.user_id == _user_id(username)))
    totp = pyotp.TOTP(factors._open(factor.secret_sealed))
    step = totp.timecode(utcnow())
    if factor.last_step is not None and factor.last_step >= step:
        step = factor.last_step + 1
    return totp.generate_otp(step)


def _user_id(username: str) -> int:
    from portal.auth.services import find_user

    return find_user(username).id


def log_in(page, base: str, username: str, password: str = DEFAULT_PASSWORD, code: str | None = None) -> None:
    page.goto(f"{base}/auth/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.locator("main form [type=submit]").click()
    if "/auth/login/factor" in page.url:
        page.fill("input[name=code]", code or next_code(username))
        with page.expect_navigation():
            page.locator("main form [type=submit]").click()
    page.wait_for_load_state()
