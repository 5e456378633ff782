"""双随机 objects for the route matrix (tests/test_route_authorisation.py): a roster inspector pair and a case
inspection with its result, per enterprise."""
from __future__ import annotations

from datetime import date


def draw_inspection_objects(db, ent) -> dict:
    from portal.credit.draw_models import Inspection, InspectionKind, InspectionTrigger, Inspector

    inspectors = [Inspector(name=f"检查员{ent.id}{n}", jurisdiction_code=ent.region_code[:4],
                            certificate_no=f"W{ent.id:05d}-{n}", certificate_valid_from=date(2020, 1, 1),
                            certificate_valid_until=date(2099, 12, 31)) for n in (1, 2)]
    inspection = Inspection(code=f"WORLD{ent.id:07d}", enterprise_id=ent.id, kind=InspectionKind.CASE,
                            trigger=InspectionTrigger.COMPLAINT, counts_against_cap=False, year=2026,
                            authority_code=ent.region_code[:4], basis="举报件核查", inspected_on=date(2026, 3, 1),
                            result="未发现问题", inspectors=inspectors)
    db.session.add_all([*inspectors, inspection])
    db.session.flush()
    return {"inspection_id": inspection.id}
