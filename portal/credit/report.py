"""The credit report PDF's content: the same public facts as the enterprise page's credit section, with the annual
results, a content digest (SHA-256 of what the document states) and a QR code to the public page."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _

from portal.core.links import public_enterprise_url
from portal.credit import evaluation, services
from portal.enterprises.models import Enterprise
from portal.reports.pdf import css_page_counter
from portal.reports.services import content_digest, qr_data_uri


def report_context(ent: Enterprise, english: bool = False) -> dict:
    tz = ZoneInfo(current_app.config.get("PORTAL_TIMEZONE", "Asia/Shanghai"))
    generated = datetime.now(timezone.utc).astimezone(tz)
    credit = services.credit_json(ent, english=english)
    results = [{"year": r.run.year, "jurisdiction": r.run.jurisdiction_prefix, "status": r.run.status.value,
                "grade": r.grade, "score": r.score, "revision": r.revision}
               for r in evaluation.results_of(ent.id)]
    view = services.credit_view(ent)
    url = public_enterprise_url(ent.uscc)
    content = {"enterprise": {"uscc": ent.uscc, "name": ent.name}, "credit": credit, "results": results}
    return {"ent": ent, "credit": credit, "results": results, "view": view, "english": english,
            "generated_at": generated, "public_url": url, "qr_uri": qr_data_uri(url),
            "digest": content_digest(content), "footer_css": css_page_counter(_("Page %(page)s of %(pages)s"))}
