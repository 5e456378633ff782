"""E-mail subscriptions to the public events of an enterprise or a region (PRODUCT §2.7).

Double opt-in: a request only stores a pending row and mails a signed confirmation link (valid
OPENDATA_CONFIRM_DAYS days); nothing is sent to the address until its owner follows it. Every mail carries a
signed unsubscribe link that works without logging in (one click on the page, or a POST as RFC 8058 mail clients
send). The same answer is shown whether or not the address was already subscribed, and a confirmation for the same
subscription is queued at most once an hour, so the form cannot be used to learn who subscribes or to flood an
address. Digests go through the outbox (portal/mail): immediate ones every few minutes, weekly ones on Monday.
Services flush; views and jobs commit.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeSerializer, URLSafeTimedSerializer

from portal.core.links import public_url
from portal.db import utcnow
from portal.enterprises.models import Enterprise
from portal.enterprises.rules import check_uscc, normalise_code
from portal.errors import NotFound, ValidationFailed
from portal.extensions import db
from portal.mail.services import queue_mail
from portal.opendata import events as ev
from portal.opendata.models import Subscription
from portal.reference.models import Region

FREQUENCIES = ("immediate", "weekly")
EMAIL_RE = re.compile(r"^[^@\s<>\"']{1,64}@[^@\s<>\"']+\.[^@\s<>\"'.]{2,}$")
CONFIRM_SALT, UNSUBSCRIBE_SALT = "opendata-subscribe", "opendata-unsubscribe"
DIGEST_LIMIT = 50
BATCH = 500


@dataclass(frozen=True)
class Target:
    scope: str  # enterprise / region
    key: str
    name: str
    events_scope: ev.Scope


def normalise_email(raw: str) -> str:
    """Trimmed and lower-cased (one subscription per mailbox); raises ValidationFailed naming the field."""
    email = (raw or "").strip().lower()
    if len(email) > 254 or not EMAIL_RE.match(email):
        raise ValidationFailed({"email": _("Enter an e-mail address such as name@example.com.")})
    return email


def resolve_target(enterprise: str = "", region: str = "") -> Target:
    if enterprise:
        check = check_uscc(normalise_code(enterprise))
        ent = db.session.scalar(sa.select(Enterprise).where(Enterprise.uscc == check.value)) if check.ok else None
        if ent is None:
            raise NotFound(_("No enterprise has the credit code %(uscc)s.", uscc=enterprise))
        return Target("enterprise", ent.uscc, ent.name, ev.Scope(enterprise_id=ent.id))
    row = db.session.get(Region, region) if region.isdigit() and len(region) == 6 else None
    if row is None:
        raise NotFound(_("Choose an enterprise or a region to subscribe to."))
    return Target("region", row.code, row.name, ev.Scope(region_prefix=row.prefix))


def target_of(sub: Subscription) -> Target:
    return resolve_target(**{sub.scope: sub.scope_key})


def _confirm_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=CONFIRM_SALT)


def _unsubscribe_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=UNSUBSCRIBE_SALT)


def unsubscribe_url(sub: Subscription) -> str:
    return public_url("subscriptions.unsubscribe", token=_unsubscribe_serializer().dumps([sub.id, sub.email]))


def request_subscription(raw_email: str, target: Target, frequency: str, locale: str) -> Subscription:
    """Store (or reuse) the row and queue the confirmation mail; the frequency takes effect on confirmation."""
    if frequency not in FREQUENCIES:
        raise ValidationFailed({"frequency": _("Choose how often to receive e-mails.")})
    email = normalise_email(raw_email)
    sub = db.session.scalar(sa.select(Subscription).where(Subscription.email == email,
                                                          Subscription.scope == target.scope,
                                                          Subscription.scope_key == target.key))
    if sub is None:
        sub = Subscription(email=email, scope=target.scope, scope_key=target.key, frequency=frequency, locale=locale)
        db.session.add(sub)
        db.session.flush()
    token = _confirm_serializer().dumps([sub.id, email, frequency, locale, utcnow().timestamp()])
    hour = utcnow().strftime("%Y%m%d%H")
    with force_locale(locale):
        body = _("Someone, probably you, asked to receive e-mails about %(name)s from the Enterprise Environmental "
                 "Credit and Disclosure Portal.\n\nTo confirm, open this link within %(days)s days:\n%(url)s\n\n"
                 "If you did not ask for this, ignore this message: nothing will be sent to you.",
                 name=target.name, days=current_app.config.get("OPENDATA_CONFIRM_DAYS", 7),
                 url=public_url("subscriptions.confirm", token=token))
        subject = _("Confirm your subscription: %(name)s", name=target.name)
    queue_mail(email, subject, body, dedupe_key=f"opendata-confirm:{sub.id}:{frequency}:{hour}")
    return sub


class BadToken(Exception):
    pass


def confirm(token: str) -> Subscription:
    max_age = int(current_app.config.get("OPENDATA_CONFIRM_DAYS", 7)) * 86400
    try:
        sub_id, email, frequency, locale, *rest = _confirm_serializer().loads(token, max_age=max_age)
        issued = float(rest[0]) if rest else 0.0  # links mailed before this field existed count as oldest
    except SignatureExpired as exc:
        raise BadToken("expired") from exc
    except (BadSignature, ValueError, TypeError) as exc:
        raise BadToken("invalid") from exc
    sub = db.session.get(Subscription, sub_id)
    if sub is None or sub.email != email:
        raise BadToken("invalid")
    if sub.unsubscribed_at is not None and issued <= sub.unsubscribed_at.timestamp():
        raise BadToken("stale")  # a link mailed before the unsubscribe never subscribes again
    now = utcnow()
    if not sub.is_active:
        sub.confirmed_at, sub.unsubscribed_at, sub.last_sent_at = now, None, now
    sub.frequency, sub.locale = frequency, locale
    db.session.flush()
    return sub


def subscription_for_unsubscribe(token: str) -> Subscription:
    try:
        sub_id, email = _unsubscribe_serializer().loads(token)
    except (BadSignature, ValueError, TypeError) as exc:
        raise BadToken("invalid") from exc
    sub = db.session.get(Subscription, sub_id)
    if sub is None or sub.email != email:
        raise BadToken("invalid")
    return sub


def unsubscribe(sub: Subscription) -> None:
    if sub.unsubscribed_at is None:
        sub.unsubscribed_at = utcnow()
        db.session.flush()


def _digest(sub: Subscription, target: Target, items: list[ev.Event]) -> tuple[str, str]:
    with force_locale(sub.locale):
        subject = _("%(name)s: %(n)s new public records", name=target.name, n=len(items))
        lines = []
        for item in items:
            who = f"{item.enterprise_name}: " if target.scope == "region" else ""
            lines.append(f"- {item.at.date().isoformat()} {who}{item.title}\n  {item.summary}\n  {item.link}")
        body = "\n".join(lines) + "\n\n" + _("Stop these e-mails (one click): %(url)s", url=unsubscribe_url(sub))
    return subject, body


def send_digests(frequency: str) -> str:
    """Queue one mail per active subscription of this frequency that has events since its last mail. Idempotent:
    last_sent_at moves on, and the dedupe key names the newest event, so a re-run queues nothing twice."""
    now = utcnow()
    queued = checked = 0
    last_id = 0
    while True:
        batch = list(db.session.scalars(
            sa.select(Subscription).where(Subscription.frequency == frequency, Subscription.confirmed_at.is_not(None),
                                          Subscription.unsubscribed_at.is_(None), Subscription.id > last_id)
            .order_by(Subscription.id).limit(BATCH)))
        if not batch:
            break
        for sub in batch:
            checked += 1
            try:
                target = target_of(sub)
            except NotFound:
                continue
            items = ev.recent(target.events_scope, since=sub.last_sent_at or sub.confirmed_at, limit=DIGEST_LIMIT)
            if items:
                subject, body = _digest(sub, target, items)
                queue_mail(sub.email, subject, body, dedupe_key=f"opendata-digest:{sub.id}:{items[0].key}",
                           headers={"List-Unsubscribe": f"<{unsubscribe_url(sub)}>",
                                    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"})
                queued += 1
            sub.last_sent_at = now
        last_id = batch[-1].id
        db.session.flush()
    return f"{frequency}: {queued} digests queued for {checked} subscriptions"


def send_immediate() -> str:
    return send_digests("immediate")


def send_weekly() -> str:
    return send_digests("weekly")


