"""Permit renewal reminders (排污许可管理条例 art. 14: apply for renewal at least 60 days before expiry)."""
from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from portal.auth.models import User
from portal.core.clock import china_today
from portal.core.links import public_enterprise_url
from portal.enterprises.models import Enterprise, Permit, PermitStatus
from portal.extensions import db
from portal.mail import services as mail


def _reminder(user: User, permit: Permit, enterprise: Enterprise, today: date) -> tuple[str, str]:
    with force_locale(user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
        subject = _("Pollutant discharge permit %(no)s expires on %(date)s", no=permit.permit_no,
                    date=permit.valid_to.isoformat())
        body = _("Dear %(name)s,\n\nThe pollutant discharge permit %(no)s of %(enterprise)s is valid until %(date)s "
                 "(%(days)d days from today). Under article 14 of the Regulations on the Administration of Pollutant "
                 "Discharge Permits, renewal must be applied for at least 60 days before the permit expires.\n\n"
                 "Enterprise page: %(url)s\n\nThis message was sent automatically by the portal.",
                 name=user.display_name, no=permit.permit_no, enterprise=enterprise.name,
                 date=permit.valid_to.isoformat(), days=(permit.valid_to - today).days,
                 url=public_enterprise_url(enterprise.uscc))
    return subject, body


def permit_renewal_reminders(today: date | None = None) -> str:
    """Queue one reminder per permit expiring within PERMIT_RENEWAL_REMINDER_DAYS (排污许可管理条例 art. 14) and per
    enterprise user with an e-mail address; the dedupe key makes daily re-runs queue nothing new."""
    today = today or china_today()
    horizon = today + timedelta(days=int(current_app.config["PERMIT_RENEWAL_REMINDER_DAYS"]))
    permits = db.session.scalars(sa.select(Permit).where(
        Permit.valid_to >= today, Permit.valid_to <= horizon,
        Permit.status.not_in((PermitStatus.REVOKED, PermitStatus.CANCELLED))).order_by(Permit.id))
    queued = 0
    for permit in permits:
        users = db.session.scalars(sa.select(User).where(
            User.enterprise_id == permit.enterprise_id, User.email.is_not(None), User.email != "",
            User.is_active_account.is_(True)).order_by(User.id))
        for user in users:
            key = f"permit-renewal:{permit.id}:{permit.valid_to}:{user.id}"
            if mail.is_queued(key):
                continue
            subject, body = _reminder(user, permit, permit.enterprise, today)
            mail.queue_mail(user.email, subject, body, dedupe_key=key)
            queued += 1
    return f"queued {queued} reminder(s) for permits expiring {today}..{horizon}"
