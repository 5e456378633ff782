"""Report contexts: the data a PDF shows, built and fingerprinted apart from the rendering."""
from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import segno
import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from portal.audit.rules import jsonable
from portal.enterprises.models import Enterprise
from portal.enterprises.rules import check_uscc, normalise_code
from portal.enterprise_page.queries import page_summary, summary_facts
from portal.enterprises.services import public_profile
from portal.extensions import db
from portal.core.links import public_enterprise_url
from portal.reports.pdf import css_page_counter


def find_enterprise(raw_uscc: str) -> Enterprise | None:
    """The enterprise for a credit code as typed in a URL; None for a malformed or unknown code."""
    code = normalise_code(raw_uscc)
    if not check_uscc(code).ok:
        return None
    return db.session.scalar(sa.select(Enterprise).where(Enterprise.uscc == code))


def content_digest(content: dict) -> str:
    """SHA-256 of the canonical JSON of what the document states (not of the PDF bytes, which carry the
    generation time): two copies saying the same thing share the digest."""
    canonical = json.dumps(jsonable(content), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def plain_number(value: Decimal | None) -> str:
    """100.0000 → 100, 6.50 → 6.5 (limits are stored with four decimals)."""
    if value is None:
        return ""
    return format(value.normalize(), "f")


def qr_data_uri(url: str) -> str:
    return segno.make(url, error="m").svg_data_uri(scale=4, border=2)


def enterprise_summary_context(ent: Enterprise, now: datetime | None = None) -> dict:
    """企业环境信息概况: the verdict summary (as on the public page), identity, permits, outlets with limits, generated
    time (China), digest and QR code."""
    tz = ZoneInfo(current_app.config.get("PORTAL_TIMEZONE", "Asia/Shanghai"))
    generated = (now or datetime.now(timezone.utc)).astimezone(tz)
    profile = public_profile(ent, today=generated.date())
    url = public_enterprise_url(ent.uscc)
    content = {key: value for key, value in profile.items() if key != "as_of"}
    # days_left changes every day; the expiry date itself is part of the digest.
    content["permits"] = [{k: v for k, v in permit.items() if k != "days_left"} for permit in profile["permits"]]
    # The verdict the public page opens with (standing, code, lists, incidents, disclosures, compliance).
    summary = page_summary(ent, today=generated.date())
    content["summary"] = summary_facts(summary)
    return {
        "p": profile,
        "s": summary,
        "generated_at": generated,
        "public_url": url,
        "qr_uri": qr_data_uri(url),
        "digest": content_digest(content),
        "footer_css": css_page_counter(_("Page %(page)s of %(pages)s")),
        "num": plain_number,
    }


def summary_filename(ent: Enterprise, generated: datetime) -> str:
    return f"{ent.name}-环境信息概况-{generated:%Y%m%d}.pdf"
