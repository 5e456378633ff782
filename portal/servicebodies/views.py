"""Public service-body pages: the register, a body's page (grade, list status, confirmed findings, clients) and
the scheme; plus the section on the public page of each enterprise a body serves."""
from __future__ import annotations

from flask import Blueprint, abort, render_template, request
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from portal.errors import NotFound
from portal.servicebodies import rules, services
from portal.servicebodies.forms import EVIDENCE_LABELS, KIND_LABELS
from portal.servicebodies.models import BodyKind

bp = Blueprint("servicebodies", __name__, url_prefix="/service-bodies")

LIST_LABELS = {rules.SERIOUS_DISHONESTY: _l("Serious dishonesty list (service bodies)")}


@bp.app_context_processor
def _labels():
    return {"BODY_KIND_LABELS": {k.value: v for k, v in KIND_LABELS.items()},
            "BODY_EVIDENCE_LABELS": {k.value: v for k, v in EVIDENCE_LABELS.items()},
            "BODY_LIST_LABELS": LIST_LABELS, "body_english": str(get_locale() or "").startswith("en")}


@bp.app_template_global("service_bodies_serving")
def service_bodies_serving(enterprise_id: int):
    """Used by templates/servicebodies/_enterprise_section.html on the public enterprise page."""
    return services.serving(enterprise_id)


@bp.get("")
def index():
    text = (request.args.get("q") or "")[:100]
    kind = request.args.get("kind") or ""
    bodies = services.search(text, BodyKind(kind) if kind in {k.value for k in BodyKind} else None)
    found = services.standings([b.id for b in bodies]) if bodies else {}
    return render_template("servicebodies/index.html", rows=[(b, found[b.id]) for b in bodies], q=text, kind=kind)


@bp.get("/<int:body_id>")
def public(body_id: int):
    try:
        body = services.get_body(body_id)
    except NotFound:
        abort(404)
    return render_template("servicebodies/public.html", body=body, v=services.public_view(body))


@bp.get("/scheme")
def scheme():
    number, data = services.active_rules()
    from portal.credit import scoring

    return render_template("servicebodies/scheme.html", number=number, scheme=scoring.parse_rules(data))
