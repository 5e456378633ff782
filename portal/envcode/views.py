"""Public pages of the enterprise environmental code: the phone page the QR code opens, the rules, the QR code,
the gate sign (PDF, A4/A3) and the badge (SVG). All public: the code is public information by design."""
from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response, abort, make_response, render_template
from flask_babel import get_locale

from portal.envcode import labels, rules, services, signs
from portal.enterprises.models import Enterprise
from portal.extensions import db
from portal.reports.services import find_enterprise

bp = Blueprint("envcode", __name__)


def english() -> bool:
    return str(get_locale() or "zh_CN").startswith("en")


def _enterprise(uscc: str) -> Enterprise:
    ent = find_enterprise(uscc)
    if ent is None:
        abort(404)
    return ent


def page_context(ent: Enterprise, commit: bool = True) -> dict:
    """The code with its reasons in words; commits a code computed for the first time (not when included in
    another page, whose request must not commit)."""
    view = services.code_view(ent)
    if commit:
        db.session.commit()
    grades = labels.grade_labels(ent.id, english())
    deciding = view.verdict.deciding
    return {"ent": ent, "view": view, "colour": view.code.colour,
            "colour_label": labels.COLOUR_LABELS[view.code.colour],
            "meaning": labels.COLOUR_MEANINGS[view.code.colour],
            "why": [labels.reason_text(r, grades) for r in deciding],
            "also": [labels.reason_text(r, grades) for r in view.verdict.reasons if r not in deciding],
            "history": [{"at": h.changed_at, "colour": h.colour, "label": labels.COLOUR_LABELS[h.colour],
                         "reasons": [labels.reason_text(r, grades) for r in services._reasons(h.reasons)
                                     if r.colour == h.colour]} for h in view.history]}


@bp.app_template_global("envcode_section")
def envcode_section(ent: Enterprise) -> dict:
    """For templates/envcode/_enterprise_section.html on the public enterprise page."""
    return page_context(ent, commit=False)


@bp.get("/code/rules")
def rules_page():
    mapping = rules.describe(services.code_rules())
    return render_template("envcode/rules.html", mapping=mapping, COLOUR_LABELS=labels.COLOUR_LABELS,
                           COLOUR_MEANINGS=labels.COLOUR_MEANINGS, RULE_LABELS=labels.RULE_LABELS)


@bp.get("/code/<uscc>")
def phone(uscc: str):
    ent = _enterprise(uscc)
    return render_template("envcode/phone.html", **page_context(ent))


@bp.get("/code/<uscc>/qr.svg")
def qr(uscc: str):
    ent = _enterprise(uscc)
    return Response(signs.qr_svg(signs.code_url(ent)), mimetype="image/svg+xml",
                    headers={"Cache-Control": "public, max-age=86400"})


@bp.get("/code/<uscc>/badge.svg")
def badge(uscc: str):
    ent = _enterprise(uscc)
    svg = signs.badge_svg(ent)
    db.session.commit()
    return Response(svg, mimetype="image/svg+xml", headers={"Cache-Control": "no-cache"})


@bp.get("/code/<uscc>/sign-a4.pdf")
def sign_a4(uscc: str):
    return _sign(uscc, "A4")


@bp.get("/code/<uscc>/sign-a3.pdf")
def sign_a3(uscc: str):
    return _sign(uscc, "A3")


def _sign(uscc: str, size: str):
    ent = _enterprise(uscc)
    pdf = signs.sign_pdf(ent, size)
    db.session.commit()
    response = make_response(pdf)
    filename = f"{ent.name}-企业环保码-{size}.pdf"
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = (f"inline; filename=\"envcode-{ent.uscc}-{size}.pdf\"; "
                                               f"filename*=UTF-8''{quote(filename)}")
    response.headers["Cache-Control"] = "no-cache"
    return response
