"""Evidence attachments: a regulator uploads documents to an evidence item; anyone downloads those of public
evidence, regulators of the jurisdiction those of the rest (a 404 for everyone else, so nothing leaks)."""
from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.auth.permissions import Permission, require
from portal.core.storage import serve
from portal.credit import attachments
from portal.credit.models import EvidenceAttachment
from portal.credit.views import _commit_or_flash, _evidence_in_jurisdiction
from portal.extensions import db

bp = Blueprint("credit_files", __name__)


@bp.post("/credit/regulator/evidence/<int:evidence_id>/attachments")
@require(Permission.CREDIT_EVIDENCE_RECORD)
def upload(evidence_id: int):
    evidence = _evidence_in_jurisdiction(evidence_id)
    files = [f for f in request.files.getlist("file") if getattr(f, "filename", "")]
    if not files:
        flash(_("Document: choose a PDF, JPEG or PNG file."), "error")
        return redirect(url_for("credit.evidence_queue"))

    def call():
        for storage in files:
            attachments.attach(current_user, evidence,
                               attachments.prepare(storage.filename, storage.stream, attachments.max_bytes()))

    _commit_or_flash(call, _("Document attached."))
    return redirect(url_for("credit.evidence_queue"))


@bp.get("/credit/evidence/<int:evidence_id>/files/<int:file_id>")
def download(evidence_id: int, file_id: int):
    attachment = db.session.get(EvidenceAttachment, file_id)
    if attachment is None or attachment.evidence_id != evidence_id or not attachments.may_download(current_user,
                                                                                                    attachment):
        abort(404)
    response = serve(attachments.upload_root(), attachment.path, mimetype=attachment.content_type,
                     as_attachment=True, conditional=False, max_age=0,
                     download_name=f"evidence-{evidence_id}-{file_id}.{attachment.path.rsplit('.', 1)[-1]}")
    if response is None:
        abort(404)
    response.headers["Content-Disposition"] += f"; filename*=UTF-8''{quote(attachment.filename)}"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store" if not attachments.is_public(attachment) else "no-cache"
    return response
