"""Shared steps of the account tests: logging in through both steps, reading the reset link from the mail file."""
from __future__ import annotations

import email
import re
from email import policy
from pathlib import Path

from flask import current_app

from portal.mail import services as mail
from tests.factories import DEFAULT_PASSWORD, totp_code

LINK_RE = re.compile(r"https?://\S+/auth/reset/[A-Za-z0-9_-]+")


def post_login(client, username, password=DEFAULT_PASSWORD, address="127.0.0.1"):
    return client.post("/auth/login", data={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def log_in(client, user, password=DEFAULT_PASSWORD):
    """Both steps of the form, as a person would."""
    response = post_login(client, user.username, password)
    if response.headers.get("Location", "").startswith("/auth/login/factor"):
        response = client.post("/auth/login/factor", data={"code": totp_code(user)})
    return response


def logged_in_id(client):
    with client.session_transaction() as sess:
        return sess.get("_user_id")


def sent_mails() -> list[email.message.EmailMessage]:
    """Deliver the outbox into the mail folder (as the send-outbox job does) and read every .eml file there."""
    mail.send_pending()
    folder = Path(current_app.config["MAIL_DIR"])
    return [email.message_from_bytes(p.read_bytes(), policy=policy.default) for p in sorted(folder.glob("*.eml"))]


def reset_links(to: str) -> list[str]:
    return [LINK_RE.search(m.get_content()).group(0) for m in sent_mails() if m["To"] == to]


REGISTER_RE = re.compile(r"https?://\S+/auth/register/[A-Za-z0-9_-]+")


def registration_paths(to: str) -> list[str]:
    """The /auth/register/<token> paths mailed to an address (delivers the outbox first)."""
    found = [REGISTER_RE.search(m.get_content()) for m in sent_mails() if m["To"] == to]
    return ["/auth/register/" + f.group(0).rsplit("/", 1)[1] for f in found if f]
