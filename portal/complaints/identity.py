"""Who looked at a reporter (DOMAIN §6.5, issue 20): every view of a reporter's identity and every download of an
original complaint file is an audit record the jurisdiction's lead can list (/regulator/reporter-access).

Only the assigned handler and the lead see the identity and the original files (their GPS position and camera
data are evidence). Other regulators of the area get the public copy: re-encoded pixels without EXIF; a video has
no such copy and stays with the handler and the lead.
"""
from __future__ import annotations

from dataclasses import dataclass

from portal.audit.services import record
from portal.complaints.crypto import decrypt_identity
from portal.complaints.handling import can_see_reporter
from portal.complaints.models import Complaint, ComplaintAttachment

IDENTITY_VIEWED = "complaint.identity.view"
ORIGINAL_VIEWED = "complaint.original.view"
ACTIONS = (IDENTITY_VIEWED, ORIGINAL_VIEWED)


def _audit(user, action: str, c: Complaint, **facts) -> None:
    # No enterprise id: these records stay out of the enterprise's change history; no identity in them either.
    record(user, action, object_type="complaints", object_id=c.id, after={"case_no": c.case_no, **facts})


def view_reporter_identity(user, c: Complaint) -> dict | None:
    """The decrypted identity for a user who may see it, audited (flushes; the view commits); else None."""
    if c.anonymous or not can_see_reporter(user, c):
        return None
    identity = decrypt_identity(c.reporter_token)
    shown = sorted(k for k, v in identity.items() if v)
    if shown:
        _audit(user, IDENTITY_VIEWED, c, fields=shown)
    return identity


@dataclass
class Served:
    key: str  # in upload_root()
    content_type: str
    original: bool


def attachment_for(user, c: Complaint, att: ComplaintAttachment) -> Served | None:
    """The handler and the lead get the original (audited); other regulators the metadata-free public copy; None
    when there is nothing this user may get (a video for a regulator who is not the handler)."""
    if can_see_reporter(user, c):
        _audit(user, ORIGINAL_VIEWED, c, attachment_id=att.id, sha256=att.sha256)
        return Served(att.original_path, att.content_type, True)
    if att.public_path:
        ctype = "image/png" if att.public_path.endswith(".png") else "image/jpeg"
        return Served(att.public_path, ctype, False)
    return None
