"""Monitoring objects for the route-authorisation matrix (tests/test_route_authorisation.py `world`)."""
from __future__ import annotations

from portal.monitoring import plan


def monitoring_objects(db, ent, owner) -> dict:
    """A submitted monitoring plan of `ent` (plan_id) with one line (item_id)."""
    draft = plan.start_draft(owner, ent)
    item = draft.items[0]
    plan.submit(owner, draft)
    db.session.flush()
    return {"plan_id": draft.id, "item_id": item.id}
