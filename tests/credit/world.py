"""Credit objects for the route-authorisation matrix (tests/test_route_authorisation.py `world`)."""
from __future__ import annotations

from datetime import date, timedelta

from portal.credit import services
from portal.credit.models import (CreditListEntry, EvaluationResult, EvaluationRun, ListKind, ListStatus, Objection,
                                  RepairApplication, RunStatus)
from portal.db import utcnow


def credit_objects(db, ent, owner) -> dict:
    """A run for the enterprise's county on public notice (run_id), its result (result_id), an open objection by
    the enterprise's user (objection_id) and a black-list entry on prior notice (entry_id)."""
    services.seed_schemes()
    version = services.version_for_region(ent.region_code)
    today = date.today()
    run = EvaluationRun(year=2025, jurisdiction_prefix=ent.region_code, status=RunStatus.PUBLIC_NOTICE,
                        notice_days=15, notice_starts_on=today - timedelta(days=1),
                        notice_ends_on=today + timedelta(days=13), computed_at=utcnow())
    db.session.add(run)
    db.session.flush()
    result = EvaluationResult(run_id=run.id, enterprise_id=ent.id, scheme_version_id=version.id, score=9,
                              grade="blue", explanation=[])
    db.session.add(result)
    db.session.flush()
    objection = Objection(result_id=result.id, enterprise_id=ent.id, submitted_by_id=owner.id, grounds="处罚已撤销")
    entry = CreditListEntry(enterprise_id=ent.id, kind=ListKind.BLACK, status=ListStatus.PRIOR_NOTICE, basis="veto",
                      reason="一票否决事项", notice_sent_on=today, statement_due_on=today + timedelta(days=7))
    application = RepairApplication(enterprise_id=ent.id, result_id=result.id, from_grade="blue", to_grade="green",
                                    rectification="已整改", commitment=True, applied_by_id=owner.id)
    db.session.add_all([objection, entry, application])
    db.session.flush()
    return {"run_id": run.id, "result_id": result.id, "objection_id": objection.id, "entry_id": entry.id,
            "version_id": version.id, "repair_id": application.id, "draw_id": _draw(db, ent),
            "conflict_id": _conflict(db, ent, owner), "file_id": _attachment(db, ent)}


def _attachment(db, ent) -> int:
    """A document row on the enterprise's first evidence item (no file on disk: a download answers 404)."""
    import sqlalchemy as sa

    from portal.credit.models import Evidence, EvidenceAttachment

    evidence = db.session.scalar(sa.select(Evidence).where(Evidence.enterprise_id == ent.id).order_by(Evidence.id))
    attachment = EvidenceAttachment(evidence_id=evidence.id, filename="决定书.pdf", content_type="application/pdf",
                                    size_bytes=10, sha256="0" * 64, path="00/none.pdf", uploaded_at=utcnow())
    db.session.add(attachment)
    db.session.flush()
    return attachment.id


def _conflict(db, ent, owner) -> int:
    from portal.auth.models import Role
    from portal.credit.models import InspectorConflict
    from tests.factories import make_user

    inspector = make_user(Role.REGULATOR, jurisdiction_code=ent.region_code[:4])
    conflict = InspectorConflict(inspector_id=inspector.id, enterprise_id=ent.id, reason="配偶在该企业任职",
                                 recorded_by_id=inspector.id)
    db.session.add(conflict)
    db.session.flush()
    return conflict.id


def _draw(db, ent) -> int:
    from portal.credit import draw as D
    from portal.credit.models import InspectionDraw

    snapshot = D.pool_snapshot([D.PoolItem(ent.uscc, "general", 1.0)], ["inspector_a", "inspector_b"])
    pool_hash, seed = D.sha256(D.canonical(snapshot)), "00" * 32
    result = D.draw(seed, snapshot, D.DEFAULT_CONFIG)
    entry = InspectionDraw(jurisdiction_prefix=ent.region_code, year=2026, quarter=4, seed=seed,
                           config=D.DEFAULT_CONFIG, pool=snapshot, pool_hash=pool_hash, result=result,
                           seal=D.seal(seed, pool_hash, result), published_at=utcnow())
    db.session.add(entry)
    db.session.flush()
    return entry.id
