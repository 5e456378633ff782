"""Open data: GET /api/v1/enterprises/<uscc>/disclosures (published reports, every version) and
GET /api/v1/disclosures/<digest> (one report's frozen content). Published reports are identified by their SHA-256."""
from __future__ import annotations

import json

from flask import Blueprint, jsonify
from flask_babel import gettext as _

from portal.api.lookup import enterprise_by_uscc
from portal.disclosures import rules, services
from portal.errors import json_error
from portal.extensions import csrf
from portal.core.links import public_url

bp = Blueprint("disclosures_api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)


def summary(report) -> dict:
    correction = services.corrected_original(report) if report.kind == "temporary" else None
    return {
        "id": report.sha256, "sha256": report.sha256, "kind": report.kind,
        "year": report.year if report.kind == "annual" else None,
        "trigger": report.trigger.value if report.kind == "temporary" else None,
        "status": report.status.value, "submitted_at": report.submitted_at.isoformat(),
        "corrects": correction.sha256 if correction else None,
        "corrected_by": [t.sha256 for t in services.corrections_of(report)],
        "links": {"self": public_url("disclosures_api.disclosure", digest=report.sha256),
                  "html": public_url("disclosures.report", digest=report.sha256),
                  "pdf": public_url("disclosures.report_pdf", digest=report.sha256)},
    }


@bp.get("/enterprises/<uscc>/disclosures")
def enterprise_disclosures(uscc: str):
    ent = enterprise_by_uscc(uscc)
    reports = [r for year in services.enterprise_disclosures(ent.id).values() for r in year]
    return jsonify({"data": [summary(r) for r in reports], "meta": {"total": len(reports)}})


@bp.get("/disclosures/<digest>")
def disclosure(digest: str):
    clean = rules.normalise_digest(digest)
    if clean is None:
        return json_error("invalid_parameter", _("Parameter “%(name)s”: %(message)s", name="digest",
                                                 message=_("a SHA-256 digest has 64 hexadecimal characters.")), 400)
    report = services.find_published(clean)
    if report is None:
        return json_error("not_found", _("No published disclosure report has this digest."), 404)
    return jsonify({"data": {**summary(report), "content": json.loads(report.content_json)}})
