"""A permit registered in the portal on a chosen day (obligations start from the permit's registration)."""
from __future__ import annotations

from datetime import date, datetime, timezone

from portal.enterprises.models import PermitClass
from tests.factories import make_enterprise, make_permit


def registered_permit(db, management_class: PermitClass = PermitClass.KEY, on: date = date(2025, 12, 1),
                      region_code: str = "320826", **kw):
    ent = make_enterprise(region_code=region_code)
    permit = make_permit(ent, management_class=management_class, valid_from=kw.pop("valid_from", date(2023, 1, 1)),
                         valid_to=kw.pop("valid_to", date(2028, 6, 30)))
    permit.created_at = datetime(on.year, on.month, on.day, 4, tzinfo=timezone.utc)
    db.session.flush()
    return ent, permit
