"""Service-body objects for the route-authorisation matrix: a lab in the enterprise's county serving it, with one
unconfirmed finding (body_id, finding_id)."""
from __future__ import annotations

from datetime import date

from portal.servicebodies.models import (BodyEvidenceKind, BodyKind, ServiceBody, ServiceBodyEvidence,
                                         ServiceEngagement)
from tests.factories import ensure_reference, make_uscc


def make_body(db, region_code: str = "320826", kind: BodyKind = BodyKind.MONITORING_LAB, name: str = "") -> ServiceBody:
    ensure_reference()
    uscc = make_uscc(region=region_code)
    body = ServiceBody(uscc=uscc, name=name or f"检测技术有限公司{uscc[-6:]}", kind=kind, region_code=region_code)
    db.session.add(body)
    db.session.flush()
    return body


def servicebody_objects(db, ent) -> dict:
    body = make_body(db, ent.region_code)
    db.session.add(ServiceEngagement(body_id=body.id, enterprise_id=ent.id, service="自行监测",
                                     starts_on=date(2025, 1, 1)))
    finding = ServiceBodyEvidence(body_id=body.id, kind=BodyEvidenceKind.REPORT_UNTRUE, title="检测报告数据不实",
                                  document_no=f"环监〔2026〕{body.id}号", occurred_on=date(2026, 3, 1))
    db.session.add(finding)
    db.session.flush()
    return {"body_id": body.id, "finding_id": finding.id}
