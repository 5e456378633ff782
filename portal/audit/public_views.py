"""The published heads of the audit log: a public page and an Atom feed (one entry per daily seal). Anyone who saves
a seal can later check that newer seals link to it (the digests) and that history was not rewritten."""
from __future__ import annotations

import logging
from datetime import datetime, time, timezone

from feedgen.feed import FeedGenerator
from flask import Blueprint, Response, render_template
from flask_babel import gettext as _

from portal.audit import services
from portal.core.links import public_url

bp = Blueprint("audit_public", __name__, url_prefix="/audit")
log = logging.getLogger(__name__)


@bp.record_once
def _warn_about_the_development_key(state) -> None:  # noqa: ANN001
    from portal.config import Config

    if state.app.config.get("AUDIT_KEY") == Config.AUDIT_KEY and not state.app.config.get("TESTING"):
        log.warning("AUDIT_KEY is the development default; set PORTAL_AUDIT_KEY or instance/portal.cfg")

ATOM = "application/atom+xml; charset=utf-8"
FEED_SIZE = 60


@bp.get("/heads")
def heads():
    seals = list(reversed(services.seals()))
    return render_template("audit/heads.html", seals=seals)


@bp.get("/heads.atom")
def heads_atom():
    from portal.opendata.events import tag_uri

    seals = list(reversed(services.seals()))[:FEED_SIZE]
    fg = FeedGenerator()
    fg.id(tag_uri("audit/heads"))
    fg.title(_("Audit log: published chain heads"))
    fg.subtitle(_("Each day the heads of every audit chain are sealed together; each seal names the digest of the one "
                  "before it."))
    fg.author({"name": _("Enterprise Environmental Credit and Disclosure Portal")})
    fg.link(href=public_url("audit_public.heads_atom"), rel="self", type="application/atom+xml")
    fg.link(href=public_url("audit_public.heads"), rel="alternate", type="text/html")
    fg.updated(seals[0].published_at.replace(microsecond=0) if seals
               else datetime.combine(datetime(2026, 1, 1).date(), time(0), tzinfo=timezone.utc))
    for seal in reversed(seals):
        entry = fg.add_entry(order="prepend")
        entry.id(tag_uri(f"audit/seal/{seal.digest}"))
        entry.title(_("Seal of %(day)s: %(digest)s", day=seal.day.isoformat(), digest=seal.digest))
        at = seal.published_at.replace(microsecond=0)
        entry.updated(at)
        entry.published(at)
        entry.link(href=public_url("audit_public.heads") + f"#{seal.day.isoformat()}", rel="alternate")
        lines = [f"day {seal.day.isoformat()}", f"digest {seal.digest}", f"prev {seal.prev_digest}"]
        lines += [f"{chain} {seq} {h}" for chain, (seq, h) in sorted(seal.heads.items())]
        entry.content("\n".join(lines), type="text")
    return Response(fg.atom_str(pretty=True), headers={"Content-Type": ATOM})
