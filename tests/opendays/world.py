"""Open-day objects for the route-authorisation world fixture."""
from __future__ import annotations

from datetime import time, timedelta

from portal.core.clock import china_today
from portal.opendays.models import OpenDay


def opendays_objects(db, ent, owner) -> dict:
    od = OpenDay(enterprise_id=ent.id, day=china_today() + timedelta(days=14), start_time=time(9, 30),
                 end_time=time(11, 30), place="厂区东门", facility="污水处理站", capacity=20, created_by_id=owner.id)
    db.session.add(od)
    db.session.flush()
    return {"open_day_id": od.id}
