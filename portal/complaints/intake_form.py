"""Request-side helpers of the public complaint form (complaints/views.py): each new file checked on its own, the
files kept from the last attempt (complaints/pending.py), every error at once beside its field."""
from __future__ import annotations

import os

from flask import current_app, request, session
from flask_babel import gettext as _

from portal.complaints import pending, services
from portal.complaints.forms import IntakeForm
from portal.complaints.models import Category
from portal.complaints.uploads import PreparedFile, UploadRejected, prepare_upload


def new_files(storages) -> tuple[list[tuple[str, PreparedFile]], list[str]]:
    """Each newly chosen file checked on its own: the good ones, and one message per bad one."""
    config = current_app.config
    good, errors = [], []
    for f in [f for f in storages or [] if getattr(f, "filename", "")]:
        try:
            good.append((f.filename, prepare_upload(f.filename, f.stream, int(config["COMPLAINT_MAX_FILE_BYTES"]),
                                                    int(config["COMPLAINT_MAX_IMAGE_PIXELS"]))))
        except UploadRejected as exc:
            errors.append(str(exc))
    return good, errors


def kept_files(form: IntakeForm) -> tuple[list[pending.KeptFile], bool]:
    """The files kept from this browser's last attempt that the reporter still ticks, and whether a token was
    sent that opens nothing (expired, or not this session's)."""
    token = form.kept_token.data or ""
    if not token:
        return [], False
    kept = pending.load(token, session.get(pending.SESSION_KEY))
    if kept is None:
        return [], True
    ticked = set(request.form.getlist("keep_file"))
    return [k for i, k in enumerate(kept) if str(i) in ticked], False


def all_errors(form: IntakeForm, files: int, file_errors: list[str], lost: bool, build):
    """WTForms' shape checks and the intake rules together, so every error shows at once beside its field."""
    valid = form.validate()
    # The intake rules do not read the category (WTForms checks it); any value lets them run when it is missing.
    category = Category(form.category.data) if form.category.data in {c.value for c in Category} else Category.OTHER
    rule_errors, ent = services.intake_errors(build(form, category), files)
    for name, message in rule_errors.items():
        target = form[name] if name in form else form.description
        if not target.errors:  # a shape error on the same field says it already
            target.errors = list(target.errors or []) + [message]
    form.photos.errors = list(form.photos.errors or []) + file_errors
    if lost:
        form.photos.errors.append(_("The files from your earlier attempt are no longer kept (they expire after an "
                                    "hour); choose them again, or send the report without them."))
    return valid and not any(f.errors for f in form), ent


def own_token(form: IntakeForm) -> str | None:
    """The form's kept-files token when it is this session's (only then may it be replaced or deleted)."""
    token = form.kept_token.data or ""
    return token if token and token == session.get(pending.SESSION_KEY) else None


def keep(form: IntakeForm, files: list[tuple[str, PreparedFile]]) -> list[dict]:
    """Keep the checked files for the next attempt; what the form lists as kept."""
    token = pending.keep(files, own_token(form))
    form.kept_token.data = token or ""
    if token:
        session[pending.SESSION_KEY] = token
        return [{"index": i, "name": os.path.basename(n), "size": len(p.original)} for i, (n, p) in enumerate(files)]
    session.pop(pending.SESSION_KEY, None)
    if files:
        form.photos.errors = list(form.photos.errors or []) + [
            _("Your files could not be kept this time; choose them again before sending.")]
    return []
