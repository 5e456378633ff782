"""Documents attached to evidence: the type sniffed from the content (PDF, JPEG, PNG), the name checked against it,
the size capped, stored content-addressed in the "credit" storage area (portal/core/storage.py; on the filesystem
backend instance/uploads/credit or CREDIT_UPLOAD_DIR), audited.
Services flush; the caller commits (a file written for a rolled-back request is an unreferenced orphan, harmless
because names are content hashes)."""
from __future__ import annotations

import hashlib
import io
import os
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from PIL import Image, UnidentifiedImageError

from portal.audit.services import record
from portal.core.storage import Store, files
from portal.credit import rules
from portal.credit.models import Evidence, EvidenceAttachment
from portal.db import utcnow
from portal.errors import NotAllowed, ValidationFailed
from portal.extensions import db

DEFAULT_MAX_BYTES = 10 * 1024 * 1024


@dataclass
class Prepared:
    filename: str
    content_type: str
    data: bytes
    sha256: str

    @property
    def ext(self) -> str:
        return rules.ATTACHMENT_TYPES[self.content_type][0]


def upload_root() -> Store:
    return files("credit")


def max_bytes() -> int:
    return int(current_app.config.get("CREDIT_ATTACHMENT_MAX_BYTES") or DEFAULT_MAX_BYTES)


def _reject(message: str) -> ValidationFailed:
    return ValidationFailed({"file": message})


def prepare(filename: str, stream, limit: int) -> Prepared:
    """Read at most limit + 1 bytes; sniff the type; the name's extension must match; images must decode."""
    name = os.path.basename(filename or "").strip()[:200] or "document"
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise _reject(_("%(name)s is larger than %(mb)s MB.", name=name, mb=limit // (1024 * 1024)))
    if not data:
        raise _reject(_("%(name)s is empty.", name=name))
    content_type = rules.sniff_attachment(data)
    if content_type is None:
        raise _reject(_("%(name)s is not a PDF, JPEG or PNG file.", name=name))
    exts = rules.ATTACHMENT_TYPES[content_type]
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if ext not in exts:
        raise _reject(_("%(name)s is a %(kind)s file but its name does not end in .%(good)s; rename it.",
                        name=name, kind=exts[0].upper(), good=exts[0]))
    if content_type != "application/pdf":
        try:
            with Image.open(io.BytesIO(data)) as img:
                img.verify()
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
            raise _reject(_("%(name)s is damaged and cannot be read as an image.", name=name)) from None
    return Prepared(name, content_type, data, hashlib.sha256(data).hexdigest())


def attach(actor: Any, evidence: Evidence, prepared: Prepared) -> EvidenceAttachment:
    """A regulator of the enterprise's jurisdiction attaches a document to the evidence item."""
    if not rules.can_record_evidence(actor.role, actor.jurisdiction_code, evidence.enterprise.region_code):
        raise NotAllowed(_("This enterprise is outside your jurisdiction."))
    count = db.session.scalar(sa.select(sa.func.count()).select_from(EvidenceAttachment)
                              .where(EvidenceAttachment.evidence_id == evidence.id))
    if count >= rules.MAX_ATTACHMENTS_PER_EVIDENCE:
        raise _reject(_("At most %(n)s documents per evidence item.", n=rules.MAX_ATTACHMENTS_PER_EVIDENCE))
    relative = f"{prepared.sha256[:2]}/{prepared.sha256}.{prepared.ext}"
    upload_root().put_new(relative, prepared.data)
    attachment = EvidenceAttachment(evidence_id=evidence.id, filename=prepared.filename,
                                    content_type=prepared.content_type, size_bytes=len(prepared.data),
                                    sha256=prepared.sha256, path=relative, uploaded_by_id=actor.id,
                                    uploaded_at=utcnow())
    db.session.add(attachment)
    db.session.flush()
    record(actor, "evidence.attach", attachment, enterprise_id=evidence.enterprise_id)
    return attachment


def is_public(attachment: EvidenceAttachment) -> bool:
    ev = attachment.evidence
    return rules.attachment_public(ev.is_public, ev.repaired_on is not None, ev.withdrawn_at is not None)


def may_download(user: Any, attachment: EvidenceAttachment) -> bool:
    authenticated = getattr(user, "is_authenticated", False)
    return rules.can_download_attachment(is_public(attachment), user.role if authenticated else None,
                                         user.jurisdiction_code if authenticated else None,
                                         attachment.evidence.enterprise.region_code)


def read(attachment: EvidenceAttachment) -> bytes | None:
    return upload_root().get(attachment.path)
