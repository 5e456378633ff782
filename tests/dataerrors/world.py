"""Data-error objects for the route-authorisation matrix (tests/test_route_authorisation.py)."""
from portal.dataerrors import services
from portal.dataerrors.models import Section


def dataerror_objects(db, ent) -> dict:
    report = services.submit_report(ent, Section.PERMITS, "许可证编号有误，应以许可证正本为准。", contact="13800000000")
    return {"data_error_id": report.id, "tracking_code": report.tracking_code}
