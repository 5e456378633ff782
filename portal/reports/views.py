"""PDF downloads."""
from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, abort, make_response

from portal.reports import services
from portal.reports.pdf import render_pdf

bp = Blueprint("reports", __name__)


@bp.get("/enterprises/<uscc>/summary.pdf")
def enterprise_summary(uscc: str):
    """Public: the same facts as the public enterprise page, as a printable PDF with a content digest."""
    ent = services.find_enterprise(uscc)
    if ent is None:
        abort(404)
    context = services.enterprise_summary_context(ent)
    pdf = render_pdf("reports/enterprise_summary.html", **context)
    filename = services.summary_filename(ent, context["generated_at"])
    response = make_response(pdf)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = (f"inline; filename=\"enterprise-summary-{ent.uscc}.pdf\"; "
                                               f"filename*=UTF-8''{quote(filename)}")
    response.headers["Cache-Control"] = "no-cache"
    return response
