"""Feeds: Atom per enterprise and per region, the iCalendar compliance calendar per enterprise."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, Response, abort

from portal.enterprises.models import Enterprise
from portal.enterprises.rules import check_uscc, normalise_code
from portal.extensions import db
from portal.opendata import feeds, http, ical
from portal.reference.models import Region

bp = Blueprint("feeds", __name__)
bp.record_once(lambda state: http.install(state.app))

ATOM = "application/atom+xml; charset=utf-8"
ICS = "text/calendar; charset=utf-8"


def _enterprise(uscc: str) -> Enterprise:
    check = check_uscc(normalise_code(uscc))
    ent = db.session.scalar(sa.select(Enterprise).where(Enterprise.uscc == check.value)) if check.ok else None
    if ent is None:
        abort(404)
    return ent


@bp.get("/enterprises/<uscc>/feed.atom")
def enterprise_atom(uscc: str):
    return Response(feeds.enterprise_feed(_enterprise(uscc)), headers={"Content-Type": ATOM})


@bp.get("/regions/<region>/feed.atom")
def region_atom(region: str):
    row = db.session.get(Region, region) if region.isdigit() and len(region) == 6 else None
    if row is None:
        abort(404)
    return Response(feeds.region_feed(row), headers={"Content-Type": ATOM})


@bp.get("/enterprises/<uscc>/calendar.ics")
def enterprise_ics(uscc: str):
    ent = _enterprise(uscc)
    return Response(ical.enterprise_calendar(ent), headers={
        "Content-Type": ICS, "Content-Disposition": f'inline; filename="{ent.uscc}.ics"'})
