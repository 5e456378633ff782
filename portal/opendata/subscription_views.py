"""Public e-mail subscriptions: the form (rate-limited POST), the confirmation link and one-click unsubscribe."""
from __future__ import annotations

import logging

from flask import Blueprint, current_app, render_template, request
from flask_babel import gettext as _

from portal.core.forms import apply_domain_error
from portal.core.i18n import select_locale
from portal.errors import DomainError, NotFound
from portal.extensions import csrf, db, limiter
from portal.opendata import subscriptions as subs
from portal.opendata.forms import SubscribeForm

bp = Blueprint("subscriptions", __name__, url_prefix="/subscriptions")
log = logging.getLogger(__name__)


def _rate_limit() -> str:
    return current_app.config.get("OPENDATA_SUBSCRIBE_RATE_LIMIT") or "5 per minute; 30 per hour"


def _render_form(form: SubscribeForm, target, status: int = 200):
    return render_template("opendata/subscribe.html", form=form, target=target), status


@bp.route("/new", methods=["GET", "POST"])
@limiter.limit(_rate_limit, methods=["POST"])
def new():
    form = SubscribeForm()
    source = request.form if request.method == "POST" else request.args
    try:
        target = subs.resolve_target(enterprise=source.get("enterprise", ""), region=source.get("region", ""))
    except NotFound as exc:
        return render_template("opendata/message.html", title=exc.message, message=""), 404
    if request.method == "GET":
        form.enterprise.data = target.key if target.scope == "enterprise" else ""
        form.region.data = target.key if target.scope == "region" else ""
        return _render_form(form, target)
    if form.website.data:
        log.info("subscription form: honeypot filled; dropped")
        return _render_form(form, target, 400)
    if not form.validate():
        return _render_form(form, target, 400)
    try:
        subs.request_subscription(form.email.data, target, form.frequency.data, select_locale())
    except DomainError as exc:
        db.session.rollback()
        apply_domain_error(form, exc)
        return _render_form(form, target, 400)
    db.session.commit()
    return render_template("opendata/message.html", title=_("Check your mailbox"),
                           message=_("If %(email)s can receive mail, a confirmation link is on its way. Nothing is "
                                     "sent until you follow it.", email=form.email.data.strip()))


@bp.get("/confirm/<token>")
def confirm(token: str):
    try:
        sub = subs.confirm(token)
    except subs.BadToken as exc:
        message = {"expired": _("This confirmation link has expired. Please subscribe again."),
                   "stale": _("This confirmation link was sent before you unsubscribed, so it no longer subscribes "
                              "you. To receive e-mails again, subscribe again and follow the new link.")}.get(
            str(exc), _("This confirmation link is not valid. Please subscribe again."))
        return render_template("opendata/message.html", title=_("Subscription not confirmed"), message=message), 400
    target = subs.target_of(sub)
    db.session.commit()
    return render_template("opendata/message.html", title=_("Subscription confirmed"),
                           message=_("You will receive e-mails about %(name)s. Every e-mail has a link to stop them.",
                                     name=target.name))


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # the signed token is the credential; RFC 8058 one-click POSTs carry no form token
def unsubscribe(token: str):
    try:
        sub = subs.subscription_for_unsubscribe(token)
    except subs.BadToken:
        return render_template("opendata/message.html", title=_("Link not valid"),
                               message=_("This unsubscribe link is not valid.")), 400
    if request.method == "GET":  # a page with one button: link scanners that prefetch GETs change nothing
        return render_template("opendata/unsubscribe.html", sub=sub, token=token, done=not sub.is_active)
    subs.unsubscribe(sub)
    db.session.commit()
    return render_template("opendata/unsubscribe.html", sub=sub, token=token, done=True)
